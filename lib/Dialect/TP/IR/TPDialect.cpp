//===- TPDialect.cpp - tp dialect registration ----------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/TPDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tp;

#include "muir/Dialect/TP/IR/TPOpsDialect.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "muir/Dialect/TP/IR/TPAttrs.cpp.inc"

void TPDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "muir/Dialect/TP/IR/TPOps.cpp.inc"
      >();
}

void TPDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "muir/Dialect/TP/IR/TPAttrs.cpp.inc"
      >();
}
