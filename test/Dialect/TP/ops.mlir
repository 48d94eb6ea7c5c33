// RUN: muir-opt %s | muir-opt | FileCheck %s
// RUN: muir-opt %s --mlir-print-op-generic | muir-opt | FileCheck %s

// Round-trips every tp op, type and attribute through the custom form, and
// through the generic form back into the custom form.

// Every dim kind; products of two and of three factors, of width and fixed
// dims; tensors of rank 0 to 3 and of several element types.
// CHECK-LABEL: tp.model @dims {
// CHECK-NEXT:    tp.dim @batch = fixed<8>
// CHECK-NEXT:    tp.dim @d_model = width<base 256, size 768>
// CHECK-NEXT:    tp.dim @layers = depth<base 4, size 12>
// CHECK-NEXT:    tp.dim @n_head = width<base 4, size 12>
// CHECK-NEXT:    tp.dim @d_head = fixed<64>
// CHECK-NEXT:    tp.dim @d_attn = product<@n_head, @d_head>
// CHECK-NEXT:    tp.dim @two = fixed<2>
// CHECK-NEXT:    tp.dim @d_wide = product<@two, @n_head, @d_head>
// CHECK-NEXT:    tp.dim @d_fixed = product<@two, @d_head>
// CHECK-NEXT:    %[[S:.*]] = tp.input "scalar" : !tp.tensor<[], f32>
// CHECK-NEXT:    %[[V:.*]] = tp.input "vector" : !tp.tensor<[d_model], bf16>
// CHECK-NEXT:    %[[M:.*]] = tp.input "matrix" : !tp.tensor<[batch, d_attn], f16>
// CHECK-NEXT:    %[[I:.*]] = tp.input "ids" : !tp.tensor<[batch, d_wide, d_fixed], i64>
// CHECK-NEXT:    tp.output %[[S]], %[[V]], %[[M]], %[[I]] : !tp.tensor<[], f32>, !tp.tensor<[d_model], bf16>, !tp.tensor<[batch, d_attn], f16>, !tp.tensor<[batch, d_wide, d_fixed], i64>
// CHECK-NEXT:  }
tp.model @dims {
  tp.dim @batch = fixed<8>
  tp.dim @d_model = width<base 256, size 768>
  tp.dim @layers = depth<base 4, size 12>
  tp.dim @n_head = width<base 4, size 12>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  tp.dim @two = fixed<2>
  tp.dim @d_wide = product<@two, @n_head, @d_head>
  tp.dim @d_fixed = product<@two, @d_head>
  %s = tp.input "scalar" : !tp.tensor<[], f32>
  %v = tp.input "vector" : !tp.tensor<[d_model], bf16>
  %m = tp.input "matrix" : !tp.tensor<[batch, d_attn], f16>
  %i = tp.input "ids" : !tp.tensor<[batch, d_wide, d_fixed], i64>
  tp.output %s, %v, %m, %i : !tp.tensor<[], f32>, !tp.tensor<[d_model], bf16>,
      !tp.tensor<[batch, d_attn], f16>, !tp.tensor<[batch, d_wide, d_fixed], i64>
}

// Dim names that are not bare identifiers are quoted, in symbols and types.
// CHECK-LABEL: tp.model @quoted {
// CHECK-NEXT:    tp.dim @"2d" = fixed<2>
// CHECK-NEXT:    tp.dim @"d-model" = width<base 8, size 16>
// CHECK-NEXT:    tp.dim @h = product<@"2d", @"d-model">
// CHECK-NEXT:    %[[X:.*]] = tp.input "x" : !tp.tensor<["2d", "d-model", h], f32>
// CHECK-NEXT:    tp.output %[[X]] : !tp.tensor<["2d", "d-model", h], f32>
tp.model @quoted {
  tp.dim @"2d" = fixed<2>
  tp.dim @"d-model" = width<base 8, size 16>
  tp.dim @"h" = product<@"2d", @"d-model">
  %x = tp.input "x" : !tp.tensor<["2d", "d-model", "h"], f32>
  tp.output %x : !tp.tensor<["2d", "d-model", h], f32>
}

// A model with attributes, and one with no outputs.
// CHECK-LABEL: tp.model @empty attributes {note = "no outputs"} {
// CHECK-NEXT:    tp.output{{$}}
// CHECK-NEXT:  }
tp.model @empty attributes {note = "no outputs"} {
  tp.output
}

// Every init distribution; ties with the same shape and with the transposed
// shape; parameters of several float types.
// CHECK-LABEL: tp.model @params {
// CHECK:         %[[A:.*]] = tp.param "a" normal : !tp.tensor<[vocab, d], f32>
// CHECK-NEXT:    %[[B:.*]] = tp.param "b" trunc_normal : !tp.tensor<[d, d], bf16>
// CHECK-NEXT:    %[[C:.*]] = tp.param "c" uniform : !tp.tensor<[d, vocab], f16>
// CHECK-NEXT:    %[[D:.*]] = tp.param "d" zeros : !tp.tensor<[d], f32>
// CHECK-NEXT:    %[[E:.*]] = tp.param "e" ones : !tp.tensor<[d], f64>
// CHECK-NEXT:    %[[SAME:.*]] = tp.param "same" tied "a" : !tp.tensor<[vocab, d], f32>
// CHECK-NEXT:    %[[TRANS:.*]] = tp.param "transposed" tied "a" : !tp.tensor<[d, vocab], f32>
// CHECK-NEXT:    tp.output %[[A]], %[[B]], %[[C]], %[[D]], %[[E]], %[[SAME]], %[[TRANS]] :
tp.model @params {
  tp.dim @vocab = fixed<100>
  tp.dim @d = width<base 8, size 32>
  %a = tp.param "a" normal : !tp.tensor<[vocab, d], f32>
  %b = tp.param "b" trunc_normal : !tp.tensor<[d, d], bf16>
  %c = tp.param "c" uniform : !tp.tensor<[d, vocab], f16>
  %d = tp.param "d" zeros : !tp.tensor<[d], f32>
  %e = tp.param "e" ones : !tp.tensor<[d], f64>
  %same = tp.param "same" tied "a" : !tp.tensor<[vocab, d], f32>
  %trans = tp.param "transposed" tied "a" : !tp.tensor<[d, vocab], f32>
  tp.output %a, %b, %c, %d, %e, %same, %trans : !tp.tensor<[vocab, d], f32>,
      !tp.tensor<[d, d], bf16>, !tp.tensor<[d, vocab], f16>,
      !tp.tensor<[d], f32>, !tp.tensor<[d], f64>,
      !tp.tensor<[vocab, d], f32>, !tp.tensor<[d, vocab], f32>
}

// Repeated blocks carrying one value (with per-block parameters and chained
// residuals), two values, and none.
// CHECK-LABEL: tp.model @repeat {
// CHECK:         %[[X:.*]] = tp.input "x" : !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %[[ONE:.*]] = tp.repeat @layers (%[[X]]) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
// CHECK-NEXT:    ^bb0(%[[H:.*]]: !tp.tensor<[b, d], f32>):
// CHECK-NEXT:      %[[W:.*]] = tp.param "blocks.fc" normal : !tp.tensor<[d, d], f32>
// CHECK-NEXT:      %[[F:.*]] = tp.linear %[[H]], %[[W]] : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
// CHECK-NEXT:      %[[R1:.*]] = tp.residual %[[H]], %[[F]] : !tp.tensor<[b, d], f32>
// CHECK-NEXT:      %[[G:.*]] = tp.gelu %[[R1]] : !tp.tensor<[b, d], f32>
// CHECK-NEXT:      %[[R2:.*]] = tp.residual %[[R1]], %[[G]] : !tp.tensor<[b, d], f32>
// CHECK-NEXT:      tp.yield %[[R2]] : !tp.tensor<[b, d], f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[T0:[^ ]*]], %[[T1:[^ ]*]] = tp.repeat @layers (%[[ONE]], %[[X]]) : (!tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>) -> (!tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>) {
// CHECK-NEXT:    ^bb0(%[[P:.*]]: !tp.tensor<[b, d], f32>, %[[Q:.*]]: !tp.tensor<[b, d], f32>):
// CHECK-NEXT:      %[[RS:.*]] = tp.relu %[[Q]] : !tp.tensor<[b, d], f32>
// CHECK-NEXT:      %[[RP:.*]] = tp.residual %[[P]], %[[RS]] : !tp.tensor<[b, d], f32>
// CHECK-NEXT:      tp.yield %[[RP]], %[[RS]] : !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    tp.repeat @layers () : () -> () {
// CHECK-NEXT:      tp.yield{{$}}
// CHECK-NEXT:    }
// CHECK-NEXT:    tp.output %[[T0]], %[[T1]] : !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>
tp.model @repeat {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @layers = depth<base 2, size 6>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %one = tp.repeat @layers (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "blocks.fc" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r1 = tp.residual %h, %f : !tp.tensor<[b, d], f32>
    %g = tp.gelu %r1 : !tp.tensor<[b, d], f32>
    %r2 = tp.residual %r1, %g : !tp.tensor<[b, d], f32>
    tp.yield %r2 : !tp.tensor<[b, d], f32>
  }
  %two:2 = tp.repeat @layers (%one, %x) : (!tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>) -> (!tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>) {
  ^bb0(%p: !tp.tensor<[b, d], f32>, %q: !tp.tensor<[b, d], f32>):
    %rs = tp.relu %q : !tp.tensor<[b, d], f32>
    %rp = tp.residual %p, %rs : !tp.tensor<[b, d], f32>
    tp.yield %rp, %rs : !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>
  }
  tp.repeat @layers () : () -> () {
    tp.yield
  }
  tp.output %two#0, %two#1 : !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>
}

// linear with and without a bias, embedding, add and mul with equal shapes
// and with the shorter operand on either side, the activations, and
// cross_entropy.
// CHECK-LABEL: tp.model @compute {
// CHECK:         %[[TOK:.*]] = tp.input "tokens" : !tp.tensor<[b, s], i32>
// CHECK-NEXT:    %[[TAB:.*]] = tp.param "table" normal : !tp.tensor<[v, d], f32>
// CHECK-NEXT:    %[[POS:.*]] = tp.param "pos" normal : !tp.tensor<[s, d], f32>
// CHECK-NEXT:    %[[W:.*]] = tp.param "w" normal : !tp.tensor<[v, d], f32>
// CHECK-NEXT:    %[[BIAS:.*]] = tp.param "bias" zeros : !tp.tensor<[v], f32>
// CHECK-NEXT:    %[[E:.*]] = tp.embedding %[[TOK]], %[[TAB]] : (!tp.tensor<[b, s], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[A1:.*]] = tp.add %[[E]], %[[POS]] : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[s, d], f32>) -> !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[A2:.*]] = tp.add %[[POS]], %[[A1]] : (!tp.tensor<[s, d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[M1:.*]] = tp.mul %[[A2]], %[[A1]] : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[M2:.*]] = tp.mul %[[POS]], %[[M1]] : (!tp.tensor<[s, d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[GE:.*]] = tp.gelu %[[M2]] : !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[SI:.*]] = tp.silu %[[GE]] : !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[RE:.*]] = tp.relu %[[SI]] : !tp.tensor<[b, s, d], f32>
// CHECK-NEXT:    %[[L1:.*]] = tp.linear %[[RE]], %[[W]] : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, s, v], f32>
// CHECK-NEXT:    %[[L2:.*]] = tp.linear %[[RE]], %[[W]], %[[BIAS]] : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[v, d], f32>, !tp.tensor<[v], f32>) -> !tp.tensor<[b, s, v], f32>
// CHECK-NEXT:    %[[SUM:.*]] = tp.add %[[L1]], %[[L2]] : (!tp.tensor<[b, s, v], f32>, !tp.tensor<[b, s, v], f32>) -> !tp.tensor<[b, s, v], f32>
// CHECK-NEXT:    %[[LOSS:.*]] = tp.cross_entropy %[[SUM]], %[[TOK]] : (!tp.tensor<[b, s, v], f32>, !tp.tensor<[b, s], i32>) -> !tp.tensor<[], f32>
// CHECK-NEXT:    tp.output %[[LOSS]] : !tp.tensor<[], f32>
tp.model @compute {
  tp.dim @b = fixed<2>
  tp.dim @s = fixed<16>
  tp.dim @v = fixed<100>
  tp.dim @d = width<base 8, size 32>
  %tok = tp.input "tokens" : !tp.tensor<[b, s], i32>
  %table = tp.param "table" normal : !tp.tensor<[v, d], f32>
  %pos = tp.param "pos" normal : !tp.tensor<[s, d], f32>
  %w = tp.param "w" normal : !tp.tensor<[v, d], f32>
  %bias = tp.param "bias" zeros : !tp.tensor<[v], f32>
  %e = tp.embedding %tok, %table : (!tp.tensor<[b, s], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, s, d], f32>
  %a1 = tp.add %e, %pos : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[s, d], f32>) -> !tp.tensor<[b, s, d], f32>
  %a2 = tp.add %pos, %a1 : (!tp.tensor<[s, d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
  %m1 = tp.mul %a2, %a1 : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
  %m2 = tp.mul %pos, %m1 : (!tp.tensor<[s, d], f32>, !tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, d], f32>
  %ge = tp.gelu %m2 : !tp.tensor<[b, s, d], f32>
  %si = tp.silu %ge : !tp.tensor<[b, s, d], f32>
  %re = tp.relu %si : !tp.tensor<[b, s, d], f32>
  %l1 = tp.linear %re, %w : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, s, v], f32>
  %l2 = tp.linear %re, %w, %bias : (!tp.tensor<[b, s, d], f32>, !tp.tensor<[v, d], f32>, !tp.tensor<[v], f32>) -> !tp.tensor<[b, s, v], f32>
  %sum = tp.add %l1, %l2 : (!tp.tensor<[b, s, v], f32>, !tp.tensor<[b, s, v], f32>) -> !tp.tensor<[b, s, v], f32>
  %loss = tp.cross_entropy %sum, %tok : (!tp.tensor<[b, s, v], f32>, !tp.tensor<[b, s], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}

// layer_norm with gain and bias, with a gain only, and without parameters;
// rms_norm over the last dim, per head (QK-norm) and without a gain; a
// non-default epsilon on each. The default epsilon is not printed.
// CHECK-LABEL: tp.model @norms {
// CHECK:         %[[X:.*]] = tp.input "x" : !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %[[Q:.*]] = tp.input "q" : !tp.tensor<[b, d_attn], f32>
// CHECK-NEXT:    %[[G:.*]] = tp.param "g" ones : !tp.tensor<[d], f32>
// CHECK-NEXT:    %[[BETA:.*]] = tp.param "beta" zeros : !tp.tensor<[d], f32>
// CHECK-NEXT:    %[[GH:.*]] = tp.param "g_head" ones : !tp.tensor<[d_head], f32>
// CHECK-NEXT:    %{{.*}} = tp.layer_norm %[[X]], %[[G]], %[[BETA]] : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %{{.*}} = tp.layer_norm %[[X]], %[[G]] : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %{{.*}} = tp.layer_norm %[[X]] : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %{{.*}} = tp.layer_norm %[[X]], %[[G]], %[[BETA]] {epsilon = 1.000000e-03 : f64} : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %{{.*}} = tp.rms_norm %[[X]], %[[G]] : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %{{.*}} = tp.rms_norm %[[Q]], %[[GH]] : (!tp.tensor<[b, d_attn], f32>, !tp.tensor<[d_head], f32>) -> !tp.tensor<[b, d_attn], f32>
// CHECK-NEXT:    %{{.*}} = tp.rms_norm %[[X]] : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32>
// CHECK-NEXT:    %{{.*}} = tp.rms_norm %[[Q]], %[[GH]] {epsilon = 1.000000e-05 : f64} : (!tp.tensor<[b, d_attn], f32>, !tp.tensor<[d_head], f32>) -> !tp.tensor<[b, d_attn], f32>
tp.model @norms {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<16>
  tp.dim @d_attn = product<@n_head, @d_head>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %q = tp.input "q" : !tp.tensor<[b, d_attn], f32>
  %g = tp.param "g" ones : !tp.tensor<[d], f32>
  %beta = tp.param "beta" zeros : !tp.tensor<[d], f32>
  %gh = tp.param "g_head" ones : !tp.tensor<[d_head], f32>
  %ln_full = tp.layer_norm %x, %g, %beta : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
  %ln_gain = tp.layer_norm %x, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
  %ln_none = tp.layer_norm %x : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32>
  %ln_eps = tp.layer_norm %x, %g, %beta {epsilon = 1.0e-3 : f64} : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
  %rms_full = tp.rms_norm %x, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
  %rms_head = tp.rms_norm %q, %gh : (!tp.tensor<[b, d_attn], f32>, !tp.tensor<[d_head], f32>) -> !tp.tensor<[b, d_attn], f32>
  %rms_none = tp.rms_norm %x : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32>
  %rms_eps = tp.rms_norm %q, %gh {epsilon = 1.0e-5 : f64} : (!tp.tensor<[b, d_attn], f32>, !tp.tensor<[d_head], f32>) -> !tp.tensor<[b, d_attn], f32>
  tp.output %ln_full, %ln_gain, %ln_none, %ln_eps, %rms_full, %rms_head, %rms_none, %rms_eps
      : !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>,
        !tp.tensor<[b, d], f32>, !tp.tensor<[b, d_attn], f32>, !tp.tensor<[b, d], f32>, !tp.tensor<[b, d_attn], f32>
}

// rope with the default and a custom theta; attention causal and not, with
// each logit scale and with none, and with fewer key/value heads (GQA).
// CHECK-LABEL: tp.model @attention {
// CHECK:         %[[Q:.*]] = tp.input "q" : !tp.tensor<[b, s, d_q], f32>
// CHECK-NEXT:    %[[K:.*]] = tp.input "k" : !tp.tensor<[b, s, d_q], f32>
// CHECK-NEXT:    %[[KV:.*]] = tp.input "kv" : !tp.tensor<[b, s, d_kv], f32>
// CHECK-NEXT:    %[[QR:.*]] = tp.rope %[[Q]] head_dim @d_head : !tp.tensor<[b, s, d_q], f32>
// CHECK-NEXT:    %[[KR:.*]] = tp.rope %[[KV]] head_dim @d_head {theta = 5.000000e+05 : f64} : !tp.tensor<[b, s, d_kv], f32>
// CHECK-NEXT:    %{{.*}} = tp.attention %[[QR]], %[[K]], %[[K]] head_dim @d_head : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
// CHECK-NEXT:    %{{.*}} = tp.attention %[[QR]], %[[K]], %[[K]] head_dim @d_head causal : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
// CHECK-NEXT:    %{{.*}} = tp.attention %[[QR]], %[[K]], %[[K]] head_dim @d_head scale inv_head_dim : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
// CHECK-NEXT:    %{{.*}} = tp.attention %[[QR]], %[[K]], %[[K]] head_dim @d_head causal scale inv_sqrt_head_dim : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
// CHECK-NEXT:    %{{.*}} = tp.attention %[[QR]], %[[KR]], %[[KV]] head_dim @d_head causal scale inv_head_dim : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_kv], f32>, !tp.tensor<[b, s, d_kv], f32>) -> !tp.tensor<[b, s, d_q], f32>
tp.model @attention {
  tp.dim @b = fixed<2>
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 4, size 16>
  tp.dim @n_kv_head = width<base 2, size 8>
  tp.dim @d_head = fixed<8>
  tp.dim @d_q = product<@n_head, @d_head>
  tp.dim @d_kv = product<@n_kv_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[b, s, d_q], f32>
  %k = tp.input "k" : !tp.tensor<[b, s, d_q], f32>
  %kv = tp.input "kv" : !tp.tensor<[b, s, d_kv], f32>
  %qr = tp.rope %q head_dim @d_head : !tp.tensor<[b, s, d_q], f32>
  %kr = tp.rope %kv head_dim @d_head {theta = 5.0e5 : f64} : !tp.tensor<[b, s, d_kv], f32>
  %plain = tp.attention %qr, %k, %k head_dim @d_head : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
  %causal = tp.attention %qr, %k, %k head_dim @d_head causal : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
  %mup = tp.attention %qr, %k, %k head_dim @d_head scale inv_head_dim : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
  %sp = tp.attention %qr, %k, %k head_dim @d_head causal scale inv_sqrt_head_dim : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>) -> !tp.tensor<[b, s, d_q], f32>
  %gqa = tp.attention %qr, %kr, %kv head_dim @d_head causal scale inv_head_dim : (!tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_kv], f32>, !tp.tensor<[b, s, d_kv], f32>) -> !tp.tensor<[b, s, d_q], f32>
  tp.output %plain, %causal, %mup, %sp, %gqa : !tp.tensor<[b, s, d_q], f32>,
      !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>,
      !tp.tensor<[b, s, d_q], f32>, !tp.tensor<[b, s, d_q], f32>
}

// A model is a symbol table of its dims: each model has its own, and a dim
// may be named like a model (the repeat's @scoped is the depth dim).
// CHECK-LABEL: tp.model @scoped {
// CHECK-NEXT:    tp.dim @scoped = depth<base 2, size 4>
// CHECK-NEXT:    tp.repeat @scoped () : () -> () {
// CHECK-LABEL: tp.model @scoped2 {
// CHECK-NEXT:    tp.dim @scoped = width<base 2, size 4>
tp.model @scoped {
  tp.dim @scoped = depth<base 2, size 4>
  tp.repeat @scoped () : () -> () {
    tp.yield
  }
  tp.output
}
tp.model @scoped2 {
  tp.dim @scoped = width<base 2, size 4>
  %x = tp.input "x" : !tp.tensor<[scoped], f32>
  tp.output %x : !tp.tensor<[scoped], f32>
}

// Printed values carry names: inputs and parameters their name or module
// path, the residual stream (a repeat's results and block arguments, each
// tp.residual) `%h`, other results their op. Names that are not valid SSA
// names are made valid (a leading digit gets `_`, other characters their
// hex code), repeats get a suffix, and an empty name falls back to a number.
// CHECK-LABEL: tp.model @names {
// CHECK:         %x = tp.input "x"
// CHECK-NEXT:    %x2 = tp.input "x2"
// CHECK-NEXT:    %_2d = tp.input "2d"
// CHECK-NEXT:    %a_b2FC3A9 = tp.input "a b/\C3\A9"
// CHECK-NEXT:    %[[EMPTY:[0-9]+]] = tp.input ""
// CHECK-NEXT:    %fc.weight = tp.param "fc.weight" normal
// CHECK-NEXT:    %linear = tp.linear %x, %fc.weight
// CHECK-NEXT:    %[[L2:linear_[0-9]+]] = tp.linear %linear, %fc.weight
// CHECK-NEXT:    %h, %[[H1:h_[0-9]+]] = tp.repeat @L (%[[L2]], %_2d)
// CHECK-NEXT:    ^bb0(%[[A:h_[0-9]+]]: !tp.tensor<[b, d], f32>, %[[B:h_[0-9]+]]: !tp.tensor<[b, d], f32>):
// CHECK-NEXT:      %gelu = tp.gelu %[[A]]
// CHECK-NEXT:      %[[S:h_[0-9]+]] = tp.residual %[[A]], %gelu
// CHECK-NEXT:      tp.yield %[[S]], %[[B]]
// CHECK:         tp.output %h, %[[H1]], %a_b2FC3A9, %[[EMPTY]], %x2 :
tp.model @names {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 16>
  tp.dim @L = depth<base 2, size 4>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %t = tp.input "x2" : !tp.tensor<[b], i32>
  %y = tp.input "2d" : !tp.tensor<[b, d], f32>
  %z = tp.input "a b/é" : !tp.tensor<[b, d], f32>
  %e = tp.input "" : !tp.tensor<[b, d], f32>
  %w = tp.param "fc.weight" normal : !tp.tensor<[d, d], f32>
  %l1 = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  %l2 = tp.linear %l1, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  %r:2 = tp.repeat @L (%l2, %y) : (!tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>) -> (!tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>) {
  ^bb0(%h: !tp.tensor<[b, d], f32>, %h2: !tp.tensor<[b, d], f32>):
    %g = tp.gelu %h : !tp.tensor<[b, d], f32>
    %s = tp.residual %h, %g : !tp.tensor<[b, d], f32>
    tp.yield %s, %h2 : !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>
  }
  tp.output %r#0, %r#1, %z, %e, %t : !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>,
      !tp.tensor<[b, d], f32>, !tp.tensor<[b, d], f32>, !tp.tensor<[b], i32>
}

// An attention written op by op (an imported PyTorch model): generic ops
// of each shape kind, with and without flowing dims, several results and
// none (a source such as a buffer); the logit scale as the source wrote it,
// with and without the scale the parametrisation fixes; complex elements
// (rotary embeddings through torch.view_as_complex).
// CHECK-LABEL: tp.model @written {
// CHECK:         %[[X:.*]] = tp.input "x" : !tp.tensor<[b, s, d3], f32>
// CHECK-NEXT:    %[[MASK:.*]] = tp.op "buffer" () flows [] : () -> !tp.tensor<[one, one, h, h], f32>
// CHECK-NEXT:    %[[QKV:.*]]:3 = tp.op "split" (%[[X]]) flows [@b, @s] : (!tp.tensor<[b, s, d3], f32>) -> (!tp.tensor<[b, s, d], f32>, !tp.tensor<[b, s, d], f32>, !tp.tensor<[b, s, d], f32>)
// CHECK-NEXT:    %[[Q:.*]] = tp.op "view" (%[[QKV]]#0) reshape flows [@b, @s] : (!tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, h, hd], f32>
// CHECK-NEXT:    %[[L:.*]] = tp.op "matmul" (%[[Q]], %[[Q]]) flows [@b, @s] : (!tp.tensor<[b, s, h, hd], f32>, !tp.tensor<[b, s, h, hd], f32>) -> !tp.tensor<[b, s, h, h], f32>
// CHECK-NEXT:    %[[A:.*]] = tp.attention_scale %[[L]] head_dim @hd from inv_sqrt_head_dim : !tp.tensor<[b, s, h, h], f32>
// CHECK-NEXT:    %{{.*}} = tp.attention_scale %[[L]] head_dim @hd from inv_head_dim scale inv_head_dim : !tp.tensor<[b, s, h, h], f32>
// CHECK-NEXT:    %{{.*}} = tp.op "masked_fill" (%[[A]], %[[MASK]]) elementwise flows [@h] : (!tp.tensor<[b, s, h, h], f32>, !tp.tensor<[one, one, h, h], f32>) -> !tp.tensor<[b, s, h, h], f32>
// CHECK-NEXT:    %{{.*}} = tp.op "view_as_complex" (%[[Q]]) opaque flows [@b, @s, @h] : (!tp.tensor<[b, s, h, hd], f32>) -> !tp.tensor<[b, s, h], complex<f32>>
tp.model @written {
  tp.dim @b = fixed<2>
  tp.dim @s = fixed<4>
  tp.dim @one = fixed<1>
  tp.dim @h = width<base 2, size 4>
  tp.dim @hd = fixed<4>
  tp.dim @d = width<base 8, size 16>
  tp.dim @d3 = width<base 24, size 48>
  %x = tp.input "x" : !tp.tensor<[b, s, d3], f32>
  %mask = tp.op "buffer" () flows [] : () -> !tp.tensor<[one, one, h, h], f32>
  %qkv:3 = tp.op "split" (%x) flows [@b, @s] : (!tp.tensor<[b, s, d3], f32>) -> (!tp.tensor<[b, s, d], f32>, !tp.tensor<[b, s, d], f32>, !tp.tensor<[b, s, d], f32>)
  %q = tp.op "view" (%qkv#0) reshape flows [@b, @s] : (!tp.tensor<[b, s, d], f32>) -> !tp.tensor<[b, s, h, hd], f32>
  %l = tp.op "matmul" (%q, %q) flows [@b, @s] : (!tp.tensor<[b, s, h, hd], f32>, !tp.tensor<[b, s, h, hd], f32>) -> !tp.tensor<[b, s, h, h], f32>
  %a = tp.attention_scale %l head_dim @hd from inv_sqrt_head_dim : !tp.tensor<[b, s, h, h], f32>
  %mup = tp.attention_scale %l head_dim @hd from inv_head_dim scale inv_head_dim : !tp.tensor<[b, s, h, h], f32>
  %m = tp.op "masked_fill" (%a, %mask) elementwise flows [@h] : (!tp.tensor<[b, s, h, h], f32>, !tp.tensor<[one, one, h, h], f32>) -> !tp.tensor<[b, s, h, h], f32>
  %c = tp.op "view_as_complex" (%q) opaque flows [@b, @s, @h] : (!tp.tensor<[b, s, h, hd], f32>) -> !tp.tensor<[b, s, h], complex<f32>>
  tp.output %m, %mup, %c : !tp.tensor<[b, s, h, h], f32>, !tp.tensor<[b, s, h, h], f32>, !tp.tensor<[b, s, h], complex<f32>>
}
