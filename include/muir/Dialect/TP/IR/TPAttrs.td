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

def TP_LayoutAttr : AttrDef<TP_Dialect, "Layout"> {
  let mnemonic = "layout";
  let summary = "Where a parameter's block copies lie in the flat buffers";
  let description = [{
    Written by `tp-assign-layout` as `tp.layout` on every `tp.param`: copy
    `l` of the parameter (one per block of its `tp.repeat`, else one) is the
    `numel` f32 elements from `offset + l * stride` in each flat buffer
    (parameters, gradients, optimizer states). The stride is `numel` rounded
    up to the alignment; a tied parameter carries its owner's layout. The
    attribute checks what it can alone (offsets and counts in range, a
    stride that keeps copies apart, an end inside the largest buffer);
    `tp.model`'s verifier checks it against the parameter, the model's
    `tp.buffer` and the other layouts.

    ```mlir
    tp.param "blocks.fc" normal {tp.layout = #tp.layout<offset = 64, stride = 64, numel = 64, copies = 3>} : !tp.tensor<[d, d], f32>
    ```
  }];
  let parameters = (ins "int64_t":$offset, "int64_t":$stride,
                        "int64_t":$numel, "int64_t":$copies);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The most f32 elements a flat buffer holds, so that byte offsets fit
    /// in 64 bits.
    static constexpr int64_t kMaxElements =
        std::numeric_limits<int64_t>::max() / 4;
    /// One past the last element of the last copy.
    int64_t getEnd() const {
      return getOffset() + getStride() * (getCopies() - 1) + getNumel();
    }
  }];
}

def TP_BufferAttr : AttrDef<TP_Dialect, "Buffer"> {
  let mnemonic = "buffer";
  let summary = "The size and alignment of a model's flat buffers";
  let description = [{
    Written by `tp-assign-layout` as `tp.buffer` on the `tp.model`: every
    flat buffer holds `elements` f32 values, and every parameter's copies
    start at a multiple of `alignment` bytes (a multiple of 16, one 128-bit
    vector).

    ```mlir
    tp.model @gpt attributes {tp.buffer = #tp.buffer<elements = 264, alignment = 64>} { ... }
    ```
  }];
  let parameters = (ins "int64_t":$elements, "int64_t":$alignment);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // MUIR_DIALECT_TP_IR_TPATTRS_TD
