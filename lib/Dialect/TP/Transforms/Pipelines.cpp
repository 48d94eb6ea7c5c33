//===- Pipelines.cpp - The report and package pipelines -------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Transforms/Pipelines.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::tp;

TPParametrizeOptions
ParametrizationPipelineOptions::parametrizeOptions() const {
  TPParametrizeOptions options;
  options.scheme = scheme;
  options.optimizer = optimizer;
  options.alpha = alpha;
  options.unscaledEps = unscaledEps;
  options.allowDepthWithoutResidual = allowDepthWithoutResidual;
  return options;
}

TPInstantiateOptions
ParametrizationPipelineOptions::instantiateOptions() const {
  TPInstantiateOptions options;
  options.lr = lr;
  options.initStd = initStd;
  options.weightDecay = weightDecay;
  options.eps = eps;
  options.beta1 = beta1;
  options.beta2 = beta2;
  options.batch = batch;
  options.baseBatch = baseBatch;
  options.tokens = tokens;
  options.baseTokens = baseTokens;
  options.multipliers = multipliers;
  return options;
}

LogicalResult
ParametrizationPipelineOptions::check(OptionErrorFn report) const {
  // Both, so that every bad option is reported at once.
  bool rules = succeeded(checkParametrizeOptions(parametrizeOptions(), report));
  bool values =
      succeeded(checkInstantiateOptions(instantiateOptions(), report));
  return success(rules && values);
}

void ParametrizationPipelineOptions::addToCommandLine(
    llvm::cl::SubCommand &sub, llvm::cl::OptionCategory &category) {
  // Each option is registered in this struct's own subcommand (OptionsMap,
  // which parseFromString reads). Re-registering it with `sub` added keeps
  // it there and adds it to `sub`'s flags.
  SmallVector<llvm::cl::Option *> options;
  for (auto &entry : OptionsMap)
    options.push_back(entry.second);
  for (llvm::cl::Option *option : options) {
    option->removeArgument();
    option->addSubCommand(sub);
    option->addCategory(category);
    option->addArgument();
  }
}

TPAssignLayoutOptions PackagePipelineOptions::layoutOptions() const {
  TPAssignLayoutOptions options;
  options.alignment = alignment;
  return options;
}

LogicalResult PackagePipelineOptions::check(OptionErrorFn report) const {
  bool rules = succeeded(ParametrizationPipelineOptions::check(report));
  bool layout = succeeded(checkAssignLayoutOptions(layoutOptions(), report));
  return success(rules && layout);
}

/// tp-parametrize and tp-instantiate on each tp.model.
static OpPassManager &
addParametrization(OpPassManager &pm,
                   const ParametrizationPipelineOptions &options) {
  OpPassManager &models = pm.nest<ModelOp>();
  models.addPass(createTPParametrize(options.parametrizeOptions()));
  models.addPass(createTPInstantiate(options.instantiateOptions()));
  return models;
}

void tp::buildReportPipeline(OpPassManager &pm,
                             const ReportPipelineOptions &options,
                             llvm::raw_ostream &os) {
  addParametrization(pm, options);
  pm.addPass(createTPPrintReport({options.format}, os));
}

void tp::buildPackagePipeline(OpPassManager &pm,
                              const PackagePipelineOptions &options) {
  addParametrization(pm, options)
      .addPass(createTPAssignLayout(options.layoutOptions()));
}

void tp::registerTPPipelines() {
  PassPipelineRegistration<ReportPipelineOptions>(
      "tp-report-pipeline",
      "Parametrize and instantiate every tp.model, then print its report "
      "(tp-parametrize, tp-instantiate, tp-print-report; muirc report)",
      [](OpPassManager &pm, const ReportPipelineOptions &options) {
        buildReportPipeline(pm, options);
      });
  PassPipelineRegistration<PackagePipelineOptions>(
      "tp-package-pipeline",
      "Parametrize, instantiate and lay out every tp.model for the package "
      "writer (tp-parametrize, tp-instantiate, tp-assign-layout; muirc "
      "package)",
      buildPackagePipeline);
}
