// RUN: muir-opt %s | muir-opt | FileCheck %s
// RUN: muir-opt %s --mlir-print-op-generic | muir-opt | FileCheck %s

// Monomials normalise their exponents (2/4 -> 1/2), drop zero axes and
// print in the order N, L, B, D whatever the input order.
// CHECK-LABEL: tp.model @scales
// CHECK: tp.param "w" normal {tp.role = #tp.role<hidden>, tp.scaling = {eps = #tp.scale<1>, init_std = #tp.scale<N = -1/2>, lr = #tp.scale<N = -1, L = -1/2, B = 1/2, D = -1/2>, multiplier = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d"}}
// CHECK: tp.residual {{.*}} {tp.scaling = {multiplier = #tp.scale<L = -1>}}
// CHECK: tp.model @tagged attributes {tp.parametrization = {optimizer = "adamw", scheme = "mup", steps = #tp.scale<B = -1, D = 1>}}
tp.model @scales {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 8>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal {tp.role = #tp.role<hidden>, tp.scaling = {lr = #tp.scale<D = -2/4, B = 1/2, N = -1, L = -1/2>, init_std = #tp.scale<N = -1/2>, eps = #tp.scale<>, multiplier = #tp.scale<1>, weight_decay = #tp.scale<N = 0>, width_dim = "d"}} : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.residual %h, %f {tp.scaling = {multiplier = #tp.scale<L = -1>}} : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}
tp.model @tagged attributes {tp.parametrization = {optimizer = "adamw", scheme = "mup", steps = #tp.scale<B = -1, D = 1>}} {
  tp.output
}
