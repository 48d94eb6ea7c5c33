//===- InitRules.h - Philox4x32-10 and the initial distributions -*- C++
//-*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Element i of copy c of parameter k gets the Philox4x32-10 output for
// counter (c numel + i mod 2^32, c numel + i div 2^32, k, 0) and key
// (seed mod 2^32, seed div 2^32), turned into the parameter's distribution
// with PortableMath's ln/cos/sin: the value depends only on (seed,
// parameter, element), and the CPU and GPU kernels compute the same bits
// (docs/Lowering.md, "Init").
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_INITRULES_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_INITRULES_H

#include "KernelIR.h"
#include "mlir/IR/BuiltinOps.h"
#include "muir/Dialect/TP/IR/TPAttrs.h"

namespace mlir::tp {

/// Philox4x32-10 (Salmon et al., SC'11; Random123) on four counter words
/// and two key words (i32 values, or vectors of i32 of one shape: one
/// independent call per lane).
SmallVector<Value, 4> emitPhilox(KernelIR &ir, SmallVector<Value, 4> ctr,
                                 Value k0, Value k1);

/// `func.func @muir_philox4x32_10(%ctr: memref<4xi32>, %key: memref<2xi32>,
/// %out: memref<4xi32>)` at the end of `module`, for known-answer tests.
void buildPhiloxFunction(ModuleOp module, Location loc);

/// The key words (seed mod 2^32, seed div 2^32) of an i64 seed.
std::pair<Value, Value> philoxKey(KernelIR &ir, Value seed);

/// What the init body takes from a tensor copy.
struct InitParams {
  /// index: c numel - (the copy's offset in the buffer), so that buffer
  /// element i is element i + counterBase of the parameter.
  Value counterBase;
  /// i32: the parameter's index in the model.
  Value paramIndex;
  /// f32: std, or sqrt(3) std for uniform.
  Value scale;
};

/// The factor on the unit distribution of `kind` for a tensor with
/// standard deviation `std` (the table's init scale).
double initScale(InitKind kind, double std);

/// Whether `kind` draws random numbers (and so needs InitParams).
inline bool isRandomInit(InitKind kind) {
  return kind == InitKind::normal || kind == InitKind::trunc_normal ||
         kind == InitKind::uniform;
}

/// The initial value (f32) of buffer element `i` (index) of a tensor copy.
Value emitInitValue(KernelIR &ir, InitKind kind, const InitParams &q, Value i,
                    Value k0, Value k1);

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_INITRULES_H
