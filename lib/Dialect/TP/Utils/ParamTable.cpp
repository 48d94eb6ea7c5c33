//===- ParamTable.cpp - The parameters of a tp.model as a table -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Support/Format.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InterleavedRange.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tp;

/// Resolves the base and target sizes of `dim`.
static LogicalResult resolve(const ModelIndex &index, Operation *user,
                             StringRef dim, int64_t &base, int64_t &target) {
  const DimInfo *info = index.lookupDim(dim);
  if (!info)
    return user->emitError()
           << "cannot resolve the size of dim '" << dim << "'";
  base = info->base;
  target = info->target;
  return success();
}

/// Element counts are int64_t; dims of up to 2^63 - 1 each can overflow
/// them, which is an error rather than a wrapped count.
static WalkResult tooLarge(Operation *op, const std::string &what) {
  op->emitError() << what << " has more elements than fit in a 64-bit count";
  return WalkResult::interrupt();
}

FailureOr<std::vector<ParamInfo>> mlir::tp::collectParams(ModelOp model) {
  std::vector<ParamInfo> params;
  ModelIndex index(model);
  WalkResult walk = model.walk([&](ParamOp op) -> WalkResult {
    ParamInfo info;
    info.op = op;
    info.name = op.getName().str();
    int64_t baseNumel = 1, numel = 1;
    for (StringAttr dim : op.getType().getDims()) {
      int64_t base, target;
      if (failed(resolve(index, op, dim.getValue(), base, target)))
        return WalkResult::interrupt();
      info.dims.push_back(dim.getValue().str());
      info.baseShape.push_back(base);
      info.shape.push_back(target);
      if (llvm::MulOverflow(baseNumel, base, baseNumel) ||
          llvm::MulOverflow(numel, target, numel))
        return tooLarge(op, "parameter '" + info.name + "'");
    }
    if (auto repeat = dyn_cast<RepeatOp>(op->getParentOp()))
      if (failed(resolve(index, repeat, repeat.getDepth(), info.baseCopies,
                         info.copies)))
        return WalkResult::interrupt();
    if (std::optional<StringRef> tied = op.getTied()) {
      info.init = ("tied to " + *tied).str();
    } else {
      info.init = stringifyInitKind(*op.getInit()).str();
      if (llvm::MulOverflow(baseNumel, info.baseCopies, info.baseNumel) ||
          llvm::MulOverflow(numel, info.copies, info.numel))
        return tooLarge(op, "parameter '" + info.name + "'");
    }
    params.push_back(std::move(info));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return params;
}

/// `[768, 3072]`, or `12 x [768, 3072]` for a repeated parameter.
static std::string formatShape(const std::vector<int64_t> &shape,
                               int64_t copies, bool repeated) {
  std::string s = llvm::interleaved_array(shape).str();
  return repeated ? std::to_string(copies) + " x " + s : s;
}

/// The table of one model and its totals.
static LogicalResult printParamTable(ModelOp model, llvm::raw_ostream &os) {
  FailureOr<std::vector<ParamInfo>> params = collectParams(model);
  if (failed(params))
    return failure();
  muir::Columns columns;
  columns.addRow(
      {"parameter", "dims", "base shape", "shape", "elements", "init"});
  columns.alignRight(4);
  int64_t baseTotal = 0, total = 0, tensors = 0;
  for (const ParamInfo &p : *params) {
    bool repeated = ParamOp(p.op).isRepeated();
    columns.addRow({p.name, "[" + llvm::join(p.dims, ", ") + "]",
                    formatShape(p.baseShape, p.baseCopies, repeated),
                    formatShape(p.shape, p.copies, repeated),
                    p.numel ? std::to_string(p.numel) : "-", p.init});
    if (llvm::AddOverflow(baseTotal, p.baseNumel, baseTotal) ||
        llvm::AddOverflow(total, p.numel, total) ||
        (p.numel && llvm::AddOverflow(tensors, p.copies, tensors)))
      return model.emitError()
             << "model '" << model.getSymName()
             << "' has more parameter elements than fit in a 64-bit count";
  }
  os << llvm::formatv("model @{0}: {1} parameter{2}\n", model.getSymName(),
                      params->size(), params->size() == 1 ? "" : "s");
  columns.print(os);
  os << llvm::formatv("total: {0} elements in {1} tensors (base model: {2})\n",
                      total, tensors, baseTotal);
  return success();
}

LogicalResult mlir::tp::printParamTables(Operation *root, llvm::raw_ostream &os,
                                         bool *found) {
  bool any = false, ok = true;
  root->walk([&](ModelOp model) {
    any = true;
    ok &= succeeded(printParamTable(model, os));
  });
  if (found)
    *found = any;
  return success(ok);
}
