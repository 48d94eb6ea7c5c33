//===- Pipelines.h - The report and package pipelines -----------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The two pipelines a user runs, defined once: `tp-report-pipeline`
// (tp-parametrize, tp-instantiate, tp-print-report) and `tp-package-pipeline`
// (tp-parametrize, tp-instantiate, tp-assign-layout: the IR the package
// writer takes). Their options (the scheme, the optimizer, the base
// hyperparameters, the run sizes, the report format, the alignment) are
// declared here only, with their descriptions and parsers; muir-opt takes
// them as pipeline options (`--tp-package-pipeline='scheme=mup lr=0.01'`)
// and muirc as flags of `muirc report` and `muirc package`
// (addToCommandLine), so the two cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_TRANSFORMS_PIPELINES_H
#define MUIR_DIALECT_TP_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassOptions.h"
#include "muir/Dialect/TP/Transforms/Passes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::tp {

/// The options of tp-parametrize and tp-instantiate that both pipelines
/// take: the scheme and optimizer, the hyperparameters tuned on the base
/// model and the sizes of the base and the target run.
struct ParametrizationPipelineOptions
    : PassPipelineOptions<ParametrizationPipelineOptions> {
  Option<Scheme> scheme{
      *this, "scheme", llvm::cl::init(Scheme::completep),
      llvm::cl::desc("parametrisation: sp, sp-pytorch, mup, mup-table8, "
                     "mup-table9, depth-mup, completep or completedp (default "
                     "completep)"),
      llvm::cl::value_desc("name")};
  Option<std::string> optimizer{
      *this, "optimizer", llvm::cl::init("adamw"),
      llvm::cl::desc(
          "sgd, sgd-momentum, sgd-nesterov, adam, adamw, adamw-decoupled, "
          "lion, adam-atan2, lion-a or lion-ar, with options as "
          "name:key=value,... (adamw:bias-correction1=false, lion:recipe; "
          "docs/Optimizers.md; default adamw)"),
      llvm::cl::value_desc("name[:options]")};
  Option<std::string> alpha{
      *this, "alpha",
      llvm::cl::desc("depth exponent of the residual branch multiplier, in "
                     "[1/2, 1]: 1, 1/2 or 0.75 (default 1; 1/2 for "
                     "depth-mup)"),
      llvm::cl::value_desc("rational")};
  Option<bool> unscaledEps{
      *this, "unscaled-eps",
      llvm::cl::desc("keep Adam's eps at its base value for every parameter "
                     "(microsoft/mup) instead of scaling it with the "
                     "gradient")};
  Option<bool> allowDepthWithoutResidual{
      *this, "allow-depth-without-residual",
      llvm::cl::desc("a depth scheme on blocks without tp.residual whose "
                     "depth grows is a warning, not an error")};
  Option<std::string> multipliers{
      *this, "multipliers",
      llvm::cl::desc("JSON file of per-module factors ({\"modules\": {glob: "
                     "{quantity: factor}}}) and per-block factors "
                     "({\"depth\": {quantity: [factor per base block]}})"),
      llvm::cl::value_desc("file.json")};

  Option<double> lr{*this, "lr", llvm::cl::init(1e-3),
                    llvm::cl::desc("learning rate (default 1e-3)"),
                    llvm::cl::value_desc("x")};
  Option<std::string> initStd{
      *this, "init-std", llvm::cl::init("0.02"),
      llvm::cl::desc("init std: a number for every tensor (default 0.02), or "
                     "fan-in[:gain] for gain/sqrt(fan_in) per tensor at the "
                     "base model"),
      llvm::cl::value_desc("std|fan-in[:gain]")};
  Option<double> weightDecay{*this, "weight-decay", llvm::cl::init(0.0),
                             llvm::cl::desc("weight decay (default 0)"),
                             llvm::cl::value_desc("x")};
  Option<double> eps{*this, "eps", llvm::cl::init(1e-8),
                     llvm::cl::desc("Adam epsilon (default 1e-8)"),
                     llvm::cl::value_desc("x")};
  Option<double> beta1{
      *this, "beta1", llvm::cl::init(0.9),
      llvm::cl::desc("Adam beta1, Lion's update interpolation or SGD's "
                     "momentum (default 0.9)"),
      llvm::cl::value_desc("x")};
  Option<double> beta2{
      *this, "beta2", llvm::cl::init(0.999),
      llvm::cl::desc("Adam beta2 or Lion's momentum decay (default 0.999)"),
      llvm::cl::value_desc("x")};

  Option<double> batch{
      *this, "batch", llvm::cl::init(1.0),
      llvm::cl::desc("batch size of the target run (default 1)"),
      llvm::cl::value_desc("n")};
  Option<double> baseBatch{
      *this, "base-batch", llvm::cl::init(1.0),
      llvm::cl::desc("batch size of the base run (default 1)"),
      llvm::cl::value_desc("n")};
  Option<double> tokens{
      *this, "tokens", llvm::cl::init(1.0),
      llvm::cl::desc("training tokens of the target run (default 1)"),
      llvm::cl::value_desc("n")};
  Option<double> baseTokens{
      *this, "base-tokens", llvm::cl::init(1.0),
      llvm::cl::desc("training tokens of the base run (default 1)"),
      llvm::cl::value_desc("n")};

  /// tp-parametrize's options.
  TPParametrizeOptions parametrizeOptions() const;
  /// tp-instantiate's options.
  TPInstantiateOptions instantiateOptions() const;

  /// Checks every option as the passes do when they run, so a driver can
  /// name a bad flag before it reads the model; reports each bad one.
  LogicalResult check(OptionErrorFn report) const;

  /// Registers these options, besides as pipeline options, as flags of
  /// `sub` in `category` (`muirc report --scheme mup --lr 0.01`): the
  /// driver's command line parses straight into this struct, with the same
  /// parsers and error messages as the pipeline's.
  void addToCommandLine(llvm::cl::SubCommand &sub,
                        llvm::cl::OptionCategory &category);
};

/// The options of `tp-report-pipeline`.
struct ReportPipelineOptions : ParametrizationPipelineOptions {
  Option<ReportFormat> format{
      *this, "format", llvm::cl::init(ReportFormat::table),
      llvm::cl::desc("table, markdown, json or csv (default table)"),
      llvm::cl::value_desc("name")};
};

/// The options of `tp-package-pipeline`.
struct PackagePipelineOptions : ParametrizationPipelineOptions {
  Option<int64_t> alignment{
      *this, "alignment", llvm::cl::init(64),
      llvm::cl::desc("start of every tensor in the flat buffers, in bytes: a "
                     "multiple of 16 (default 64, a cache line)"),
      llvm::cl::value_desc("bytes")};

  /// tp-assign-layout's options.
  TPAssignLayoutOptions layoutOptions() const;

  /// Checks every option, the alignment included; reports each bad one.
  LogicalResult check(OptionErrorFn report) const;
};

/// tp-parametrize, tp-instantiate (on each tp.model) and tp-print-report,
/// which writes the report of every model to `os`.
void buildReportPipeline(OpPassManager &pm,
                         const ReportPipelineOptions &options,
                         llvm::raw_ostream &os = llvm::outs());

/// tp-parametrize, tp-instantiate and tp-assign-layout on each tp.model:
/// the IR that tp::writePackage (muirc package) takes.
void buildPackagePipeline(OpPassManager &pm,
                          const PackagePipelineOptions &options);

/// Registers `tp-report-pipeline` and `tp-package-pipeline`.
void registerTPPipelines();

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_TRANSFORMS_PIPELINES_H
