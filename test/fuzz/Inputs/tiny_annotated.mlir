// A model already annotated by tp-parametrize: tp.role, tp.scaling with
// #tp.scale monomials (fractional exponents included) and a model-level
// tp.parametrization. Fuzz seed for the attribute parsers and verifiers.
tp.model @tiny_annotated attributes {tp.parametrization = #tp.parametrization<scheme = "depth-mup", optimizer = "adamw", alpha = 1/2, steps = #tp.scale<B = -1, D = 1>>} {
  tp.dim @b = fixed<4>
  tp.dim @v = fixed<32>
  tp.dim @d = width<base 8, size 64>
  tp.dim @L = depth<base 2, size 16>
  %t = tp.input "tokens" : !tp.tensor<[b], i32>
  %y = tp.input "targets" : !tp.tensor<[b], i32>
  %e = tp.param "emb" normal {tp.role = #tp.role<embedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %x = tp.embedding %t, %e : (!tp.tensor<[b], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, d], f32>
  %h = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%s: !tp.tensor<[b, d], f32>):
    %g = tp.param "blocks.norm" ones {tp.role = #tp.role<norm>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<L = -1/2>, weight_decay = #tp.scale<1>>} : !tp.tensor<[d], f32>
    %n = tp.rms_norm %s, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
    %w = tp.param "blocks.fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1, L = -1/2, B = 1/2, D = -1/2>, weight_decay = #tp.scale<N = 1>, eps = #tp.scale<N = -1, L = -1/2>, width_dim = "d">} : !tp.tensor<[d, d], f32>
    %f = tp.linear %n, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %a = tp.silu %f : !tp.tensor<[b, d], f32>
    %r = tp.residual %s, %a {tp.scaling = #tp.scaling<multiplier = #tp.scale<L = -1/2>>} : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  %u = tp.param "head" zeros {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<N = -1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %z = tp.linear %h, %u : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  %loss = tp.cross_entropy %z, %y : (!tp.tensor<[b, v], f32>, !tp.tensor<[b], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
