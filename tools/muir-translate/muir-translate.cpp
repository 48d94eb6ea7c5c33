//===- muir-translate.cpp - muir's translation driver ---------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Translations out of MLIR. Today: the parameter table of every tp.model.
// The PTX and package emitters register here as they land.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "muir/Dialect/TP/IR/TPDialect.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"

using namespace mlir;

int main(int argc, char **argv) {
  TranslateFromMLIRRegistration paramTable(
      "tp-to-param-table", "print the parameter table of every tp.model",
      [](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        LogicalResult result = success();
        op->walk([&](tp::ModelOp model) {
          if (failed(tp::printParamTable(model, os)))
            result = failure();
        });
        return result;
      },
      [](DialectRegistry &registry) { registry.insert<tp::TPDialect>(); });
  return failed(mlirTranslateMain(argc, argv, "muir translation driver\n"));
}
