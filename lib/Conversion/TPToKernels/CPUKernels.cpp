//===- CPUKernels.cpp - The init and step functions for the CPU -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One loop per tensor copy over its elements; LLVM vectorises each (the
// per-step scalars are loop invariants). tp-lower-to-cpu lowers the
// functions with the bare-pointer convention: plain C signatures.
//
//===----------------------------------------------------------------------===//

#include "InitRules.h"
#include "KernelBuilders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include <map>

using namespace mlir;
using namespace mlir::tp;

namespace {
class CPUKernelBuilder {
public:
  CPUKernelBuilder(ModuleOp module, Location loc, const KernelPlan &plan)
      : module(module), b(module.getContext()), ir{b, loc}, plan(plan) {}

  /// `func.func @name(inputs)` at the end of the module, the builder at the
  /// start of its body.
  func::FuncOp startFunc(StringRef name, TypeRange inputs) {
    b.setInsertionPointToEnd(module.getBody());
    auto fn =
        func::FuncOp::create(b, ir.loc, name, b.getFunctionType(inputs, {}));
    b.setInsertionPointToStart(fn.addEntryBlock());
    return fn;
  }

  /// @muir_generated_init(%params, %seed, %begin, %end): elements
  /// [begin, end) of every tensor copy.
  void buildInit() {
    Type i64 = b.getI64Type();
    func::FuncOp fn =
        startFunc("muir_generated_init",
                  {bufferType(b.getContext(), plan), i64, i64, i64});
    Value params = fn.getArgument(0);
    Value k0, k1;
    std::tie(k0, k1) = philoxKey(ir, fn.getArgument(1));
    Value begin = ir.cast(b.getIndexType(), fn.getArgument(2));
    Value end = ir.cast(b.getIndexType(), fn.getArgument(3));
    for (const Segment &s : plan.segments) {
      Value lo = ir.maxi(begin, ir.idx(s.offset));
      Value hi = ir.mini(end, ir.idx(s.offset + s.numel));
      ir.loop(lo, hi, [&](Value i) {
        InitParams q;
        if (isRandomInit(s.init))
          q = {ir.idx(s.copy * s.numel - s.offset), ir.i32(s.paramIndex),
               ir.f32(initScale(s.init, s.initStd))};
        memref::StoreOp::create(
            b, ir.loc, emitInitValue(ir, s.init, q, i, k0, k1), params, i);
      });
    }
    func::ReturnOp::create(b, ir.loc);
  }

  /// @muir_generated_step(%params, %grads, %state0, %state1, %step,
  /// %lr_factor).
  void buildStep() {
    Type i64 = b.getI64Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
    MemRefType buffer = bufferType(b.getContext(), plan);
    func::FuncOp fn = startFunc("muir_generated_step",
                                {buffer, buffer, buffer, buffer, i64, f32});
    SmallVector<Value, 4> buffers(fn.getArguments().take_front(4));
    Value stepF = arith::SIToFPOp::create(b, ir.loc, f64, fn.getArgument(4));
    Value lrFactor = ir.toF64(fn.getArgument(5));
    // beta^t once per distinct beta, at the start.
    std::map<double, Value> powers;
    auto power = [&](double beta) -> Value {
      if (!plan.rule.usesBiasCorrection())
        return {};
      Value &p = powers[beta];
      if (!p)
        p = math::PowFOp::create(b, ir.loc, ir.f64(beta), stepF);
      return p;
    };
    for (const Segment &s : plan.segments) {
      StepScalars k =
          plan.rule.scalars(ir,
                            {ir.f64(s.lr), ir.f64(s.weightDecay), ir.f64(s.eps),
                             ir.f64(s.beta1), ir.f64(s.beta2)},
                            lrFactor, power(s.beta1), power(s.beta2));
      ir.loop(ir.idx(s.offset), ir.idx(s.offset + s.numel), [&](Value i) {
        storeElement(
            ir, buffers, i,
            plan.rule.update(ir, k, loadElement(ir, buffers, i, plan.rule)));
      });
    }
    func::ReturnOp::create(b, ir.loc);
  }

private:
  ModuleOp module;
  OpBuilder b;
  KernelIR ir;
  const KernelPlan &plan;
};
} // namespace

void mlir::tp::buildCPUKernels(ModuleOp module, Location loc,
                               const KernelPlan &plan) {
  buildPhiloxFunction(module, loc);
  CPUKernelBuilder builder(module, loc, plan);
  builder.buildInit();
  builder.buildStep();
}
