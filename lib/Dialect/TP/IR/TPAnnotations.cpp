//===- TPAnnotations.cpp - The discardable tp.* attributes ----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The shape of every tp.* annotation, checked in two steps:
//
// - TPDialect::verifyOperationAttribute sees one attribute of one op: the op
//   it belongs on, its entries (unknown ones are errors), their kinds and
//   ranges.
//
//     tp.role           #tp.role<...>                     tp.param
//     tp.scaling        {quantity = #tp.scale<...>,       tp.param, with
//                        width_dim = "dim"}               init_std,
//                                                         multiplier, lr,
//                                                         weight_decay;
//                       {multiplier = #tp.scale<...>}     tp.residual
//     tp.values         {quantity = f64 | array<f64>}     as tp.scaling
//     tp.parametrization {scheme = "..", optimizer = "..", tp.model
//                        alpha = "..", steps = #tp.scale<...>}
//     tp.instance       {ratios = {width, depth, batch,   tp.model
//                        duration}, base = {quantity},
//                        steps_multiplier}
//     tp.layout         #tp.layout<...>                   tp.param
//     tp.buffer         #tp.buffer<...>                   tp.model
//
// - verifyAnnotations, from tp.model's verifier once its ops are verified,
//   checks what needs the program: the dims, the block copies, the other
//   parameters' layouts.
//
// The values are what the kernels bake in as float32 constants, so they
// must be finite, within float32's range and not flushed to zero.
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
static const StringRef kBaseQuantities[] = {"init_std", "multiplier", "lr",
                                            "weight_decay"};

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
/// base quantities (empty for an optimizer without a step kernel, which
/// convert-tp-to-kernels rejects by name); `oneBeta`: the Lion family's
/// momentum recipe (optimizer_options' `nesterov`), which has no beta2.
static ArrayRef<StringRef> stepQuantities(StringRef optimizer, bool oneBeta) {
  static const StringRef adam[] = {"eps", "beta1", "beta2"};
  static const StringRef betas[] = {"beta1", "beta2"};
  static const StringRef momentum[] = {"beta1"};
  if (optimizer == "adam" || optimizer == "adamw" ||
      optimizer == "adamw-decoupled")
    return adam;
  if ((optimizer == "lion" || optimizer == "lion-a") && oneBeta)
    return momentum;
  if (optimizer == "lion" || optimizer == "lion-a" || optimizer == "adam-atan2")
    return betas;
  if (optimizer == "sgd-momentum" || optimizer == "sgd-nesterov")
    return momentum;
  return {};
}

//===----------------------------------------------------------------------===//
// One attribute at a time
//===----------------------------------------------------------------------===//

namespace {
/// Checks one tp.* attribute `name` of `op`; every message starts with the
/// attribute's name.
class AttrChecker {
public:
  AttrChecker(Operation *op, StringRef name) : op(op), name(name) {}

  InFlightDiagnostic error() { return op->emitError() << "'" << name << "' "; }

  /// The attribute as a dictionary on an op of type `OpTs`, else an error
  /// naming `where`.
  template <typename... OpTs>
  FailureOr<DictionaryAttr> dictOn(Attribute value, StringRef where) {
    auto dict = dyn_cast<DictionaryAttr>(value);
    if (!dict || !isa<OpTs...>(op))
      return error() << "must be a dictionary on a " << where;
    return dict;
  }

  /// Fails on an entry not in `allowed`.
  LogicalResult onlyKnown(DictionaryAttr dict, ArrayRef<StringRef> allowed) {
    for (NamedAttribute entry : dict)
      if (!llvm::is_contained(allowed, entry.getName().getValue()))
        return error() << "has unknown entry '" << entry.getName().getValue()
                       << "'; expected " << llvm::join(allowed, ", ");
    return success();
  }

  /// Fails when one of `required` is missing.
  LogicalResult require(DictionaryAttr dict, ArrayRef<StringRef> required,
                        StringRef what) {
    for (StringRef key : required)
      if (!dict.get(key))
        return error() << "of " << what << " needs '" << key << "'";
    return success();
  }

  /// A scale rule or an instantiated value: the quantities of a parameter,
  /// or the multiplier of a residual branch.
  LogicalResult quantities(Attribute value, bool values) {
    FailureOr<DictionaryAttr> dict =
        dictOn<ParamOp, ResidualOp>(value, "tp.param or a tp.residual");
    if (failed(dict))
      return failure();
    bool param = isa<ParamOp>(op);
    SmallVector<StringRef> allowed = {"multiplier"};
    if (param) {
      allowed = {"init_std", "multiplier", "lr",   "weight_decay",
                 "eps",      "beta1",      "beta2"};
      if (!values)
        allowed.push_back("width_dim");
    }
    if (failed(onlyKnown(*dict, allowed)))
      return failure();
    for (NamedAttribute entry : *dict) {
      StringRef key = entry.getName().getValue();
      Attribute v = entry.getValue();
      if (key == "width_dim") {
        if (!isa<StringAttr>(v))
          return error() << "entry 'width_dim' must be a string naming a dim";
        continue;
      }
      if (!values) {
        if (!isa<ScaleAttr>(v))
          return error() << "entry '" << key
                         << "' must be a #tp.scale monomial";
        continue;
      }
      if (failed(number(key, v)))
        return failure();
    }
    if (param)
      return require(*dict, kBaseQuantities, "a tp.param");
    return require(*dict, {"multiplier"}, "a tp.residual");
  }

  /// One instantiated value: f64, or one f64 per block copy (the count is
  /// verifyAnnotations' to check).
  LogicalResult number(StringRef key, Attribute v) {
    SmallVector<double> numbers;
    if (auto f = dyn_cast<FloatAttr>(v)) {
      numbers.push_back(f.getValueAsDouble());
    } else if (auto array = dyn_cast<DenseF64ArrayAttr>(v)) {
      if (array.empty())
        return error() << "entry '" << key
                       << "' is an empty array; give one value per block";
      llvm::append_range(numbers, array.asArrayRef());
    } else {
      return error() << "entry '" << key
                     << "' must be an f64 or an array<f64> (one per block)";
    }
    bool beta = key == "beta1" || key == "beta2";
    for (double x : numbers) {
      if (std::optional<std::string> problem = float32Problem(x))
        return error() << "entry '" << key << "' " << formatNumber(x) << " "
                       << *problem;
      if (beta && !(x >= 0 && x < 1))
        return error() << "entry '" << key << "' must be in [0, 1), got "
                       << formatNumber(x);
      if (!beta && x < 0)
        return error() << "entry '" << key << "' must not be negative, got "
                       << formatNumber(x);
    }
    return success();
  }

  LogicalResult parametrization(Attribute value) {
    FailureOr<DictionaryAttr> dict = dictOn<ModelOp>(value, "tp.model");
    if (failed(dict) ||
        failed(onlyKnown(*dict, {"scheme", "optimizer", "optimizer_options",
                                 "alpha", "steps", "unscaled_eps"})))
      return failure();
    for (StringRef key : {"scheme", "optimizer"}) {
      auto s = dict->getAs<StringAttr>(key);
      if (!s || s.getValue().empty())
        return error() << "needs '" << key << "', a non-empty string";
    }
    if (Attribute alpha = dict->get("alpha"); alpha && !isa<StringAttr>(alpha))
      return error() << "entry 'alpha' must be a string";
    // Its entries are the optimizer family's (OptimizerSpec), which the
    // passes that read them check.
    if (Attribute options = dict->get("optimizer_options");
        options && !isa<DictionaryAttr>(options))
      return error() << "entry 'optimizer_options' must be a dictionary";
    if (Attribute steps = dict->get("steps"); steps && !isa<ScaleAttr>(steps))
      return error() << "entry 'steps' must be a #tp.scale monomial";
    if (Attribute unscaled = dict->get("unscaled_eps");
        unscaled && !isa<UnitAttr>(unscaled))
      return error() << "entry 'unscaled_eps' must be a unit attribute";
    return success();
  }

  /// A dictionary of positive (or, for `base`, non-negative) finite f64
  /// entries named in `keys`.
  LogicalResult numbers(DictionaryAttr dict, StringRef what,
                        ArrayRef<StringRef> keys, bool positive) {
    for (NamedAttribute entry : dict) {
      StringRef key = entry.getName().getValue();
      auto f = dyn_cast<FloatAttr>(entry.getValue());
      if (!llvm::is_contained(keys, key) || !f ||
          !std::isfinite(f.getValueAsDouble()) ||
          (positive ? !(f.getValueAsDouble() > 0) : f.getValueAsDouble() < 0))
        return error() << "entry '" << what << "' must map "
                       << llvm::join(keys, ", ") << " to "
                       << (positive ? "positive" : "non-negative")
                       << " finite numbers; '" << key << "' does not";
    }
    return success();
  }

  LogicalResult instance(Attribute value) {
    FailureOr<DictionaryAttr> dict = dictOn<ModelOp>(value, "tp.model");
    if (failed(dict) ||
        failed(onlyKnown(*dict, {"ratios", "base", "steps_multiplier"})))
      return failure();
    for (StringRef key : {"ratios", "base"}) {
      Attribute entry = dict->get(key);
      if (!entry)
        continue;
      auto inner = dyn_cast<DictionaryAttr>(entry);
      if (!inner)
        return error() << "entry '" << key << "' must be a dictionary";
      if (key == "ratios" &&
          failed(numbers(inner, key, {"width", "depth", "batch", "duration"},
                         /*positive=*/true)))
        return failure();
      if (key != "base")
        continue;
      // How init_std applies: one value, or gain / sqrt(fan_in) per tensor.
      if (Attribute rule = inner.get("init_std_rule")) {
        auto s = dyn_cast<StringAttr>(rule);
        if (!s || (s.getValue() != "fixed" && s.getValue() != "fan_in"))
          return error() << "entry 'base' maps 'init_std_rule' to \"fixed\" "
                            "or \"fan_in\"";
        NamedAttrList rest(inner);
        rest.erase("init_std_rule");
        inner = rest.getDictionary(inner.getContext());
      }
      if (failed(numbers(
              inner, key,
              {"lr", "init_std", "weight_decay", "eps", "beta1", "beta2"},
              /*positive=*/false)))
        return failure();
    }
    if (Attribute steps = dict->get("steps_multiplier")) {
      auto f = dyn_cast<FloatAttr>(steps);
      if (!f || !std::isfinite(f.getValueAsDouble()) ||
          !(f.getValueAsDouble() > 0))
        return error() << "entry 'steps_multiplier' must be a positive "
                          "finite f64";
    }
    return success();
  }

private:
  Operation *op;
  StringRef name;
};
} // namespace

LogicalResult TPDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Attribute value = attr.getValue();
  AttrChecker check(op, name);
  if (name == TPDialect::RoleAttrHelper::getNameStr()) {
    if (!isa<RoleAttr>(value) || !isa<ParamOp>(op))
      return op->emitError() << "'tp.role' must be a #tp.role on a tp.param";
    return success();
  }
  if (name == "tp.scaling")
    return check.quantities(value, /*values=*/false);
  if (name == "tp.values")
    return check.quantities(value, /*values=*/true);
  if (name == "tp.parametrization")
    return check.parametrization(value);
  if (name == "tp.instance")
    return check.instance(value);
  if (name == TPDialect::LayoutAttrHelper::getNameStr()) {
    if (!isa<LayoutAttr>(value) || !isa<ParamOp>(op))
      return op->emitError()
             << "'tp.layout' must be a #tp.layout on a tp.param";
    return success();
  }
  if (name == TPDialect::BufferAttrHelper::getNameStr()) {
    if (!isa<BufferAttr>(value) || !isa<ModelOp>(op))
      return op->emitError()
             << "'tp.buffer' must be a #tp.buffer on a tp.model";
    return success();
  }
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

/// Fails when an array entry of `values` (on `op`, which has `copies` block
/// copies when `repeated`) does not give one value per copy.
static LogicalResult checkPerBlock(Operation *op, DictionaryAttr values,
                                   bool repeated, int64_t copies) {
  for (NamedAttribute entry : values) {
    auto array = dyn_cast<DenseF64ArrayAttr>(entry.getValue());
    if (!array || (repeated && int64_t(array.size()) == copies))
      continue;
    InFlightDiagnostic diag =
        op->emitError() << "'tp.values' entry '" << entry.getName().getValue()
                        << "' has " << array.size() << " values but ";
    if (repeated)
      diag << "the op has " << copies
           << " block copies; give one value per copy";
    else
      diag << "the op is not repeated; give one f64";
    return diag;
  }
  return success();
}

LogicalResult tp::verifyAnnotations(ModelOp model, const ModelIndex &index) {
  TPDialect &tp = tpDialect(model);
  BufferAttr buffer = tp.getBufferAttrHelper().getAttr(model);
  StringRef optimizer;
  bool oneBeta = false;
  if (auto p = model->getAttrOfType<DictionaryAttr>("tp.parametrization")) {
    if (auto s = p.getAs<StringAttr>("optimizer"))
      optimizer = s.getValue();
    if (auto options = p.getAs<DictionaryAttr>("optimizer_options"))
      if (auto nesterov = options.getAs<BoolAttr>("nesterov"))
        oneBeta = nesterov.getValue();
  }

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

    if (auto scaling = param->getAttrOfType<DictionaryAttr>("tp.scaling"))
      if (auto widthDim = scaling.getAs<StringAttr>("width_dim"))
        if (!llvm::is_contained(param.getType().getDims(), widthDim)) {
          param->emitError()
              << "'tp.scaling' entry 'width_dim' names '" << widthDim.getValue()
              << "', which is not a dim of this parameter";
          return WalkResult::interrupt();
        }

    if (auto values = param->getAttrOfType<DictionaryAttr>("tp.values")) {
      for (StringRef key : stepQuantities(optimizer, oneBeta))
        if (!values.get(key)) {
          param->emitError() << "'tp.values' needs '" << key << "', which the "
                             << optimizer << " step reads";
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
    auto values = residual->getAttrOfType<DictionaryAttr>("tp.values");
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
