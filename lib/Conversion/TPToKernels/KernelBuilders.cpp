//===- KernelBuilders.cpp - What the CPU and GPU builders share -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"
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

void mlir::tp::emitUnitStep(
    KernelIR &ir, const StepRule &rule, const StepScalars &s,
    const StepBuffers &io, Value base, Value unit, Value unitElements,
    Value step,
    function_ref<void(Value, const StepElement &, const StepElement &)>
        observe) {
  OpBuilder &b = ir.b;
  Value lo = ir.addi(base, ir.muli(unit, unitElements));
  Value hi = ir.addi(lo, unitElements);
  // The reduction phase: kUnitLanes interleaved accumulators (element
  // lo + i goes to lane i mod kUnitLanes; the last unitElements mod
  // kUnitLanes elements go to lane 0), each in element order, then the
  // lanes summed in order: independent chains that the CPU can vectorise,
  // the same order on every target.
  constexpr int64_t kUnitLanes = 4;
  constexpr unsigned kSums = StepRule::kUnitSums;
  Value laneEnd =
      ir.addi(lo, ir.muli(arith::DivUIOp::create(b, ir.loc, unitElements,
                                                 ir.idx(kUnitLanes)),
                          ir.idx(kUnitLanes)));
  SmallVector<Value> zeros(kSums * kUnitLanes, ir.f64(0.0));
  auto lanes =
      scf::ForOp::create(b, ir.loc, lo, laneEnd, ir.idx(kUnitLanes), zeros);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(lanes.getBody());
    SmallVector<Value> next;
    for (int64_t l = 0; l < kUnitLanes; ++l) {
      Value i = ir.addi(lanes.getInductionVar(), ir.idx(l));
      llvm::append_range(
          next,
          rule.unitSums(ir, s, loadElement(ir, io, i, rule),
                        lanes.getRegionIterArgs().slice(l * kSums, kSums)));
    }
    scf::YieldOp::create(b, ir.loc, next);
  }
  auto tail = scf::ForOp::create(b, ir.loc, laneEnd, hi, ir.idx(1),
                                 lanes.getResults().take_front(kSums));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(tail.getBody());
    scf::YieldOp::create(
        b, ir.loc,
        rule.unitSums(ir, s, loadElement(ir, io, tail.getInductionVar(), rule),
                      tail.getRegionIterArgs()));
  }
  SmallVector<Value> sums(tail.getResults());
  for (int64_t l = 1; l < kUnitLanes; ++l)
    for (unsigned k = 0; k < kSums; ++k)
      sums[k] = ir.addf(sums[k], lanes.getResult(l * kSums + k));
  // The unit's state (n0, nu) in state buffer 1 at the copy's 2 unit,
  // 2 unit + 1.
  Value n0At = ir.addi(base, ir.muli(unit, ir.idx(2)));
  Value nuAt = ir.addi(n0At, ir.idx(1));
  Value count = arith::SIToFPOp::create(b, ir.loc, b.getF64Type(),
                                        ir.cast(b.getI64Type(), unitElements));
  Value units = io.buffers[3];
  UnitScalars u = rule.unitScalars(
      ir, s, sums, count, memref::LoadOp::create(b, ir.loc, units, n0At),
      memref::LoadOp::create(b, ir.loc, units, nuAt), step);
  memref::StoreOp::create(b, ir.loc, u.n0, units, n0At);
  memref::StoreOp::create(b, ir.loc, u.nu, units, nuAt);
  // The elementwise phase.
  ir.loop(lo, hi, [&](Value i) {
    StepElement before = loadElement(ir, io, i, rule);
    StepElement after = rule.unitUpdate(ir, s, u, before);
    storeElement(ir, io, i, after);
    if (observe)
      observe(i, before, after);
  });
}

void mlir::tp::storeElement(KernelIR &ir, const StepBuffers &io, Value i,
                            const StepElement &e) {
  ArrayRef<Value> buffers = io.buffers;
  memref::StoreOp::create(ir.b, ir.loc, e.p, buffers[0], i);
  if (io.bf16())
    memref::StoreOp::create(
        ir.b, ir.loc,
        emitStochasticBf16(ir, e.p,
                           io.rounding.bitsOf(ir, ir.addi(i, io.shift))),
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
