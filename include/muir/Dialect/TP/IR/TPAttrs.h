//===- TPAttrs.h - tp dialect attributes ------------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPATTRS_H
#define MUIR_DIALECT_TP_IR_TPATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "muir/Dialect/TP/IR/Rational.h"
#include <limits>

#include "muir/Dialect/TP/IR/TPEnums.h"

#define GET_ATTRDEF_CLASSES
#include "muir/Dialect/TP/IR/TPAttrs.h.inc"

#endif // MUIR_DIALECT_TP_IR_TPATTRS_H
