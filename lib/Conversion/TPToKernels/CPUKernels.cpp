//===- CPUKernels.cpp - The init, step and reduce functions for the CPU ---===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Loops over the table's parameters and their copies, and inside over the
// elements of one tensor copy with its constants loaded once before the
// loop: LLVM vectorises the inner loop (the per-step scalars are loop
// invariants). tp-lower-to-cpu lowers the functions with the bare-pointer
// convention: plain C signatures.
//
// Shards: the step and telemetry functions take a range [begin, end) of the
// flat buffer and buffers that hold only that range (element e at index
// e - begin), and the reduction the element its grads start at, so a rank of
// a sharded trainer keeps gradients and states of its range alone
// (docs/Distributed.md). Each copy's and each slot's elements are clipped to
// the range; the constants still come from the whole tensor's row, so a
// range may cut through a tensor or a LionAR unit: a unit that straddles a
// slot start takes its sums from the partial sums of every rank
// (@muir_generated_reduce_units, summed by the trainer; KernelBuilders.h),
// and each range steps its part of the unit with the unit's scalars.
//
//===----------------------------------------------------------------------===//

#include "InitRules.h"
#include "KernelBuilders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "muir/package_abi.h"

using namespace mlir;
using namespace mlir::tp;

namespace {
class CPUKernelBuilder {
public:
  CPUKernelBuilder(ModuleOp module, Location loc, const KernelPlan &plan)
      : module(module), b(module.getContext()), ir{b, loc}, plan(plan) {}

  void build() {
    b.setInsertionPointToEnd(module.getBody());
    TableIR::emitGlobals(b, ir.loc, plan.table, /*constantRows=*/true);
    buildInit();
    buildStep();
    buildReduce("muir_generated_reduce", /*bf16=*/false);
    if (plan.bf16)
      buildReduce("muir_generated_reduce_bf16", /*bf16=*/true);
    buildReduceUnits();
  }

private:
  /// `func.func @name(inputs)` at the end of the module, the builder at the
  /// start of its body.
  func::FuncOp startFunc(StringRef name, TypeRange inputs) {
    b.setInsertionPointToEnd(module.getBody());
    auto fn =
        func::FuncOp::create(b, ir.loc, name, b.getFunctionType(inputs, {}));
    b.setInsertionPointToStart(fn.addEntryBlock());
    return fn;
  }

  /// `body(p, copy, base)` for every copy of every parameter entry, `base`
  /// the copy's first element.
  void forEachCopy(TableIR &table,
                   function_ref<void(Value, Value, Value)> body) {
    ir.loop(ir.idx(0), ir.idx(table.size()), [&](Value p) {
      Value offset = table.param(p, KernelParam::kOffset);
      Value stride = table.param(p, KernelParam::kStride);
      ir.loop(ir.idx(0), table.param(p, KernelParam::kCopies), [&](Value c) {
        body(p, c, ir.addi(offset, ir.muli(c, stride)));
      });
    });
  }

  /// lo <= x < hi (signed index values).
  Value within(Value x, Value lo, Value hi) {
    return arith::AndIOp::create(b, ir.loc,
                                 ir.cmpi(arith::CmpIPredicate::sge, x, lo),
                                 ir.cmpi(arith::CmpIPredicate::slt, x, hi));
  }

  /// [lo, hi) clipped to [begin, end) and shifted by -begin: the indices of
  /// a shard's buffers, an empty range (lo == hi) when they do not meet.
  std::pair<Value, Value> clip(Value lo, Value hi, Value begin, Value end) {
    Value from = ir.subi(ir.maxi(lo, begin), begin);
    Value to = ir.subi(ir.mini(hi, end), begin);
    return {from, ir.maxi(from, to)};
  }

  /// @muir_generated_init(%params, %seed, %begin, %end, %shift): elements
  /// [begin, end) of every tensor copy, one loop per distribution; element
  /// i is stored at params[i - shift] (0 for the whole buffer, the shard's
  /// first element for a shard's buffer).
  void buildInit() {
    Type i64 = b.getI64Type(), index = b.getIndexType();
    func::FuncOp fn =
        startFunc("muir_generated_init",
                  {bufferType(b.getContext(), plan), i64, i64, i64, i64});
    Value params = fn.getArgument(0);
    Value k0, k1;
    std::tie(k0, k1) = philoxKey(ir, fn.getArgument(1));
    Value begin = ir.cast(index, fn.getArgument(2));
    Value end = ir.cast(index, fn.getArgument(3));
    Value shift = ir.cast(index, fn.getArgument(4));
    TableIR table(ir, plan.table);
    forEachCopy(table, [&](Value p, Value c, Value base) {
      Value numel = table.param(p, KernelParam::kNumel);
      Value lo = ir.maxi(begin, base);
      Value hi = ir.mini(end, ir.addi(base, numel));
      InitParams q{
          ir.subi(ir.muli(c, numel), base),
          ir.cast(b.getI32Type(), table.param(p, KernelParam::kParam)),
          ir.toF32(table.row(table.rowOf(p, c), TensorRow::kInitScale))};
      switchOnInit(ir, plan.table, table.param(p, KernelParam::kInit),
                   [&](InitKind kind) {
                     ir.loop(lo, hi, [&](Value i) {
                       memref::StoreOp::create(
                           b, ir.loc, emitInitValue(ir, kind, q, i, k0, k1),
                           params, ir.subi(i, shift));
                     });
                   });
    });
    func::ReturnOp::create(b, ir.loc);
  }

  /// @muir_generated_step_rows(%params, %grads, %state0, %state1, %step,
  /// %lr_factor, %grad_scale, %begin, %end, %rows, %units, %from_units)
  /// over the elements [begin, end) its buffers hold (LionAR's units that
  /// straddle a slot start take their sums from %units when %from_units is
  /// not 0: KernelBuilders.h), @muir_generated_step(...) over the whole
  /// buffers with the table's rows, and
  /// @muir_generated_step_telemetry(..., %from_units, %partials): the same step
  /// that also writes, per reduction slot s, partials[4s + k] = (sum w^2,
  /// sum w'^2, sum d^2, sum w d), d = w' - w, in float64 over the slot's
  /// elements in [begin, end) (w before, w' after; 0 for a slot outside the
  /// range). The plain step does not change: telemetry is a separate
  /// function.
  void buildStep() {
    Type i64 = b.getI64Type(), f32 = b.getF32Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    MemRefType rowsType = TableIR::rowsType(b.getContext(), plan.table);
    func::FuncOp withRows =
        buildStepBody("muir_generated_step_rows", /*telemetry=*/false, false);
    buildStepBody("muir_generated_step_telemetry", /*telemetry=*/true, false);
    if (plan.bf16) {
      buildStepBody("muir_generated_step_bf16", /*telemetry=*/false, true);
      buildStepBody("muir_generated_step_telemetry_bf16", /*telemetry=*/true,
                    true);
    }

    func::FuncOp fn =
        startFunc("muir_generated_step",
                  {buffer, buffer, buffer, buffer, i64, f32, f32, unitsType()});
    SmallVector<Value> args(fn.getArguments().drop_back());
    args.push_back(ir.i64(0));
    args.push_back(ir.i64(plan.elements));
    args.push_back(memref::GetGlobalOp::create(b, ir.loc, rowsType,
                                               MUIR_TENSOR_ROWS_SYMBOL));
    args.push_back(fn.getArguments().back());
    args.push_back(ir.i64(0));
    func::CallOp::create(b, ir.loc, withRows, args);
    func::ReturnOp::create(b, ir.loc);
  }

  /// A step function: @muir_generated_step_rows(%params, %grads, %state0,
  /// %state1, %step, %lr_factor, %grad_scale, %begin, %end, %rows, %units,
  /// %from_units), with `telemetry` the telemetry partials after them, with
  /// `bf16` the
  /// gradients and a copy of the params as bf16 bits (%grads: i16, the
  /// %copy: i16 after %state1, the rounding %seed last): the copy written
  /// with stochastic rounding keyed by (seed, step, element).
  func::FuncOp buildStepBody(StringRef name, bool telemetry, bool bf16) {
    Type i64 = b.getI64Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    MemRefType half = bf16BufferType(b.getContext(), plan);
    MemRefType rowsType = TableIR::rowsType(b.getContext(), plan.table);
    MemRefType partialsType;
    if (telemetry)
      partialsType = MemRefType::get({4 * telemetrySums()}, b.getF64Type());
    SmallVector<Type> inputs = {buffer, bf16 ? half : buffer, buffer, buffer};
    if (bf16)
      inputs.push_back(half);
    unsigned n = inputs.size(); // the scalars' first argument
    llvm::append_range(
        inputs, TypeRange{i64, f32, f32, i64, i64, rowsType, unitsType(), i64});
    if (partialsType)
      inputs.push_back(partialsType);
    if (bf16)
      inputs.push_back(i64);
    func::FuncOp fn = startFunc(name, inputs);
    Value stepF = arith::SIToFPOp::create(b, ir.loc, f64, fn.getArgument(n));
    Value lrFactor = ir.toF64(fn.getArgument(n + 1));
    Value gradScale = fn.getArgument(n + 2);
    Value begin = ir.cast(b.getIndexType(), fn.getArgument(n + 3));
    Value end = ir.cast(b.getIndexType(), fn.getArgument(n + 4));
    StepBuffers buffers{
        SmallVector<Value, 4>(fn.getArguments().take_front(4)), {}, begin, {}};
    buffers.vectorLanes = true;
    if (bf16) {
      buffers.copy = fn.getArgument(4);
      buffers.rounding =
          RoundingStream::get(ir, fn.getArguments().back(), fn.getArgument(n));
      stage = memref::AllocaOp::create(
          b, ir.loc, MemRefType::get({4 * kRoundingGroups}, b.getI32Type()));
      buffers.elements = [this,
                          io = buffers](Value lo, Value hi,
                                        function_ref<void(Value, Value)> body) {
        elementLoop(lo, hi, {}, io, [&](Value i, Value bits, ValueRange) {
          body(i, bits);
          return SmallVector<Value>();
        });
      };
    }
    TableIR table(ir, plan.table, fn.getArgument(n + 5));
    UnitPartials units{
        fn.getArgument(n + 6),
        ir.cmpi(arith::CmpIPredicate::ne, fn.getArgument(n + 7), ir.i64(0))};
    Value partials = telemetry ? fn.getArgument(n + 8) : Value();
    const StepRule &rule = plan.rule;
    forEachCopy(table, [&](Value p, Value c, Value base) {
      StepScalars s = copyScalars(ir, rule, table, table.rowOf(p, c), stepF,
                                  lrFactor, gradScale);
      if (!rule.hasUnits()) {
        elementwise(table, s, p, c, base, begin, end, buffers, partials);
        return;
      }
      // LionAR: the copy's units, or the plain update where it has none or
      // no weight decay.
      auto ifOp = scf::IfOp::create(b, ir.loc, isRotational(ir, table, p, s),
                                    /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.elseBlock());
      elementwise(table, s, p, c, base, begin, end, buffers, partials);
      b.setInsertionPointToStart(ifOp.thenBlock());
      // The units that meet [begin, end), each stepped on its elements
      // there.
      UnitCopy u = unitCopy(ir, table, p, c, base);
      Value zero = ir.idx(0);
      Value numel = table.param(p, KernelParam::kNumel);
      Value unitFirst = arith::DivUIOp::create(
          b, ir.loc, ir.maxi(zero, ir.subi(begin, base)), u.unitElements);
      Value unitEnd = arith::CeilDivUIOp::create(
          b, ir.loc, ir.maxi(zero, ir.mini(numel, ir.subi(end, base))),
          u.unitElements);
      if (!partials) {
        ir.loop(unitFirst, unitEnd, [&](Value r) {
          emitUnitStep(ir, rule, s, buffers, u, r, stepF, begin, end, units);
        });
        return;
      }
      // Telemetry: the slots' sums element by element (in element order,
      // as the units go; 0 for a slot outside [begin, end)), and each
      // unit's own after the slots' (LionAR's per-row telemetry: unit u's
      // at 4 (slots + u); a shard's units: the sums of their part in it).
      Value unitSums = ir.muli(
          ir.addi(ir.idx(std::max<int64_t>(plan.table.slots, 1)),
                  ir.addi(table.param(p, KernelParam::kFirstUnit),
                          ir.muli(c, arith::DivUIOp::create(b, ir.loc, numel,
                                                            u.unitElements)))),
          ir.idx(4));
      forEachSlot(table, p, c, base, [&](Value slot, Value, Value) {
        for (unsigned j = 0; j < 4; ++j)
          memref::StoreOp::create(b, ir.loc, ir.f64(0.0), partials,
                                  ir.addi(ir.muli(slot, ir.idx(4)), ir.idx(j)));
      });
      Value shifted = ir.subi(base, begin);
      ir.loop(unitFirst, unitEnd, [&](Value r) {
        Value unitAt = ir.addi(unitSums, ir.muli(r, ir.idx(4)));
        for (unsigned j = 0; j < 4; ++j)
          memref::StoreOp::create(b, ir.loc, ir.f64(0.0), partials,
                                  ir.addi(unitAt, ir.idx(j)));
        emitUnitStep(
            ir, rule, s, buffers, u, r, stepF, begin, end, units,
            [&](Value i, const StepElement &before, const StepElement &after) {
              Value slot = ir.addi(
                  u.firstSlot, arith::DivUIOp::create(
                                   b, ir.loc, ir.subi(i, shifted), u.perSlot));
              SmallVector<Value, 4> terms = telemetryTerms(before, after);
              for (Value at : {ir.muli(slot, ir.idx(4)), unitAt})
                for (unsigned j = 0; j < 4; ++j) {
                  Value index = ir.addi(at, ir.idx(j));
                  Value sum =
                      memref::LoadOp::create(b, ir.loc, partials, index);
                  memref::StoreOp::create(b, ir.loc, ir.addf(sum, terms[j]),
                                          partials, index);
                }
            });
      });
    });
    func::ReturnOp::create(b, ir.loc);
    return fn;
  }

  /// The telemetry's partial sums come in fours: one four per reduction
  /// slot (at least one), then one per rotational unit.
  int64_t telemetrySums() const {
    return std::max<int64_t>(plan.table.slots, 1) + plan.table.units;
  }

  /// LionAR's per-slot unit sums (KernelBuilders.h): kSlotUnitSums f64 per
  /// reduction slot.
  MemRefType unitsType() {
    return MemRefType::get(
        {kSlotUnitSums * std::max<int64_t>(plan.table.slots, 1)},
        b.getF64Type());
  }

  /// @muir_generated_reduce_units(%params, %grads, %state0, %state1,
  /// %step, %lr_factor, %grad_scale, %rows, %units, %first, %slot_begin,
  /// %slot_end): LionAR's head and tail segment sums (KernelBuilders.h) of
  /// every reduction slot in [slot_begin, slot_end) of a rotating copy into
  /// %units, the buffers holding the elements from `first` on; nothing for
  /// the other slots (the runtime zeroes the vector). Empty for rules
  /// without units.
  void buildReduceUnits() {
    Type i64 = b.getI64Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    func::FuncOp fn = startFunc("muir_generated_reduce_units",
                                {buffer, buffer, buffer, buffer, i64, f32, f32,
                                 TableIR::rowsType(b.getContext(), plan.table),
                                 unitsType(), i64, i64, i64});
    const StepRule &rule = plan.rule;
    if (rule.hasUnits()) {
      Value stepF = arith::SIToFPOp::create(b, ir.loc, f64, fn.getArgument(4));
      Value lrFactor = ir.toF64(fn.getArgument(5));
      TableIR table(ir, plan.table, fn.getArgument(7));
      Value units = fn.getArgument(8);
      Value first = ir.cast(b.getIndexType(), fn.getArgument(9));
      StepBuffers buffers{
          SmallVector<Value, 4>(fn.getArguments().take_front(4)),
          {},
          first,
          {}};
      buffers.vectorLanes = true;
      Value slotBegin = ir.cast(b.getIndexType(), fn.getArgument(10));
      Value slotEnd = ir.cast(b.getIndexType(), fn.getArgument(11));
      forEachCopy(table, [&](Value p, Value c, Value base) {
        StepScalars s = copyScalars(ir, rule, table, table.rowOf(p, c), stepF,
                                    lrFactor, fn.getArgument(6));
        auto ifOp = scf::IfOp::create(b, ir.loc, isRotational(ir, table, p, s),
                                      /*withElseRegion=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
        UnitCopy u = unitCopy(ir, table, p, c, base);
        forEachSlot(table, p, c, base, [&](Value slot, Value from, Value to) {
          auto when =
              scf::IfOp::create(b, ir.loc, within(slot, slotBegin, slotEnd),
                                /*withElseRegion=*/false);
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPoint(when.thenBlock()->getTerminator());
          emitSlotUnitSums(ir, rule, s, buffers, u, slot, from, to, units);
        });
      });
    }
    func::ReturnOp::create(b, ir.loc);
  }

  /// w^2, w'^2, d^2 and w d (f64) of one element, d = w' - w.
  SmallVector<Value, 4> telemetryTerms(const StepElement &before,
                                       const StepElement &after) {
    Value w = ir.toF64(before.p), w2 = ir.toF64(after.p);
    Value d = ir.subf(w2, w);
    return {ir.mulf(w, w), ir.mulf(w2, w2), ir.mulf(d, d), ir.mulf(w, d)};
  }

  /// The elementwise update of copy `c` of entry `p` (first element
  /// `base`) clipped to [begin, end), with the telemetry's sums per slot
  /// when `partials` is set.
  void elementwise(TableIR &table, const StepScalars &s, Value p, Value c,
                   Value base, Value begin, Value end,
                   const StepBuffers &buffers, Value partials) {
    const StepRule &rule = plan.rule;
    if (!partials) {
      auto [lo, hi] = clip(
          base, ir.addi(base, table.param(p, KernelParam::kNumel)), begin, end);
      elementLoop(lo, hi, {}, buffers, [&](Value i, Value bits, ValueRange) {
        storeElement(ir, buffers, i,
                     rule.apply(ir, s, loadElement(ir, buffers, i, rule)),
                     bits);
        return SmallVector<Value>();
      });
      return;
    }
    forEachSlot(table, p, c, base, [&](Value slot, Value from, Value to) {
      auto [lo, hi] = clip(from, to, begin, end);
      Value zero = ir.f64(0.0);
      SmallVector<Value> sums =
          elementLoop(lo, hi, {zero, zero, zero, zero}, buffers,
                      [&](Value i, Value bits, ValueRange sums) {
                        StepElement before = loadElement(ir, buffers, i, rule);
                        StepElement after = rule.apply(ir, s, before);
                        storeElement(ir, buffers, i, after, bits);
                        SmallVector<Value, 4> terms =
                            telemetryTerms(before, after);
                        SmallVector<Value> next;
                        for (unsigned j = 0; j < 4; ++j)
                          next.push_back(ir.addf(sums[j], terms[j]));
                        return next;
                      });
      for (unsigned j = 0; j < 4; ++j)
        memref::StoreOp::create(b, ir.loc, sums[j], partials,
                                ir.addi(ir.muli(slot, ir.idx(4)), ir.idx(j)));
    });
  }

  /// Groups of 4 elements whose rounding bits a bf16 step computes at once
  /// (one Philox call per group, the calls in vector lanes): the ten
  /// rounds are a chain of dependent multiplies, and the block's element
  /// loop comes between two blocks' calls, so a block needs enough
  /// independent lanes to keep the multipliers busy: four AVX-512
  /// registers of words. The step over 16, 32, 64 and 128 groups took 1.53,
  /// 1.36, 1.30 and 1.34x the fp32 step here (8: 2.2x); 256 elements' bits
  /// (1 KB) stay in L1.
  static constexpr int64_t kRoundingGroups = 64;

  /// `body(i, bits, args)` for the buffer indices i in [lo, hi) in order,
  /// carrying `init`; returns the final values. In a bf16 step `bits` is
  /// element i's rounding bits (null otherwise): from the first 4-aligned
  /// flat element on, blocks of kRoundingGroups groups take theirs from one
  /// RoundingStream::blockBits through `stage` (the last block as far as
  /// it goes: its extra calls cost less than one per element), the at most
  /// 3 elements before from their own Philox call. The same bits as
  /// element by element: a group's words do not depend on who computes
  /// them.
  SmallVector<Value>
  elementLoop(Value lo, Value hi, ValueRange init, const StepBuffers &buffers,
              function_ref<SmallVector<Value>(Value, Value, ValueRange)> body) {
    Value one = ir.idx(1);
    if (!buffers.bf16())
      return ir.loop(lo, hi, one, init, [&](Value i, ValueRange args) {
        return body(i, Value(), args);
      });
    Value block = ir.idx(4 * kRoundingGroups);
    Value shift = buffers.shift;
    // The first buffer index of a 4-aligned flat element.
    Value aligned = ir.subi(
        arith::AndIOp::create(b, ir.loc, ir.addi(ir.addi(lo, shift), ir.idx(3)),
                              ir.idx(-4)),
        shift);
    Value headEnd = ir.mini(hi, aligned);
    SmallVector<Value> args =
        ir.loop(lo, headEnd, one, init, [&](Value i, ValueRange args) {
          return body(i, buffers.rounding.bitsOf(ir, ir.addi(i, buffers.shift)),
                      args);
        });
    return ir.loop(headEnd, hi, block, args, [&](Value start, ValueRange args) {
      Value group =
          arith::ShRUIOp::create(b, ir.loc, ir.addi(start, shift), ir.idx(2));
      vector::StoreOp::create(
          b, ir.loc, buffers.rounding.blockBits(ir, group, kRoundingGroups),
          stage, ir.idx(0));
      return ir.loop(ir.idx(0), ir.mini(block, ir.subi(hi, start)), one, args,
                     [&](Value j, ValueRange args) {
                       Value bits = memref::LoadOp::create(b, ir.loc, stage, j);
                       return body(ir.addi(start, j), bits, args);
                     });
    });
  }

  /// `body(slot, lo, hi)` for every reduction slot of copy `c` of parameter
  /// entry `p` (first element `base`): its number over the table and its
  /// elements [lo, hi).
  void forEachSlot(TableIR &table, Value p, Value c, Value base,
                   function_ref<void(Value, Value, Value)> body) {
    Value end = ir.addi(base, table.param(p, KernelParam::kNumel));
    Value perSlot = ir.muli(table.param(p, KernelParam::kChunksPerSlot),
                            ir.idx(kChunkElements));
    Value slots = table.param(p, KernelParam::kSlotsPerCopy);
    Value first =
        ir.addi(table.param(p, KernelParam::kFirstSlot), ir.muli(c, slots));
    ir.loop(ir.idx(0), slots, [&](Value s) {
      Value lo = ir.addi(base, ir.muli(s, perSlot));
      body(ir.addi(first, s), lo, ir.mini(ir.addi(lo, perSlot), end));
    });
  }

  /// @muir_generated_reduce(%grads, %partials, %slot_begin, %slot_end,
  /// %first): the sum of squares (f64) of every reduction slot in
  /// [slot_begin, slot_end), `grads` holding the elements from `first` on
  /// (0 for the whole buffer, a shard's first element for its buffer).
  /// With `bf16` (@muir_generated_reduce_bf16) the grads are bf16 bits,
  /// widened exactly.
  ///
  /// A slot of n elements is read as kStreams streams at once: stream k
  /// covers [k q, (k + 1) q) of the slot, q = n / kStreams rounded down to
  /// a multiple of kLanes, each summed in its own kLanes accumulator lanes
  /// (element i of the stream in lane i mod kLanes); then the rest
  /// [kStreams q, n) in kLanes more lanes, the last n mod kLanes one by
  /// one. The sum is the
  /// streams' lanes in order, then the rest's: a fixed order per slot,
  /// deterministic whatever the slot range (the runtime's threads take
  /// disjoint ranges). One stream read at about 9 GB/s on one core of the
  /// development machine; eight, which the hardware prefetchers follow side
  /// by side, at about 13 (docs/Optimizers.md, "Benchmark").
  ///
  /// The loop runs over the range's slots alone, each found by a binary
  /// search of the table: the runtime calls it a few slots at a time.
  void buildReduce(StringRef name, bool bf16) {
    Type f64 = b.getF64Type(), i64 = b.getI64Type();
    MemRefType partialsType =
        MemRefType::get({std::max<int64_t>(plan.table.slots, 1)}, f64);
    MemRefType gradsType = bf16 ? bf16BufferType(b.getContext(), plan)
                                : bufferType(b.getContext(), plan);
    func::FuncOp fn = startFunc(name, {gradsType, partialsType, i64, i64, i64});
    Value grads = fn.getArgument(0), partials = fn.getArgument(1);
    Value slotBegin = ir.cast(b.getIndexType(), fn.getArgument(2));
    Value slotEnd = ir.cast(b.getIndexType(), fn.getArgument(3));
    Value first = ir.cast(b.getIndexType(), fn.getArgument(4));
    TableIR table(ir, plan.table);
    constexpr int64_t kLanes = 8, kStreams = 8;
    auto lanes = VectorType::get({kLanes}, f64);
    auto widen = [&](Value g) { return bf16 ? emitBf16ToF32(ir, g) : g; };
    // g^2 in f64 of kLanes elements from `at`.
    auto squares = [&](Value at) {
      Value g = arith::ExtFOp::create(
          b, ir.loc, lanes,
          widen(vector::LoadOp::create(
              b, ir.loc, VectorType::get({kLanes}, gradsType.getElementType()),
              grads, at)));
      return ir.mulf(g, g);
    };
    Value zeros = arith::ConstantOp::create(
        b, ir.loc, DenseElementsAttr::get(lanes, b.getF64FloatAttr(0.0)));
    ir.loop(slotBegin, slotEnd, [&](Value slot) {
      auto [from, to] = locateSlot(table, slot);
      Value lo = ir.subi(from, first), hi = ir.subi(to, first);
      Value share = ir.muli(arith::DivUIOp::create(b, ir.loc, ir.subi(hi, lo),
                                                   ir.idx(kStreams * kLanes)),
                            ir.idx(kLanes));
      SmallVector<Value> starts;
      for (int64_t k = 0; k < kStreams; ++k)
        starts.push_back(ir.addi(lo, ir.muli(ir.idx(k), share)));
      SmallVector<Value> streams = ir.loop(
          ir.idx(0), share, ir.idx(kLanes), SmallVector<Value>(kStreams, zeros),
          [&](Value i, ValueRange sums) {
            SmallVector<Value> next;
            for (int64_t k = 0; k < kStreams; ++k)
              next.push_back(ir.addf(sums[k], squares(ir.addi(starts[k], i))));
            return next;
          });
      Value rest = ir.addi(lo, ir.muli(ir.idx(kStreams), share));
      Value vectorEnd = ir.addi(
          rest, ir.muli(arith::DivUIOp::create(b, ir.loc, ir.subi(hi, rest),
                                               ir.idx(kLanes)),
                        ir.idx(kLanes)));
      streams.push_back(ir.loop(rest, vectorEnd, ir.idx(kLanes), {zeros},
                                [&](Value i, ValueRange sums) {
                                  return SmallVector<Value>{
                                      ir.addf(sums[0], squares(i))};
                                })[0]);
      Value sum = ir.f64(0.0);
      for (Value v : streams)
        sum = vector::ReductionOp::create(b, ir.loc, vector::CombiningKind::ADD,
                                          v, sum);
      sum = ir.loop(
          vectorEnd, hi, ir.idx(1), {sum}, [&](Value i, ValueRange sums) {
            Value g =
                ir.toF64(widen(memref::LoadOp::create(b, ir.loc, grads, i)));
            return SmallVector<Value>{ir.addf(sums[0], ir.mulf(g, g))};
          })[0];
      memref::StoreOp::create(b, ir.loc, sum, partials, slot);
    });
    func::ReturnOp::create(b, ir.loc);
  }

  /// The flat elements [from, to) of reduction slot `slot` (index): its
  /// parameter entry by a binary search of first_slot, then its copy and
  /// place in the copy (forEachSlot's numbering).
  std::pair<Value, Value> locateSlot(TableIR &table, Value slot) {
    Value p = table.search(slot, KernelParam::kFirstSlot);
    Value k = ir.subi(slot, table.param(p, KernelParam::kFirstSlot));
    Value slots = table.param(p, KernelParam::kSlotsPerCopy);
    Value c = arith::DivUIOp::create(b, ir.loc, k, slots);
    Value base = ir.addi(table.param(p, KernelParam::kOffset),
                         ir.muli(c, table.param(p, KernelParam::kStride)));
    Value perSlot = ir.muli(table.param(p, KernelParam::kChunksPerSlot),
                            ir.idx(kChunkElements));
    Value from = ir.addi(base, ir.muli(ir.subi(k, ir.muli(c, slots)), perSlot));
    Value end = ir.addi(base, table.param(p, KernelParam::kNumel));
    return {from, ir.mini(ir.addi(from, perSlot), end)};
  }

  ModuleOp module;
  OpBuilder b;
  /// The bf16 step's rounding bits of one block (elementLoop): a
  /// memref<4 kRoundingGroups x i32> on the stack.
  Value stage;
  KernelIR ir;
  const KernelPlan &plan;
};
} // namespace

void mlir::tp::buildCPUKernels(ModuleOp module, Location loc,
                               const KernelPlan &plan) {
  buildPhiloxFunction(module, loc);
  CPUKernelBuilder(module, loc, plan).build();
}
