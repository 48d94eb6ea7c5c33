//===- TorchGraph.h - Import traced PyTorch models --------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `muir.torch` (python/muir/torch) runs a user's nn.Module at the target
// size and at the base size on example inputs and records every PyTorch
// call each one makes (a JSON "torch graph": tensors with their shapes,
// calls with their arguments and module paths, where parameters and buffers
// enter, which containers hold repeated blocks). The importer compares the
// two traces and writes one verified tp.model:
//
// - dims: an axis whose size differs between base and target is a width
//   dim, one that does not a fixed dim, each named by its sizes; the
//   children of a container (nn.ModuleList, nn.Sequential) called one after
//   another are the blocks of a tp.repeat over a depth dim named by the
//   container's path;
// - ops: the calls that bear on roles and multipliers become tp ops (a
//   parameter's use by F.linear, F.embedding, F.layer_norm or an added or
//   multiplied vector; the residual adds on the path through each block;
//   the constant an attention multiplies its logits by); every other call
//   passes through as one generic tp.op carrying its PyTorch name;
// - parameters keep the user's names (state_dict keys); a parameter inside
//   the blocks is named with `*` for the block index.
//
// What cannot be derived is an error naming the module, the call and the
// user's source line: a parameter used by a call that says nothing about its
// role, a structure that differs between base and target or between blocks,
// a parameter that does not reach the loss, an attention scale that is
// neither 1/sqrt(d_head) nor 1/d_head.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_IMPORT_TORCHGRAPH_H
#define MUIR_IMPORT_TORCHGRAPH_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace muir {

/// The `format` and `version` of the torch graph a trainer writes and of
/// the binding the importer writes back.
constexpr llvm::StringLiteral kTorchGraphFormat = "muir-torch-graph";
constexpr llvm::StringLiteral kTorchBindingFormat = "muir-torch-binding";
constexpr int64_t kTorchGraphVersion = 1;

/// An imported model and what a trainer needs to run the user's own module
/// with it: every parameter name mapped to its tp.param and copy, and the
/// calls (module path and ordinal among that module's calls, one per
/// block) that are residual branches and attention logit scales, under the
/// names the package's forward table gives them.
struct TorchImport {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  llvm::json::Value binding = nullptr;
};

/// Reads the torch graph at `path` (`-` is standard input) and builds its
/// verified tp.model. Every error reads `<where>: <what>`: a place in the
/// JSON file (`file:line:col: $.path: ...`) or in the user's Python source
/// (`model.py:57: in module 'h.0.attn', call 'mul': ...`).
llvm::Expected<TorchImport> importTorchGraph(llvm::StringRef path,
                                             mlir::MLIRContext &context);

} // namespace muir

#endif // MUIR_IMPORT_TORCHGRAPH_H
