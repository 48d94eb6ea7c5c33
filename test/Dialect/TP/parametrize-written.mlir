// RUN: muir-opt %s --tp-parametrize='scheme=completep' | FileCheck %s --check-prefixes=CHECK,MUP
// RUN: muir-opt %s --tp-parametrize='scheme=sp' | FileCheck %s --check-prefixes=CHECK,SP
// RUN: muir-opt %s --tp-parametrize='scheme=completep' --tp-instantiate --tp-print-report | FileCheck %s --check-prefix=REPORT

// A block written op by op, as an imported PyTorch model has it: a linear
// as x @ W^T + b (the bias added by tp.add), Llama's RMSNorm as
// weight * (x / rms(x)) (the gain multiplied by tp.mul), attention logits
// scaled by a constant (tp.attention_scale) between generic ops. The roles
// come from the interfaces: the added vector is a bias, the multiplied one
// a norm gain (a final norm after the blocks); the logit scale is the
// scheme's, whatever the source wrote.

// CHECK-LABEL: tp.model @written
// CHECK:       tp.param "blocks.*.norm.weight" ones {tp.role = #tp.role<norm>
// CHECK:       tp.param "blocks.*.fc.bias" zeros {tp.role = #tp.role<hidden_bias>
// MUP:         tp.attention_scale %{{.*}} head_dim @hd from inv_sqrt_head_dim scale inv_head_dim
// SP:          tp.attention_scale %{{.*}} head_dim @hd from inv_sqrt_head_dim scale inv_sqrt_head_dim
// CHECK:       tp.param "norm.weight" ones {tp.role = #tp.role<final_norm>

// The report lists the written attention among the forward multipliers:
// REPORT: attention logits: blocks.attention0 x0.125 (1/d_head)

tp.model @written {
  tp.dim @b = fixed<2>
  tp.dim @s = fixed<4>
  tp.dim @d = width<base 16, size 64>
  tp.dim @h = width<base 2, size 8>
  tp.dim @hd = fixed<8>
  tp.dim @blocks = depth<base 2, size 4>
  %x = tp.input "x" : !tp.tensor<[b, s, d], f32>
  %win = tp.param "in.weight" normal : !tp.tensor<[d, d], f32>
  %x0 = tp.linear %x, %win : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, s, d], f32>
  %y = tp.repeat @blocks (%x0) : (!tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32> {
  ^bb0(%t: !tp.tensor<[b, s, d], f32>):
    %sq = tp.op "pow" (%t) elementwise flows [@b, @s, @d] : (!tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
    %g = tp.param "blocks.*.norm.weight" ones : !tp.tensor<[d], f32>
    %n = tp.mul %sq, %g : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, s, d], f32>
    %w = tp.param "blocks.*.fc.weight" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %n, %w : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, s, d], f32>
    %bias = tp.param "blocks.*.fc.bias" zeros : !tp.tensor<[d], f32>
    %fb = tp.add %f, %bias : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, s, d], f32>
    %q = tp.op "view" (%fb) reshape flows [@b, @s] : (!tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, h, hd], f32>
    %l = tp.op "matmul" (%q, %q) flows [@b, @s, @h] : (!tp.tensor<[b, s, h, hd], f32>, !tp.tensor<[b, s, h, hd], f32>) -> !tp.tensor<[b, s, h, h], f32>
    %ls = tp.attention_scale %l head_dim @hd from inv_sqrt_head_dim : !tp.tensor<[b, s, h, h], f32>
    %p = tp.op "softmax" (%ls) flows [@b, @s, @h] : (!tp.tensor<[b, s, h, h], f32>) -> !tp.tensor<[b, s, h, h], f32>
    %o = tp.op "matmul" (%p, %q) flows [@b, @s, @h] : (!tp.tensor<[b, s, h, h], f32>, !tp.tensor<[b, s, h, hd], f32>) -> !tp.tensor<[b, s, h, hd], f32>
    %ov = tp.op "view" (%o) reshape flows [@b, @s] : (!tp.tensor<[b, s, h, hd], f32>) -> !tp.tensor<[b, s, d], f32>
    %r = tp.residual %t, %ov : !tp.tensor<[b, s, d], f32>
    tp.yield %r : !tp.tensor<[b, s, d], f32>
  }
  %gf = tp.param "norm.weight" ones : !tp.tensor<[d], f32>
  %yf = tp.mul %gf, %y : (!tp.tensor<[d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
  tp.output %yf : !tp.tensor<[b, s, d], f32>
}
