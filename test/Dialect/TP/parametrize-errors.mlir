// RUN: muir-opt %s -split-input-file -verify-diagnostics --tp-parametrize='scheme=mup optimizer=adamw'

// A tied readout shares the embedding's storage, but TP5 Table 3 gives the
// output weights init 1/fan_in^2 and LR 1/fan_in: one storage, two rules.
tp.model @tied_under_table3 {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %tok = tp.input "tokens" : !tp.tensor<[b], i32>
  // expected-note @+1 {{'wte' declared here}}
  %wte = tp.param "wte" normal : !tp.tensor<[v, d], f32>
  %x = tp.embedding %tok, %wte : (!tp.tensor<[b], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.param' op is used as unembedding but shares storage with 'wte', an embedding; under scheme 'mup' the two roles need different init, lr, weight decay or eps rules}}
  %head = tp.param "lm_head" tied "wte" : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

// An unused parameter has no use to derive its role from.
tp.model @unused {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{'tp.param' op is never used, so its role cannot be derived}}
  %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
  tp.output
}

// -----

// A parameter fed to an op that gives it no weight meaning (here the input
// operand of a linear) has no derivable role.
tp.model @unknown_use {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{'tp.param' op cannot derive the role of parameter 'p' from its use as operand #0 of 'tp.linear'}}
  %p = tp.param "p" normal : !tp.tensor<[d], f32>
  %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
  // expected-note @+1 {{used here}}
  %y = tp.linear %p, %w : (!tp.tensor<[d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[d], f32>
  tp.output %y : !tp.tensor<[d], f32>
}

// -----

// An op that does not describe its parameter uses (no ParamUseOpInterface)
// gives a parameter fed to it no role.
tp.model @use_by_op_without_interface {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{'tp.param' op cannot derive the role of parameter 'p' from its use as operand #0 of 'tp.gelu'}}
  %p = tp.param "p" normal : !tp.tensor<[d], f32>
  // expected-note @+1 {{used here}}
  %y = tp.gelu %p : !tp.tensor<[d], f32>
  tp.output %y : !tp.tensor<[d], f32>
}

// -----

// tp.add describes a [count, features] table added to the activations or a
// bias over the features: a rank-3 addend is neither.
tp.model @cube_added {
  tp.dim @b = fixed<2>
  tp.dim @s = fixed<4>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, s, d], f32>
  // expected-error @+1 {{'tp.param' op cannot derive the role of parameter 'shift' from its use as operand #1 of 'tp.add'}}
  %p = tp.param "shift" zeros : !tp.tensor<[b, s, d], f32>
  // expected-note @+1 {{used here}}
  %y = tp.add %x, %p : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
  tp.output %y : !tp.tensor<[b, s, d], f32>
}

// -----

// tp.mul describes a rank-0 multiplier or a gain over the features, not a
// matrix multiplied elementwise.
tp.model @matrix_multiplied {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.param' op cannot derive the role of parameter 'gate' from its use as operand #1 of 'tp.mul'}}
  %p = tp.param "gate" ones : !tp.tensor<[b, d], f32>
  // expected-note @+1 {{used here}}
  %y = tp.mul %x, %p : (!tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// One storage used as both the embedding table and the readout, without a
// tie: each use asks for its own rule.
tp.model @two_roles {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %tok = tp.input "tokens" : !tp.tensor<[b], i32>
  // expected-error @+1 {{'tp.param' op is used both as embedding and as unembedding; give each role its own parameter (or tie one to the other)}}
  %w = tp.param "w" normal : !tp.tensor<[v, d], f32>
  // expected-note @+1 {{used as embedding here}}
  %x = tp.embedding %tok, %w : (!tp.tensor<[b], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, d], f32>
  // expected-note @+1 {{used as unembedding here}}
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}
