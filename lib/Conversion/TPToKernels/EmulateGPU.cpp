//===- EmulateGPU.cpp - Run the GPU kernels' IR on the CPU (tests) --------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A test-only pass: every kernel of a gpu.module becomes a host function
// that runs the kernel body once per (block, thread) in two nested loops, so
// the GPU kernels' index math, 128-bit vector accesses, grid-stride and tail
// paths execute on the CPU and can be compared bit for bit with the CPU
// kernels (test/Integration/CPU/gpu-emulation.py). Sequential loops are
// exact for kernels whose threads write disjoint elements and that use no
// barriers, shared memory or other threads' results, which the pass checks
// as far as the IR shows it (no gpu op but the ids, dims and return).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "muir/Conversion/Passes.h"

namespace mlir::tp {
#define GEN_PASS_DEF_TPTESTEMULATEGPU
#include "muir/Conversion/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

namespace {

/// The op of `kernel` that the emulation cannot run, if any.
static Operation *unsupportedOp(gpu::GPUFuncOp kernel) {
  Operation *bad = nullptr;
  kernel.getBody().walk([&](Operation *op) {
    if (isa<gpu::ThreadIdOp, gpu::BlockIdOp, gpu::BlockDimOp, gpu::GridDimOp,
            gpu::ReturnOp>(op))
      return WalkResult::advance();
    if (auto inlineAsm = dyn_cast<LLVM::InlineAsmOp>(op)) {
      // The register-pinning `mov` of the kernels: one operand, one result
      // of the same type.
      if (inlineAsm.getAsmString().starts_with("mov.") &&
          inlineAsm.getOperands().size() == 1 && inlineAsm.getRes() &&
          inlineAsm.getRes().getType() == inlineAsm.getOperands()[0].getType())
        return WalkResult::advance();
    } else if (!isa_and_present<gpu::GPUDialect>(op->getDialect()) &&
               !isa<SymbolUserOpInterface>(op)) {
      return WalkResult::advance();
    }
    bad = op;
    return WalkResult::interrupt();
  });
  return bad;
}

struct TPTestEmulateGPUPass
    : tp::impl::TPTestEmulateGPUBase<TPTestEmulateGPUPass> {
  using Base::Base;

  LogicalResult emulate(gpu::GPUFuncOp kernel, ModuleOp module,
                        SymbolTable &symbols) {
    if (!kernel.getBody().hasOneBlock())
      return kernel.emitOpError()
             << "cannot be emulated: its body has more than one block";
    if (kernel.getNumWorkgroupAttributions() ||
        kernel.getNumPrivateAttributions())
      return kernel.emitOpError() << "cannot be emulated: it has workgroup or "
                                     "private memory attributions";
    if (Operation *bad = unsupportedOp(kernel))
      return bad->emitOpError()
             << "cannot be emulated by sequential loops over blocks and "
                "threads";

    OpBuilder b(module.getContext());
    Location loc = kernel.getLoc();
    Type i64 = b.getI64Type(), index = b.getIndexType();
    SmallVector<Type> inputs(kernel.getArgumentTypes());
    inputs.append({i64, i64}); // grid size, block size (x)
    std::string name = (kernel.getName() + "_emulated").str();
    if (symbols.lookup(name))
      return kernel.emitOpError()
             << "cannot be emulated: @" << name << " already exists";
    b.setInsertionPointToEnd(module.getBody());
    auto fn = func::FuncOp::create(b, loc, name, b.getFunctionType(inputs, {}));
    symbols.insert(fn);
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    unsigned n = kernel.getNumArguments();
    Value grid = arith::IndexCastOp::create(b, loc, index, fn.getArgument(n));
    Value block =
        arith::IndexCastOp::create(b, loc, index, fn.getArgument(n + 1));
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto blocks = scf::ForOp::create(b, loc, zero, grid, one);
    b.setInsertionPointToStart(blocks.getBody());
    auto threads = scf::ForOp::create(b, loc, zero, block, one);
    Value bid = blocks.getInductionVar(), tid = threads.getInductionVar();
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc);

    // The kernel body, once per (block, thread).
    b.setInsertionPoint(threads.getBody()->getTerminator());
    IRMapping map;
    for (unsigned i = 0; i < n; ++i)
      map.map(kernel.getArgument(i), fn.getArgument(i));
    for (Operation &op : kernel.getBody().front().without_terminator())
      b.clone(op, map);

    // The ids and dims become the loop variables and the launch shape (y
    // and z: a 1 x 1 launch); the PTX `mov`s become their operand.
    auto pick = [&](gpu::Dimension d, Value x, Value yz) {
      return d == gpu::Dimension::x ? x : yz;
    };
    SmallVector<Operation *> dead;
    threads.getBody()->walk([&](Operation *op) {
      Value with;
      if (auto o = dyn_cast<gpu::ThreadIdOp>(op))
        with = pick(o.getDimension(), tid, zero);
      else if (auto o = dyn_cast<gpu::BlockIdOp>(op))
        with = pick(o.getDimension(), bid, zero);
      else if (auto o = dyn_cast<gpu::BlockDimOp>(op))
        with = pick(o.getDimension(), block, one);
      else if (auto o = dyn_cast<gpu::GridDimOp>(op))
        with = pick(o.getDimension(), grid, one);
      else if (auto o = dyn_cast<LLVM::InlineAsmOp>(op))
        with = o.getOperands()[0];
      if (!with)
        return;
      op->getResult(0).replaceAllUsesWith(with);
      dead.push_back(op);
    });
    for (Operation *op : dead)
      op->erase();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : gpuModules) {
      for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel())
          continue;
        if (failed(emulate(kernel, module, symbols)))
          return signalPassFailure();
      }
      symbols.erase(gpuModule);
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
