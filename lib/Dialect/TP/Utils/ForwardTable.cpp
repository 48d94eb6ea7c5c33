//===- ForwardTable.cpp - The forward multipliers of a tp.model -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Utils/ForwardTable.h"
#include "llvm/ADT/StringMap.h"
#include <cmath>

using namespace mlir;
using namespace mlir::tp;

/// The target size of `dim`, or a diagnostic at `user`.
static FailureOr<int64_t> sizeOf(const ModelIndex &index, Operation *user,
                                 StringRef dim) {
  const DimInfo *decl = index.lookupDim(dim);
  if (!decl)
    return user->emitError()
           << "cannot resolve the size of dim '" << dim << "'";
  return decl->target;
}

static FailureOr<std::vector<ResidualInfo>>
collectResiduals(ModelOp model, const ModelIndex &index) {
  std::vector<ResidualInfo> residuals;
  llvm::StringMap<int64_t> perDepth;
  llvm::DenseMap<Operation *, int64_t> perBlock;
  WalkResult walk = model.walk([&](ResidualOp op) -> WalkResult {
    // The dialect keeps tp.residual inside a tp.repeat body.
    auto repeat = op->getParentOfType<RepeatOp>();
    if (!repeat)
      return WalkResult::advance();
    ResidualInfo info;
    info.op = op;
    info.depth = repeat.getDepth().str();
    FailureOr<int64_t> copies = sizeOf(index, repeat, info.depth);
    if (failed(copies))
      return WalkResult::interrupt();
    info.copies = *copies;
    info.indexInBlock = perBlock[repeat]++;
    info.name =
        info.depth + ".residual" + std::to_string(perDepth[info.depth]++);
    residuals.push_back(std::move(info));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return residuals;
}

static FailureOr<std::vector<AttentionInfo>>
collectAttentions(ModelOp model, const ModelIndex &index) {
  std::vector<AttentionInfo> attentions;
  llvm::StringMap<int64_t> perScope;
  WalkResult walk = model.walk([&](LogitScaleOpInterface op) -> WalkResult {
    AttentionInfo info;
    info.op = op;
    auto repeat = op->getParentOfType<RepeatOp>();
    std::string scope = repeat ? (repeat.getDepth() + ".").str() : "";
    info.name = scope + "attention" + std::to_string(perScope[scope]++);
    info.headDim = op.getHeadDim().str();
    FailureOr<int64_t> size = sizeOf(index, op.getOperation(), info.headDim);
    if (failed(size))
      return WalkResult::interrupt();
    info.headDimSize = *size;
    if (std::optional<AttentionScale> rule = op.getScale()) {
      info.rule = stringifyAttentionScale(*rule).str();
      double d = double(info.headDimSize);
      info.scale =
          *rule == AttentionScale::inv_head_dim ? 1.0 / d : 1.0 / std::sqrt(d);
    }
    attentions.push_back(std::move(info));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return attentions;
}

FailureOr<ForwardTable> mlir::tp::collectForwardTable(ModelOp model,
                                                      const ModelIndex &index) {
  FailureOr<std::vector<ResidualInfo>> residuals =
      collectResiduals(model, index);
  FailureOr<std::vector<AttentionInfo>> attentions =
      collectAttentions(model, index);
  if (failed(residuals) || failed(attentions))
    return failure();
  return ForwardTable{std::move(*residuals), std::move(*attentions)};
}
