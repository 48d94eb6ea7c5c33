// RUN: muir-opt %s --convert-tp-to-kernels | FileCheck %s
// RUN: muir-opt %s --convert-tp-to-kernels=gpu=true | FileCheck %s --check-prefix=GPU

// convert-tp-to-kernels on an instantiated, laid-out model written by hand:
// the kernels' table is this IR's tp.layout and tp.values, read field by
// field (docs/Lowering.md, "The kernel table"), and the kernels' interface
// is what the runtime calls (package_abi.h). "a" is one copy at offset 0;
// "b" has a copy per block (L = 2) 16 elements apart with its own lr each,
// so it gets one row per copy. AdamW reads eps, beta1 and beta2; a normal
// init's scale is its std.

// The table: offset, stride, numel, copies, first chunk, chunks per copy,
// first slot, slots per copy, chunks per slot, param, init (0: normal),
// first row, row stride, then the rotational units (none without LionAR).
// CHECK-LABEL: memref.global constant @muir_kernel_params : memref<2x15xi64>
// CHECK-SAME: dense<{{\[}}[0, 16, 4, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, {{[0-9]+}}, {{[0-9]+}}], [16, 16, 4, 2, 1, 1, 1, 1, 1, 1, 0, 1, 1, {{[0-9]+}}, {{[0-9]+}}]]>
// Rows: lr, weight decay, eps, beta1, beta2, init scale.
// CHECK: memref.global constant @muir_tensor_rows : memref<3x6xf64>
// CHECK-SAME: dense<{{\[}}[1.000000e-02, 1.000000e-01, 1.000000e-08, 9.000000e-01, 0.99899999999999999, 2.000000e-02], [1.000000e-03, 0.000000e+00, 5.000000e-09, 9.000000e-01, 0.99899999999999999, 1.250000e-01], [5.000000e-04, 0.000000e+00, 5.000000e-09, 9.000000e-01, 0.99899999999999999, 1.250000e-01]]>
// The entry points over the 48-element flat buffers: init(params, seed,
// element range, the element the buffer starts at), the step (params, grads,
// two AdamW states; step, lr factor, grad scale), with an element range
// [begin, end) and the table's rows or with its telemetry, the whole-buffer
// step calling the ranged one over [0, 48), and the reduction over a slot
// range into one f64 per slot from grads that start at a given element.
// CHECK: func.func @muir_generated_init(%{{.*}}: memref<48xf32>, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// CHECK: func.func @muir_generated_step_rows(%{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: memref<3x6xf64>)
// CHECK: func.func @muir_generated_step_telemetry(
// CHECK: func.func @muir_generated_step(%{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: f32)
// CHECK-NEXT: %[[BEGIN:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[END:.*]] = arith.constant 48 : i64
// CHECK-NEXT: %[[ROWS:.*]] = memref.get_global @muir_tensor_rows : memref<3x6xf64>
// CHECK-NEXT: call @muir_generated_step_rows({{.*}}, %[[BEGIN]], %[[END]], %[[ROWS]])
// CHECK: func.func @muir_generated_reduce(%{{.*}}: memref<48xf32>, %{{.*}}: memref<3xf64>, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// CHECK-NOT: gpu.module
// GPU: gpu.module
tp.model @kernels attributes {tp.buffer = #tp.buffer<elements = 48, alignment = 64>, tp.parametrization = #tp.parametrization<scheme = mup, optimizer = adamw, alpha = 1, steps = <1>, bias_correction1 = true>} {
  tp.dim @b = fixed<2>
  tp.dim @n = fixed<4>
  tp.dim @L = depth<base 2, size 2>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %a = tp.param "a" normal {tp.layout = #tp.layout<offset = 0, stride = 16, numel = 4, copies = 1>, tp.values = #tp.values<init_std = [0.02], multiplier = [1.0], lr = [0.01], weight_decay = [0.1], eps = [1.0e-8], beta1 = [0.9], beta2 = [0.999]>} : !tp.tensor<[n], f32>
  %h = tp.add %x, %a : (!tp.tensor<[b, n], f32>, !tp.tensor<[n], f32>) -> !tp.tensor<[b, n], f32>
  %y = tp.repeat @L (%h) : (!tp.tensor<[b, n], f32>) -> !tp.tensor<[b, n], f32> {
  ^bb0(%z: !tp.tensor<[b, n], f32>):
    %w = tp.param "b" normal {tp.layout = #tp.layout<offset = 16, stride = 16, numel = 4, copies = 2>, tp.values = #tp.values<init_std = [0.125], multiplier = [1.0], lr = [0.001, 0.0005], weight_decay = [0.0], eps = [5.0e-9], beta1 = [0.9], beta2 = [0.999]>} : !tp.tensor<[n], f32>
    %g = tp.mul %z, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[n], f32>) -> !tp.tensor<[b, n], f32>
    tp.yield %g : !tp.tensor<[b, n], f32>
  }
  tp.output %y : !tp.tensor<[b, n], f32>
}
