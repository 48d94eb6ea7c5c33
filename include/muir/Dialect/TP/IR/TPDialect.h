//===- TPDialect.h - The tp dialect -----------------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPDIALECT_H
#define MUIR_DIALECT_TP_IR_TPDIALECT_H

#include "mlir/IR/Dialect.h"

#include "muir/Dialect/TP/IR/TPOpsDialect.h.inc"

#endif // MUIR_DIALECT_TP_IR_TPDIALECT_H
