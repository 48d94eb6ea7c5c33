//===- StepRules.h - One definition per optimizer family --------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A step rule is what the step kernels of every target share for one
// optimizer: the per-step scalars of a tensor copy (computed in f64 from its
// constants, the step and the schedule's factor, rounded once to f32, as
// PyTorch computes them in Python floats) and the per-element update (f32 in
// ATen's operation order, no contraction). The CPU loop and the GPU kernel's
// 4-wide and scalar paths are all built from `update`.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_STEPRULES_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_STEPRULES_H

#include "KernelIR.h"
#include "muir/Conversion/Optimizers.h"
#include "muir/Parametrization/OptimizerSpec.h"
#include "llvm/Support/ErrorHandling.h"
#include <memory>

namespace mlir::tp {

/// One tensor copy's constants as f64 values (loaded from the constant
/// table).
struct TensorConstants {
  Value lr, weightDecay, eps, beta1, beta2;
};

/// The per-step scalars of one tensor copy; null where a rule needs none.
/// All f32 but `hasWeightDecay` (i1).
struct StepScalars {
  /// lr f (SGD, Lion; Lion with the inverse bias correction: lr f (1 -
  /// beta^t)).
  Value lr;
  /// lr f / bc1 (Adam; lr f without the beta1 correction), lr f a
  /// (Adam-atan2).
  Value stepSize;
  /// sqrt(1 - beta2^t) (Adam).
  Value bc2Sqrt;
  /// 1 / bc1 and b^2 / bc2 (Adam-atan2).
  Value invBc1, vScale;
  /// The factor on p of decoupled weight decay: 1 - lr f wd, or 1 - wd f.
  Value decay;
  /// L2 weight decay (g + wd p) where wd != 0.
  Value weightDecay, hasWeightDecay;
  /// beta1, 1 - beta1, beta2, 1 - beta2 and eps, each rounded once.
  Value beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps;
  /// The step's gradient scale (the global-norm clip factor; 1 otherwise),
  /// the kernel's argument: set by the kernel builders, not the rules.
  Value gradScale;
  /// LionAR: the angle per step eta_r (f64; times 1 - beta^t with the
  /// inverse bias correction).
  Value angle;
};

/// LionAR's per-unit values for the elementwise phase (f32) and the unit's
/// new state (f32): w' = a (w - mean) - b (u - uMean).
struct UnitScalars {
  Value a, b, mean, uMean;
  Value n0, nu;
};

/// The values of one element before (loaded) or after (to store) the
/// update; `s0`/`s1` are null where the optimizer has fewer states.
struct StepElement {
  Value p, g, s0, s1;
};

/// The step of one optimizer (see the file comment).
class StepRule {
public:
  explicit StepRule(const OptimizerInfo &info) : info(info) {}
  virtual ~StepRule() = default;

  /// Name, ABI code and state count.
  const OptimizerInfo &info;

  /// Whether `scalars` needs beta1^t and beta2^t (bias corrections).
  virtual bool usesBiasCorrection() const { return false; }

  /// The per-step scalars of one tensor copy; `lrFactor` is f64, the powers
  /// f64 beta^t (null unless usesBiasCorrection()).
  virtual StepScalars scalars(KernelIR &ir, const TensorConstants &c,
                              Value lrFactor, Value beta1Pow,
                              Value beta2Pow) const = 0;

  /// The update of one element with the scalars of its tensor copy.
  virtual StepElement update(KernelIR &ir, const StepScalars &k,
                             const StepElement &in) const = 0;

  /// The state buffers read and written per element (LionAR's second state
  /// is per unit).
  virtual int elementStates() const { return info.numStates; }

  /// Whether the rule rotates units (LionAR): the kernels then run the unit
  /// phases below for every unit of a copy with units and a non-zero weight
  /// decay, and update() for the other copies.
  virtual bool hasUnits() const { return false; }

  /// The f64 sums of the reduction phase over a unit's elements: `sums`
  /// plus one element's terms (kUnitSums values; the builders fix the
  /// order in which the elements come).
  static constexpr unsigned kUnitSums = 5;
  virtual SmallVector<Value> unitSums(KernelIR &ir, const StepScalars &k,
                                      const StepElement &in,
                                      ValueRange sums) const {
    llvm_unreachable("a rule without units");
  }

  /// The unit's scalars from its sums, its element count (f64), its state
  /// (n0, nu as f32) and the step (f64).
  virtual UnitScalars unitScalars(KernelIR &ir, const StepScalars &k,
                                  ValueRange sums, Value count, Value n0,
                                  Value nu, Value step) const {
    llvm_unreachable("a rule without units");
  }

  /// The elementwise phase of one element of a unit (the gradient as it is
  /// loaded: the scale is applied here, as in apply()).
  virtual StepElement unitUpdate(KernelIR &ir, const StepScalars &k,
                                 const UnitScalars &u,
                                 const StepElement &in) const {
    llvm_unreachable("a rule without units");
  }

  /// update() with the gradient times k.gradScale, as torch's
  /// clip_grad_norm_ scales .grad before the optimizer reads it (g x 1 is
  /// g: an unclipped step has the same bits as without the scale).
  StepElement apply(KernelIR &ir, const StepScalars &k, StepElement in) const {
    in.g = ir.mulf(in.g, k.gradScale);
    return update(ir, k, in);
  }
};

/// The step rule of `info`'s family with the options of `spec`.
std::unique_ptr<StepRule> createStepRule(const OptimizerInfo &info,
                                         const OptimizerSpec &spec);

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_STEPRULES_H
