//===- ModelCard.h - Import standard models from JSON cards -----*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A model card is a small JSON object naming a standard family (an MLP, a
// GPT-2 or a Llama-style decoder) and its sizes. The importer turns a target
// card, and optionally a base card (the small proxy on which hyperparameters
// are tuned), into one verified `tp.model` whose dims carry both sizes, so a
// user need not write tp IR for a standard model.
//
//   {"family": "gpt", "d_model": 768, "n_layer": 12, "n_head": 12,
//    "d_ff": 3072, "vocab": 50304, "seq_len": 1024,
//    "tied_embeddings": true, "bias": true, "qk_norm": false}
//
// Every error message reads `<file>: <json path>: <what is wrong>` (a JSON
// syntax error reads `<file>:<line>:<col>: ...`), so a driver only prefixes
// its own name.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_IMPORT_MODELCARD_H
#define MUIR_IMPORT_MODELCARD_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <string>

namespace muir {

/// The standard architectures a card can describe.
enum class ModelFamily {
  /// A ReLU MLP classifier (examples/mlp.mlir); with "residual": true its
  /// hidden layers are residual blocks (examples/mlp-residual.mlir).
  MLP,
  /// GPT-2: learned positions, pre-LayerNorm blocks, GELU MLP
  /// (examples/gpt2.mlir).
  GPT,
  /// Llama: RMSNorm, RoPE, SwiGLU, grouped-query attention, optional
  /// QK-norm (examples/llama.mlir).
  Llama,
};

/// A validated model card: the sizes and switches of one model. Fields that
/// the family does not use stay zero.
struct ModelCard {
  /// The file the card was read from; names it in messages and locations.
  std::string path;
  ModelFamily family = ModelFamily::MLP;
  /// The symbol name of the `tp.model` (default: the family's name).
  std::string name;

  // Transformers (gpt, llama).
  int64_t dModel = 0, nLayer = 0, nHead = 0, nKvHead = 0, dFF = 0;
  int64_t vocab = 0, seqLen = 0;
  bool tiedEmbeddings = false, bias = false, qkNorm = false;
  /// RoPE base (llama only).
  double ropeTheta = 10000.0;

  // MLP (n_layer and bias are shared with the transformers).
  int64_t dIn = 0, dHidden = 0, dOut = 0;
  /// Residual hidden blocks h + W relu(h) + b instead of a plain stack.
  bool residual = false;

  /// The activations' batch dim.
  int64_t batch = 8;

  /// Keys present in the card, with the 1-based line and column where each
  /// is written; defaulted keys are absent.
  llvm::StringMap<std::pair<unsigned, unsigned>> keys;

  /// Features per attention head, d_model / n_head.
  int64_t dHead() const { return nHead ? dModel / nHead : 0; }
};

/// Returns the lower-case name a card uses for `family` ("mlp", "gpt",
/// "llama").
llvm::StringRef stringifyModelFamily(ModelFamily family);

/// Parses and validates the card in `text`; `path` names it in messages.
/// Reports every missing, mistyped, non-positive and unknown key, then the
/// size constraints (d_model divisible by n_head, n_head by n_kv_head).
llvm::Expected<ModelCard> parseModelCard(llvm::StringRef text,
                                         llvm::StringRef path);

/// Reads the card file at `path` (`-` reads standard input) and parses it
/// with parseModelCard.
llvm::Expected<ModelCard> readModelCard(llvm::StringRef path);

/// Builds the verified `tp.model` whose target sizes come from `target` and
/// whose base sizes come from `base`. Fails when the two cards cannot share
/// one program: another family, a fixed dim (vocab, seq_len, batch, d_in,
/// d_out) or a switch (bias, tied_embeddings, qk_norm, rope_theta) that
/// differs. The error names the base card's file and key.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildModelFromCards(const ModelCard &target, const ModelCard &base,
                    mlir::MLIRContext &context);

/// Reads the card at `targetPath` and, unless `basePath` is empty, the base
/// card at `basePath` (otherwise the base model is the target itself), and
/// builds the verified module holding their `tp.model`. The context must
/// have the tp dialect registered or loadable.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModelCard(llvm::StringRef targetPath, llvm::StringRef basePath,
                mlir::MLIRContext &context);

} // namespace muir

#endif // MUIR_IMPORT_MODELCARD_H
