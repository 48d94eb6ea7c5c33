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
#include "muir/Dialect/TP/Utils/Report.h"
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
    "import (cards or .mlir) -> tp-parametrize -> tp-instantiate -> report");

static cl::SubCommand packageCmd(
    "package",
    "Compile a model into a kernel package (same options as report): "
    "manifest.json, muir_package.h and libmuir_kernels.so in -o DIR");

static cl::OptionCategory modelCat("Model (a card pair or a .mlir file)");
static cl::OptionCategory ruleCat("Scheme");
static cl::OptionCategory hpCat(
    "Base hyperparameters (tuned on the base model; each tensor's value is "
    "this times its scaling rule)");
static cl::OptionCategory
    runCat("Batch size and training duration (only their ratios count)");
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

static cl::opt<tp::Scheme>
    scheme("scheme", cl::init(tp::Scheme::completep),
           cl::desc("parametrisation: sp, sp-pytorch, mup, mup-table8, "
                    "mup-table9, depth-mup, completep or completedp (default "
                    "completep)"),
           cl::value_desc("name"), cl::sub(reportCmd), cl::sub(packageCmd),
           cl::cat(ruleCat));
static cl::opt<std::string> optimizer(
    "optimizer", cl::init("adamw"),
    cl::desc("sgd, sgd-momentum, sgd-nesterov, adam, adamw, adamw-decoupled, "
             "lion, adam-atan2, lion-a or lion-ar, with options as "
             "name:key=value,... (adamw:bias-correction1=false, lion:recipe; "
             "docs/Optimizers.md; default adamw)"),
    cl::value_desc("name[:options]"), cl::sub(reportCmd), cl::sub(packageCmd),
    cl::cat(ruleCat));
static cl::opt<std::string>
    alpha("alpha",
          cl::desc("depth exponent of the residual branch multiplier, in "
                   "[1/2, 1]: 1, 1/2 or 0.75 (default 1; 1/2 for depth-mup)"),
          cl::value_desc("rational"), cl::sub(reportCmd), cl::sub(packageCmd),
          cl::cat(ruleCat));
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
static cl::opt<std::string> multipliers(
    "multipliers",
    cl::desc("JSON file of per-module factors ({\"modules\": {glob: "
             "{quantity: factor}}}) and per-block factors ({\"depth\": "
             "{quantity: [factor per base block]}})"),
    cl::value_desc("file.json"), cl::sub(reportCmd), cl::sub(packageCmd),
    cl::cat(ruleCat));

static cl::opt<double> lr("lr", cl::init(1e-3),
                          cl::desc("learning rate (default 1e-3)"),
                          cl::value_desc("x"), cl::sub(reportCmd),
                          cl::sub(packageCmd), cl::cat(hpCat));
static cl::opt<std::string> initStd(
    "init-std", cl::init("0.02"),
    cl::desc("init std: a number for every tensor (default 0.02), or "
             "fan-in[:gain] for gain/sqrt(fan_in) per tensor at the base "
             "model"),
    cl::value_desc("std|fan-in[:gain]"), cl::sub(reportCmd),
    cl::sub(packageCmd), cl::cat(hpCat));
static cl::opt<double> weightDecay("weight-decay", cl::init(0.0),
                                   cl::desc("weight decay (default 0)"),
                                   cl::value_desc("x"), cl::sub(reportCmd),
                                   cl::sub(packageCmd), cl::cat(hpCat));
static cl::opt<double> eps("eps", cl::init(1e-8),
                           cl::desc("Adam epsilon (default 1e-8)"),
                           cl::value_desc("x"), cl::sub(reportCmd),
                           cl::sub(packageCmd), cl::cat(hpCat));
static cl::opt<double> beta1("beta1", cl::init(0.9),
                             cl::desc("Adam beta1, Lion's update interpolation "
                                      "or SGD's momentum (default 0.9)"),
                             cl::value_desc("x"), cl::sub(reportCmd),
                             cl::sub(packageCmd), cl::cat(hpCat));
static cl::opt<double> beta2("beta2", cl::init(0.999),
                             cl::desc("Adam beta2 or Lion's momentum decay "
                                      "(default 0.999)"),
                             cl::value_desc("x"), cl::sub(reportCmd),
                             cl::sub(packageCmd), cl::cat(hpCat));

static cl::opt<double>
    batch("batch", cl::init(1.0),
          cl::desc("batch size of the target run (default 1)"),
          cl::value_desc("n"), cl::sub(reportCmd), cl::sub(packageCmd),
          cl::cat(runCat));
static cl::opt<double>
    baseBatch("base-batch", cl::init(1.0),
              cl::desc("batch size of the base run (default 1)"),
              cl::value_desc("n"), cl::sub(reportCmd), cl::sub(packageCmd),
              cl::cat(runCat));
static cl::opt<double>
    tokens("tokens", cl::init(1.0),
           cl::desc("training tokens of the target run (default 1)"),
           cl::value_desc("n"), cl::sub(reportCmd), cl::sub(packageCmd),
           cl::cat(runCat));
static cl::opt<double>
    baseTokens("base-tokens", cl::init(1.0),
               cl::desc("training tokens of the base run (default 1)"),
               cl::value_desc("n"), cl::sub(reportCmd), cl::sub(packageCmd),
               cl::cat(runCat));

static cl::opt<tp::ReportFormat>
    format("format", cl::init(tp::ReportFormat::table),
           cl::desc("table, markdown, json or csv (default table)"),
           cl::value_desc("name"), cl::sub(reportCmd), cl::cat(outCat));
static cl::opt<std::string> output("o", cl::init("-"),
                                   cl::desc("output file (default: stdout)"),
                                   cl::value_desc("file"), cl::sub(reportCmd),
                                   cl::cat(outCat));

static cl::opt<std::string> packageDir(
    "o", cl::Required,
    cl::desc("package directory: manifest.json, muir_package.h, "
             "libmuir_kernels.so (and kernels.ptx, cubins with --gpu)"),
    cl::value_desc("dir"), cl::sub(packageCmd), cl::cat(outCat));
static cl::opt<int64_t>
    alignment("alignment", cl::init(64),
              cl::desc("start of every tensor in the flat buffers, in bytes: a "
                       "multiple of 16 (default 64, a cache line)"),
              cl::value_desc("bytes"), cl::sub(packageCmd), cl::cat(outCat));
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

llvm::SmallVector<const cl::OptionCategory *> muirc::jobCategories() {
  return {&modelCat, &ruleCat, &hpCat, &runCat, &outCat};
}

static tp::TPParametrizeOptions parametrizeOptions() {
  tp::TPParametrizeOptions rules;
  rules.scheme = scheme;
  rules.optimizer = optimizer;
  rules.alpha = alpha;
  rules.unscaledEps = unscaledEps;
  rules.allowDepthWithoutResidual = allowDepthWithoutResidual;
  return rules;
}

static tp::TPInstantiateOptions instantiateOptions() {
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
  return values;
}

static tp::PackageOptions packageOptions() {
  tp::PackageOptions options;
  options.cpu = cpu;
  options.gpu = noGpu   ? tp::PackageOptions::GPU::off
                : gpuOn ? tp::PackageOptions::GPU::on
                        : tp::PackageOptions::GPU::automatic;
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
  (void)tp::checkParametrizeOptions(parametrizeOptions(), report);
  (void)tp::checkInstantiateOptions(instantiateOptions(), report);
  if (packageCmd) {
    // An empty -o would write the package over the working directory.
    if (packageDir.empty())
      report("o", "must name the package directory, got ''");
    (void)tp::checkAssignLayoutOptions({alignment}, report);
    (void)tp::checkPackageOptions(packageOptions(), report);
    if (gpuOn && noGpu)
      report("gpu", "and --no-gpu contradict each other; give one of them");
  }
  // The file alone; whether its patterns match is known once the model is.
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

/// Adds tp-parametrize and tp-instantiate with the command line's options.
static void addParametrization(OpPassManager &models) {
  models.addPass(tp::createTPParametrize(parametrizeOptions()));
  models.addPass(tp::createTPInstantiate(instantiateOptions()));
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
    ok &= succeeded(tp::printReport(model, format, out->os()));
  });
  if (!any) {
    llvm::errs() << "muirc: no tp.model to report on\n";
    return 1;
  }
  out->keep();
  return ok ? 0 : 1;
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
  OpPassManager &models = pm.nest<tp::ModelOp>();
  addParametrization(models);
  tp::TPAssignLayoutOptions layout;
  layout.alignment = alignment;
  models.addPass(tp::createTPAssignLayout(layout));
  if (failed(pm.run(*module)))
    return 1;
  if (failed(tp::writePackage(*module, packageDir, packageOptions())))
    return 1;
  llvm::outs() << "muirc: wrote package " << packageDir << "\n";
  return 0;
}
