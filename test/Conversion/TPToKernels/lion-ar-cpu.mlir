// RUN: muir-opt %s --convert-tp-to-kernels | FileCheck %s
// RUN: muir-opt %s --convert-tp-to-kernels=precision=bf16 | FileCheck %s --check-prefix=BF16

// LionAR's CPU step for the model of lion-ar-gpu.mlir ("w" a 4 x 8 matrix
// with weight decay: 4 rotational units of 8 elements; "a" a vector). A
// unit's five sums (sum u, u w, u^2, w, w^2; docs/Optimizers.md) run in
// emitSegmentSums' 4 interleaved lanes as one vector on the CPU: element
// lo + 4j + l in lane l of vector<4xf32> loads of the grads, params and
// momentum, the sums in vector<4xf64> accumulators; then the lanes taken
// out in order, lane 0 continued by the scalar tail and the other lanes
// added to it (the GPU's scalar lanes' order: the same bits).
// CHECK-LABEL: func.func @muir_generated_step_rows(
// CHECK-SAME: %[[P:[a-z0-9]+]]: memref<64xf32>, %[[G:[a-z0-9]+]]: memref<64xf32>, %[[M:[a-z0-9]+]]: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: i64, %{{.*}}: f32, %[[GS:[a-z0-9]+]]: f32
// The scalars broadcast to the lanes (the gradient scale among them).
// CHECK: %[[SCALE:.*]] = vector.broadcast %[[GS]] : f32 to vector<4xf32>
// CHECK: %[[SUMS:.*]]:5 = scf.for %[[I:[a-z0-9]+]] = %{{.*}} to %{{.*}} step %c4{{.*}} iter_args({{.*}}) -> (vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>) {
// CHECK-NEXT: %[[GV:.*]] = vector.load %[[G]][%[[I]]] : memref<64xf32>, vector<4xf32>
// CHECK-NEXT: vector.load %[[P]][%[[I]]] : memref<64xf32>, vector<4xf32>
// CHECK-NEXT: vector.load %[[M]][%[[I]]] : memref<64xf32>, vector<4xf32>
// CHECK-NEXT: arith.mulf %[[GV]], %[[SCALE]] : vector<4xf32>
// CHECK: arith.extf %{{.*}} : vector<4xf32> to vector<4xf64>
// CHECK: scf.yield {{.*}} : vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>
// CHECK: %[[LANE0:.*]] = vector.extract %[[SUMS]]#0[0] : f64 from vector<4xf64>
// CHECK: %[[LANE1:.*]] = vector.extract %[[SUMS]]#0[1] : f64 from vector<4xf64>
// CHECK: %[[LANE2:.*]] = vector.extract %[[SUMS]]#0[2] : f64 from vector<4xf64>
// CHECK: %[[LANE3:.*]] = vector.extract %[[SUMS]]#0[3] : f64 from vector<4xf64>
// CHECK: %[[TAIL:.*]]:5 = scf.for {{.*}} iter_args(%{{.*}} = %[[LANE0]], {{.*}}) -> (f64, f64, f64, f64, f64) {
// CHECK: %[[S1:.*]] = arith.addf %[[TAIL]]#0, %[[LANE1]] : f64
// CHECK: %[[S2:.*]] = arith.addf %[[S1]], %[[LANE2]] : f64
// CHECK: arith.addf %[[S2]], %[[LANE3]] : f64
// In a bf16 package a rotating unit's elementwise phase, after its sums,
// takes its rounding bits in blocks of 256 elements as the plain
// elementwise step does (64 Philox calls at a time, staged on the stack).
// BF16-LABEL: func.func @muir_generated_step_bf16(
// BF16: %[[STAGE:.*]] = memref.alloca() : memref<256xi32>
// BF16: scf.for {{.*}} -> (vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>)
// BF16: scf.for {{.*}} step %c256
// BF16: vector.store %{{.*}}, %[[STAGE]][%{{.*}}] : memref<256xi32>, vector<256xi32>
// BF16: } else {
// BF16: scf.for {{.*}} step %c256
tp.model @kernels attributes {tp.buffer = #tp.buffer<elements = 64, alignment = 64>, tp.parametrization = #tp.parametrization<scheme = mup, optimizer = "lion-ar", alpha = 1, steps = <1>, unscaled_eps = false, inverse_bias_correction = false, units = row, zero_mean = true, rho = 0.9, rotational_eps = 1.0e-8, angle = equilibrium>} {
  tp.dim @b = fixed<2>
  tp.dim @n = fixed<8>
  tp.dim @m = fixed<4>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = 0, stride = 32, numel = 32, copies = 1>, tp.values = #tp.values<init_std = [0.02], multiplier = [1.0], lr = [0.01], weight_decay = [0.1], eps = [1.0e-8], beta1 = [0.9], beta2 = [0.99]>} : !tp.tensor<[m, n], f32>
  %a = tp.param "a" normal {tp.layout = #tp.layout<offset = 32, stride = 16, numel = 8, copies = 1>, tp.values = #tp.values<init_std = [0.02], multiplier = [1.0], lr = [0.01], weight_decay = [0.0], eps = [1.0e-8], beta1 = [0.9], beta2 = [0.99]>} : !tp.tensor<[n], f32>
  %h = tp.add %x, %a : (!tp.tensor<[b, n], f32>, !tp.tensor<[n], f32>) -> !tp.tensor<[b, n], f32>
  tp.output %h : !tp.tensor<[b, n], f32>
}
