//===- TestPasses.td - Test-only passes of the tp lowering -*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Passes that only tests run: built into MuirTestPasses and registered by
// muir-opt alone, never by muirc or the production libraries.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_TEST_LIB_CONVERSION_TPTOKERNELS_TESTPASSES_TD
#define MUIR_TEST_LIB_CONVERSION_TPTOKERNELS_TESTPASSES_TD

include "mlir/Pass/PassBase.td"

def TPTestEmulateGPU : Pass<"tp-test-emulate-gpu", "::mlir::ModuleOp"> {
  let summary = "Turn the GPU kernels into host loops over blocks and "
                "threads (tests)";
  let description = [{
    A test-only pass that runs the GPU-mapped IR on the CPU: each
    `gpu.func ... kernel` of the module's gpu.modules (those of
    `convert-tp-to-kernels{gpu=true}`) becomes a host function
    `func.func @<name>_emulated` with the kernel's arguments followed by the
    launch shape, `%grid: i64` (blocks) and `%block: i64` (threads per
    block), i64 so that the bare-pointer C signature takes `int64_t`s:

    ```mlir
    func.func @muir_step_kernel_emulated(%params: memref<N x f32>, ...,
        %step: i64, %lr_factor: f32, %grid: i64, %block: i64)
    ```

    Its body runs the kernel body in `scf.for %bid = 0 to %grid` and, inside,
    `scf.for %tid = 0 to %block`, with `gpu.thread_id x`, `gpu.block_id x`,
    `gpu.block_dim x` and `gpu.grid_dim x` replaced by `%tid`, `%bid`,
    `%block` and `%grid` (y and z: id 0, dim 1: a 1-D launch). Every other
    op is kept as it is (the index math, the 128-bit `vector.load`s and
    `vector.store`s, the scalar tails, the grid-stride loops). The
    gpu.module's `memref.global`s move to the host module (renamed where
    the name is taken) with the kernels' `memref.get_global`s. `gpu.barrier`s
    at the top level of a kernel body cut it into phases, each its own loop
    over the block's threads; workgroup memory attributions become buffers
    allocated once, and values used across a barrier are kept per thread
    (constants, ids and globals are recomputed). The gpu.modules are then
    erased and the module loses `gpu.container_module`.

    Running the threads one after the other is exact for kernels whose
    threads write disjoint elements outside workgroup memory and use other
    threads' results only across barriers; the pass rejects kernels with gpu
    ops other than the ids, dims, top-level barriers and return, with
    private memory, inline assembly, more than one block, or symbol uses
    other than the gpu.module's globals (calls). Lower the result with
    `convert-vector-to-llvm` and `tp-lower-to-cpu`.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // MUIR_TEST_LIB_CONVERSION_TPTOKERNELS_TESTPASSES_TD
