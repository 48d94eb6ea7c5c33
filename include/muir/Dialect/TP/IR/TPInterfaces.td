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

def TP_DimUserOpInterface : OpInterface<"DimUserOpInterface"> {
  let cppNamespace = "::mlir::tp";
  let description = [{
    An op whose invariants depend on the declarations of the dims it names:
    a head dim that must be the last factor of a product dim, a repeat
    count that must be a depth dim, query heads that must be a multiple of
    key heads. `tp.model`'s verifier calls `verifyDimUses` on each such op
    as it walks the model in program order, after every op's own verifier
    has passed, with the index of the dims declared so far: each lookup is
    a hash lookup and each dim's sizes are resolved once, so verification
    stays linear in the size of the model. It plays the part of MLIR's
    `SymbolUserOpInterface`, whose symbol table knows the dims but not their
    resolved sizes. The op's own verifier checks what needs no declaration.
  }];
  let methods = [
    InterfaceMethod<[{
        Checks this op against the declarations in `index` (every dim the op
        names is declared there; the model checked that first). Emits an
        error and fails when an invariant does not hold.
      }],
      "::llvm::LogicalResult", "verifyDimUses",
      (ins "const ::mlir::tp::ModelIndex &":$index)>,
  ];
}

def TP_LogitScaleOpInterface : OpInterface<"LogitScaleOpInterface"> {
  let cppNamespace = "::mlir::tp";
  let description = [{
    An op that scales attention logits by a power of the head dim: a whole
    `tp.attention`, or a `tp.attention_scale` where a program written op by
    op (an imported PyTorch model) multiplies q.k^T by a constant. Its
    `scale` is 1/sqrt(d_head) or 1/d_head; when absent the parametrisation
    decides (tp-parametrize sets 1/d_head under muP-family schemes). The
    forward table, the report and the package list every such op as one
    attention, named in program order.
  }];
  let methods = [
    InterfaceMethod<"The head dim whose size sets the scale.",
      "::llvm::StringRef", "getHeadDim">,
    InterfaceMethod<"The scale, or std::nullopt when the scheme decides.",
      "std::optional<::mlir::tp::AttentionScale>", "getScale">,
    InterfaceMethod<"Fixes the scale (tp-parametrize).",
      "void", "setScaleAttr", (ins "::mlir::tp::AttentionScaleAttr":$scale)>,
  ];
}

#endif // MUIR_DIALECT_TP_IR_TPINTERFACES_TD
