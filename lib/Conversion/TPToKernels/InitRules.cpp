//===- InitRules.cpp - Philox4x32-10 and the initial distributions --------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "InitRules.h"
#include "PortableMath.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include <cmath>

using namespace mlir;
using namespace mlir::tp;

/// The 64-bit product m x (i32 values, or vectors of an even number of
/// i32): {low, high} words. For a vector, the high words come from pairs of
/// lanes multiplied in i64 (each lane zero-extended in place, the even and
/// the odd lanes in two products: the shape of x86's 32 x 32 -> 64
/// vpmuludq, where widening the whole vector and narrowing it back cost
/// half as much again; which half of a pair is the even lane does not
/// matter, both are rebuilt in place), the low words from an i32 multiply
/// (LLVM turned the pairs' low halves into a slow 64-bit vpmullq).
static std::pair<Value, Value> wideProduct(KernelIR &ir, uint32_t m, Value x) {
  OpBuilder &b = ir.b;
  auto vec = dyn_cast<VectorType>(x.getType());
  Value mv =
      vec ? Value(arith::ConstantOp::create(
                b, ir.loc,
                DenseElementsAttr::get(vec, b.getI32IntegerAttr(int32_t(m)))))
          : ir.i32(int64_t(m));
  if (!vec || vec.getNumElements() % 2 != 0) {
    auto p = arith::MulUIExtendedOp::create(b, ir.loc, mv, x);
    return {p.getLow(), p.getHigh()};
  }
  auto pairs = VectorType::get({vec.getNumElements() / 2}, b.getI64Type());
  auto c64 = [&](uint64_t v) -> Value {
    return arith::ConstantOp::create(
        b, ir.loc,
        DenseElementsAttr::get(pairs, b.getI64IntegerAttr(int64_t(v))));
  };
  Value shift = c64(32), mw = c64(m);
  Value xp = vector::BitCastOp::create(b, ir.loc, pairs, x);
  Value lowLanes =
      ir.muli(arith::AndIOp::create(b, ir.loc, xp, c64(0xFFFFFFFFu)), mw);
  Value highLanes = ir.muli(arith::ShRUIOp::create(b, ir.loc, xp, shift), mw);
  Value hi = arith::OrIOp::create(
      b, ir.loc, arith::ShRUIOp::create(b, ir.loc, lowLanes, shift),
      arith::AndIOp::create(b, ir.loc, highLanes, c64(0xFFFFFFFF00000000u)));
  return {ir.muli(x, mv), vector::BitCastOp::create(b, ir.loc, vec, hi)};
}

SmallVector<Value, 4> mlir::tp::emitPhilox(KernelIR &ir,
                                           SmallVector<Value, 4> ctr, Value k0,
                                           Value k1) {
  OpBuilder &b = ir.b;
  Location loc = ir.loc;
  // Constants of the words' type: i32, or a splat for a vector of
  // counters (the CPU's bf16 step computes many groups at once).
  Type type = ctr[0].getType();
  auto c32 = [&](uint32_t v) -> Value {
    auto vec = dyn_cast<VectorType>(type);
    if (!vec)
      return ir.i32(int64_t(v));
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec, b.getI32IntegerAttr(int32_t(v))));
  };
  Value w0 = c32(0x9E3779B9), w1 = c32(0xBB67AE85);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 = ir.addi(k0, w0);
      k1 = ir.addi(k1, w1);
    }
    auto [lo0, hi0] = wideProduct(ir, 0xD2511F53, ctr[0]);
    auto [lo1, hi1] = wideProduct(ir, 0xCD9E8D57, ctr[2]);
    Value x0 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, hi1, ctr[1]), k0);
    Value x2 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, hi0, ctr[3]), k1);
    ctr = {x0, lo1, x2, lo0};
  }
  return ctr;
}

void mlir::tp::buildPhiloxFunction(ModuleOp module, Location loc) {
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  KernelIR ir{b, loc};
  auto ctrType = MemRefType::get({4}, b.getI32Type());
  auto keyType = MemRefType::get({2}, b.getI32Type());
  auto fn =
      func::FuncOp::create(b, loc, "muir_philox4x32_10",
                           b.getFunctionType({ctrType, keyType, ctrType}, {}));
  b.setInsertionPointToStart(fn.addEntryBlock());
  auto load = [&](Value mem, int64_t i) -> Value {
    return memref::LoadOp::create(b, loc, mem, ir.idx(i));
  };
  SmallVector<Value, 4> ctr;
  for (int i = 0; i < 4; ++i)
    ctr.push_back(load(fn.getArgument(0), i));
  SmallVector<Value, 4> out = emitPhilox(ir, ctr, load(fn.getArgument(1), 0),
                                         load(fn.getArgument(1), 1));
  for (int i = 0; i < 4; ++i)
    memref::StoreOp::create(b, loc, out[i], fn.getArgument(2), ir.idx(i));
  func::ReturnOp::create(b, loc);
}

std::pair<Value, Value> mlir::tp::philoxKey(KernelIR &ir, Value seed) {
  Type i32 = ir.b.getI32Type();
  return {ir.cast(i32, seed),
          ir.cast(i32, arith::ShRUIOp::create(ir.b, ir.loc, seed, ir.i64(32)))};
}

double mlir::tp::initScale(InitKind kind, double std) {
  return kind == InitKind::uniform ? std::sqrt(3.0) * std : std;
}

namespace {
/// The top 24 bits of `word`.
Value top24(KernelIR &ir, Value word) {
  return arith::ShRUIOp::create(ir.b, ir.loc, word, ir.i32(8));
}

/// A uniform in [0, 1) from the top 24 bits of `word` (exact in f32), or in
/// (0, 1] with `openAtZero` (log() must not see 0).
Value unit(KernelIR &ir, Value word, bool openAtZero) {
  Value f =
      arith::UIToFPOp::create(ir.b, ir.loc, ir.b.getF32Type(), top24(ir, word));
  if (openAtZero)
    f = ir.addf(f, ir.f32(1.0));
  return ir.mulf(f, ir.f32(std::ldexp(1.0, -24)));
}

/// Box-Muller: the two independent normals sqrt(-2 ln u1) (cos, sin)(2 pi
/// u2) from two words, with the portable ln, cos and sin.
std::pair<Value, Value> normalPair(KernelIR &ir, Value w0, Value w1) {
  Value r = ir.sqrt(
      ir.mulf(ir.f32(-2.0), emitPortableLog(ir.b, ir.loc, unit(ir, w0, true))));
  auto [c, s] = emitPortableCosSinTurns24(ir.b, ir.loc, top24(ir, w1));
  return {ir.mulf(r, c), ir.mulf(r, s)};
}
} // namespace

Value mlir::tp::emitInitValue(KernelIR &ir, InitKind kind, const InitParams &q,
                              Value i, Value k0, Value k1) {
  if (kind == InitKind::zeros)
    return ir.f32(0.0);
  if (kind == InitKind::ones)
    return ir.f32(1.0);
  Type i64 = ir.b.getI64Type(), i32 = ir.b.getI32Type();
  Value local = ir.cast(i64, ir.addi(i, q.counterBase));
  SmallVector<Value, 4> ctr = {
      ir.cast(i32, local),
      ir.cast(i32, arith::ShRUIOp::create(ir.b, ir.loc, local, ir.i64(32))),
      q.paramIndex, ir.i32(0)};
  SmallVector<Value, 4> w = emitPhilox(ir, ctr, k0, k1);
  Value z;
  switch (kind) {
  case InitKind::uniform:
    // U(-a, a) with a = sqrt(3) std has standard deviation std.
    return ir.mulf(
        ir.subf(ir.mulf(ir.f32(2.0), unit(ir, w[0], false)), ir.f32(1.0)),
        q.scale);
  case InitKind::normal:
    z = normalPair(ir, w[0], w[1]).first;
    break;
  case InitKind::trunc_normal: {
    // Truncation at +-2 std: the first of the four Box-Muller normals of
    // (x0, x1) and (x2, x3) inside the interval, else the last clamped
    // (P = 0.0455^4, about 4e-6, of a clamp; see docs/Lowering.md).
    auto [z0, z1] = normalPair(ir, w[0], w[1]);
    auto [z2, z3] = normalPair(ir, w[2], w[3]);
    z = arith::MinimumFOp::create(
        ir.b, ir.loc, arith::MaximumFOp::create(ir.b, ir.loc, z3, ir.f32(-2.0)),
        ir.f32(2.0));
    for (Value cand : {z2, z1, z0}) {
      Value inside =
          ir.cmpf(arith::CmpFPredicate::OLE,
                  math::AbsFOp::create(ir.b, ir.loc, cand), ir.f32(2.0));
      z = ir.select(inside, cand, z);
    }
    break;
  }
  default:
    z = ir.f32(0.0);
  }
  return ir.mulf(z, q.scale);
}
