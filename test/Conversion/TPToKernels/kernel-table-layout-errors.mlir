// A hand-written layout that the GPU kernels' 128-bit accesses cannot use:
// an error at the parameter (tp-assign-layout never produces it).
// RUN: muir-opt %s -verify-diagnostics --convert-tp-to-kernels

tp.model @misaligned attributes {tp.buffer = #tp.buffer<elements = 64, alignment = 64>, tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1, steps = #tp.scale<1>>} {
  tp.dim @n = fixed<6>
  // expected-error@+1 {{'tp.param' op 'w' is placed at offset 2 with stride 8: the kernels need multiples of 4 elements (16 bytes, one 128-bit access); run tp-assign-layout}}
  %w = tp.param "w" zeros {tp.layout = #tp.layout<offset = 2, stride = 8, numel = 6, copies = 1>, tp.values = #tp.values<init_std = [2.000000e-02], multiplier = [1.000000e+00], lr = [1.000000e-03], weight_decay = [0.000000e+00], eps = [1.000000e-08], beta1 = [9.000000e-01], beta2 = [9.990000e-01]>} : !tp.tensor<[n], f32>
  tp.output %w : !tp.tensor<[n], f32>
}
