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
  let parser = [{ ::mlir::tp::parseRational($_parser) }];
}

/// An f64 (an APFloat, which unlike double hashes), printed so that it
/// reads back exactly.
def TP_F64Parameter : APFloatParameter<"f64"> {
  let parser = [{ ::mlir::tp::parseF64($_parser) }];
  let printer = [{ $_printer.printFloat($_self); }];
}

/// `[v, ...]`: one f64, or one per block copy; left out when unset. The
/// values print exactly (a DenseF64ArrayAttr prints six digits).
def TP_F64ArrayParameter
    : AttrParameter<"::mlir::DenseF64ArrayAttr", "f64 values, one or one per block"> {
  let parser = [{ ::mlir::tp::parseF64Array($_parser) }];
  let printer = [{ ::mlir::tp::printF64Array($_printer, $_self); }];
  let defaultValue = "::mlir::DenseF64ArrayAttr()";
}

/// `true` or `false`; false when left out.
def TP_BoolParameter : AttrParameter<"bool", "true or false"> {
  let parser = [{ ::mlir::tp::parseBool($_parser) }];
  let printer = [{ $_printer << ($_self ? "true" : "false"); }];
  let defaultValue = "false";
}

/// An optional f64, bool or enum: left out of the printed form when unset.
def TP_OptionalF64Parameter : AttrParameter<"std::optional<::llvm::APFloat>", "f64"> {
  let parser = [{ ::mlir::tp::parseF64($_parser) }];
  let printer = [{ $_printer.printFloat(*$_self); }];
  let comparator = "$_lhs.has_value() == $_rhs.has_value() && "
                   "(!$_lhs || $_lhs->bitwiseIsEqual(*$_rhs))";
  let defaultValue = "std::optional<::llvm::APFloat>()";
}
def TP_OptionalBoolParameter : AttrParameter<"std::optional<bool>", "true or false"> {
  let parser = [{ ::mlir::tp::parseBool($_parser) }];
  let printer = [{ $_printer << (*$_self ? "true" : "false"); }];
  let defaultValue = "std::nullopt";
}
/// An enum, printed as the generated operator<< prints it: quoted when it is
/// not an identifier (`"sp-pytorch"`), so that it reads back.
class TP_EnumParameter<EnumAttrInfo info> : EnumParameter<info> {
  let printer = [{ $_printer << $_self; }];
}
class TP_OptionalEnumParameter<EnumAttrInfo info>
    : AttrParameter<"std::optional<" # info.cppNamespace # "::" # info.className # ">",
                    info.summary> {
  let parser = "::mlir::FieldParser<" # info.cppNamespace # "::" # info.className
               # ">::parse($_parser)";
  let printer = [{ $_printer << *$_self; }];
  let defaultValue = "std::nullopt";
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

def TP_ScalingAttr : AttrDef<TP_Dialect, "Scaling"> {
  let mnemonic = "scaling";
  let summary = "The scaling rule of each quantity of a parameter or residual branch";
  let description = [{
    Written by `tp-parametrize` as `tp.scaling`: for each quantity (the
    `Quantity` enum) the monomial its base value is multiplied by, and the
    dim whose ratio the width exponent `N` uses. A `tp.param` has at least
    `init_std`, `multiplier`, `lr` and `weight_decay` (and `eps`, `beta1`,
    `beta2` when its optimizer reads them); a `tp.residual` has only
    `multiplier`, the branch multiplier m_L^-alpha. Code reads a quantity
    with `getScale(Quantity)`, never by name.

    ```mlir
    tp.param "blocks.fc" normal {tp.scaling = #tp.scaling<init_std = <N = -1/2>, multiplier = <1>, lr = <N = -1>, weight_decay = <N = 1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
    tp.residual %h, %f {tp.scaling = #tp.scaling<multiplier = <L = -1>>} : !tp.tensor<[b, d], f32>
    ```
  }];
  let parameters = (ins
    OptionalParameter<"::mlir::tp::ScaleAttr">:$init_std,
    OptionalParameter<"::mlir::tp::ScaleAttr">:$multiplier,
    OptionalParameter<"::mlir::tp::ScaleAttr">:$lr,
    OptionalParameter<"::mlir::tp::ScaleAttr">:$weight_decay,
    OptionalParameter<"::mlir::tp::ScaleAttr">:$eps,
    OptionalParameter<"::mlir::tp::ScaleAttr">:$beta1,
    OptionalParameter<"::mlir::tp::ScaleAttr">:$beta2,
    OptionalParameter<"::mlir::StringAttr">:$width_dim);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "::llvm::ArrayRef<::mlir::tp::ScaleAttr>":$byQuantity,
                     "::mlir::StringAttr":$widthDim)>
  ];
  let extraClassDeclaration = [{
    /// The monomial of `quantity`, or null.
    ScaleAttr getScale(Quantity quantity) const;
  }];
}

def TP_ValuesAttr : AttrDef<TP_Dialect, "Values"> {
  let mnemonic = "values";
  let summary = "The instantiated value of each quantity, one per block copy";
  let description = [{
    Written by `tp-instantiate` as `tp.values` on every op with a
    `tp.scaling`: for each quantity its value at this model's size (base
    value x monomial x per-module factors), one f64 for all block copies or
    one per copy. These are the float32 constants of the kernels, so each is
    finite, within float32's range and not flushed to zero; betas lie in
    [0, 1) and the others are not negative. `tp.instance` holds the base
    values in the same form. Code reads a value with `getValue(Quantity)`
    or `at(Quantity, copy)`.

    ```mlir
    tp.param "blocks.fc" normal {tp.values = #tp.values<init_std = [0.0125], multiplier = [1.0], lr = [0.001, 0.0005], weight_decay = [0.0]>} : ...
    ```
  }];
  let parameters = (ins
    TP_F64ArrayParameter:$init_std,
    TP_F64ArrayParameter:$multiplier,
    TP_F64ArrayParameter:$lr,
    TP_F64ArrayParameter:$weight_decay,
    TP_F64ArrayParameter:$eps,
    TP_F64ArrayParameter:$beta1,
    TP_F64ArrayParameter:$beta2);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "::llvm::ArrayRef<::mlir::DenseF64ArrayAttr>":$byQuantity)>
  ];
  let extraClassDeclaration = [{
    /// The values of `quantity` (one, or one per block copy), or null.
    DenseF64ArrayAttr getValue(Quantity quantity) const;
    /// The value of `quantity` for block copy `copy` (one value serves
    /// every copy); `fallback` when the quantity is absent.
    double at(Quantity quantity, int64_t copy = 0, double fallback = 0) const;
  }];
}

def TP_ParametrizationAttr : AttrDef<TP_Dialect, "Parametrization"> {
  let mnemonic = "parametrization";
  let summary = "The scheme and optimizer tp-parametrize applied";
  let description = [{
    Written by `tp-parametrize` as `tp.parametrization` on the `tp.model`:
    the scheme, the optimizer with every option of its family (defaults
    filled in; docs/Optimizers.md), the depth exponent `alpha`, the
    monomial of the number of steps in the batch and duration ratios
    (`steps`), and whether eps stays at its base value (`unscaled_eps`).
    tp-instantiate, the kernels and the package read the optimizer back
    from here.

    ```mlir
    tp.model @gpt attributes {tp.parametrization = #tp.parametrization<scheme = completep, optimizer = adamw, alpha = 1, steps = <1>, bias_correction1 = true>} { ... }
    ```
  }];
  let parameters = (ins
    TP_EnumParameter<TP_Scheme>:$scheme,
    TP_EnumParameter<TP_Optimizer>:$optimizer,
    TP_RationalParameter:$alpha,
    OptionalParameter<"::mlir::tp::ScaleAttr">:$steps,
    TP_BoolParameter:$unscaled_eps,
    // The optimizer family's options (OptimizerSpec).
    TP_OptionalBoolParameter:$bias_correction1,
    TP_OptionalBoolParameter:$nesterov,
    TP_OptionalF64Parameter:$beta,
    TP_OptionalBoolParameter:$inverse_bias_correction,
    TP_OptionalEnumParameter<TP_UpdateUnits>:$units,
    TP_OptionalF64Parameter:$rms,
    TP_OptionalBoolParameter:$zero_mean,
    TP_OptionalF64Parameter:$rho,
    TP_OptionalF64Parameter:$rotational_eps,
    TP_OptionalEnumParameter<TP_AngleRule>:$angle);
  let assemblyFormat = "`<` struct(params) `>`";
}

def TP_InstanceAttr : AttrDef<TP_Dialect, "Instance"> {
  let mnemonic = "instance";
  let summary = "The size ratios and base values tp-instantiate used";
  let description = [{
    Written by `tp-instantiate` as `tp.instance` on the `tp.model`: the
    ratios of this model to the base model (`width`, `depth`, `batch`,
    `duration`: m_N, m_L, m_B, m_D), the base value of each quantity
    (`base`, a `#tp.values` without `multiplier`; beta1 is the momentum
    recipe's one beta when the optimizer uses it), how the base init std
    applies (`init_std_rule`) and the factor on the number of training steps
    (`steps_multiplier`). The ratios and the steps multiplier are positive
    and finite.

    ```mlir
    tp.model @gpt attributes {tp.instance = #tp.instance<width = 4.0, depth = 2.0, batch = 1.0, duration = 1.0, base = <init_std = [0.02], lr = [0.001], weight_decay = [0.0], eps = [1.0e-08], beta1 = [0.9], beta2 = [0.999]>, init_std_rule = fixed, steps_multiplier = 1.0>} { ... }
    ```
  }];
  let parameters = (ins TP_F64Parameter:$width, TP_F64Parameter:$depth,
                        TP_F64Parameter:$batch, TP_F64Parameter:$duration,
                        "::mlir::tp::ValuesAttr":$base,
                        TP_EnumParameter<TP_InitStdRule>:$init_std_rule,
                        TP_F64Parameter:$steps_multiplier);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // MUIR_DIALECT_TP_IR_TPATTRS_TD
