//===- KernelTable.cpp - The constant table of the kernels ----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Conversion/KernelTable.h"
#include "InitRules.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tp;

std::vector<int64_t> KernelParam::fields() const {
  return {offset,        stride,    numel,        copies,        firstChunk,
          chunksPerCopy, firstSlot, slotsPerCopy, chunksPerSlot, param,
          init,          firstRow,  rowStride,    unitElements,  firstUnit};
}

std::vector<double> TensorRow::fields() const {
  return {lr, weightDecay, eps, beta1, beta2, initScale};
}

static TensorRow rowOf(ValuesAttr values, InitKind init, int64_t copy) {
  TensorRow r;
  r.lr = values.at(Quantity::lr, copy);
  r.weightDecay = values.at(Quantity::weight_decay, copy);
  r.eps = values.at(Quantity::eps, copy);
  r.beta1 = values.at(Quantity::beta1, copy);
  r.beta2 = values.at(Quantity::beta2, copy);
  r.initScale = initScale(init, values.at(Quantity::init_std, copy));
  return r;
}

FailureOr<KernelTable> mlir::tp::planKernelTable(ModelOp model,
                                                 const OptimizerSpec &spec) {
  FailureOr<std::vector<ParamInfo>> params = collectParams(model);
  if (failed(params))
    return failure();
  KernelTable t;
  for (auto [index, info] : llvm::enumerate(*params)) {
    ParamInfo &p = info;
    if (p.op.getTied())
      continue;
    TPDialect &tp = tpDialect(p.op);
    LayoutAttr layout = tp.getLayoutAttrHelper().getAttr(p.op);
    ValuesAttr values = tp.getValuesAttrHelper().getAttr(p.op);
    if (!layout || !values)
      return p.op.emitOpError() << "has no tp.layout or tp.values; run "
                                   "tp-instantiate and tp-assign-layout first";
    KernelParam k;
    k.offset = layout.getOffset();
    k.stride = layout.getStride();
    k.numel = layout.getNumel();
    k.copies = layout.getCopies();
    k.param = int64_t(index);
    InitKind init = *p.op.getInit();
    k.init = int64_t(init);
    if (!llvm::is_contained(t.initKinds, init))
      t.initKinds.push_back(init);
    // The GPU kernels access 4 elements at once with 128-bit accesses.
    if (k.offset < 0 || k.offset % 4 != 0 || k.stride < 0 ||
        (k.copies > 1 && k.stride % 4 != 0))
      return p.op.emitOpError()
             << "'" << p.name << "' is placed at offset " << k.offset
             << " with stride " << k.stride
             << ": the kernels need multiples of 4 elements (16 bytes, one "
                "128-bit access); run tp-assign-layout";

    auto limit = [&](StringRef what, int64_t before, int64_t perCopy,
                     int64_t &total) -> LogicalResult {
      int64_t all;
      if (!llvm::MulOverflow(perCopy, k.copies, all) &&
          !llvm::AddOverflow(before, all, total) && total <= kMaxKernelIndex)
        return success();
      return p.op.emitOpError()
             << "'" << p.name << "' (" << k.copies << " x " << k.numel
             << " elements) takes the kernels' " << what << " past "
             << kMaxKernelIndex << ", the most that 32-bit indices address";
    };
    k.chunksPerCopy = int64_t(llvm::divideCeil(k.numel, kChunkElements));
    k.firstChunk = t.chunks;
    if (failed(limit("chunks of 1024 elements", t.chunks, k.chunksPerCopy,
                     t.chunks)))
      return failure();
    if (k.chunksPerCopy > 0) {
      k.chunksPerSlot = std::min(
          k.chunksPerCopy,
          std::max(kMinChunksPerSlot, int64_t(llvm::divideCeil(
                                          k.chunksPerCopy, kMaxSlotsPerCopy))));
      k.slotsPerCopy =
          int64_t(llvm::divideCeil(k.chunksPerCopy, k.chunksPerSlot));
    }
    k.firstSlot = t.slots;
    if (failed(limit("reduction slots", t.slots, k.slotsPerCopy, t.slots)))
      return failure();

    // One row for all copies unless their constants differ.
    std::vector<TensorRow> rows = {rowOf(values, init, 0)};
    bool perCopy = false;
    for (int64_t copy = 1; copy < k.copies && !perCopy; ++copy)
      perCopy = rowOf(values, init, copy).fields() != rows.front().fields();
    if (int64_t(t.rows.size()) > kMaxKernelIndex - (perCopy ? k.copies : 1))
      return p.op.emitOpError()
             << "'" << p.name << "' takes the kernels' table rows past "
             << kMaxKernelIndex << ", the most that 32-bit indices address";
    for (int64_t copy = 1; perCopy && copy < k.copies; ++copy)
      rows.push_back(rowOf(values, init, copy));
    k.firstRow = int64_t(t.rows.size());
    k.rowStride = perCopy ? 1 : 0;

    // LionAR's units (REQ's rotational rule: rank >= 2; the weight decay,
    // which a state may change, is checked by the kernels at run time). A
    // unit needs 2 elements for its state (n0, nu) in the copy's place in
    // state buffer 1, and a row of 1 element centred is 0.
    k.firstUnit = t.units;
    if (spec.optimizer == Optimizer::lionAR && p.shape.size() >= 2 &&
        k.numel > 0) {
      int64_t unit = spec.units == UpdateUnits::tensor
                         ? k.numel
                         : k.numel / std::max<int64_t>(p.shape.front(), 1);
      if (unit >= 2) {
        k.unitElements = unit;
        if (failed(
                limit("rotational units", t.units, k.unitsPerCopy(), t.units)))
          return failure();
      }
    }
    t.rows.insert(t.rows.end(), rows.begin(), rows.end());
    t.params.push_back(k);
    t.ops.push_back(p.op);
  }
  return t;
}
