// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Regression (fuzzing): the size of a product dim could overflow 64 bits
// (here to 0), which reached tp.attention's divisibility check as a
// division by zero. Such a dim is now an error of its own.

tp.model @m {
  tp.dim @seq = fixed<16>
  tp.dim @n_head = width<base 4294967296, size 4294967296>
  tp.dim @d_head = fixed<4294967296>
  // expected-error @+1 {{'tp.dim' op dim 'd_attn' is too large: the product of its factors' sizes does not fit in 64 bits}}
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[seq, d_attn], f32>
  %a = tp.attention %q, %q, %q head_dim @d_head : (!tp.tensor<[seq, d_attn], f32>, !tp.tensor<[seq, d_attn], f32>, !tp.tensor<[seq, d_attn], f32>) -> !tp.tensor<[seq, d_attn], f32>
  tp.output %a : !tp.tensor<[seq, d_attn], f32>
}

// -----

// Only the target model overflows.
tp.model @m {
  tp.dim @a = width<base 2, size 9223372036854775807>
  tp.dim @b = fixed<2>
  // expected-error @+1 {{'tp.dim' op dim 'ab' is too large: the product of its factors' sizes does not fit in 64 bits}}
  tp.dim @ab = product<@a, @b>
  tp.output
}
