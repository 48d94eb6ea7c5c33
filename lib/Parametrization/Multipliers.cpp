//===- Multipliers.cpp - Per-module and per-depth multipliers -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Parametrization/Multipliers.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include <cmath>

using namespace mlir::tp;
namespace json = llvm::json;

bool mlir::tp::isScaledQuantity(llvm::StringRef quantity) {
  static const llvm::StringSet<> known = {
      "init_std", "multiplier", "lr", "weight_decay", "eps", "beta1", "beta2"};
  return known.contains(quantity);
}

/// Renders a json::Path error as "file: $.a.b: message".
static llvm::Error pathError(llvm::StringRef file, json::Path::Root &root) {
  std::string message;
  llvm::raw_string_ostream os(message);
  os << file << ": ";
  llvm::handleAllErrors(root.getError(), [&](const llvm::ErrorInfoBase &e) {
    os << e.message();
  });
  return llvm::createStringError(message);
}

/// Reads `{quantity: number}` at `value`.
static bool readFactors(const json::Value &value, json::Path path,
                        llvm::StringMap<double> &out) {
  const json::Object *object = value.getAsObject();
  if (!object) {
    path.report("expected an object of {quantity: factor}");
    return false;
  }
  for (const auto &[key, factor] : *object) {
    json::Path at = path.field(key);
    if (!isScaledQuantity(key)) {
      at.report("unknown quantity; expected init_std, multiplier, lr, "
                "weight_decay, eps, beta1 or beta2");
      return false;
    }
    // A zero weight-decay factor is how a module opts out of decay
    // (nanoGPT decays only matrices); every other factor is positive.
    std::optional<double> number = factor.getAsNumber();
    bool zeroOk = key == "weight_decay";
    if (!number || !std::isfinite(*number) || *number < 0 ||
        (*number == 0 && !zeroOk)) {
      at.report("expected a positive number (0 is allowed for weight_decay)");
      return false;
    }
    out[key] = *number;
  }
  return true;
}

llvm::Expected<Multipliers> Multipliers::load(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(path + ": " + buffer.getError().message());
  llvm::Expected<json::Value> parsed = json::parse((*buffer)->getBuffer());
  if (!parsed)
    return llvm::createStringError(path + ": " +
                                   llvm::toString(parsed.takeError()));
  Multipliers result;
  json::Path::Root root("multipliers");
  json::Path top(root);
  const json::Object *object = parsed->getAsObject();
  if (!object) {
    top.report("expected an object with 'modules' and/or 'depth'");
    return pathError(path, root);
  }
  for (const auto &[key, value] : *object) {
    json::Path at = top.field(key);
    if (key == "modules") {
      const json::Object *modules = value.getAsObject();
      if (!modules) {
        at.report("expected an object of {glob: {quantity: factor}}");
        return pathError(path, root);
      }
      for (const auto &[pattern, factors] : *modules) {
        llvm::Expected<llvm::GlobPattern> glob =
            llvm::GlobPattern::create(pattern);
        if (!glob) {
          llvm::consumeError(glob.takeError());
          at.field(pattern).report("invalid glob pattern");
          return pathError(path, root);
        }
        Module module{pattern.str(), {}};
        if (!readFactors(factors, at.field(pattern), module.factors))
          return pathError(path, root);
        result.modules.push_back(std::move(module));
      }
    } else if (key == "depth") {
      const json::Object *lists = value.getAsObject();
      if (!lists) {
        at.report("expected an object of {quantity: [factor per block]}");
        return pathError(path, root);
      }
      size_t size = 0;
      for (const auto &[quantity, list] : *lists) {
        json::Path q = at.field(quantity);
        if (!isScaledQuantity(quantity)) {
          q.report("unknown quantity; expected init_std, multiplier, lr, "
                   "weight_decay, eps, beta1 or beta2");
          return pathError(path, root);
        }
        const json::Array *array = list.getAsArray();
        if (!array || array->empty()) {
          q.report("expected a non-empty list with one factor per base block");
          return pathError(path, root);
        }
        if (size && array->size() != size) {
          q.report("every depth list needs one factor per base block; "
                   "lists differ in length");
          return pathError(path, root);
        }
        size = array->size();
        std::vector<double> factors;
        for (auto [i, item] : llvm::enumerate(*array)) {
          std::optional<double> number = item.getAsNumber();
          if (!number || !(*number > 0) || !std::isfinite(*number)) {
            q.index(i).report("expected a positive number");
            return pathError(path, root);
          }
          factors.push_back(*number);
        }
        result.depth[quantity] = std::move(factors);
      }
    } else {
      at.report("unknown key; expected 'modules' or 'depth'");
      return pathError(path, root);
    }
  }
  return result;
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
