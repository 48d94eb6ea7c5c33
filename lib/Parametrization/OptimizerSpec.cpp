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
#include "muir/Support/Format.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include <cmath>

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
    {"bias-correction1", Kind::boolean, isAdamFamily,
     &OptimizerSpec::biasCorrection1},
    {"nesterov", Kind::boolean, isLionFamily, &OptimizerSpec::nesterov},
    {"beta", Kind::number, isLionFamily, nullptr, &OptimizerSpec::beta, nullptr,
     nullptr, [](double v) { return v > 0.0 && v < 1.0; }, "in (0, 1)"},
    {"inverse-bias-correction", Kind::boolean, isLionFamily,
     &OptimizerSpec::inverseBiasCorrection},
    {"units", Kind::units, isLionAR, nullptr, nullptr, &OptimizerSpec::units},
    {"rms", Kind::number, isLionA, nullptr, &OptimizerSpec::rms, nullptr,
     nullptr, [](double v) { return v >= 0.0 && std::isfinite(v); },
     "0 (AdamW's equilibrium RMS) or positive"},
    {"zero-mean", Kind::boolean, isLionAR, &OptimizerSpec::zeroMean},
    {"rho", Kind::number, isLionAR, nullptr, &OptimizerSpec::rho, nullptr,
     nullptr, [](double v) { return v >= 0.0 && v < 1.0; }, "in [0, 1)"},
    {"rotational-eps", Kind::number, isLionAR, nullptr,
     &OptimizerSpec::rotationalEps, nullptr, nullptr,
     [](double v) { return v >= 0.0 && std::isfinite(v); }, "finite, >= 0"},
    {"angle", Kind::angle, isLionAR, nullptr, nullptr, nullptr,
     &OptimizerSpec::angle},
};

/// `recipe`: the momentum recipe (one beta, Nesterov, inverse bias
/// correction) as one word.
constexpr StringLiteral kRecipe = "recipe";

std::string valueText(const OptimizerSpec &s, const Option &o) {
  switch (o.kind) {
  case Kind::boolean:
    return s.*o.flag ? "true" : "false";
  case Kind::number:
    return muir::formatShortest(s.*o.number);
  case Kind::units:
    return stringifyUpdateUnits(s.*o.units).str();
  case Kind::angle:
    return stringifyAngleRule(s.*o.angle).str();
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

bool OptimizerSpec::has(StringRef key) const {
  return llvm::any_of(kOptions, [&](const Option &o) {
    return key == o.key && o.applies(optimizer);
  });
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
    if (std::optional<UpdateUnits> units = symbolizeUpdateUnits(value)) {
      s.*o.units = *units;
      return llvm::Error::success();
    }
    return bad(enumSpellings<UpdateUnits>());
  case Kind::angle:
    if (std::optional<AngleRule> angle = symbolizeAngleRule(value)) {
      s.*o.angle = *angle;
      return llvm::Error::success();
    }
    return bad(enumSpellings<AngleRule>());
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
