//===- Package.h - Write a kernel package -----------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_TARGET_PACKAGE_H
#define MUIR_TARGET_PACKAGE_H

#include "mlir/IR/BuiltinOps.h"
#include "muir/Dialect/TP/Transforms/Passes.h"
#include "llvm/ADT/StringRef.h"
#include <string>

namespace mlir::tp {

struct PackageOptions {
  /// `native` (the machine that builds the package, which is where CPU
  /// trainers run) or a CPU name such as `x86-64-v3`.
  std::string cpu = "native";
  /// The C compiler that links the shared library; empty: $MUIR_PACKAGE_CC,
  /// else clang-22, clang or cc on PATH.
  std::string cc;
  /// CUDA kernels (kernels.ptx, kernels.sm_80.cubin, kernels.sm_90.cubin):
  /// `auto` where ptxas is found (a note says so when it is not), `on`
  /// (an error without ptxas), or `off`.
  enum class GPU { automatic, on, off } gpu = GPU::automatic;
  /// `fp32` (every flat buffer float32) or `bf16` (bfloat16 gradients and a
  /// bfloat16 copy of the params beside float32 master weights and states;
  /// docs/Optimizers.md).
  std::string precision = "fp32";
};

/// Checks the options before any work (the CPU one this machine's LLVM
/// knows); reports each bad one. muirc checks its flags with it before it
/// reads the model.
LogicalResult checkPackageOptions(const PackageOptions &options,
                                  OptionErrorFn report);

/// Writes the package of the single instantiated, laid-out tp.model in
/// `module` to `dir`: manifest.json (the report plus the layout and kernel
/// signatures), muir_package.h (the API and every constant as a named
/// value), package_abi.h, and libmuir_kernels.so (the CPU kernels and the
/// parameter table). `module` is not modified. Emits diagnostics and fails
/// on any error (unwritable directory, missing compiler, lowering failure).
LogicalResult writePackage(ModuleOp module, llvm::StringRef dir,
                           const PackageOptions &options);

} // namespace mlir::tp

#endif // MUIR_TARGET_PACKAGE_H
