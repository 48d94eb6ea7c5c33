//===- TPToKernels.cpp - Fused init and optimizer-step kernels ------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Turns an instantiated, laid-out tp.model into the loop-body IR of its
// kernels, generated once per update rule: what differs from tensor to
// tensor (place in the buffers, constants) is read from a table compiled
// into the package, so the code does not grow with depth. A single call
// updates the whole model. What the pieces are and where they live:
//
//   KernelTable   the table: one entry per parameter, one row of constants
//                 per parameter or per copy
//   InitRules     Philox4x32-10 and the initial distributions
//   StepRules     one step rule per optimizer family (scalars and update)
//   CPUKernels    the init, step and reduce functions for the CPU
//   GPUKernels    the CUDA kernels, from the same rules and table
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "muir/Conversion/Passes.h"
#include "muir/Dialect/TP/Utils/Parametrization.h"

namespace mlir::tp {
#define GEN_PASS_DEF_CONVERTTPTOKERNELS
#include "muir/Conversion/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

namespace {
struct ConvertTPToKernelsPass
    : tp::impl::ConvertTPToKernelsBase<ConvertTPToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ModelOp> models(module.getOps<ModelOp>());
    if (models.size() != 1) {
      module.emitError() << "convert-tp-to-kernels needs exactly one "
                            "tp.model in the module, found "
                         << models.size();
      return signalPassFailure();
    }
    ModelOp model = models.front();
    if (precision != "fp32" && precision != "bf16") {
      model.emitError() << "convert-tp-to-kernels: precision '" << precision
                        << "' is not fp32 or bf16";
      return signalPassFailure();
    }
    BufferAttr buffer = tpDialect(model).getBufferAttrHelper().getAttr(model);
    ParametrizationAttr parametrization =
        tpDialect(model).getParametrizationAttrHelper().getAttr(model);
    if (!buffer || !parametrization) {
      model.emitError() << "kernels need an instantiated, laid-out model; "
                           "run tp-parametrize, tp-instantiate and "
                           "tp-assign-layout first";
      return signalPassFailure();
    }
    // The optimizer and its options: this pass's option overrides what
    // tp-parametrize recorded.
    llvm::Expected<OptimizerSpec> spec =
        optimizer.empty() ? readOptimizerSpec(parametrization)
                          : parseOptimizerSpec(optimizer);
    if (!spec) {
      model.emitError() << (optimizer.empty() ? "" : "optimizer ")
                        << llvm::toString(spec.takeError());
      return signalPassFailure();
    }
    // Every optimizer of the enum has a step kernel (MUIR_OPTIMIZERS).
    const OptimizerInfo &info = lookupOptimizer(spec->optimizer);
    FailureOr<KernelTable> table = planKernelTable(model, *spec);
    if (failed(table))
      return signalPassFailure();
    std::unique_ptr<StepRule> rule = createStepRule(info, *spec);
    KernelPlan plan{std::max<int64_t>(buffer.getElements(), 1), *table, *rule,
                    precision == "bf16"};
    buildCPUKernels(module, model.getLoc(), plan);
    if (gpu)
      buildGPUKernels(module, model.getLoc(), plan);
  }
};
} // namespace
