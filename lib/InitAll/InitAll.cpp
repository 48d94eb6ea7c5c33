//===- InitAll.cpp - Register muir's dialects and passes ------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/InitAll.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/Passes.h"
#include "muir/Conversion/Passes.h"
#include "muir/Dialect/TP/IR/TPDialect.h"
#include "muir/Dialect/TP/Transforms/Passes.h"

void muir::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::tp::TPDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect, mlir::memref::MemRefDialect,
                  mlir::tensor::TensorDialect, mlir::linalg::LinalgDialect,
                  mlir::gpu::GPUDialect, mlir::NVVM::NVVMDialect,
                  mlir::LLVM::LLVMDialect>();
}

void muir::registerAllPasses() {
  mlir::registerTransformsPasses(); // canonicalize, cse, symbol-dce, ...
  mlir::tp::registerTPPasses();
  mlir::tp::registerMuirConversionPasses();
  mlir::tp::registerLowerToCPUPipeline();
}
