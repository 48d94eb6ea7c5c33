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
 * runtime.h's launch contract asks. Each kernel takes the argument list the
 * runtime launches it with (cuda.c, docs/Runtime.md; cuda-ptx-abi.py checks
 * them through the mock driver) and ignores what a whole state of the
 * fixture does not need (first is 0, the chunks and slots are all of
 * them, there are no LionAR units). With -DFIXTURE_BF16 it adds the bf16
 * step and reduction of the fixture's bf16 variant.
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

__attribute__((nvptx_kernel)) void muir_init_kernel(float *params,
                                                    uint64_t seed,
                                                    int64_t begin, int64_t end,
                                                    int64_t first) {
  (void)first;
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
                 int64_t step, float lr_factor, float grad_scale,
                 int64_t first, int64_t chunk_begin, int64_t chunk_end,
                 int64_t end, double *units, int64_t from_units) {
  (void)first, (void)chunk_begin, (void)chunk_end, (void)end, (void)units,
      (void)from_units;
  for (int64_t i = firstIndex(); i < FIXTURE_ELEMENTS; i += gridThreads())
    fixtureStepElement(i, params, grads, m, v, step, lr_factor, grad_scale,
                       muir_tensor_rows);
}

/* One block per reduction slot from slot_begin; thread 0 sums it. */
__attribute__((nvptx_kernel)) void muir_reduce_kernel(const float *grads,
                                                      double *partials,
                                                      int64_t first,
                                                      int64_t slot_begin) {
  (void)first;
  int64_t q = slot_begin + __nvvm_read_ptx_sreg_ctaid_x();
  if (__nvvm_read_ptx_sreg_tid_x() == 0 && q < NUM_SLOTS)
    partials[q] = fixtureReduceSlot(q, grads);
}

/* The telemetry's four sums per slot, one block each; thread 0. */
__attribute__((nvptx_kernel)) void
muir_telemetry_kernel(const float *before, const float *after,
                      double *partials, int64_t first, int64_t slot_begin) {
  (void)first;
  int64_t q = slot_begin + __nvvm_read_ptx_sreg_ctaid_x();
  if (__nvvm_read_ptx_sreg_tid_x() == 0 && q < NUM_SLOTS)
    fixtureTelemetrySlot(q, before, after, partials + 4 * q);
}

#ifdef FIXTURE_BF16
__attribute__((nvptx_kernel)) void muir_step_bf16_kernel(
    float *params, const uint16_t *grads, float *m, float *v, uint16_t *copy,
    int64_t step, float lr_factor, float grad_scale, uint64_t seed,
    int64_t first, int64_t chunk_begin, int64_t chunk_end, int64_t end,
    double *units, int64_t from_units) {
  (void)first, (void)chunk_begin, (void)chunk_end, (void)end, (void)units,
      (void)from_units;
  for (int64_t i = firstIndex(); i < FIXTURE_ELEMENTS; i += gridThreads())
    fixtureStepBf16Element(i, params, grads, m, v, copy, step, lr_factor,
                           grad_scale, muir_tensor_rows, seed);
}

__attribute__((nvptx_kernel)) void
muir_reduce_bf16_kernel(const uint16_t *grads, double *partials, int64_t first,
                        int64_t slot_begin) {
  (void)first;
  int64_t q = slot_begin + __nvvm_read_ptx_sreg_ctaid_x();
  if (__nvvm_read_ptx_sreg_tid_x() == 0 && q < NUM_SLOTS)
    partials[q] = fixtureReduceSlotBf16(q, grads);
}
#endif
