//===- Roles.h - Derive each parameter's role from the program --*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_ANALYSIS_ROLES_H
#define MUIR_DIALECT_TP_ANALYSIS_ROLES_H

#include "muir/Dialect/TP/IR/TPOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include <string>

namespace mlir::tp {

// Placement (TPEnums.td): where a parameter sits relative to the repeated
// blocks. Depth-wise rules (Depth-muP, CompleteP, Complete^(d)P) scale the
// parameters inside the blocks only: a model-level parameter before or
// after them never scales with depth, whatever its role.

/// `before the blocks`, `in the blocks`, `after the blocks`.
llvm::StringRef describePlacement(Placement placement);

/// The placement of every parameter of one model, from the program's
/// structure alone. Building one is one pass over the model that marks the
/// ops reading a tp.repeat result; each query is then a few lookups, so
/// asking for every parameter costs linear time.
class Placements {
public:
  explicit Placements(ModelOp model);

  /// The placement of `param`, a parameter of the model.
  Placement of(ParamOp param) const;

  /// True when `value`, computed in the model, reads (transitively) the
  /// result of a tp.repeat.
  bool readsRepeat(Value value) const;

private:
  llvm::DenseSet<Operation *> afterRepeat;
};

/// What the program says about one parameter: its role, where it sits and
/// the width dim whose ratio is the parameter's own m_N (fan-in for hidden
/// and readout matrices, fan-out for embeddings, the one width dim of a
/// vector). A parameter without width dims has an empty `widthDim`.
struct ParamRole {
  Role role;
  std::string widthDim;
  std::string fanIn, fanOut;
  Placement placement = Placement::beforeBlocks;
};

/// Derives the role of every parameter of `model` from its dims and from
/// what the ops that use it say about each use (ParamUseOpInterface), never
/// from its name or from the ops' kinds:
///   - a matrix (a linear's `[out, in]` weight, a `[count, features]` table
///     looked up by tp.embedding or added with tp.add): fixed -> width is an
///     `embedding`, width -> width `hidden`, width -> fixed `unembedding`;
///   - a bias: `hidden_bias`;
///   - a norm's gain or bias: `qk_norm` when the norm is per head,
///     `final_norm` at model level after a repeated block, `norm` otherwise;
///   - anything without a width dim: `scalar`;
/// and its placement (Placements), derived apart from the uses' roles.
/// Emits an error with a note at the offending use and fails when a role
/// cannot be derived (an unused parameter, an unknown use, uses that
/// disagree).
FailureOr<llvm::DenseMap<Operation *, ParamRole>> deriveRoles(ModelOp model);

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_ANALYSIS_ROLES_H
