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
#include "muir/Dialect/TP/Transforms/Passes.h"

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

struct LowerToNVVMOptions {
  /// The PTX target; ptxas assembles the PTX for it and newer chips.
  std::string chip = "sm_80";
  /// LLVM NVPTX features (the PTX ISA version).
  std::string features = "+ptx80";
  /// The CUDA toolkit that provides libdevice; empty: findCudaToolkit().
  std::string toolkit;
};

/// Builds the GPU lowering of `gpu.module @muir_kernels`: NVVM target,
/// scf->cf, gpu->NVVM (bare pointers), PTX text in a `gpu.binary`
/// (`gpu-module-to-binary{format=isa}`), with libdevice linked and
/// `__CUDA_PREC_SQRT=1` so that sqrt is IEEE (sqrt.rn).
void buildLowerToNVVMPipeline(OpPassManager &pm,
                              const LowerToNVVMOptions &options = {});

/// Registers `tp-lower-to-nvvm` (the pipeline above).
void registerLowerToNVVMPipeline();

/// The CUDA toolkit directory: $CUDA_HOME, $CUDA_ROOT, $CUDA_PATH, else
/// /usr/local/cuda if it exists, else empty.
std::string findCudaToolkit();

} // namespace mlir::tp

#endif // MUIR_CONVERSION_PASSES_H
