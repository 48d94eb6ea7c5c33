// RUN: muir-opt %s -split-input-file -verify-diagnostics --tp-test-emulate-gpu | FileCheck %s

// A kernel becomes a host function over (block, thread) loops; the ids and
// dims become the loop variables and the launch shape (y/z: 0 and 1), and
// the gpu.module goes.

// CHECK-LABEL: module {
// CHECK-NOT: gpu.
// CHECK-LABEL: func.func @copy_emulated(
// CHECK-SAME: %[[A:.*]]: memref<64xf32>, %[[B:.*]]: memref<64xf32>, %[[K:.*]]: i64, %[[GRID:.*]]: i64, %[[BLOCK:.*]]: i64)
// CHECK-DAG: %[[G:.*]] = arith.index_cast %[[GRID]] : i64 to index
// CHECK-DAG: %[[BD:.*]] = arith.index_cast %[[BLOCK]] : i64 to index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: scf.for %[[BID:.*]] = %[[C0]] to %[[G]] step %[[C1]] {
// CHECK-NEXT: scf.for %[[TID:.*]] = %[[C0]] to %[[BD]] step %[[C1]] {
// CHECK: %[[X:.*]] = arith.muli %[[BID]], %[[BD]] : index
// CHECK: %[[Y:.*]] = arith.addi %[[X]], %[[TID]] : index
// CHECK: %[[S:.*]] = arith.muli %[[G]], %[[BD]] : index
// CHECK: %[[Z:.*]] = arith.addi %[[C0]], %[[C1]] : index
// CHECK: %[[K2:.*]] = arith.addi %[[K]], %[[K]] : i64
// CHECK: scf.for %[[I:.*]] = %[[Y]] to %{{.*}} step %[[S]] {
// CHECK: vector.load %[[A]][%[[I]]] : memref<64xf32>, vector<4xf32>
// CHECK: vector.store %{{.*}}, %[[B]][%[[I]]]
// CHECK-NOT: gpu.
// CHECK: return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @copy(%a: memref<64xf32>, %b: memref<64xf32>, %k: i64) kernel {
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %bdim = gpu.block_dim x
      %gdim = gpu.grid_dim x
      %tidy = gpu.thread_id y
      %bdimz = gpu.block_dim z
      %base = arith.muli %bid, %bdim : index
      %first = arith.addi %base, %tid : index
      %stride = arith.muli %gdim, %bdim : index
      %yz = arith.addi %tidy, %bdimz : index
      %k3 = arith.addi %k, %k : i64
      %c16 = arith.constant 16 : index
      scf.for %i = %first to %c16 step %stride {
        %v = vector.load %a[%i] : memref<64xf32>, vector<4xf32>
        vector.store %v, %b[%i] : memref<64xf32>, vector<4xf32>
      }
      gpu.return
    }
  }
}

// -----

// A barrier inside control flow: the phases would not be top-level.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @sync(%a: memref<64xf32>, %c: i1) kernel {
      scf.if %c {
        // expected-error @+1 {{cannot be emulated by sequential loops over blocks and threads}}
        gpu.barrier
      }
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @asm(%k: i64) kernel {
      // expected-error @+1 {{cannot be emulated}}
      %x = llvm.inline_asm has_side_effects "mov.b64 $0, $1;", "=l,l" %k : (i64) -> i64
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @shared_emulated() {
    return
  }
  gpu.module @kernels {
    // expected-error @+1 {{cannot be emulated: @shared_emulated already exists}}
    gpu.func @shared() kernel {
      gpu.return
    }
  }
}
