//===- Optimizers.h - The optimizers a package can carry --------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The list lives in the package ABI (MUIR_OPTIMIZERS in package_abi.h), so
// that the compiler, the package writer and the C runtime agree on names,
// codes and state counts; the step rule of each family (per-step scalars and
// per-element update) is in lib/Conversion/TPToKernels/StepRules.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_CONVERSION_OPTIMIZERS_H
#define MUIR_CONVERSION_OPTIMIZERS_H

#include "muir/Dialect/TP/IR/TPEnums.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <string>

namespace mlir::tp {

/// One optimizer of package_abi.h's MUIR_OPTIMIZERS.
struct OptimizerInfo {
  /// As in the IR's tp.parametrization and muirc's --optimizer.
  llvm::StringRef name;
  /// muir_optimizer_t.
  int32_t abiCode;
  /// State buffers besides params and grads (AdamW: m and v).
  int32_t numStates;
};

/// Every optimizer with a step kernel, by family.
llvm::ArrayRef<OptimizerInfo> optimizers();

/// The entry of `optimizer` (every Optimizer of TPEnums.td has one: a
/// static check in StepRules.cpp).
const OptimizerInfo &lookupOptimizer(Optimizer optimizer);

} // namespace mlir::tp

#endif // MUIR_CONVERSION_OPTIMIZERS_H
