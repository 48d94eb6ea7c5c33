//===- ParamTable.h - The parameters of a tp.model as a table ---*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_UTILS_PARAMTABLE_H
#define MUIR_DIALECT_TP_UTILS_PARAMTABLE_H

#include "muir/Dialect/TP/IR/TPOps.h"
#include "llvm/Support/raw_ostream.h"
#include <string>
#include <vector>

namespace mlir::tp {

/// One parameter of a verified model, with its sizes resolved.
struct ParamInfo {
  ParamOp op;
  std::string name;
  std::vector<std::string> dims;
  std::vector<int64_t> baseShape, shape;
  /// Number of copies: the depth (target size) for repeated parameters.
  int64_t copies = 1, baseCopies = 1;
  /// Elements over all copies, in the base model and in this model; zero
  /// for a tied parameter (it owns no storage).
  int64_t baseNumel = 0, numel = 0;
  std::string init;
};

/// Collects the parameters of `model` in program order. Fails (with a
/// diagnostic) when a size cannot be resolved; a verified model never does.
FailureOr<std::vector<ParamInfo>> collectParams(ModelOp model);

/// Prints the parameter table of every tp.model in `root`, in program order,
/// each followed by its totals: the one entry point of `muirc summary`,
/// `tp-print-params` and `muir-translate --tp-to-param-table`. Fails (with
/// a diagnostic) when a table cannot be built; the other tables still
/// print. Sets `found` to whether there was a model.
LogicalResult printParamTables(Operation *root, llvm::raw_ostream &os,
                               bool *found = nullptr);

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_UTILS_PARAMTABLE_H
