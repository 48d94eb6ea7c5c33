// Parameters of the same roles before, in and after the repeated residual
// blocks, for the depth-by-position tests (test/Parametrization/tables.py,
// instantiate.py): depth rules must follow the position, not the role.
// Width grows 4x (d 64 -> 256), depth 4x (layers 2 -> 8).
!x = !tp.tensor<[batch, seq, features], f32>
!h = !tp.tensor<[batch, seq, d], f32>
!logits = !tp.tensor<[batch, seq, classes], f32>
!vec = !tp.tensor<[d], f32>
!w = !tp.tensor<[d, d], f32>
tp.model @positions {
  tp.dim @batch = fixed<2>
  tp.dim @seq = fixed<16>
  tp.dim @features = fixed<32>
  tp.dim @vocab = fixed<100>
  tp.dim @classes = fixed<10>
  tp.dim @d = width<base 64, size 256>
  tp.dim @layers = depth<base 2, size 8>
  %x = tp.input "x" : !x
  %tok = tp.input "tokens" : !tp.tensor<[batch, seq], i32>
  %cls = tp.input "classes" : !tp.tensor<[batch, seq], i32>

  // Before the blocks: an input layer with a bias, a token embedding, a
  // norm of the embedded stream and a width -> width stem with a bias.
  %w_in = tp.param "in.weight" normal : !tp.tensor<[d, features], f32>
  %b_in = tp.param "in.bias" zeros : !vec
  %z = tp.linear %x, %w_in, %b_in : (!x, !tp.tensor<[d, features], f32>, !vec) -> !h
  %emb = tp.param "emb" normal : !tp.tensor<[vocab, d], f32>
  %e = tp.embedding %tok, %emb : (!tp.tensor<[batch, seq], i32>, !tp.tensor<[vocab, d], f32>) -> !h
  %s = tp.add %z, %e : (!h, !h) -> !h
  %g_pre = tp.param "pre_norm.weight" ones : !vec
  %b_pre = tp.param "pre_norm.bias" zeros : !vec
  %n0 = tp.layer_norm %s, %g_pre, %b_pre : (!h, !vec, !vec) -> !h
  %w_stem = tp.param "stem.weight" normal : !w
  %b_stem = tp.param "stem.bias" zeros : !vec
  %h0 = tp.linear %n0, %w_stem, %b_stem : (!h, !w, !vec) -> !h

  // In the blocks: a pre-norm residual branch with a bias.
  %y = tp.repeat @layers (%h0) : (!h) -> !h {
  ^bb0(%a: !h):
    %g = tp.param "blocks.norm.weight" ones : !vec
    %b = tp.param "blocks.norm.bias" zeros : !vec
    %n = tp.layer_norm %a, %g, %b : (!h, !vec, !vec) -> !h
    %w_fc = tp.param "blocks.fc.weight" normal : !w
    %b_fc = tp.param "blocks.fc.bias" zeros : !vec
    %f = tp.linear %n, %w_fc, %b_fc : (!h, !w, !vec) -> !h
    %r = tp.relu %f : !h
    %o = tp.residual %a, %r : !h
    tp.yield %o : !h
  }

  // After the blocks: the final norm, a width -> width pooler with a bias,
  // the readout and its (fixed-width) bias.
  %g_f = tp.param "final_norm.weight" ones : !vec
  %b_f = tp.param "final_norm.bias" zeros : !vec
  %nf = tp.layer_norm %y, %g_f, %b_f : (!h, !vec, !vec) -> !h
  %w_pool = tp.param "pool.weight" normal : !w
  %b_pool = tp.param "pool.bias" zeros : !vec
  %p = tp.linear %nf, %w_pool, %b_pool : (!h, !w, !vec) -> !h
  %w_head = tp.param "head.weight" normal : !tp.tensor<[classes, d], f32>
  %b_head = tp.param "head.bias" zeros : !tp.tensor<[classes], f32>
  %l = tp.linear %p, %w_head, %b_head : (!h, !tp.tensor<[classes, d], f32>, !tp.tensor<[classes], f32>) -> !logits
  %loss = tp.cross_entropy %l, %cls : (!logits, !tp.tensor<[batch, seq], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
