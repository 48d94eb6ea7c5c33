// RUN: muir-opt %s --convert-tp-to-kernels | FileCheck %s
// RUN: muir-opt %s --convert-tp-to-kernels=gpu=true | FileCheck %s --check-prefix=GPU
// RUN: muir-opt %s --convert-tp-to-kernels="gpu=true precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: muir-opt %s --convert-tp-to-kernels=precision=bf16 | FileCheck %s --check-prefix=CPU16
// RUN: not muir-opt %s --convert-tp-to-kernels=precision=fp16 2>&1 | FileCheck %s --check-prefix=PRECISION

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
// [begin, end), the table's rows and LionAR's unit partials (10 per slot,
// and whether to read them) or with its telemetry, the whole-buffer step
// calling the ranged one over [0, 48) without unit partials, the reduction
// over a slot range into one f64 per slot from grads that start at a given
// element, and LionAR's unit reduction (empty without units).
// CHECK: func.func @muir_generated_init(%{{.*}}: memref<48xf32>, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// CHECK: func.func @muir_generated_step_rows(%{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: memref<3x6xf64>, %{{.*}}: memref<30xf64>, %{{.*}}: i64)
// CHECK: func.func @muir_generated_step_telemetry(
// CHECK: func.func @muir_generated_step(%{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: f32, %[[UNITS:.*]]: memref<30xf64>)
// CHECK-NEXT: %[[BEGIN:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[END:.*]] = arith.constant 48 : i64
// CHECK-NEXT: %[[ROWS:.*]] = memref.get_global @muir_tensor_rows : memref<3x6xf64>
// CHECK-NEXT: %[[NO:.*]] = arith.constant 0 : i64
// CHECK-NEXT: call @muir_generated_step_rows({{.*}}, %[[BEGIN]], %[[END]], %[[ROWS]], %[[UNITS]], %[[NO]])
// CHECK: func.func @muir_generated_reduce(%{{.*}}: memref<48xf32>, %{{.*}}: memref<3xf64>, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// The reduction loops over the slots of its range alone (no test of every
// slot of the table), finds each slot's entry by a binary search of
// first_slot (field 6), reads the slot as 8 streams of 8 f64 lanes, the
// rest in 8 more lanes, and sums the lanes in order.
// CHECK-NOT: scf.if
// CHECK: scf.for %[[SLOT:[a-z0-9]+]] = %{{.*}} to %{{.*}} step
// CHECK-NOT: scf.if
// CHECK: %[[FIELD:.*]] = arith.constant 6 : index
// CHECK-NEXT: memref.load %{{.*}}[%{{.*}}, %[[FIELD]]] : memref<2x15xi64>
// CHECK-NEXT: arith.index_cast
// CHECK-NEXT: arith.cmpi ule, %{{.*}}, %[[SLOT]] : index
// CHECK: scf.for {{.*}} -> (vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>) {
// CHECK-COUNT-8: vector.load %{{.*}} : memref<48xf32>, vector<8xf32>
// CHECK-NOT: vector.load
// CHECK: scf.yield
// CHECK: scf.for {{.*}} -> (vector<8xf64>) {
// CHECK-COUNT-9: vector.reduction <add>
// CHECK: scf.for {{.*}} -> (f64) {
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[SLOT]]] : memref<3xf64>
// CHECK: func.func @muir_generated_reduce_units(
// CHECK-NEXT: return
// CHECK-NOT: gpu.module
// GPU: gpu.module
// GPU-NOT: bf16

// precision=bf16 adds the steps and reductions over bf16 gradients (i16
// bits) that write the params' bf16 copy: the rounding stream's key is the
// seed (the last argument), its counter's words 2 and 3 the step with the
// top bit set (init's word 3 is 0); a gradient is widened by a shift.
// BF16: func.func @muir_generated_step_bf16(%[[P:.*]]: memref<48xf32>, %[[G:.*]]: memref<48xi16>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %[[COPY:.*]]: memref<48xi16>, %[[STEP:.*]]: i64, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: memref<3x6xf64>, %{{.*}}: memref<30xf64>, %{{.*}}: i64, %[[SEED:[a-z0-9]+]]: i64)
// BF16: arith.trunci %[[SEED]] : i64 to i32
// BF16: arith.trunci %[[STEP]] : i64 to i32
// BF16: %[[HI:.*]] = arith.trunci %{{.*}} : i64 to i32
// BF16-NEXT: %[[TOP:.*]] = arith.constant -2147483648 : i32
// BF16-NEXT: arith.ori %[[HI]], %[[TOP]] : i32
// BF16: arith.mului_extended
// BF16: memref.load %[[G]][%{{.*}}] : memref<48xi16>
// BF16-NEXT: arith.extui %{{.*}} : i16 to i32
// BF16-NEXT: arith.constant 16 : i32
// BF16-NEXT: arith.shli
// BF16-NEXT: arith.bitcast %{{.*}} : i32 to f32
// BF16: arith.cmpf uno
// BF16: memref.store %{{.*}}, %[[COPY]][%{{.*}}] : memref<48xi16>
// BF16: func.func @muir_generated_step_telemetry_bf16(%{{.*}}: memref<48xf32>, %{{.*}}: memref<48xi16>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xi16>, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: memref<3x6xf64>, %{{.*}}: memref<12xf64>, %{{.*}}: i64)
// BF16: func.func @muir_generated_step(
// BF16: func.func @muir_generated_reduce_bf16(%{{.*}}: memref<48xi16>, %{{.*}}: memref<3xf64>, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// BF16: vector.load %{{.*}} : memref<48xi16>, vector<8xi16>
// BF16: gpu.func @muir_reduce_bf16_kernel(%{{.*}}: memref<48xi16>, %{{.*}}: memref<3xf64>, %{{.*}}: i64, %{{.*}}: i64)
// BF16: gpu.func @muir_step_bf16_kernel(%{{.*}}: memref<48xf32>, %{{.*}}: memref<48xi16>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xf32>, %{{.*}}: memref<48xi16>, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// BF16: vector.load %{{.*}} : memref<48xi16>, vector<4xi16>
// BF16: vector.store %{{.*}} : memref<48xi16>, vector<4xi16>
// The CPU's bf16 step takes the rounding bits of 64 4-element groups at a
// time: the elements before the first 4-aligned one with one Philox call
// each (i32), then blocks of 256 elements whose 64 calls run in the lanes of
// vector<64xi32> words (the 32 x 32 -> 64 products' high words from pairs
// of lanes in i64, the low words from an i32 multiply), interleaved so that
// element 4j + l takes word l of group j, staged on the stack for the
// block's element loop (the last block as far as the range goes).
// CPU16-LABEL: func.func @muir_generated_step_bf16(
// CPU16: %[[STAGE:.*]] = memref.alloca() : memref<256xi32>
// CPU16: %[[ALIGNED:.*]] = arith.andi %{{.*}}, %c-4{{.*}} : index
// CPU16: scf.for
// CPU16: arith.mului_extended %{{.*}}, %{{.*}} : i32
// CPU16: scf.for %[[BLOCK:[a-z0-9]+]] = %{{.*}} to %{{.*}} step %c256
// CPU16: vector.broadcast %{{.*}} : i64 to vector<64xi64>
// CPU16: vector.bitcast %{{.*}} : vector<64xi32> to vector<32xi64>
// CPU16: arith.muli %{{.*}}, %{{.*}} : vector<32xi64>
// CPU16: arith.muli %{{.*}}, %{{.*}} : vector<64xi32>
// CPU16-NOT: arith.mului_extended
// CPU16: vector.shuffle %{{.*}}, %{{.*}} [0, 64, 1, 65, 2, 66,
// CPU16: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 128, 129, 2, 3, 130, 131,
// CPU16: vector.store %{{.*}}, %[[STAGE]][%{{.*}}] : memref<256xi32>, vector<256xi32>
// CPU16: %[[LEFT:.*]] = arith.subi %{{.*}}, %[[BLOCK]] : index
// CPU16-NEXT: %[[N:.*]] = arith.minsi %c256{{.*}}, %[[LEFT]] : index
// CPU16-NEXT: scf.for %[[J:[a-z0-9]+]] = %{{.*}} to %[[N]] step
// CPU16-NEXT: memref.load %[[STAGE]][%[[J]]] : memref<256xi32>
// CPU16: arith.cmpf uno
// CPU16-NOT: arith.mului_extended
// CPU16: func.func @muir_generated_step_telemetry_bf16(
// CPU16: memref.alloca() : memref<256xi32>
// PRECISION: convert-tp-to-kernels: precision 'fp16' is not fp32 or bf16
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
