//===- Passes.td - Kernel generation passes ----------------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_CONVERSION_PASSES_TD
#define MUIR_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTPToKernels : Pass<"convert-tp-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Generate the fused init and optimizer-step kernels";
  let description = [{
    For the one instantiated and laid-out `tp.model` of the module, creates
    the loop-body IR of its kernels beside it, generated once per update rule
    (the optimizer variant; one init body per distribution), and the constant
    table they read what differs from tensor to tensor from
    (docs/Lowering.md):

    - `memref.global @muir_kernel_params : memref<P x 13 x i64>`: one entry
      per untied parameter (offset, stride, numel, copies, chunk and
      reduction-slot numbering, parameter index, init, rows);
    - `memref.global @muir_tensor_rows : memref<R x 6 x f64>`: lr, weight
      decay, eps, beta1, beta2 and init scale, one row per parameter or per
      copy where the copies differ;
    - `@muir_generated_init(%params, %seed, %begin, %end)`: Philox4x32-10
      keyed by (seed, parameter index), counted by the element index, turned
      into each tensor's distribution;
    - `@muir_generated_step(%params, %grads, %state0, %state1, %step,
      %lr_factor)`, and `@muir_generated_step_rows` with the rows as a last
      argument (run-time overrides);
    - `@muir_generated_reduce(%grads, %partials)`: the reduction phase, the
      sum of squares (f64) of every slot;
    - `@muir_philox4x32_10`: the bare generator, for known-answer tests.

    The functions lower to the CPU with `tp-lower-to-cpu`. Errors at the
    parameter when the table would overflow the kernels' 32-bit chunk, slot
    or row numbers, or a tensor is not placed for 128-bit accesses.

    With `gpu=true` the pass also emits `gpu.module @muir_kernels` (and marks
    the module `gpu.container_module`) with its own copy of the table (the
    rows writable) and the three kernels the runtime launches (runtime.h,
    docs/Runtime.md):

    - `gpu.func @muir_reduce_kernel(%grads, %partials) kernel`: one block per
      slot, combined in order through workgroup memory;
    - `gpu.func @muir_init_kernel(%params, %seed, %begin, %end) kernel`
    - `gpu.func @muir_step_kernel(%params, %grads, %state0, %state1, %step,
      %lr_factor) kernel`

    They are built from the same step and init rules as the CPU functions.
    Work distribution: every tensor copy is cut into chunks of at most 1024
    elements (256 threads x 4, the runtime's launch), so no chunk straddles
    two tensors; blocks take chunks in a grid-stride loop and find the
    chunk's parameter by a binary search of the table (block-uniform loads)
    and its copy by a 32-bit division. In the step kernel thread t of a
    block takes elements [4t, 4t + 4) of the chunk, 4 x blockDim apart,
    with one 128-bit `vector.load`/`vector.store` per buffer (tensor
    offsets are multiples of 16 elements) and scalar code for a copy's
    last 1-3 elements. The per-step scalars are computed per chunk in f64
    and rounded to f32, as on the CPU. Lower with `tp-lower-to-nvvm`.

    With `precision=bf16` the pass also emits
    `@muir_generated_step_bf16(%params, %grads, %state0, %state1, %copy,
    %step, %lr_factor, %grad_scale, %begin, %end, %rows, %seed)` and
    `@muir_generated_reduce_bf16` (and on the GPU `muir_step_bf16_kernel`,
    `muir_reduce_bf16_kernel`): the gradients and the params' copy are
    `memref<N x i16>` of bf16 bits, the params and states stay f32 (master
    weights), and the copy is written with stochastic rounding keyed by
    (seed, step, element) through Philox4x32-10.
  }];
  let options = [
    Option<"optimizer", "optimizer", "std::string", "\"\"",
           "step kernel to generate: an optimizer and its options, "
           "name[:option,...] as tp-parametrize's (docs/Optimizers.md; "
           "default: the model's tp.parametrization optimizer and options)">,
    Option<"gpu", "gpu", "bool", "false",
           "also emit gpu.module @muir_kernels with the CUDA init and step "
           "kernels">,
    Option<"precision", "precision", "std::string", "\"fp32\"",
           "fp32, or bf16: also emit the steps and reductions over bf16 "
           "gradients that write a bf16 copy of the f32 params with "
           "stochastic rounding (docs/Optimizers.md)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // MUIR_CONVERSION_PASSES_TD
