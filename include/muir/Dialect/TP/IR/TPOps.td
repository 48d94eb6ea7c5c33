//===- TPOps.td - tp dialect operations --------------------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPOPS_TD
#define MUIR_DIALECT_TP_IR_TPOPS_TD

include "muir/Dialect/TP/IR/TPDialect.td"
include "muir/Dialect/TP/IR/TPAttrs.td"
include "muir/Dialect/TP/IR/TPInterfaces.td"
include "muir/Dialect/TP/IR/TPTypes.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def TP_AnyTensor : Type<CPred<"::llvm::isa<::mlir::tp::NamedTensorType>($_self)">,
                        "tp tensor", "::mlir::tp::NamedTensorType">;

// An op whose one result prints as `%<resultName>` (MLIR appends `_N` to
// repeated names), so that printed IR reads `%layer_norm`, `%attention`,
// `%h` rather than `%0`, `%1`. Ops named by an attribute (tp.param,
// tp.input) implement getAsmResultNames themselves.
class TP_NamedResultOp<string mnemonic, string resultName,
                       list<Trait> traits = []>
    : TP_Op<mnemonic, traits # [DeclareOpInterfaceMethods<OpAsmOpInterface,
                                                           ["getAsmResultNames"]>]> {
  let extraClassDefinition = [{
    void $cppClass::getAsmResultNames(::mlir::OpAsmSetValueNameFn setNameFn) {
      setNameFn(getResult(), "}] # resultName # [{");
    }
  }];
}

//===----------------------------------------------------------------------===//
// Structure: model, dims, inputs, parameters, depth
//===----------------------------------------------------------------------===//

def TP_ModelOp : TP_Op<"model", [Symbol, SymbolTable, IsolatedFromAbove,
                                 SingleBlock, NoRegionArguments]> {
  let summary = "A network written as a tensor program";
  let description = [{
    The unit muir compiles. Its single block declares dimensions, inputs and
    parameters and computes the network's outputs (usually the loss), ending
    in `tp.output`. Every dimension name used by a `!tp.tensor` type or a dim
    reference must be declared by a `tp.dim` earlier in the block; every
    parameter and input name is unique; tied parameters refer to a
    model-level parameter of the same or the transposed shape.

    A model is a symbol table whose symbols are its dims: `@d_model` in a
    `tp.repeat` or a product dim resolves in the enclosing model, and dim
    names are unique within it. Code that looks up many names builds a
    `ModelIndex` (one pass over the model, then hash lookups, with each
    dim's sizes resolved).

    ```mlir
    tp.model @tiny {
      tp.dim @batch = fixed<4>
      tp.dim @d = width<base 8, size 64>
      %x = tp.input "x" : !tp.tensor<[batch, d], f32>
      tp.output %x : !tp.tensor<[batch, d], f32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The model's terminator.
    OutputOp getOutput();
  }];
}

def TP_DimOp : TP_Op<"dim", [HasParent<"ModelOp">, Symbol]> {
  let summary = "Declares a named dimension and how it scales";
  let description = [{
    Declares a dimension name for use in `!tp.tensor` types and gives its
    size in the base model (the small proxy where hyperparameters are
    tuned) and in this model.

    - `width<base B, size N>`: grows with the model's width (`d_model`,
      `d_ff`, `n_head`); the width ratio is N / B.
    - `fixed<N>`: does not scale (vocabulary, context length, classes, batch).
    - `depth<base B, size N>`: the number of repetitions of a residual block
      (`tp.repeat`); never a tensor dimension.
    - `product<@a, @b, ...>`: the product of earlier dims (`n_head * d_head`);
      it scales with width when any factor does.

    ```mlir
    tp.dim @d_model = width<base 256, size 768>
    tp.dim @vocab = fixed<50304>
    tp.dim @layers = depth<base 2, size 12>
    tp.dim @d_attn = product<@n_head, @d_head>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TP_DimKindAttr:$kind,
                       OptionalAttr<I64Attr>:$base_size,
                       OptionalAttr<I64Attr>:$size,
                       OptionalAttr<FlatSymbolRefArrayAttr>:$factors);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
}

def TP_InputOp : TP_Op<"input", [HasParent<"ModelOp">, Pure,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "A named input of the model (tokens, targets, features)";
  let description = [{
    ```mlir
    %tokens = tp.input "tokens" : !tp.tensor<[batch, seq], i32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = "$name attr-dict `:` qualified(type($result))";
}

def TP_ParamOp : TP_Op<"param", [ParentOneOf<["ModelOp", "RepeatOp"]>, Pure,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "A trainable parameter";
  let description = [{
    A weight of the network, with its module path (`blocks.attn.q`), its
    shape over named dims in PyTorch layout (`[fan_out, fan_in]` for a
    matrix used by `tp.linear`), and its initial distribution. A parameter
    inside a `tp.repeat` has one copy per repetition of the block.

    A parameter may instead be *tied* to a model-level parameter declared
    earlier (a tied unembedding reuses the token embedding): it then has no
    distribution of its own, and its shape is the other's or its transpose.

    ```mlir
    %wte = tp.param "wte" normal : !tp.tensor<[vocab, d_model], f32>
    %head = tp.param "lm_head" tied "wte" : !tp.tensor<[vocab, d_model], f32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<TP_InitKindAttr>:$init,
                       OptionalAttr<StrAttr>:$tied);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $name custom<InitOrTie>($init, $tied) attr-dict `:` qualified(type($result))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The tensor type of the parameter.
    NamedTensorType getType() { return ::llvm::cast<NamedTensorType>(getResult().getType()); }
    /// True when declared inside a repeated block (one copy per repetition).
    bool isRepeated();
  }];
}

def TP_RepeatOp : TP_Op<"repeat", [SingleBlock, HasParent<"ModelOp">,
    DeclareOpInterfaceMethods<TP_DimUserOpInterface>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames",
                                                 "getAsmBlockArgumentNames"]>]> {
  let summary = "A block repeated over a depth dimension";
  let description = [{
    Runs its body once per repetition of the `depth` dimension `@depth`,
    threading the loop-carried values (the residual stream) through the
    block arguments. Parameters declared in the body have one copy per
    repetition. Residual connections inside the body are explicit
    `tp.residual` ops, so a pass can place the branch multiplier m_L^-alpha.

    ```mlir
    %y = tp.repeat @layers (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
    ^bb0(%h: !tp.tensor<[b, d], f32>):
      %w = tp.param "blocks.fc" normal : !tp.tensor<[d, d], f32>
      %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
      %r = tp.residual %h, %f : !tp.tensor<[b, d], f32>
      tp.yield %r : !tp.tensor<[b, d], f32>
    }
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$depth, Variadic<TP_AnyTensor>:$inits);
  let results = (outs Variadic<TP_AnyTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $depth ` ` `(` $inits `)` attr-dict `:` functional-type($inits, $results) $body
  }];
  let hasRegionVerifier = 1;
}

def TP_YieldOp : TP_Op<"yield", [HasParent<"RepeatOp">, Pure, Terminator,
                                 ReturnLike]> {
  let summary = "Ends a repeated block, yielding the loop-carried values";
  let arguments = (ins Variadic<TP_AnyTensor>:$values);
  let assemblyFormat = "($values^ `:` qualified(type($values)))? attr-dict";
}

def TP_OutputOp : TP_Op<"output", [HasParent<"ModelOp">, Pure, Terminator,
                                   ReturnLike]> {
  let summary = "Ends a model, naming its outputs";
  let description = [{
    ```mlir
    tp.output %loss : !tp.tensor<[], f32>
    ```
  }];
  let arguments = (ins Variadic<TP_AnyTensor>:$values);
  let assemblyFormat = "($values^ `:` qualified(type($values)))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def TP_LinearOp : TP_NamedResultOp<"linear", "linear", [Pure,
    DeclareOpInterfaceMethods<TP_ParamUseOpInterface>]> {
  let summary = "Affine map y = x W^T + b over the last dimension";
  let description = [{
    `W` has PyTorch layout `[out, in]`: its second dim is the fan-in and must
    be the last dim of `x`; the result replaces that dim by `out`. The
    optional bias has shape `[out]`.

    ```mlir
    %y = tp.linear %x, %w, %b : (!tp.tensor<[batch, d_in], f32>,
        !tp.tensor<[d_out, d_in], f32>, !tp.tensor<[d_out], f32>)
        -> !tp.tensor<[batch, d_out], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$input, TP_AnyTensor:$weight,
                       Optional<TP_AnyTensor>:$bias);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def TP_EmbeddingOp : TP_NamedResultOp<"embedding", "embedding", [Pure,
    DeclareOpInterfaceMethods<TP_ParamUseOpInterface>]> {
  let summary = "Looks up rows of a `[count, features]` table";
  let description = [{
    The result has the dims of the integer `indices` followed by the table's
    feature dim. Used for token and learned positional embeddings.

    ```mlir
    %e = tp.embedding %tokens, %wte : (!tp.tensor<[batch, seq], i32>,
        !tp.tensor<[vocab, d_model], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$indices, TP_AnyTensor:$table);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $indices `,` $table attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

class TP_BroadcastBinaryOp<string mnemonic> : TP_NamedResultOp<mnemonic, mnemonic, [Pure,
    Commutative, DeclareOpInterfaceMethods<TP_ParamUseOpInterface>]> {
  let description = [{
    Elementwise with trailing-dimension broadcasting: the shorter operand's
    dims must be a suffix of the longer one's, which is the result's shape.
    A learned positional table `[seq, d_model]` is added to `[batch, seq,
    d_model]` activations this way.
  }];
  let arguments = (ins TP_AnyTensor:$lhs, TP_AnyTensor:$rhs);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def TP_AddOp : TP_BroadcastBinaryOp<"add"> {
  let summary = "Elementwise sum with trailing broadcasting";
}
def TP_MulOp : TP_BroadcastBinaryOp<"mul"> {
  let summary = "Elementwise product with trailing broadcasting";
}

def TP_ResidualOp : TP_NamedResultOp<"residual", "h", [Pure,
    SameOperandsAndResultType]> {
  let summary = "Residual connection: stream + branch";
  let description = [{
    Adds the output of a residual branch to the residual stream inside a
    `tp.repeat` body. The stream operand is the body's block argument or the
    result of an earlier `tp.residual` in the same body, which makes the
    residual structure explicit: a parametrisation pass multiplies `branch`
    by m_L^-alpha here (CompleteP, Depth-muP).

    ```mlir
    %h2 = tp.residual %h, %attn_out : !tp.tensor<[batch, seq, d_model], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$stream, TP_AnyTensor:$branch);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = "$stream `,` $branch attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

class TP_UnaryOp<string mnemonic, string what> : TP_NamedResultOp<mnemonic,
    mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = what;
  let arguments = (ins TP_AnyTensor:$input);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($result))";
}

def TP_GeluOp : TP_UnaryOp<"gelu", "GELU activation (tanh approximation as in GPT-2)">;
def TP_SiluOp : TP_UnaryOp<"silu", "SiLU (swish) activation, the gate of SwiGLU">;
def TP_ReluOp : TP_UnaryOp<"relu", "ReLU activation">;

def TP_LayerNormOp : TP_NamedResultOp<"layer_norm", "layer_norm", [Pure,
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<TP_ParamUseOpInterface>]> {
  let summary = "LayerNorm over the last dimension, with gain and optional bias";
  let description = [{
    Normalises over the last dim of `input`; `gain` (and `bias`) have that
    dim as their only dim. Without a gain the norm has no parameters.

    ```mlir
    %n = tp.layer_norm %x, %g, %b : (!tp.tensor<[batch, seq, d_model], f32>,
        !tp.tensor<[d_model], f32>, !tp.tensor<[d_model], f32>)
        -> !tp.tensor<[batch, seq, d_model], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$input, Optional<TP_AnyTensor>:$gain,
                       Optional<TP_AnyTensor>:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $input (`,` $gain^)? (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def TP_RMSNormOp : TP_NamedResultOp<"rms_norm", "rms_norm", [Pure,
    DeclareOpInterfaceMethods<TP_ParamUseOpInterface>,
    DeclareOpInterfaceMethods<TP_DimUserOpInterface>]> {
  let summary = "RMSNorm over the last dimension or over each head";
  let description = [{
    Normalises by the root mean square. When `gain` has the last dim of
    `input`, the whole feature vector is normalised (Llama's pre-norms). When
    the last dim of `input` is a `product` dim whose last factor is the
    gain's dim, each head is normalised separately: that is QK-norm, with one
    gain shared by all heads.

    ```mlir
    %qn = tp.rms_norm %q, %gq : (!tp.tensor<[batch, seq, d_attn], f32>,
        !tp.tensor<[d_head], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$input, Optional<TP_AnyTensor>:$gain,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $input (`,` $gain^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def TP_RoPEOp : TP_NamedResultOp<"rope", "rope", [Pure,
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<TP_DimUserOpInterface>]> {
  let summary = "Rotary position embedding applied per head";
  let description = [{
    Rotates pairs of features of every head by a position-dependent angle
    (base `theta`). The last dim of `input` is a `product` dim whose last
    factor is `@head_dim`, of even size; the second-to-last dim is the
    sequence.

    ```mlir
    %qr = tp.rope %q head_dim @d_head : !tp.tensor<[batch, seq, d_attn], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$input, FlatSymbolRefAttr:$head_dim,
                       DefaultValuedAttr<F64Attr, "10000.0">:$theta);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = "$input `head_dim` $head_dim attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def TP_AttentionOp : TP_NamedResultOp<"attention", "attention", [Pure,
    DeclareOpInterfaceMethods<TP_DimUserOpInterface>,
    TP_LogitScaleOpInterface]> {
  let summary = "Multi-head scaled dot-product attention";
  let description = [{
    Splits the last dims of `q`, `k`, `v` into heads of `@head_dim` features
    (each is a `product` dim whose last factor is `@head_dim`) and attends
    over the second-to-last (sequence) dim, causally when `causal` is set.
    `k` and `v` may have fewer heads than `q` (grouped-query attention) as
    long as the count divides. `scale` fixes the logit scale: 1/sqrt(d_head)
    (standard) or 1/d_head (muP, TP5 Def. 4.1); when absent the
    parametrisation decides. The result has the type of `q`.

    ```mlir
    %a = tp.attention %q, %k, %v head_dim @d_head causal :
        (!T, !T, !T) -> !T
    ```
  }];
  let arguments = (ins TP_AnyTensor:$query, TP_AnyTensor:$key,
                       TP_AnyTensor:$value, FlatSymbolRefAttr:$head_dim,
                       UnitAttr:$causal,
                       OptionalAttr<TP_AttentionScaleAttr>:$scale);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `head_dim` $head_dim (`causal` $causal^)?
    (`scale` `` $scale^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def TP_CrossEntropyOp : TP_NamedResultOp<"cross_entropy", "loss", [Pure]> {
  let summary = "Mean softmax cross-entropy of logits against integer targets";
  let description = [{
    `logits` has the dims of `targets` plus a trailing class dim; the result
    is a scalar.

    ```mlir
    %loss = tp.cross_entropy %logits, %targets : (!tp.tensor<[batch, seq, vocab], f32>,
        !tp.tensor<[batch, seq], i32>) -> !tp.tensor<[], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$logits, TP_AnyTensor:$targets);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $logits `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def TP_AttentionScaleOp : TP_NamedResultOp<"attention_scale", "logits", [Pure,
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<TP_DimUserOpInterface>,
    TP_LogitScaleOpInterface]> {
  let summary = "The logit scale of an attention written op by op";
  let description = [{
    Multiplies attention logits (q.k^T over heads of `@head_dim` features)
    by the scale the parametrisation chooses. A program that spells
    attention out op by op (an imported PyTorch model: `q @ k.transpose(-2,
    -1) * (1 / sqrt(d))`, a mask, a softmax) has this op where it multiplies
    the logits by a constant. `from` records which scale the source program
    applies there, recognised from its value: 1/sqrt(d_head) (standard) or
    1/d_head (muP). `scale`, like tp.attention's, is the scale to apply; when
    absent the parametrisation decides, and a trainer replaces the source's
    constant by it.

    ```mlir
    %s = tp.attention_scale %logits head_dim @d_head from inv_sqrt_head_dim
        : !tp.tensor<[batch, n_head, seq, seq], f32>
    ```
  }];
  let arguments = (ins TP_AnyTensor:$logits, FlatSymbolRefAttr:$head_dim,
                       TP_AttentionScaleAttr:$source_scale,
                       OptionalAttr<TP_AttentionScaleAttr>:$scale);
  let results = (outs TP_AnyTensor:$result);
  let assemblyFormat = [{
    $logits `head_dim` $head_dim `from` `` $source_scale
    (`scale` `` $scale^)? attr-dict `:` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def TP_GenericOp : TP_Op<"op", [
    DeclareOpInterfaceMethods<TP_DimUserOpInterface>]> {
  let summary = "Any other op of a source program, by its source name";
  let description = [{
    An op of an imported program that bears on no role and no multiplier (a
    view, a transpose, a split, a mask, a softmax, an activation, the loss)
    passes through as this one op, which names what it was in the source
    (`source`, e.g. the PyTorch function `masked_fill`) and lists the dims
    that flow through it: `flows` are dims every result has and some operand
    has. Its shapes are checked against `kind`:

    - `opaque` (the default): only `flows`;
    - `elementwise`: every operand broadcasts to every result (trailing dims
      aligned; an operand dim is the result's dim or has size 1 in both
      models), and the results have one shape;
    - `reshape`: one operand and one result with the same number of
      elements in the base and in the target model (a view, a transpose,
      a contiguous copy).

    A parameter used by a generic op has no role (the op says nothing about
    the use), which role derivation reports as an error.

    ```mlir
    %qkv:3 = tp.op "split" (%x) flows [@batch, @seq]
        : (!tp.tensor<[batch, seq, d_qkv], f32>)
        -> (!tp.tensor<[batch, seq, d], f32>, !tp.tensor<[batch, seq, d], f32>,
            !tp.tensor<[batch, seq, d], f32>)
    %m = tp.op "masked_fill" (%a, %mask) elementwise flows [@batch, @seq]
        : (!tp.tensor<[batch, seq], f32>, !tp.tensor<[batch, seq], i1>)
        -> !tp.tensor<[batch, seq], f32>
    ```
  }];
  let arguments = (ins StrAttr:$source, Variadic<TP_AnyTensor>:$inputs,
                       OptionalAttr<TP_GenericKindAttr>:$kind,
                       FlatSymbolRefArrayAttr:$flows);
  let results = (outs Variadic<TP_AnyTensor>:$results);
  let assemblyFormat = [{
    $source ` ` `(` $inputs `)` `` custom<GenericKind>($kind) `flows` $flows
    attr-dict `:`
    functional-type($inputs, $results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The shape contract (`opaque` when no kind is written).
    GenericKind getShapeKind() {
      return getKind().value_or(GenericKind::opaque);
    }
  }];
}

#endif // MUIR_DIALECT_TP_IR_TPOPS_TD
