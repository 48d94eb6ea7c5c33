//===- LowerToCPU.cpp - The generated kernels to the LLVM dialect ---------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Upstream lowerings only. The kernels use static memrefs, so the bare-
// pointer calling convention gives them plain C signatures (float *), which
// the package's C ABI wrappers call directly. math.sqrt becomes the
// llvm.sqrt intrinsic, which LLVM vectorises (a libm call with errno would
// not be; shared/reference/performance-notes.md).
//
//===----------------------------------------------------------------------===//

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Pass/Pass.h" // the per-pass headers below need it first
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "muir/Conversion/Passes.h"

using namespace mlir;

void mlir::tp::buildLowerToCPUPipeline(OpPassManager &pm) {
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::tp::registerLowerToCPUPipeline() {
  PassPipelineRegistration<>(
      "tp-lower-to-cpu",
      "Lower the generated kernels (scf, arith, math, memref, func) to the "
      "LLVM dialect for the CPU",
      [](OpPassManager &pm) { buildLowerToCPUPipeline(pm); });
}
