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
//   muirc import --torch graph.json [--binding binding.json] [-o out.mlir]
//                                           a traced PyTorch model (muir.torch)
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
#include "muir/Import/TorchGraph.h"
#include "muir/InitAll.h"
#include "muir/Support/InputGuard.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
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
                        "model card, or import a PyTorch model traced by "
                        "muir.torch, and print its verified tp IR");
static cl::opt<std::string> importCard(
    "card",
    cl::desc("JSON model card of the target model (mlp, gpt or llama; "
             "examples/cards/; - reads stdin)"),
    cl::value_desc("target.json"), cl::sub(importCmd), cl::cat(importCat));
static cl::opt<std::string> importBaseCard(
    "base-card",
    cl::desc("JSON model card of the base model (default: the target "
             "itself)"),
    cl::value_desc("base.json"), cl::sub(importCmd), cl::cat(importCat));
static cl::opt<std::string> importTorch(
    "torch",
    cl::desc("a PyTorch model traced at the target and the base size by "
             "muir.torch (instead of --card)"),
    cl::value_desc("graph.json"), cl::sub(importCmd), cl::cat(importCat));
static cl::opt<std::string> importBinding(
    "binding",
    cl::desc("with --torch: also write how the model's parameters and calls "
             "map to the imported program (read by muir.torch)"),
    cl::value_desc("binding.json"), cl::sub(importCmd), cl::cat(importCat));
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
  bool any = false;
  bool ok = succeeded(tp::printParamTables(*module, llvm::outs(), &any));
  if (!any) {
    llvm::errs() << "muirc: " << summaryInput << ": no tp.model found\n";
    return 1;
  }
  return ok ? 0 : 1;
}

/// Prints every error of `error`, one line each (the card reader reports
/// all its problems at once).
static int reportErrors(llvm::Error error) {
  llvm::handleAllErrors(std::move(error), [](const llvm::ErrorInfoBase &e) {
    llvm::errs() << "muirc: " << e.message() << "\n";
  });
  return 1;
}

static int runImport(MLIRContext &context) {
  if (importCard.empty() == importTorch.empty()) {
    llvm::errs() << "muirc: import needs a model: --card target.json "
                    "[--base-card base.json] or --torch graph.json\n";
    return 1;
  }
  if (!importTorch.empty() && !importBaseCard.empty()) {
    llvm::errs() << "muirc: --base-card goes with --card; a torch graph "
                    "holds the base model's trace itself\n";
    return 1;
  }
  if (!importBinding.empty() && importTorch.empty()) {
    llvm::errs() << "muirc: --binding goes with --torch\n";
    return 1;
  }
  OwningOpRef<ModuleOp> module;
  llvm::json::Value binding = nullptr;
  if (!importTorch.empty()) {
    llvm::Expected<muir::TorchImport> imported =
        muir::importTorchGraph(importTorch, context);
    if (!imported)
      return reportErrors(imported.takeError());
    module = std::move(imported->module);
    binding = std::move(imported->binding);
  } else {
    llvm::Expected<OwningOpRef<ModuleOp>> carded =
        muir::importModelCard(importCard, importBaseCard, context);
    if (!carded)
      return reportErrors(carded.takeError());
    module = std::move(*carded);
  }
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(importOutput, &error);
  std::unique_ptr<llvm::ToolOutputFile> bindingOutput;
  if (output && !importBinding.empty())
    bindingOutput = openOutputFile(importBinding, &error);
  if (!output || (!importBinding.empty() && !bindingOutput)) {
    llvm::errs() << "muirc: " << error << "\n";
    return 1;
  }
  module->print(output->os());
  output->os() << "\n";
  if (bindingOutput) {
    bindingOutput->os() << llvm::formatv("{0:2}", binding) << "\n";
    bindingOutput->keep();
  }
  output->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  // --help lists muirc's own options; LLVM's and MLIR's internal ones (a few
  // hundred) still parse, unlisted.
  muirc::registerPipelineFlags();
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
      "  muirc import --torch graph.json [--binding binding.json] [-o out]\n"
      "      import a PyTorch model traced by muir.torch\n"
      "  muirc report (--card t.json [--base-card b.json] | model.mlir)\n"
      "        [--scheme S --optimizer O --alpha A --lr ... --format F]\n"
      "      parametrize, instantiate and print every weight's scaling\n"
      "  muirc package (the model and options of report, but --format)\n"
      "        [--precision P --alignment B --cpu NAME --no-gpu] -o DIR\n"
      "      write the kernel package: manifest, header, CPU library (and\n"
      "      PTX and cubins where ptxas is found)\n");
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
