//===- muirc.cpp - The muir compiler driver -------------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The user-facing driver. Each job is a subcommand:
//
//   muirc summary model.mlir [--print-ir]   verify, print the parameter table
//
// Later jobs (report, package) chain the same parse/verify front end with
// the parametrisation and kernel pipelines.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "muir/InitAll.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::SubCommand
    summaryCmd("summary",
               "Verify a tp program and print the parameters of each model");
static cl::opt<std::string> summaryInput(cl::Positional, cl::Required,
                                         cl::desc("<model.mlir>"),
                                         cl::sub(summaryCmd));
static cl::opt<bool>
    summaryPrintIR("print-ir",
                   cl::desc("Also print the verified IR before the table"),
                   cl::sub(summaryCmd));

/// Parses and verifies `path`; diagnostics go to stderr with locations.
static OwningOpRef<ModuleOp> load(MLIRContext &context, StringRef path) {
  llvm::SourceMgr sourceMgr;
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file) {
    llvm::errs() << "muirc: " << error << "\n";
    return {};
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  return parseSourceFile<ModuleOp>(sourceMgr, &context);
}

static int runSummary(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = load(context, summaryInput);
  if (!module)
    return 1;
  if (summaryPrintIR) {
    module->print(llvm::outs());
    llvm::outs() << "\n";
  }
  bool any = false, ok = true;
  module->walk([&](tp::ModelOp model) {
    any = true;
    ok &= succeeded(tp::printParamTable(model, llvm::outs()));
  });
  if (!any) {
    llvm::errs() << "muirc: " << summaryInput << ": no tp.model found\n";
    return 1;
  }
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "muir compiler driver\n\n"
      "  muirc summary model.mlir [--print-ir]\n"
      "      verify a tp program and print the parameters of each model\n");
  DialectRegistry registry;
  muir::registerAllDialects(registry);
  MLIRContext context(registry);
  if (summaryCmd)
    return runSummary(context);
  llvm::errs() << "muirc: no subcommand given; see 'muirc --help'\n";
  return 1;
}
