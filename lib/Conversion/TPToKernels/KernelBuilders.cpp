//===- KernelBuilders.cpp - What the CPU and GPU builders share -----------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tp;

MemRefType mlir::tp::bufferType(MLIRContext *context, const KernelPlan &plan) {
  return MemRefType::get({plan.elements}, Float32Type::get(context));
}

StepElement mlir::tp::loadElement(KernelIR &ir, ArrayRef<Value> buffers,
                                  Value i, const StepRule &rule) {
  auto load = [&](Value buffer) -> Value {
    return memref::LoadOp::create(ir.b, ir.loc, buffer, i);
  };
  StepElement e{load(buffers[0]), load(buffers[1]), {}, {}};
  if (rule.info.numStates > 0)
    e.s0 = load(buffers[2]);
  if (rule.info.numStates > 1)
    e.s1 = load(buffers[3]);
  return e;
}

void mlir::tp::storeElement(KernelIR &ir, ArrayRef<Value> buffers, Value i,
                            const StepElement &e) {
  memref::StoreOp::create(ir.b, ir.loc, e.p, buffers[0], i);
  if (e.s0)
    memref::StoreOp::create(ir.b, ir.loc, e.s0, buffers[2], i);
  if (e.s1)
    memref::StoreOp::create(ir.b, ir.loc, e.s1, buffers[3], i);
}
