//===- KernelBuilders.cpp - What the CPU and GPU builders share -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "muir/package_abi.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tp;

MemRefType mlir::tp::bufferType(MLIRContext *context, const KernelPlan &plan) {
  return MemRefType::get({plan.elements}, Float32Type::get(context));
}

MemRefType mlir::tp::bf16BufferType(MLIRContext *context,
                                    const KernelPlan &plan) {
  return MemRefType::get({plan.elements}, IntegerType::get(context, 16));
}

MemRefType TableIR::paramsType(MLIRContext *context, const KernelTable &table) {
  return MemRefType::get(
      {std::max<int64_t>(table.params.size(), 1), KernelParam::kNumFields},
      IntegerType::get(context, 64));
}

MemRefType TableIR::rowsType(MLIRContext *context, const KernelTable &table) {
  return MemRefType::get(
      {std::max<int64_t>(table.rows.size(), 1), TensorRow::kNumFields},
      Float64Type::get(context));
}

void TableIR::emitGlobals(OpBuilder &b, Location loc, const KernelTable &table,
                          bool constantRows) {
  MLIRContext *context = b.getContext();
  MemRefType pType = paramsType(context, table),
             rType = rowsType(context, table);
  std::vector<int64_t> params;
  for (const KernelParam &p : table.params)
    llvm::append_range(params, p.fields());
  params.resize(pType.getNumElements(), 0);
  std::vector<double> rows;
  for (const TensorRow &r : table.rows)
    llvm::append_range(rows, r.fields());
  rows.resize(rType.getNumElements(), 0.0);
  auto tensorOf = [](MemRefType t) {
    return RankedTensorType::get(t.getShape(), t.getElementType());
  };
  memref::GlobalOp::create(
      b, loc, MUIR_KERNEL_PARAMS_SYMBOL, StringAttr(), pType,
      DenseIntElementsAttr::get(tensorOf(pType), ArrayRef<int64_t>(params)),
      /*constant=*/true, b.getI64IntegerAttr(8));
  memref::GlobalOp::create(
      b, loc, MUIR_TENSOR_ROWS_SYMBOL, StringAttr(), rType,
      DenseFPElementsAttr::get(tensorOf(rType), ArrayRef<double>(rows)),
      constantRows, b.getI64IntegerAttr(8));
}

TableIR::TableIR(KernelIR &ir, const KernelTable &table, Value rows)
    : ir(ir), table(table), rows(rows) {
  MLIRContext *context = ir.b.getContext();
  params = memref::GetGlobalOp::create(ir.b, ir.loc, paramsType(context, table),
                                       MUIR_KERNEL_PARAMS_SYMBOL);
  if (!this->rows)
    this->rows = memref::GetGlobalOp::create(
        ir.b, ir.loc, rowsType(context, table), MUIR_TENSOR_ROWS_SYMBOL);
}

Value TableIR::param(Value p, KernelParam::Field f) {
  Value v = memref::LoadOp::create(ir.b, ir.loc, params,
                                   ValueRange{p, ir.idx(int64_t(f))});
  return ir.cast(ir.b.getIndexType(), v);
}

Value TableIR::row(Value r, TensorRow::Field f) {
  return memref::LoadOp::create(ir.b, ir.loc, rows,
                                ValueRange{r, ir.idx(int64_t(f))});
}

TensorConstants TableIR::constants(Value r) {
  return {row(r, TensorRow::kLr), row(r, TensorRow::kWeightDecay),
          row(r, TensorRow::kEps), row(r, TensorRow::kBeta1),
          row(r, TensorRow::kBeta2)};
}

Value TableIR::rowOf(Value p, Value copy) {
  return ir.addi(param(p, KernelParam::kFirstRow),
                 ir.muli(copy, param(p, KernelParam::kRowStride)));
}

Value TableIR::search(Value x, KernelParam::Field f) {
  // base stays the last entry known to be <= x; the probe halves the rest.
  Value base = ir.idx(0);
  for (int64_t len = size(); len > 1; len -= len / 2) {
    Value probe = ir.addi(base, ir.idx(len / 2));
    Value below = ir.cmpi(arith::CmpIPredicate::ule, param(probe, f), x);
    base = ir.select(below, probe, base);
  }
  return base;
}

StepElement mlir::tp::loadElement(KernelIR &ir, const StepBuffers &io, Value i,
                                  const StepRule &rule) {
  ArrayRef<Value> buffers = io.buffers;
  auto load = [&](Value buffer) -> Value {
    return memref::LoadOp::create(ir.b, ir.loc, buffer, i);
  };
  Value g = load(buffers[1]);
  if (io.bf16())
    g = emitBf16ToF32(ir, g);
  StepElement e{load(buffers[0]), g, {}, {}};
  if (rule.elementStates() > 0)
    e.s0 = load(buffers[2]);
  if (rule.elementStates() > 1)
    e.s1 = load(buffers[3]);
  return e;
}

StepScalars mlir::tp::copyScalars(KernelIR &ir, const StepRule &rule,
                                  TableIR &table, Value row, Value step,
                                  Value lrFactor, Value gradScale) {
  TensorConstants k = table.constants(row);
  Value pow1, pow2;
  if (rule.usesBiasCorrection()) {
    pow1 = math::PowFOp::create(ir.b, ir.loc, k.beta1, step);
    pow2 = math::PowFOp::create(ir.b, ir.loc, k.beta2, step);
  }
  StepScalars s = rule.scalars(ir, k, lrFactor, pow1, pow2);
  s.gradScale = gradScale;
  return s;
}

Value mlir::tp::isRotational(KernelIR &ir, TableIR &table, Value p,
                             const StepScalars &s) {
  Value units = table.param(p, KernelParam::kUnitElements);
  return arith::AndIOp::create(
      ir.b, ir.loc, ir.cmpi(arith::CmpIPredicate::ne, units, ir.idx(0)),
      s.hasWeightDecay);
}

static_assert(kSlotUnitSums == MUIR_SLOT_UNIT_SUMS,
              "the unit partials' layout is package_abi.h's");

UnitCopy mlir::tp::unitCopy(KernelIR &ir, TableIR &table, Value p, Value copy,
                            Value base) {
  return {base, table.param(p, KernelParam::kUnitElements),
          ir.muli(table.param(p, KernelParam::kChunksPerSlot),
                  ir.idx(kChunkElements)),
          ir.addi(table.param(p, KernelParam::kFirstSlot),
                  ir.muli(copy, table.param(p, KernelParam::kSlotsPerCopy)))};
}

/// emitSegmentSums' interleaved accumulators (KernelBuilders.h).
static constexpr int64_t kUnitLanes = 4;

/// The step scalars of `k` broadcast to vectors of `lanes`.
static StepScalars broadcast(KernelIR &ir, const StepScalars &k,
                             int64_t lanes) {
  StepScalars v = k;
  for (Value *f :
       {&v.lr, &v.stepSize, &v.bc2Sqrt, &v.invBc1, &v.vScale, &v.decay,
        &v.weightDecay, &v.hasWeightDecay, &v.beta1, &v.oneMinusBeta1, &v.beta2,
        &v.oneMinusBeta2, &v.eps, &v.gradScale, &v.angle})
    if (*f)
      *f = vector::BroadcastOp::create(
          ir.b, ir.loc, VectorType::get({lanes}, f->getType()), *f);
  return v;
}

/// emitSegmentSums' lane loop over [lo, laneEnd) (a multiple of kUnitLanes
/// elements) with the lanes as one vector: the rule's element code on
/// vector<kUnitLanes> values, each sum a vector<kUnitLanes x f64> whose lane l
/// adds the same terms in the same order as scalar lane l. Returns the lanes'
/// sums as the scalar loop does (lane l's at l kUnitSums).
static SmallVector<Value> emitVectorLaneSums(KernelIR &ir, const StepRule &rule,
                                             const StepScalars &s,
                                             const StepBuffers &buffers,
                                             Value lo, Value laneEnd) {
  constexpr unsigned kSums = StepRule::kUnitSums;
  OpBuilder &b = ir.b;
  KernelIR vir{b, ir.loc, kUnitLanes};
  StepScalars vs = broadcast(ir, s, kUnitLanes);
  SmallVector<Value> zeros(kSums, vir.f64(0.0));
  auto load = [&](Value buffer, Value i) -> Value {
    auto type = cast<MemRefType>(buffer.getType());
    return vector::LoadOp::create(
        b, ir.loc, VectorType::get({kUnitLanes}, type.getElementType()), buffer,
        i);
  };
  SmallVector<Value> vectors = ir.loop(
      lo, laneEnd, ir.idx(kUnitLanes), zeros, [&](Value i, ValueRange sums) {
        ArrayRef<Value> io = buffers.buffers;
        Value g = load(io[1], i);
        if (buffers.bf16())
          g = emitBf16ToF32(ir, g);
        StepElement e{load(io[0], i), g, {}, {}};
        if (rule.elementStates() > 0)
          e.s0 = load(io[2], i);
        if (rule.elementStates() > 1)
          e.s1 = load(io[3], i);
        return rule.unitSums(vir, vs, e, sums);
      });
  SmallVector<Value> laneSums;
  for (int64_t l = 0; l < kUnitLanes; ++l)
    for (Value v : vectors)
      laneSums.push_back(vector::ExtractOp::create(b, ir.loc, v, l));
  return laneSums;
}

SmallVector<Value> mlir::tp::emitSegmentSums(KernelIR &ir, const StepRule &rule,
                                             const StepScalars &s,
                                             const StepBuffers &buffers,
                                             Value lo, Value hi) {
  OpBuilder &b = ir.b;
  constexpr unsigned kSums = StepRule::kUnitSums;
  Value laneEnd =
      ir.addi(lo, ir.muli(arith::DivUIOp::create(b, ir.loc, ir.subi(hi, lo),
                                                 ir.idx(kUnitLanes)),
                          ir.idx(kUnitLanes)));
  // Lane l's kSums sums at l * kSums.
  SmallVector<Value> laneSums;
  if (buffers.vectorLanes) {
    laneSums = emitVectorLaneSums(ir, rule, s, buffers, lo, laneEnd);
  } else {
    SmallVector<Value> zeros(kSums * kUnitLanes, ir.f64(0.0));
    laneSums = ir.loop(
        lo, laneEnd, ir.idx(kUnitLanes), zeros, [&](Value at, ValueRange sums) {
          SmallVector<Value> next;
          for (int64_t l = 0; l < kUnitLanes; ++l) {
            Value i = ir.addi(at, ir.idx(l));
            llvm::append_range(
                next, rule.unitSums(ir, s, loadElement(ir, buffers, i, rule),
                                    sums.slice(l * kSums, kSums)));
          }
          return next;
        });
  }
  auto tail = scf::ForOp::create(b, ir.loc, laneEnd, hi, ir.idx(1),
                                 ArrayRef(laneSums).take_front(kSums));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(tail.getBody());
    scf::YieldOp::create(
        b, ir.loc,
        rule.unitSums(ir, s,
                      loadElement(ir, buffers, tail.getInductionVar(), rule),
                      tail.getRegionIterArgs()));
  }
  SmallVector<Value> sums(tail.getResults());
  for (int64_t l = 1; l < kUnitLanes; ++l)
    for (unsigned k = 0; k < kSums; ++k)
      sums[k] = ir.addf(sums[k], laneSums[l * kSums + k]);
  return sums;
}

/// `body()` when `cond` (i1).
static void emitWhen(KernelIR &ir, Value cond, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(ir.b, ir.loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(ir.b);
  ir.b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

void mlir::tp::emitSlotUnitSums(KernelIR &ir, const StepRule &rule,
                                const StepScalars &s,
                                const StepBuffers &buffers, const UnitCopy &u,
                                Value slot, Value from, Value to,
                                Value partials) {
  using P = arith::CmpIPredicate;
  OpBuilder &b = ir.b;
  auto unitAt = [&](Value x) {
    Value lo = ir.addi(
        u.base, ir.muli(arith::DivUIOp::create(b, ir.loc, ir.subi(x, u.base),
                                               u.unitElements),
                        u.unitElements));
    return std::make_pair(lo, ir.addi(lo, u.unitElements));
  };
  auto store = [&](Value lo, Value hi, int64_t at) {
    SmallVector<Value> sums =
        emitSegmentSums(ir, rule, s, buffers, ir.subi(lo, buffers.shift),
                        ir.subi(hi, buffers.shift));
    Value first = ir.addi(ir.muli(slot, ir.idx(kSlotUnitSums)), ir.idx(at));
    for (auto [k, sum] : llvm::enumerate(sums))
      memref::StoreOp::create(b, ir.loc, sum, partials,
                              ir.addi(first, ir.idx(k)));
  };
  // The head: the unit holding the slot's first element, if it straddles.
  Value headLo, headHi, tailLo, tailHi;
  std::tie(headLo, headHi) = unitAt(from);
  emitWhen(ir,
           arith::OrIOp::create(b, ir.loc, ir.cmpi(P::ult, headLo, from),
                                ir.cmpi(P::ugt, headHi, to)),
           [&] { store(from, ir.mini(headHi, to), 0); });
  // The tail: a unit starting inside the slot and ending after it.
  std::tie(tailLo, tailHi) = unitAt(ir.subi(to, ir.idx(1)));
  emitWhen(ir,
           arith::AndIOp::create(b, ir.loc, ir.cmpi(P::ugt, tailLo, from),
                                 ir.cmpi(P::ugt, tailHi, to)),
           [&] { store(tailLo, to, StepRule::kUnitSums); });
}

UnitScalars mlir::tp::emitUnitScalars(KernelIR &ir, const StepRule &rule,
                                      const StepScalars &s,
                                      const StepBuffers &buffers,
                                      const UnitCopy &u, Value unit, Value step,
                                      Value begin, const UnitPartials &from,
                                      ArrayRef<Value> localSums) {
  OpBuilder &b = ir.b;
  constexpr unsigned kSums = StepRule::kUnitSums;
  Type f64 = b.getF64Type();
  Value lo = ir.addi(u.base, ir.muli(unit, u.unitElements));
  Value hi = ir.addi(lo, u.unitElements);
  // The reduction phase, segment by segment: the slots the unit meets.
  Value slotLo =
      arith::DivUIOp::create(b, ir.loc, ir.subi(lo, u.base), u.perSlot);
  Value slotHi = arith::DivUIOp::create(
      b, ir.loc, ir.subi(ir.subi(hi, ir.idx(1)), u.base), u.perSlot);
  Value read =
      arith::AndIOp::create(b, ir.loc, from.fromPartials,
                            ir.cmpi(arith::CmpIPredicate::ne, slotLo, slotHi));
  auto segments =
      scf::ForOp::create(b, ir.loc, slotLo, ir.addi(slotHi, ir.idx(1)),
                         ir.idx(1), SmallVector<Value>(kSums, ir.f64(0.0)));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(segments.getBody());
    Value start =
        ir.addi(u.base, ir.muli(segments.getInductionVar(), u.perSlot));
    Value segLo = ir.maxi(lo, start);
    Value segHi = ir.mini(hi, ir.addi(start, u.perSlot));
    auto ifOp = scf::IfOp::create(b, ir.loc, SmallVector<Type>(kSums, f64),
                                  read, /*withElseRegion=*/true);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value at =
        ir.addi(ir.muli(ir.addi(u.firstSlot, segments.getInductionVar()),
                        ir.idx(kSlotUnitSums)),
                ir.select(ir.cmpi(arith::CmpIPredicate::eq, segLo, start),
                          ir.idx(0), ir.idx(kSums)));
    SmallVector<Value> loaded;
    for (unsigned k = 0; k < kSums; ++k)
      loaded.push_back(memref::LoadOp::create(b, ir.loc, from.partials,
                                              ir.addi(at, ir.idx(k))));
    scf::YieldOp::create(b, ir.loc, loaded);
    b.setInsertionPointToStart(ifOp.elseBlock());
    if (!localSums.empty())
      scf::YieldOp::create(b, ir.loc, localSums);
    else
      scf::YieldOp::create(b, ir.loc,
                           emitSegmentSums(ir, rule, s, buffers,
                                           ir.subi(segLo, buffers.shift),
                                           ir.subi(segHi, buffers.shift)));
    b.setInsertionPointAfter(ifOp);
    SmallVector<Value> next;
    for (unsigned k = 0; k < kSums; ++k)
      next.push_back(
          ir.addf(segments.getRegionIterArgs()[k], ifOp.getResult(k)));
    scf::YieldOp::create(b, ir.loc, next);
  }
  SmallVector<Value> sums(segments.getResults());
  // The unit's state (n0, nu) at its first two elements in [begin, end).
  Value n0At = ir.subi(ir.maxi(lo, begin), buffers.shift);
  Value nuAt = ir.addi(n0At, ir.idx(1));
  Value count = arith::SIToFPOp::create(
      b, ir.loc, f64, ir.cast(b.getI64Type(), u.unitElements));
  UnitScalars us = rule.unitScalars(
      ir, s, sums, count,
      memref::LoadOp::create(b, ir.loc, buffers.buffers[3], n0At),
      memref::LoadOp::create(b, ir.loc, buffers.buffers[3], nuAt), step);
  memref::StoreOp::create(b, ir.loc, us.n0, buffers.buffers[3], n0At);
  memref::StoreOp::create(b, ir.loc, us.nu, buffers.buffers[3], nuAt);
  return us;
}

void mlir::tp::emitUnitElements(
    KernelIR &ir, const StepRule &rule, const StepScalars &s,
    const StepBuffers &buffers, const UnitCopy &u, Value unit, Value begin,
    Value end, const UnitScalars &us, Value offset, Value stride,
    function_ref<void(Value, const StepElement &, const StepElement &)>
        observe) {
  Value lo = ir.addi(u.base, ir.muli(unit, u.unitElements));
  Value hi = ir.addi(lo, u.unitElements);
  Value first = ir.subi(ir.maxi(lo, begin), buffers.shift);
  Value from = ir.addi(first, offset);
  Value to = ir.subi(ir.mini(hi, end), buffers.shift);
  auto element = [&](Value i, Value bits) {
    StepElement before = loadElement(ir, buffers, i, rule);
    StepElement after = rule.unitUpdate(ir, s, us, before);
    storeElement(ir, buffers, i, after, bits);
    if (observe)
      observe(i, before, after);
  };
  if (buffers.elements) {
    // The CPU's loop over a unit's elements (stride 1) with their bf16
    // rounding bits in blocks.
    assert(matchPattern(stride, m_One()) && "a strided loop of rounding bits");
    buffers.elements(from, to, element);
    return;
  }
  ir.loop(from, to, stride, [&](Value i) { element(i, Value()); });
}

void mlir::tp::emitUnitStep(
    KernelIR &ir, const StepRule &rule, const StepScalars &s,
    const StepBuffers &buffers, const UnitCopy &u, Value unit, Value step,
    Value begin, Value end, const UnitPartials &from,
    function_ref<void(Value, const StepElement &, const StepElement &)>
        observe) {
  UnitScalars us =
      emitUnitScalars(ir, rule, s, buffers, u, unit, step, begin, from);
  emitUnitElements(ir, rule, s, buffers, u, unit, begin, end, us, ir.idx(0),
                   ir.idx(1), observe);
}

void mlir::tp::storeElement(KernelIR &ir, const StepBuffers &io, Value i,
                            const StepElement &e, Value bits) {
  ArrayRef<Value> buffers = io.buffers;
  memref::StoreOp::create(ir.b, ir.loc, e.p, buffers[0], i);
  if (io.bf16())
    memref::StoreOp::create(
        ir.b, ir.loc,
        emitStochasticBf16(ir, e.p,
                           bits ? bits
                                : io.rounding.bitsOf(ir, ir.addi(i, io.shift))),
        io.copy, i);
  if (e.s0)
    memref::StoreOp::create(ir.b, ir.loc, e.s0, buffers[2], i);
  if (e.s1)
    memref::StoreOp::create(ir.b, ir.loc, e.s1, buffers[3], i);
}

void mlir::tp::switchOnInit(KernelIR &ir, const KernelTable &table, Value kind,
                            function_ref<void(InitKind)> body) {
  SmallVector<int64_t> cases;
  for (InitKind k : table.initKinds)
    cases.push_back(int64_t(k));
  auto sw = scf::IndexSwitchOp::create(ir.b, ir.loc, TypeRange(), kind, cases,
                                       cases.size());
  OpBuilder::InsertionGuard guard(ir.b);
  ir.b.setInsertionPointToStart(&sw.getDefaultRegion().emplaceBlock());
  scf::YieldOp::create(ir.b, ir.loc);
  for (auto [n, k] : llvm::enumerate(table.initKinds)) {
    ir.b.setInsertionPointToStart(&sw.getCaseRegions()[n].emplaceBlock());
    body(k);
    scf::YieldOp::create(ir.b, ir.loc);
  }
}
