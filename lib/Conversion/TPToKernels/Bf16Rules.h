//===- Bf16Rules.h - bf16 grads and the params' bf16 copy -------*- C++ -*-===//
//-*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A bf16 package (convert-tp-to-kernels{precision=bf16}) keeps the params
// and every optimizer state in float32 (the master weights) and the
// gradients and a copy of the params in bfloat16: 2-byte buffers of raw
// bits (memref<N x i16>). The step widens each gradient exactly (bf16 is
// the top half of an f32) and writes the updated master weight to the copy
// with stochastic rounding keyed by (seed, step, element) through the
// Philox4x32-10 of init, from integer ops only: the same bits on the CPU and
// the GPU (docs/Optimizers.md, "bf16").
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_BF16RULES_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_BF16RULES_H

#include "KernelIR.h"

namespace mlir::tp {

/// The f32 value of bf16 bits (i16, or a vector of i16): exact.
Value emitBf16ToF32(KernelIR &ir, Value bits);

/// The stochastic-rounding stream of one step: Philox4x32-10 with key
/// (seed mod 2^32, seed div 2^32) and counter (g mod 2^32, g div 2^32,
/// t mod 2^32, t div 2^32 | 2^31) for the group g = e div 4 of flat-buffer
/// element e at step t; element e takes the low 16 bits of word e mod 4.
/// Init's counters have word 3 = 0, so the two streams never meet.
struct RoundingStream {
  Value k0, k1, t0, t1; ///< i32 key and step words

  /// The stream of step `step` (i64) under `seed` (i64).
  static RoundingStream get(KernelIR &ir, Value seed, Value step);

  /// The four words of group `group` (index), one per element of the group.
  SmallVector<Value, 4> words(KernelIR &ir, Value group) const;

  /// The 16 rounding bits (i32 in [0, 65536)) of flat-buffer element `e`
  /// (index): its group's word e mod 4, low half.
  Value bitsOf(KernelIR &ir, Value e) const;

  /// The rounding bits of the 4 `groups` elements of groups [first, first +
  /// groups) (`first` an index), in element order: vector<4 groups x i32>,
  /// lane 4j + l bitsOf(4 (first + j) + l). One Philox call per group, the
  /// calls in vector lanes (vector<groups x i32> words; the CPU's bf16
  /// step, which LLVM does not vectorise across groups by itself).
  Value blockBits(KernelIR &ir, Value first, int64_t groups) const;
};

/// `x` (f32) rounded to bf16 (i16 bits) stochastically with the rounding
/// bits `r` (i32 in [0, 65536)): the f32 bits plus r, truncated to the top
/// 16 bits. Rounds away from zero with probability (low 16 bits of x) /
/// 2^16, so E[round(x)] = x for every finite x below bf16's largest value;
/// infinities stay infinite, NaN becomes a quiet NaN of the same sign.
Value emitStochasticBf16(KernelIR &ir, Value x, Value r);

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_BF16RULES_H
