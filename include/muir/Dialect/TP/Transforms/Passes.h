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

/// Receives a bad option: its name as the pass and muirc spell it (`lr`,
/// `init-std`) and what is wrong, worded to follow the name ("must be
/// positive, got 0").
using OptionErrorFn = llvm::function_ref<void(llvm::StringRef option,
                                              const llvm::Twine &problem)>;

/// Checks tp-parametrize's options (a known scheme and optimizer, alpha a
/// rational in [1/2, 1]); reports each bad one. muirc checks its flags with
/// the same function before it reads the model.
LogicalResult checkParametrizeOptions(const TPParametrizeOptions &options,
                                      OptionErrorFn report);

/// Checks tp-instantiate's base hyperparameters and run sizes: each finite
/// and in float32 range (a nonzero value no smaller than float32's smallest
/// normal, so the kernels' constant is not flushed to zero), lr positive,
/// the betas in [0, 1), batch and tokens positive; reports each bad one.
LogicalResult checkInstantiateOptions(const TPInstantiateOptions &options,
                                      OptionErrorFn report);

/// Checks tp-assign-layout's options (the alignment a positive multiple of
/// 16 bytes); reports each bad one.
LogicalResult checkAssignLayoutOptions(const TPAssignLayoutOptions &options,
                                       OptionErrorFn report);

/// tp-print-report writing to `os` instead of stdout (muirc report writes
/// the report to its -o file).
std::unique_ptr<Pass> createTPPrintReport(const TPPrintReportOptions &options,
                                          llvm::raw_ostream &os);

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_TRANSFORMS_PASSES_H
