//===- ModelIndex.h - The names a tp.model declares, indexed ----*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_MODELINDEX_H
#define MUIR_DIALECT_TP_IR_MODELINDEX_H

#include "muir/Dialect/TP/IR/TPOps.h"
#include "llvm/ADT/StringMap.h"
#include <deque>

namespace mlir::tp {

/// A declared dim with its sizes resolved through its factors.
struct DimInfo {
  DimOp op;
  DimKind kind;
  /// True when the dim grows with width (directly or through a factor).
  bool isWidth = false;
  /// The dim's size in the base model and in this one.
  int64_t base = 0, target = 0;

  /// The scaling ratio target / base (1 for fixed dims).
  double ratio() const { return double(target) / double(base); }
};

/// The names a `tp.model` declares, indexed: its dims by symbol name, each
/// with its sizes resolved once (product dims from their factors), and its
/// parameters by module path. Building one costs one pass over the model;
/// every lookup is then a hash lookup. `tp.model` is a symbol table whose
/// symbols are its dims, but MLIR's SymbolTable neither resolves a product's
/// sizes nor knows parameters; code that looks up more than a name or two
/// builds one of these instead of scanning the model's block.
class ModelIndex {
public:
  /// An empty index, filled in program order with addDim() and addParam()
  /// (as the model verifier does).
  ModelIndex() = default;

  /// Indexes the dims and parameters of the verified `model`.
  explicit ModelIndex(ModelOp model);

  /// Indexes `dim` after its factors. Returns null, indexing nothing, when a
  /// factor is not indexed or the product overflows 64 bits; a name that is
  /// already indexed keeps its first declaration.
  const DimInfo *addDim(DimOp dim);

  /// Indexes `param` under its module path and returns null, or returns the
  /// parameter that already has that path and indexes nothing.
  ParamOp addParam(ParamOp param);

  /// The dim named `name`, or null.
  const DimInfo *lookupDim(StringRef name) const;

  /// The parameter whose module path is `name`, or null.
  ParamOp lookupParam(StringRef name) const;

  /// The dims in declaration order.
  const std::deque<DimInfo> &getDims() const { return dims; }

private:
  /// A deque, so that entries stay where they are as dims are added.
  std::deque<DimInfo> dims;
  llvm::StringMap<unsigned> dimPositions;
  llvm::StringMap<ParamOp> params;
};

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_IR_MODELINDEX_H
