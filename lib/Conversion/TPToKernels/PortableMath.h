//===- PortableMath.h - Transcendentals with the same bits everywhere ----===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The init kernels need ln and cos/sin (Box-Muller), the adam-atan2 step
// atan2. `math.log` and
// `math.cos` become glibc's logf/cosf on the CPU and libdevice's
// __nv_logf/__nv_cosf on the GPU, which differ in the last bits, so the same
// seed would not give the same weights on both. These builders emit the
// functions from integer ops and IEEE f32 add, mul, div and fma only: every
// target rounds those the same way, so the CPU and GPU kernels compute
// identical bits (docs/Lowering.md, "Init").
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_PORTABLEMATH_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_PORTABLEMATH_H

#include "mlir/IR/Builders.h"

namespace mlir::tp {

/// ln(x) for a positive normal f32 `x` (the caller guarantees it), within
/// about 1 ulp: x = 2^e m with m in [sqrt(1/2), sqrt(2)), and
/// ln m = 2 atanh(s), s = (m - 1)/(m + 1), |s| < 0.172, from the atanh series
/// up to s^11 (truncation below 1e-9 relative).
Value emitPortableLog(OpBuilder &b, Location loc, Value x);

/// (cos, sin) of 2 pi k / 2^24 for an i32 `k` in [0, 2^24), within about
/// 1 ulp. The reduction to a quarter turn is done on the integer, so it is
/// exact: k = q 2^22 + r with |r| <= 2^21, and cos and sin of
/// (pi/2) r/2^22, |angle| <= pi/4, come from their Taylor series (to the
/// 10th and 9th power; truncation below 3e-9).
std::pair<Value, Value> emitPortableCosSinTurns24(OpBuilder &b, Location loc,
                                                  Value k);

/// atan2(y, x) for f32 `y` and `x` >= +0 (the caller guarantees it; not
/// NaN), within a few ulps, atan2(+-0, +0) = +-0: the ratio
/// a = min(|y|, x)/max(|y|, x) in [0, 1], then
/// atan a = pi/4 + atan((a - 1)/(a + 1)) above tan(pi/8), so that the
/// Taylor series of atan runs on |t| <= 0.415 (to t^17; truncation below
/// 1e-8 relative), and the octant's reflections.
Value emitPortableAtan2(OpBuilder &b, Location loc, Value y, Value x);

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_PORTABLEMATH_H
