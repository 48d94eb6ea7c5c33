//===- PrintParams.cpp - Print the parameter table of a model -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"

namespace mlir::tp {
#define GEN_PASS_DEF_TPPRINTPARAMS
#include "muir/Dialect/TP/Transforms/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

namespace {
struct TPPrintParamsPass : tp::impl::TPPrintParamsBase<TPPrintParamsPass> {
  void runOnOperation() override {
    if (failed(printParamTables(getOperation(), llvm::outs())))
      return signalPassFailure();
    markAllAnalysesPreserved();
  }
};
} // namespace
