/*===- fixture_kernels_nvptx.c - TEST FIXTURE: real CUDA kernels --*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * TEST FIXTURE. The fixture package's kernels.ptx, hand-written in C and
 * compiled by clang for nvptx64 (no CUDA toolkit needed):
 *
 *   clang --target=nvptx64-nvidia-cuda -march=sm_80 -O2 -ffreestanding \
 *     -ffp-contract=off -S fixture_kernels_nvptx.c -o kernels.ptx
 *
 * The per-element math is fixture_package.c's, so a GPU must reproduce the
 * CPU kernels bit for bit (-ffp-contract=off keeps clang from fusing
 * multiply-adds the host build does not fuse). Grid-stride loops, as
 * runtime.h's launch contract asks.
 *
 *===----------------------------------------------------------------------===*/

#define FIXTURE_NO_EXPORTS
#include "fixture_package.c"

static int64_t firstIndex(void) {
  return (int64_t)__nvvm_read_ptx_sreg_ctaid_x() *
             __nvvm_read_ptx_sreg_ntid_x() +
         __nvvm_read_ptx_sreg_tid_x();
}

static int64_t gridThreads(void) {
  return (int64_t)__nvvm_read_ptx_sreg_nctaid_x() *
         __nvvm_read_ptx_sreg_ntid_x();
}

__attribute__((nvptx_kernel)) void
muir_init_kernel(float *params, uint64_t seed, int64_t begin, int64_t end) {
  for (int64_t i = begin + firstIndex(); i < end; i += gridThreads())
    params[i] = fixtureInitElement(seed, i);
}

/* The module's table rows, which the runtime may overwrite. */
muir_tensor_row_t muir_tensor_rows[FIXTURE_NUM_ROWS] = {
    {(double)1e-2f, (double)0.1f, (double)1e-8f, (double)0.9f, (double)0.99f,
     (double)0.5f},
    {(double)3e-3f, (double)0.0f, (double)1e-6f, (double)0.8f, (double)0.95f,
     (double)1.0f},
};

__attribute__((nvptx_kernel)) void
muir_step_kernel(float *params, const float *grads, float *m, float *v,
                 int64_t step, float lr_factor, float grad_scale) {
  for (int64_t i = firstIndex(); i < FIXTURE_ELEMENTS; i += gridThreads())
    fixtureStepElement(i, params, grads, m, v, step, lr_factor, grad_scale,
                       muir_tensor_rows);
}

/* One block per reduction slot; thread 0 sums it. */
__attribute__((nvptx_kernel)) void muir_reduce_kernel(const float *grads,
                                                      double *partials) {
  int64_t q = __nvvm_read_ptx_sreg_ctaid_x();
  if (__nvvm_read_ptx_sreg_tid_x() == 0 && q < 3)
    partials[q] = fixtureReduceSlot(q, grads);
}
