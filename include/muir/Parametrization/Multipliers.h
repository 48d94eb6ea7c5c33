//===- Multipliers.h - Per-module and per-depth multipliers -----*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Complete^(d)P factorises per-module hyperparameters as
// log z(m, l) = log z_type(m) + log z_depth(l) + (scaling rules): one factor
// per module type and one per block of the base model. This file reads those
// factors and evaluates them for a model of another depth.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_PARAMETRIZATION_MULTIPLIERS_H
#define MUIR_PARAMETRIZATION_MULTIPLIERS_H

#include "muir/Support/JSON.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/GlobPattern.h"
#include <memory>
#include <string>
#include <vector>

namespace mlir::tp {

/// The quantities a multiplier may scale: those of a parameter's
/// `tp.scaling`, and `residual`, the branch multiplier of a tp.residual
/// (matched by its name in the forward table, `<depth>.residual<k>`).
bool isScaledQuantity(llvm::StringRef quantity);

/// Per-module (glob over parameter paths) and per-depth multipliers.
class Multipliers {
public:
  /// Reads `{"modules": {glob: {quantity: factor}}, "depth": {quantity:
  /// [factor per base block]}}` from the file at `path`. Errors are
  /// muir::JSONError (`file:line:col: $.json.path: message`) except for an
  /// unreadable file.
  static llvm::Expected<Multipliers> load(llvm::StringRef path);
  /// As load, from `text` that was read from `path`.
  static llvm::Expected<Multipliers> parse(llvm::StringRef text,
                                           llvm::StringRef path);

  /// Checks the multipliers against the model they scale, whose parameters
  /// are `params`, whose residual branches are `residuals` (forward-table
  /// names) and whose base model has `baseBlocks` blocks (0 without a depth
  /// dim): every module pattern must match a parameter or a residual branch
  /// (a misspelt path would otherwise be ignored silently; the error lists
  /// them) and every depth list must have one factor per base block. Errors
  /// are muir::JSONError at the pattern or the depth lists.
  llvm::Error checkModel(llvm::ArrayRef<llvm::StringRef> params,
                         llvm::ArrayRef<llvm::StringRef> residuals,
                         int64_t baseBlocks) const;

  /// Product of the factors of every pattern matching `param`.
  double moduleFactor(llvm::StringRef param, llvm::StringRef quantity) const;

  /// True when per-block factors are given for `quantity`.
  bool hasDepth(llvm::StringRef quantity) const {
    return depth.count(quantity);
  }
  /// The per-block factors of `quantity` for a model of `blocks` blocks,
  /// linearly interpolated in l/L from the base model's list.
  std::vector<double> depthFactors(llvm::StringRef quantity,
                                   int64_t blocks) const;
  /// Number of base blocks each depth list must have, or 0 when none given.
  size_t depthListSize() const;

private:
  static llvm::Expected<Multipliers>
  fromDocument(std::shared_ptr<const muir::JSONDocument> doc);

  struct Module {
    std::string pattern;
    llvm::StringMap<double> factors;
  };
  /// The file the multipliers were read from, for the positions of errors.
  std::shared_ptr<const muir::JSONDocument> doc;
  std::vector<Module> modules;
  llvm::StringMap<std::vector<double>> depth;
};

} // namespace mlir::tp

#endif // MUIR_PARAMETRIZATION_MULTIPLIERS_H
