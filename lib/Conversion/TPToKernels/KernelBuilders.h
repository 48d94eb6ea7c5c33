//===- KernelBuilders.h - The CPU and GPU kernel builders -------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELBUILDERS_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELBUILDERS_H

#include "Segments.h"
#include "StepRules.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::tp {

/// What the kernel builders of every target take.
struct KernelPlan {
  /// Elements of each flat buffer (at least 1: memrefs are static).
  int64_t elements;
  ArrayRef<Segment> segments;
  const StepRule &rule;
};

/// The type of the flat buffers: `memref<elements x f32>`.
MemRefType bufferType(MLIRContext *context, const KernelPlan &plan);

/// Loads element `i` of the buffers (params, grads, state0, state1) that
/// the rule uses.
StepElement loadElement(KernelIR &ir, ArrayRef<Value> buffers, Value i,
                        const StepRule &rule);

/// Stores the updated values of element `i`.
void storeElement(KernelIR &ir, ArrayRef<Value> buffers, Value i,
                  const StepElement &e);

/// The CPU functions @muir_generated_init, @muir_generated_step and
/// @muir_philox4x32_10 at the end of `module`.
void buildCPUKernels(ModuleOp module, Location loc, const KernelPlan &plan);

/// `gpu.module @muir_kernels` with the kernels the runtime launches, at the
/// end of `module` (which becomes a gpu.container_module).
void buildGPUKernels(ModuleOp module, Location loc, const KernelPlan &plan);

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELBUILDERS_H
