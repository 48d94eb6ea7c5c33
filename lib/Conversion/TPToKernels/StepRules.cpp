//===- StepRules.cpp - One definition per optimizer family ----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Numerics follow PyTorch (torch.optim.AdamW/Adam/SGD, 1.13 and later) and
// the reference implementations of Lion (lion-pytorch) and Adam-atan2
// (adam-atan2-pytorch): docs/Lowering.md has the table.
//
//===----------------------------------------------------------------------===//

#include "StepRules.h"
#include "PortableMath.h"
#include "muir/package_abi.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::tp;

static const OptimizerInfo kOptimizers[] = {
#define MUIR_OPTIMIZER_INFO(e, code, name, states) {name, code, states},
    MUIR_OPTIMIZERS(MUIR_OPTIMIZER_INFO)
#undef MUIR_OPTIMIZER_INFO
};

ArrayRef<OptimizerInfo> mlir::tp::optimizers() { return kOptimizers; }

const OptimizerInfo *mlir::tp::lookupOptimizer(StringRef name) {
  for (const OptimizerInfo &o : kOptimizers)
    if (o.name == name)
      return &o;
  return nullptr;
}

std::string mlir::tp::optimizerNames() {
  std::string out;
  for (auto [i, o] : llvm::enumerate(kOptimizers))
    out += (i == 0                            ? ""
            : i + 1 == std::size(kOptimizers) ? " or "
                                              : ", ") +
           o.name.str();
  return out;
}

namespace {

/// The f32 constants every rule may use.
void roundConstants(KernelIR &ir, const TensorConstants &c, StepScalars &k) {
  k.beta1 = ir.toF32(c.beta1);
  k.oneMinusBeta1 = ir.toF32(ir.subf(ir.f64(1.0), c.beta1));
  k.beta2 = ir.toF32(c.beta2);
  k.oneMinusBeta2 = ir.toF32(ir.subf(ir.f64(1.0), c.beta2));
  k.eps = ir.toF32(c.eps);
  k.weightDecay = ir.toF32(c.weightDecay);
  k.hasWeightDecay =
      ir.cmpf(arith::CmpFPredicate::UNE, c.weightDecay, ir.f64(0.0));
}

/// beta prev + (1 - beta) g, each product rounded (ATen's order).
Value average(KernelIR &ir, Value prev, Value g, Value beta,
              Value oneMinusBeta) {
  return ir.addf(ir.mulf(prev, beta), ir.mulf(g, oneMinusBeta));
}

/// g + wd p where wd != 0 (L2 regularisation in the gradient, as
/// torch.optim.Adam and SGD add it only for a non-zero weight decay).
Value withL2(KernelIR &ir, const StepScalars &k, Value g, Value p) {
  return ir.select(k.hasWeightDecay, ir.addf(g, ir.mulf(p, k.weightDecay)), g);
}

/// torch.optim.SGD: d_p = g + wd p; buf = momentum buf + d_p (the first
/// step starts from buf = 0, which gives buf = d_p exactly); nesterov:
/// d_p += momentum buf, else d_p = buf; p -= lr d_p. The momentum is beta1.
class SGDRule : public StepRule {
public:
  SGDRule(const OptimizerInfo &info, bool momentum, bool nesterov)
      : StepRule(info), momentum(momentum), nesterov(nesterov) {}

  StepScalars scalars(KernelIR &ir, const TensorConstants &c, Value lrFactor,
                      Value, Value) const override {
    StepScalars k;
    roundConstants(ir, c, k);
    k.lr = ir.toF32(ir.mulf(c.lr, lrFactor));
    return k;
  }

  StepElement update(KernelIR &ir, const StepScalars &k,
                     const StepElement &in) const override {
    Value d = withL2(ir, k, in.g, in.p), buf;
    if (momentum) {
      buf = ir.addf(ir.mulf(in.s0, k.beta1), d);
      d = nesterov ? ir.addf(d, ir.mulf(buf, k.beta1)) : buf;
    }
    return {ir.subf(in.p, ir.mulf(k.lr, d)), {}, buf, {}};
  }

private:
  bool momentum, nesterov;
};

/// How the Adam family applies weight decay.
enum class AdamDecay {
  /// Adam: g + wd p (L2).
  l2,
  /// AdamW (PyTorch): p (1 - lr f wd).
  lrTimesWd,
  /// Decoupled AdamW (Loshchilov-Hutter): p (1 - wd f); wd is the
  /// instantiated per-step decay, scaled by the schedule as lr is.
  factorTimesWd,
};

/// m = beta1 m + (1 - beta1) g, v = beta2 v + ((1 - beta2) g) g, both in
/// ATen's order; the update of Adam and Adam-atan2 differ after that.
std::pair<Value, Value> moments(KernelIR &ir, const StepScalars &k, Value g,
                                const StepElement &in) {
  Value m = average(ir, in.s0, g, k.beta1, k.oneMinusBeta1);
  Value v =
      ir.addf(ir.mulf(in.s1, k.beta2), ir.mulf(ir.mulf(k.oneMinusBeta2, g), g));
  return {m, v};
}

/// torch.optim.Adam/AdamW: p -= (lr/bc1) (m / (sqrt(v)/sqrt(bc2) + eps)),
/// with bias_correction1 = 1 - beta1^t, step_size = lr / bc1 and
/// bc2_sqrt = sqrt(1 - beta2^t) in double, as in PyTorch.
///
/// Without the beta1 correction (Kosson et al. 2024) the step size is lr f:
/// the first steps are (1 - beta1^t) of PyTorch's.
class AdamRule : public StepRule {
public:
  AdamRule(const OptimizerInfo &info, AdamDecay decay, bool biasCorrection1)
      : StepRule(info), decay(decay), biasCorrection1(biasCorrection1) {}

  bool usesBiasCorrection() const override { return true; }

  StepScalars scalars(KernelIR &ir, const TensorConstants &c, Value lrFactor,
                      Value beta1Pow, Value beta2Pow) const override {
    StepScalars k;
    roundConstants(ir, c, k);
    Value lr = ir.mulf(c.lr, lrFactor);
    if (decay != AdamDecay::l2) {
      Value by = decay == AdamDecay::factorTimesWd ? lrFactor : lr;
      k.decay = ir.toF32(ir.subf(ir.f64(1.0), ir.mulf(by, c.weightDecay)));
    }
    k.stepSize = ir.toF32(
        biasCorrection1 ? ir.divf(lr, ir.subf(ir.f64(1.0), beta1Pow)) : lr);
    k.bc2Sqrt = ir.toF32(ir.sqrt(ir.subf(ir.f64(1.0), beta2Pow)));
    return k;
  }

  StepElement update(KernelIR &ir, const StepScalars &k,
                     const StepElement &in) const override {
    Value p = in.p, g = in.g;
    if (decay == AdamDecay::l2)
      g = withL2(ir, k, g, p);
    else
      p = ir.mulf(p, k.decay);
    auto [m, v] = moments(ir, k, g, in);
    Value denom = ir.addf(ir.divf(ir.sqrt(v), k.bc2Sqrt), k.eps);
    return {ir.subf(p, ir.mulf(k.stepSize, ir.divf(m, denom))), {}, m, v};
  }

private:
  AdamDecay decay;
  bool biasCorrection1;
};

/// Adam-atan2 (Everett et al. 2024): p (1 - lr wd) - (lr a) atan2(m / bc1,
/// sqrt(v b^2 / bc2)), no eps, with the reference implementation's
/// a = 1.27 and b = 1 (lucidrains/adam-atan2-pytorch).
class AdamAtan2Rule : public StepRule {
public:
  using StepRule::StepRule;
  static constexpr double kA = 1.27, kB = 1.0;

  bool usesBiasCorrection() const override { return true; }

  StepScalars scalars(KernelIR &ir, const TensorConstants &c, Value lrFactor,
                      Value beta1Pow, Value beta2Pow) const override {
    StepScalars k;
    roundConstants(ir, c, k);
    Value lr = ir.mulf(c.lr, lrFactor);
    Value one = ir.f64(1.0);
    k.decay = ir.toF32(ir.subf(one, ir.mulf(lr, c.weightDecay)));
    k.stepSize = ir.toF32(ir.mulf(lr, ir.f64(kA)));
    k.invBc1 = ir.toF32(ir.divf(one, ir.subf(one, beta1Pow)));
    k.vScale = ir.toF32(ir.divf(ir.f64(kB * kB), ir.subf(one, beta2Pow)));
    return k;
  }

  StepElement update(KernelIR &ir, const StepScalars &k,
                     const StepElement &in) const override {
    Value p = ir.mulf(in.p, k.decay);
    auto [m, v] = moments(ir, k, in.g, in);
    Value den = ir.sqrt(ir.mulf(v, k.vScale));
    Value step = emitPortableAtan2(ir.b, ir.loc, ir.mulf(m, k.invBc1), den);
    return {ir.subf(p, ir.mulf(k.stepSize, step)), {}, m, v};
  }
};

/// Lion (Chen et al. 2023; lion-pytorch's order, one state):
/// c = beta1 m + (1 - beta1) g; p = p (1 - lr wd) - lr sign(c), sign(0) = 0
/// as torch.sign; m = beta2 m + (1 - beta2) g.
///
/// The momentum recipe of Kosson et al. 2024 (`nesterov`): one beta (the
/// beta1 row), m = beta m + (1 - beta) g first, then c = beta m + (1 - beta)
/// g from the new m. The inverse bias correction multiplies the sign step
/// (not the decay) by 1 - beta_m^t, beta_m the momentum's own decay (beta2,
/// or the one beta).
///
/// LionA (Kosson et al. 2024, `controlled`): the sign step times a fixed
/// RMS, so the update's l2 norm is rms sqrt(C) whatever the gradients
/// (exact but for exact zeros of c): the option's value, or AdamW's
/// equilibrium RMS sqrt((1 - beta1) / (1 + beta1)) of the tensor's beta1.
class LionRule : public StepRule {
public:
  LionRule(const OptimizerInfo &info, const OptimizerSpec &spec,
           bool controlled)
      : StepRule(info), nesterov(spec.nesterov),
        inverseBiasCorrection(spec.inverseBiasCorrection),
        controlled(controlled), rms(spec.rms) {}

  bool usesBiasCorrection() const override { return inverseBiasCorrection; }

  StepScalars scalars(KernelIR &ir, const TensorConstants &c, Value lrFactor,
                      Value beta1Pow, Value beta2Pow) const override {
    StepScalars k;
    roundConstants(ir, c, k);
    Value lr = ir.mulf(c.lr, lrFactor);
    k.decay = ir.toF32(ir.subf(ir.f64(1.0), ir.mulf(lr, c.weightDecay)));
    if (inverseBiasCorrection)
      lr = ir.mulf(lr, ir.subf(ir.f64(1.0), nesterov ? beta1Pow : beta2Pow));
    if (controlled)
      lr = ir.mulf(lr, rms > 0.0
                           ? ir.f64(rms)
                           : ir.sqrt(ir.divf(ir.subf(ir.f64(1.0), c.beta1),
                                             ir.addf(ir.f64(1.0), c.beta1))));
    k.lr = ir.toF32(lr);
    return k;
  }

  /// sign(c) with sign(0) = 0 (torch.sign), and the new momentum.
  std::pair<Value, Value> direction(KernelIR &ir, const StepScalars &k,
                                    const StepElement &in) const {
    Value m, c;
    if (nesterov) {
      m = average(ir, in.s0, in.g, k.beta1, k.oneMinusBeta1);
      c = average(ir, m, in.g, k.beta1, k.oneMinusBeta1);
    } else {
      c = average(ir, in.s0, in.g, k.beta1, k.oneMinusBeta1);
      m = average(ir, in.s0, in.g, k.beta2, k.oneMinusBeta2);
    }
    Value zero = ir.f32(0.0);
    Value sign =
        ir.select(ir.cmpf(arith::CmpFPredicate::OGT, c, zero), ir.f32(1.0),
                  ir.select(ir.cmpf(arith::CmpFPredicate::OLT, c, zero),
                            ir.f32(-1.0), zero));
    return {sign, m};
  }

  StepElement update(KernelIR &ir, const StepScalars &k,
                     const StepElement &in) const override {
    auto [sign, m] = direction(ir, k, in);
    return {ir.subf(ir.mulf(in.p, k.decay), ir.mulf(k.lr, sign)), {}, m, {}};
  }

private:
  bool nesterov, inverseBiasCorrection, controlled;
  double rms;
};

} // namespace

std::unique_ptr<StepRule> mlir::tp::createStepRule(const OptimizerInfo &info,
                                                   const OptimizerSpec &spec) {
  bool bc1 = spec.biasCorrection1;
  switch (info.abiCode) {
  case MUIR_OPT_SGD:
    return std::make_unique<SGDRule>(info, false, false);
  case MUIR_OPT_SGD_MOMENTUM:
    return std::make_unique<SGDRule>(info, true, false);
  case MUIR_OPT_SGD_NESTEROV:
    return std::make_unique<SGDRule>(info, true, true);
  case MUIR_OPT_ADAM:
    return std::make_unique<AdamRule>(info, AdamDecay::l2, bc1);
  case MUIR_OPT_ADAMW:
    return std::make_unique<AdamRule>(info, AdamDecay::lrTimesWd, bc1);
  case MUIR_OPT_ADAMW_DECOUPLED:
    return std::make_unique<AdamRule>(info, AdamDecay::factorTimesWd, bc1);
  case MUIR_OPT_LION:
    return std::make_unique<LionRule>(info, spec, /*controlled=*/false);
  case MUIR_OPT_LION_A:
    return std::make_unique<LionRule>(info, spec, /*controlled=*/true);
  case MUIR_OPT_ADAM_ATAN2:
    return std::make_unique<AdamAtan2Rule>(info);
  }
  llvm_unreachable("an optimizer of MUIR_OPTIMIZERS without a step rule");
}
