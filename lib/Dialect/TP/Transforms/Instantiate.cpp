//===- Instantiate.cpp - Scaling rules to per-parameter constants ---------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/IR/TPAnnotations.h"
#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Dialect/TP/Utils/ForwardTable.h"
#include "muir/Dialect/TP/Utils/Parametrization.h"
#include "muir/Parametrization/Multipliers.h"
#include "muir/Parametrization/OptimizerSpec.h"
#include <cmath>
#include <limits>

namespace mlir::tp {
#define GEN_PASS_DEF_TPINSTANTIATE
#include "muir/Dialect/TP/Transforms/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

/// The ratio of `dim`, or 1 when there is none.
static double ratioOf(const DimInfo *dim) { return dim ? dim->ratio() : 1.0; }

/// The model's first dim of `kind`, or null.
static const DimInfo *firstDim(const ModelIndex &index, DimKind kind) {
  for (const DimInfo &dim : index.getDims())
    if (dim.kind == kind)
      return &dim;
  return nullptr;
}

/// The depth dim of the repeat enclosing `op`, else `modelDepth`.
static const DimInfo *depthDimOf(const ModelIndex &index,
                                 const DimInfo *modelDepth, Operation *op) {
  if (auto repeat = op->getParentOfType<RepeatOp>())
    return index.lookupDim(repeat.getDepth());
  return modelDepth;
}

namespace {
/// The base init std: one number for every tensor, or gain / sqrt(fan_in)
/// per tensor (`fan-in[:gain]`).
struct InitStdOption {
  double value = 0.02;
  bool perFanIn = false;
};
} // namespace

/// Reads `init-std`: a number, or `fan-in` / `fan-in:GAIN`; reports what it
/// cannot read.
static FailureOr<InitStdOption> parseInitStd(StringRef text,
                                             OptionErrorFn report) {
  InitStdOption option;
  StringRef rest = text.trim();
  if (rest.consume_front("fan-in")) {
    option.perFanIn = true;
    option.value = 1.0;
    if (rest.empty() ||
        (rest.consume_front(":") && !rest.getAsDouble(option.value)))
      return option;
  } else if (!rest.getAsDouble(option.value)) {
    return option;
  }
  report("init-std", "'" + text +
                         "' is not a number (0.02), fan-in or fan-in:GAIN "
                         "(fan-in:2)");
  return failure();
}

LogicalResult tp::checkInstantiateOptions(const TPInstantiateOptions &options,
                                          OptionErrorFn report) {
  bool ok = true;
  auto check = [&](StringRef option, double v, bool zeroOk) {
    if (!(v > 0 || (zeroOk && v == 0))) {
      report(option, Twine("must be ") +
                         (zeroOk ? "zero or positive" : "positive") + ", got " +
                         formatNumber(v));
      ok = false;
    } else if (std::optional<std::string> problem = float32Problem(v)) {
      report(option, formatNumber(v) + " " + *problem);
      ok = false;
    }
  };
  auto beta = [&](StringRef option, double v) {
    if (v >= 0 && v < 1)
      return;
    report(option, "must be in [0, 1), got " + formatNumber(v));
    ok = false;
  };
  check("lr", options.lr, /*zeroOk=*/false);
  // The std, or the gain of fan-in:GAIN.
  FailureOr<InitStdOption> initStd = parseInitStd(options.initStd, report);
  if (failed(initStd)) {
    ok = false;
  } else if (initStd->perFanIn && initStd->value < 0) {
    report("init-std",
           "gain must not be negative, got " + formatNumber(initStd->value));
    ok = false;
  } else {
    check("init-std", initStd->value, /*zeroOk=*/true);
  }
  check("weight-decay", options.weightDecay, /*zeroOk=*/true);
  check("eps", options.eps, /*zeroOk=*/true);
  beta("beta1", options.beta1);
  beta("beta2", options.beta2);
  // Only ratios of these enter the rules, so they need not fit float32.
  for (auto [option, v] : {std::pair<StringRef, double>{"batch", options.batch},
                           {"base-batch", options.baseBatch},
                           {"tokens", options.tokens},
                           {"base-tokens", options.baseTokens}})
    if (!(v > 0 && std::isfinite(v))) {
      report(option, "must be positive, got " + formatNumber(v));
      ok = false;
    }
  return success(ok);
}

/// Reports an error of the multipliers file where it is in that file, or
/// at the model when the file cannot be read.
static void reportMultipliersError(ModelOp model, llvm::Error error) {
  llvm::handleAllErrors(
      std::move(error),
      [&](const muir::JSONError &e) {
        emitError(
            FileLineColLoc::get(model.getContext(), e.file, e.line, e.column))
            << e.detail;
      },
      [&](const llvm::ErrorInfoBase &e) {
        model.emitError() << "option 'multipliers': " << e.message();
      });
}

/// The fan-in of the storage of `param` in the base model: the size of the
/// dim a use contracts (the `in` of a linear's `[out, in]` weight, which is
/// the last dim of the activation it reads), else 1: a table looked up by
/// tp.embedding or added to the activations reads one entry per output, and
/// a bias or a norm gain has fan-in 1 (TP5 Table 3: "the fan_in of a bias is
/// 1"). A tied parameter has its owner's storage, so its owner's fan-in.
static int64_t baseFanIn(const ModelIndex &index, ParamOp param) {
  if (std::optional<StringRef> tied = param.getTied())
    if (ParamOp owner = index.lookupParam(*tied))
      param = owner;
  for (OpOperand &use : param.getResult().getUses()) {
    auto describes = dyn_cast<ParamUseOpInterface>(use.getOwner());
    std::optional<ParamUse> how =
        describes ? describes.getParamUse(use) : std::nullopt;
    if (!how || how->kind != ParamUse::Kind::matrix || !how->input)
      continue;
    auto input = dyn_cast<NamedTensorType>(how->input.getType());
    if (!input || input.getRank() == 0 ||
        input.getDim(-1) != how->fanIn.getValue())
      continue;
    const DimInfo *dim = index.lookupDim(how->fanIn.getValue());
    if (dim && dim->base > 0)
      return dim->base;
  }
  return 1;
}

namespace {
struct TPInstantiatePass : tp::impl::TPInstantiateBase<TPInstantiatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModelOp model = getOperation();
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
    if (failed(checkInstantiateOptions(
            options, [&](StringRef option, const Twine &problem) {
              model.emitError() << option << " " << problem;
            })))
      return signalPassFailure();
    initStdOption = *parseInitStd(initStd, [](StringRef, const Twine &) {});
    TPDialect &tp = tpDialect(model);
    ParametrizationAttr parametrization =
        tp.getParametrizationAttrHelper().getAttr(model);
    if (!parametrization) {
      model.emitError() << "tp-instantiate needs the scaling rules of "
                           "tp-parametrize; run it first";
      return signalPassFailure();
    }
    // The momentum recipe's one beta is an option of the optimizer (its
    // default 0.98 is the recipe's), instantiated as beta1.
    llvm::Expected<OptimizerSpec> spec = readOptimizerSpec(parametrization);
    if (!spec) {
      model.emitError() << llvm::toString(spec.takeError());
      return signalPassFailure();
    }
    baseBeta1 = spec->oneBeta() ? spec->beta : double(beta1);
    ModelIndex index(model);
    FailureOr<ForwardTable> forward = collectForwardTable(model, index);
    if (failed(forward))
      return signalPassFailure();
    llvm::DenseMap<Operation *, StringRef> residualNames;
    for (const ResidualInfo &r : forward->residuals)
      residualNames[r.op] = r.name;
    const DimInfo *modelDepth = firstDim(index, DimKind::depth);
    Multipliers factors;
    if (!multipliers.empty()) {
      llvm::Expected<Multipliers> loaded = Multipliers::load(multipliers);
      SmallVector<StringRef> names, branches;
      model.walk([&](ParamOp param) { names.push_back(param.getName()); });
      for (const ResidualInfo &r : forward->residuals)
        branches.push_back(r.name);
      llvm::Error error =
          loaded ? loaded->checkModel(names, branches,
                                      modelDepth ? modelDepth->base : 0)
                 : loaded.takeError();
      if (error) {
        reportMultipliersError(model, std::move(error));
        return signalPassFailure();
      }
      factors = std::move(*loaded);
    }

    Builder b(&getContext());
    double batchRatio = batch / baseBatch, durationRatio = tokens / baseTokens;
    WalkResult walk = model.walk([&](Operation *op) -> WalkResult {
      ScalingAttr scaling = tp.getScalingAttrHelper().getAttr(op);
      if (!scaling)
        return WalkResult::advance();
      // A parameter, or a residual branch named as in the forward table
      // (its factors are the multipliers file's `residual` quantity).
      auto param = dyn_cast<ParamOp>(op);
      StringRef name = param ? param.getName() : residualNames.lookup(op);
      bool repeated = param ? param.isRepeated() : isa<ResidualOp>(op);
      StringAttr widthDim = scaling.getWidthDim();
      double widthRatio =
          ratioOf(widthDim ? index.lookupDim(widthDim.getValue()) : nullptr);
      const DimInfo *depthDim = depthDimOf(index, modelDepth, op);
      double depthRatio = ratioOf(depthDim);
      int64_t blocks = 1;
      if (depthDim && repeated)
        blocks = depthDim->target;
      std::array<DenseF64ArrayAttr, kNumQuantities> values;
      for (Quantity q : allEnumValues<Quantity>()) {
        ScaleAttr scale = scaling.getScale(q);
        if (!scale)
          continue;
        StringRef quantity = stringifyQuantity(q);
        StringRef factorKey = param ? quantity : StringRef("residual");
        bool isBeta = q == Quantity::beta1 || q == Quantity::beta2;
        double m =
            scale.evaluate(widthRatio, depthRatio, batchRatio, durationRatio) *
            factors.moduleFactor(name, factorKey);
        double base = baseValue(q);
        if (q == Quantity::init_std && param && initStdOption.perFanIn)
          base /= std::sqrt(double(baseFanIn(index, param)));
        std::vector<double> perBlock(1, 1.0);
        if (repeated && factors.hasDepth(factorKey))
          perBlock = factors.depthFactors(factorKey, blocks);
        SmallVector<double> out;
        for (double d : perBlock) {
          double v = isBeta ? 1.0 - base * m * d : base * m * d;
          if (isBeta && !(v >= 0.0 && v < 1.0)) {
            op->emitOpError()
                << quantity << " becomes " << v << " for '" << name << "': 1 - "
                << quantity << " scaled by " << m * d
                << " leaves [0, 1); the batch or duration ratio is out of "
                   "the range this rule covers";
            return WalkResult::interrupt();
          }
          if (std::optional<std::string> problem = float32Problem(v)) {
            op->emitOpError()
                << quantity << " of " << (param ? "'" : "residual branch '")
                << name << "' = " << formatNumber(base) << " x "
                << formatNumber(m * d) << " = " << formatNumber(v) << " "
                << *problem
                << "; choose a base value or multipliers factor that keeps "
                   "it in range";
            return WalkResult::interrupt();
          }
          out.push_back(v);
        }
        values[size_t(q)] = b.getDenseF64ArrayAttr(out);
      }
      tp.getValuesAttrHelper().setAttr(op,
                                       ValuesAttr::get(&getContext(), values));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    ScaleAttr steps = parametrization.getSteps();
    double stepsMultiplier =
        steps ? steps.evaluate(1, 1, batchRatio, durationRatio) : 1.0;
    std::array<DenseF64ArrayAttr, kNumQuantities> base;
    for (Quantity q : allEnumValues<Quantity>())
      if (q != Quantity::multiplier) {
        double v = baseValue(q);
        bool isBeta = q == Quantity::beta1 || q == Quantity::beta2;
        base[size_t(q)] = b.getDenseF64ArrayAttr(isBeta ? 1.0 - v : v);
      }
    tp.getInstanceAttrHelper().setAttr(
        model,
        InstanceAttr::get(
            &getContext(), APFloat(ratioOf(firstDim(index, DimKind::width))),
            APFloat(ratioOf(modelDepth)), APFloat(batchRatio),
            APFloat(durationRatio), ValuesAttr::get(&getContext(), base),
            initStdOption.perFanIn ? InitStdRule::fan_in : InitStdRule::fixed,
            APFloat(stepsMultiplier)));
  }

  /// The base-model value a monomial multiplies; for betas, 1 - beta.
  double baseValue(Quantity quantity) {
    switch (quantity) {
    case Quantity::lr:
      return lr;
    case Quantity::init_std:
      return initStdOption.value;
    case Quantity::weight_decay:
      return weightDecay;
    case Quantity::eps:
      return eps;
    case Quantity::beta1:
      return 1.0 - baseBeta1;
    case Quantity::beta2:
      return 1.0 - beta2;
    case Quantity::multiplier:
      return 1.0;
    }
    llvm_unreachable("unknown quantity");
  }

  InitStdOption initStdOption;
  /// beta1, or the momentum recipe's one beta.
  double baseBeta1 = 0.9;
};
} // namespace
