//===- Jobs.h - muirc report and package ------------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_TOOLS_MUIRC_JOBS_H
#define MUIR_TOOLS_MUIRC_JOBS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"

namespace muirc {

/// Parses and verifies `path` into `sourceMgr`; the caller's handler for
/// `sourceMgr` prints diagnostics, then and later, as file:line:col.
mlir::OwningOpRef<mlir::ModuleOp> loadFile(mlir::MLIRContext &context,
                                           llvm::StringRef path,
                                           llvm::SourceMgr &sourceMgr);

/// Adds the report and package pipelines' options (Pipelines.h) to the
/// flags of `muirc report` and `muirc package`; before the command line is
/// parsed.
void registerPipelineFlags();

/// The option categories of report and package, for `--help`.
llvm::SmallVector<const llvm::cl::OptionCategory *> jobCategories();

/// True when the command line selected `muirc report`.
bool reportSelected();

/// import (card or .mlir) -> tp-report-pipeline, the report to -o.
int runReport(mlir::MLIRContext &context);

/// True when the command line selected `muirc package`.
bool packageSelected();

/// import (card or .mlir) -> tp-package-pipeline -> the package writer.
int runPackage(mlir::MLIRContext &context);

} // namespace muirc

#endif // MUIR_TOOLS_MUIRC_JOBS_H
