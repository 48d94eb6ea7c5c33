//===- TPDialect.h - The tp dialect -----------------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPDIALECT_H
#define MUIR_DIALECT_TP_IR_TPDIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Operation.h"
#include "muir/Dialect/TP/IR/TPAttrs.h"

#include "muir/Dialect/TP/IR/TPOpsDialect.h.inc"

namespace mlir::tp {

/// The tp dialect loaded in `op`'s context, for the helpers of the typed
/// annotations: `tpDialect(op).getLayoutAttrHelper().getAttr(op)`.
inline TPDialect &tpDialect(Operation *op) {
  return *op->getContext()->getLoadedDialect<TPDialect>();
}

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_IR_TPDIALECT_H
