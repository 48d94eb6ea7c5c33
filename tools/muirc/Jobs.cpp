//===- Jobs.cpp - muirc report and package --------------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `muirc report` is the pipeline a user runs first: import a model (cards or
// .mlir), parametrize it for a scheme and optimizer, instantiate the rules
// with the base model's hyperparameters and print the report. It is the same
// as `muir-opt --tp-parametrize --tp-instantiate --tp-print-report`.
// `muirc package` takes the same options and writes the kernel package.
//
//===----------------------------------------------------------------------===//

#include "Jobs.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "muir/Conversion/Passes.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Import/ModelCard.h"
#include "muir/Parametrization/Report.h"
#include "muir/Support/InputGuard.h"
#include "muir/Target/Package.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::SubCommand reportCmd(
    "report",
    "Parametrize a model for a scheme and print every weight's scaling: "
    "import (cards or .mlir) -> tp-parametrize -> tp-instantiate -> report");

static cl::SubCommand packageCmd(
    "package",
    "Compile a model into a kernel package (same options as report): "
    "manifest.json, muir_package.h and libmuir_kernels.so in -o DIR");

static cl::OptionCategory modelCat("Model (a card pair or a .mlir file)");
static cl::OptionCategory ruleCat("Scheme");
static cl::OptionCategory hpCat("Base hyperparameters (tuned on the base)");
static cl::OptionCategory runCat("Batch size and training duration");

static cl::opt<std::string> input(cl::Positional, cl::desc("[model.mlir]"),
                                  cl::sub(reportCmd), cl::sub(packageCmd),
                                  cl::cat(modelCat));
static cl::opt<std::string> card("card", cl::desc("the target model's card"),
                                 cl::value_desc("target.json"),
                                 cl::sub(reportCmd), cl::sub(packageCmd),
                                 cl::cat(modelCat));
static cl::opt<std::string>
    baseCard("base-card", cl::desc("the base model's card (default: target)"),
             cl::value_desc("base.json"), cl::sub(reportCmd),
             cl::sub(packageCmd), cl::cat(modelCat));

static cl::opt<std::string>
    scheme("scheme", cl::init("completep"),
           cl::desc("sp | sp-pytorch | mup | mup-table8 | mup-table9 | "
                    "depth-mup | completep | completedp"),
           cl::sub(reportCmd), cl::sub(packageCmd), cl::cat(ruleCat));
static cl::opt<std::string> optimizer(
    "optimizer", cl::init("adamw"),
    cl::desc(
        "sgd | sgd-momentum | sgd-nesterov | adam | adamw | adamw-decoupled | "
        "lion | adam-atan2"),
    cl::sub(reportCmd), cl::sub(packageCmd), cl::cat(ruleCat));
static cl::opt<std::string>
    alpha("alpha",
          cl::desc("residual branch exponent in [1/2, 1] (1, 1/2, 0.75)"),
          cl::sub(reportCmd), cl::sub(packageCmd), cl::cat(ruleCat));
static cl::opt<bool> unscaledEps(
    "unscaled-eps",
    cl::desc("keep Adam's eps at its base value for every parameter "
             "(microsoft/mup) instead of scaling it with the gradient"),
    cl::sub(reportCmd), cl::sub(packageCmd), cl::cat(ruleCat));
static cl::opt<bool> allowDepthWithoutResidual(
    "allow-depth-without-residual",
    cl::desc("a depth scheme on blocks without tp.residual whose depth grows "
             "is a warning, not an error"),
    cl::sub(reportCmd), cl::sub(packageCmd), cl::cat(ruleCat));
static cl::opt<std::string>
    multipliers("multipliers",
                cl::desc("per-module/per-depth multipliers (JSON)"),
                cl::value_desc("file.json"), cl::sub(reportCmd),
                cl::sub(packageCmd), cl::cat(ruleCat));

static cl::opt<double> lr("lr", cl::init(1e-3), cl::desc("learning rate"),
                          cl::sub(reportCmd), cl::sub(packageCmd),
                          cl::cat(hpCat));
static cl::opt<std::string>
    initStd("init-std", cl::init("0.02"),
            cl::desc("init std: a number for every tensor, or fan-in[:gain] "
                     "for gain/sqrt(fan_in) per tensor at the base model"),
            cl::value_desc("std|fan-in[:gain]"), cl::sub(reportCmd),
            cl::sub(packageCmd), cl::cat(hpCat));
static cl::opt<double> weightDecay("weight-decay", cl::init(0.0),
                                   cl::desc("weight decay"), cl::sub(reportCmd),
                                   cl::sub(packageCmd), cl::cat(hpCat));
static cl::opt<double> eps("eps", cl::init(1e-8), cl::desc("Adam epsilon"),
                           cl::sub(reportCmd), cl::sub(packageCmd),
                           cl::cat(hpCat));
static cl::opt<double> beta1("beta1", cl::init(0.9), cl::desc("beta1"),
                             cl::sub(reportCmd), cl::sub(packageCmd),
                             cl::cat(hpCat));
static cl::opt<double> beta2("beta2", cl::init(0.999), cl::desc("beta2"),
                             cl::sub(reportCmd), cl::sub(packageCmd),
                             cl::cat(hpCat));

static cl::opt<double> batch("batch", cl::init(1.0),
                             cl::desc("batch size of the target run"),
                             cl::sub(reportCmd), cl::sub(packageCmd),
                             cl::cat(runCat));
static cl::opt<double> baseBatch("base-batch", cl::init(1.0),
                                 cl::desc("batch size of the base run"),
                                 cl::sub(reportCmd), cl::sub(packageCmd),
                                 cl::cat(runCat));
static cl::opt<double> tokens("tokens", cl::init(1.0),
                              cl::desc("training tokens of the target run"),
                              cl::sub(reportCmd), cl::sub(packageCmd),
                              cl::cat(runCat));
static cl::opt<double> baseTokens("base-tokens", cl::init(1.0),
                                  cl::desc("training tokens of the base run"),
                                  cl::sub(reportCmd), cl::sub(packageCmd),
                                  cl::cat(runCat));

static cl::opt<std::string> format("format", cl::init("table"),
                                   cl::desc("table | markdown | json | csv"),
                                   cl::sub(reportCmd));
static cl::opt<std::string> output("o", cl::init("-"), cl::desc("output file"),
                                   cl::value_desc("file"), cl::sub(reportCmd));

static cl::opt<std::string> packageDir("o", cl::Required,
                                       cl::desc("package directory"),
                                       cl::value_desc("dir"),
                                       cl::sub(packageCmd));
static cl::opt<int64_t> alignment("alignment", cl::init(64),
                                  cl::desc("tensor alignment in bytes"),
                                  cl::sub(packageCmd));
static cl::opt<std::string>
    cpu("cpu", cl::init("native"),
        cl::desc("CPU the kernels are compiled for (native, x86-64-v3, ...)"),
        cl::sub(packageCmd));

static cl::opt<bool>
    gpuOn("gpu",
          cl::desc("CUDA kernels (kernels.ptx, sm_80 and sm_90 cubins by "
                   "ptxas from $CUDA_HOME/bin or PATH): required, an error "
                   "without ptxas (default: built where ptxas is found)"),
          cl::sub(packageCmd));
static cl::opt<bool> noGpu("no-gpu", cl::desc("CPU kernels only"),
                           cl::sub(packageCmd));

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

/// Adds tp-parametrize and tp-instantiate with the command line's options.
static void addParametrization(OpPassManager &models) {
  tp::TPParametrizeOptions rules;
  rules.scheme = scheme;
  rules.optimizer = optimizer;
  rules.alpha = alpha;
  rules.unscaledEps = unscaledEps;
  rules.allowDepthWithoutResidual = allowDepthWithoutResidual;
  models.addPass(tp::createTPParametrize(rules));
  tp::TPInstantiateOptions values;
  values.lr = lr;
  values.initStd = initStd;
  values.weightDecay = weightDecay;
  values.eps = eps;
  values.beta1 = beta1;
  values.beta2 = beta2;
  values.batch = batch;
  values.baseBatch = baseBatch;
  values.tokens = tokens;
  values.baseTokens = baseTokens;
  values.multipliers = multipliers;
  models.addPass(tp::createTPInstantiate(values));
}

int muirc::runReport(MLIRContext &context) {
  std::optional<tp::ReportFormat> fmt = tp::parseReportFormat(format);
  if (!fmt) {
    llvm::errs() << "muirc: unknown --format '" << format
                 << "'; expected table, markdown, json or csv\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  context.printOpOnDiagnostic(false);
  OwningOpRef<ModuleOp> module = loadModel(context, sourceMgr);
  if (!module)
    return 1;
  PassManager pm(&context);
  addParametrization(pm.nest<tp::ModelOp>());
  if (failed(pm.run(*module)))
    return 1;

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(output, &error);
  if (!out) {
    llvm::errs() << "muirc: " << error << "\n";
    return 1;
  }
  bool any = false, ok = true;
  module->walk([&](tp::ModelOp model) {
    any = true;
    ok &= succeeded(tp::printReport(model, *fmt, out->os()));
  });
  if (!any) {
    llvm::errs() << "muirc: no tp.model to report on\n";
    return 1;
  }
  out->keep();
  return ok ? 0 : 1;
}

int muirc::runPackage(MLIRContext &context) {
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  context.printOpOnDiagnostic(false);
  OwningOpRef<ModuleOp> module = loadModel(context, sourceMgr);
  if (!module)
    return 1;
  PassManager pm(&context);
  OpPassManager &models = pm.nest<tp::ModelOp>();
  addParametrization(models);
  tp::TPAssignLayoutOptions layout;
  layout.alignment = alignment;
  models.addPass(tp::createTPAssignLayout(layout));
  if (failed(pm.run(*module)))
    return 1;
  tp::PackageOptions options;
  options.cpu = cpu;
  options.gpu = noGpu   ? tp::PackageOptions::GPU::off
                : gpuOn ? tp::PackageOptions::GPU::on
                        : tp::PackageOptions::GPU::automatic;
  if (failed(tp::writePackage(*module, packageDir, options)))
    return 1;
  llvm::outs() << "muirc: wrote package " << packageDir << "\n";
  return 0;
}
