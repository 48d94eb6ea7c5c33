//===- Passes.h - tp dialect passes -----------------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_TRANSFORMS_PASSES_H
#define MUIR_DIALECT_TP_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "muir/Dialect/TP/IR/TPOps.h"

namespace mlir::tp {

#define GEN_PASS_DECL
#include "muir/Dialect/TP/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "muir/Dialect/TP/Transforms/Passes.h.inc"

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_TRANSFORMS_PASSES_H
