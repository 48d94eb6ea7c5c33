// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Verifier errors of the tp ops: one case per diagnostic, each a minimal
// model that is valid apart from the one broken invariant. Cases are grouped
// by op, mostly in the order of lib/Dialect/TP/IR/TPOps.cpp. Parse errors of
// the custom formats are in parse-invalid.mlir, tp.tensor type errors in
// types-invalid.mlir.

//===----------------------------------------------------------------------===//
// tp.model: structure
//===----------------------------------------------------------------------===//

// A model's body is one non-empty block.
// expected-error @+1 {{'tp.model' op expects a non-empty block}}
tp.model @empty {}

// -----

// A model's body has exactly one block.
// expected-error @+1 {{'tp.model' op expects region #0 to have 0 or 1 blocks}}
tp.model @two_blocks {
  tp.output
^bb1:
  tp.output
}

// -----

// A model's body takes no arguments: inputs are tp.input ops.
// expected-error @+1 {{'tp.model' op region should have no arguments}}
tp.model @args {
^bb0(%a: !tp.tensor<[], f32>):
  tp.output
}

// -----

// A model's body ends in a terminator (tp.output).
tp.model @no_output {
  // expected-error @+1 {{block with no terminator}}
  tp.dim @b = fixed<4>
}

// -----

// Models are symbols of the enclosing module, so their names are unique.
// expected-note @+1 {{see existing symbol definition here}}
tp.model @m {
  tp.output
}
// expected-error @+1 {{redefinition of symbol named 'm'}}
tp.model @m {
  tp.output
}

// -----

//===----------------------------------------------------------------------===//
// tp.model: whole-program checks
//===----------------------------------------------------------------------===//

// Each dim name is declared once per model: the model is a symbol table
// and its dims are its symbols.
tp.model @m {
  // expected-note @+1 {{see existing symbol definition here}}
  tp.dim @d = width<base 8, size 64>
  // expected-error @+1 {{redefinition of symbol named 'd'}}
  tp.dim @d = fixed<64>
  tp.output
}

// -----

// The factors of a product dim are declared (here: nowhere).
tp.model @m {
  tp.dim @n_head = width<base 2, size 8>
  // expected-error @+1 {{'tp.dim' op factor 'd_head' of dim 'd_attn' must be declared before it}}
  tp.dim @d_attn = product<@n_head, @d_head>
  tp.output
}

// -----

// The factors of a product dim are declared before it (here: after).
tp.model @m {
  tp.dim @n_head = width<base 2, size 8>
  // expected-error @+1 {{'tp.dim' op factor 'd_head' of dim 'd_attn' must be declared before it}}
  tp.dim @d_attn = product<@n_head, @d_head>
  tp.dim @d_head = fixed<64>
  tp.output
}

// -----

// A product dim multiplies width and fixed dims, never a depth dim.
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  tp.dim @layers = depth<base 2, size 12>
  // expected-error @+1 {{'tp.dim' op factor 'layers' is a depth dim; a product may only multiply width and fixed dims}}
  tp.dim @p = product<@d, @layers>
  tp.output
}

// -----

// A depth dim counts repetitions; it is never a tensor dimension.
tp.model @m {
  tp.dim @layers = depth<base 2, size 12>
  // expected-error @+1 {{'tp.input' op uses depth dim 'layers' as a tensor dimension; depth is the repeat count of a tp.repeat}}
  %x = tp.input "x" : !tp.tensor<[layers], f32>
  tp.output
}

// -----

// A dim used in a tensor type is declared before the use.
tp.model @m {
  // expected-error @+1 {{'tp.input' op uses dim 'd' before it is declared}}
  %x = tp.input "x" : !tp.tensor<[d], f32>
  tp.dim @d = width<base 8, size 64>
  tp.output %x : !tp.tensor<[d], f32>
}

// -----

// A dim named by an attribute (the depth of a tp.repeat) is declared before
// the use.
tp.model @m {
  tp.dim @b = fixed<4>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op uses dim 'layers' before it is declared}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  ^bb0(%h: !tp.tensor<[b], f32>):
    tp.yield %h : !tp.tensor<[b], f32>
  }
  tp.dim @layers = depth<base 2, size 12>
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// Every dim used in a tensor type is declared in the model.
tp.model @m {
  // expected-error @+1 {{'tp.input' op uses undeclared dim 'd'}}
  %x = tp.input "x" : !tp.tensor<[d], f32>
  tp.output %x : !tp.tensor<[d], f32>
}

// -----

// Every dim named by an attribute (a head dim) is declared in the model.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %x = tp.input "x" : !tp.tensor<[b, s, d_attn], f32>
  // expected-error @+1 {{'tp.rope' op uses undeclared dim 'd_hed'}}
  %y = tp.rope %x head_dim @d_hed : !tp.tensor<[b, s, d_attn], f32>
  tp.output %y : !tp.tensor<[b, s, d_attn], f32>
}

// -----

// Input names are unique within a model.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-note @+1 {{first declared here}}
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.input' op redeclares input 'x'}}
  %y = tp.input "x" : !tp.tensor<[b], f32>
  tp.output %x, %y : !tp.tensor<[b], f32>, !tp.tensor<[b], f32>
}

// -----

// Parameter names (module paths) are unique within a model.
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  // expected-note @+1 {{first declared here}}
  %w = tp.param "fc.w" normal : !tp.tensor<[d, d], f32>
  // expected-error @+1 {{'tp.param' op redeclares parameter 'fc.w'}}
  %v = tp.param "fc.w" normal : !tp.tensor<[d, d], f32>
  tp.output
}

// -----

// A tie names a parameter declared earlier.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  // expected-error @+1 {{'tp.param' op is tied to 'wte', which is not a parameter declared before it}}
  %head = tp.param "lm_head" tied "wte" : !tp.tensor<[vocab, d], f32>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  tp.output
}

// -----

// A parameter cannot be tied to itself.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  // expected-error @+1 {{'tp.param' op is tied to itself}}
  %wte = tp.param "wte" tied "wte" : !tp.tensor<[vocab, d], f32>
  tp.output
}

// -----

// A tie names a model-level parameter, not one repeated per block.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "blocks.fc" normal : !tp.tensor<[d, d], f32>
    tp.yield %h : !tp.tensor<[b, d], f32>
  }
  // expected-error @+1 {{'tp.param' op is tied to 'blocks.fc', which is repeated per block; tie to a model-level parameter}}
  %head = tp.param "head" tied "blocks.fc" : !tp.tensor<[d, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Ties do not chain: a tie names a parameter that has its own init.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  %head = tp.param "lm_head" tied "wte" : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{'tp.param' op is tied to 'lm_head', which is itself tied to 'wte'; tie to 'wte' directly}}
  %aux = tp.param "aux_head" tied "lm_head" : !tp.tensor<[vocab, d], f32>
  tp.output
}

// -----

// A tied parameter has the element type of the parameter it is tied to.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{'tp.param' op has element type 'bf16' but 'wte' has 'f32'}}
  %head = tp.param "lm_head" tied "wte" : !tp.tensor<[vocab, d], bf16>
  tp.output
}

// -----

// A tied parameter has the same or the transposed shape.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{'tp.param' op has shape [vocab] but 'wte' has shape [vocab, d]; a tied parameter has the same or the transposed shape}}
  %head = tp.param "lm_head" tied "wte" : !tp.tensor<[vocab], f32>
  tp.output
}

// -----

//===----------------------------------------------------------------------===//
// tp.dim
//===----------------------------------------------------------------------===//

// Dims are declared directly in a tp.model.
// expected-error @+1 {{'tp.dim' op expects parent op 'tp.model'}}
tp.dim @d = width<base 8, size 64>

// -----

// A width dim has a base size and a size, and no factors.
tp.model @m {
  tp.dim @a = fixed<2>
  tp.dim @b = fixed<4>
  // expected-error @+1 {{'tp.dim' op 'width' dim needs a base_size and a size, and no factors}}
  tp.dim @d = width<base 8, size 64> {factors = [@a, @b]}
  tp.output
}

// -----

// A depth dim has a base size and a size (the generic form can drop one).
tp.model @m {
  // expected-error @+1 {{'tp.dim' op 'depth' dim needs a base_size and a size, and no factors}}
  "tp.dim"() <{kind = #tp<dim_kind depth>, sym_name = "layers", size = 12 : i64}> : () -> ()
  tp.output
}

// -----

// Width and depth dims have positive sizes in both models.
tp.model @m {
  // expected-error @+1 {{'tp.dim' op dim 'd' must have positive sizes, got base 0 and size 64}}
  tp.dim @d = width<base 0, size 64>
  tp.output
}

// -----

// A fixed dim has one size and no base size.
tp.model @m {
  // expected-error @+1 {{'tp.dim' op 'fixed' dim needs a size and no base_size or factors}}
  tp.dim @vocab = fixed<256> {base_size = 128 : i64}
  tp.output
}

// -----

// A fixed dim has a positive size.
tp.model @m {
  // expected-error @+1 {{'tp.dim' op dim 'vocab' must have a positive size, got 0}}
  tp.dim @vocab = fixed<0>
  tp.output
}

// -----

// A product dim has at least two factors.
tp.model @m {
  tp.dim @d_head = fixed<64>
  // expected-error @+1 {{'tp.dim' op 'product' dim needs at least two factors and no sizes of its own}}
  tp.dim @d_attn = product<@d_head>
  tp.output
}

// -----

//===----------------------------------------------------------------------===//
// tp.input, tp.output
//===----------------------------------------------------------------------===//

// Inputs are declared directly in a tp.model.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  ^bb0(%h: !tp.tensor<[b], f32>):
    // expected-error @+1 {{'tp.input' op expects parent op 'tp.model'}}
    %z = tp.input "z" : !tp.tensor<[b], f32>
    tp.yield %h : !tp.tensor<[b], f32>
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// Values of the tp dialect are !tp.tensor (here the result of tp.input).
tp.model @m {
  // expected-error @+1 {{'tp.input' op result #0 must be tp tensor, but got 'tensor<4xf32>'}}
  %x = tp.input "x" : tensor<4xf32>
  tp.output
}

// -----

// Values of the tp dialect are !tp.tensor (here an operand of tp.output).
tp.model @m {
  %c = arith.constant 1.0 : f32
  // expected-error @+1 {{'tp.output' op operand #0 must be variadic of tp tensor, but got 'f32'}}
  tp.output %c : f32
}

// -----

// tp.output ends a model, not a repeated block (which ends in tp.yield).
tp.model @m {
  tp.dim @layers = depth<base 2, size 12>
  tp.repeat @layers () : () -> () {
    // expected-error @+1 {{'tp.output' op expects parent op 'tp.model'}}
    tp.output
  }
  tp.output
}

// -----

//===----------------------------------------------------------------------===//
// tp.param
//===----------------------------------------------------------------------===//

// Parameters are declared in a tp.model or a tp.repeat body.
// expected-error @+1 {{'tp.param' op expects parent op to be one of 'tp.model, tp.repeat'}}
%w = tp.param "w" normal : !tp.tensor<[], f32>

// -----

// Parameters are floating point.
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  // expected-error @+1 {{'tp.param' op must have a float element type, got 'i32'}}
  %w = tp.param "w" normal : !tp.tensor<[d], i32>
  tp.output
}

// -----

// A tied parameter has no init distribution of its own.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{'tp.param' op is tied to 'wte' and cannot have an init distribution of its own}}
  %head = tp.param "lm_head" tied "wte" {init = #tp<init zeros>} : !tp.tensor<[vocab, d], f32>
  tp.output
}

// -----

// A parameter has an init distribution or a tie (the generic form can omit
// both).
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  // expected-error @+1 {{'tp.param' op needs an init distribution (normal, trunc_normal, uniform, zeros, ones) or a tie}}
  %w = "tp.param"() <{name = "w"}> : () -> !tp.tensor<[d], f32>
  tp.output
}

// -----

// A tied parameter is declared at model level.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @layers = depth<base 2, size 12>
  %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    // expected-error @+1 {{'tp.param' op is tied, so it must be declared at model level, not in a repeated block}}
    %v = tp.param "blocks.w" tied "w" : !tp.tensor<[d, d], f32>
    tp.yield %h : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A parameter has a non-empty module path.
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  // expected-error @+1 {{'tp.param' op needs a non-empty module path}}
  %w = tp.param "" normal : !tp.tensor<[d], f32>
  tp.output
}

// -----

//===----------------------------------------------------------------------===//
// tp.repeat, tp.yield
//===----------------------------------------------------------------------===//

// A repeat runs over a depth dim.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.repeat' op repeats over 'd', which is a width dim; it needs a depth dim}}
  %y = tp.repeat @d (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    tp.yield %h : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A repeat's body is one non-empty block.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op expects a non-empty block}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// The body has one argument per carried value.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op body has 0 arguments but carries 1 values}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
    tp.yield %x : !tp.tensor<[b], f32>
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// The repeat has one result per carried value.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op has 0 results but carries 1 values}}
  tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> () {
  ^bb0(%h: !tp.tensor<[b], f32>):
    tp.yield %h : !tp.tensor<[b], f32>
  }
  tp.output %x : !tp.tensor<[b], f32>
}

// -----

// The body ends in tp.yield (here another dialect's terminator).
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op body must end in tp.yield}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  ^bb0(%h: !tp.tensor<[b], f32>):
    llvm.unreachable
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// tp.yield ends a repeated block, not a model (which ends in tp.output).
tp.model @m {
  // expected-error @+1 {{'tp.yield' op expects parent op 'tp.repeat'}}
  tp.yield
}

// -----

// The body yields one value per carried value.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op body yields 2 values but carries 1}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  ^bb0(%h: !tp.tensor<[b], f32>):
    tp.yield %h, %h : !tp.tensor<[b], f32>, !tp.tensor<[b], f32>
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// Each body argument has the type of its carried value.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op body argument #0 has type '!tp.tensor<[b], bf16>' but the carried value has type '!tp.tensor<[b], f32>'}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  ^bb0(%h: !tp.tensor<[b], bf16>):
    tp.yield %x : !tp.tensor<[b], f32>
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// Each result has the type of its carried value.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.repeat' op result #0 has type '!tp.tensor<[b], bf16>' but the carried value has type '!tp.tensor<[b], f32>'}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], bf16> {
  ^bb0(%h: !tp.tensor<[b], f32>):
    tp.yield %h : !tp.tensor<[b], f32>
  }
  tp.output %y : !tp.tensor<[b], bf16>
}

// -----

// The body yields each carried value with its type.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.repeat' op body yields '!tp.tensor<[d, d], f32>' as value #0 but the carried value has type '!tp.tensor<[b, d], f32>'}}
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "blocks.w" normal : !tp.tensor<[d, d], f32>
    tp.yield %w : !tp.tensor<[d, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

//===----------------------------------------------------------------------===//
// Shared compute checks (the first op that uses each helper)
//===----------------------------------------------------------------------===//

// Operands of a compute op share one element type.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], bf16>
  %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
  // expected-error @+1 {{'tp.linear' op mixes element types 'bf16' and 'f32'}}
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], bf16>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], bf16>
  tp.output %y : !tp.tensor<[b, d], bf16>
}

// -----

// A compute op's result has the dims its operands imply.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @f = width<base 32, size 256>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "w" normal : !tp.tensor<[f, d], f32>
  // expected-error @+1 {{'tp.linear' op result must have dims [b, f], got [b, d]}}
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[f, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.linear
//===----------------------------------------------------------------------===//

// A linear's weight is a matrix [out, in].
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "w" normal : !tp.tensor<[d], f32>
  // expected-error @+1 {{'tp.linear' op weight must have rank 2 ([out, in]), got [d]}}
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A linear's input has a feature dim.
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[], f32>
  %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
  // expected-error @+1 {{'tp.linear' op input must have at least one dim}}
  %y = tp.linear %x, %w : (!tp.tensor<[], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[d], f32>
  tp.output %y : !tp.tensor<[d], f32>
}

// -----

// A linear's input ends in the weight's fan-in dim (PyTorch layout).
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @f = width<base 32, size 256>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "w" normal : !tp.tensor<[d, f], f32>
  // expected-error @+1 {{'tp.linear' op input's last dim 'd' does not match the weight's fan-in dim 'f'}}
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, f], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A linear's bias is a vector over the weight's fan-out dim.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @f = width<base 32, size 256>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "w" normal : !tp.tensor<[f, d], f32>
  %bias = tp.param "bias" zeros : !tp.tensor<[d], f32>
  // expected-error @+1 {{'tp.linear' op bias must have dims [f], got [d]}}
  %y = tp.linear %x, %w, %bias : (!tp.tensor<[b, d], f32>, !tp.tensor<[f, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, f], f32>
  tp.output %y : !tp.tensor<[b, f], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.embedding
//===----------------------------------------------------------------------===//

// Embedding indices are integers.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %ids = tp.input "ids" : !tp.tensor<[b], f32>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{'tp.embedding' op indices must have an integer element type, got 'f32'}}
  %e = tp.embedding %ids, %wte : (!tp.tensor<[b], f32>, !tp.tensor<[vocab, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %e : !tp.tensor<[b, d], f32>
}

// -----

// An embedding table is a matrix [count, features].
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @vocab = fixed<256>
  %ids = tp.input "ids" : !tp.tensor<[b], i32>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab], f32>
  // expected-error @+1 {{'tp.embedding' op table must have rank 2 ([count, features]), got [vocab]}}
  %e = tp.embedding %ids, %wte : (!tp.tensor<[b], i32>, !tp.tensor<[vocab], f32>) -> !tp.tensor<[b], f32>
  tp.output %e : !tp.tensor<[b], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.add, tp.mul
//===----------------------------------------------------------------------===//

// Broadcasting aligns trailing dims: the shorter operand is a suffix.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @s = fixed<16>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, s, d], f32>
  %pos = tp.param "wpe" normal : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.add' op cannot broadcast [b, s, d] with [b, d]; the shorter operand's dims must be a suffix of the other's}}
  %y = tp.add %x, %pos : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[b, d], f32>) -> !tp.tensor<[b, s, d], f32>
  tp.output %y : !tp.tensor<[b, s, d], f32>
}

// -----

// tp.mul broadcasts like tp.add.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @f = width<base 32, size 256>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %g = tp.input "g" : !tp.tensor<[b, f], f32>
  // expected-error @+1 {{'tp.mul' op cannot broadcast [b, d] with [b, f]; the shorter operand's dims must be a suffix of the other's}}
  %y = tp.mul %x, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[b, f], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.residual, unary ops
//===----------------------------------------------------------------------===//

// A residual connection lives directly in a tp.repeat body.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %f = tp.gelu %x : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.residual' op must be directly inside a tp.repeat body}}
  %r = tp.residual %x, %f : !tp.tensor<[b, d], f32>
  tp.output %r : !tp.tensor<[b, d], f32>
}

// -----

// The stream is the body's argument or an earlier residual's result.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %f = tp.gelu %h : !tp.tensor<[b, d], f32>
    // expected-error @+1 {{'tp.residual' op stream operand must be the block's argument or the result of an earlier tp.residual in the same block}}
    %r = tp.residual %f, %h : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A residual adds a branch computed from the stream, not the stream itself.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @layers = depth<base 2, size 12>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    // expected-error @+1 {{'tp.residual' op branch is the stream itself; a residual adds a branch computed from the stream}}
    %r = tp.residual %h, %h : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Unary ops keep the type (the generic form can change it).
tp.model @m {
  tp.dim @b = fixed<4>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.gelu' op requires the same type for all operands and results}}
  %y = "tp.gelu"(%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], bf16>
  tp.output %y : !tp.tensor<[b], bf16>
}

// -----

//===----------------------------------------------------------------------===//
// tp.layer_norm
//===----------------------------------------------------------------------===//

// A norm's input has a feature dim to normalise over.
tp.model @m {
  %x = tp.input "x" : !tp.tensor<[], f32>
  // expected-error @+1 {{'tp.layer_norm' op input must have at least one dim}}
  %y = tp.layer_norm %x : (!tp.tensor<[], f32>) -> !tp.tensor<[], f32>
  tp.output %y : !tp.tensor<[], f32>
}

// -----

// A bias needs a gain (the custom form reads a lone vector as the gain; the
// generic form can pass only a bias).
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %bias = tp.param "ln.bias" zeros : !tp.tensor<[d], f32>
  // expected-error @+1 {{'tp.layer_norm' op has a bias but no gain}}
  %y = "tp.layer_norm"(%x, %bias) <{operandSegmentSizes = array<i32: 1, 0, 1>}> : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// The gain is a vector over the normalised dim.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %g = tp.param "ln.gain" ones : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.layer_norm' op gain must have dims [d], got [b]}}
  %y = tp.layer_norm %x, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[b], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// The bias is a vector over the normalised dim.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %g = tp.param "ln.gain" ones : !tp.tensor<[d], f32>
  %bias = tp.param "ln.bias" zeros : !tp.tensor<[d, d], f32>
  // expected-error @+1 {{'tp.layer_norm' op bias must have dims [d], got [d, d]}}
  %y = tp.layer_norm %x, %g, %bias : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A layer norm's result has the input's type.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.layer_norm' op result type '!tp.tensor<[b, d], bf16>' must equal the input type '!tp.tensor<[b, d], f32>'}}
  %y = tp.layer_norm %x : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], bf16>
  tp.output %y : !tp.tensor<[b, d], bf16>
}

// -----

//===----------------------------------------------------------------------===//
// tp.rms_norm
//===----------------------------------------------------------------------===//

// An RMS norm's input has a feature dim to normalise over.
tp.model @m {
  %x = tp.input "x" : !tp.tensor<[], f32>
  // expected-error @+1 {{'tp.rms_norm' op input must have at least one dim}}
  %y = tp.rms_norm %x : (!tp.tensor<[], f32>) -> !tp.tensor<[], f32>
  tp.output %y : !tp.tensor<[], f32>
}

// -----

// An RMS norm's result has the input's type.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.rms_norm' op result type '!tp.tensor<[d, b], f32>' must equal the input type '!tp.tensor<[b, d], f32>'}}
  %y = tp.rms_norm %x : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[d, b], f32>
  tp.output %y : !tp.tensor<[d, b], f32>
}

// -----

// An RMS norm's gain is a vector.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %g = tp.param "norm.gain" ones : !tp.tensor<[d, d], f32>
  // expected-error @+1 {{'tp.rms_norm' op gain must have rank 1, got [d, d]}}
  %y = tp.rms_norm %x, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// The gain is over the last dim, or over the head dim of a per-head norm.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[b, d_attn], f32>
  %g = tp.param "q_norm.gain" ones : !tp.tensor<[n_head], f32>
  // expected-error @+1 {{'tp.rms_norm' op gain dim 'n_head' must be the input's last dim 'd_attn' or, for a per-head norm, that product dim's last factor}}
  %y = tp.rms_norm %q, %g : (!tp.tensor<[b, d_attn], f32>, !tp.tensor<[n_head], f32>) -> !tp.tensor<[b, d_attn], f32>
  tp.output %y : !tp.tensor<[b, d_attn], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.rope
//===----------------------------------------------------------------------===//

// RoPE needs a sequence dim and a feature dim.
tp.model @m {
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %x = tp.input "x" : !tp.tensor<[d_attn], f32>
  // expected-error @+1 {{'tp.rope' op input must have a sequence dim and a feature dim}}
  %y = tp.rope %x head_dim @d_head : !tp.tensor<[d_attn], f32>
  tp.output %y : !tp.tensor<[d_attn], f32>
}

// -----

// RoPE's feature dim splits into heads of the head dim.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @d = width<base 8, size 64>
  tp.dim @d_head = fixed<64>
  %x = tp.input "x" : !tp.tensor<[s, d], f32>
  // expected-error @+1 {{'tp.rope' op input's last dim 'd' must be a product dim whose last factor is the head dim 'd_head'}}
  %y = tp.rope %x head_dim @d_head : !tp.tensor<[s, d], f32>
  tp.output %y : !tp.tensor<[s, d], f32>
}

// -----

// RoPE rotates pairs of features, so the head dim is even.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<63>
  tp.dim @d_attn = product<@n_head, @d_head>
  %x = tp.input "x" : !tp.tensor<[s, d_attn], f32>
  // expected-error @+1 {{'tp.rope' op head dim 'd_head' must have an even size for rotary pairs, got 63}}
  %y = tp.rope %x head_dim @d_head : !tp.tensor<[s, d_attn], f32>
  tp.output %y : !tp.tensor<[s, d_attn], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.attention
//===----------------------------------------------------------------------===//

// Attention needs a sequence dim and a feature dim.
tp.model @m {
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[d_attn], f32>
  // expected-error @+1 {{'tp.attention' op query must have a sequence dim and a feature dim}}
  %a = tp.attention %q, %q, %q head_dim @d_head : (!tp.tensor<[d_attn], f32>, !tp.tensor<[d_attn], f32>, !tp.tensor<[d_attn], f32>) -> !tp.tensor<[d_attn], f32>
  tp.output %a : !tp.tensor<[d_attn], f32>
}

// -----

// Keys and values have one type.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  %v = tp.input "v" : !tp.tensor<[s, d_attn], bf16>
  // expected-error @+1 {{'tp.attention' op key and value must have the same type, got '!tp.tensor<[s, d_attn], f32>' and '!tp.tensor<[s, d_attn], bf16>'}}
  %a = tp.attention %q, %q, %v head_dim @d_head : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], bf16>) -> !tp.tensor<[s, d_attn], f32>
  tp.output %a : !tp.tensor<[s, d_attn], f32>
}

// -----

// Queries and keys agree on every dim but the feature dim.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[b, s, d_attn], f32>
  %k = tp.input "k" : !tp.tensor<[s, d_attn], f32>
  // expected-error @+1 {{'tp.attention' op query [b, s, d_attn] and key [s, d_attn] must agree on all but the last dim}}
  %a = tp.attention %q, %k, %k head_dim @d_head : (!tp.tensor<[b, s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[b, s, d_attn], f32>
  tp.output %a : !tp.tensor<[b, s, d_attn], f32>
}

// -----

// The query's feature dim splits into heads of the head dim.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @d = width<base 128, size 512>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d], f32>
  %k = tp.input "k" : !tp.tensor<[s, d_attn], f32>
  // expected-error @+1 {{'tp.attention' op query's last dim 'd' must be a product dim whose last factor is the head dim 'd_head'}}
  %a = tp.attention %q, %k, %k head_dim @d_head : (!tp.tensor<[s, d], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[s, d], f32>
  tp.output %a : !tp.tensor<[s, d], f32>
}

// -----

// The key's feature dim splits into heads of the head dim.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @d = width<base 128, size 512>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  %k = tp.input "k" : !tp.tensor<[s, d], f32>
  // expected-error @+1 {{'tp.attention' op key's last dim 'd' must be a product dim whose last factor is the head dim 'd_head'}}
  %a = tp.attention %q, %k, %k head_dim @d_head : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d], f32>, !tp.tensor<[s, d], f32>) -> !tp.tensor<[s, d_attn], f32>
  tp.output %a : !tp.tensor<[s, d_attn], f32>
}

// -----

// Attention's result has the query's type.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  // expected-error @+1 {{'tp.attention' op result type '!tp.tensor<[s, d_attn], bf16>' must equal the query type '!tp.tensor<[s, d_attn], f32>'}}
  %a = tp.attention %q, %q, %q head_dim @d_head : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[s, d_attn], bf16>
  tp.output %a : !tp.tensor<[s, d_attn], bf16>
}

// -----

// Grouped-query attention: query heads are a multiple of key heads in the
// base model.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 3, size 12>
  tp.dim @n_kv_head = width<base 2, size 4>
  tp.dim @d_head = fixed<64>
  tp.dim @d_q = product<@n_head, @d_head>
  tp.dim @d_kv = product<@n_kv_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_q], f32>
  %k = tp.input "k" : !tp.tensor<[s, d_kv], f32>
  // expected-error @+1 {{'tp.attention' op query width 192 is not a multiple of key width 128 in the base model; query heads must be a multiple of key heads}}
  %a = tp.attention %q, %k, %k head_dim @d_head causal : (!tp.tensor<[s, d_q], f32>, !tp.tensor<[s, d_kv], f32>, !tp.tensor<[s, d_kv], f32>) -> !tp.tensor<[s, d_q], f32>
  tp.output %a : !tp.tensor<[s, d_q], f32>
}

// -----

// Grouped-query attention: query heads are a multiple of key heads in the
// target model too.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 4, size 12>
  tp.dim @n_kv_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_q = product<@n_head, @d_head>
  tp.dim @d_kv = product<@n_kv_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_q], f32>
  %k = tp.input "k" : !tp.tensor<[s, d_kv], f32>
  // expected-error @+1 {{'tp.attention' op query width 768 is not a multiple of key width 512 in the target model; query heads must be a multiple of key heads}}
  %a = tp.attention %q, %k, %k head_dim @d_head causal : (!tp.tensor<[s, d_q], f32>, !tp.tensor<[s, d_kv], f32>, !tp.tensor<[s, d_kv], f32>) -> !tp.tensor<[s, d_q], f32>
  tp.output %a : !tp.tensor<[s, d_q], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.cross_entropy
//===----------------------------------------------------------------------===//

// Targets are integer class indices.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @vocab = fixed<256>
  %logits = tp.input "logits" : !tp.tensor<[b, vocab], f32>
  %t = tp.input "targets" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.cross_entropy' op targets must have an integer element type, got 'f32'}}
  %loss = tp.cross_entropy %logits, %t : (!tp.tensor<[b, vocab], f32>, !tp.tensor<[b], f32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}

// -----

// Logits are the targets' dims plus a trailing class dim.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @vocab = fixed<256>
  %logits = tp.input "logits" : !tp.tensor<[vocab, b], f32>
  %t = tp.input "targets" : !tp.tensor<[b], i32>
  // expected-error @+1 {{'tp.cross_entropy' op logits [vocab, b] must be the targets' dims [b] plus a class dim}}
  %loss = tp.cross_entropy %logits, %t : (!tp.tensor<[vocab, b], f32>, !tp.tensor<[b], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}

// -----

// The loss is a scalar of the logits' element type.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @vocab = fixed<256>
  %logits = tp.input "logits" : !tp.tensor<[b, vocab], f32>
  %t = tp.input "targets" : !tp.tensor<[b], i32>
  // expected-error @+1 {{'tp.cross_entropy' op result must be a scalar of the logits' element type, !tp.tensor<[], f32>}}
  %loss = tp.cross_entropy %logits, %t : (!tp.tensor<[b, vocab], f32>, !tp.tensor<[b], i32>) -> !tp.tensor<[b], f32>
  tp.output %loss : !tp.tensor<[b], f32>
}

// -----

// Depth blocks are not nested: each parameter's copy count is one depth.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 4>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    // expected-error @+1 {{'tp.repeat' op expects parent op 'tp.model'}}
    %z = tp.repeat @L (%h) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
    ^bb0(%g: !tp.tensor<[b, d], f32>):
      tp.yield %g : !tp.tensor<[b, d], f32>
    }
    tp.yield %z : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A model ends in tp.output, which names what it computes.
// expected-error @+1 {{'tp.model' op body must end in tp.output}}
tp.model @m {
  tp.dim @b = fixed<4>
  llvm.unreachable
}

// -----

// Only the ops' own symbol attributes name dims; a discardable attribute
// holding a symbol is left alone (and an undeclared inherent one is not).
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" {note = @elsewhere} : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.rope' op uses undeclared dim 'd_head'}}
  %r = tp.rope %x head_dim @d_head : !tp.tensor<[b, d], f32>
  tp.output %r : !tp.tensor<[b, d], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.attention_scale
//===----------------------------------------------------------------------===//

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @hd = fixed<8>
  %l = tp.input "l" : !tp.tensor<[s], f32>
  // expected-error @+1 {{'tp.attention_scale' op logits must have a query dim and a key dim}}
  %a = tp.attention_scale %l head_dim @hd from inv_sqrt_head_dim : !tp.tensor<[s], f32>
  tp.output %a : !tp.tensor<[s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @L = depth<base 2, size 4>
  %l = tp.input "l" : !tp.tensor<[s, s], f32>
  // expected-error @+1 {{'tp.attention_scale' op head dim 'L' is a depth dim; a head dim is a tensor dim}}
  %a = tp.attention_scale %l head_dim @L from inv_sqrt_head_dim : !tp.tensor<[s, s], f32>
  tp.output %a : !tp.tensor<[s, s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  %l = tp.input "l" : !tp.tensor<[s, s], f32>
  // expected-error @+1 {{'tp.attention_scale' op uses undeclared dim 'hd'}}
  %a = tp.attention_scale %l head_dim @hd from inv_head_dim : !tp.tensor<[s, s], f32>
  tp.output %a : !tp.tensor<[s, s], f32>
}

// -----

//===----------------------------------------------------------------------===//
// tp.op
//===----------------------------------------------------------------------===//

tp.model @m {
  tp.dim @s = fixed<4>
  %x = tp.input "x" : !tp.tensor<[s], f32>
  // expected-error @+1 {{'tp.op' op 'print' must have a result}}
  tp.op "print" (%x) flows [] : (!tp.tensor<[s], f32>) -> ()
  tp.output %x : !tp.tensor<[s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  %x = tp.input "x" : !tp.tensor<[s], f32>
  // expected-error @+1 {{'tp.op' op 'exp' lists dim 's' twice in flows}}
  %y = tp.op "exp" (%x) flows [@s, @s] : (!tp.tensor<[s], f32>) -> !tp.tensor<[s], f32>
  tp.output %y : !tp.tensor<[s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @t = fixed<8>
  %x = tp.input "x" : !tp.tensor<[s], f32>
  // expected-error @+1 {{'tp.op' op 'expand': dim 't' flows through the op but no operand has it}}
  %y = tp.op "expand" (%x) flows [@t] : (!tp.tensor<[s], f32>) -> !tp.tensor<[t, s], f32>
  tp.output %y : !tp.tensor<[t, s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @t = fixed<8>
  %x = tp.input "x" : !tp.tensor<[s, t], f32>
  // expected-error @+1 {{'tp.op' op 'split': dim 't' flows through the op but result #1 does not have it}}
  %y:2 = tp.op "split" (%x) flows [@t] : (!tp.tensor<[s, t], f32>) -> (!tp.tensor<[s, t], f32>, !tp.tensor<[s], f32>)
  tp.output %y#0 : !tp.tensor<[s, t], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  // expected-error @+1 {{'tp.op' op 'ones' is elementwise but has no operand}}
  %y = tp.op "ones" () elementwise flows [] : () -> !tp.tensor<[s], f32>
  tp.output %y : !tp.tensor<[s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @t = fixed<8>
  %x = tp.input "x" : !tp.tensor<[s], f32>
  // expected-error @+1 {{'tp.op' op 'frexp' is elementwise but result #1 has dims [t] and result #0 [s]}}
  %y:2 = tp.op "frexp" (%x) elementwise flows [] : (!tp.tensor<[s], f32>) -> (!tp.tensor<[s], f32>, !tp.tensor<[t], f32>)
  tp.output %y#0 : !tp.tensor<[s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @t = fixed<8>
  %x = tp.input "x" : !tp.tensor<[s, t], f32>
  // expected-error @+1 {{'tp.op' op 'add' is elementwise but operand #0 [s, t] does not broadcast to the result [t, s] (trailing dims must match or have size 1)}}
  %y = tp.op "add" (%x, %x) elementwise flows [] : (!tp.tensor<[s, t], f32>, !tp.tensor<[s, t], f32>) -> !tp.tensor<[t, s], f32>
  tp.output %y : !tp.tensor<[t, s], f32>
}

// -----

// An operand of higher rank than the result cannot broadcast to it.
tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @one = fixed<1>
  %x = tp.input "x" : !tp.tensor<[one, s], f32>
  // expected-error @+1 {{'tp.op' op 'relu' is elementwise but operand #0 [one, s] does not broadcast to the result [s]}}
  %y = tp.op "relu" (%x) elementwise flows [@s] : (!tp.tensor<[one, s], f32>) -> !tp.tensor<[s], f32>
  tp.output %y : !tp.tensor<[s], f32>
}

// -----

// A dim of size 1 in one model only does not broadcast.
tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @w = width<base 1, size 4>
  %x = tp.input "x" : !tp.tensor<[w], f32>
  // expected-error @+1 {{'tp.op' op 'neg' is elementwise but operand #0 [w] does not broadcast to the result [s]}}
  %y = tp.op "neg" (%x) elementwise flows [] : (!tp.tensor<[w], f32>) -> !tp.tensor<[s], f32>
  tp.output %y : !tp.tensor<[s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  %x = tp.input "x" : !tp.tensor<[s], f32>
  // expected-error @+1 {{'tp.op' op 'view' is a reshape but has 2 operands and 1 results; a reshape has one of each}}
  %y = tp.op "view" (%x, %x) reshape flows [@s] : (!tp.tensor<[s], f32>, !tp.tensor<[s], f32>) -> !tp.tensor<[s], f32>
  tp.output %y : !tp.tensor<[s], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @d = width<base 8, size 16>
  tp.dim @h = width<base 2, size 4>
  tp.dim @hd = fixed<8>
  %x = tp.input "x" : !tp.tensor<[s, d], f32>
  // expected-error @+1 {{'tp.op' op 'view' is a reshape but its operand [s, d] has 32 elements and its result [s, h, hd] 64 in the base model}}
  %y = tp.op "view" (%x) reshape flows [@s] : (!tp.tensor<[s, d], f32>) -> !tp.tensor<[s, h, hd], f32>
  tp.output %y : !tp.tensor<[s, h, hd], f32>
}

// -----

tp.model @m {
  tp.dim @s = fixed<4>
  tp.dim @d = width<base 8, size 32>
  tp.dim @h = width<base 2, size 8>
  tp.dim @hd = fixed<4>
  tp.dim @wrong = width<base 2, size 4>
  %x = tp.input "x" : !tp.tensor<[s, d], f32>
  // expected-error @+1 {{'tp.op' op 'view' is a reshape but its operand [s, d] has 128 elements and its result [s, wrong, hd] 64 in the target model}}
  %y = tp.op "view" (%x) reshape flows [@s] : (!tp.tensor<[s, d], f32>) -> !tp.tensor<[s, wrong, hd], f32>
  tp.output %y : !tp.tensor<[s, wrong, hd], f32>
}
