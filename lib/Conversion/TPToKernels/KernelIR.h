//===- KernelIR.h - Building the scalar IR of the kernels -------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Shorthands for the arith/scf IR that every kernel builder emits. No
// floating-point op carries fast-math flags: every target rounds IEEE add,
// mul, div and sqrt the same way, which is what makes the CPU and GPU
// kernels compute the same bits (docs/Lowering.md, "Numerics").
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELIR_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELIR_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::tp {

/// Builds constants, arithmetic and loops at one location.
struct KernelIR {
  OpBuilder &b;
  Location loc;
  /// 0: the floating-point constants and conversions below are scalars;
  /// else vectors of this many lanes (the CPU's LionAR unit sums run a
  /// rule's element code on 4 elements at once).
  int64_t lanes = 0;

  /// `t`, or a vector of `lanes` of it.
  Type shaped(Type t) const {
    return lanes ? Type(VectorType::get({lanes}, t)) : t;
  }
  Value constant(FloatAttr v) {
    if (!lanes)
      return arith::ConstantOp::create(b, loc, v);
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(VectorType::get({lanes}, v.getType()),
                               Attribute(v)));
  }

  /// `v` rounded once to f32.
  Value f32(double v) { return constant(b.getF32FloatAttr(float(v))); }
  Value f64(double v) { return constant(b.getF64FloatAttr(v)); }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }

  Value addf(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value divf(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value sqrt(Value x) { return math::SqrtOp::create(b, loc, x); }
  /// An f64 value rounded once to f32 (round to nearest even).
  Value toF32(Value x) {
    return arith::TruncFOp::create(b, loc, shaped(b.getF32Type()), x);
  }
  Value toF64(Value x) {
    return arith::ExtFOp::create(b, loc, shaped(b.getF64Type()), x);
  }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }

  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value subi(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value muli(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mini(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxi(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  /// An integer or index value as `type` (index casts are signed).
  Value cast(Type type, Value x) {
    if (x.getType() == type)
      return x;
    if (type.isIndex() || x.getType().isIndex())
      return arith::IndexCastOp::create(b, loc, type, x);
    if (type.getIntOrFloatBitWidth() < x.getType().getIntOrFloatBitWidth())
      return arith::TruncIOp::create(b, loc, type, x);
    return arith::ExtSIOp::create(b, loc, type, x);
  }

  /// Loops `body(i)` over [lo, hi) (index values) with step 1 or `step`.
  void loop(Value lo, Value hi, function_ref<void(Value)> body) {
    loop(lo, hi, idx(1), body);
  }
  void loop(Value lo, Value hi, Value step, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lo, hi, step);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }
  /// ... carrying `init`: `body(i, args)` returns the next values; returns
  /// the final ones.
  SmallVector<Value>
  loop(Value lo, Value hi, Value step, ValueRange init,
       function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(b, loc, lo, hi, step, init);
    OpBuilder::InsertionGuard guard(b);
    if (init.empty()) // the builder added an empty scf.yield
      b.setInsertionPoint(forOp.getBody()->getTerminator());
    else
      b.setInsertionPointToStart(forOp.getBody());
    SmallVector<Value> next =
        body(forOp.getInductionVar(), forOp.getRegionIterArgs());
    if (!init.empty())
      scf::YieldOp::create(b, loc, next);
    return forOp.getResults();
  }
};

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELIR_H
