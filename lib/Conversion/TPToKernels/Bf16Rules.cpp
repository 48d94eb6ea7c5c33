//===- Bf16Rules.cpp - bf16 gradients and the bf16 copy of the params -----===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Bf16Rules.h"
#include "InitRules.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tp;

/// A constant of `type` (i32 or a vector of i32) with value `v`.
static Value splat(KernelIR &ir, Type type, int64_t v) {
  if (auto vec = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(
        ir.b, ir.loc,
        DenseElementsAttr::get(vec, ir.b.getI32IntegerAttr(int32_t(v))));
  return ir.i32(v);
}

Value mlir::tp::emitBf16ToF32(KernelIR &ir, Value bits) {
  Type i32 = ir.b.getI32Type(), f32 = ir.b.getF32Type();
  if (auto vec = dyn_cast<VectorType>(bits.getType())) {
    i32 = VectorType::get(vec.getShape(), i32);
    f32 = VectorType::get(vec.getShape(), f32);
  }
  Value wide = arith::ExtUIOp::create(ir.b, ir.loc, i32, bits);
  Value high = arith::ShLIOp::create(ir.b, ir.loc, wide, splat(ir, i32, 16));
  return arith::BitcastOp::create(ir.b, ir.loc, f32, high);
}

RoundingStream RoundingStream::get(KernelIR &ir, Value seed, Value step) {
  RoundingStream s;
  std::tie(s.k0, s.k1) = philoxKey(ir, seed);
  std::tie(s.t0, s.t1) = philoxKey(ir, step);
  s.t1 = arith::OrIOp::create(ir.b, ir.loc, s.t1, ir.i32(int64_t(1) << 31));
  return s;
}

SmallVector<Value, 4> RoundingStream::words(KernelIR &ir, Value group) const {
  Value g = ir.cast(ir.b.getI64Type(), group);
  auto [g0, g1] = philoxKey(ir, g);
  return emitPhilox(ir, {g0, g1, t0, t1}, k0, k1);
}

Value RoundingStream::bitsOf(KernelIR &ir, Value e) const {
  Value group = arith::ShRUIOp::create(ir.b, ir.loc, e, ir.idx(2));
  SmallVector<Value, 4> w = words(ir, group);
  Value lane = ir.cast(ir.b.getI32Type(),
                       arith::AndIOp::create(ir.b, ir.loc, e, ir.idx(3)));
  Value word = w[0];
  for (int64_t l = 1; l < 4; ++l)
    word = ir.select(ir.cmpi(arith::CmpIPredicate::eq, lane, ir.i32(l)), w[l],
                     word);
  return arith::AndIOp::create(ir.b, ir.loc, word, ir.i32(0xFFFF));
}

Value RoundingStream::blockBits(KernelIR &ir, Value first,
                                int64_t groups) const {
  OpBuilder &b = ir.b;
  Type i64 = b.getI64Type();
  auto words = VectorType::get({groups}, b.getI32Type());
  auto wide = VectorType::get({groups}, i64);
  // The groups' numbers, split into the counter's words 0 and 1.
  SmallVector<int64_t> iota = llvm::to_vector(llvm::seq<int64_t>(0, groups));
  Value g =
      ir.addi(vector::BroadcastOp::create(b, ir.loc, wide, ir.cast(i64, first)),
              arith::ConstantOp::create(
                  b, ir.loc, DenseElementsAttr::get(wide, ArrayRef(iota))));
  Value g0 = arith::TruncIOp::create(b, ir.loc, words, g);
  Value g1 = arith::TruncIOp::create(
      b, ir.loc, words,
      arith::ShRUIOp::create(
          b, ir.loc, g,
          arith::ConstantOp::create(
              b, ir.loc,
              DenseElementsAttr::get(wide, b.getI64IntegerAttr(32)))));
  auto lanes = [&](Value x) -> Value {
    return vector::BroadcastOp::create(b, ir.loc, words, x);
  };
  SmallVector<Value, 4> w =
      emitPhilox(ir, {g0, g1, lanes(t0), lanes(t1)}, lanes(k0), lanes(k1));
  // Element 4j + l takes word l of group j: interleave the words in pairs
  // (w0 w1 ..., w2 w3 ...), then the pairs.
  SmallVector<int64_t> pairs, quads;
  for (int64_t j = 0; j < groups; ++j) {
    llvm::append_range(pairs, ArrayRef<int64_t>{j, groups + j});
    llvm::append_range(quads,
                       ArrayRef<int64_t>{2 * j, 2 * j + 1, 2 * groups + 2 * j,
                                         2 * groups + 2 * j + 1});
  }
  Value low = vector::ShuffleOp::create(b, ir.loc, w[0], w[1], pairs);
  Value high = vector::ShuffleOp::create(b, ir.loc, w[2], w[3], pairs);
  Value all = vector::ShuffleOp::create(b, ir.loc, low, high, quads);
  return arith::AndIOp::create(b, ir.loc, all,
                               splat(ir, all.getType(), 0xFFFF));
}

Value mlir::tp::emitStochasticBf16(KernelIR &ir, Value x, Value r) {
  OpBuilder &b = ir.b;
  Type i32 = b.getI32Type();
  Value bits = arith::BitcastOp::create(b, ir.loc, i32, x);
  Value rounded =
      arith::ShRUIOp::create(b, ir.loc, ir.addi(bits, r), ir.i32(16));
  // NaN: the adding could carry into the sign (0x7fffffff + r); keep the
  // top half with the quiet bit set instead.
  Value quiet = arith::OrIOp::create(
      b, ir.loc, arith::ShRUIOp::create(b, ir.loc, bits, ir.i32(16)),
      ir.i32(0x40));
  Value isNaN = ir.cmpf(arith::CmpFPredicate::UNO, x, x);
  return arith::TruncIOp::create(b, ir.loc, b.getI16Type(),
                                 ir.select(isNaN, quiet, rounded));
}
