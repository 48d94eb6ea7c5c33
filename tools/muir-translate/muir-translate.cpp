//===- muir-translate.cpp - muir's translation driver ---------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Translations out of MLIR. Today: the parameter table of every tp.model
// (the PTX and the package are written by `muirc package`).
//
// The translation is registered on the raw source (TranslateRegistration)
// rather than on parsed IR, so that the input guard that muir-opt and muirc
// run (muir/Support/InputGuard.h) sees the text before MLIR's parser does.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "muir/Dialect/TP/IR/TPDialect.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "muir/Support/InputGuard.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

/// The parameter table of every tp.model in the main buffer of `sourceMgr`.
static LogicalResult
printParamTables(const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
                 llvm::raw_ostream &os, MLIRContext *context) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
  if (failed(muir::checkInput(*buffer, llvm::errs())))
    return failure();
  context->loadDialect<tp::TPDialect>();
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(*sourceMgr, context);
  if (!module)
    return failure();
  return tp::printParamTables(*module, os);
}

int main(int argc, char **argv) {
  TranslateRegistration paramTable(
      "tp-to-param-table", "print the parameter table of every tp.model",
      printParamTables);
  return failed(mlirTranslateMain(argc, argv, "muir translation driver\n"));
}
