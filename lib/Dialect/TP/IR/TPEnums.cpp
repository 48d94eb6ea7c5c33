//===- TPEnums.cpp - The enums of the tp dialect and its passes -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/TPEnums.h"
#include "llvm/ADT/StringSwitch.h"

#include "muir/Dialect/TP/IR/TPEnums.cpp.inc"
