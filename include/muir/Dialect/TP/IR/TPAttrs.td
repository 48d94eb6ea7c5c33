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

def TP_GenericKind : I32EnumAttr<"GenericKind",
    "what a generic tp.op promises about the shapes of its operands and results", [
    I32EnumAttrCase<"opaque", 0>,
    I32EnumAttrCase<"elementwise", 1>,
    I32EnumAttrCase<"reshape", 2>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tp";
}
def TP_GenericKindAttr : EnumAttr<TP_Dialect, TP_GenericKind, "generic_kind"> {
  let summary = "Shape contract of a generic op: opaque, elementwise or reshape";
}

def TP_Role : I32EnumAttr<"Role", "what kind of weight a parameter is", [
    I32EnumAttrCase<"embedding", 0>,
    I32EnumAttrCase<"hidden", 1>,
    I32EnumAttrCase<"unembedding", 2>,
    I32EnumAttrCase<"hidden_bias", 3>,
    I32EnumAttrCase<"norm", 4>,
    I32EnumAttrCase<"qk_norm", 5>,
    I32EnumAttrCase<"final_norm", 6>,
    I32EnumAttrCase<"scalar", 7>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tp";
}
def TP_RoleAttr : EnumAttr<TP_Dialect, TP_Role, "role"> {
  let summary = "The role of a parameter, derived from its dims and uses";
  let assemblyFormat = "`<` $value `>`";
}

def TP_RationalParameter : AttrParameter<"::mlir::tp::Rational", "exact rational"> {
  let printer = [{ $_printer << $_self; }];
}

def TP_ScaleAttr : AttrDef<TP_Dialect, "Scale"> {
  let mnemonic = "scale";
  let summary = "A monomial m_N^a * m_L^b * m_B^c * m_D^d in the scaling ratios";
  let description = [{
    How a hyperparameter scales from the base model to this one: the base
    value is multiplied by the width ratio `N` (m_N), the depth ratio `L`
    (m_L), the batch-size ratio `B` (m_B) and the training-duration ratio
    `D` (m_D, tokens) raised to exact rational exponents. Zero exponents are
    omitted; `#tp.scale<1>` is the constant monomial.

    ```mlir
    #tp.scale<N = -1, L = -1/2, B = 1/2, D = -1/2>   // Complete(d)P hidden LR, alpha = 1/2
    #tp.scale<1>                                     // does not scale
    ```
  }];
  let parameters = (ins TP_RationalParameter:$width, TP_RationalParameter:$depth,
                        TP_RationalParameter:$batch, TP_RationalParameter:$duration);
  let hasCustomAssemblyFormat = 1;
  let extraClassDeclaration = [{
    /// The constant monomial 1.
    static ScaleAttr one(::mlir::MLIRContext *context) {
      return get(context, Rational(0), Rational(0), Rational(0), Rational(0));
    }
    /// The product of two monomials (exponents add).
    ScaleAttr mul(ScaleAttr other) const;
    /// The monomial raised to `power`.
    ScaleAttr pow(Rational power) const;
    /// Evaluates the monomial at concrete ratios.
    double evaluate(double width, double depth, double batch,
                    double duration) const;
  }];
}

#endif // MUIR_DIALECT_TP_IR_TPATTRS_TD
