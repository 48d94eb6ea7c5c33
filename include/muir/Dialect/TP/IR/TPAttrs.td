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
include "muir/Dialect/TP/IR/TPEnums.td"

def TP_DimKindAttr : EnumAttr<TP_Dialect, TP_DimKind, "dim_kind">;

def TP_InitKindAttr : EnumAttr<TP_Dialect, TP_InitKind, "init"> {
  let summary = "Initial distribution of a parameter";
}

def TP_AttentionScaleAttr : EnumAttr<TP_Dialect, TP_AttentionScale, "attention_scale"> {
  let summary = "Attention logit scale: 1/sqrt(d_head) (SP) or 1/d_head (muP)";
}

def TP_GenericKindAttr : EnumAttr<TP_Dialect, TP_GenericKind, "generic_kind"> {
  let summary = "Shape contract of a generic op: opaque, elementwise or reshape";
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
