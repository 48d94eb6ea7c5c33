//===- Passes.h - Kernel generation passes ----------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_CONVERSION_PASSES_H
#define MUIR_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"
#include "muir/Dialect/TP/IR/TPOps.h"

namespace mlir::tp {

#define GEN_PASS_DECL
#include "muir/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "muir/Conversion/Passes.h.inc"

/// Builds the CPU lowering of the generated kernels: scf/arith/math/memref/
/// func to the LLVM dialect with bare-pointer calling convention.
void buildLowerToCPUPipeline(OpPassManager &pm);

/// Registers `tp-lower-to-cpu` (the pipeline above) with the pass registry.
void registerLowerToCPUPipeline();

} // namespace mlir::tp

#endif // MUIR_CONVERSION_PASSES_H
