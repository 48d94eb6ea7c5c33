//===- OptimizerSpec.h - An optimizer and its options -----------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What `--optimizer` (muirc) and `optimizer=` (tp-parametrize) name: an
// optimizer of the Rules.h list and the options of its family, written
// `name[:option,option=value,...]`, e.g. `adamw:bias-correction1=false` or
// `lion-ar:recipe,units=tensor`. tp-parametrize records the optimizer and
// every option of its family (defaults filled in) in the model's
// #tp.parametrization (lib/Dialect/TP/Utils/Parametrization.cpp); the
// kernels and the package read them back from there. docs/Optimizers.md
// explains each option, its default and its source. Like the rest of the
// rules library, this depends on no IR.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_PARAMETRIZATION_OPTIMIZERSPEC_H
#define MUIR_PARAMETRIZATION_OPTIMIZERSPEC_H

#include "muir/Parametrization/Rules.h"
#include "llvm/Support/Error.h"
#include <string>

namespace mlir::tp {

/// An optimizer and the options of its family (defaults as documented).
struct OptimizerSpec {
  Optimizer optimizer = Optimizer::adamw;

  /// Adam family (adam, adamw, adamw-decoupled): divide the first moment by
  /// 1 - beta1^t (PyTorch). Off: Kosson et al. 2024's AdamW without the
  /// momentum bias correction (an implicit warmup of ~1/(1 - beta1) steps).
  bool biasCorrection1 = true;

  /// Lion family (lion, lion-a, lion-ar): the momentum recipe of Kosson et
  /// al. 2024 replaces Lion's two betas by one, `beta`, in the Nesterov
  /// form m = beta m + (1 - beta) g; u = sign(beta m + (1 - beta) g).
  bool nesterov = false;
  /// The one beta's base value (instantiated as beta1; default 0.98).
  double beta = 0.98;
  /// Lion family: multiply the step by 1 - beta^t (beta1^t without the
  /// recipe): small early steps ramping up over ~1/(1 - beta) steps.
  bool inverseBiasCorrection = false;

  /// LionAR: per row (its default, REQ's per_neuron) or per tensor copy.
  UpdateUnits units = UpdateUnits::row;
  /// LionA: the RMS of its update, rms sign(c); 0 (the default) means
  /// AdamW's equilibrium RMS sqrt((1 - beta1)/(1 + beta1)) with the tensor's
  /// own beta1 (REQ's random-walk result; 0.23 at beta1 = 0.9).
  double rms = 0.0;

  /// LionAR: centre each unit (its mean removed at init and from every
  /// update; REQ's zero_mean, default on).
  bool zeroMean = true;
  /// LionAR: the decay of the EMA nu of the squared update norm (REQ's
  /// update_norm_decay_factor, 0.9).
  double rho = 0.9;
  /// LionAR: added to sqrt(nu-hat) (REQ's rotational_eps, 1e-8).
  double rotationalEps = 1e-8;
  /// LionAR: how the per-step angle is set.
  AngleRule angle = AngleRule::equilibrium;

  /// The defaults of `optimizer`'s family.
  static OptimizerSpec defaults(Optimizer optimizer);

  /// The family's options with their values, `key=value` joined by
  /// commas, after `name:` (`all`: every option, else those that differ
  /// from the defaults; no `:` when there is none).
  std::string str(bool all = false) const;

  /// Whether the family has option `key` (as written in a spec:
  /// `bias-correction1`).
  bool has(llvm::StringRef key) const;

  /// Whether the step uses one beta (the recipe's) instead of two.
  bool oneBeta() const { return nesterov; }
};

/// The optimizer names, "sgd, sgd-momentum, ... or lion-ar", for messages.
std::string optimizerList();

/// Parses `name[:option,...]`. Errors name the bad part and list what the
/// family accepts.
llvm::Expected<OptimizerSpec> parseOptimizerSpec(llvm::StringRef text);

} // namespace mlir::tp

#endif // MUIR_PARAMETRIZATION_OPTIMIZERSPEC_H
