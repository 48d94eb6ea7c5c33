//===- AssignLayout.cpp - Place parameters in one flat buffer -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "muir/Conversion/Passes.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "llvm/Support/MathExtras.h"
#include <limits>

namespace mlir::tp {
#define GEN_PASS_DEF_TPASSIGNLAYOUT
#include "muir/Conversion/Passes.h.inc"
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
    Builder b(&getContext());
    // The buffers hold f32 (master copies of f16/bf16/f8 parameters too;
    // docs/Lowering.md), so offsets count 4-byte elements.
    const int64_t align = alignment / 4;
    int64_t offset = 0;
    llvm::StringMap<DictionaryAttr> placed;
    for (ParamInfo &p : *params) {
      if (std::optional<StringRef> tied = p.op.getTied()) {
        p.op->setAttr("tp.layout", placed.lookup(*tied));
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
          size > std::numeric_limits<int64_t>::max() / 4) {
        p.op.emitOpError() << "does not fit in a flat buffer of at most 2^61 "
                              "f32 elements after the parameters before it";
        return signalPassFailure();
      }
      auto i64 = [&](StringRef k, int64_t v) {
        return b.getNamedAttr(k, b.getI64IntegerAttr(v));
      };
      DictionaryAttr layout =
          b.getDictionaryAttr({i64("offset", offset), i64("stride", stride),
                               i64("numel", numel), i64("copies", p.copies)});
      p.op->setAttr("tp.layout", layout);
      placed[p.name] = layout;
      offset = size;
    }
    model->setAttr(
        "tp.buffer",
        b.getDictionaryAttr(
            {b.getNamedAttr("elements", b.getI64IntegerAttr(offset)),
             b.getNamedAttr("alignment", b.getI64IntegerAttr(alignment))}));
  }
};
} // namespace
