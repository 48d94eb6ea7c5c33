//===- PortableMath.cpp - Transcendentals with the same bits everywhere ---===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Polynomials are evaluated by Horner's rule with math.fma (llvm.fma: one
// rounding on every target, a vfmadd or fmaf on the CPU, fma.rn on the GPU);
// no op carries fast-math flags, so LLVM may not reassociate or contract.
// The coefficients are the closed-form series terms, rounded once to f32.
//
//===----------------------------------------------------------------------===//

#include "PortableMath.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>

using namespace mlir;

namespace {
/// Builds f32 and i32 arithmetic at one location.
struct F32Builder {
  OpBuilder &b;
  Location loc;

  Value f(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
  }
  Value i(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fma(Value x, Value y, Value z) {
    return math::FmaOp::create(b, loc, x, y, z);
  }
  /// c[0] + c[1] x + ... + c[n] x^n by Horner's rule with fma.
  Value horner(ArrayRef<double> c, Value x) {
    Value p = f(c.back());
    for (double ck : llvm::reverse(c.drop_back()))
      p = fma(p, x, f(ck));
    return p;
  }
};
} // namespace

Value mlir::tp::emitPortableLog(OpBuilder &b, Location loc, Value x) {
  F32Builder m{b, loc};
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  // e = floor(log2(x / sqrt(1/2))) from the bits; m = x 2^-e. 0x3F3504F3 is
  // sqrt(1/2) rounded to f32.
  Value bits = arith::BitcastOp::create(b, loc, i32, x);
  Value e = arith::ShRSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, bits, m.i(0x3F3504F3)), m.i(23));
  Value mant = arith::BitcastOp::create(
      b, loc, f32,
      arith::SubIOp::create(b, loc, bits,
                            arith::ShLIOp::create(b, loc, e, m.i(23))));
  // ln m = 2s + 2s s^2 (1/3 + s^2/5 + ... + s^8/11); m - 1 is exact.
  Value s = arith::DivFOp::create(b, loc, m.sub(mant, m.f(1.0)),
                                  m.add(mant, m.f(1.0)));
  Value s2 = m.mul(s, s), twoS = m.add(s, s);
  Value series = m.horner({1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11}, s2);
  Value lnM = m.fma(m.mul(twoS, s2), series, twoS);
  // e ln 2 with ln 2 split in two f32 parts, so that e ln2hi is exact to
  // within the final rounding.
  const double ln2 = llvm::numbers::ln2;
  float ln2Hi = float(ln2);
  Value ef = arith::SIToFPOp::create(b, loc, f32, e);
  return m.fma(ef, m.f(ln2Hi), m.fma(ef, m.f(ln2 - double(ln2Hi)), lnM));
}

std::pair<Value, Value>
mlir::tp::emitPortableCosSinTurns24(OpBuilder &b, Location loc, Value k) {
  F32Builder m{b, loc};
  Type f32 = b.getF32Type();
  // k = q 2^22 + r, q the nearest quarter turn: exact integer arithmetic.
  Value q = arith::ShRUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, k, m.i(1 << 21)), m.i(22));
  Value rInt = arith::SubIOp::create(b, loc, k,
                                     arith::ShLIOp::create(b, loc, q, m.i(22)));
  Value r = m.mul(arith::SIToFPOp::create(b, loc, f32, rInt),
                  m.f(std::ldexp(1.0, -22))); // exact: |r| <= 1/2
  // cos((pi/2) r) to r^10 and sin((pi/2) r) to r^9 from their Taylor
  // series.
  const double h = llvm::numbers::pi / 2;
  SmallVector<double, 6> cosC, sinC;
  for (int n = 0; n <= 10; ++n) {
    double term = std::pow(h, n) / std::tgamma(n + 1.0);
    double sign = (n / 2) % 2 ? -1.0 : 1.0;
    (n % 2 ? sinC : cosC).push_back(sign * term);
  }
  Value r2 = m.mul(r, r);
  Value cosA = m.horner(cosC, r2);
  Value sinA = m.mul(r, m.horner(sinC, r2));
  // theta = q pi/2 + a: swap for odd q; cos negated for q = 1, 2 and sin
  // for q = 2, 3.
  auto bit = [&](Value v, int64_t mask) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                 arith::AndIOp::create(b, loc, v, m.i(mask)),
                                 m.i(0));
  };
  Value odd = bit(q, 1);
  Value x = arith::SelectOp::create(b, loc, odd, sinA, cosA);
  Value y = arith::SelectOp::create(b, loc, odd, cosA, sinA);
  auto negateIf = [&](Value cond, Value v) -> Value {
    return arith::SelectOp::create(b, loc, cond,
                                   arith::NegFOp::create(b, loc, v), v);
  };
  Value cosNeg = bit(arith::AddIOp::create(b, loc, q, m.i(1)), 2);
  return {negateIf(cosNeg, x), negateIf(bit(q, 2), y)};
}

Value mlir::tp::emitPortableAtan2(OpBuilder &b, Location loc, Value y,
                                  Value x) {
  F32Builder m{b, loc};
  auto select = [&](Value c, Value t, Value f) -> Value {
    return arith::SelectOp::create(b, loc, c, t, f);
  };
  auto less = [&](Value l, Value r) -> Value {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, l, r);
  };
  Value ay = math::AbsFOp::create(b, loc, y);
  Value ax = x;               // x >= 0: the right half-plane only
  Value steep = less(ax, ay); // |y| > x: reflect about pi/4
  Value num = select(steep, ax, ay), den = select(steep, ay, ax);
  // 0/0 (both zero) reads as 0: atan2(+-0, +0) = +-0.
  Value a = arith::DivFOp::create(b, loc, num,
                                  select(less(m.f(0.0), den), den, m.f(1.0)));
  const double pi = llvm::numbers::pi;
  Value far = less(m.f(std::tan(pi / 8)), a);
  Value t = select(
      far,
      arith::DivFOp::create(b, loc, m.sub(a, m.f(1.0)), m.add(a, m.f(1.0))), a);
  // atan t = t + t^3 (-1/3 + t^2/5 - ... + t^14/17).
  SmallVector<double, 8> c;
  for (int n = 3; n <= 17; n += 2)
    c.push_back((n / 2) % 2 ? -1.0 / n : 1.0 / n);
  Value t2 = m.mul(t, t);
  Value r = m.fma(m.mul(t, t2), m.horner(c, t2), t);
  r = select(far, m.add(m.f(pi / 4), r), r);
  r = select(steep, m.sub(m.f(pi / 2), r), r);
  return math::CopySignOp::create(b, loc, r, y);
}
