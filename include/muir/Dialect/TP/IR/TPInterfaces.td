//===- TPInterfaces.td - tp dialect op interfaces ----------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPINTERFACES_TD
#define MUIR_DIALECT_TP_IR_TPINTERFACES_TD

include "mlir/IR/OpBase.td"

def TP_ParamUseOpInterface : OpInterface<"ParamUseOpInterface"> {
  let cppNamespace = "::mlir::tp";
  let description = [{
    An op that can take a parameter (the result of a `tp.param`) as an
    operand says through this interface what the parameter is to it: a
    matrix from a fan-in dim to a fan-out dim (a linear's weight, an
    embedding table, a positional table added to the activations), a bias,
    a norm's gain or bias (per head or over the whole feature vector), or a
    scalar multiplier, together with the activation it acts on.

    Role derivation (`deriveRoles`, lib/Dialect/TP/Analysis/Roles.cpp) asks
    only this interface, never the concrete op: a new op that implements it
    gives its parameters roles without any change to the analysis. A
    parameter used by an op that does not implement the interface, or at an
    operand for which it answers `std::nullopt`, has no role, which is an
    error naming the op and the operand.
  }];
  let methods = [
    InterfaceMethod<[{
        How this op uses `operand` (one of its own operands) when it holds a
        parameter, or `std::nullopt` when a parameter means nothing there
        (a linear's input, a table of the wrong rank).
      }],
      "std::optional<::mlir::tp::ParamUse>", "getParamUse",
      (ins "::mlir::OpOperand &":$operand)>,
  ];
}

#endif // MUIR_DIALECT_TP_IR_TPINTERFACES_TD
