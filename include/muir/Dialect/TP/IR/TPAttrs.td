//===- TPAttrs.td - tp dialect attributes and enums --------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPATTRS_TD
#define MUIR_DIALECT_TP_IR_TPATTRS_TD

include "muir/Dialect/TP/IR/TPDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def TP_DimKind : I32EnumAttr<"DimKind", "how a named dimension scales", [
    I32EnumAttrCase<"width", 0>,
    I32EnumAttrCase<"fixed", 1>,
    I32EnumAttrCase<"depth", 2>,
    I32EnumAttrCase<"product", 3>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tp";
}
def TP_DimKindAttr : EnumAttr<TP_Dialect, TP_DimKind, "dim_kind">;

def TP_InitKind : I32EnumAttr<"InitKind", "initial distribution of a parameter", [
    I32EnumAttrCase<"normal", 0>,
    I32EnumAttrCase<"trunc_normal", 1>,
    I32EnumAttrCase<"uniform", 2>,
    I32EnumAttrCase<"zeros", 3>,
    I32EnumAttrCase<"ones", 4>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tp";
}
def TP_InitKindAttr : EnumAttr<TP_Dialect, TP_InitKind, "init"> {
  let summary = "Initial distribution of a parameter";
}

def TP_AttentionScale : I32EnumAttr<"AttentionScale",
    "how attention logits are scaled by the head dimension", [
    I32EnumAttrCase<"inv_sqrt_head_dim", 0>,
    I32EnumAttrCase<"inv_head_dim", 1>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tp";
}
def TP_AttentionScaleAttr : EnumAttr<TP_Dialect, TP_AttentionScale, "attention_scale"> {
  let summary = "Attention logit scale: 1/sqrt(d_head) (SP) or 1/d_head (muP)";
}

#endif // MUIR_DIALECT_TP_IR_TPATTRS_TD
