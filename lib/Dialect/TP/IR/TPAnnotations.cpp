//===- TPAnnotations.cpp - The discardable tp.* attributes ----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the typed tp.* annotations (TPAttrs.td, which verify their own
// entries) cannot check alone, in two steps:
//
// - TPDialect::verifyOperationAttribute sees one attribute of one op: that
//   it has its type and sits on its op, and the quantities that op needs.
//
//     tp.role            #tp.role            tp.param
//     tp.scaling         #tp.scaling         tp.param (init_std, multiplier,
//     tp.values          #tp.values          lr, weight_decay at least) or
//                                            tp.residual (multiplier only)
//     tp.parametrization #tp.parametrization tp.model
//     tp.instance        #tp.instance        tp.model
//     tp.layout          #tp.layout          tp.param
//     tp.buffer          #tp.buffer          tp.model
//
// - verifyAnnotations, from tp.model's verifier once its ops are verified,
//   checks what needs the program: the dims, the block copies, the
//   optimizer's step, the other parameters' layouts.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/TPAnnotations.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/IR/TPDialect.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::tp;

/// Base quantities every parameter's rules and values carry; the optimizer
/// adds eps and the betas it reads (see stepQuantities).
static const Quantity kBaseQuantities[] = {Quantity::init_std,
                                           Quantity::multiplier, Quantity::lr,
                                           Quantity::weight_decay};

std::string tp::formatNumber(double v) {
  return llvm::formatv("{0}", llvm::format("%.9g", v)).str();
}

std::optional<std::string> tp::float32Problem(double v) {
  if (!std::isfinite(v))
    return std::string("is not finite");
  if (std::abs(v) > std::numeric_limits<float>::max())
    return "is beyond float32's range (at most " +
           formatNumber(std::numeric_limits<float>::max()) + ")";
  if (v != 0 && std::abs(v) < std::numeric_limits<float>::min())
    return "is flushed to zero by float32 (its smallest normal is " +
           formatNumber(std::numeric_limits<float>::min()) + ")";
  return std::nullopt;
}

/// The tp.values entries the step kernel of `optimizer` reads beyond the
/// base quantities; `oneBeta`: the Lion family's momentum recipe
/// (tp.parametrization's `nesterov`), which has no beta2.
static ArrayRef<Quantity> stepQuantities(Optimizer optimizer, bool oneBeta) {
  static const Quantity adam[] = {Quantity::eps, Quantity::beta1,
                                  Quantity::beta2};
  static const Quantity betas[] = {Quantity::beta1, Quantity::beta2};
  static const Quantity momentum[] = {Quantity::beta1};
  switch (optimizer) {
  case Optimizer::adam:
  case Optimizer::adamw:
  case Optimizer::adamwDecoupled:
    return adam;
  case Optimizer::lion:
  case Optimizer::lionA:
  case Optimizer::lionAR:
    return oneBeta ? ArrayRef<Quantity>(momentum) : ArrayRef<Quantity>(betas);
  case Optimizer::adamAtan2:
    return betas;
  case Optimizer::sgdMomentum:
  case Optimizer::sgdNesterov:
    return momentum;
  case Optimizer::sgd:
    return {};
  }
  llvm_unreachable("unknown optimizer");
}

//===----------------------------------------------------------------------===//
// One attribute at a time
//===----------------------------------------------------------------------===//

/// Checks what a #tp.scaling or #tp.values cannot check alone: the op it is
/// on and the quantities that op needs (`values`: a #tp.values).
static LogicalResult checkQuantities(Operation *op, StringRef name,
                                     function_ref<bool(Quantity)> has,
                                     bool hasWidthDim) {
  // A tp.param or a tp.residual (checked by the caller).
  auto error = [&] { return op->emitError() << "'" << name << "' "; };
  if (isa<ResidualOp>(op)) {
    for (Quantity q : allEnumValues<Quantity>())
      if (q != Quantity::multiplier && has(q))
        return error() << "of a tp.residual has only 'multiplier', not '"
                       << stringifyQuantity(q) << "'";
    if (hasWidthDim)
      return error() << "of a tp.residual has no 'width_dim'";
    if (!has(Quantity::multiplier))
      return error() << "of a tp.residual needs 'multiplier'";
    return success();
  }
  for (Quantity q : kBaseQuantities)
    if (!has(q))
      return error() << "of a tp.param needs '" << stringifyQuantity(q) << "'";
  return success();
}

/// Fails unless `attr` holds an `AttrT` and `op` is one of `OpTs`.
template <typename AttrT, typename... OpTs>
static LogicalResult expect(Operation *op, NamedAttribute attr, StringRef what,
                            StringRef where) {
  if (isa<AttrT>(attr.getValue()) && isa<OpTs...>(op))
    return success();
  return op->emitError() << "'" << attr.getName().getValue() << "' must be a "
                         << what << " on a " << where;
}

LogicalResult TPDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == RoleAttrHelper::getNameStr())
    return expect<RoleAttr, ParamOp>(op, attr, "#tp.role", "tp.param");
  if (name == ScalingAttrHelper::getNameStr()) {
    if (failed(expect<ScalingAttr, ParamOp, ResidualOp>(
            op, attr, "#tp.scaling", "tp.param or a tp.residual")))
      return failure();
    auto scaling = cast<ScalingAttr>(attr.getValue());
    return checkQuantities(
        op, name, [&](Quantity q) { return bool(scaling.getScale(q)); },
        bool(scaling.getWidthDim()));
  }
  if (name == ValuesAttrHelper::getNameStr()) {
    if (failed(expect<ValuesAttr, ParamOp, ResidualOp>(
            op, attr, "#tp.values", "tp.param or a tp.residual")))
      return failure();
    auto values = cast<ValuesAttr>(attr.getValue());
    return checkQuantities(
        op, name, [&](Quantity q) { return bool(values.getValue(q)); },
        /*hasWidthDim=*/false);
  }
  if (name == ParametrizationAttrHelper::getNameStr())
    return expect<ParametrizationAttr, ModelOp>(op, attr, "#tp.parametrization",
                                                "tp.model");
  if (name == InstanceAttrHelper::getNameStr())
    return expect<InstanceAttr, ModelOp>(op, attr, "#tp.instance", "tp.model");
  if (name == LayoutAttrHelper::getNameStr())
    return expect<LayoutAttr, ParamOp>(op, attr, "#tp.layout", "tp.param");
  if (name == BufferAttrHelper::getNameStr())
    return expect<BufferAttr, ModelOp>(op, attr, "#tp.buffer", "tp.model");
  return op->emitError() << "unknown tp dialect attribute '" << name << "'";
}

//===----------------------------------------------------------------------===//
// The whole model
//===----------------------------------------------------------------------===//

namespace {
/// Where a parameter's copies lie in the flat buffers: [begin, end).
struct Footprint {
  int64_t begin, end;
  ParamOp param;
};
} // namespace

/// Fails when a quantity of `values` (on `op`, which has `copies` block
/// copies when `repeated`) gives more than one value but not one per copy.
static LogicalResult checkPerBlock(Operation *op, ValuesAttr values,
                                   bool repeated, int64_t copies) {
  for (Quantity q : allEnumValues<Quantity>()) {
    DenseF64ArrayAttr array = values.getValue(q);
    if (!array || array.size() == 1 ||
        (repeated && int64_t(array.size()) == copies))
      continue;
    InFlightDiagnostic diag = op->emitError()
                              << "'tp.values' " << stringifyQuantity(q)
                              << " has " << array.size() << " values but ";
    if (repeated)
      diag << "the op has " << copies
           << " block copies; give one value or one per copy";
    else
      diag << "the op is not repeated; give one value";
    return diag;
  }
  return success();
}

LogicalResult tp::verifyAnnotations(ModelOp model, const ModelIndex &index) {
  TPDialect &tp = tpDialect(model);
  BufferAttr buffer = tp.getBufferAttrHelper().getAttr(model);
  ParametrizationAttr parametrization =
      tp.getParametrizationAttrHelper().getAttr(model);

  llvm::StringMap<LayoutAttr> layouts;
  std::vector<Footprint> footprints;
  WalkResult walk = model.walk([&](ParamOp param) -> WalkResult {
    int64_t numel = 1, copies = 1;
    bool sized = true;
    for (StringAttr dim : param.getType().getDims()) {
      const DimInfo *info = index.lookupDim(dim.getValue());
      sized &= info && !llvm::MulOverflow(numel, info->target, numel);
    }
    if (auto repeat = dyn_cast<RepeatOp>(param->getParentOp())) {
      const DimInfo *info = index.lookupDim(repeat.getDepth());
      sized &= info != nullptr;
      if (info)
        copies = info->target;
    }
    // Sizes that do not resolve are the model checker's to report.
    if (!sized)
      return WalkResult::advance();

    if (ScalingAttr scaling = tp.getScalingAttrHelper().getAttr(param))
      if (StringAttr widthDim = scaling.getWidthDim())
        if (!llvm::is_contained(param.getType().getDims(), widthDim)) {
          param->emitError()
              << "'tp.scaling' width_dim names '" << widthDim.getValue()
              << "', which is not a dim of this parameter";
          return WalkResult::interrupt();
        }

    if (ValuesAttr values = tp.getValuesAttrHelper().getAttr(param)) {
      Optimizer optimizer =
          parametrization ? parametrization.getOptimizer() : Optimizer::sgd;
      bool oneBeta =
          parametrization && parametrization.getNesterov().value_or(false);
      for (Quantity q : stepQuantities(optimizer, oneBeta))
        if (!values.getValue(q)) {
          param->emitError() << "'tp.values' needs '" << stringifyQuantity(q)
                             << "', which the " << stringifyOptimizer(optimizer)
                             << " step reads";
          return WalkResult::interrupt();
        }
      if (failed(checkPerBlock(param, values, param.isRepeated(), copies)))
        return WalkResult::interrupt();
    }

    LayoutAttr layout = tp.getLayoutAttrHelper().getAttr(param);
    if (!layout) {
      if (buffer) {
        param->emitError() << "has no 'tp.layout' but the model has a "
                              "'tp.buffer'; every parameter is laid out";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    }
    if (std::optional<StringRef> tied = param.getTied()) {
      if (layout != layouts.lookup(*tied)) {
        param->emitError() << "'tp.layout' of a tied parameter must be the "
                              "layout of '"
                           << *tied << "'";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    }
    layouts[param.getName()] = layout;
    if (layout.getNumel() != numel || layout.getCopies() != copies) {
      param->emitError() << "'tp.layout' gives numel " << layout.getNumel()
                         << " and copies " << layout.getCopies()
                         << " but the parameter has " << numel
                         << " elements and " << copies << " block copies";
      return WalkResult::interrupt();
    }
    int64_t begin = layout.getOffset(), end = layout.getEnd();
    if (buffer && end > buffer.getElements()) {
      param->emitError() << "'tp.layout' ends at element " << end
                         << ", past the " << buffer.getElements()
                         << " elements of the model's 'tp.buffer'";
      return WalkResult::interrupt();
    }
    footprints.push_back({begin, end, param});
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  // A residual branch's multiplier has one value per block of its repeat
  // (tp-instantiate: the model's first depth dim outside one).
  const DimInfo *modelDepth = nullptr;
  for (const DimInfo &dim : index.getDims())
    if (dim.kind == DimKind::depth && !modelDepth)
      modelDepth = &dim;
  walk = model.walk([&](ResidualOp residual) -> WalkResult {
    ValuesAttr values = tp.getValuesAttrHelper().getAttr(residual);
    if (!values)
      return WalkResult::advance();
    const DimInfo *depth = modelDepth;
    if (auto repeat = residual->getParentOfType<RepeatOp>())
      depth = index.lookupDim(repeat.getDepth());
    if (failed(checkPerBlock(residual, values, depth != nullptr,
                             depth ? depth->target : 1)))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  llvm::sort(footprints, [](const Footprint &a, const Footprint &b) {
    return a.begin < b.begin;
  });
  for (size_t i = 1; i < footprints.size(); ++i) {
    Footprint before = footprints[i - 1], after = footprints[i];
    if (after.begin < before.end)
      return after.param->emitError()
             << "'tp.layout' [" << after.begin << ", " << after.end
             << ") overlaps '" << before.param.getName() << "' ["
             << before.begin << ", " << before.end << ")";
  }
  return success();
}
