//===- EmulateGPU.cpp - Run the GPU kernels' IR on the CPU (tests) --------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A test-only pass: every kernel of a gpu.module becomes a host function
// that runs the kernel body once per (block, thread) in nested loops, so the
// GPU kernels' index math, 128-bit vector accesses, grid-stride and tail
// paths, table lookups and block reductions execute on the CPU and can be
// compared bit for bit with the CPU kernels
// (test/Integration/CPU/gpu-emulation.py, reduction.py).
//
// Sequential loops are exact for kernels whose threads communicate only
// through workgroup memory across `gpu.barrier`s at the top level of the
// kernel body: the body is cut at those barriers into phases, and each
// phase runs for every thread of the block before the next one starts
// (values that live across a barrier are kept per thread). The pass checks
// what the IR shows of that: no gpu op but the ids, dims, top-level
// barriers and return, no inline assembly, no symbol use but the
// gpu.module's globals (which move to the host module).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tp {
#define GEN_PASS_DECL
#define GEN_PASS_DEF_TPTESTEMULATEGPU
#define GEN_PASS_REGISTRATION
#include "TestPasses.h.inc"

/// Registers the test-only passes (declared where muir-opt calls it: test
/// passes have no public header).
void registerTestPasses();
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

namespace {

/// The op of `kernel` that the emulation cannot run, if any; `globals` are
/// the gpu.module's memref.globals it may read.
static Operation *unsupportedOp(gpu::GPUFuncOp kernel,
                                const llvm::StringMap<StringAttr> &globals) {
  Block *body = &kernel.getBody().front();
  Operation *bad = nullptr;
  kernel.getBody().walk([&](Operation *op) {
    if (isa<gpu::ThreadIdOp, gpu::BlockIdOp, gpu::BlockDimOp, gpu::GridDimOp,
            gpu::ReturnOp>(op))
      return WalkResult::advance();
    if (isa<gpu::BarrierOp>(op) && op->getBlock() == body)
      return WalkResult::advance();
    if (auto get = dyn_cast<memref::GetGlobalOp>(op))
      if (globals.count(get.getName()))
        return WalkResult::advance();
    if (!isa<LLVM::InlineAsmOp>(op) &&
        !isa_and_present<gpu::GPUDialect>(op->getDialect()) &&
        !isa<SymbolUserOpInterface>(op))
      return WalkResult::advance();
    bad = op;
    return WalkResult::interrupt();
  });
  return bad;
}

/// Whether a value defined by `op` can be recomputed in a later phase
/// instead of being kept per thread (constants, ids, globals).
static bool isRematerializable(Operation *op) {
  return op->getNumOperands() == 0 && op->getNumRegions() == 0 &&
         isMemoryEffectFree(op);
}

struct TPTestEmulateGPUPass
    : tp::impl::TPTestEmulateGPUBase<TPTestEmulateGPUPass> {
  using Base::Base;

  /// Copies the memref.globals of `gpuModule` to the end of `module`
  /// (renamed where the name is taken) and records old name -> new name.
  void moveGlobals(gpu::GPUModuleOp gpuModule, ModuleOp module,
                   SymbolTable &symbols, llvm::StringMap<StringAttr> &names) {
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    for (auto global : gpuModule.getOps<memref::GlobalOp>()) {
      auto copy = cast<memref::GlobalOp>(b.clone(*global));
      names[global.getSymName()] = symbols.insert(copy);
    }
  }

  LogicalResult emulate(gpu::GPUFuncOp kernel, ModuleOp module,
                        SymbolTable &symbols,
                        const llvm::StringMap<StringAttr> &globals) {
    if (!kernel.getBody().hasOneBlock())
      return kernel.emitOpError()
             << "cannot be emulated: its body has more than one block";
    if (kernel.getNumPrivateAttributions())
      return kernel.emitOpError()
             << "cannot be emulated: it has private memory attributions";
    for (BlockArgument a : kernel.getWorkgroupAttributions())
      if (!cast<MemRefType>(a.getType()).hasStaticShape())
        return kernel.emitOpError() << "cannot be emulated: workgroup memory "
                                       "of dynamic shape";
    if (Operation *bad = unsupportedOp(kernel, globals))
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

    // The workgroup memory, and one slot per thread for each value that
    // lives across a barrier: allocated once, used by one block at a time.
    IRMapping shared;
    for (unsigned i = 0; i < n; ++i)
      shared.map(kernel.getArgument(i), fn.getArgument(i));
    for (BlockArgument a : kernel.getWorkgroupAttributions()) {
      auto type = cast<MemRefType>(a.getType());
      shared.map(
          a,
          memref::AllocaOp::create(
              b, loc, MemRefType::get(type.getShape(), type.getElementType())));
    }
    SmallVector<SmallVector<Operation *>> phases(1);
    for (Operation &op : kernel.getBody().front().without_terminator()) {
      if (isa<gpu::BarrierOp>(op))
        phases.emplace_back();
      else
        phases.back().push_back(&op);
    }
    DenseMap<Operation *, unsigned> phaseOf;
    for (auto [i, ops] : llvm::enumerate(phases))
      for (Operation *op : ops)
        phaseOf[op] = i;
    // crossing[j]: the values phase j uses from earlier phases.
    SmallVector<llvm::SetVector<Value>> crossing(phases.size());
    DenseMap<Value, Value> perThread;
    Block *body = &kernel.getBody().front();
    for (unsigned j = 0; j < phases.size(); ++j)
      for (Operation *top : phases[j])
        top->walk([&](Operation *op) {
          for (Value v : op->getOperands()) {
            Operation *def = v.getDefiningOp();
            if (!def || def->getBlock() != body || phaseOf[def] == j)
              continue;
            crossing[j].insert(v);
          }
        });
    for (auto &values : crossing)
      for (Value v : values) {
        if (isRematerializable(v.getDefiningOp()) || perThread.count(v))
          continue;
        if (!MemRefType::isValidElementType(v.getType()))
          return v.getDefiningOp()->emitOpError()
                 << "cannot be emulated: its value of type " << v.getType()
                 << " lives across a barrier";
        perThread[v] = memref::AllocaOp::create(
            b, loc, MemRefType::get({ShapedType::kDynamic}, v.getType()),
            ValueRange{block});
      }

    auto blocks = scf::ForOp::create(b, loc, zero, grid, one);
    func::ReturnOp::create(b, loc);
    b.setInsertionPoint(blocks.getBody()->getTerminator());
    Value bid = blocks.getInductionVar();

    // Each phase: every thread of the block, one after another.
    SmallVector<scf::ForOp> threadLoops;
    for (auto [j, ops] : llvm::enumerate(phases)) {
      auto threads = scf::ForOp::create(b, loc, zero, block, one);
      threadLoops.push_back(threads);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(threads.getBody()->getTerminator());
      Value tid = threads.getInductionVar();
      IRMapping map = shared;
      for (Value v : crossing[j]) {
        if (Value slots = perThread.lookup(v))
          map.map(v, memref::LoadOp::create(b, loc, slots, tid));
        else
          map.map(v, b.clone(*v.getDefiningOp())->getResult(0));
      }
      for (Operation *op : ops) {
        b.clone(*op, map);
        for (Value v : op->getResults())
          if (Value slots = perThread.lookup(v))
            memref::StoreOp::create(b, loc, map.lookup(v), slots, tid);
      }
    }

    // The ids and dims become the loop variables and the launch shape (y
    // and z: a 1 x 1 launch); the globals' uses follow them to the host.
    auto pick = [&](gpu::Dimension d, Value x, Value yz) {
      return d == gpu::Dimension::x ? x : yz;
    };
    for (scf::ForOp threads : threadLoops) {
      Value tid = threads.getInductionVar();
      SmallVector<Operation *> dead;
      threads.getBody()->walk([&](Operation *op) {
        if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
          get.setName(globals.lookup(get.getName()).getValue());
          return;
        }
        Value with;
        if (auto o = dyn_cast<gpu::ThreadIdOp>(op))
          with = pick(o.getDimension(), tid, zero);
        else if (auto o = dyn_cast<gpu::BlockIdOp>(op))
          with = pick(o.getDimension(), bid, zero);
        else if (auto o = dyn_cast<gpu::BlockDimOp>(op))
          with = pick(o.getDimension(), block, one);
        else if (auto o = dyn_cast<gpu::GridDimOp>(op))
          with = pick(o.getDimension(), grid, one);
        if (!with)
          return;
        op->getResult(0).replaceAllUsesWith(with);
        dead.push_back(op);
      });
      for (Operation *op : dead)
        op->erase();
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : gpuModules) {
      llvm::StringMap<StringAttr> globals;
      moveGlobals(gpuModule, module, symbols, globals);
      for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel())
          continue;
        if (failed(emulate(kernel, module, symbols, globals)))
          return signalPassFailure();
      }
      symbols.erase(gpuModule);
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace

void mlir::tp::registerTestPasses() {
  registerMuirTestPasses();
  // Lowers tp-test-emulate-gpu's output (vector ops) before tp-lower-to-cpu.
  registerPass([] { return createConvertVectorToLLVMPass(); });
}
