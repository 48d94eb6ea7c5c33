// An instantiated, laid-out model (tp-parametrize, tp-instantiate with a depth
// list, tp-assign-layout): every annotation a pass reads, per-block values, a
// tied head. Fuzz seed for the annotation verifiers and the kernel passes.
module {
  tp.model @tiny_laid_out attributes {tp.buffer = #tp.buffer<elements = 264, alignment = 16>, tp.instance = #tp.instance<width = 2.000000e+00, depth = 1.500000e+00, batch = 1.000000e+00, duration = 1.000000e+00, base = <init_std = [2.000000e-02], lr = [1.000000e-03], weight_decay = [0.000000e+00], eps = [1.000000e-08], beta1 = [9.000000e-01], beta2 = [0.99899999999999999]>, init_std_rule = fixed, steps_multiplier = 1.000000e+00>, tp.parametrization = #tp.parametrization<scheme = "completep", optimizer = "adamw", alpha = 1, steps = #tp.scale<1>>} {
    tp.dim @b = fixed<2>
    tp.dim @v = fixed<8>
    tp.dim @d = width<base 4, size 8>
    tp.dim @L = depth<base 2, size 3>
    %0 = tp.input "t" : !tp.tensor<[b], i32>
    %1 = tp.input "y" : !tp.tensor<[b], i32>
    %2 = tp.param "emb" normal {tp.layout = #tp.layout<offset = 0, stride = 64, numel = 64, copies = 1>, tp.role = #tp.role<embedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, eps = #tp.scale<N = -1>, beta1 = #tp.scale<1>, beta2 = #tp.scale<1>, width_dim = "d">, tp.values = #tp.values<init_std = [2.000000e-02], multiplier = [1.000000e+00], lr = [1.000000e-03], weight_decay = [0.000000e+00], eps = [5.000000e-09], beta1 = [9.000000e-01], beta2 = [0.99899999999999999]>} : !tp.tensor<[v, d], f32>
    %3 = tp.embedding %0, %2 : (!tp.tensor<[b], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, d], f32>
    %4 = tp.repeat @L (%3) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
    ^bb0(%arg0: !tp.tensor<[b, d], f32>):
      %10 = tp.param "blocks.fc" normal {tp.layout = #tp.layout<offset = 64, stride = 64, numel = 64, copies = 3>, tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, eps = #tp.scale<N = -1, L = -1>, beta1 = #tp.scale<1>, beta2 = #tp.scale<1>, width_dim = "d">, tp.values = #tp.values<init_std = [0.014142135623730952], multiplier = [1.000000e+00], lr = [5.000000e-04, 3.750000e-04, 2.500000e-04], weight_decay = [0.000000e+00], eps = [3.3333333333333334E-9], beta1 = [9.000000e-01], beta2 = [0.99899999999999999]>} : !tp.tensor<[d, d], f32>
      %11 = tp.linear %arg0, %10 : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
      %12 = tp.residual %arg0, %11 {tp.scaling = #tp.scaling<multiplier = #tp.scale<L = -1>>, tp.values = #tp.values<multiplier = [0.66666666666666663]>} : !tp.tensor<[b, d], f32>
      tp.yield %12 : !tp.tensor<[b, d], f32>
    }
    %5 = tp.param "norm" ones {tp.layout = #tp.layout<offset = 256, stride = 8, numel = 8, copies = 1>, tp.role = #tp.role<final_norm>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, eps = #tp.scale<1>, beta1 = #tp.scale<1>, beta2 = #tp.scale<1>, width_dim = "d">, tp.values = #tp.values<init_std = [2.000000e-02], multiplier = [1.000000e+00], lr = [1.000000e-03], weight_decay = [0.000000e+00], eps = [1.000000e-08], beta1 = [9.000000e-01], beta2 = [0.99899999999999999]>} : !tp.tensor<[d], f32>
    %6 = tp.rms_norm %4, %5 : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
    %7 = tp.param "head" tied "emb" {tp.layout = #tp.layout<offset = 0, stride = 64, numel = 64, copies = 1>, tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<N = -1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, eps = #tp.scale<N = -1>, beta1 = #tp.scale<1>, beta2 = #tp.scale<1>, width_dim = "d">, tp.values = #tp.values<init_std = [2.000000e-02], multiplier = [5.000000e-01], lr = [1.000000e-03], weight_decay = [0.000000e+00], eps = [5.000000e-09], beta1 = [9.000000e-01], beta2 = [0.99899999999999999]>} : !tp.tensor<[v, d], f32>
    %8 = tp.linear %6, %7 : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
    %9 = tp.cross_entropy %8, %1 : (!tp.tensor<[b, v], f32>, !tp.tensor<[b], i32>) -> !tp.tensor<[], f32>
    tp.output %9 : !tp.tensor<[], f32>
  }
}

