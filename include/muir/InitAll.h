//===- InitAll.h - Register muir's dialects and passes ----------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_INITALL_H
#define MUIR_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace muir {

/// Adds the tp dialect and the upstream dialects that muir's pipelines
/// produce (func, arith, math, scf, memref, tensor, linalg, gpu, nvvm, llvm).
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers muir's passes and the upstream passes its pipelines use.
void registerAllPasses();

} // namespace muir

#endif // MUIR_INITALL_H
