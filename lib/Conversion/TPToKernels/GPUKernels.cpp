//===- GPUKernels.cpp - The init, step and reduce kernels for CUDA --------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `gpu.module @muir_kernels` with the kernels the runtime launches
// (docs/Runtime.md), built from the same step and init rules as the CPU
// functions and reading the same table (its own copy in the module, whose
// rows a state may overwrite). Blocks take chunks of kChunkElements in a
// grid-stride loop; a chunk's parameter comes from a binary search of the
// table's first_chunk column (block-uniform loads), its copy from one
// 32-bit division. tp-lower-to-nvvm lowers the module to PTX;
// tp-test-emulate-gpu runs it on the CPU.
//
// Shards: every kernel takes `first`, the flat-buffer element its buffers
// start at (0 for whole buffers), and the step and reduce kernels the
// chunks or slots of the shard, which the runtime computes from the table
// (a shard's bounds are slot boundaries, so its chunks lie inside it and
// first is a multiple of 16 elements: the 128-bit accesses stay aligned).
// LionAR's units run after the chunks, each on its elements in the shard,
// with the sums of a unit that straddles a slot start from the slots'
// partials (@muir_reduce_units_kernel, summed over the ranks for shards;
// KernelBuilders.h): fp32 in @muir_step_units_kernel, 4 threads per unit;
// bf16 in the step kernel, one thread per unit.
//
//===----------------------------------------------------------------------===//

#include "InitRules.h"
#include "KernelBuilders.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tp;

namespace {

/// Threads of a block that take part in the reduction (the runtime's
/// MUIR_CUDA_BLOCK_THREADS; others idle), and the groups of its in-block
/// combination.
constexpr int64_t kReduceThreads = 256, kReduceGroups = 16;

class GPUKernelBuilder {
public:
  GPUKernelBuilder(ModuleOp module, Location loc, const KernelPlan &plan)
      : module(module), b(module.getContext()), ir{b, loc}, plan(plan) {}

  void build() {
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, ir.loc, "muir_kernels");
    b.setInsertionPointToStart(gpuModule.getBody());
    TableIR::emitGlobals(b, ir.loc, plan.table, /*constantRows=*/false);
    buildReduce(gpuModule, "muir_reduce_kernel", /*bf16=*/false);
    buildTelemetry(gpuModule);
    buildInit(gpuModule);
    buildStep(gpuModule, "muir_step_kernel", /*bf16=*/false);
    if (plan.bf16) {
      buildReduce(gpuModule, "muir_reduce_bf16_kernel", /*bf16=*/true);
      buildStep(gpuModule, "muir_step_bf16_kernel", /*bf16=*/true);
    }
    if (plan.rule.hasUnits()) {
      buildReduceUnits(gpuModule);
      buildStepUnits(gpuModule);
      buildUnitTelemetry(gpuModule);
    }
  }

private:
  /// A `gpu.func @name(types) kernel` in `gpuModule`, the builder at its
  /// start.
  gpu::GPUFuncOp startKernel(gpu::GPUModuleOp gpuModule, StringRef name,
                             TypeRange inputs, TypeRange workgroup = {}) {
    b.setInsertionPointToEnd(gpuModule.getBody());
    auto fn = gpu::GPUFuncOp::create(b, ir.loc, name,
                                     b.getFunctionType(inputs, {}), workgroup);
    fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    b.setInsertionPointToStart(&fn.getBody().front());
    return fn;
  }

  Value threadId() {
    return gpu::ThreadIdOp::create(b, ir.loc, gpu::Dimension::x);
  }
  Value blockDim() {
    return gpu::BlockDimOp::create(b, ir.loc, gpu::Dimension::x);
  }
  Value blockId() {
    return gpu::BlockIdOp::create(b, ir.loc, gpu::Dimension::x);
  }
  Value gridDim() {
    return gpu::GridDimOp::create(b, ir.loc, gpu::Dimension::x);
  }

  /// Part `k` of `per`-sized parts of parameter entry `p`'s copies: the
  /// copy and the part within it. 32-bit division (planKernelTable bounds
  /// chunk and slot numbers by kMaxKernelIndex).
  std::pair<Value, Value> split(Value k, Value per) {
    Type i32 = b.getI32Type();
    Value copy = ir.cast(
        b.getIndexType(),
        arith::DivUIOp::create(b, ir.loc, ir.cast(i32, k), ir.cast(i32, per)));
    return {copy, ir.subi(k, ir.muli(copy, per))};
  }

  /// A range of one tensor copy: parameter entry `p`, `copy`, elements
  /// [begin, end) and the copy's first element `base`.
  struct Part {
    Value p, copy, base, begin, end;
  };

  /// Part `k` (numbered over the whole table by `first`) of
  /// `elementsOf(p)` elements: chunk c (first_chunk) or reduction slot q
  /// (first_slot).
  Part locate(TableIR &table, Value k, KernelParam::Field first,
              KernelParam::Field perCopy,
              function_ref<Value(Value)> elementsOf) {
    Part r;
    r.p = table.search(k, first);
    Value elements = elementsOf(r.p);
    Value j;
    std::tie(r.copy, j) =
        split(ir.subi(k, table.param(r.p, first)), table.param(r.p, perCopy));
    r.base = ir.addi(table.param(r.p, KernelParam::kOffset),
                     ir.muli(r.copy, table.param(r.p, KernelParam::kStride)));
    r.begin = ir.addi(r.base, ir.muli(j, elements));
    r.end = ir.mini(ir.addi(r.begin, elements),
                    ir.addi(r.base, table.param(r.p, KernelParam::kNumel)));
    return r;
  }

  Part locateChunk(TableIR &table, Value c) {
    return locate(table, c, KernelParam::kFirstChunk,
                  KernelParam::kChunksPerCopy,
                  [&](Value) { return ir.idx(kChunkElements); });
  }

  /// `body(c, iterArgs)` over this block's chunks among [lo, hi)
  /// (grid-stride), carrying `init`; returns the final values.
  SmallVector<Value>
  chunkLoop(Value lo, Value hi, ValueRange init,
            function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return ir.loop(ir.addi(lo, blockId()), hi, gridDim(), init, body);
  }

  /// beta^t, recomputed only when beta differs from the previous chunk's
  /// `last` (its power `lastPower`): a chunk's parameters nearly always
  /// share their betas, and the f64 pow would cost more per chunk than the
  /// chunk's memory traffic.
  Value power(Value beta, Value stepF, Value last, Value lastPower) {
    Value same = ir.cmpf(arith::CmpFPredicate::OEQ, beta, last);
    auto ifOp = scf::IfOp::create(b, ir.loc, b.getF64Type(), same,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, ir.loc, lastPower);
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, ir.loc,
                         Value(math::PowFOp::create(b, ir.loc, beta, stepF)));
    return ifOp.getResult(0);
  }

  /// LionAR's per-slot unit sums (KernelBuilders.h).
  MemRefType unitsType() {
    return MemRefType::get(
        {kSlotUnitSums * std::max<int64_t>(plan.table.slots, 1)},
        b.getF64Type());
  }

  /// @muir_step_kernel(%params, %grads, %state0, %state1, %step,
  /// %lr_factor, %grad_scale, %first, %chunk_begin, %chunk_end, %end,
  /// %units, %from_units): chunks [chunk_begin, chunk_end), element e at
  /// index e - first of the buffers, which hold [first, end); LionAR's
  /// rotating copies are @muir_step_units_kernel's (%units and %from_units
  /// unused). With `bf16`,
  /// @muir_step_bf16_kernel(%params, %grads: i16, %state0, %state1,
  /// %copy: i16, %step, %lr_factor, %grad_scale, %seed, %first,
  /// %chunk_begin, %chunk_end, %end, %units, %from_units): bf16 gradients,
  /// and the params' bf16 copy written with stochastic rounding (one Philox
  /// call per 4-element group, the CPU's bits); LionAR's units that meet
  /// [first, end) after the chunks, one thread per unit (straddling units'
  /// sums from %units when %from_units is not 0).
  void buildStep(gpu::GPUModuleOp gpuModule, StringRef name, bool bf16) {
    Type i64 = b.getI64Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    MemRefType half = bf16BufferType(b.getContext(), plan);
    SmallVector<Type> inputs = {buffer, bf16 ? half : buffer, buffer, buffer};
    if (bf16)
      inputs.push_back(half);
    unsigned n = inputs.size(); // the scalars' first argument
    llvm::append_range(inputs, TypeRange{i64, f32, f32});
    if (bf16)
      inputs.push_back(i64);
    unsigned m = inputs.size(); // first, chunk_begin, chunk_end, end, units
    llvm::append_range(inputs, TypeRange{i64, i64, i64, i64, unitsType(), i64});
    gpu::GPUFuncOp fn = startKernel(gpuModule, name, inputs);
    Type index = b.getIndexType();
    Value first = ir.cast(index, fn.getArgument(m));
    StepBuffers buffers{
        SmallVector<Value, 4>(fn.getArguments().take_front(4)), {}, first, {}};
    if (bf16) {
      buffers.copy = fn.getArgument(4);
      buffers.rounding =
          RoundingStream::get(ir, fn.getArgument(n + 3), fn.getArgument(n));
    }
    Value gradScale = fn.getArgument(n + 2);
    Value stepF = arith::SIToFPOp::create(b, ir.loc, f64, fn.getArgument(n));
    Value lrFactor = ir.toF64(fn.getArgument(n + 1));
    TableIR table(ir, plan.table);
    const StepRule &rule = plan.rule;
    Value tid = threadId(), bdim = blockDim();
    auto vecType = VectorType::get({4}, f32);
    int numStates = rule.elementStates();
    // The betas and powers of the previous chunk (no beta is -1).
    SmallVector<Value> memo;
    if (rule.usesBiasCorrection())
      memo = {ir.f64(-1.0), ir.f64(1.0), ir.f64(-1.0), ir.f64(1.0)};
    chunkLoop(
        ir.cast(index, fn.getArgument(m + 1)),
        ir.cast(index, fn.getArgument(m + 2)), memo,
        [&](Value c, ValueRange last) -> SmallVector<Value> {
          Part chunk = locateChunk(table, c);
          TensorConstants k = table.constants(table.rowOf(chunk.p, chunk.copy));
          Value pow1, pow2;
          SmallVector<Value> next;
          if (rule.usesBiasCorrection()) {
            pow1 = power(k.beta1, stepF, last[0], last[1]);
            pow2 = power(k.beta2, stepF, last[2], last[3]);
            next = {k.beta1, pow1, k.beta2, pow2};
          }
          StepScalars s = rule.scalars(ir, k, lrFactor, pow1, pow2);
          s.gradScale = gradScale;
          Value end = ir.subi(chunk.end, first);
          // LionAR: a rotating copy's units are the units kernel's (fp32)
          // or the unit loop's (bf16, below).
          OpBuilder::InsertionGuard rotating(b);
          if (rule.hasUnits()) {
            auto ifOp = scf::IfOp::create(
                b, ir.loc,
                arith::XOrIOp::create(
                    b, ir.loc, isRotational(ir, table, chunk.p, s),
                    arith::ConstantIntOp::create(b, ir.loc, b.getI1Type(), 1)),
                /*withElseRegion=*/false);
            b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
          }
          // Thread t takes elements [i, i + 4) for i = begin + 4t, 4 blockDim
          // apart: one 128-bit access per buffer when all four are in the
          // chunk (offsets are multiples of 4 elements), else scalar.
          ir.loop(
              ir.addi(ir.subi(chunk.begin, first), ir.muli(tid, ir.idx(4))),
              end, ir.muli(bdim, ir.idx(4)), [&](Value i) {
                Value full = ir.cmpi(arith::CmpIPredicate::sle,
                                     ir.addi(i, ir.idx(4)), end);
                auto ifOp =
                    scf::IfOp::create(b, ir.loc, full, /*withElseRegion=*/true);
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(ifOp.thenBlock());
                auto load = [&](int which) -> SmallVector<Value, 4> {
                  if (which >= 2 + numStates)
                    return SmallVector<Value, 4>(4, Value());
                  Value v;
                  if (which == 1 && bf16)
                    v = emitBf16ToF32(
                        ir, vector::LoadOp::create(
                                b, ir.loc, VectorType::get({4}, b.getI16Type()),
                                buffers.buffers[1], i,
                                /*nontemporal=*/false, llvm::Align(8)));
                  else
                    v = vector::LoadOp::create(
                        b, ir.loc, vecType, buffers.buffers[which], i,
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
                  StepElement e = rule.apply(ir, s, {p[l], g[l], s0[l], s1[l]});
                  np.push_back(e.p);
                  ns0.push_back(e.s0);
                  ns1.push_back(e.s1);
                }
                auto store = [&](ArrayRef<Value> lanes, int which) {
                  if (which >= 2 + numStates)
                    return;
                  vector::StoreOp::create(
                      b, ir.loc,
                      vector::FromElementsOp::create(b, ir.loc, vecType, lanes),
                      buffers.buffers[which], i, /*nontemporal=*/false,
                      llvm::Align(16));
                };
                store(np, 0);
                store(ns0, 2);
                store(ns1, 3);
                if (bf16) {
                  // The group's four rounding words: element i + l of the
                  // 4-aligned group takes word l (Bf16Rules.h).
                  Value group = arith::ShRUIOp::create(
                      b, ir.loc, ir.addi(i, first), ir.idx(2));
                  SmallVector<Value, 4> words =
                      buffers.rounding.words(ir, group);
                  SmallVector<Value, 4> copy;
                  for (int64_t l = 0; l < 4; ++l)
                    copy.push_back(emitStochasticBf16(
                        ir, np[l],
                        arith::AndIOp::create(b, ir.loc, words[l],
                                              ir.i32(0xFFFF))));
                  vector::StoreOp::create(
                      b, ir.loc,
                      vector::FromElementsOp::create(
                          b, ir.loc, VectorType::get({4}, b.getI16Type()),
                          copy),
                      buffers.copy, i, /*nontemporal=*/false, llvm::Align(8));
                }
                // The tail of a copy whose size is not a multiple of 4.
                b.setInsertionPointToStart(ifOp.elseBlock());
                ir.loop(i, end, [&](Value j) {
                  storeElement(
                      ir, buffers, j,
                      rule.apply(ir, s, loadElement(ir, buffers, j, rule)));
                });
              });
          return next;
        });
    // LionAR: fp32 steps its units in @muir_step_units_kernel; the bf16
    // step here, one thread per unit.
    if (rule.hasUnits() && bf16)
      buildUnitLoop(
          table, buffers, stepF, lrFactor, gradScale, first,
          ir.cast(index, fn.getArgument(m + 3)),
          {fn.getArgument(m + 4), ir.cmpi(arith::CmpIPredicate::ne,
                                          fn.getArgument(m + 5), ir.i64(0))});
    gpu::ReturnOp::create(b, ir.loc);
  }

  /// A LionAR unit: its parameter entry `p`, its copy, the copy's first
  /// element `base`, its number over the table and `r` within the copy, and
  /// its elements [lo, hi).
  struct Unit {
    Value p, copy, base, number, r, lo, hi;
  };

  /// `body(unit)` for every LionAR unit that meets the flat elements
  /// [first, end), one per thread over the whole grid (grid-stride): the
  /// entry from a binary search of first_unit, the copy and place from one
  /// 32-bit division.
  void forEachUnit(TableIR &table, Value first, Value end,
                   function_ref<void(const Unit &)> body) {
    Value threads = ir.muli(gridDim(), blockDim());
    Value mine = ir.addi(ir.muli(blockId(), blockDim()), threadId());
    ir.loop(mine, ir.idx(plan.table.units), threads, [&](Value unit) {
      Unit u = locateUnit(table, unit);
      when(meets(u, first, end), [&] { body(u); });
    });
  }

  /// Unit `number` (over the table): the entry from a binary search of
  /// first_unit, the copy and place from one 32-bit division.
  Unit locateUnit(TableIR &table, Value number) {
    Value p = table.search(number, KernelParam::kFirstUnit);
    Value unitElements = table.param(p, KernelParam::kUnitElements);
    Value perCopy = arith::DivUIOp::create(
        b, ir.loc, table.param(p, KernelParam::kNumel), unitElements);
    Value copy, r;
    std::tie(copy, r) = split(
        ir.subi(number, table.param(p, KernelParam::kFirstUnit)), perCopy);
    Value base = ir.addi(table.param(p, KernelParam::kOffset),
                         ir.muli(copy, table.param(p, KernelParam::kStride)));
    Value lo = ir.addi(base, ir.muli(r, unitElements));
    return {p, copy, base, number, r, lo, ir.addi(lo, unitElements)};
  }

  /// Whether unit `u` meets the flat elements [first, end) (i1).
  Value meets(const Unit &u, Value first, Value end) {
    return arith::AndIOp::create(
        b, ir.loc, ir.cmpi(arith::CmpIPredicate::sgt, u.hi, first),
        ir.cmpi(arith::CmpIPredicate::slt, u.lo, end));
  }

  /// LionAR's units, one per thread (forEachUnit): emitUnitStep, the CPU's
  /// reduction and elementwise phases in the same order, so the same bits.
  /// Copies without weight decay took the plain update in the chunk loop.
  void buildUnitLoop(TableIR &table, const StepBuffers &buffers, Value stepF,
                     Value lrFactor, Value gradScale, Value first, Value end,
                     const UnitPartials &units) {
    const StepRule &rule = plan.rule;
    forEachUnit(table, first, end, [&](const Unit &u) {
      StepScalars s = copyScalars(ir, rule, table, table.rowOf(u.p, u.copy),
                                  stepF, lrFactor, gradScale);
      when(s.hasWeightDecay, [&] {
        emitUnitStep(ir, rule, s, buffers,
                     unitCopy(ir, table, u.p, u.copy, u.base), u.r, stepF,
                     first, end, units);
      });
    });
  }

  /// A `memref<n x type>` in workgroup memory.
  MemRefType workgroupType(int64_t n, Type type) {
    return MemRefType::get({n}, type, MemRefLayoutAttrInterface(),
                           gpu::AddressSpaceAttr::get(
                               b.getContext(), gpu::AddressSpace::Workgroup));
  }

  /// @muir_step_units_kernel(%params, %grads, %state0, %state1, %step,
  /// %lr_factor, %grad_scale, %first, %end, %units): LionAR's rotating units
  /// that meet the flat elements [first, end) the buffers hold (element e
  /// at [e - first]), after muir_step_kernel's chunks, 4 threads per unit
  /// (the first 256 threads of a block: 64 units; unit blockIdx.x * 64 +
  /// tid / 4), the CPU's bits with the CPU's order: thread l of a unit sums
  /// emitSegmentSums' lane l (elements lo + l + 4k, the tail on lane 0) of a
  /// unit that lies in one reduction slot into workgroup memory; after a
  /// barrier lane 0 adds ((l0 + l1) + l2) + l3 (a unit that straddles a
  /// slot start takes its segments from %units, muir_reduce_units_kernel's
  /// partials, summed over the ranks for a shard), computes the unit's
  /// scalars and state and puts A, B and the means in workgroup memory;
  /// after another the four threads update every fourth element of the
  /// unit. The runtime launches ceil(units / 64) blocks of 256 threads;
  /// the barriers are at the top level (no loop over units), as the
  /// emulation needs.
  void buildStepUnits(gpu::GPUModuleOp gpuModule) {
    constexpr int64_t kLanes = 4, kGroups = kReduceThreads / kLanes;
    constexpr unsigned kSums = StepRule::kUnitSums;
    Type i64 = b.getI64Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    gpu::GPUFuncOp fn = startKernel(
        gpuModule, "muir_step_units_kernel",
        {buffer, buffer, buffer, buffer, i64, f32, f32, i64, i64, unitsType()},
        {workgroupType(kSums * kReduceThreads, f64),
         workgroupType(4 * kGroups, f32)});
    Type index = b.getIndexType();
    Value stepF = arith::SIToFPOp::create(b, ir.loc, f64, fn.getArgument(4));
    Value lrFactor = ir.toF64(fn.getArgument(5));
    Value first = ir.cast(index, fn.getArgument(7));
    Value end = ir.cast(index, fn.getArgument(8));
    StepBuffers buffers{
        SmallVector<Value, 4>(fn.getArguments().take_front(4)), {}, first, {}};
    UnitPartials partials{fn.getArgument(9), arith::ConstantIntOp::create(
                                                 b, ir.loc, b.getI1Type(), 1)};
    Value lanes = fn.getWorkgroupAttributions()[0];
    Value scalars = fn.getWorkgroupAttributions()[1];
    TableIR table(ir, plan.table);
    const StepRule &rule = plan.rule;
    using P = arith::CmpIPredicate;
    Value tid = threadId();
    Value groups = arith::DivUIOp::create(
        b, ir.loc, ir.mini(blockDim(), ir.idx(kReduceThreads)), ir.idx(kLanes));
    Value group = arith::DivUIOp::create(b, ir.loc, tid, ir.idx(kLanes));
    Value lane = arith::RemUIOp::create(b, ir.loc, tid, ir.idx(kLanes));
    Value number = ir.addi(ir.muli(blockId(), groups), group);
    Value active = arith::AndIOp::create(
        b, ir.loc, ir.cmpi(P::ult, tid, ir.idx(kReduceThreads)),
        ir.cmpi(P::ult, number, ir.idx(plan.table.units)));
    // Idle threads look at unit 0: their table loads stay in range.
    Unit u = locateUnit(table, ir.select(active, number, ir.idx(0)));
    StepScalars s = copyScalars(ir, rule, table, table.rowOf(u.p, u.copy),
                                stepF, lrFactor, fn.getArgument(6));
    Value work = arith::AndIOp::create(
        b, ir.loc, active,
        arith::AndIOp::create(b, ir.loc, meets(u, first, end),
                              isRotational(ir, table, u.p, s)));
    UnitCopy unit = unitCopy(ir, table, u.p, u.copy, u.base);
    Value oneSlot = ir.cmpi(
        P::eq,
        arith::DivUIOp::create(b, ir.loc, ir.subi(u.lo, u.base), unit.perSlot),
        arith::DivUIOp::create(b, ir.loc,
                               ir.subi(ir.subi(u.hi, ir.idx(1)), u.base),
                               unit.perSlot));
    // Lane l's sums (emitSegmentSums' lane l): 0 where there is nothing.
    SmallVector<Value> zeros(kSums, ir.f64(0.0));
    auto laneIf =
        scf::IfOp::create(b, ir.loc, SmallVector<Type>(kSums, f64),
                          arith::AndIOp::create(b, ir.loc, work, oneSlot),
                          /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(laneIf.elseBlock());
      scf::YieldOp::create(b, ir.loc, zeros);
      b.setInsertionPointToStart(laneIf.thenBlock());
      Value lo = ir.subi(u.lo, first), hi = ir.subi(u.hi, first);
      Value laneEnd =
          ir.addi(lo, ir.muli(arith::DivUIOp::create(b, ir.loc, ir.subi(hi, lo),
                                                     ir.idx(kLanes)),
                              ir.idx(kLanes)));
      auto add = [&](Value i, ValueRange sums) {
        return rule.unitSums(ir, s, loadElement(ir, buffers, i, rule), sums);
      };
      SmallVector<Value> chain =
          ir.loop(ir.addi(lo, lane), laneEnd, ir.idx(kLanes), zeros, add);
      // The tail: lane 0's, after its chain.
      auto tail = scf::IfOp::create(b, ir.loc, SmallVector<Type>(kSums, f64),
                                    ir.cmpi(P::eq, lane, ir.idx(0)), true);
      b.setInsertionPointToStart(tail.thenBlock());
      scf::YieldOp::create(b, ir.loc,
                           ir.loop(laneEnd, hi, ir.idx(1), chain, add));
      b.setInsertionPointToStart(tail.elseBlock());
      scf::YieldOp::create(b, ir.loc, chain);
      b.setInsertionPointAfter(tail);
      scf::YieldOp::create(b, ir.loc, tail.getResults());
    }
    auto laneAt = [&](unsigned k, Value thread) {
      return ir.addi(ir.idx(int64_t(k) * kReduceThreads), thread);
    };
    when(ir.cmpi(P::ult, tid, ir.idx(kReduceThreads)), [&] {
      for (unsigned k = 0; k < kSums; ++k)
        memref::StoreOp::create(b, ir.loc, laneIf.getResult(k), lanes,
                                laneAt(k, tid));
    });
    gpu::BarrierOp::create(b, ir.loc);
    // Lane 0: the unit's sums, scalars and state.
    when(
        arith::AndIOp::create(b, ir.loc, work, ir.cmpi(P::eq, lane, ir.idx(0))),
        [&] {
          SmallVector<Value> local;
          for (unsigned k = 0; k < kSums; ++k) {
            Value sum =
                memref::LoadOp::create(b, ir.loc, lanes, laneAt(k, tid));
            for (int64_t l = 1; l < kLanes; ++l)
              sum = ir.addf(sum, memref::LoadOp::create(
                                     b, ir.loc, lanes,
                                     laneAt(k, ir.addi(tid, ir.idx(l)))));
            local.push_back(sum);
          }
          UnitScalars us = emitUnitScalars(ir, rule, s, buffers, unit, u.r,
                                           stepF, first, partials, local);
          Value at = ir.muli(group, ir.idx(4));
          Value values[] = {us.a, us.b, us.mean, us.uMean};
          for (int64_t j = 0; j < 4; ++j)
            memref::StoreOp::create(b, ir.loc, values[j], scalars,
                                    ir.addi(at, ir.idx(j)));
        });
    gpu::BarrierOp::create(b, ir.loc);
    // The unit's four threads: every fourth element each.
    when(work, [&] {
      Value at = ir.muli(group, ir.idx(4));
      SmallVector<Value, 4> v;
      for (int64_t j = 0; j < 4; ++j)
        v.push_back(
            memref::LoadOp::create(b, ir.loc, scalars, ir.addi(at, ir.idx(j))));
      UnitScalars us{v[0], v[1], v[2], v[3], Value(), Value()};
      emitUnitElements(ir, rule, s, buffers, unit, u.r, first, end, us, lane,
                       ir.idx(kLanes));
    });
    gpu::ReturnOp::create(b, ir.loc);
  }

  /// w^2, w'^2, d^2 and w d (f64) of one element, d = w' - w, from w and w'
  /// (f32): the telemetry's terms.
  SmallVector<Value> telemetryTerms(Value before, Value after) {
    Value w = ir.toF64(before), w2 = ir.toF64(after);
    Value d = ir.subf(w2, w);
    return {ir.mulf(w, w), ir.mulf(w2, w2), ir.mulf(d, d), ir.mulf(w, d)};
  }

  /// The per-unit telemetry sums (4 f64 per rotational unit, unit u's at 4
  /// u).
  MemRefType unitTelemetryType() {
    return MemRefType::get({4 * std::max<int64_t>(plan.table.units, 1)},
                           b.getF64Type());
  }

  /// @muir_unit_telemetry_kernel(%before, %after, %sums, %first, %end):
  /// LionAR's per-row telemetry on CUDA. For every unit of a rotating copy
  /// (units and weight decay) that meets the flat elements [first, end),
  /// sums[4u .. 4u + 3] = the sums of w^2, w'^2, d^2 and w d (f64, d = w' -
  /// w) over its elements there, w from %before and w' from %after (element
  /// e at [e - first]), added in element order from 0: the sums
  /// muir_kernel_step_telemetry adds as its units go, the same bits. One
  /// thread per unit (forEachUnit); other units' sums are left alone.
  void buildUnitTelemetry(gpu::GPUModuleOp gpuModule) {
    Type i64 = b.getI64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    gpu::GPUFuncOp fn =
        startKernel(gpuModule, "muir_unit_telemetry_kernel",
                    {buffer, buffer, unitTelemetryType(), i64, i64});
    Type index = b.getIndexType();
    Value before = fn.getArgument(0), after = fn.getArgument(1);
    Value sums = fn.getArgument(2);
    Value first = ir.cast(index, fn.getArgument(3));
    Value end = ir.cast(index, fn.getArgument(4));
    TableIR table(ir, plan.table);
    forEachUnit(table, first, end, [&](const Unit &u) {
      Value decay =
          table.row(table.rowOf(u.p, u.copy), TensorRow::kWeightDecay);
      StepScalars s;
      s.hasWeightDecay = ir.cmpf(arith::CmpFPredicate::UNE, decay, ir.f64(0.0));
      when(isRotational(ir, table, u.p, s), [&] {
        Value zero = ir.f64(0.0);
        auto loop =
            scf::ForOp::create(b, ir.loc, ir.subi(ir.maxi(u.lo, first), first),
                               ir.subi(ir.mini(u.hi, end), first), ir.idx(1),
                               ValueRange{zero, zero, zero, zero});
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(loop.getBody());
          Value i = loop.getInductionVar();
          SmallVector<Value> terms =
              telemetryTerms(memref::LoadOp::create(b, ir.loc, before, i),
                             memref::LoadOp::create(b, ir.loc, after, i));
          SmallVector<Value> next;
          for (unsigned k = 0; k < 4; ++k)
            next.push_back(ir.addf(loop.getRegionIterArgs()[k], terms[k]));
          scf::YieldOp::create(b, ir.loc, next);
        }
        Value at = ir.muli(u.number, ir.idx(4));
        for (unsigned k = 0; k < 4; ++k)
          memref::StoreOp::create(b, ir.loc, loop.getResult(k), sums,
                                  ir.addi(at, ir.idx(k)));
      });
    });
    gpu::ReturnOp::create(b, ir.loc);
  }

  /// @muir_reduce_units_kernel(%params, %grads, %state0, %state1, %step,
  /// %lr_factor, %grad_scale, %units, %first, %slot_begin, %slot_end):
  /// LionAR's head and tail segment sums of the reduction slots [slot_begin,
  /// slot_end) of rotating copies (KernelBuilders.h), one thread per slot
  /// (grid-stride), element e at [e - first]: the CPU's sums, the same
  /// order. The runtime zeroes the vector.
  void buildReduceUnits(gpu::GPUModuleOp gpuModule) {
    Type i64 = b.getI64Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    gpu::GPUFuncOp fn = startKernel(gpuModule, "muir_reduce_units_kernel",
                                    {buffer, buffer, buffer, buffer, i64, f32,
                                     f32, unitsType(), i64, i64, i64});
    Type index = b.getIndexType();

    Value stepF = arith::SIToFPOp::create(b, ir.loc, f64, fn.getArgument(4));
    Value lrFactor = ir.toF64(fn.getArgument(5));
    Value first = ir.cast(index, fn.getArgument(8));
    StepBuffers buffers{
        SmallVector<Value, 4>(fn.getArguments().take_front(4)), {}, first, {}};
    TableIR table(ir, plan.table);
    const StepRule &rule = plan.rule;
    Value threads = ir.muli(gridDim(), blockDim());
    Value mine = ir.addi(ir.muli(blockId(), blockDim()), threadId());
    ir.loop(ir.addi(ir.cast(index, fn.getArgument(9)), mine),
            ir.cast(index, fn.getArgument(10)), threads, [&](Value q) {
              Part slot = locate(
                  table, q, KernelParam::kFirstSlot, KernelParam::kSlotsPerCopy,
                  [&](Value p) {
                    return ir.muli(ir.idx(kChunkElements),
                                   table.param(p, KernelParam::kChunksPerSlot));
                  });
              StepScalars s =
                  copyScalars(ir, rule, table, table.rowOf(slot.p, slot.copy),
                              stepF, lrFactor, fn.getArgument(6));
              when(isRotational(ir, table, slot.p, s), [&] {
                emitSlotUnitSums(
                    ir, rule, s, buffers,
                    unitCopy(ir, table, slot.p, slot.copy, slot.base), q,
                    slot.begin, slot.end, fn.getArgument(7));
              });
            });
    gpu::ReturnOp::create(b, ir.loc);
  }

  /// @muir_init_kernel(%params, %seed, %begin, %end, %first): element i
  /// at params[i - first].
  void buildInit(gpu::GPUModuleOp gpuModule) {
    Type i64 = b.getI64Type(), f32 = b.getF32Type();
    gpu::GPUFuncOp fn =
        startKernel(gpuModule, "muir_init_kernel",
                    {bufferType(b.getContext(), plan), i64, i64, i64, i64});
    Value params = fn.getArgument(0);
    Value begin = ir.cast(b.getIndexType(), fn.getArgument(2));
    Value end = ir.cast(b.getIndexType(), fn.getArgument(3));
    Value first = ir.cast(b.getIndexType(), fn.getArgument(4));
    Value k0, k1;
    std::tie(k0, k1) = philoxKey(ir, fn.getArgument(1));
    TableIR table(ir, plan.table);
    Value tid = threadId(), bdim = blockDim();
    chunkLoop(
        ir.idx(0), ir.idx(plan.table.chunks), {},
        [&](Value c, ValueRange) -> SmallVector<Value> {
          Part chunk = locateChunk(table, c);
          // Clip the chunk to [begin, end).
          Value lo = ir.maxi(chunk.begin, begin);
          Value hi = ir.mini(chunk.end, end);
          Value numel = table.param(chunk.p, KernelParam::kNumel);
          InitParams q{ir.subi(ir.muli(chunk.copy, numel), chunk.base),
                       ir.cast(b.getI32Type(),
                               table.param(chunk.p, KernelParam::kParam)),
                       ir.toF32(table.row(table.rowOf(chunk.p, chunk.copy),
                                          TensorRow::kInitScale))};
          // One copy of each distribution's code. Thread t takes the 4-aligned
          // group [j, j + 4), j = (lo & ~3) + 4t, 4 blockDim apart: one 128-bit
          // store when the group lies inside [lo, hi) (a shard's bounds need
          // not be aligned), else its elements inside one by one. Element i's
          // value depends on i only, as on the CPU.
          switchOnInit(
              ir, plan.table, table.param(chunk.p, KernelParam::kInit),
              [&](InitKind kind) {
                Value base =
                    arith::AndIOp::create(b, ir.loc, lo, ir.idx(~int64_t(3)));
                ir.loop(
                    ir.addi(base, ir.muli(tid, ir.idx(4))), hi,
                    ir.muli(bdim, ir.idx(4)), [&](Value j) {
                      Value j4 = ir.addi(j, ir.idx(4));
                      Value full = arith::AndIOp::create(
                          b, ir.loc, ir.cmpi(arith::CmpIPredicate::sge, j, lo),
                          ir.cmpi(arith::CmpIPredicate::sle, j4, hi));
                      auto ifOp = scf::IfOp::create(b, ir.loc, full,
                                                    /*withElseRegion=*/true);
                      OpBuilder::InsertionGuard guard(b);
                      b.setInsertionPointToStart(ifOp.thenBlock());
                      SmallVector<Value, 4> lanes;
                      for (int64_t l = 0; l < 4; ++l)
                        lanes.push_back(emitInitValue(
                            ir, kind, q, ir.addi(j, ir.idx(l)), k0, k1));
                      vector::StoreOp::create(
                          b, ir.loc,
                          vector::FromElementsOp::create(
                              b, ir.loc, VectorType::get({4}, f32), lanes),
                          params, ir.subi(j, first), /*nontemporal=*/false,
                          llvm::Align(16));
                      b.setInsertionPointToStart(ifOp.elseBlock());
                      ir.loop(ir.maxi(j, lo), ir.mini(j4, hi), [&](Value i) {
                        memref::StoreOp::create(
                            b, ir.loc, emitInitValue(ir, kind, q, i, k0, k1),
                            params, ir.subi(i, first));
                      });
                    });
              });
          return {};
        });
    gpu::ReturnOp::create(b, ir.loc);
  }

  /// `scf.if cond` with a then-block built by `body`, no results.
  void when(Value cond, function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, ir.loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body();
  }

  /// sum + x[i] for i in [lo, hi) (f64, in order).
  Value sumOf(Value x, Value lo, Value hi, Value sum) {
    auto loop = scf::ForOp::create(b, ir.loc, lo, hi, ir.idx(1), sum);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    scf::YieldOp::create(
        b, ir.loc,
        ir.addf(loop.getRegionIterArgs()[0],
                memref::LoadOp::create(b, ir.loc, x, loop.getInductionVar())));
    return loop.getResult(0);
  }

  /// @muir_reduce_kernel(%grads, %partials, %first, %slot_begin): block q
  /// computes the partial sum of squares (f64) of reduction slot
  /// slot_begin + q, element e at grads[e - first]; the runtime launches one
  /// block per slot of the shard. With `bf16` (@muir_reduce_bf16_kernel)
  /// the grads are bf16 bits.
  void buildReduce(gpu::GPUModuleOp gpuModule, StringRef name, bool bf16) {
    buildSlotReduction(gpuModule, name, 1, 1, bf16,
                       [&](ArrayRef<Value> x) -> SmallVector<Value> {
                         Value g = ir.toF64(x[0]);
                         return {ir.mulf(g, g)};
                       });
  }

  /// @muir_telemetry_kernel(%before, %after, %partials, %first,
  /// %slot_begin): block q computes the telemetry's four sums of slot
  /// slot_begin + q (w^2, w'^2, d^2, w d in f64, d = w' - w:
  /// muir_kernel_step_telemetry's) into partials[4 slot .. 4 slot + 3] from
  /// the params before and after a step (element e at [e - first]).
  void buildTelemetry(gpu::GPUModuleOp gpuModule) {
    buildSlotReduction(gpuModule, "muir_telemetry_kernel", 2, 4,
                       /*bf16=*/false,
                       [&](ArrayRef<Value> x) -> SmallVector<Value> {
                         return telemetryTerms(x[0], x[1]);
                       });
  }

  /// `@name(%inputs x buffers, %partials, %first, %slot_begin)`: block q
  /// sums `terms` of every element of reduction slot slot_begin + q
  /// (`numSums` f64 values from the inputs' f32 values, element e at
  /// [e - first]; bf16 bits widened with `bf16`) into partials[numSums
  /// slot + k]. Deterministic: each thread
  /// sums its 4-element groups in order, then (after a barrier) 16 threads sum
  /// 16 threads' sums each and (after another) thread 0 the 16 group sums, all
  /// in order.
  void
  buildSlotReduction(gpu::GPUModuleOp gpuModule, StringRef name,
                     unsigned inputs, unsigned numSums, bool bf16,
                     function_ref<SmallVector<Value>(ArrayRef<Value>)> terms) {
    Type f64 = b.getF64Type();
    constexpr int64_t kRow = kReduceThreads + kReduceGroups;
    auto shared = MemRefType::get(
        {int64_t(numSums) * kRow}, f64, MemRefLayoutAttrInterface(),
        gpu::AddressSpaceAttr::get(b.getContext(),
                                   gpu::AddressSpace::Workgroup));
    MemRefType partialsType = MemRefType::get(
        {int64_t(numSums) * std::max<int64_t>(plan.table.slots, 1)}, f64);
    MemRefType inputType = bf16 ? bf16BufferType(b.getContext(), plan)
                                : bufferType(b.getContext(), plan);
    Type element = inputType.getElementType();
    auto widen = [&](Value x) { return bf16 ? emitBf16ToF32(ir, x) : x; };
    SmallVector<Type> types(inputs, inputType);
    llvm::append_range(types,
                       TypeRange{partialsType, b.getI64Type(), b.getI64Type()});
    gpu::GPUFuncOp fn = startKernel(gpuModule, name, types, {shared});
    SmallVector<Value> buffers(fn.getArguments().take_front(inputs));
    Value partials = fn.getArgument(inputs);
    Value first = ir.cast(b.getIndexType(), fn.getArgument(inputs + 1));
    Value sums = fn.getWorkgroupAttributions()[0];
    TableIR table(ir, plan.table);
    Value tid = threadId();
    Value q = ir.addi(ir.cast(b.getIndexType(), fn.getArgument(inputs + 2)),
                      blockId());
    Value threads = ir.mini(blockDim(), ir.idx(kReduceThreads));
    Value isSlot =
        ir.cmpi(arith::CmpIPredicate::ult, q, ir.idx(plan.table.slots));
    Value active = arith::AndIOp::create(
        b, ir.loc, isSlot, ir.cmpi(arith::CmpIPredicate::ult, tid, threads));
    Value zero = ir.f64(0.0);
    SmallVector<Value> zeros(numSums, zero);
    SmallVector<Type> sumTypes(numSums, f64);
    auto add = [&](ValueRange acc, ArrayRef<Value> x) {
      SmallVector<Value> t = terms(x), next;
      for (unsigned k = 0; k < numSums; ++k)
        next.push_back(ir.addf(acc[k], t[k]));
      return next;
    };
    auto work = scf::IfOp::create(b, ir.loc, sumTypes, active,
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(work.elseBlock());
      scf::YieldOp::create(b, ir.loc, zeros);
      b.setInsertionPointToStart(work.thenBlock());
      Part slot =
          locate(table, q, KernelParam::kFirstSlot, KernelParam::kSlotsPerCopy,
                 [&](Value p) {
                   return ir.muli(ir.idx(kChunkElements),
                                  table.param(p, KernelParam::kChunksPerSlot));
                 });
      slot.begin = ir.subi(slot.begin, first);
      slot.end = ir.subi(slot.end, first);
      auto loop = scf::ForOp::create(
          b, ir.loc, ir.addi(slot.begin, ir.muli(tid, ir.idx(4))), slot.end,
          ir.muli(threads, ir.idx(4)), zeros);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(loop.getBody());
        Value i = loop.getInductionVar();
        ValueRange acc = loop.getRegionIterArgs();
        Value full =
            ir.cmpi(arith::CmpIPredicate::sle, ir.addi(i, ir.idx(4)), slot.end);
        auto ifOp = scf::IfOp::create(b, ir.loc, sumTypes, full,
                                      /*withElseRegion=*/true);
        b.setInsertionPointToStart(ifOp.thenBlock());
        SmallVector<Value> vectors;
        for (Value buffer : buffers)
          vectors.push_back(widen(vector::LoadOp::create(
              b, ir.loc, VectorType::get({4}, element), buffer, i,
              /*nontemporal=*/false, llvm::Align(bf16 ? 8 : 16))));
        SmallVector<Value> sum(acc);
        for (int64_t l = 0; l < 4; ++l) {
          SmallVector<Value> x;
          for (Value v : vectors)
            x.push_back(vector::ExtractOp::create(b, ir.loc, v, l));
          sum = add(sum, x);
        }
        scf::YieldOp::create(b, ir.loc, sum);
        b.setInsertionPointToStart(ifOp.elseBlock());
        auto tail = scf::ForOp::create(b, ir.loc, i, slot.end, ir.idx(1), acc);
        {
          OpBuilder::InsertionGuard tailGuard(b);
          b.setInsertionPointToStart(tail.getBody());
          SmallVector<Value> x;
          for (Value buffer : buffers)
            x.push_back(widen(memref::LoadOp::create(b, ir.loc, buffer,
                                                     tail.getInductionVar())));
          scf::YieldOp::create(b, ir.loc, add(tail.getRegionIterArgs(), x));
        }
        scf::YieldOp::create(b, ir.loc, tail.getResults());
        b.setInsertionPointAfter(ifOp);
        scf::YieldOp::create(b, ir.loc, ifOp.getResults());
      }
      scf::YieldOp::create(b, ir.loc, loop.getResults());
    }
    auto at = [&](unsigned k, Value index) {
      return ir.addi(ir.idx(int64_t(k) * kRow), index);
    };
    when(ir.cmpi(arith::CmpIPredicate::ult, tid, ir.idx(kReduceThreads)), [&] {
      for (unsigned k = 0; k < numSums; ++k)
        memref::StoreOp::create(b, ir.loc, work.getResult(k), sums, at(k, tid));
    });
    gpu::BarrierOp::create(b, ir.loc);
    // Group g < 16 sums threads [16 g, 16 g + 16) of those that took part.
    constexpr int64_t kPerGroup = kReduceThreads / kReduceGroups;
    when(ir.cmpi(arith::CmpIPredicate::ult, tid, ir.idx(kReduceGroups)), [&] {
      Value lo = ir.mini(ir.muli(tid, ir.idx(kPerGroup)), threads);
      Value hi = ir.mini(ir.addi(lo, ir.idx(kPerGroup)), threads);
      for (unsigned k = 0; k < numSums; ++k)
        memref::StoreOp::create(b, ir.loc,
                                sumOf(sums, at(k, lo), at(k, hi), zero), sums,
                                at(k, ir.addi(tid, ir.idx(kReduceThreads))));
    });
    gpu::BarrierOp::create(b, ir.loc);
    when(arith::AndIOp::create(
             b, ir.loc, isSlot,
             ir.cmpi(arith::CmpIPredicate::eq, tid, ir.idx(0))),
         [&] {
           for (unsigned k = 0; k < numSums; ++k) {
             Value total = sumOf(sums, at(k, ir.idx(kReduceThreads)),
                                 at(k, ir.idx(kRow)), zero);
             memref::StoreOp::create(
                 b, ir.loc, total, partials,
                 ir.addi(ir.muli(q, ir.idx(numSums)), ir.idx(k)));
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
