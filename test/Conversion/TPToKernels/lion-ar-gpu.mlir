// RUN: muir-opt %s --convert-tp-to-kernels=gpu=true | FileCheck %s

// LionAR's GPU kernels for a hand-written laid-out model: "w" is a 4 x 8
// matrix with weight decay (4 rotational units of 8 elements, units 0-3),
// "a" a vector (no units: plain Lion). The table's last two fields are the
// unit length and the first unit.
// CHECK: memref.global constant @muir_kernel_params : memref<2x15xi64>
// CHECK-SAME: dense<{{\[}}[0, 32, 32, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 8, 0], [32, 16, 8, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 4]]>
// CHECK: gpu.module @muir_kernels

// LionAR's units kernel: 4 threads per unit (thread t: unit blockIdx * 64
// + t / 4, lane t mod 4), the first 256 threads of a block; workgroup memory
// for the lanes' 5 sums (5 x 256 f64) and the units' 4 scalars (4 x 64 f32).
// CHECK-LABEL: gpu.func @muir_step_units_kernel(
// CHECK-SAME: %[[P:[a-z0-9]+]]: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %[[PARTIALS:[a-z0-9]+]]: memref<20xf64>)
// CHECK-SAME: workgroup(%[[LANES:[a-z0-9]+]] : memref<1280xf64, #gpu.address_space<workgroup>>, %[[SCALARS:[a-z0-9]+]] : memref<256xf32, #gpu.address_space<workgroup>>) kernel {
// CHECK: %[[GROUP:.*]] = arith.divui %thread_id_x, %{{.*}} : index
// CHECK: %[[LANE:.*]] = arith.remui %thread_id_x, %{{.*}} : index
// A unit that lies in one reduction slot: lane l sums elements lo + l,
// lo + l + 4, ... below the last multiple of 4, in order (emitSegmentSums'
// lane l), ...
// CHECK: %[[ONESLOT:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : index
// CHECK: %[[OWN:.*]] = arith.andi %{{.*}}, %[[ONESLOT]] : i1
// CHECK-NEXT: %[[SUMS:.*]]:5 = scf.if %[[OWN]] -> (f64, f64, f64, f64, f64) {
// CHECK: %[[LANEEND:.*]] = arith.addi %[[LO:.*]], %{{.*}} : index
// CHECK-NEXT: %[[FROM:.*]] = arith.addi %[[LO]], %[[LANE]] : index
// CHECK-NEXT: %c4{{.*}} = arith.constant 4 : index
// CHECK-NEXT: %[[CHAIN:.*]]:5 = scf.for %{{.*}} = %[[FROM]] to %[[LANEEND]] step %c4
// ... and lane 0 the last (n mod 4) after its chain.
// CHECK: %[[ISZERO:.*]] = arith.cmpi eq, %[[LANE]], %{{.*}} : index
// CHECK-NEXT: scf.if %[[ISZERO]] -> (f64, f64, f64, f64, f64) {
// CHECK-NEXT: %c1{{.*}} = arith.constant 1 : index
// CHECK-NEXT: scf.for %{{.*}} = %[[LANEEND]] to %{{.*}} step %c1{{.*}} iter_args(%{{.*}} = %[[CHAIN]]#0,
// The five sums of thread t at [256 k + t]; a barrier.
// CHECK: memref.store %[[SUMS]]#0, %[[LANES]][%{{.*}}]
// CHECK: memref.store %[[SUMS]]#4, %[[LANES]][%{{.*}}]
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// Lane 0 adds the four lanes in the CPU's order, ((l0 + l1) + l2) + l3,
// (sum 0 shown) ...
// CHECK: scf.if
// CHECK: %[[L0:.*]] = memref.load %[[LANES]][%{{.*}}]
// CHECK: %[[T1:.*]] = arith.addi %thread_id_x, %c1{{.*}} : index
// CHECK: %[[L1:.*]] = memref.load %[[LANES]][%{{.*}}]
// CHECK-NEXT: %[[S01:.*]] = arith.addf %[[L0]], %[[L1]] : f64
// CHECK: %[[L2:.*]] = memref.load %[[LANES]][%{{.*}}]
// CHECK-NEXT: %[[S012:.*]] = arith.addf %[[S01]], %[[L2]] : f64
// CHECK: %[[L3:.*]] = memref.load %[[LANES]][%{{.*}}]
// CHECK-NEXT: %[[S0123:.*]] = arith.addf %[[S012]], %[[L3]] : f64
// ... which a unit in one slot takes and one that straddles a slot start
// reads from the units' partials, segment by segment from 0 ...
// CHECK: scf.for %{{.*}} iter_args
// CHECK: memref.load %[[PARTIALS]][%{{.*}}] : memref<20xf64>
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[S0123]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64, f64, f64
// ... then stores the unit's state (n0, nu) and its four scalars; a barrier.
// CHECK: memref.store %{{.*}}, %[[SCALARS]][%{{.*}}] : memref<256xf32, #gpu.address_space<workgroup>>
// CHECK: memref.store %{{.*}}, %[[SCALARS]][%{{.*}}] : memref<256xf32, #gpu.address_space<workgroup>>
// CHECK: memref.store %{{.*}}, %[[SCALARS]][%{{.*}}] : memref<256xf32, #gpu.address_space<workgroup>>
// CHECK: memref.store %{{.*}}, %[[SCALARS]][%{{.*}}] : memref<256xf32, #gpu.address_space<workgroup>>
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// The unit's four threads update every fourth element from lane l on.
// CHECK: memref.load %[[SCALARS]]
// CHECK: %[[START:.*]] = arith.addi %{{.*}}, %[[LANE]] : index
// CHECK: scf.for %{{.*}} = %[[START]] to %{{.*}} step %c4
// CHECK: memref.store %{{.*}}, %[[P]][%{{.*}}] : memref<64xf32>
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return


// The per-unit telemetry (docs/Optimizers.md, "Step telemetry"): the params
// before and after a step, 4 f64 per unit, the range [first, end) the
// buffers hold. One thread per unit over the grid (grid-stride over the 4
// units), its entry from a binary search of first_unit (field 14), its
// copy from a 32-bit division by the units per copy (numel / unit length).
// CHECK-LABEL: gpu.func @muir_unit_telemetry_kernel(
// CHECK-SAME: %[[BEFORE:[a-z0-9]+]]: memref<64xf32>, %[[AFTER:[a-z0-9]+]]: memref<64xf32>, %[[SUMS:[a-z0-9]+]]: memref<16xf64>, %[[FIRST64:[a-z0-9]+]]: i64, %[[END64:[a-z0-9]+]]: i64) kernel {
// CHECK-DAG: %[[FIRST:.*]] = arith.index_cast %[[FIRST64]] : i64 to index
// CHECK-DAG: %[[END:.*]] = arith.index_cast %[[END64]] : i64 to index
// CHECK: %[[THREADS:.*]] = arith.muli %grid_dim_x, %block_dim_x : index
// CHECK: %[[MINE:.*]] = arith.addi %{{.*}}, %thread_id_x : index
// CHECK: %[[UNITS:.*]] = arith.constant 4 : index
// CHECK: scf.for %[[UNIT:.*]] = %[[MINE]] to %[[UNITS]] step %[[THREADS]] {
// CHECK: arith.cmpi ule, %{{.*}}, %[[UNIT]] : index
// CHECK: memref.load %{{.*}}[%{{.*}}, %c13] : memref<2x15xi64>
// CHECK-NEXT: %[[UNITLEN:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: arith.divui %{{.*}} : i32
// Only a unit that meets [first, end) ...
// CHECK: %[[R:.*]] = arith.muli %{{.*}}, %[[UNITLEN]] : index
// CHECK-NEXT: %[[LO:.*]] = arith.addi %{{.*}}, %[[R]] : index
// CHECK-NEXT: %[[HI:.*]] = arith.addi %[[LO]], %[[UNITLEN]] : index
// CHECK-NEXT: %[[AFTERFIRST:.*]] = arith.cmpi sgt, %[[HI]], %[[FIRST]] : index
// CHECK-NEXT: %[[BEFOREEND:.*]] = arith.cmpi slt, %[[LO]], %[[END]] : index
// CHECK-NEXT: %[[MEETS:.*]] = arith.andi %[[AFTERFIRST]], %[[BEFOREEND]] : i1
// CHECK-NEXT: scf.if %[[MEETS]] {
// ... of a copy that rotates: its row's weight decay (field 1) is not 0
// and its entry has units.
// CHECK: %[[DECAY:.*]] = memref.load %{{.*}}[%{{.*}}, %c1{{.*}}] : memref<2x6xf64>
// CHECK: %[[HASDECAY:.*]] = arith.cmpf une, %[[DECAY]], %{{.*}} : f64
// CHECK: %[[HASUNITS:.*]] = arith.cmpi ne, %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %[[ROTATES:.*]] = arith.andi %[[HASUNITS]], %[[HASDECAY]] : i1
// CHECK-NEXT: scf.if %[[ROTATES]] {
// Its elements in [first, end), at [e - first], summed in element order from
// 0 (muir_kernel_step_telemetry's order: the same bits): w^2, w'^2, d^2 and
// w d with d = w' - w in f64.
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-NEXT: %[[FROM:.*]] = arith.maxsi %[[LO]], %[[FIRST]] : index
// CHECK-NEXT: %[[BEGIN:.*]] = arith.subi %[[FROM]], %[[FIRST]] : index
// CHECK-NEXT: %[[TO:.*]] = arith.minsi %[[HI]], %[[END]] : index
// CHECK-NEXT: %[[STOP:.*]] = arith.subi %[[TO]], %[[FIRST]] : index
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[S:.*]]:4 = scf.for %[[I:.*]] = %[[BEGIN]] to %[[STOP]] step %[[ONE]] iter_args(%[[S0:.*]] = %[[ZERO]], %[[S1:.*]] = %[[ZERO]], %[[S2:.*]] = %[[ZERO]], %[[S3:.*]] = %[[ZERO]]) -> (f64, f64, f64, f64) {
// CHECK-NEXT: %[[W32:.*]] = memref.load %[[BEFORE]][%[[I]]] : memref<64xf32>
// CHECK-NEXT: %[[W2_32:.*]] = memref.load %[[AFTER]][%[[I]]] : memref<64xf32>
// CHECK-NEXT: %[[W:.*]] = arith.extf %[[W32]] : f32 to f64
// CHECK-NEXT: %[[W2:.*]] = arith.extf %[[W2_32]] : f32 to f64
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[W2]], %[[W]] : f64
// CHECK-NEXT: %[[WW:.*]] = arith.mulf %[[W]], %[[W]] : f64
// CHECK-NEXT: %[[W2W2:.*]] = arith.mulf %[[W2]], %[[W2]] : f64
// CHECK-NEXT: %[[DD:.*]] = arith.mulf %[[D]], %[[D]] : f64
// CHECK-NEXT: %[[WD:.*]] = arith.mulf %[[W]], %[[D]] : f64
// CHECK-NEXT: %[[N0:.*]] = arith.addf %[[S0]], %[[WW]] : f64
// CHECK-NEXT: %[[N1:.*]] = arith.addf %[[S1]], %[[W2W2]] : f64
// CHECK-NEXT: %[[N2:.*]] = arith.addf %[[S2]], %[[DD]] : f64
// CHECK-NEXT: %[[N3:.*]] = arith.addf %[[S3]], %[[WD]] : f64
// CHECK-NEXT: scf.yield %[[N0]], %[[N1]], %[[N2]], %[[N3]]
// The unit's four sums at 4 unit (its number over the table).
// CHECK: %[[AT:.*]] = arith.muli %[[UNIT]], %c4{{.*}} : index
// CHECK: memref.store %[[S]]#0, %[[SUMS]][%{{.*}}] : memref<16xf64>
// CHECK: memref.store %[[S]]#1, %[[SUMS]][%{{.*}}] : memref<16xf64>
// CHECK: memref.store %[[S]]#2, %[[SUMS]][%{{.*}}] : memref<16xf64>
// CHECK: memref.store %[[S]]#3, %[[SUMS]][%{{.*}}] : memref<16xf64>
// CHECK: gpu.return
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
