//===- AssignLayout.cpp - Place parameters in one flat buffer -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Transforms/Passes.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tp {
#define GEN_PASS_DEF_TPASSIGNLAYOUT
#include "muir/Dialect/TP/Transforms/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

LogicalResult tp::checkAssignLayoutOptions(const TPAssignLayoutOptions &options,
                                           OptionErrorFn report) {
  if (options.alignment >= 16 && options.alignment % 16 == 0)
    return success();
  report("alignment", "must be a positive multiple of 16 bytes (one 128-bit "
                      "vector), got " +
                          Twine(options.alignment));
  return failure();
}

namespace {
struct TPAssignLayoutPass : tp::impl::TPAssignLayoutBase<TPAssignLayoutPass> {
  using Base::Base;

  void runOnOperation() override {
    ModelOp model = getOperation();
    if (failed(checkAssignLayoutOptions(
            {alignment}, [&](StringRef option, const Twine &problem) {
              model.emitError() << option << " " << problem;
            })))
      return signalPassFailure();
    FailureOr<std::vector<ParamInfo>> params = collectParams(model);
    if (failed(params))
      return signalPassFailure();
    TPDialect &tp = tpDialect(model);
    // The buffers hold f32 (master copies of f16/bf16/f8 parameters too;
    // docs/Lowering.md), so offsets count 4-byte elements.
    const int64_t align = alignment / 4;
    int64_t offset = 0;
    llvm::StringMap<LayoutAttr> placed;
    for (ParamInfo &p : *params) {
      if (std::optional<StringRef> tied = p.op.getTied()) {
        tp.getLayoutAttrHelper().setAttr(p.op, placed.lookup(*tied));
        continue;
      }
      int64_t numel = 1;
      for (int64_t s : p.shape)
        numel *= s;
      int64_t stride = llvm::alignTo(numel, align);
      offset = llvm::alignTo(offset, align);
      int64_t size;
      if (llvm::MulOverflow(stride, p.copies, size) ||
          llvm::AddOverflow(offset, size, size) ||
          size > LayoutAttr::kMaxElements) {
        p.op.emitOpError() << "does not fit in a flat buffer of at most 2^61 "
                              "f32 elements after the parameters before it";
        return signalPassFailure();
      }
      auto layout =
          LayoutAttr::get(&getContext(), offset, stride, numel, p.copies);
      tp.getLayoutAttrHelper().setAttr(p.op, layout);
      placed[p.name] = layout;
      offset = size;
    }
    tp.getBufferAttrHelper().setAttr(
        model, BufferAttr::get(&getContext(), offset, alignment));
  }
};
} // namespace
