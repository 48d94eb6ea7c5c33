//===- gpt2.mlir - GPT-2 small (124M) as a tp program ---------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GPT-2 small, written by hand in the tp dialect, the way nanoGPT builds it:
//
//   d_model 768, 12 layers, 12 heads of 64 features, d_ff 3072 (4 d_model),
//   vocab 50304 (GPT-2's 50257 padded to a multiple of 64), context 1024,
//   learned positional embeddings, pre-LN blocks (LayerNorm with gain and
//   bias), biases on every linear, causal attention, GELU MLP, a final
//   LayerNorm, an unembedding tied to the token embedding, and the mean
//   cross-entropy of next-token prediction as the output.
//
// The base model (the small proxy on which hyperparameters are tuned) has
// d_model 256, 4 heads of 64 features, d_ff 1024 and 4 layers; the dims
// below hold both sizes, so this one program describes the proxy and the
// target, and muir derives every scaling ratio from them.
//
// Parameter count: 124,475,904 elements. nanoGPT prints "123.69M" because
// it leaves out wpe (786,432); the tied lm_head owns no storage of its own.
//
// Try:
//
//   muirc summary examples/gpt2.mlir            # the parameter table
//   muir-opt examples/gpt2.mlir                 # verify and print
//
// Module paths follow nanoGPT with `transformer.` dropped (the embeddings
// and lm_head are named by their module alone). Parameters inside the
// tp.repeat have one copy per layer, so `blocks.attn.q.weight` stands for
// `transformer.h.{0..11}.attn.q.weight`. nanoGPT fuses q, k and v into one
// `c_attn` of shape [2304, 768]; here they are three [768, 768] projections
// with the same number of elements.
//
//===----------------------------------------------------------------------===//

// The residual stream: one d_model vector per token.
!x = !tp.tensor<[batch, seq, d_model], f32>
// Queries, keys, values and the attention output: n_head heads of d_head.
!qkv = !tp.tensor<[batch, seq, d_attn], f32>
// The MLP's hidden activations.
!ff = !tp.tensor<[batch, seq, d_ff], f32>
// Parameters, PyTorch layout ([fan_out, fan_in] for a linear's weight).
!vec = !tp.tensor<[d_model], f32>
!w_in = !tp.tensor<[d_attn, d_model], f32>
!b_attn = !tp.tensor<[d_attn], f32>
!w_out = !tp.tensor<[d_model, d_attn], f32>
!w_fc = !tp.tensor<[d_ff, d_model], f32>
!b_ff = !tp.tensor<[d_ff], f32>
!w_proj = !tp.tensor<[d_model, d_ff], f32>
!table = !tp.tensor<[vocab, d_model], f32>
!ids = !tp.tensor<[batch, seq], i32>

tp.model @gpt2 {
  // Dims that do not scale with the model.
  tp.dim @batch = fixed<8>
  tp.dim @seq = fixed<1024>
  tp.dim @vocab = fixed<50304>
  tp.dim @d_head = fixed<64>
  // Width: target size 768 = 3 x the base model's 256 (width ratio 3).
  tp.dim @d_model = width<base 256, size 768>
  tp.dim @n_head = width<base 4, size 12>
  tp.dim @d_ff = width<base 1024, size 3072>
  // d_attn = n_head * d_head: 768 here, 256 in the base model.
  tp.dim @d_attn = product<@n_head, @d_head>
  // Depth: the number of transformer blocks (depth ratio 3).
  tp.dim @layers = depth<base 4, size 12>

  // Token ids, and the next token to predict at every position.
  %tokens = tp.input "tokens" : !ids
  %targets = tp.input "targets" : !ids

  // Token and learned positional embeddings. wpe is a [seq, d_model] table
  // added to every sequence of the batch (trailing broadcast).
  %wte = tp.param "wte" normal : !table
  %wpe = tp.param "wpe" normal : !tp.tensor<[seq, d_model], f32>
  %tok_emb = tp.embedding %tokens, %wte : (!ids, !table) -> !x
  %x0 = tp.add %tok_emb, %wpe : (!x, !tp.tensor<[seq, d_model], f32>) -> !x

  // The 12 transformer blocks; %h is the residual stream entering a block.
  %xL = tp.repeat @layers (%x0) : (!x) -> !x {
  ^bb0(%h: !x):
    // Attention branch: x + attn(ln_1(x)).
    %ln1_g = tp.param "blocks.ln_1.weight" ones : !vec
    %ln1_b = tp.param "blocks.ln_1.bias" zeros : !vec
    %a_in = tp.layer_norm %h, %ln1_g, %ln1_b : (!x, !vec, !vec) -> !x

    %wq = tp.param "blocks.attn.q.weight" normal : !w_in
    %bq = tp.param "blocks.attn.q.bias" zeros : !b_attn
    %wk = tp.param "blocks.attn.k.weight" normal : !w_in
    %bk = tp.param "blocks.attn.k.bias" zeros : !b_attn
    %wv = tp.param "blocks.attn.v.weight" normal : !w_in
    %bv = tp.param "blocks.attn.v.bias" zeros : !b_attn
    %q = tp.linear %a_in, %wq, %bq : (!x, !w_in, !b_attn) -> !qkv
    %k = tp.linear %a_in, %wk, %bk : (!x, !w_in, !b_attn) -> !qkv
    %v = tp.linear %a_in, %wv, %bv : (!x, !w_in, !b_attn) -> !qkv
    // No `scale`: the parametrisation picks 1/sqrt(d_head) (SP) or
    // 1/d_head (muP).
    %att = tp.attention %q, %k, %v head_dim @d_head causal
        : (!qkv, !qkv, !qkv) -> !qkv

    %wo = tp.param "blocks.attn.o.weight" normal : !w_out
    %bo = tp.param "blocks.attn.o.bias" zeros : !vec
    %a_out = tp.linear %att, %wo, %bo : (!qkv, !w_out, !vec) -> !x
    %h1 = tp.residual %h, %a_out : !x

    // MLP branch: x + proj(gelu(fc(ln_2(x)))).
    %ln2_g = tp.param "blocks.ln_2.weight" ones : !vec
    %ln2_b = tp.param "blocks.ln_2.bias" zeros : !vec
    %m_in = tp.layer_norm %h1, %ln2_g, %ln2_b : (!x, !vec, !vec) -> !x

    %wfc = tp.param "blocks.mlp.fc.weight" normal : !w_fc
    %bfc = tp.param "blocks.mlp.fc.bias" zeros : !b_ff
    %fc = tp.linear %m_in, %wfc, %bfc : (!x, !w_fc, !b_ff) -> !ff
    %act = tp.gelu %fc : !ff
    %wproj = tp.param "blocks.mlp.proj.weight" normal : !w_proj
    %bproj = tp.param "blocks.mlp.proj.bias" zeros : !vec
    %m_out = tp.linear %act, %wproj, %bproj : (!ff, !w_proj, !vec) -> !x
    %h2 = tp.residual %h1, %m_out : !x

    tp.yield %h2 : !x
  }

  // Final LayerNorm, then logits through the tied unembedding: lm_head is
  // wte itself ([vocab, d_model] is already the [fan_out, fan_in] layout).
  %lnf_g = tp.param "ln_f.weight" ones : !vec
  %lnf_b = tp.param "ln_f.bias" zeros : !vec
  %xf = tp.layer_norm %xL, %lnf_g, %lnf_b : (!x, !vec, !vec) -> !x
  %head = tp.param "lm_head" tied "wte" : !table
  %logits = tp.linear %xf, %head
      : (!x, !table) -> !tp.tensor<[batch, seq, vocab], f32>

  %loss = tp.cross_entropy %logits, %targets
      : (!tp.tensor<[batch, seq, vocab], f32>, !ids) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
