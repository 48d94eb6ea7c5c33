//===- OptimizerSpec.cpp - An optimizer and its options -------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One table of options per family: its key, how to print and parse its
// value, and where it lives in OptimizerSpec. The spec string, the IR
// dictionary and the messages all come from that table.
//
//===----------------------------------------------------------------------===//

#include "muir/Parametrization/OptimizerSpec.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include <cmath>
#include <fmt/format.h>

using namespace mlir;
using namespace mlir::tp;

namespace {

bool isAdamFamily(Optimizer o) {
  return o == Optimizer::adam || o == Optimizer::adamw ||
         o == Optimizer::adamwDecoupled;
}
bool isLionFamily(Optimizer o) {
  return o == Optimizer::lion || o == Optimizer::lionA ||
         o == Optimizer::lionAR;
}

/// How one option is read and written.
enum class Kind { boolean, number, units, angle };

struct Option {
  /// As written in the spec (kebab-case).
  const char *key;
  /// In `optimizer_options` (snake_case).
  const char *attrKey;
  Kind kind;
  /// Which optimizers have it.
  bool (*applies)(Optimizer);
  /// The field (one of these, by kind).
  bool OptimizerSpec::*flag = nullptr;
  double OptimizerSpec::*number = nullptr;
  UpdateUnits OptimizerSpec::*units = nullptr;
  AngleRule OptimizerSpec::*angle = nullptr;
  /// For numbers: the accepted range, as a check and its text.
  bool (*valid)(double) = nullptr;
  const char *range = "";
};

bool isLionA(Optimizer o) { return o == Optimizer::lionA; }
bool isLionAR(Optimizer o) { return o == Optimizer::lionAR; }

const Option kOptions[] = {
    {"bias-correction1", "bias_correction1", Kind::boolean, isAdamFamily,
     &OptimizerSpec::biasCorrection1},
    {"nesterov", "nesterov", Kind::boolean, isLionFamily,
     &OptimizerSpec::nesterov},
    {"beta", "beta", Kind::number, isLionFamily, nullptr, &OptimizerSpec::beta,
     nullptr, nullptr, [](double v) { return v > 0.0 && v < 1.0; },
     "in (0, 1)"},
    {"inverse-bias-correction", "inverse_bias_correction", Kind::boolean,
     isLionFamily, &OptimizerSpec::inverseBiasCorrection},
    {"units", "units", Kind::units, isLionAR, nullptr, nullptr,
     &OptimizerSpec::units},
    {"rms", "rms", Kind::number, isLionA, nullptr, &OptimizerSpec::rms, nullptr,
     nullptr, [](double v) { return v >= 0.0 && std::isfinite(v); },
     "0 (AdamW's equilibrium RMS) or positive"},
    {"zero-mean", "zero_mean", Kind::boolean, isLionAR,
     &OptimizerSpec::zeroMean},
    {"rho", "rho", Kind::number, isLionAR, nullptr, &OptimizerSpec::rho,
     nullptr, nullptr, [](double v) { return v >= 0.0 && v < 1.0; },
     "in [0, 1)"},
    {"rotational-eps", "rotational_eps", Kind::number, isLionAR, nullptr,
     &OptimizerSpec::rotationalEps, nullptr, nullptr,
     [](double v) { return v >= 0.0 && std::isfinite(v); }, "finite, >= 0"},
    {"angle", "angle", Kind::angle, isLionAR, nullptr, nullptr, nullptr,
     &OptimizerSpec::angle},
};

/// `recipe`: the momentum recipe (one beta, Nesterov, inverse bias
/// correction) as one word.
constexpr StringLiteral kRecipe = "recipe";

StringRef unitsName(UpdateUnits u) {
  return u == UpdateUnits::row ? "row" : "tensor";
}
StringRef angleName(AngleRule a) {
  return a == AngleRule::equilibrium ? "equilibrium" : "lr";
}

std::string valueText(const OptimizerSpec &s, const Option &o) {
  switch (o.kind) {
  case Kind::boolean:
    return s.*o.flag ? "true" : "false";
  case Kind::number:
    return fmt::format("{}", s.*o.number);
  case Kind::units:
    return unitsName(s.*o.units).str();
  case Kind::angle:
    return angleName(s.*o.angle).str();
  }
  return "";
}

/// The keys `optimizer` accepts, for messages.
std::string keysOf(Optimizer optimizer) {
  std::vector<std::string> keys;
  for (const Option &o : kOptions)
    if (o.applies(optimizer))
      keys.push_back(o.key);
  if (isLionFamily(optimizer))
    keys.push_back(kRecipe.str());
  return keys.empty() ? std::string("none")
                      : llvm::join(keys.begin(), keys.end(), ", ");
}

llvm::Error specError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

OptimizerSpec OptimizerSpec::defaults(Optimizer optimizer) {
  OptimizerSpec s;
  s.optimizer = optimizer;
  return s;
}

std::string OptimizerSpec::str(bool all) const {
  OptimizerSpec d = defaults(optimizer);
  std::vector<std::string> parts;
  for (const Option &o : kOptions) {
    if (!o.applies(optimizer))
      continue;
    std::string v = valueText(*this, o);
    if (all || v != valueText(d, o))
      parts.push_back(std::string(o.key) + "=" + v);
  }
  std::string out = stringifyOptimizer(optimizer).str();
  if (!parts.empty())
    out += ":" + llvm::join(parts.begin(), parts.end(), ",");
  return out;
}

DictionaryAttr OptimizerSpec::toAttr(MLIRContext *context) const {
  Builder b(context);
  SmallVector<NamedAttribute> entries;
  for (const Option &o : kOptions) {
    if (!o.applies(optimizer))
      continue;
    Attribute v;
    switch (o.kind) {
    case Kind::boolean:
      v = b.getBoolAttr(this->*o.flag);
      break;
    case Kind::number:
      v = b.getF64FloatAttr(this->*o.number);
      break;
    case Kind::units:
      v = b.getStringAttr(unitsName(this->*o.units));
      break;
    case Kind::angle:
      v = b.getStringAttr(angleName(this->*o.angle));
      break;
    }
    entries.push_back(b.getNamedAttr(o.attrKey, v));
  }
  if (entries.empty())
    return {};
  return b.getDictionaryAttr(entries);
}

std::string mlir::tp::optimizerList() { return enumSpellings<Optimizer>(); }

/// Sets option `o` of `s` from `value` (as written in a spec).
static llvm::Error setOption(OptimizerSpec &s, const Option &o, StringRef value,
                             StringRef text) {
  auto bad = [&](StringRef expected) {
    return specError("'" + text + "': option '" + o.key + "' takes " +
                     expected + ", not '" + value + "'");
  };
  switch (o.kind) {
  case Kind::boolean:
    if (value == "true" || value == "1" || value.empty())
      s.*o.flag = true;
    else if (value == "false" || value == "0")
      s.*o.flag = false;
    else
      return bad("true or false");
    return llvm::Error::success();
  case Kind::number: {
    double v;
    if (value.getAsDouble(v) || !o.valid(v))
      return bad(std::string("a number ") + o.range);
    s.*o.number = v;
    return llvm::Error::success();
  }
  case Kind::units:
    if (value == "row" || value == "tensor") {
      s.*o.units = value == "row" ? UpdateUnits::row : UpdateUnits::tensor;
      return llvm::Error::success();
    }
    return bad("row or tensor");
  case Kind::angle:
    if (value == "equilibrium" || value == "lr") {
      s.*o.angle = value == "lr" ? AngleRule::lr : AngleRule::equilibrium;
      return llvm::Error::success();
    }
    return bad("equilibrium or lr");
  }
  return llvm::Error::success();
}

llvm::Expected<OptimizerSpec> mlir::tp::parseOptimizerSpec(StringRef text) {
  StringRef name, options;
  std::tie(name, options) = text.trim().split(':');
  std::optional<Optimizer> optimizer = symbolizeOptimizer(name.trim());
  if (!optimizer)
    return specError("'" + name.trim() + "' is unknown; expected " +
                     optimizerList());
  OptimizerSpec s = OptimizerSpec::defaults(*optimizer);
  if (text.contains(':') && options.trim().empty())
    return specError("'" + text + "': no option after ':'");
  SmallVector<StringRef> items;
  if (!options.empty())
    options.split(items, ',');
  llvm::StringSet<> seen;
  for (StringRef item : items) {
    if (item.trim().empty())
      return specError("'" + text +
                       "': an empty option (a comma at either end of the "
                       "list, or two in a row)");
    StringRef key, value;
    std::tie(key, value) = item.split('=');
    key = key.trim();
    value = value.trim();
    if (!seen.insert(key).second)
      return specError("'" + text + "': option '" + key + "' is given twice");
    if (key == kRecipe && isLionFamily(*optimizer)) {
      if (item.contains('='))
        return specError("'" + text + "': option 'recipe' takes no value (" +
                         name.trim() + ":recipe)");
      s.nesterov = true;
      s.inverseBiasCorrection = true;
      continue;
    }
    const Option *o =
        llvm::find_if(kOptions, [&](const Option &o) { return key == o.key; });
    if (o == std::end(kOptions) || !o->applies(*optimizer))
      return specError("'" + text + "': '" + name.trim() + "' has no option '" +
                       key + "' (it has " + keysOf(*optimizer) + ")");
    if (!item.contains('=') && o->kind != Kind::boolean)
      return specError("'" + text + "': option '" + key + "' needs a value (" +
                       key + "=...)");
    if (llvm::Error e = setOption(s, *o, value, text))
      return std::move(e);
  }
  if (seen.contains("beta") && !s.nesterov)
    return specError("'" + text +
                     "': 'beta' is the one beta of the momentum recipe; add "
                     "'nesterov' or 'recipe' (without them Lion's betas are "
                     "beta1 and beta2)");
  return s;
}

llvm::Expected<OptimizerSpec>
mlir::tp::readOptimizerSpec(DictionaryAttr parametrization) {
  auto name = parametrization ? parametrization.getAs<StringAttr>("optimizer")
                              : StringAttr();
  if (!name)
    return specError("the model's tp.parametrization names no optimizer; run "
                     "tp-parametrize");
  std::optional<Optimizer> optimizer = symbolizeOptimizer(name.getValue());
  if (!optimizer)
    return specError("unknown optimizer '" + name.getValue() + "'; expected " +
                     optimizerList());
  OptimizerSpec s = OptimizerSpec::defaults(*optimizer);
  auto options = parametrization.getAs<DictionaryAttr>("optimizer_options");
  if (!options)
    return s;
  for (NamedAttribute entry : options) {
    StringRef key = entry.getName().getValue();
    const Option *o = llvm::find_if(
        kOptions, [&](const Option &o) { return key == o.attrKey; });
    if (o == std::end(kOptions) || !o->applies(*optimizer))
      return specError("optimizer_options: '" + name.getValue() +
                       "' has no option '" + key + "'");
    Attribute v = entry.getValue();
    auto mismatch = [&] {
      return specError("optimizer_options: '" + key +
                       "' has a value of the "
                       "wrong kind");
    };
    switch (o->kind) {
    case Kind::boolean:
      if (auto b = dyn_cast<BoolAttr>(v))
        s.*o->flag = b.getValue();
      else
        return mismatch();
      break;
    case Kind::number:
      if (auto f = dyn_cast<FloatAttr>(v); f && o->valid(f.getValueAsDouble()))
        s.*o->number = f.getValueAsDouble();
      else
        return specError(std::string("optimizer_options: '") + key +
                         "' must be a number " + o->range);
      break;
    case Kind::units:
    case Kind::angle: {
      auto str = dyn_cast<StringAttr>(v);
      if (!str)
        return mismatch();
      if (llvm::Error e = setOption(s, *o, str.getValue(), name.getValue()))
        return std::move(e);
      break;
    }
    }
  }
  return s;
}
