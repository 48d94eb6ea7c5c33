//===- Rules.cpp - Scaling rules of each scheme and optimizer -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Width rows are transcribed from the papers' tables (TP5 Tables 3, 8 and 9;
// CompleteP Table 1; Complete^(d)P Table 1) as exponents of the parameter's
// own width ratio. Depth (alpha) and batch/duration (SDE) factors are layered
// on top per scheme. Where a source is silent the choice is marked CHOICE and
// documented in docs/Parametrization.md.
//
//===----------------------------------------------------------------------===//

#include "muir/Parametrization/Rules.h"

using namespace mlir;
using namespace mlir::tp;

bool tp::isSgd(Optimizer o) {
  return o == Optimizer::sgd || o == Optimizer::sgdMomentum ||
         o == Optimizer::sgdNesterov;
}

bool tp::hasEps(Optimizer o) {
  return o == Optimizer::adam || o == Optimizer::adamw ||
         o == Optimizer::adamwDecoupled;
}

namespace {
Monomial N(Rational e) { return {e, 0, 0, 0}; }
Monomial L(Rational e) { return {0, e, 0, 0}; }
Monomial one() { return {}; }

bool isVector(Role role) {
  return role == Role::hidden_bias || role == Role::norm ||
         role == Role::qk_norm || role == Role::final_norm;
}

/// One row of a width-only muP table: exponents of the parameter's width
/// ratio for the forward multiplier, the init std (half the variance's) and
/// the Adam and SGD learning rates.
struct WidthRow {
  Rational multiplier, initStd, adamLr, sgdLr;
};

/// TP5 Table 3 ("muP and SP for general networks"). Input weights and all
/// biases and vectors: Var 1/fan_in (fan_in finite), Adam LR 1, SGD LR
/// fan_out. Hidden: Var 1/fan_in, Adam LR 1/fan_in, SGD LR 1. Output: Var
/// 1/fan_in^2, LR 1/fan_in for both.
WidthRow table3(Role role) {
  if (role == Role::embedding || isVector(role))
    return {0, 0, 0, 1};
  if (role == Role::hidden)
    return {0, Rational(-1, 2), -1, 0};
  if (role == Role::unembedding)
    return {0, -1, -1, -1};
  return {0, 0, 0, 0};
}

/// TP5 Table 8 (the form microsoft/mup implements): output Var 1,
/// multiplier 1/fan_in, Adam LR 1, SGD LR fan_in.
WidthRow table8(Role role) {
  if (role == Role::embedding || isVector(role))
    return {0, 0, 0, 1};
  if (role == Role::hidden)
    return {0, Rational(-1, 2), -1, 0};
  if (role == Role::unembedding)
    return {-1, 0, 0, 1};
  return {0, 0, 0, 0};
}

/// TP5 Table 9 (TP4 style): input Var 1/fan_out, multiplier sqrt(fan_out),
/// Adam LR 1/sqrt(fan_out), SGD LR 1; output Var 1/fan_in, multiplier
/// 1/sqrt(fan_in), Adam LR 1/sqrt(fan_in), SGD LR 1.
WidthRow table9(Role role) {
  if (role == Role::embedding || isVector(role))
    return {Rational(1, 2), Rational(-1, 2), Rational(-1, 2), 0};
  if (role == Role::hidden)
    return {0, Rational(-1, 2), -1, 0};
  if (role == Role::unembedding)
    return {Rational(-1, 2), Rational(-1, 2), Rational(-1, 2), 0};
  return {0, 0, 0, 0};
}

/// Adam epsilon in the Table 3 form: epsilon tracks the gradient scale,
/// which is 1/width for input, hidden and vector parameters inside the
/// network and O(1) for the readout and the final norm (Complete^(d)P
/// Table 1, muP column: "Hidden weights/biases/norms x m_N^-1, Input emb.
/// x m_N^-1, Output weights/biases/norms x1").
Rational epsTable3(Role role) {
  if (role == Role::unembedding || role == Role::final_norm ||
      role == Role::scalar)
    return 0;
  return -1;
}

/// TP5 Table 3's SP (the gray entries; PyTorch's default init): Init. Var.
/// 1/fan_in for every weight (finite for input weights and, with fan_in 1,
/// biases; the width for hidden and output weights), SGD and Adam LR 1, no
/// multipliers.
WidthRow table3Sp(Role role) {
  if (role == Role::hidden || role == Role::unembedding)
    return {0, Rational(-1, 2), 0, 0};
  return {0, 0, 0, 0};
}

/// The muP form a scheme builds on.
WidthRow widthRow(Scheme scheme, Role role) {
  switch (scheme) {
  case Scheme::sp:
    return {0, 0, 0, 0};
  case Scheme::spPytorch:
    return table3Sp(role);
  case Scheme::mup:
  case Scheme::completedp:
    return table3(role);
  case Scheme::mupTable8:
  case Scheme::depthMup:
  case Scheme::completep:
    return table8(role);
  case Scheme::mupTable9:
    return table9(role);
  }
  return {0, 0, 0, 0};
}

/// Matrices: the units LionAR rotates (rows of rank >= 2 tensors; vectors
/// take the plain Lion update).
bool isMatrix(Role role) {
  return role == Role::embedding || role == Role::hidden ||
         role == Role::unembedding;
}
/// m^e.
Monomial power(const Monomial &m, Rational e) {
  return {m.width * e, m.depth * e, m.batch * e, m.duration * e};
}
bool hasDepth(Scheme s) {
  return s == Scheme::depthMup || s == Scheme::completep ||
         s == Scheme::completedp;
}
} // namespace

llvm::Expected<RoleRule> Parametrization::rule(Role role,
                                               Placement placement) const {
  if (hasDepth(scheme) && isSgd(optimizer))
    return llvm::createStringError(
        "scheme '" + stringifyScheme(scheme).str() +
        "' has no SGD rules: CompleteP and Complete(d)P are stated for AdamW "
        "only; use adam, adamw, lion or adam-atan2, or a width-only scheme");
  WidthRow w = widthRow(scheme, role);
  RoleRule r;
  r.initStd = N(w.initStd);
  r.multiplier = N(w.multiplier);
  r.lr = N(isSgd(optimizer) ? w.sgdLr : w.adamLr);

  // Depth: LR of everything inside the residual blocks x m_L^(alpha-1),
  // epsilon of the blocks x m_L^-alpha (CompleteP Table 1; Complete(d)P
  // Table 1). The position decides, not the role: the embeddings, the final
  // norm, the readout and any bias or norm before or after the blocks (an
  // input layer's bias, a norm on the embeddings) keep their base values at
  // any depth. Scalars do not scale (CHOICE 6).
  bool depthScaled = hasDepth(scheme) && placement == Placement::inBlocks &&
                     role != Role::scalar;
  if (depthScaled)
    r.lr = r.lr * L(alpha - Rational(1));

  // Coupled weight decay keeps lr * wd width-invariant (microsoft/mup
  // MuAdamW and MuSGD; CompleteP and Complete(d)P "Hidden WD x m_N").
  r.weightDecay = N(-r.lr.width);

  if (hasEps(optimizer)) {
    // The eps rows follow the gradient scale of the stored weight: a form
    // whose multiplier is theta times Table 3's has gradients theta times
    // Table 3's (Lemma J.1), so its eps moves by the same factor.
    Rational eps = epsTable3(role) + (w.multiplier - table3(role).multiplier);
    if (scheme == Scheme::sp || scheme == Scheme::spPytorch)
      eps = 0;
    // CHOICE: CompleteP Table 1 leaves the embedding and readout eps
    // unscaled, but their gradients shrink like 1/width in its (Table 8)
    // form; Complete(d)P corrects the embedding to x m_N^-1 ("the
    // coordinate check fails" otherwise) and TP5 B.3 scales eps "for all
    // parameters". We follow the gradient scale everywhere and add the
    // m_L^-alpha depth factor in the residual blocks only, as the tables do.
    Monomial e = N(eps);
    // Complete(d)P: QK norms x m_L^-alpha, no width factor.
    if (role == Role::qk_norm && hasDepth(scheme))
      e = one();
    if (depthScaled)
      e = e * L(-alpha);
    // microsoft/mup's MuAdam leaves eps alone (TP5 B.3: fine while eps is
    // negligible next to sqrt(v)); the SDE factor below goes too.
    r.eps = unscaledEps ? one() : e;
  }

  bool hasBetas = !(optimizer == Optimizer::sgd);
  if (hasBetas) {
    r.beta1 = one();
    if (optimizer != Optimizer::sgdMomentum &&
        optimizer != Optimizer::sgdNesterov && !oneBeta)
      r.beta2 = one();
  }

  if (scheme == Scheme::completedp) {
    // SDE column: lr and wd x sqrt(m_B/m_D), eps x sqrt(m_D/m_B),
    // (1 - beta) x m_B/m_D.
    Monomial s{0, 0, Rational(1, 2), Rational(-1, 2)};
    Monomial inv{0, 0, Rational(-1, 2), Rational(1, 2)};
    Monomial ratio{0, 0, 1, -1};
    r.lr = r.lr * s;
    r.weightDecay = r.weightDecay * s;
    if (r.eps && !unscaledEps)
      r.eps = *r.eps * inv;
    if (r.beta1)
      r.beta1 = ratio;
    if (r.beta2)
      r.beta2 = ratio;
  }

  // Loshchilov-Hutter decay subtracts wd * theta directly: the product of
  // the coupled lr and wd rules.
  if (optimizer == Optimizer::adamwDecoupled)
    r.weightDecay = r.weightDecay * r.lr;

  // LionAR rotates each row of a matrix by an angle per step instead of
  // adding lr sign(.) to it. A sign update moves a row of C entries by
  // lr sqrt(C), a row's norm is about init_std sqrt(C), so the angle the
  // Adam-column rules give is theta = lr / init_std per step: N^-1/2 for a
  // hidden matrix (the spectral condition of feature learning), constant
  // for embeddings and readouts, m_L^(alpha-1) in the blocks, sqrt(m_B/m_D)
  // under the SDE rules. CHOICE (docs/Parametrization.md): by default the
  // angle is REQ's equilibrium sqrt(2 lr wd) c(beta), so wd takes
  // theta^2 / lr = lr / init_std^2; with angle=lr the lr row is theta.
  if (optimizer == Optimizer::lionAR && isMatrix(role)) {
    Monomial theta = r.lr * power(r.initStd, -1);
    if (angleFromLr)
      r.lr = theta;
    else
      r.weightDecay = r.lr * power(r.initStd, -2);
  }
  return r;
}

bool Parametrization::scalesDepth() const { return hasDepth(scheme); }

ForwardRule Parametrization::forward() const {
  ForwardRule f;
  f.residual = hasDepth(scheme) ? L(-alpha) : one();
  f.steps = scheme == Scheme::completedp ? Monomial{0, 0, -1, 1} : one();
  f.inverseHeadDim = scheme != Scheme::sp && scheme != Scheme::spPytorch;
  return f;
}

bool Parametrization::tyingConsistent(Role ownerRole, Placement ownerPlacement,
                                      Role tiedRole,
                                      Placement tiedPlacement) const {
  llvm::Expected<RoleRule> a = rule(ownerRole, ownerPlacement),
                           b = rule(tiedRole, tiedPlacement);
  if (!a || !b) {
    llvm::consumeError(a.takeError());
    llvm::consumeError(b.takeError());
    return false;
  }
  return a->initStd == b->initStd && a->lr == b->lr &&
         a->weightDecay == b->weightDecay && a->eps == b->eps;
}
