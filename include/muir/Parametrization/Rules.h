//===- Rules.h - Scaling rules of each scheme and optimizer -----*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The parametrisation tables of TP5 (Tables 3, 8, 9), CompleteP (Table 1)
// and Complete^(d)P (Table 1) as exponents of m_N, m_L, m_B, m_D per role.
// Sources and every choice made where they are silent: docs/Parametrization.md
// and shared/reference/parametrisation-rules.md.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_PARAMETRIZATION_RULES_H
#define MUIR_PARAMETRIZATION_RULES_H

#include "muir/Dialect/TP/IR/Rational.h"
#include "muir/Dialect/TP/IR/TPEnums.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <optional>

namespace mlir::tp {

/// SGD with or without (Nesterov) momentum: updates proportional to the
/// gradient, so a parameter's lr rule follows TP5's SGD column.
bool isSgd(Optimizer optimizer);
/// The Adam family whose update divides by sqrt(v) + eps.
bool hasEps(Optimizer optimizer);

/// Exponents of (m_N, m_L, m_B, m_D) of one quantity.
struct Monomial {
  Rational width, depth, batch, duration;
  Monomial operator*(const Monomial &o) const {
    return {width + o.width, depth + o.depth, batch + o.batch,
            duration + o.duration};
  }
  bool operator==(const Monomial &o) const {
    return width == o.width && depth == o.depth && batch == o.batch &&
           duration == o.duration;
  }
};

/// How every per-parameter hyperparameter of one role scales. `eps` is
/// absent for optimizers without ε (SGD, Lion, Adam-atan2); `beta1`/`beta2`
/// scale 1-β1 and 1-β2.
struct RoleRule {
  Monomial initStd, multiplier, lr, weightDecay;
  std::optional<Monomial> eps, beta1, beta2;
};

/// Forward multipliers and training length that are not per parameter.
struct ForwardRule {
  Monomial residual;   ///< on each residual branch (m_L^-alpha)
  Monomial steps;      ///< training iterations (m_D / m_B under SDE rules)
  bool inverseHeadDim; ///< attention logits 1/d_head (muP) or 1/sqrt(d_head)
};

/// A parametrisation: scheme, optimizer and depth exponent alpha.
struct Parametrization {
  Scheme scheme;
  Optimizer optimizer;
  Rational alpha;
  /// Keep eps at its base value (microsoft/mup) instead of scaling it with
  /// the gradient (TP5 App. B.3).
  bool unscaledEps = false;
  /// The Lion family's momentum recipe: one beta (beta1), no beta2.
  bool oneBeta = false;
  /// LionAR takes its per-step angle from the learning rate itself
  /// (OptimizerSpec's `angle=lr`) instead of REQ's equilibrium of lr and
  /// weight decay.
  bool angleFromLr = false;

  /// The rule for a parameter of `role` at `placement`, or an error naming
  /// the missing cell. Depth factors go to parameters in the blocks only.
  llvm::Expected<RoleRule> rule(Role role, Placement placement) const;
  ForwardRule forward() const;
  /// True for the schemes with depth rules (depth-mup, completep,
  /// completedp).
  bool scalesDepth() const;
  /// Tied parameters share storage, so the owner's and the tied use's init,
  /// lr, weight decay and eps rules must agree. Both are model-level (the
  /// dialect forbids ties in repeated blocks).
  bool tyingConsistent(Role ownerRole, Placement ownerPlacement, Role tiedRole,
                       Placement tiedPlacement) const;
};

} // namespace mlir::tp

#endif // MUIR_PARAMETRIZATION_RULES_H
