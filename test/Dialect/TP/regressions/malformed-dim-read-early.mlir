// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Regression (fuzzing, generic form): the ops of a block are not verified
// in order, so tp.attention/tp.rope/tp.rms_norm may look up a dim whose own
// verifier has not run. Reading a product dim without factors, or a dim
// without a name, dereferenced a missing attribute. Op verifiers no longer
// read dims (tp.model's verifier runs the ops' dim checks after every op
// verifier has passed), so the dim reports itself.

tp.model @m {
  tp.dim @seq = fixed<16>
  tp.dim @d_head = fixed<4>
  %q = tp.input "q" : !tp.tensor<[seq, d_attn], f32>
  %a = tp.attention %q, %q, %q head_dim @d_head : (!tp.tensor<[seq, d_attn], f32>, !tp.tensor<[seq, d_attn], f32>, !tp.tensor<[seq, d_attn], f32>) -> !tp.tensor<[seq, d_attn], f32>
  %r = tp.rope %q head_dim @d_head : !tp.tensor<[seq, d_attn], f32>
  // expected-error @+1 {{'tp.dim' op 'product' dim needs at least two factors and no sizes of its own}}
  "tp.dim"() <{kind = #tp<dim_kind product>, sym_name = "d_attn"}> : () -> ()
  tp.output %a : !tp.tensor<[seq, d_attn], f32>
}

// -----

tp.model @m {
  tp.dim @seq = fixed<16>
  tp.dim @d_head = fixed<4>
  %q = tp.input "q" : !tp.tensor<[seq, d_attn], f32>
  %g = tp.input "g" : !tp.tensor<[d_head], f32>
  %n = tp.rms_norm %q, %g : (!tp.tensor<[seq, d_attn], f32>, !tp.tensor<[d_head], f32>) -> !tp.tensor<[seq, d_attn], f32>
  // expected-error @+1 {{'tp.dim' op 'product' dim needs at least two factors and no sizes of its own}}
  "tp.dim"() <{kind = #tp<dim_kind product>, factors = [], sym_name = "d_attn"}> : () -> ()
  tp.output %n : !tp.tensor<[seq, d_attn], f32>
}

// -----

tp.model @m {
  tp.dim @seq = fixed<16>
  tp.dim @d_head = fixed<4>
  %q = tp.input "q" : !tp.tensor<[seq, d_attn], f32>
  %r = tp.rope %q head_dim @d_head : !tp.tensor<[seq, d_attn], f32>
  // expected-error @+1 {{'tp.dim' op attribute 'factors' failed to satisfy constraint: flat symbol ref array attribute}}
  "tp.dim"() <{kind = #tp<dim_kind product>, factors = [1, "a"], sym_name = "d_attn"}> : () -> ()
  tp.output %r : !tp.tensor<[seq, d_attn], f32>
}

// -----

tp.model @m {
  tp.dim @seq = fixed<16>
  tp.dim @d_head = fixed<4>
  %q = tp.input "q" : !tp.tensor<[seq, d_attn], f32>
  %r = tp.rope %q head_dim @d_head : !tp.tensor<[seq, d_attn], f32>
  // expected-error @+1 {{'tp.dim' op requires attribute 'sym_name'}}
  "tp.dim"() <{kind = #tp<dim_kind fixed>, size = 4 : i64}> : () -> ()
  tp.output %r : !tp.tensor<[seq, d_attn], f32>
}

// -----

tp.model @m {
  tp.dim @seq = fixed<16>
  %q = tp.input "q" : !tp.tensor<[seq, d_attn], f32>
  %r = tp.rope %q head_dim @d_head : !tp.tensor<[seq, d_attn], f32>
  tp.dim @d_attn = product<@seq, @d_head>
  // expected-error @+1 {{'tp.dim' op attribute 'size' failed to satisfy constraint: 64-bit signless integer attribute}}
  "tp.dim"() <{kind = #tp<dim_kind fixed>, size = 36893488147419103232 : i128, sym_name = "d_head"}> : () -> ()
  tp.output %r : !tp.tensor<[seq, d_attn], f32>
}
