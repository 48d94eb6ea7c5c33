//===- muir-opt.cpp - muir's optimizer driver -----------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "muir/InitAll.h"

int main(int argc, char **argv) {
  muir::registerAllPasses();
  mlir::DialectRegistry registry;
  muir::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "muir optimizer driver: verifies, transforms and prints tp programs\n",
      registry));
}
