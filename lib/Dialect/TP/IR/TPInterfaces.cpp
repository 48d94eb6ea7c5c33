//===- TPInterfaces.cpp - tp dialect op interfaces ------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/TPInterfaces.h"

using namespace mlir;
using namespace mlir::tp;

#include "muir/Dialect/TP/IR/TPInterfaces.cpp.inc"
