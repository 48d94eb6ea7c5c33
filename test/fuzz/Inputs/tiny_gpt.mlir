// A two-layer pre-norm GPT with learned positions, causal attention and a
// tied unembedding. Fuzz seed: every op of the GPT-2 family appears once.
tp.model @tiny_gpt {
  tp.dim @batch = fixed<2>
  tp.dim @seq = fixed<16>
  tp.dim @vocab = fixed<128>
  tp.dim @d_model = width<base 32, size 128>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<16>
  tp.dim @d_attn = product<@n_head, @d_head>
  tp.dim @d_ff = width<base 128, size 512>
  tp.dim @layers = depth<base 2, size 4>
  %tokens = tp.input "tokens" : !tp.tensor<[batch, seq], i32>
  %targets = tp.input "targets" : !tp.tensor<[batch, seq], i32>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d_model], f32>
  %wpe = tp.param "wpe" normal : !tp.tensor<[seq, d_model], f32>
  %e = tp.embedding %tokens, %wte : (!tp.tensor<[batch, seq], i32>, !tp.tensor<[vocab, d_model], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
  %x = tp.add %e, %wpe : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[seq, d_model], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[batch, seq, d_model], f32>) -> !tp.tensor<[batch, seq, d_model], f32> {
  ^bb0(%h: !tp.tensor<[batch, seq, d_model], f32>):
    %g1 = tp.param "blocks.ln1.weight" ones : !tp.tensor<[d_model], f32>
    %b1 = tp.param "blocks.ln1.bias" zeros : !tp.tensor<[d_model], f32>
    %n1 = tp.layer_norm %h, %g1, %b1 : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[d_model], f32>, !tp.tensor<[d_model], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
    %wq = tp.param "blocks.attn.q" normal : !tp.tensor<[d_attn, d_model], f32>
    %wk = tp.param "blocks.attn.k" normal : !tp.tensor<[d_attn, d_model], f32>
    %wv = tp.param "blocks.attn.v" normal : !tp.tensor<[d_attn, d_model], f32>
    %wo = tp.param "blocks.attn.o" normal : !tp.tensor<[d_model, d_attn], f32>
    %bq = tp.param "blocks.attn.q_bias" zeros : !tp.tensor<[d_attn], f32>
    %q = tp.linear %n1, %wq, %bq : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[d_attn, d_model], f32>, !tp.tensor<[d_attn], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    %k = tp.linear %n1, %wk : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[d_attn, d_model], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    %v = tp.linear %n1, %wv : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[d_attn, d_model], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    %a = tp.attention %q, %k, %v head_dim @d_head causal scale inv_head_dim : (!tp.tensor<[batch, seq, d_attn], f32>, !tp.tensor<[batch, seq, d_attn], f32>, !tp.tensor<[batch, seq, d_attn], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    %o = tp.linear %a, %wo : (!tp.tensor<[batch, seq, d_attn], f32>, !tp.tensor<[d_model, d_attn], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
    %h1 = tp.residual %h, %o : !tp.tensor<[batch, seq, d_model], f32>
    %n2 = tp.layer_norm %h1 : (!tp.tensor<[batch, seq, d_model], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
    %w1 = tp.param "blocks.mlp.fc" normal : !tp.tensor<[d_ff, d_model], f32>
    %w2 = tp.param "blocks.mlp.proj" zeros : !tp.tensor<[d_model, d_ff], f32>
    %f1 = tp.linear %n2, %w1 : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[d_ff, d_model], f32>) -> !tp.tensor<[batch, seq, d_ff], f32>
    %f2 = tp.gelu %f1 : !tp.tensor<[batch, seq, d_ff], f32>
    %f3 = tp.linear %f2, %w2 : (!tp.tensor<[batch, seq, d_ff], f32>, !tp.tensor<[d_model, d_ff], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
    %h2 = tp.residual %h1, %f3 : !tp.tensor<[batch, seq, d_model], f32>
    tp.yield %h2 : !tp.tensor<[batch, seq, d_model], f32>
  }
  %gf = tp.param "ln_f.weight" ones : !tp.tensor<[d_model], f32>
  %nf = tp.layer_norm %y, %gf {epsilon = 1.0e-5 : f64} : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[d_model], f32>) -> !tp.tensor<[batch, seq, d_model], f32>
  %head = tp.param "lm_head" tied "wte" : !tp.tensor<[vocab, d_model], f32>
  %logits = tp.linear %nf, %head : (!tp.tensor<[batch, seq, d_model], f32>, !tp.tensor<[vocab, d_model], f32>) -> !tp.tensor<[batch, seq, vocab], f32>
  %loss = tp.cross_entropy %logits, %targets : (!tp.tensor<[batch, seq, vocab], f32>, !tp.tensor<[batch, seq], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
