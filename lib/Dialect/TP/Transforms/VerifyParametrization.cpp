//===- VerifyParametrization.cpp - Static checks of scaling rules ---------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Checks `tp.role`/`tp.scaling` annotations, whether written by
// tp-parametrize or by hand, against the invariants that make a
// parametrisation transfer: attention logits 1/d_head, a readout whose
// logits scale like 1/fan_in, a width-invariant (and under Complete^(d)P,
// m_B/m_D) per-step weight decay, and an Adam epsilon that shrinks with the
// gradient. The checks are stated on width exponents alone, so they hold
// for every equivalent muP form (TP5 Lemma J.1) rather than one table.
// Rules and sources: docs/VerifyParametrization.md.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Analysis/Roles.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Dialect/TP/Utils/Parametrization.h"
#include "muir/Parametrization/OptimizerSpec.h"
#include "muir/Parametrization/Rules.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::tp {
#define GEN_PASS_DEF_TPVERIFYPARAMETRIZATION
#include "muir/Dialect/TP/Transforms/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

/// `N^-1/2`: a width exponent as the messages print it.
static std::string widthPower(Rational e) { return "N^" + e.str(); }

/// `B^1 D^-1`, or `1` for the constant monomial, over batch and duration.
static std::string batchDurationPower(Rational batch, Rational duration) {
  std::string s;
  if (!batch.isZero())
    s += "B^" + batch.str();
  if (!duration.isZero())
    s += (s.empty() ? "" : " ") + ("D^" + duration.str());
  return s.empty() ? "1" : s;
}

/// Every scheme but the two SPs is built on one of the muP tables.
static bool isMupFamily(Scheme scheme) {
  return scheme != Scheme::sp && scheme != Scheme::spPytorch;
}

/// The exponent of the gradient of a parameter of `role` in TP5 Table 3's
/// form, where eps tracks it (Complete^(d)P Table 1, muP column): 1/width
/// inside the network, O(1) for the readout, the final norm and scalars.
static Rational table3GradientExponent(Role role) {
  if (role == Role::unembedding || role == Role::final_norm ||
      role == Role::scalar)
    return 0;
  return -1;
}

namespace {
/// One parameter's annotation, read and validated once.
struct Annotation {
  ParamOp param;
  Role role;
  ScalingAttr scaling;
  /// False when the parameter has no width dim: its N exponents then have
  /// no ratio to act on (tp-instantiate uses 1), so width checks skip it.
  bool hasWidth = false;

  ScaleAttr get(Quantity quantity) const { return scaling.getScale(quantity); }
  Rational width(Quantity quantity) const { return get(quantity).getWidth(); }
};

struct TPVerifyParametrizationPass
    : tp::impl::TPVerifyParametrizationBase<TPVerifyParametrizationPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Starts a finding at `op`: a warning, or an error under `strict`.
  InFlightDiagnostic report(Operation *op) {
    ++findings;
    return strict ? op->emitError() : op->emitWarning();
  }

  FailureOr<Parametrization> readParametrization(ModelOp model);
  FailureOr<Annotation> readAnnotation(const ModelIndex &index, ParamOp param,
                                       Optimizer optimizer);

  void checkAttention(const ModelIndex &index, LogitScaleOpInterface attention,
                      Scheme scheme);
  void checkReadout(Annotation readout, Annotation storage,
                    Optimizer optimizer);
  void checkWeightDecay(Annotation a, Scheme scheme, Optimizer optimizer);
  void checkEps(Annotation a);
  void checkDepthOutsideBlocks(Annotation a, const Placements &placements);

  unsigned findings = 0;
  /// LionAR's angle is its lr row (the weight decay only selects rotation).
  bool angleFromLr = false;
};
} // namespace

FailureOr<Parametrization>
TPVerifyParametrizationPass::readParametrization(ModelOp model) {
  ParametrizationAttr recorded =
      tpDialect(model).getParametrizationAttrHelper().getAttr(model);
  if (!recorded)
    return model.emitError()
           << "model has no 'tp.parametrization'; run tp-parametrize first";
  llvm::Expected<OptimizerSpec> spec = readOptimizerSpec(recorded);
  if (!spec)
    return model.emitError() << llvm::toString(spec.takeError());
  // alpha only shapes depth exponents, which these checks do not read.
  Parametrization p{recorded.getScheme(), recorded.getOptimizer(), Rational(1),
                    recorded.getUnscaledEps()};
  p.angleFromLr = spec->angle == AngleRule::lr;
  angleFromLr = p.angleFromLr;
  return p;
}

FailureOr<Annotation> TPVerifyParametrizationPass::readAnnotation(
    const ModelIndex &index, ParamOp param, Optimizer optimizer) {
  auto role = tpDialect(param).getRoleAttrHelper().getAttr(param);
  ScalingAttr scaling = tpDialect(param).getScalingAttrHelper().getAttr(param);
  if (!role || !scaling)
    return param.emitError() << "parameter '" << param.getName() << "' has no "
                             << (role ? "'tp.scaling'" : "'tp.role'")
                             << "; run tp-parametrize first";
  // The verifier has checked the base quantities and that width_dim is one
  // of the parameter's dims (TPAnnotations.cpp).
  if (hasEps(optimizer) && !scaling.getEps())
    return param.emitError() << "'tp.scaling' of '" << param.getName()
                             << "' has no 'eps' monomial; run tp-parametrize "
                                "first";

  Annotation a{param, role.getValue(), scaling};
  StringAttr widthDim = scaling.getWidthDim();
  if (widthDim) {
    a.hasWidth = index.lookupDim(widthDim.getValue())->isWidth;
  } else {
    // tp-instantiate would silently apply none of the N exponents.
    for (StringAttr dimRef : param.getType().getDims())
      if (const DimInfo *dim = index.lookupDim(dimRef.getValue());
          dim && dim->isWidth)
        return param.emitError()
               << "'tp.scaling' of '" << param.getName()
               << "' has no 'width_dim' although its type has the width dim '"
               << dimRef.getValue() << "'; run tp-parametrize first";
  }
  return a;
}

void TPVerifyParametrizationPass::checkAttention(
    const ModelIndex &index, LogitScaleOpInterface attention, Scheme scheme) {
  std::optional<AttentionScale> scale = attention.getScale();
  // Without a scale the parametrisation decides; tp-parametrize sets it.
  if (!isMupFamily(scheme) || scale != AttentionScale::inv_sqrt_head_dim)
    return;
  StringRef headDim = attention.getHeadDim();
  const DimInfo *dim = index.lookupDim(headDim);
  if (dim && !dim->isWidth) {
    // Heads are added, d_head is fixed: 1/sqrt(d) = const * 1/d, which the
    // tunable attention multiplier absorbs.
    attention.emitRemark()
        << "attention logits are scaled by 1/sqrt(d_head); head dim '"
        << headDim << "' is fixed at " << dim->target
        << ", so this is muP's 1/d_head times a constant and does not affect "
           "transfer (TP5 App. B.1: the constant belongs to the tunable "
           "attention multiplier)";
    return;
  }
  InFlightDiagnostic diag = report(attention);
  diag << "attention logits are scaled by 1/sqrt(d_head) but head dim '"
       << headDim << "' grows with width; scheme '" << stringifyScheme(scheme)
       << "' needs 1/d_head";
  diag.attachNote()
      << "q and k become correlated during training, so q.k grows like "
         "d_head and only q.k/d_head stays O(1) as width grows (TP5 Def. "
         "4.1; microsoft/mup uses 8/d); set 'scale inv_head_dim' or drop the "
         "scale and rerun tp-parametrize";
}

void TPVerifyParametrizationPass::checkReadout(Annotation readout,
                                               Annotation storage,
                                               Optimizer optimizer) {
  // LionAR's angle=lr makes the readout's lr row an angle per step, not a
  // step per entry; the weight-decay check covers it.
  if (optimizer == Optimizer::lionAR && angleFromLr)
    return;
  StringRef name = readout.param.getName();
  bool tied = readout.param != storage.param;
  std::string owner =
      tied ? (" of '" + storage.param.getName() + "', whose storage it shares")
                 .str()
           : std::string();
  Rational mult = readout.width(Quantity::multiplier);

  // The effective weight multiplier * W starts with entries of size
  // N^(multiplier + init_std); muP needs 1/fan_in (Table 3's output
  // variance 1/fan_in^2), or the logits grow with width. Tables 3, 8 and 9
  // all have multiplier + init_std = -1. A zero init has no init scale.
  std::optional<InitKind> init = storage.param.getInit();
  if (init != InitKind::zeros) {
    Rational initStd = storage.width(Quantity::init_std);
    Rational logits = mult + initStd;
    if (logits != Rational(-1)) {
      InFlightDiagnostic diag = report(readout.param);
      diag << "readout '" << name << "' starts with multiplier x init_std of "
           << "scale " << widthPower(logits) << " (multiplier "
           << widthPower(mult) << ", init_std " << widthPower(initStd) << owner
           << ") but muP needs N^-1 (1/fan_in)";
      diag.attachNote()
          << "a weight that maps the width to a finite dim needs output "
             "1/fan_in, so the multiplier and init_std width exponents must "
             "sum to -1: TP5 Table 3 (multiplier N^0, init_std N^-1), Table 8 "
             "(N^-1, N^0) or Table 9 (N^-1/2, N^-1/2); with multiplier "
          << widthPower(mult) << " init_std must be "
          << widthPower(Rational(-1) - mult) << ", with init_std "
          << widthPower(initStd) << " the multiplier must be "
          << widthPower(Rational(-1) - initStd) << " (TP5 App. B)";
    }
  }

  // One step moves each of the fan_in weights by O(lr) under Adam-like
  // optimizers, and by lr * multiplier under SGD; the logits see them
  // through the multiplier again, summed over fan_in.
  Rational lr = storage.width(Quantity::lr);
  bool sgd = isSgd(optimizer);
  Rational update = (sgd ? mult * Rational(2) : mult) + lr + Rational(1);
  if (!update.isZero()) {
    InFlightDiagnostic diag = report(readout.param);
    diag << "readout '" << name << "' moves its logits by "
         << widthPower(update) << " per step (multiplier " << widthPower(mult)
         << ", lr " << widthPower(lr) << owner << ") but muP needs N^0";
    Rational want =
        sgd ? Rational(-1) - mult * Rational(2) : Rational(-1) - mult;
    diag.attachNote()
        << (sgd ? "under SGD the logit update is multiplier^2 * lr * fan_in, "
                  "so 2 x multiplier + lr must be -1: TP5 Table 3 (multiplier "
                  "N^0, lr N^-1), Table 8 (N^-1, N^1) or Table 9 (N^-1/2, "
                  "N^0)"
                : "under Adam-like optimizers the logit update is multiplier "
                  "* lr * fan_in, so multiplier + lr must be -1: TP5 Table 3 "
                  "(multiplier N^0, lr N^-1), Table 8 (N^-1, N^0) or Table 9 "
                  "(N^-1/2, N^-1/2)")
        << "; with multiplier " << widthPower(mult) << " lr must be "
        << widthPower(want) << " (TP5 Lemma J.1)";
  }
}

void TPVerifyParametrizationPass::checkWeightDecay(Annotation a, Scheme scheme,
                                                   Optimizer optimizer) {
  StringRef name = a.param.getName();
  ScaleAttr lr = a.get(Quantity::lr), wd = a.get(Quantity::weight_decay);
  // What one step multiplies the weight by, minus one: lr * wd for coupled
  // decay, wd alone for Loshchilov-Hutter decay.
  bool decoupled = optimizer == Optimizer::adamwDecoupled;
  ScaleAttr shrink = decoupled ? wd : lr.mul(wd);
  StringRef what = decoupled ? "weight_decay" : "lr x weight_decay";

  // LionAR rotates a matrix's rows by REQ's equilibrium angle
  // sqrt(2 lr wd) c per step instead of decaying it; that angle must be the
  // one a sign step makes at init, lr / init_std (docs/Parametrization.md).
  bool rotates = optimizer == Optimizer::lionAR &&
                 (a.role == Role::embedding || a.role == Role::hidden ||
                  a.role == Role::unembedding);
  if (rotates && angleFromLr)
    return;
  if (rotates) {
    Rational theta = lr.getWidth() - a.width(Quantity::init_std);
    if (a.hasWidth && shrink.getWidth() != theta + theta) {
      InFlightDiagnostic diag = report(a.param);
      diag << "weight decay of '" << name << "' breaks LionAR's angle: lr x "
           << "weight_decay scales like " << widthPower(shrink.getWidth())
           << " but the angle per step sqrt(2 lr wd) must scale like lr / "
              "init_std = "
           << widthPower(theta) << ", so lr x weight_decay like "
           << widthPower(theta + theta);
      diag.attachNote() << "a sign update moves a row by lr sqrt(C) and the "
                           "row's norm is init_std sqrt(C) (REQ, Kosson et "
                           "al. 2023; docs/Parametrization.md)";
    }
  } else if (a.hasWidth && !shrink.getWidth().isZero()) {
    InFlightDiagnostic diag = report(a.param);
    diag << "weight decay of '" << name << "' breaks constant lr x "
         << "weight_decay: " << what << " scales like "
         << widthPower(shrink.getWidth()) << " (lr "
         << widthPower(lr.getWidth()) << ", weight_decay "
         << widthPower(wd.getWidth()) << ")";
    if (decoupled)
      diag.attachNote() << "decoupled (Loshchilov-Hutter) decay subtracts "
                           "weight_decay x theta each step, so weight_decay "
                           "itself is the coupled lr x weight_decay and must "
                           "be N^0 (microsoft/mup MuAdamW decoupled_wd; "
                           "docs/Parametrization.md)";
    else
      diag.attachNote() << "coupled decay (PyTorch AdamW, SGD) shrinks the "
                           "weight by lr x weight_decay each step, which must "
                           "not change with width, so weight_decay must be "
                        << widthPower(-lr.getWidth())
                        << " (microsoft/mup MuAdamW 'weight_decay *= "
                           "width_mult'; CompleteP Table 1 'Hidden WD x m_N')";
  }

  // Complete^(d)P trains for m_D / m_B times the steps; the decay's EMA
  // timescale 1/(lr x wd) must stay the same fraction of training.
  if (scheme != Scheme::completedp)
    return;
  if (shrink.getBatch() == Rational(1) && shrink.getDuration() == Rational(-1))
    return;
  InFlightDiagnostic diag = report(a.param);
  diag << "weight decay of '" << name << "' breaks the batch and duration "
       << "rule: " << what << " scales like "
       << batchDurationPower(shrink.getBatch(), shrink.getDuration())
       << " but scheme 'completedp' needs B^1 D^-1 (m_B/m_D)";
  diag.attachNote() << "training runs m_D/m_B times the steps, so the decay's "
                       "timescale 1/(lr x weight_decay) must shrink by the "
                       "same factor (Wang & Aitchison, ICML 2025: constant "
                       "tau_epoch; Complete^(d)P Table 1 SDE column: lr and "
                       "weight decay x sqrt(m_B/m_D))";
}

void TPVerifyParametrizationPass::checkEps(Annotation a) {
  if (!a.hasWidth)
    return;
  // Lemma J.1: a multiplier theta times Table 3's (which has none) makes
  // the gradient of the stored weight theta times Table 3's.
  Rational gradient =
      table3GradientExponent(a.role) + a.width(Quantity::multiplier);
  Rational eps = a.width(Quantity::eps);
  if ((eps - gradient).num <= 0)
    return;
  InFlightDiagnostic diag = report(a.param);
  diag << "eps of '" << a.param.getName() << "' scales like " << widthPower(eps)
       << " but its gradient like " << widthPower(gradient)
       << ": eps does not shrink with the gradient (eps dominates sqrt(v), so "
          "Adam degenerates to SGD at width)";
  diag.attachNote() << "TP5 App. B.3: a non-negligible eps must scale like "
                       "the gradient (1/fan_in after the square root); the "
                       "gradient of a parameter of role '"
                    << stringifyRole(a.role) << "' is "
                    << widthPower(table3GradientExponent(a.role))
                    << " in TP5 Table 3's form (Complete^(d)P Table 1, muP "
                       "column) times its multiplier "
                    << widthPower(a.width(Quantity::multiplier))
                    << " (TP5 Lemma J.1), so eps must be "
                    << widthPower(gradient) << " or smaller";
}

void TPVerifyParametrizationPass::checkDepthOutsideBlocks(
    Annotation a, const Placements &placements) {
  Placement placement = placements.of(a.param);
  if (placement == Placement::inBlocks)
    return;
  SmallVector<std::string> scaled;
  for (Quantity q : allEnumValues<Quantity>())
    if (ScaleAttr scale = a.get(q); scale && !scale.getDepth().isZero())
      scaled.push_back(
          (stringifyQuantity(q) + " L^" + scale.getDepth().str()).str());
  if (scaled.empty())
    return;
  InFlightDiagnostic diag = report(a.param);
  diag << "'" << a.param.getName() << "' sits " << describePlacement(placement)
       << ", outside every tp.repeat, but scales with depth ("
       << llvm::join(scaled, ", ")
       << "): a model-level parameter keeps its base values at every depth";
  diag.attachNote()
      << "depth rules scale only the parameters inside the residual blocks "
         "(LR x m_L^(alpha-1), eps x m_L^-alpha: CompleteP Table 1 'Pre-LN', "
         "'Hidden', 'Hidden Bias' and 'AdamW eps (residual blocks)' rows; "
         "Complete^(d)P Table 1); embeddings, the final norm, the readout "
         "and any bias or norm outside the blocks have no depth factor";
}

void TPVerifyParametrizationPass::runOnOperation() {
  ModelOp model = getOperation();
  // One pass instance may run on several models in turn.
  findings = 0;
  FailureOr<Parametrization> p = readParametrization(model);
  if (failed(p))
    return signalPassFailure();
  ModelIndex index(model);
  Placements placements(model);

  // Read every annotation first so a tied readout can find its owner's.
  llvm::DenseMap<Operation *, Annotation> annotations;
  bool malformed = false;
  model.walk([&](ParamOp param) {
    FailureOr<Annotation> a = readAnnotation(index, param, p->optimizer);
    if (failed(a))
      malformed = true;
    else
      annotations.try_emplace(param, *a);
  });
  if (malformed)
    return signalPassFailure();

  model.walk([&](Operation *op) {
    if (auto attention = dyn_cast<LogitScaleOpInterface>(op)) {
      checkAttention(index, attention, p->scheme);
      return;
    }
    auto param = dyn_cast<ParamOp>(op);
    if (!param)
      return;
    Annotation a = annotations.find(param)->second;
    if (isMupFamily(p->scheme) && a.role == Role::unembedding && a.hasWidth) {
      // One storage, one init and one optimizer state: the owner's.
      ParamOp owner =
          param.getTied() ? index.lookupParam(*param.getTied()) : param;
      checkReadout(a, annotations.find(owner)->second, p->optimizer);
    }
    checkWeightDecay(a, p->scheme, p->optimizer);
    checkDepthOutsideBlocks(a, placements);
    if (isMupFamily(p->scheme) && hasEps(p->optimizer) && !p->unscaledEps)
      checkEps(a);
  });
  if (p->unscaledEps && isMupFamily(p->scheme) && hasEps(p->optimizer))
    model.emitRemark()
        << "eps is unscaled by choice (tp-parametrize unscaled-eps, "
           "microsoft/mup's behaviour), so the eps check is off: eps stays at "
           "its base value while the gradients shrink like 1/width, which "
           "transfers only while eps is negligible next to sqrt(v) (TP5 App. "
           "B.3)";
  if (strict && findings)
    signalPassFailure();
}
