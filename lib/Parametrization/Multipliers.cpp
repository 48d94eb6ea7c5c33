//===- Multipliers.cpp - Per-module and per-depth multipliers -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Parametrization/Multipliers.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include <cmath>

using namespace mlir::tp;
using muir::JSONDocument;
using muir::JSONPathStep;
namespace json = llvm::json;

bool mlir::tp::isScaledQuantity(llvm::StringRef quantity) {
  static const llvm::StringSet<> known = {"init_std",     "multiplier", "lr",
                                          "weight_decay", "eps",        "beta1",
                                          "beta2",        "residual"};
  return known.contains(quantity);
}

static constexpr llvm::StringLiteral kQuantities =
    "init_std, multiplier, lr, weight_decay, eps, beta1, beta2 or residual";

/// Reads `{quantity: number}` at `path`.
static llvm::Error readFactors(const JSONDocument &doc,
                               std::vector<JSONPathStep> path,
                               const json::Value &value,
                               llvm::StringMap<double> &out) {
  const json::Object *object = value.getAsObject();
  if (!object)
    return doc.error(path, "expected an object of {quantity: factor}");
  for (const auto &[key, factor] : *object) {
    path.push_back(key.str());
    if (!isScaledQuantity(key))
      return doc.error(path, "unknown quantity; expected " + kQuantities);
    // A zero weight-decay factor is how a module opts out of decay
    // (nanoGPT decays only matrices); every other factor is positive.
    std::optional<double> number = factor.getAsNumber();
    bool zeroOk = key == "weight_decay";
    if (!number || !std::isfinite(*number) || *number < 0 ||
        (*number == 0 && !zeroOk))
      return doc.error(
          path, "expected a positive number (0 is allowed for weight_decay)");
    out[key] = *number;
    path.pop_back();
  }
  return llvm::Error::success();
}

llvm::Expected<Multipliers> Multipliers::load(llvm::StringRef path) {
  llvm::Expected<JSONDocument> doc =
      JSONDocument::read(path, "the multipliers file");
  if (!doc)
    return doc.takeError();
  return fromDocument(std::make_shared<JSONDocument>(std::move(*doc)));
}

llvm::Expected<Multipliers> Multipliers::parse(llvm::StringRef text,
                                               llvm::StringRef path) {
  llvm::Expected<JSONDocument> doc = JSONDocument::parse(text, path);
  if (!doc)
    return doc.takeError();
  return fromDocument(std::make_shared<JSONDocument>(std::move(*doc)));
}

llvm::Expected<Multipliers>
Multipliers::fromDocument(std::shared_ptr<const JSONDocument> document) {
  const JSONDocument &doc = *document;
  Multipliers result;
  result.doc = document;
  const json::Object *object = doc.root().getAsObject();
  if (!object)
    return doc.error({}, "expected an object with 'modules' and/or 'depth'");
  for (const auto &[key, value] : *object) {
    if (key == "modules") {
      const json::Object *modules = value.getAsObject();
      if (!modules)
        return doc.error({"modules"},
                         "expected an object of {glob: {quantity: factor}}");
      for (const auto &[pattern, factors] : *modules) {
        std::vector<JSONPathStep> at = {"modules", pattern.str()};
        llvm::Expected<llvm::GlobPattern> glob =
            llvm::GlobPattern::create(pattern);
        if (!glob)
          return doc.error(at, llvm::toString(glob.takeError()));
        Module module{pattern.str(), {}};
        if (llvm::Error e = readFactors(doc, at, factors, module.factors))
          return std::move(e);
        result.modules.push_back(std::move(module));
      }
    } else if (key == "depth") {
      const json::Object *lists = value.getAsObject();
      if (!lists)
        return doc.error({"depth"},
                         "expected an object of {quantity: [factor per "
                         "block]}");
      size_t size = 0;
      for (const auto &[quantity, list] : *lists) {
        std::vector<JSONPathStep> at = {"depth", quantity.str()};
        if (!isScaledQuantity(quantity))
          return doc.error(at, "unknown quantity; expected " + kQuantities);
        const json::Array *array = list.getAsArray();
        if (!array || array->empty())
          return doc.error(
              at, "expected a non-empty list with one factor per base block");
        if (size && array->size() != size)
          return doc.error(at, "every depth list needs one factor per base "
                               "block; lists differ in length");
        size = array->size();
        std::vector<double> factors;
        for (auto [i, item] : llvm::enumerate(*array)) {
          std::optional<double> number = item.getAsNumber();
          if (!number || !(*number > 0) || !std::isfinite(*number)) {
            at.push_back(i);
            return doc.error(at, "expected a positive number");
          }
          factors.push_back(*number);
        }
        result.depth[quantity] = std::move(factors);
      }
    } else {
      return doc.error({key.str()},
                       "unknown key; expected 'modules' or 'depth'");
    }
  }
  return result;
}

llvm::Error Multipliers::checkModel(llvm::ArrayRef<llvm::StringRef> params,
                                    llvm::ArrayRef<llvm::StringRef> residuals,
                                    int64_t baseBlocks) const {
  if (size_t n = depthListSize(); n && int64_t(n) != baseBlocks)
    return doc->error({"depth"},
                      llvm::formatv("the lists have {0} factors, but the base "
                                    "model has {1} blocks; give one factor "
                                    "per base block",
                                    n, baseBlocks));
  for (const Module &module : modules) {
    llvm::Expected<llvm::GlobPattern> glob =
        llvm::GlobPattern::create(module.pattern);
    if (!glob)
      return glob.takeError();
    auto matches = [&](llvm::StringRef p) { return glob->match(p); };
    if (llvm::any_of(params, matches) || llvm::any_of(residuals, matches))
      continue;
    // Name the parameters, so a misspelt path is easy to fix; a model has a
    // few dozen of them (a repeated block's parameter is one path).
    constexpr size_t kListed = 40;
    std::string list = llvm::join(params.take_front(kListed), ", ");
    if (params.size() > kListed)
      list += llvm::formatv(" and {0} more", params.size() - kListed).str();
    if (!residuals.empty())
      list += "; its residual branches are " + llvm::join(residuals, ", ");
    return doc->error({"modules", module.pattern},
                      "matches no parameter; the model's parameters are " +
                          (params.empty() ? std::string("none") : list));
  }
  return llvm::Error::success();
}

double Multipliers::moduleFactor(llvm::StringRef param,
                                 llvm::StringRef quantity) const {
  double factor = 1.0;
  for (const Module &module : modules) {
    // GlobPattern keeps pointers into its pattern text, so it is compiled
    // here from the owned string rather than stored beside it.
    llvm::Expected<llvm::GlobPattern> glob =
        llvm::GlobPattern::create(module.pattern);
    if (!glob) {
      llvm::consumeError(glob.takeError());
      continue;
    }
    if (glob->match(param)) {
      auto it = module.factors.find(quantity);
      if (it != module.factors.end())
        factor *= it->second;
    }
  }
  return factor;
}

std::vector<double> Multipliers::depthFactors(llvm::StringRef quantity,
                                              int64_t blocks) const {
  const std::vector<double> &base = depth.find(quantity)->second;
  std::vector<double> out;
  for (int64_t l = 0; l < blocks; ++l) {
    // Block l sits at l/(L-1) of the way through the stack; the base list
    // is sampled at the same fraction.
    double x = blocks == 1 ? 0.0 : double(l) / double(blocks - 1);
    double pos = x * double(base.size() - 1);
    size_t i = std::min(size_t(pos), base.size() - 1);
    double frac = pos - double(i);
    double v = base[i];
    if (i + 1 < base.size())
      v = v * (1 - frac) + base[i + 1] * frac;
    out.push_back(v);
  }
  return out;
}

size_t Multipliers::depthListSize() const {
  return depth.empty() ? 0 : depth.begin()->second.size();
}
