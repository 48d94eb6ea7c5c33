//===- llama.mlir - A Llama-style decoder as a tp program -----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A Llama-style decoder-only transformer (with the QK-norm of Qwen3 / OLMo 2):
//
//   - RMSNorm pre-norms (gain only) before attention and before the MLP;
//   - grouped-query attention: 16 query heads share 4 key/value heads;
//   - QK-norm: q and k are RMS-normalised per head, with one [d_head] gain
//     shared by all heads, before RoPE rotates them;
//   - causal attention;
//   - a SwiGLU MLP: down(silu(gate(x)) * up(x));
//   - no biases anywhere, a final RMSNorm, an untied unembedding, and the
//     mean next-token cross-entropy as the output.
//
// Sizes (base model -> this model; the base is the proxy where
// hyperparameters are tuned; every width dim grows by the same ratio 4):
//
//   d_model      256 -> 1024
//   heads          4 -> 16      (d_head fixed at 64)
//   kv heads       1 -> 4       (4 query heads per kv head in both)
//   d_ff         704 -> 2816    (8/3 d_model rounded up to a multiple of 256)
//   layers         4 -> 16
//   vocab 32000, context 2048, batch 4 (all fixed)
//
// Try:
//
//   muirc summary examples/llama.mlir
//
// Module paths follow Hugging Face's LlamaForCausalLM / Qwen3ForCausalLM with
// `model.` dropped; `layers.*` parameters have one copy per layer.
//
//===----------------------------------------------------------------------===//

// The residual stream.
!x = !tp.tensor<[batch, seq, d_model], f32>
// Query heads (n_head * d_head) and key/value heads (n_kv_head * d_head).
!q = !tp.tensor<[batch, seq, d_q], f32>
!kv = !tp.tensor<[batch, seq, d_kv], f32>
// The MLP's hidden activations.
!ff = !tp.tensor<[batch, seq, d_ff], f32>
// Parameters, PyTorch layout ([fan_out, fan_in] for a linear's weight).
!gain = !tp.tensor<[d_model], f32>
!head_gain = !tp.tensor<[d_head], f32>
!w_q = !tp.tensor<[d_q, d_model], f32>
!w_kv = !tp.tensor<[d_kv, d_model], f32>
!w_o = !tp.tensor<[d_model, d_q], f32>
!w_up = !tp.tensor<[d_ff, d_model], f32>
!w_down = !tp.tensor<[d_model, d_ff], f32>
!table = !tp.tensor<[vocab, d_model], f32>
!ids = !tp.tensor<[batch, seq], i32>
!logits = !tp.tensor<[batch, seq, vocab], f32>

tp.model @llama {
  // Dims that do not scale with the model.
  tp.dim @batch = fixed<4>
  tp.dim @seq = fixed<2048>
  tp.dim @vocab = fixed<32000>
  tp.dim @d_head = fixed<64>
  // Width (ratio 4). The kv heads scale too, so the group size stays 4.
  tp.dim @d_model = width<base 256, size 1024>
  tp.dim @n_head = width<base 4, size 16>
  tp.dim @n_kv_head = width<base 1, size 4>
  tp.dim @d_ff = width<base 704, size 2816>
  tp.dim @d_q = product<@n_head, @d_head>
  tp.dim @d_kv = product<@n_kv_head, @d_head>
  // Depth (ratio 4).
  tp.dim @layers = depth<base 4, size 16>

  %tokens = tp.input "tokens" : !ids
  %targets = tp.input "targets" : !ids

  // Token embedding; positions enter through RoPE, so there is no wpe.
  %embed = tp.param "embed_tokens.weight" normal : !table
  %x0 = tp.embedding %tokens, %embed : (!ids, !table) -> !x

  %xL = tp.repeat @layers (%x0) : (!x) -> !x {
  ^bb0(%h: !x):
    // Attention branch: x + o(attn(rope(qnorm(q(n))), rope(knorm(k(n))), v(n)))
    // where n = rmsnorm(x).
    %g_in = tp.param "layers.input_layernorm.weight" ones : !gain
    %n = tp.rms_norm %h, %g_in : (!x, !gain) -> !x

    %wq = tp.param "layers.self_attn.q_proj.weight" normal : !w_q
    %wk = tp.param "layers.self_attn.k_proj.weight" normal : !w_kv
    %wv = tp.param "layers.self_attn.v_proj.weight" normal : !w_kv
    %q = tp.linear %n, %wq : (!x, !w_q) -> !q
    %k = tp.linear %n, %wk : (!x, !w_kv) -> !kv
    %v = tp.linear %n, %wv : (!x, !w_kv) -> !kv

    // QK-norm: the gain has dim d_head, the last factor of d_q / d_kv, so
    // each head is normalised on its own.
    %gq = tp.param "layers.self_attn.q_norm.weight" ones : !head_gain
    %gk = tp.param "layers.self_attn.k_norm.weight" ones : !head_gain
    %qn = tp.rms_norm %q, %gq : (!q, !head_gain) -> !q
    %kn = tp.rms_norm %k, %gk : (!kv, !head_gain) -> !kv

    // Rotary embeddings on q and k (Llama 3 uses theta 500000).
    %qr = tp.rope %qn head_dim @d_head {theta = 5.0e+05 : f64} : !q
    %kr = tp.rope %kn head_dim @d_head {theta = 5.0e+05 : f64} : !kv

    // Grouped-query attention: k and v carry 4x fewer heads than q.
    %att = tp.attention %qr, %kr, %v head_dim @d_head causal
        : (!q, !kv, !kv) -> !q
    %wo = tp.param "layers.self_attn.o_proj.weight" normal : !w_o
    %a_out = tp.linear %att, %wo : (!q, !w_o) -> !x
    %h1 = tp.residual %h, %a_out : !x

    // SwiGLU branch: x + down(silu(gate(m)) * up(m)), m = rmsnorm(x).
    %g_post = tp.param "layers.post_attention_layernorm.weight" ones : !gain
    %m = tp.rms_norm %h1, %g_post : (!x, !gain) -> !x
    %wgate = tp.param "layers.mlp.gate_proj.weight" normal : !w_up
    %wup = tp.param "layers.mlp.up_proj.weight" normal : !w_up
    %wdown = tp.param "layers.mlp.down_proj.weight" normal : !w_down
    %gate = tp.linear %m, %wgate : (!x, !w_up) -> !ff
    %up = tp.linear %m, %wup : (!x, !w_up) -> !ff
    %act = tp.silu %gate : !ff
    %glu = tp.mul %act, %up : (!ff, !ff) -> !ff
    %m_out = tp.linear %glu, %wdown : (!ff, !w_down) -> !x
    %h2 = tp.residual %h1, %m_out : !x

    tp.yield %h2 : !x
  }

  // Final RMSNorm and an untied unembedding.
  %g_f = tp.param "norm.weight" ones : !gain
  %xf = tp.rms_norm %xL, %g_f : (!x, !gain) -> !x
  %w_head = tp.param "lm_head.weight" normal : !table
  %logits = tp.linear %xf, %w_head : (!x, !table) -> !logits

  %loss = tp.cross_entropy %logits, %targets
      : (!logits, !ids) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
