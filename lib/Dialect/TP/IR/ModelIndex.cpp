//===- ModelIndex.cpp - The names a tp.model declares, indexed ------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tp;

ModelIndex::ModelIndex(ModelOp model) {
  for (Operation &op : model.getBody().front())
    if (auto dim = dyn_cast<DimOp>(op))
      addDim(dim);
  model.walk([&](ParamOp param) { addParam(param); });
}

const DimInfo *ModelIndex::addDim(DimOp dim) {
  DimInfo info{dim, dim.getKind()};
  switch (info.kind) {
  case DimKind::width:
  case DimKind::depth:
    info.isWidth = info.kind == DimKind::width;
    info.base = dim.getBaseSizeAttr().getInt();
    info.target = dim.getSizeAttr().getInt();
    break;
  case DimKind::fixed:
    info.base = info.target = dim.getSizeAttr().getInt();
    break;
  case DimKind::product:
    // Factors are declared earlier, so each is resolved already: one
    // multiplication per factor, however long a chain of products is.
    info.base = info.target = 1;
    for (Attribute f : dim.getFactorsAttr()) {
      const DimInfo *factor = lookupDim(cast<FlatSymbolRefAttr>(f).getValue());
      if (!factor || llvm::MulOverflow(info.base, factor->base, info.base) ||
          llvm::MulOverflow(info.target, factor->target, info.target))
        return nullptr;
      info.isWidth |= factor->isWidth;
    }
    break;
  }
  auto [it, inserted] = dimPositions.try_emplace(dim.getSymName(), dims.size());
  if (inserted)
    dims.push_back(info);
  return &dims[it->second];
}

ParamOp ModelIndex::addParam(ParamOp param) {
  auto [it, inserted] = params.try_emplace(param.getName(), param);
  return inserted ? ParamOp() : it->second;
}

const DimInfo *ModelIndex::lookupDim(StringRef name) const {
  auto it = dimPositions.find(name);
  return it == dimPositions.end() ? nullptr : &dims[it->second];
}

ParamOp ModelIndex::lookupParam(StringRef name) const {
  return params.lookup(name);
}
