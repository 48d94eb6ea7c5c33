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
//   muirc import --card target.json [--base-card base.json] [-o out.mlir]
//                                           a model card as verified tp IR
//
//   muirc report ...                        parametrisation report (Jobs.cpp)
//   muirc package ... -o DIR                kernel package (Jobs.cpp)
//
//===----------------------------------------------------------------------===//

#include "Jobs.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "muir/Import/ModelCard.h"
#include "muir/InitAll.h"
#include "muir/Support/InputGuard.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory summaryCat("muirc summary");
static cl::OptionCategory importCat("muirc import");

static cl::SubCommand
    summaryCmd("summary",
               "Verify a tp program and print the parameters of each model");
static cl::opt<std::string> summaryInput(cl::Positional, cl::Required,
                                         cl::desc("<model.mlir>"),
                                         cl::sub(summaryCmd),
                                         cl::cat(summaryCat));
static cl::opt<bool>
    summaryPrintIR("print-ir",
                   cl::desc("also print the verified IR before the table"),
                   cl::sub(summaryCmd), cl::cat(summaryCat));

static cl::SubCommand
    importCmd("import", "Build a standard model (mlp, gpt, llama) from a JSON "
                        "model card and print its verified tp IR");
static cl::opt<std::string> importCard(
    "card", cl::Required,
    cl::desc("JSON model card of the target model (mlp, gpt or llama; "
             "examples/cards/; - reads stdin)"),
    cl::value_desc("target.json"), cl::sub(importCmd), cl::cat(importCat));
static cl::opt<std::string> importBaseCard(
    "base-card",
    cl::desc("JSON model card of the base model (default: the target "
             "itself)"),
    cl::value_desc("base.json"), cl::sub(importCmd), cl::cat(importCat));
static cl::opt<std::string>
    importOutput("o", cl::init("-"), cl::desc("output file (default: stdout)"),
                 cl::value_desc("out.mlir"), cl::sub(importCmd),
                 cl::cat(importCat));

static int runSummary(MLIRContext &context) {
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      muirc::loadFile(context, summaryInput, sourceMgr);
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

static int runImport(MLIRContext &context) {
  llvm::Expected<OwningOpRef<ModuleOp>> module =
      muir::importModelCard(importCard, importBaseCard, context);
  if (!module) {
    // One line per problem; the card reader reports them all at once.
    llvm::handleAllErrors(module.takeError(), [](const llvm::ErrorInfoBase &e) {
      llvm::errs() << "muirc: " << e.message() << "\n";
    });
    return 1;
  }
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(importOutput, &error);
  if (!output) {
    llvm::errs() << "muirc: " << error << "\n";
    return 1;
  }
  (*module)->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  // --help lists muirc's own options; LLVM's and MLIR's internal ones (a few
  // hundred) still parse, unlisted.
  SmallVector<const cl::OptionCategory *> categories = muirc::jobCategories();
  categories.append({&summaryCat, &importCat});
  cl::HideUnrelatedOptions(categories);
  for (cl::SubCommand *sub : cl::getRegisteredSubcommands())
    cl::HideUnrelatedOptions(categories, *sub);
  cl::ParseCommandLineOptions(
      argc, argv,
      "muir compiler driver\n\n"
      "  muirc summary model.mlir [--print-ir]\n"
      "      verify a tp program and print the parameters of each model\n"
      "  muirc import --card target.json [--base-card base.json] [-o out]\n"
      "      build a standard model from a JSON model card\n"
      "  muirc report (--card t.json [--base-card b.json] | model.mlir)\n"
      "        [--scheme S --optimizer O --alpha A --lr ... --format F]\n"
      "      parametrize, instantiate and print every weight's scaling\n"
      "  muirc package (same options as report) -o DIR\n"
      "      write the kernel package: manifest, header, CPU library\n");
  DialectRegistry registry;
  muir::registerAllDialects(registry);
  MLIRContext context(registry);
  if (summaryCmd)
    return runSummary(context);
  if (importCmd)
    return runImport(context);
  if (muirc::reportSelected())
    return muirc::runReport(context);
  if (muirc::packageSelected())
    return muirc::runPackage(context);
  llvm::errs() << "muirc: no subcommand given; see 'muirc --help'\n";
  return 1;
}
