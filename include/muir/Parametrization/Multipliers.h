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

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/GlobPattern.h"
#include <string>
#include <vector>

namespace mlir::tp {

/// The quantities a multiplier may scale, as named in `tp.scaling`.
bool isScaledQuantity(llvm::StringRef quantity);

/// Per-module (glob over parameter paths) and per-depth multipliers.
class Multipliers {
public:
  /// Reads `{"modules": {glob: {quantity: factor}}, "depth": {quantity:
  /// [factor per base block]}}`. Errors name the file and the JSON path.
  static llvm::Expected<Multipliers> load(llvm::StringRef path);

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
  struct Module {
    std::string pattern;
    llvm::StringMap<double> factors;
  };
  std::vector<Module> modules;
  llvm::StringMap<std::vector<double>> depth;
};

} // namespace mlir::tp

#endif // MUIR_PARAMETRIZATION_MULTIPLIERS_H
