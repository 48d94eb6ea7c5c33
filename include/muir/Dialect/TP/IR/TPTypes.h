//===- TPTypes.h - tp dialect types -----------------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPTYPES_H
#define MUIR_DIALECT_TP_IR_TPTYPES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "muir/Dialect/TP/IR/TPOpsTypes.h.inc"

#endif // MUIR_DIALECT_TP_IR_TPTYPES_H
