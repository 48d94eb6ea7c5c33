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

namespace mlir::tp {

/// How many quantities there are: the size of an array indexed by Quantity
/// (ScalingAttr::get, ValuesAttr::get).
constexpr size_t kNumQuantities = getMaxEnumValForQuantity() + 1;

/// Parameter parsers and printers of the attributes (TPAttrs.td).
/// `-1/2`, `3`: an integer, optionally over a positive one.
FailureOr<Rational> parseRational(AsmParser &parser);
/// A float or integer literal, as an f64.
FailureOr<llvm::APFloat> parseF64(AsmParser &parser);
/// `[v, ...]`, each value printed so that it reads back exactly.
FailureOr<DenseF64ArrayAttr> parseF64Array(AsmParser &parser);
void printF64Array(AsmPrinter &printer, DenseF64ArrayAttr values);
/// `true` or `false`.
FailureOr<bool> parseBool(AsmParser &parser);

} // namespace mlir::tp

#define GET_ATTRDEF_CLASSES
#include "muir/Dialect/TP/IR/TPAttrs.h.inc"

#endif // MUIR_DIALECT_TP_IR_TPATTRS_H
