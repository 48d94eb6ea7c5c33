//===- PrintReport.cpp - Print the parametrisation report -----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Dialect/TP/Utils/Report.h"

namespace mlir::tp {
#define GEN_PASS_DEF_TPPRINTREPORT
#include "muir/Dialect/TP/Transforms/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

namespace {
struct TPPrintReportPass : tp::impl::TPPrintReportBase<TPPrintReportPass> {
  using Base::Base;
  TPPrintReportPass(const TPPrintReportOptions &options, llvm::raw_ostream &os)
      : Base(options), os(&os) {}

  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>())
      if (failed(printReport(model, format, *os)))
        return signalPassFailure();
    markAllAnalysesPreserved();
  }

  /// Where the report goes (a pointer, so the pass stays copyable).
  llvm::raw_ostream *os = &llvm::outs();
};
} // namespace

std::unique_ptr<Pass>
tp::createTPPrintReport(const TPPrintReportOptions &options,
                        llvm::raw_ostream &os) {
  return std::make_unique<TPPrintReportPass>(options, os);
}
