// A Llama-style block: RMSNorm, rotary embeddings, grouped-query attention
// with QK-norm, a SwiGLU MLP and an untied head. Fuzz seed.
tp.model @tiny_llama {
  tp.dim @batch = fixed<2>
  tp.dim @seq = fixed<8>
  tp.dim @vocab = fixed<64>
  tp.dim @d_model = width<base 16, size 64>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @n_kv = width<base 1, size 4>
  tp.dim @d_head = fixed<8>
  tp.dim @d_q = product<@n_head, @d_head>
  tp.dim @d_kv = product<@n_kv, @d_head>
  tp.dim @d_ff = width<base 48, size 192>
  tp.dim @layers = depth<base 1, size 3>
  %tokens = tp.input "tokens" : !tp.tensor<[batch, seq], i64>
  %targets = tp.input "targets" : !tp.tensor<[batch, seq], i64>
  %emb = tp.param "embed_tokens" normal : !tp.tensor<[vocab, d_model], bf16>
  %x = tp.embedding %tokens, %emb : (!tp.tensor<[batch, seq], i64>, !tp.tensor<[vocab, d_model], bf16>) -> !tp.tensor<[batch, seq, d_model], bf16>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[batch, seq, d_model], bf16>) -> !tp.tensor<[batch, seq, d_model], bf16> {
  ^bb0(%h: !tp.tensor<[batch, seq, d_model], bf16>):
    %g = tp.param "layers.input_layernorm" ones : !tp.tensor<[d_model], bf16>
    %n = tp.rms_norm %h, %g : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_model], bf16>) -> !tp.tensor<[batch, seq, d_model], bf16>
    %wq = tp.param "layers.q_proj" trunc_normal : !tp.tensor<[d_q, d_model], bf16>
    %wk = tp.param "layers.k_proj" trunc_normal : !tp.tensor<[d_kv, d_model], bf16>
    %wv = tp.param "layers.v_proj" trunc_normal : !tp.tensor<[d_kv, d_model], bf16>
    %wo = tp.param "layers.o_proj" zeros : !tp.tensor<[d_model, d_q], bf16>
    %q = tp.linear %n, %wq : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_q, d_model], bf16>) -> !tp.tensor<[batch, seq, d_q], bf16>
    %k = tp.linear %n, %wk : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_kv, d_model], bf16>) -> !tp.tensor<[batch, seq, d_kv], bf16>
    %v = tp.linear %n, %wv : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_kv, d_model], bf16>) -> !tp.tensor<[batch, seq, d_kv], bf16>
    %gq = tp.param "layers.q_norm" ones : !tp.tensor<[d_head], bf16>
    %gk = tp.param "layers.k_norm" ones : !tp.tensor<[d_head], bf16>
    %qn = tp.rms_norm %q, %gq {epsilon = 1.0e-6 : f64} : (!tp.tensor<[batch, seq, d_q], bf16>, !tp.tensor<[d_head], bf16>) -> !tp.tensor<[batch, seq, d_q], bf16>
    %kn = tp.rms_norm %k, %gk : (!tp.tensor<[batch, seq, d_kv], bf16>, !tp.tensor<[d_head], bf16>) -> !tp.tensor<[batch, seq, d_kv], bf16>
    %qr = tp.rope %qn head_dim @d_head {theta = 500000.0 : f64} : !tp.tensor<[batch, seq, d_q], bf16>
    %kr = tp.rope %kn head_dim @d_head : !tp.tensor<[batch, seq, d_kv], bf16>
    %a = tp.attention %qr, %kr, %v head_dim @d_head causal : (!tp.tensor<[batch, seq, d_q], bf16>, !tp.tensor<[batch, seq, d_kv], bf16>, !tp.tensor<[batch, seq, d_kv], bf16>) -> !tp.tensor<[batch, seq, d_q], bf16>
    %o = tp.linear %a, %wo : (!tp.tensor<[batch, seq, d_q], bf16>, !tp.tensor<[d_model, d_q], bf16>) -> !tp.tensor<[batch, seq, d_model], bf16>
    %h1 = tp.residual %h, %o : !tp.tensor<[batch, seq, d_model], bf16>
    %g2 = tp.param "layers.post_attention_layernorm" ones : !tp.tensor<[d_model], bf16>
    %n2 = tp.rms_norm %h1, %g2 : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_model], bf16>) -> !tp.tensor<[batch, seq, d_model], bf16>
    %wg = tp.param "layers.gate_proj" normal : !tp.tensor<[d_ff, d_model], bf16>
    %wu = tp.param "layers.up_proj" normal : !tp.tensor<[d_ff, d_model], bf16>
    %wd = tp.param "layers.down_proj" zeros : !tp.tensor<[d_model, d_ff], bf16>
    %gate = tp.linear %n2, %wg : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_ff, d_model], bf16>) -> !tp.tensor<[batch, seq, d_ff], bf16>
    %up = tp.linear %n2, %wu : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_ff, d_model], bf16>) -> !tp.tensor<[batch, seq, d_ff], bf16>
    %act = tp.silu %gate : !tp.tensor<[batch, seq, d_ff], bf16>
    %prod = tp.mul %act, %up : (!tp.tensor<[batch, seq, d_ff], bf16>, !tp.tensor<[batch, seq, d_ff], bf16>) -> !tp.tensor<[batch, seq, d_ff], bf16>
    %down = tp.linear %prod, %wd : (!tp.tensor<[batch, seq, d_ff], bf16>, !tp.tensor<[d_model, d_ff], bf16>) -> !tp.tensor<[batch, seq, d_model], bf16>
    %h2 = tp.residual %h1, %down : !tp.tensor<[batch, seq, d_model], bf16>
    tp.yield %h2 : !tp.tensor<[batch, seq, d_model], bf16>
  }
  %gn = tp.param "norm" ones : !tp.tensor<[d_model], bf16>
  %nf = tp.rms_norm %y, %gn : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[d_model], bf16>) -> !tp.tensor<[batch, seq, d_model], bf16>
  %head = tp.param "lm_head" normal : !tp.tensor<[vocab, d_model], bf16>
  %logits = tp.linear %nf, %head : (!tp.tensor<[batch, seq, d_model], bf16>, !tp.tensor<[vocab, d_model], bf16>) -> !tp.tensor<[batch, seq, vocab], bf16>
  %loss = tp.cross_entropy %logits, %targets : (!tp.tensor<[batch, seq, vocab], bf16>, !tp.tensor<[batch, seq], i64>) -> !tp.tensor<[], bf16>
  tp.output %loss : !tp.tensor<[], bf16>
}
