//===- Jobs.cpp - muirc report and package --------------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `muirc report` is the pipeline a user runs first: import a model (cards or
// .mlir), parametrize it for a scheme and optimizer, instantiate the rules
// with the base model's hyperparameters and print the report: the pipeline
// `muir-opt --tp-report-pipeline` runs. `muirc package` runs
// `tp-package-pipeline` and writes the kernel package. The pipelines and
// their options are defined once (muir/Dialect/TP/Transforms/Pipelines.h);
// muirc declares only its own flags (the model, -o, the package target).
//
//===----------------------------------------------------------------------===//

#include "Jobs.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Transforms/Pipelines.h"
#include "muir/Import/ModelCard.h"
#include "muir/Parametrization/Multipliers.h"
#include "muir/Support/InputGuard.h"
#include "muir/Support/JSON.h"
#include "muir/Target/Package.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::SubCommand reportCmd(
    "report",
    "Parametrize a model for a scheme and print every weight's scaling: "
    "import (cards or .mlir) -> tp-report-pipeline (tp-parametrize, "
    "tp-instantiate, tp-print-report)");

static cl::SubCommand packageCmd(
    "package",
    "Compile a model into a kernel package: tp-package-pipeline "
    "(tp-parametrize, tp-instantiate, tp-assign-layout), then manifest.json, "
    "muir_package.h and libmuir_kernels.so in -o DIR");

static cl::OptionCategory modelCat("Model (a card pair or a .mlir file)");
static cl::OptionCategory
    reportPipelineCat("Report pipeline (muir-opt --tp-report-pipeline takes "
                      "the same options)");
static cl::OptionCategory
    packagePipelineCat("Package pipeline (muir-opt --tp-package-pipeline "
                       "takes the same options)");
static cl::OptionCategory outCat("Output");

static cl::opt<std::string> input(cl::Positional, cl::desc("[model.mlir]"),
                                  cl::sub(reportCmd), cl::sub(packageCmd),
                                  cl::cat(modelCat));
static cl::opt<std::string>
    card("card",
         cl::desc("JSON model card of the target model (mlp, gpt or llama; "
                  "examples/cards/), instead of a .mlir file"),
         cl::value_desc("target.json"), cl::sub(reportCmd), cl::sub(packageCmd),
         cl::cat(modelCat));
static cl::opt<std::string> baseCard(
    "base-card",
    cl::desc("JSON model card of the base model the hyperparameters were "
             "tuned on (default: the target itself)"),
    cl::value_desc("base.json"), cl::sub(reportCmd), cl::sub(packageCmd),
    cl::cat(modelCat));

/// The pipelines' options (the scheme, the optimizer, the base
/// hyperparameters, the run sizes, the report format, the alignment) are
/// declared once, in Pipelines.h; the command line parses straight into
/// these two structs (registerPipelineFlags).
static tp::ReportPipelineOptions reportOptions;
static tp::PackagePipelineOptions packageOptions;

static cl::opt<std::string> output("o", cl::init("-"),
                                   cl::desc("output file (default: stdout)"),
                                   cl::value_desc("file"), cl::sub(reportCmd),
                                   cl::cat(outCat));

static cl::opt<std::string> packageDir(
    "o", cl::Required,
    cl::desc("package directory: manifest.json, muir_package.h, "
             "libmuir_kernels.so (and kernels.ptx, cubins with --gpu)"),
    cl::value_desc("dir"), cl::sub(packageCmd), cl::cat(outCat));
static cl::opt<std::string>
    cpu("cpu", cl::init("native"),
        cl::desc("CPU the kernels are compiled for: native (this machine's, "
                 "the default), x86-64-v3, ..."),
        cl::value_desc("name"), cl::sub(packageCmd), cl::cat(outCat));

static cl::opt<bool>
    gpuOn("gpu",
          cl::desc("CUDA kernels (kernels.ptx, sm_80 and sm_90 cubins by "
                   "ptxas from $CUDA_HOME/bin or PATH): required, an error "
                   "without ptxas (default: built where ptxas is found)"),
          cl::sub(packageCmd), cl::cat(outCat));
static cl::opt<bool> noGpu("no-gpu", cl::desc("CPU kernels only"),
                           cl::sub(packageCmd), cl::cat(outCat));
static cl::opt<std::string> precision(
    "precision", cl::init("fp32"),
    cl::desc("fp32 (every buffer float32, the default) or bf16 (bfloat16 "
             "grads and params copy, float32 master weights and states, "
             "stochastic rounding; docs/Optimizers.md)"),
    cl::value_desc("fp32|bf16"), cl::sub(packageCmd), cl::cat(outCat));

void muirc::registerPipelineFlags() {
  reportOptions.addToCommandLine(reportCmd, reportPipelineCat);
  packageOptions.addToCommandLine(packageCmd, packagePipelineCat);
}

llvm::SmallVector<const cl::OptionCategory *> muirc::jobCategories() {
  return {&modelCat, &reportPipelineCat, &packagePipelineCat, &outCat};
}

/// The options of the selected job's pipeline.
static const tp::ParametrizationPipelineOptions &pipelineOptions() {
  if (packageCmd)
    return packageOptions;
  return reportOptions;
}

static tp::PackageOptions packageWriterOptions() {
  tp::PackageOptions options;
  options.cpu = cpu;
  options.gpu = noGpu   ? tp::PackageOptions::GPU::off
                : gpuOn ? tp::PackageOptions::GPU::on
                        : tp::PackageOptions::GPU::automatic;
  options.precision = precision;
  return options;
}

/// Checks every flag before the model is read, with the passes' own checks,
/// so that an error names the flag (from a pass it would point at the
/// model). Prints every problem; false if there was one.
static bool checkFlags() {
  bool ok = true;
  auto report = [&](StringRef option, const Twine &problem) {
    llvm::errs() << "muirc: " << (option.size() == 1 ? "-" : "--") << option
                 << " " << problem << "\n";
    ok = false;
  };
  if (packageCmd) {
    (void)packageOptions.check(report);
    // An empty -o would write the package over the working directory.
    if (packageDir.empty())
      report("o", "must name the package directory, got ''");
    (void)tp::checkPackageOptions(packageWriterOptions(), report);
    if (gpuOn && noGpu)
      report("gpu", "and --no-gpu contradict each other; give one of them");
  } else {
    (void)reportOptions.check(report);
  }
  // The file alone; whether its patterns match is known once the model is.
  const std::string &multipliers = pipelineOptions().multipliers;
  if (!multipliers.empty()) {
    llvm::Expected<tp::Multipliers> loaded = tp::Multipliers::load(multipliers);
    if (!loaded) {
      llvm::handleAllErrors(
          loaded.takeError(),
          [&](const muir::JSONError &e) {
            llvm::errs() << "muirc: " << e.message() << "\n";
          },
          [&](const llvm::ErrorInfoBase &e) {
            llvm::errs() << "muirc: --multipliers: " << e.message() << "\n";
          });
      ok = false;
    }
  }
  return ok;
}

OwningOpRef<ModuleOp> muirc::loadFile(MLIRContext &context, StringRef path,
                                      llvm::SourceMgr &sourceMgr) {
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file) {
    llvm::errs() << "muirc: " << error << "\n";
    return {};
  }
  if (failed(muir::checkInput(*file, llvm::errs())))
    return {};
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sourceMgr, &context);
}

bool muirc::reportSelected() { return static_cast<bool>(reportCmd); }
bool muirc::packageSelected() { return static_cast<bool>(packageCmd); }

/// The model to report on: imported from the cards or parsed from `input`.
static OwningOpRef<ModuleOp> loadModel(MLIRContext &context,
                                       llvm::SourceMgr &sourceMgr) {
  if (!card.empty() && !input.empty()) {
    llvm::errs() << "muirc: give either --card (with --base-card) or a .mlir "
                    "file, not both\n";
    return {};
  }
  if (!baseCard.empty() && card.empty()) {
    llvm::errs() << "muirc: --base-card needs --card\n";
    return {};
  }
  if (card.empty() && input.empty()) {
    llvm::errs() << "muirc: report needs a model: --card target.json "
                    "[--base-card base.json] or model.mlir\n";
    return {};
  }
  if (!card.empty()) {
    llvm::Expected<OwningOpRef<ModuleOp>> module =
        muir::importModelCard(card, baseCard, context);
    if (!module) {
      llvm::handleAllErrors(module.takeError(),
                            [](const llvm::ErrorInfoBase &e) {
                              llvm::errs() << "muirc: " << e.message() << "\n";
                            });
      return {};
    }
    return std::move(*module);
  }
  return muirc::loadFile(context, input, sourceMgr);
}

int muirc::runReport(MLIRContext &context) {
  if (!checkFlags())
    return 1;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  context.printOpOnDiagnostic(false);
  OwningOpRef<ModuleOp> module = loadModel(context, sourceMgr);
  if (!module)
    return 1;
  if (module->getOps<tp::ModelOp>().empty()) {
    llvm::errs() << "muirc: no tp.model to report on\n";
    return 1;
  }
  // The report is written to -o only once the whole pipeline succeeded, so
  // a failed run leaves an existing file as it was.
  std::string report;
  llvm::raw_string_ostream reportOs(report);
  PassManager pm(&context);
  tp::buildReportPipeline(pm, reportOptions, reportOs);
  if (failed(pm.run(*module)))
    return 1;

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(output, &error);
  if (!out) {
    llvm::errs() << "muirc: " << error << "\n";
    return 1;
  }
  out->os() << report;
  out->keep();
  return 0;
}

int muirc::runPackage(MLIRContext &context) {
  if (!checkFlags())
    return 1;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  context.printOpOnDiagnostic(false);
  OwningOpRef<ModuleOp> module = loadModel(context, sourceMgr);
  if (!module)
    return 1;
  PassManager pm(&context);
  tp::buildPackagePipeline(pm, packageOptions);
  if (failed(pm.run(*module)))
    return 1;
  if (failed(tp::writePackage(*module, packageDir, packageWriterOptions())))
    return 1;
  llvm::outs() << "muirc: wrote package " << packageDir << "\n";
  return 0;
}
