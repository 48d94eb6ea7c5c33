// RUN: not muir-opt %s 2>&1 | FileCheck %s

// Regression (fuzzing): a head dim of size -2^63 made the product dim
// @d_attn wrap to 0, and tp.attention, verified before the broken dim (the
// ops of a block are not verified in order), divided by it: SIGFPE. Op
// verifiers now ignore malformed dims, which report themselves.

// CHECK: attention-zero-width.mlir:[[@LINE+5]]:3: error: 'tp.dim' op dim 'd_head' must have a positive size, got -9223372036854775808
// CHECK-NOT: Stack dump
tp.model @m {
  tp.dim @seq = fixed<16>
  tp.dim @n_head = width<base 2, size 4>
  tp.dim @d_head = fixed<-9223372036854775808>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[seq, d_attn], f32>
  %a = tp.attention %q, %q, %q head_dim @d_head : (!tp.tensor<[seq, d_attn], f32>, !tp.tensor<[seq, d_attn], f32>, !tp.tensor<[seq, d_attn], f32>) -> !tp.tensor<[seq, d_attn], f32>
  tp.output %a : !tp.tensor<[seq, d_attn], f32>
}
