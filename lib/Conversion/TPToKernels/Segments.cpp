//===- Segments.cpp - The tensor copies the kernels update ----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Segments.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tp;

/// Reads quantity `key` of `values` for block copy `copy`.
static double valueAt(DictionaryAttr values, StringRef key, int64_t copy,
                      double fallback) {
  Attribute a = values ? values.get(key) : Attribute();
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto arr = dyn_cast_or_null<DenseF64ArrayAttr>(a))
    return arr[std::min<int64_t>(copy, arr.size() - 1)];
  return fallback;
}

FailureOr<std::vector<Segment>> mlir::tp::planSegments(ModelOp model) {
  FailureOr<std::vector<ParamInfo>> params = collectParams(model);
  if (failed(params))
    return failure();
  std::vector<Segment> segments;
  for (auto [index, p] : llvm::enumerate(*params)) {
    if (p.op.getTied())
      continue;
    auto layout = p.op->getAttrOfType<DictionaryAttr>("tp.layout");
    auto values = p.op->getAttrOfType<DictionaryAttr>("tp.values");
    if (!layout || !values)
      return p.op.emitOpError() << "has no tp.layout or tp.values; run "
                                   "tp-instantiate and tp-assign-layout first";
    auto get = [&](StringRef k) {
      auto a = layout.getAs<IntegerAttr>(k);
      return a ? a.getInt() : 0;
    };
    for (int64_t copy = 0; copy < get("copies"); ++copy)
      segments.push_back({int64_t(index), copy,
                          get("offset") + copy * get("stride"), get("numel"),
                          *p.op.getInit(),
                          valueAt(values, "init_std", copy, 0.0),
                          valueAt(values, "lr", copy, 0.0),
                          valueAt(values, "weight_decay", copy, 0.0),
                          valueAt(values, "eps", copy, 0.0),
                          valueAt(values, "beta1", copy, 0.0),
                          valueAt(values, "beta2", copy, 0.0)});
  }
  return segments;
}

SmallVector<int64_t> mlir::tp::chunkStarts(ArrayRef<Segment> segments) {
  SmallVector<int64_t> first;
  int64_t chunks = 0;
  for (const Segment &s : segments) {
    first.push_back(chunks);
    chunks += llvm::divideCeil(s.numel, kChunkElements);
  }
  first.push_back(chunks);
  return first;
}
