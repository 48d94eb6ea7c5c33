// RUN: muir-opt %s --tp-test-emulate-gpu | FileCheck %s

// Workgroup memory and top-level barriers: the body is cut at the barrier
// into two phases, each a loop over the block's threads; the workgroup
// buffer and a slot per thread for %x (used after the barrier) are
// allocated once before the loop over blocks; %tid and the constant are
// recomputed in the second phase. The gpu.module's global moves to the host
// module, renamed because @table is taken.

// CHECK-LABEL: module {
// CHECK: memref.global constant @table : memref<2xf32>
// CHECK: memref.global @[[T:table_[0-9]+]] : memref<4xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]>
// CHECK-LABEL: func.func @sum_emulated(
// CHECK-SAME: %[[OUT:.*]]: memref<4xf32>, %[[GRID:.*]]: i64, %[[BLOCK:.*]]: i64)
// CHECK-DAG: %[[BD:.*]] = arith.index_cast %[[BLOCK]] : i64 to index
// CHECK-DAG: %[[SH:.*]] = memref.alloca() : memref<4xf32>
// CHECK-DAG: %[[X:.*]] = memref.alloca(%[[BD]]) : memref<?xf32>
// CHECK: scf.for %[[BID:.*]] =
// CHECK-NEXT: scf.for %[[T0:.*]] =
// CHECK: memref.get_global @[[T]] : memref<4xf32>
// CHECK: %[[V:.*]] = memref.load %{{.*}}[%[[T0]]]
// CHECK-DAG: memref.store %[[V]], %[[SH]][%[[T0]]]
// CHECK-DAG: memref.store %[[V]], %[[X]][%[[T0]]]
// CHECK: }
// CHECK-NEXT: scf.for %[[T1:.*]] =
// CHECK: %[[V1:.*]] = memref.load %[[X]][%[[T1]]]
// CHECK: arith.cmpi eq, %[[T1]]
// CHECK: scf.if
// CHECK: memref.load %[[SH]]
// CHECK: memref.store %[[V1]], %[[OUT]][%[[T1]]]
// CHECK-NOT: gpu.
module attributes {gpu.container_module} {
  memref.global constant @table : memref<2xf32> = dense<[1.0, 2.0]>
  gpu.module @kernels {
    memref.global @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
    gpu.func @sum(%out: memref<4xf32>) workgroup(%sh : memref<4xf32, #gpu.address_space<workgroup>>) kernel {
      %tid = gpu.thread_id x
      %c0 = arith.constant 0 : index
      %t = memref.get_global @table : memref<4xf32>
      %x = memref.load %t[%tid] : memref<4xf32>
      memref.store %x, %sh[%tid] : memref<4xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %is0 = arith.cmpi eq, %tid, %c0 : index
      scf.if %is0 {
        %a = memref.load %sh[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
        memref.store %a, %out[%c0] : memref<4xf32>
      }
      memref.store %x, %out[%tid] : memref<4xf32>
      gpu.return
    }
  }
}
