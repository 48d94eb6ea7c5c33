//===- ForwardTable.h - The forward multipliers of a tp.model ---*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The multipliers a trainer applies in the forward pass besides each
// parameter's own (`tp.values` multiplier of a tp.param): the branch
// multiplier of every tp.residual and the logit scale of every attention
// (LogitScaleOpInterface: tp.attention and tp.attention_scale).
// One table, named structurally, so the per-module multipliers file, the
// report, the manifest, the header and the C table name them alike.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_UTILS_FORWARDTABLE_H
#define MUIR_DIALECT_TP_UTILS_FORWARDTABLE_H

#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include <string>
#include <vector>

namespace mlir::tp {

/// One tp.residual: `stream + multiplier[l] * branch` in block l.
struct ResidualInfo {
  ResidualOp op;
  /// `<depth>.residual<k>`: the k-th tp.residual, in program order, of the
  /// blocks repeated over the depth dim `<depth>`.
  std::string name;
  /// The depth dim of the enclosing tp.repeat.
  std::string depth;
  /// Program order among the residuals of its own block (0 for the first).
  int64_t indexInBlock = 0;
  /// Blocks in this model (the depth dim's size).
  int64_t copies = 1;
};

/// One attention (a tp.attention, or the tp.attention_scale of one written
/// op by op): `softmax(scale * q.k)` over each head.
struct AttentionInfo {
  LogitScaleOpInterface op;
  /// `<depth>.attention<k>` inside blocks, `attention<k>` at model level.
  std::string name;
  std::string headDim;
  /// The head dim's size in this model.
  int64_t headDimSize = 1;
  /// `inv_head_dim`, `inv_sqrt_head_dim`, or empty when no scale is set.
  std::string rule;
  /// 1/d_head or 1/sqrt(d_head) at this model's size (1 when unset).
  double scale = 1.0;
};

/// The residual branches and attentions of one model, in program order.
struct ForwardTable {
  std::vector<ResidualInfo> residuals;
  std::vector<AttentionInfo> attentions;
};

/// Collects the forward table of `model` (indexed by `index`). Fails (with
/// a diagnostic) when a depth or head dim is not declared.
FailureOr<ForwardTable> collectForwardTable(ModelOp model,
                                            const ModelIndex &index);

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_UTILS_FORWARDTABLE_H
