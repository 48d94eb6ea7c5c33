// One parameter of every role, shared by the tp-parametrize tests. Width
// grows 4x (d 64 -> 256, d_ff 128 -> 512), depth 4x (2 -> 8).
tp.model @roles {
  tp.dim @batch = fixed<2>
  tp.dim @seq = fixed<16>
  tp.dim @vocab = fixed<100>
  tp.dim @d = width<base 64, size 256>
  tp.dim @d_ff = width<base 128, size 512>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<32>
  tp.dim @d_attn = product<@n_head, @d_head>
  tp.dim @layers = depth<base 2, size 8>
  %tok = tp.input "tokens" : !tp.tensor<[batch, seq], i32>
  %emb = tp.param "emb" normal : !tp.tensor<[vocab, d], f32>
  %x = tp.embedding %tok, %emb : (!tp.tensor<[batch, seq], i32>, !tp.tensor<[vocab, d], f32>) -> !tp.tensor<[batch, seq, d], f32>
  %y = tp.repeat @layers (%x) : (!tp.tensor<[batch, seq, d], f32>) -> !tp.tensor<[batch, seq, d], f32> {
  ^bb0(%h: !tp.tensor<[batch, seq, d], f32>):
    %g = tp.param "blocks.norm" ones : !tp.tensor<[d], f32>
    %n = tp.rms_norm %h, %g : (!tp.tensor<[batch, seq, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[batch, seq, d], f32>
    %wq = tp.param "blocks.q" normal : !tp.tensor<[d_attn, d], f32>
    %q = tp.linear %n, %wq : (!tp.tensor<[batch, seq, d], f32>, !tp.tensor<[d_attn, d], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    %gq = tp.param "blocks.qk_norm" ones : !tp.tensor<[d_head], f32>
    %qn = tp.rms_norm %q, %gq : (!tp.tensor<[batch, seq, d_attn], f32>, !tp.tensor<[d_head], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    %a = tp.attention %qn, %qn, %q head_dim @d_head causal : (!tp.tensor<[batch, seq, d_attn], f32>, !tp.tensor<[batch, seq, d_attn], f32>, !tp.tensor<[batch, seq, d_attn], f32>) -> !tp.tensor<[batch, seq, d_attn], f32>
    %wo = tp.param "blocks.o" normal : !tp.tensor<[d, d_attn], f32>
    %o = tp.linear %a, %wo : (!tp.tensor<[batch, seq, d_attn], f32>, !tp.tensor<[d, d_attn], f32>) -> !tp.tensor<[batch, seq, d], f32>
    %r = tp.residual %h, %o : !tp.tensor<[batch, seq, d], f32>
    %w1 = tp.param "blocks.fc" normal : !tp.tensor<[d_ff, d], f32>
    %b1 = tp.param "blocks.fc_bias" zeros : !tp.tensor<[d_ff], f32>
    %f = tp.linear %r, %w1, %b1 : (!tp.tensor<[batch, seq, d], f32>, !tp.tensor<[d_ff, d], f32>, !tp.tensor<[d_ff], f32>) -> !tp.tensor<[batch, seq, d_ff], f32>
    %w2 = tp.param "blocks.proj" normal : !tp.tensor<[d, d_ff], f32>
    %p = tp.linear %f, %w2 : (!tp.tensor<[batch, seq, d_ff], f32>, !tp.tensor<[d, d_ff], f32>) -> !tp.tensor<[batch, seq, d], f32>
    %r2 = tp.residual %r, %p : !tp.tensor<[batch, seq, d], f32>
    tp.yield %r2 : !tp.tensor<[batch, seq, d], f32>
  }
  %gf = tp.param "final_norm" ones : !tp.tensor<[d], f32>
  %nf = tp.rms_norm %y, %gf : (!tp.tensor<[batch, seq, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[batch, seq, d], f32>
  %head = tp.param "head" normal : !tp.tensor<[vocab, d], f32>
  %logits = tp.linear %nf, %head : (!tp.tensor<[batch, seq, d], f32>, !tp.tensor<[vocab, d], f32>) -> !tp.tensor<[batch, seq, vocab], f32>
  %temp = tp.param "temperature" ones : !tp.tensor<[], f32>
  %scaled = tp.mul %logits, %temp : (!tp.tensor<[batch, seq, vocab], f32>, !tp.tensor<[], f32>) -> !tp.tensor<[batch, seq, vocab], f32>
  %loss = tp.cross_entropy %scaled, %tok : (!tp.tensor<[batch, seq, vocab], f32>, !tp.tensor<[batch, seq], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
