// Every error of tp-assign-layout and convert-tp-to-kernels on models that
// are not ready for kernels, each at its location (the alignment option's
// error is in test/Dialect/TP/assign-layout-alignment.mlir).
// RUN: muir-opt %s -split-input-file -verify-diagnostics --tp-assign-layout --convert-tp-to-kernels

// expected-error@+1 {{convert-tp-to-kernels needs exactly one tp.model in the module, found 2}}
module {
  tp.model @a {
    tp.dim @n = fixed<6>
    %x = tp.input "x" : !tp.tensor<[n], f32>
    tp.output %x : !tp.tensor<[n], f32>
  }
  tp.model @b {
    tp.dim @n = fixed<6>
    %x = tp.input "x" : !tp.tensor<[n], f32>
    tp.output %x : !tp.tensor<[n], f32>
  }
}

// -----

// expected-error@+1 {{kernels need an instantiated, laid-out model; run tp-parametrize, tp-instantiate and tp-assign-layout first}}
tp.model @raw {
  tp.dim @n = fixed<6>
  %x = tp.input "x" : !tp.tensor<[n], f32>
  tp.output %x : !tp.tensor<[n], f32>
}

// -----

tp.model @not_instantiated attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1, steps = #tp.scale<1>>} {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 4>
  // expected-error@+1 {{'tp.param' op has no tp.layout or tp.values; run tp-instantiate and tp-assign-layout first}}
  %w = tp.param "w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Offsets are int64 element counts and the buffer's bytes must fit too.
tp.model @too_big {
  tp.dim @n = fixed<1073741824>
  tp.dim @m = fixed<1073741824>
  %w = tp.param "w" zeros : !tp.tensor<[n, m], f32>
  // expected-error@+1 {{'tp.param' op does not fit in a flat buffer of at most 2^61 f32 elements after the parameters before it}}
  %v = tp.param "v" zeros : !tp.tensor<[n, m], f32>
  %u = tp.param "u" zeros : !tp.tensor<[n, m], f32>
  tp.output %w, %v, %u : !tp.tensor<[n, m], f32>, !tp.tensor<[n, m], f32>, !tp.tensor<[n, m], f32>
}
