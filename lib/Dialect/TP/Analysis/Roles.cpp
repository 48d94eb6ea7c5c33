//===- Roles.cpp - Derive each parameter's role from the program ----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Analysis/Roles.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"

using namespace mlir;
using namespace mlir::tp;

StringRef mlir::tp::describePlacement(Placement placement) {
  switch (placement) {
  case Placement::beforeBlocks:
    return "before the blocks";
  case Placement::inBlocks:
    return "in the blocks";
  case Placement::afterBlocks:
    return "after the blocks";
  }
  return "";
}

Placements::Placements(ModelOp model) {
  // Program order visits every def before its uses, so one pass marks each
  // op that is a tp.repeat or reads (transitively) a tp.repeat result.
  model.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<RepeatOp>(op) || llvm::any_of(op->getOperands(), [&](Value v) {
          return readsRepeat(v);
        }))
      afterRepeat.insert(op);
  });
}

bool Placements::readsRepeat(Value value) const {
  return afterRepeat.contains(value.getDefiningOp());
}

Placement Placements::of(ParamOp param) const {
  if (param.isRepeated())
    return Placement::inBlocks;
  // A model-level parameter is after the blocks when the activation it acts
  // on was computed by a block (the final norm, the readout).
  for (OpOperand &use : param.getResult().getUses()) {
    auto describes = dyn_cast<ParamUseOpInterface>(use.getOwner());
    std::optional<ParamUse> how =
        describes ? describes.getParamUse(use) : std::nullopt;
    if (how && how->input && readsRepeat(how->input))
      return Placement::afterBlocks;
  }
  return Placement::beforeBlocks;
}

namespace {
class RoleDeriver {
public:
  explicit RoleDeriver(ModelOp model)
      : model(model), index(model), placements(model) {}

  /// The role `param` has through `use`, from what the user says about the
  /// operand (ParamUseOpInterface), or failure with a diagnostic.
  FailureOr<ParamRole> roleOfUse(ParamOp param, OpOperand &use) {
    Operation *user = use.getOwner();
    auto describes = dyn_cast<ParamUseOpInterface>(user);
    std::optional<ParamUse> how =
        describes ? describes.getParamUse(use) : std::nullopt;
    if (!how) {
      InFlightDiagnostic diag =
          param.emitOpError()
          << "cannot derive the role of parameter '" << param.getName()
          << "' from its use as operand #" << use.getOperandNumber() << " of '"
          << user->getName() << "'";
      diag.attachNote(user->getLoc()) << "used here";
      return diag;
    }
    switch (how->kind) {
    case ParamUse::Kind::matrix:
      return matrix(how->fanIn.getValue(), how->fanOut.getValue());
    case ParamUse::Kind::bias:
      return vector(Role::hidden_bias, how->fanOut.getValue());
    case ParamUse::Kind::norm:
      return normRole(user, *how);
    case ParamUse::Kind::scalar:
      return ParamRole{Role::scalar, "", "", ""};
    }
    llvm_unreachable("unknown parameter use");
  }

  FailureOr<llvm::DenseMap<Operation *, ParamRole>> run() {
    llvm::DenseMap<Operation *, ParamRole> roles;
    WalkResult walk = model.walk([&](ParamOp param) -> WalkResult {
      if (param.getType().getRank() == 0) {
        roles[param] =
            ParamRole{Role::scalar, "", "", "", placements.of(param)};
        return WalkResult::advance();
      }
      std::optional<ParamRole> role;
      OpOperand *first = nullptr;
      for (OpOperand *usePtr : usesInProgramOrder(param)) {
        OpOperand &use = *usePtr;
        FailureOr<ParamRole> r = roleOfUse(param, use);
        if (failed(r))
          return WalkResult::interrupt();
        if (role && role->role != r->role) {
          InFlightDiagnostic diag =
              param.emitOpError()
              << "is used both as " << stringifyRole(role->role) << " and as "
              << stringifyRole(r->role)
              << "; give each role its own parameter (or tie one to the "
                 "other)";
          diag.attachNote(first->getOwner()->getLoc())
              << "used as " << stringifyRole(role->role) << " here";
          diag.attachNote(use.getOwner()->getLoc())
              << "used as " << stringifyRole(r->role) << " here";
          return WalkResult::interrupt();
        }
        if (!role) {
          role = *r;
          first = &use;
        }
      }
      if (!role) {
        param.emitOpError() << "is never used, so its role cannot be derived";
        return WalkResult::interrupt();
      }
      role->placement = placements.of(param);
      roles[param] = *role;
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    return roles;
  }

private:
  /// Uses sorted by their position in the program, so that diagnostics
  /// name them in reading order (use lists are in no particular order).
  SmallVector<OpOperand *> usesInProgramOrder(ParamOp param) {
    if (order.empty())
      model.walk<WalkOrder::PreOrder>(
          [&](Operation *op) { order[op] = order.size(); });
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : param.getResult().getUses())
      uses.push_back(&use);
    llvm::sort(uses, [&](OpOperand *a, OpOperand *b) {
      return std::make_pair(order[a->getOwner()], a->getOperandNumber()) <
             std::make_pair(order[b->getOwner()], b->getOperandNumber());
    });
    return uses;
  }

  bool isWidth(StringRef dim) {
    const DimInfo *info = index.lookupDim(dim);
    return info && info->isWidth;
  }

  ParamRole matrix(StringRef fanIn, StringRef fanOut) {
    bool in = isWidth(fanIn), out = isWidth(fanOut);
    ParamRole r{Role::scalar, "", fanIn.str(), fanOut.str()};
    if (in && out)
      r = {Role::hidden, fanIn.str(), fanIn.str(), fanOut.str()};
    else if (out)
      r = {Role::embedding, fanOut.str(), fanIn.str(), fanOut.str()};
    else if (in)
      r = {Role::unembedding, fanIn.str(), fanIn.str(), fanOut.str()};
    return r;
  }

  ParamRole vector(Role role, StringRef dim) {
    if (!isWidth(dim))
      return {Role::scalar, "", "", dim.str()};
    return {role, dim.str(), "", dim.str()};
  }

  /// Gains and biases of norms: per-head norms are QK-norms; a model-level
  /// norm that reads the output of a repeated block is the final norm.
  ParamRole normRole(Operation *norm, const ParamUse &use) {
    StringRef dim = use.fanOut.getValue();
    std::string widthDim = isWidth(dim) ? dim.str() : "";
    if (use.perHead)
      return {Role::qk_norm, widthDim, "", dim.str()};
    if (!isa<ModelOp>(norm->getParentOp()))
      return vector(Role::norm, dim);
    Role role =
        placements.readsRepeat(use.input) ? Role::final_norm : Role::norm;
    return {role, widthDim, "", dim.str()};
  }

  ModelOp model;
  ModelIndex index;
  Placements placements;
  llvm::DenseMap<Operation *, unsigned> order;
};
} // namespace

FailureOr<llvm::DenseMap<Operation *, ParamRole>>
mlir::tp::deriveRoles(ModelOp model) {
  return RoleDeriver(model).run();
}
