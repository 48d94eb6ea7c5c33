//===- Parametrization.cpp - The optimizer in #tp.parametrization ---------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Utils/Parametrization.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tp;

ParametrizationAttr tp::getParametrizationAttr(MLIRContext *context,
                                               const Parametrization &p,
                                               const OptimizerSpec &spec,
                                               ScaleAttr steps) {
  auto flag = [&](StringRef key, bool v) {
    return spec.has(key) ? std::optional<bool>(v) : std::nullopt;
  };
  auto number = [&](StringRef key, double v, bool applies = true) {
    return spec.has(key) && applies ? std::optional<APFloat>(APFloat(v))
                                    : std::nullopt;
  };
  auto units = spec.has("units") ? std::optional(spec.units) : std::nullopt;
  auto angle = spec.has("angle") ? std::optional(spec.angle) : std::nullopt;
  return ParametrizationAttr::get(
      context, p.scheme, spec.optimizer, p.alpha, steps, p.unscaledEps,
      flag("bias-correction1", spec.biasCorrection1),
      flag("nesterov", spec.nesterov),
      number("beta", spec.beta, /*applies=*/spec.nesterov),
      flag("inverse-bias-correction", spec.inverseBiasCorrection), units,
      number("rms", spec.rms), flag("zero-mean", spec.zeroMean),
      number("rho", spec.rho), number("rotational-eps", spec.rotationalEps),
      angle);
}

llvm::Expected<OptimizerSpec>
tp::readOptimizerSpec(ParametrizationAttr parametrization) {
  // The options as `--optimizer` takes them, so that one parser checks both.
  SmallVector<std::string> options;
  auto add = [&](StringRef key, const auto &value, auto text) {
    if (value)
      options.push_back((key + "=" + text(*value)).str());
  };
  auto flag = [](bool v) { return std::string(v ? "true" : "false"); };
  auto number = [](const APFloat &v) {
    return llvm::formatv("{0}", llvm::format("%.17g", v.convertToDouble()))
        .str();
  };
  ParametrizationAttr p = parametrization;
  add("bias-correction1", p.getBiasCorrection1(), flag);
  add("nesterov", p.getNesterov(), flag);
  add("beta", p.getBeta(), number);
  add("inverse-bias-correction", p.getInverseBiasCorrection(), flag);
  add("units", p.getUnits(),
      [](UpdateUnits u) { return stringifyUpdateUnits(u).str(); });
  add("rms", p.getRms(), number);
  add("zero-mean", p.getZeroMean(), flag);
  add("rho", p.getRho(), number);
  add("rotational-eps", p.getRotationalEps(), number);
  add("angle", p.getAngle(),
      [](AngleRule a) { return stringifyAngleRule(a).str(); });
  std::string text = stringifyOptimizer(p.getOptimizer()).str();
  if (!options.empty())
    text += ":" + llvm::join(options, ",");
  llvm::Expected<OptimizerSpec> spec = parseOptimizerSpec(text);
  if (!spec)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "tp.parametrization: " +
                                       llvm::toString(spec.takeError()));
  return spec;
}
