//===- TPOps.h - tp dialect operations --------------------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPOPS_H
#define MUIR_DIALECT_TP_IR_TPOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "muir/Dialect/TP/IR/TPAttrs.h"
#include "muir/Dialect/TP/IR/TPDialect.h"
#include "muir/Dialect/TP/IR/TPInterfaces.h"
#include "muir/Dialect/TP/IR/TPTypes.h"

namespace mlir::tp {
class DimOp;
class ParamOp;
class OutputOp;
class YieldOp;
} // namespace mlir::tp

#define GET_OP_CLASSES
#include "muir/Dialect/TP/IR/TPOps.h.inc"

#endif // MUIR_DIALECT_TP_IR_TPOPS_H
