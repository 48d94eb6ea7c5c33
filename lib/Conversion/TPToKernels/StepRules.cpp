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

namespace {
/// Each Optimizer of TPEnums.td with its muir_optimizer_t of package_abi.h's
/// MUIR_OPTIMIZERS. The static checks below keep the two lists one: every
/// enum value appears here once, and every code of MUIR_OPTIMIZERS once, so
/// adding an optimizer to either without the other does not compile.
constexpr std::pair<Optimizer, muir_optimizer_t> kAbiCodes[] = {
    {Optimizer::sgd, MUIR_OPT_SGD},
    {Optimizer::sgdMomentum, MUIR_OPT_SGD_MOMENTUM},
    {Optimizer::sgdNesterov, MUIR_OPT_SGD_NESTEROV},
    {Optimizer::adam, MUIR_OPT_ADAM},
    {Optimizer::adamw, MUIR_OPT_ADAMW},
    {Optimizer::adamwDecoupled, MUIR_OPT_ADAMW_DECOUPLED},
    {Optimizer::lion, MUIR_OPT_LION},
    {Optimizer::adamAtan2, MUIR_OPT_ADAM_ATAN2},
    {Optimizer::lionA, MUIR_OPT_LION_A},
    {Optimizer::lionAR, MUIR_OPT_LION_AR},
};

constexpr int entriesOf(Optimizer optimizer) {
  int n = 0;
  for (const auto &entry : kAbiCodes)
    n += entry.first == optimizer;
  return n;
}
constexpr int entriesOf(int code) {
  int n = 0;
  for (const auto &entry : kAbiCodes)
    n += int(entry.second) == code;
  return n;
}
constexpr bool everyOptimizerOnce() {
  for (unsigned v = 0; v <= getMaxEnumValForOptimizer(); ++v)
    if (entriesOf(Optimizer(v)) != 1)
      return false;
  return std::size(kAbiCodes) == getMaxEnumValForOptimizer() + 1;
}
static_assert(everyOptimizerOnce(),
              "every Optimizer of TPEnums.td needs one entry of "
              "MUIR_OPTIMIZERS (package_abi.h) in kAbiCodes");
#define MUIR_OPTIMIZER_IN_ENUM(e, code, name, states)                          \
  static_assert(entriesOf(code) == 1, "MUIR_OPTIMIZERS' " name                 \
                                      " needs an Optimizer of TPEnums.td in "  \
                                      "kAbiCodes");
MUIR_OPTIMIZERS(MUIR_OPTIMIZER_IN_ENUM)
#undef MUIR_OPTIMIZER_IN_ENUM
} // namespace

const OptimizerInfo &mlir::tp::lookupOptimizer(Optimizer optimizer) {
  muir_optimizer_t code = llvm::find_if(kAbiCodes, [&](const auto &entry) {
                            return entry.first == optimizer;
                          })->second;
  return *llvm::find_if(
      kOptimizers, [&](const OptimizerInfo &o) { return o.abiCode == code; });
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

protected:
  bool nesterov, inverseBiasCorrection, controlled;
  double rms;
};

/// LionAR (Kosson et al. 2024; REQ's rotational wrapper around Lion, Kosson
/// et al. 2023, shared/optimizers/rotational_wrapper.py): every unit (a row,
/// or the whole copy with units=tensor) of a matrix with weight decay keeps
/// its norm n0 and is rotated by the angle eta_r per step; every other
/// tensor takes the plain Lion update (update()). With u = sign(c) Lion's
/// direction and the unit's state (n0, nu), in exact arithmetic:
///
///   w_c  = n0 (w - mean w) / ||w - mean w||   (zero-mean; w when off)
///   u_c  = u - mean u ;  u_p = u_c - w_c <u_c, w_c> / n0^2
///   nu   = rho nu + (1 - rho) ||u_p||^2 ;  a = eta_r n0 / (sqrt(nu / (1 -
///   rho^t)) + eps_r)
///   w'   = (w_c - a u_p) n0 / ||w_c - a u_p||
///
/// All of it follows from five sums over the unit (sum u, sum u w, sum u^2,
/// sum w, sum w^2): ||w_c - a u_p||^2 = n0^2 + a^2 ||u_p||^2 since u_p is
/// orthogonal to w_c, so w' = A (w - mean w) - B (u - mean u) with two
/// scalars per unit: one reduction phase, one elementwise phase. Centring
/// and rescaling every step (exact arithmetic: the identity after the
/// first) keeps rounding from drifting the rows' mean and norm. n0 == 0 in
/// the state means "not recorded yet" (states start zeroed): the first step
/// records n0 = ||w|| and centres the unit (REQ centres at construction
/// and keeps that norm); a unit whose centred norm is 0 cannot rotate and
/// keeps its weights.
class LionARRule : public LionRule {
public:
  LionARRule(const OptimizerInfo &info, const OptimizerSpec &spec)
      : LionRule(info, spec, /*controlled=*/false), zeroMean(spec.zeroMean),
        rho(spec.rho), rotationalEps(spec.rotationalEps),
        angleFromLr(spec.angle == AngleRule::lr) {}

  int elementStates() const override { return 1; }
  bool hasUnits() const override { return true; }

  StepScalars scalars(KernelIR &ir, const TensorConstants &c, Value lrFactor,
                      Value beta1Pow, Value beta2Pow) const override {
    StepScalars k = LionRule::scalars(ir, c, lrFactor, beta1Pow, beta2Pow);
    Value lr = ir.mulf(c.lr, lrFactor), one = ir.f64(1.0);
    Value angle = lr;
    if (!angleFromLr) {
      // REQ's lion_etar_func: sqrt(pi/2) sqrt(2 lr wd) sqrt((1 - b1)^2 +
      // b1^2 (1 - b2)/(1 + b2)); the recipe's Nesterov direction beta m +
      // (1 - beta) g after m's update is Lion's with b1 = beta^2, b2 = beta.
      Value b1 = nesterov ? ir.mulf(c.beta1, c.beta1) : c.beta1;
      Value b2 = nesterov ? c.beta1 : c.beta2;
      Value d = ir.subf(one, b1);
      Value spread = ir.addf(ir.mulf(d, d),
                             ir.divf(ir.mulf(ir.mulf(b1, b1), ir.subf(one, b2)),
                                     ir.addf(one, b2)));
      angle = ir.mulf(
          ir.mulf(ir.f64(std::sqrt(M_PI / 2)),
                  ir.sqrt(ir.mulf(ir.f64(2.0), ir.mulf(lr, c.weightDecay)))),
          ir.sqrt(spread));
    }
    if (inverseBiasCorrection)
      angle = ir.mulf(angle, ir.subf(one, nesterov ? beta1Pow : beta2Pow));
    k.angle = angle;
    return k;
  }

  SmallVector<Value> unitSums(KernelIR &ir, const StepScalars &k,
                              const StepElement &in,
                              ValueRange sums) const override {
    StepElement e = in;
    e.g = ir.mulf(e.g, k.gradScale);
    Value u = ir.toF64(direction(ir, k, e).first), w = ir.toF64(in.p);
    return {ir.addf(sums[0], u), ir.addf(sums[1], ir.mulf(u, w)),
            ir.addf(sums[2], ir.mulf(u, u)), ir.addf(sums[3], w),
            ir.addf(sums[4], ir.mulf(w, w))};
  }

  UnitScalars unitScalars(KernelIR &ir, const StepScalars &k, ValueRange sums,
                          Value count, Value n0State, Value nuState,
                          Value step) const override {
    using P = arith::CmpFPredicate;
    Value zero = ir.f64(0.0), one = ir.f64(1.0);
    Value su = sums[0], suw = sums[1], suu = sums[2], sw = sums[3],
          sww = sums[4];
    Value mean = zeroMean ? ir.divf(sw, count) : zero;
    Value uMean = zeroMean ? ir.divf(su, count) : zero;
    // ||w - mean||^2 and ||u - mean u||^2.
    Value w2 = ir.subf(sww, ir.mulf(sw, mean));
    Value uc2 = ir.subf(suu, ir.mulf(su, uMean));
    // n0: the state's, else recorded now (the norm as stored, f32).
    Value n0Old = ir.toF64(n0State);
    Value centred = ir.cmpf(P::OGT, w2, zero);
    Value recorded = ir.cmpf(P::OGT, n0Old, zero);
    Value n0 =
        ir.select(recorded, n0Old,
                  ir.select(centred, ir.toF64(ir.toF32(ir.sqrt(sww))), zero));
    Value rotates =
        arith::AndIOp::create(ir.b, ir.loc, centred, ir.cmpf(P::OGT, n0, zero));
    // Divisors that are 0 only where the unit does not rotate.
    Value w2Safe = ir.select(rotates, w2, one);
    Value n0Safe = ir.select(rotates, n0, one);
    Value scale = ir.divf(n0Safe, ir.sqrt(w2Safe));
    Value n02 = ir.mulf(n0Safe, n0Safe);
    Value radial = ir.mulf(scale, ir.subf(suw, ir.mulf(mean, su)));
    Value perp2 = ir.subf(uc2, ir.divf(ir.mulf(radial, radial), n02));
    perp2 = ir.select(ir.cmpf(P::OGT, perp2, zero), perp2, zero);
    Value nuOld = ir.toF64(nuState);
    Value nu =
        ir.addf(ir.mulf(ir.f64(rho), nuOld), ir.mulf(ir.f64(1.0 - rho), perp2));
    Value rhoPow = math::PowFOp::create(ir.b, ir.loc, ir.f64(rho), step);
    Value nuHat = ir.divf(nu, ir.subf(one, rhoPow));
    Value a = ir.divf(ir.mulf(k.angle, n0Safe),
                      ir.addf(ir.sqrt(nuHat), ir.f64(rotationalEps)));
    Value r =
        ir.divf(n0Safe, ir.sqrt(ir.addf(n02, ir.mulf(ir.mulf(a, a), perp2))));
    Value coefW = ir.mulf(ir.mulf(r, scale),
                          ir.addf(one, ir.divf(ir.mulf(a, radial), n02)));
    Value coefU = ir.mulf(r, a);
    UnitScalars s;
    s.a = ir.toF32(ir.select(rotates, coefW, one));
    s.b = ir.toF32(ir.select(rotates, coefU, zero));
    s.mean = ir.toF32(ir.select(rotates, mean, zero));
    s.uMean = ir.toF32(ir.select(rotates, uMean, zero));
    s.n0 = ir.toF32(n0);
    s.nu = ir.select(rotates, ir.toF32(nu), nuState);
    return s;
  }

  StepElement unitUpdate(KernelIR &ir, const StepScalars &k,
                         const UnitScalars &u,
                         const StepElement &in) const override {
    StepElement e = in;
    e.g = ir.mulf(e.g, k.gradScale);
    auto [sign, m] = direction(ir, k, e);
    Value w = ir.subf(ir.mulf(u.a, ir.subf(in.p, u.mean)),
                      ir.mulf(u.b, ir.subf(sign, u.uMean)));
    return {w, {}, m, {}};
  }

private:
  bool zeroMean;
  double rho, rotationalEps;
  bool angleFromLr;
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
  case MUIR_OPT_LION_AR:
    return std::make_unique<LionARRule>(info, spec);
  case MUIR_OPT_ADAM_ATAN2:
    return std::make_unique<AdamAtan2Rule>(info);
  }
  llvm_unreachable("an optimizer of MUIR_OPTIMIZERS without a step rule");
}
