//===- Parametrize.cpp - Annotate parameters with scaling rules -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "muir/Dialect/TP/Analysis/Roles.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Dialect/TP/Utils/Parametrization.h"
#include "muir/Parametrization/OptimizerSpec.h"
#include "muir/Parametrization/Rules.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::tp {
#define GEN_PASS_DEF_TPPARAMETRIZE
#include "muir/Dialect/TP/Transforms/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

/// Parses `1`, `1/2` or a decimal such as `0.75` into a rational. Terms
/// are limited to 32 bits: Rational cannot normalise -2^63, and its
/// arithmetic multiplies numerators by denominators.
static std::optional<Rational> parseRational(StringRef text) {
  text = text.trim();
  auto [numText, denText] = text.split('/');
  int64_t num, den = 1;
  auto small = [](int64_t v) { return v > INT32_MIN && v <= INT32_MAX; };
  if (!numText.getAsInteger(10, num) &&
      (denText.empty() || (!denText.getAsInteger(10, den) && den > 0)))
    return small(num) && small(den) ? std::optional(Rational(num, den))
                                    : std::nullopt;
  if (!denText.empty())
    return std::nullopt;
  auto [whole, frac] = text.split('.');
  if (frac.empty() || frac.size() > 6 || whole.getAsInteger(10, num) ||
      !small(num) || !llvm::all_of(frac, llvm::isDigit))
    return std::nullopt;
  int64_t scale = 1, digits = 0;
  for (char c : frac) {
    scale *= 10;
    digits = digits * 10 + (c - '0');
  }
  return Rational((whole.starts_with("-") ? -1 : 1) *
                      (std::abs(num) * scale + digits),
                  scale);
}

/// The parametrisation the options ask for, or failure after reporting
/// every bad option.
static FailureOr<Parametrization>
parseOptions(const TPParametrizeOptions &options, OptionErrorFn report) {
  std::optional<Scheme> s = options.scheme;
  llvm::Expected<OptimizerSpec> spec = parseOptimizerSpec(options.optimizer);
  if (!spec) {
    report("optimizer", llvm::toString(spec.takeError()));
    return failure();
  }
  Rational a = *s == Scheme::depthMup ? Rational(1, 2) : Rational(1);
  if (!options.alpha.empty()) {
    std::optional<Rational> parsed = parseRational(options.alpha);
    if (!parsed) {
      report("alpha", "'" + options.alpha +
                          "' is not a number; write it as 1, 1/2 or 0.5");
      return failure();
    }
    if (parsed->toDouble() < 0.5 || parsed->toDouble() > 1.0) {
      report("alpha", parsed->str() +
                          " is outside [1/2, 1], the range where depth "
                          "transfer is stated (Depth-muP 1/2, CompleteP 1)");
      return failure();
    }
    if (*s == Scheme::depthMup && *parsed != Rational(1, 2)) {
      report("alpha", "is fixed to 1/2 by depth-mup; use completep for "
                      "alpha = " +
                          parsed->str());
      return failure();
    }
    a = *parsed;
  }
  Parametrization p{*s, spec->optimizer, a, options.unscaledEps};
  p.oneBeta = spec->oneBeta();
  p.angleFromLr = spec->angle == AngleRule::lr;
  return p;
}

LogicalResult tp::checkParametrizeOptions(const TPParametrizeOptions &options,
                                          OptionErrorFn report) {
  return success(succeeded(parseOptions(options, report)));
}

static ScaleAttr toAttr(MLIRContext *context, const Monomial &m,
                        bool hasWidth) {
  return ScaleAttr::get(context, hasWidth ? m.width : Rational(0), m.depth,
                        m.batch, m.duration);
}

namespace {
struct TPParametrizePass : tp::impl::TPParametrizeBase<TPParametrizePass> {
  using Base::Base;

  void runOnOperation() override {
    ModelOp model = getOperation();
    TPParametrizeOptions options;
    options.scheme = scheme;
    options.optimizer = optimizer;
    options.alpha = alpha;
    options.unscaledEps = unscaledEps;
    FailureOr<Parametrization> p =
        parseOptions(options, [&](StringRef option, const Twine &problem) {
          model.emitError() << option << " " << problem;
        });
    if (failed(p))
      return signalPassFailure();
    // parseOptions checked the spec.
    OptimizerSpec spec = cantFail(parseOptimizerSpec(optimizer));
    ModelIndex index(model);
    if (p->scalesDepth() && failed(checkResidualBlocks(model, index, *p)))
      return signalPassFailure();
    FailureOr<llvm::DenseMap<Operation *, ParamRole>> roles =
        deriveRoles(model);
    if (failed(roles))
      return signalPassFailure();
    MLIRContext *context = &getContext();
    Builder b(context);

    WalkResult walk = model.walk([&](ParamOp param) -> WalkResult {
      const ParamRole &role = (*roles)[param];
      llvm::Expected<RoleRule> rule = p->rule(role.role, role.placement);
      if (!rule) {
        param.emitOpError() << llvm::toString(rule.takeError());
        return WalkResult::interrupt();
      }
      if (std::optional<StringRef> tied = param.getTied()) {
        ParamOp owner = index.lookupParam(*tied);
        const ParamRole &ownerInfo = (*roles)[owner];
        Role ownerRole = ownerInfo.role;
        if (!p->tyingConsistent(ownerRole, ownerInfo.placement, role.role,
                                role.placement)) {
          InFlightDiagnostic diag =
              param.emitOpError()
              << "is used as " << stringifyRole(role.role)
              << " but shares storage with '" << *tied << "', an "
              << stringifyRole(ownerRole) << "; under scheme '"
              << stringifyScheme(p->scheme)
              << "' the two roles need different init, lr, weight decay or "
                 "eps rules";
          diag.attachNote(owner.getLoc())
              << "'" << *tied << "' declared here; untie the parameters or "
              << "use a scheme whose readout matches the embedding (e.g. "
                 "mup-table8 or completep)";
          return WalkResult::interrupt();
        }
      }
      bool w = !role.widthDim.empty();
      std::array<ScaleAttr, kNumQuantities> scales;
      auto set = [&](Quantity q, const std::optional<Monomial> &m) {
        if (m)
          scales[size_t(q)] = toAttr(context, *m, w);
      };
      set(Quantity::init_std, rule->initStd);
      set(Quantity::multiplier, rule->multiplier);
      set(Quantity::lr, rule->lr);
      set(Quantity::weight_decay, rule->weightDecay);
      set(Quantity::eps, rule->eps);
      set(Quantity::beta1, rule->beta1);
      set(Quantity::beta2, rule->beta2);
      TPDialect &tp = tpDialect(param);
      tp.getRoleAttrHelper().setAttr(param, RoleAttr::get(context, role.role));
      tp.getScalingAttrHelper().setAttr(
          param,
          ScalingAttr::get(context, scales,
                           w ? b.getStringAttr(role.widthDim) : StringAttr()));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    ForwardRule forward = p->forward();
    model.walk([&](ResidualOp residual) {
      std::array<ScaleAttr, kNumQuantities> scales;
      scales[size_t(Quantity::multiplier)] =
          toAttr(context, forward.residual, false);
      tpDialect(residual).getScalingAttrHelper().setAttr(
          residual, ScalingAttr::get(context, scales, StringAttr()));
    });
    model.walk([&](LogitScaleOpInterface attention) {
      if (!attention.getScale())
        attention.setScaleAttr(AttentionScaleAttr::get(
            context, forward.inverseHeadDim
                         ? AttentionScale::inv_head_dim
                         : AttentionScale::inv_sqrt_head_dim));
    });
    tpDialect(model).getParametrizationAttrHelper().setAttr(
        model, getParametrizationAttr(context, *p, spec,
                                      toAttr(context, forward.steps, false)));
  }

  /// Depth rules compensate the branch multiplier m_L^-alpha of residual
  /// blocks; a plain stack whose depth grows has no branch to scale.
  LogicalResult checkResidualBlocks(ModelOp model, const ModelIndex &index,
                                    const Parametrization &p) {
    WalkResult walk = model.walk([&](RepeatOp repeat) -> WalkResult {
      const DimInfo *depth = index.lookupDim(repeat.getDepth());
      if (!depth || depth->base == depth->target)
        return WalkResult::advance();
      bool residual = false;
      repeat.getBody().walk([&](ResidualOp) { residual = true; });
      if (residual)
        return WalkResult::advance();
      InFlightDiagnostic diag =
          allowDepthWithoutResidual ? repeat.emitWarning() : repeat.emitError();
      diag << "scheme '" << stringifyScheme(p.scheme)
           << "' transfers across depth "
           << "through residual branches, but the blocks of @"
           << repeat.getDepth() << " (" << depth->base << " -> "
           << depth->target
           << " blocks) have no tp.residual: a plain stack has no branch for "
              "the depth rules to act on";
      diag.attachNote()
          << "the depth factors (LR x m_L^(alpha-1), eps x m_L^-alpha) "
             "compensate the branch multiplier of h + m_L^-alpha f(h) "
             "(CompleteP Table 1 'MHA/MLP Residual'); make the blocks "
             "residual (an mlp card's \"residual\": true), keep the depth of "
             "the base model, or use a width-only scheme"
          << (allowDepthWithoutResidual
                  ? ""
                  : "; allow-depth-without-residual (muirc "
                    "--allow-depth-without-residual) applies the depth rules "
                    "anyway, with a warning");
      return allowDepthWithoutResidual ? WalkResult::advance()
                                       : WalkResult::interrupt();
    });
    return failure(walk.wasInterrupted());
  }
};
} // namespace
