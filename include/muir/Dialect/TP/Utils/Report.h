//===- Report.h - The parametrisation report of a model ---------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_UTILS_REPORT_H
#define MUIR_DIALECT_TP_UTILS_REPORT_H

#include "muir/Dialect/TP/IR/TPEnums.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"
#include <optional>

namespace mlir::tp {

/// The report of a model that went through tp-parametrize and
/// tp-instantiate: the scheme, ratios, base hyperparameters, forward
/// multipliers and, per parameter, role, shapes, instantiated values and
/// exponents, as the JSON that `--format json` prints and the package's
/// manifest holds under `report`. Fails with a diagnostic on a model that
/// was not instantiated.
FailureOr<llvm::json::Value> getReportJson(ModelOp model);

/// Writes the report of `model` in `format`: `json` prints getReportJson's
/// value, `table`, `markdown` and `csv` the same data for people and
/// spreadsheets. Fails as getReportJson does.
LogicalResult printReport(ModelOp model, ReportFormat format,
                          llvm::raw_ostream &os);

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_UTILS_REPORT_H
