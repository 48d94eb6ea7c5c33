//===- Instantiate.cpp - Scaling rules to per-parameter constants ---------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Parametrization/Multipliers.h"
#include <cmath>

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

/// Reports an error of the multipliers file where it is in that file, or
/// at the model when the file cannot be read.
static void reportMultipliersError(ModelOp model, llvm::Error error) {
  llvm::handleAllErrors(
      std::move(error),
      [&](const muir::JSONError &e) {
        emitError(
            FileLineColLoc::get(model.getContext(), e.file, e.line, e.column))
            << e.message;
      },
      [&](const llvm::ErrorInfoBase &e) {
        model.emitError() << "option 'multipliers': " << e.message();
      });
}

namespace {
struct TPInstantiatePass : tp::impl::TPInstantiateBase<TPInstantiatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModelOp model = getOperation();
    if (failed(checkOptions(model)))
      return signalPassFailure();
    auto parametrization =
        model->getAttrOfType<DictionaryAttr>("tp.parametrization");
    if (!parametrization) {
      model.emitError() << "tp-instantiate needs the scaling rules of "
                           "tp-parametrize; run it first";
      return signalPassFailure();
    }
    ModelIndex index(model);
    const DimInfo *modelDepth = firstDim(index, DimKind::depth);
    Multipliers factors;
    if (!multipliers.empty()) {
      llvm::Expected<Multipliers> loaded = Multipliers::load(multipliers);
      SmallVector<StringRef> names;
      model.walk([&](ParamOp param) { names.push_back(param.getName()); });
      llvm::Error error =
          loaded ? loaded->checkModel(names, modelDepth ? modelDepth->base : 0)
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
      auto scaling = op->getAttrOfType<DictionaryAttr>("tp.scaling");
      if (!scaling)
        return WalkResult::advance();
      auto param = dyn_cast<ParamOp>(op);
      StringRef name = param ? param.getName() : StringRef();
      auto widthDim = scaling.getAs<StringAttr>("width_dim");
      double widthRatio =
          ratioOf(widthDim ? index.lookupDim(widthDim.getValue()) : nullptr);
      const DimInfo *depthDim = depthDimOf(index, modelDepth, op);
      double depthRatio = ratioOf(depthDim);
      int64_t blocks = 1;
      if (depthDim && param && param.isRepeated())
        blocks = depthDim->target;
      SmallVector<NamedAttribute> values;
      for (NamedAttribute entry : scaling) {
        auto scale = dyn_cast<ScaleAttr>(entry.getValue());
        if (!scale)
          continue;
        StringRef quantity = entry.getName().getValue();
        bool isBeta = quantity == "beta1" || quantity == "beta2";
        double m =
            scale.evaluate(widthRatio, depthRatio, batchRatio, durationRatio) *
            factors.moduleFactor(name, quantity);
        double base = baseValue(quantity);
        std::vector<double> perBlock(1, 1.0);
        if (param && param.isRepeated() && factors.hasDepth(quantity))
          perBlock = factors.depthFactors(quantity, blocks);
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
          if (!std::isfinite(v)) {
            op->emitOpError() << quantity << " of '" << name
                              << "' is not finite after scaling";
            return WalkResult::interrupt();
          }
          out.push_back(v);
        }
        values.push_back(b.getNamedAttr(
            quantity, out.size() == 1
                          ? Attribute(b.getF64FloatAttr(out.front()))
                          : Attribute(b.getDenseF64ArrayAttr(out))));
      }
      op->setAttr("tp.values", b.getDictionaryAttr(values));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    auto steps = parametrization.getAs<ScaleAttr>("steps");
    double stepsMultiplier =
        steps ? steps.evaluate(1, 1, batchRatio, durationRatio) : 1.0;
    auto f64 = [&](StringRef key, double v) {
      return b.getNamedAttr(key, b.getF64FloatAttr(v));
    };
    model->setAttr(
        "tp.instance",
        b.getDictionaryAttr(
            {b.getNamedAttr(
                 "ratios",
                 b.getDictionaryAttr(
                     {f64("width", ratioOf(firstDim(index, DimKind::width))),
                      f64("depth", ratioOf(modelDepth)),
                      f64("batch", batchRatio),
                      f64("duration", durationRatio)})),
             b.getNamedAttr(
                 "base", b.getDictionaryAttr(
                             {f64("lr", lr), f64("init_std", initStd),
                              f64("weight_decay", weightDecay), f64("eps", eps),
                              f64("beta1", beta1), f64("beta2", beta2)})),
             f64("steps_multiplier", stepsMultiplier)}));
  }

  /// The base-model value a monomial multiplies; for betas, 1 - beta.
  double baseValue(StringRef quantity) {
    if (quantity == "lr")
      return lr;
    if (quantity == "init_std")
      return initStd;
    if (quantity == "weight_decay")
      return weightDecay;
    if (quantity == "eps")
      return eps;
    if (quantity == "beta1")
      return 1.0 - beta1;
    if (quantity == "beta2")
      return 1.0 - beta2;
    return 1.0; // multiplier
  }

  LogicalResult checkOptions(ModelOp model) {
    auto positive = [&](StringRef what, double v) -> LogicalResult {
      if (v > 0 && std::isfinite(v))
        return success();
      return model.emitError() << what << " must be positive, got " << v;
    };
    auto nonNegative = [&](StringRef what, double v) -> LogicalResult {
      if (v >= 0 && std::isfinite(v))
        return success();
      return model.emitError() << what << " must not be negative, got " << v;
    };
    auto beta = [&](StringRef what, double v) -> LogicalResult {
      if (v >= 0 && v < 1)
        return success();
      return model.emitError() << what << " must be in [0, 1), got " << v;
    };
    return success(succeeded(positive("lr", lr)) &&
                   succeeded(nonNegative("init-std", initStd)) &&
                   succeeded(nonNegative("weight-decay", weightDecay)) &&
                   succeeded(nonNegative("eps", eps)) &&
                   succeeded(beta("beta1", beta1)) &&
                   succeeded(beta("beta2", beta2)) &&
                   succeeded(positive("batch", batch)) &&
                   succeeded(positive("base-batch", baseBatch)) &&
                   succeeded(positive("tokens", tokens)) &&
                   succeeded(positive("base-tokens", baseTokens)));
  }
};
} // namespace
