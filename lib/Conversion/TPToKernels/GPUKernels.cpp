//===- GPUKernels.cpp - The init and step kernels for CUDA ----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `gpu.module @muir_kernels` with the kernels the runtime launches
// (docs/Runtime.md), built from the same step and init rules as the CPU
// functions. tp-lower-to-nvvm lowers it to PTX; tp-test-emulate-gpu runs
// it on the CPU.
//
//===----------------------------------------------------------------------===//

#include "InitRules.h"
#include "KernelBuilders.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include <map>

using namespace mlir;
using namespace mlir::tp;

namespace {
class GPUKernelBuilder {
public:
  GPUKernelBuilder(ModuleOp module, Location loc, const KernelPlan &plan)
      : module(module), b(module.getContext()), ir{b, loc}, plan(plan) {}

  /// `gpu.module @muir_kernels` with both kernels.
  void build() {
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, ir.loc, "muir_kernels");
    buildInit(gpuModule);
    buildStep(gpuModule);
  }

private:
  /// A `gpu.func @name(types) kernel` in `gpuModule`, the builder at its
  /// start.
  gpu::GPUFuncOp startKernel(gpu::GPUModuleOp gpuModule, StringRef name,
                             TypeRange inputs) {
    b.setInsertionPointToEnd(gpuModule.getBody());
    auto fn =
        gpu::GPUFuncOp::create(b, ir.loc, name, b.getFunctionType(inputs, {}));
    fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    b.setInsertionPointToStart(&fn.getBody().front());
    return fn;
  }

  /// Emits `leaf(s)` for the segment s holding chunk `c`, found by a
  /// balanced binary search over the immediates `first` (a block-uniform
  /// branch tree of depth log2(#segments); no table in memory). The leaves
  /// yield values of `types`, which the tree returns.
  SmallVector<Value>
  segmentTree(Value c, ArrayRef<int64_t> first, int64_t lo, int64_t hi,
              TypeRange types, function_ref<SmallVector<Value>(int64_t)> leaf) {
    if (hi - lo == 1)
      return leaf(lo);
    int64_t mid = lo + (hi - lo) / 2;
    Value below = ir.cmpi(arith::CmpIPredicate::ult, c, ir.idx(first[mid]));
    auto ifOp = scf::IfOp::create(b, ir.loc, types, below, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    for (auto [block, from, to] : {std::tuple(ifOp.thenBlock(), lo, mid),
                                   std::tuple(ifOp.elseBlock(), mid, hi)}) {
      if (types.empty()) // the builder added an empty scf.yield
        b.setInsertionPoint(block->getTerminator());
      else
        b.setInsertionPointToEnd(block);
      SmallVector<Value> results = segmentTree(c, first, from, to, types, leaf);
      if (!types.empty())
        scf::YieldOp::create(b, ir.loc, results);
    }
    return SmallVector<Value>(ifOp.getResults());
  }

  /// `v` through an empty `asm volatile` (a PTX mov): a value LLVM cannot
  /// hoist. Each segment's code in a kernel starts by fencing what it takes
  /// from outside (the thread index, kernel arguments, the bias
  /// corrections), so that LLVM does not reassociate and lift every
  /// segment's `4 tid + offset`, per-step scalars and clipped bounds out of
  /// the chunk loop, which kept hundreds of values live (GPT-2: 255
  /// registers and 4 KiB of spills) to save a few instructions per chunk.
  /// ptxas removes the mov.
  Value opaque(Value v) {
    if (!v)
      return v;
    Type t = v.getType();
    bool isIndex = t.isIndex();
    if (isIndex) {
      t = b.getI64Type();
      v = ir.cast(t, v);
    }
    StringRef asmText = t.isF32()         ? "mov.f32 $0, $1;"
                        : t.isF64()       ? "mov.f64 $0, $1;"
                        : t.isInteger(32) ? "mov.b32 $0, $1;"
                                          : "mov.b64 $0, $1;";
    StringRef constraints = t.isF32()         ? "=f,f"
                            : t.isF64()       ? "=d,d"
                            : t.isInteger(32) ? "=r,r"
                                              : "=l,l";
    Value out =
        LLVM::InlineAsmOp::create(
            b, ir.loc, t, ValueRange{v}, asmText, constraints,
            /*has_side_effects=*/true, /*is_align_stack=*/false,
            LLVM::TailCallKind::None, LLVM::AsmDialectAttr(), ArrayAttr())
            .getRes();
    return isIndex ? ir.cast(b.getIndexType(), out) : out;
  }

  /// The bounds [begin, end) of chunk `c` of segment `si` (whose first
  /// chunk is `first`).
  std::pair<Value, Value> chunkBounds(Value c, const Segment &s,
                                      int64_t first) {
    Value begin =
        ir.addi(ir.muli(ir.subi(c, ir.idx(first)), ir.idx(kChunkElements)),
                ir.idx(s.offset));
    Value end = ir.mini(ir.addi(begin, ir.idx(kChunkElements)),
                        ir.idx(s.offset + s.numel));
    return {begin, end};
  }

  /// Grid-stride over the chunks: `body(segment, c)` with the builder in
  /// the segment's leaf.
  void chunkLoop(function_ref<SmallVector<Value>(int64_t, Value)> body,
                 TypeRange types,
                 function_ref<void(ValueRange)> after = nullptr) {
    SmallVector<int64_t> first = chunkStarts(plan.segments);
    Value bid = gpu::BlockIdOp::create(b, ir.loc, gpu::Dimension::x);
    Value gdim = gpu::GridDimOp::create(b, ir.loc, gpu::Dimension::x);
    ir.loop(bid, ir.idx(first.back()), gdim, [&](Value c) {
      SmallVector<Value> results =
          segmentTree(c, first, 0, plan.segments.size(), types,
                      [&](int64_t si) { return body(si, c); });
      if (after)
        after(results);
    });
  }

  void buildStep(gpu::GPUModuleOp gpuModule) {
    Type i64 = b.getI64Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    gpu::GPUFuncOp fn = startKernel(gpuModule, "muir_step_kernel",
                                    {buffer, buffer, buffer, buffer, i64, f32});
    SmallVector<Value, 4> buffers(fn.getArguments().take_front(4));
    Value stepF = arith::SIToFPOp::create(b, ir.loc, f64, fn.getArgument(4));
    Value lrFactor = ir.toF64(fn.getArgument(5));
    // beta^t once per distinct beta, at the start.
    std::map<double, Value> powers;
    if (plan.rule.usesBiasCorrection())
      for (const Segment &s : plan.segments)
        for (double beta : {s.beta1, s.beta2})
          if (!powers[beta])
            powers[beta] = math::PowFOp::create(b, ir.loc, ir.f64(beta), stepF);
    Value tid = gpu::ThreadIdOp::create(b, ir.loc, gpu::Dimension::x);
    Value bdim = gpu::BlockDimOp::create(b, ir.loc, gpu::Dimension::x);
    auto vecType = VectorType::get({4}, f32);
    SmallVector<int64_t> first = chunkStarts(plan.segments);
    chunkLoop(
        [&](int64_t si, Value c) {
          const Segment &s = plan.segments[si];
          Value begin, end;
          std::tie(begin, end) = chunkBounds(c, s, first[si]);
          auto pow = [&](double beta) {
            return plan.rule.usesBiasCorrection() ? opaque(powers.at(beta))
                                                  : Value();
          };
          StepScalars k = plan.rule.scalars(
              ir,
              {ir.f64(s.lr), ir.f64(s.weightDecay), ir.f64(s.eps),
               ir.f64(s.beta1), ir.f64(s.beta2)},
              opaque(lrFactor), pow(s.beta1), pow(s.beta2));
          // Thread t takes elements [i, i + 4) for i = begin + 4t, 4
          // blockDim apart: one 128-bit access per buffer when all four
          // are in the chunk (offsets are multiples of 16 elements), else
          // scalar.
          Value firstElement = ir.addi(begin, ir.muli(opaque(tid), ir.idx(4)));
          Value stride = ir.muli(bdim, ir.idx(4));
          ir.loop(firstElement, end, stride, [&](Value i) {
            Value four = ir.addi(i, ir.idx(4));
            Value full = ir.cmpi(arith::CmpIPredicate::sle, four, end);
            if (s.offset % 4 != 0) // unaligned: never vector
              full = arith::ConstantIntOp::create(b, ir.loc, b.getI1Type(), 0);
            auto ifOp =
                scf::IfOp::create(b, ir.loc, full, /*withElseRegion=*/true);
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(ifOp.thenBlock());
            int numStates = plan.rule.info.numStates;
            auto load = [&](int which) -> SmallVector<Value, 4> {
              if (which >= 2 + numStates)
                return SmallVector<Value, 4>(4, Value());
              Value v = vector::LoadOp::create(
                  b, ir.loc, vecType, buffers[which], i,
                  /*nontemporal=*/false, llvm::Align(16));
              SmallVector<Value, 4> lanes;
              for (int64_t l = 0; l < 4; ++l)
                lanes.push_back(vector::ExtractOp::create(b, ir.loc, v, l));
              return lanes;
            };
            SmallVector<Value, 4> p = load(0), g = load(1), s0 = load(2),
                                  s1 = load(3);
            SmallVector<Value, 4> np, ns0, ns1;
            for (int64_t l = 0; l < 4; ++l) {
              StepElement e =
                  plan.rule.update(ir, k, {p[l], g[l], s0[l], s1[l]});
              np.push_back(e.p);
              ns0.push_back(e.s0);
              ns1.push_back(e.s1);
            }
            auto store = [&](ArrayRef<Value> lanes, int which) {
              if (which >= 2 + numStates)
                return;
              Value v =
                  vector::FromElementsOp::create(b, ir.loc, vecType, lanes);
              vector::StoreOp::create(b, ir.loc, v, buffers[which], i,
                                      /*nontemporal=*/false, llvm::Align(16));
            };
            store(np, 0);
            store(ns0, 2);
            store(ns1, 3);
            // The tail of a segment whose size is not a multiple of 4.
            b.setInsertionPointToStart(ifOp.elseBlock());
            ir.loop(i, end, [&](Value j) {
              storeElement(ir, buffers, j,
                           plan.rule.update(
                               ir, k, loadElement(ir, buffers, j, plan.rule)));
            });
          });
          return SmallVector<Value>();
        },
        {});
    gpu::ReturnOp::create(b, ir.loc);
  }

  void buildInit(gpu::GPUModuleOp gpuModule) {
    Type i64 = b.getI64Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
    Type index = b.getIndexType();
    gpu::GPUFuncOp fn =
        startKernel(gpuModule, "muir_init_kernel",
                    {bufferType(b.getContext(), plan), i64, i64, i64});
    Value params = fn.getArgument(0);
    Value begin = ir.cast(index, fn.getArgument(2));
    Value end = ir.cast(index, fn.getArgument(3));
    Value k0, k1;
    std::tie(k0, k1) = philoxKey(ir, fn.getArgument(1));
    // The leaves of the segment tree only choose the segment's parameters
    // (its chunk bounds, Philox counter base and parameter index, scale and
    // distribution); one copy of each distribution's code follows (a copy
    // per segment multiplies the code by the tensor count and, with
    // libdevice's cosf/logf, kept 238 registers live for GPT-2).
    SmallVector<int64_t> first = chunkStarts(plan.segments);
    SmallVector<InitKind> kinds;
    for (const Segment &s : plan.segments)
      if (!llvm::is_contained(kinds, s.init))
        kinds.push_back(s.init);
    Value tid = gpu::ThreadIdOp::create(b, ir.loc, gpu::Dimension::x);
    Value bdim = gpu::BlockDimOp::create(b, ir.loc, gpu::Dimension::x);
    chunkLoop(
        [&](int64_t si, Value c) {
          const Segment &s = plan.segments[si];
          Value lo, hi;
          std::tie(lo, hi) = chunkBounds(c, s, first[si]);
          return SmallVector<Value>{
              lo,
              hi,
              ir.idx(s.copy * s.numel - s.offset),
              ir.i32(s.paramIndex),
              ir.f32(initScale(s.init, s.initStd)),
              ir.idx(llvm::find(kinds, s.init) - kinds.begin())};
        },
        {index, index, index, i32, f32, index},
        [&](ValueRange q) {
          // Clip the chunk to [begin, end).
          Value lo = ir.maxi(q[0], begin);
          Value hi = ir.mini(q[1], end);
          InitParams p{q[2], q[3], q[4]};
          // Thread t takes the 4-aligned group [j, j + 4), j = (lo & ~3) +
          // 4t, 4 blockDim apart: one 128-bit store when the group lies
          // inside [lo, hi) (a shard's bounds need not be aligned), else
          // its elements inside one by one. Element i's value depends on i
          // only, as on the CPU.
          auto elements = [&](InitKind kind) {
            Value base =
                arith::AndIOp::create(b, ir.loc, lo, ir.idx(~int64_t(3)));
            Value firstElement = ir.addi(base, ir.muli(tid, ir.idx(4)));
            Value stride = ir.muli(bdim, ir.idx(4));
            ir.loop(firstElement, hi, stride, [&](Value j) {
              Value j4 = ir.addi(j, ir.idx(4));
              Value full = arith::AndIOp::create(
                  b, ir.loc, ir.cmpi(arith::CmpIPredicate::sge, j, lo),
                  ir.cmpi(arith::CmpIPredicate::sle, j4, hi));
              auto ifOp =
                  scf::IfOp::create(b, ir.loc, full, /*withElseRegion=*/true);
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifOp.thenBlock());
              SmallVector<Value, 4> lanes;
              for (int64_t l = 0; l < 4; ++l)
                lanes.push_back(
                    emitInitValue(ir, kind, p, ir.addi(j, ir.idx(l)), k0, k1));
              vector::StoreOp::create(
                  b, ir.loc,
                  vector::FromElementsOp::create(
                      b, ir.loc, VectorType::get({4}, f32), lanes),
                  params, j, /*nontemporal=*/false, llvm::Align(16));
              b.setInsertionPointToStart(ifOp.elseBlock());
              ir.loop(ir.maxi(j, lo), ir.mini(j4, hi), [&](Value i) {
                memref::StoreOp::create(b, ir.loc,
                                        emitInitValue(ir, kind, p, i, k0, k1),
                                        params, i);
              });
            });
          };
          if (kinds.size() == 1)
            return elements(kinds.front());
          SmallVector<int64_t> cases =
              llvm::to_vector(llvm::seq<int64_t>(1, kinds.size()));
          auto sw = scf::IndexSwitchOp::create(b, ir.loc, TypeRange(), q[5],
                                               cases, cases.size());
          OpBuilder::InsertionGuard guard(b);
          for (auto [n, kind] : llvm::enumerate(kinds)) {
            Region &r =
                n == 0 ? sw.getDefaultRegion() : sw.getCaseRegions()[n - 1];
            b.setInsertionPointToStart(&r.emplaceBlock());
            elements(kind);
            scf::YieldOp::create(b, ir.loc);
          }
        });
    gpu::ReturnOp::create(b, ir.loc);
  }

  ModuleOp module;
  OpBuilder b;
  KernelIR ir;
  const KernelPlan &plan;
};
} // namespace

void mlir::tp::buildGPUKernels(ModuleOp module, Location loc,
                               const KernelPlan &plan) {
  GPUKernelBuilder(module, loc, plan).build();
}
