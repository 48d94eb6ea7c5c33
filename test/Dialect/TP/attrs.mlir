// RUN: muir-opt %s | muir-opt | FileCheck %s
// RUN: muir-opt %s --mlir-print-op-generic | muir-opt | FileCheck %s

// Monomials normalise their exponents (2/4 -> 1/2), drop zero axes and
// print in the order N, L, B, D whatever the input order.
// CHECK-LABEL: tp.model @scales
// #tp.scaling prints its quantities in the order of the Quantity enum.
// CHECK: tp.param "w" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = <N = -1/2>, multiplier = <1>, lr = <N = -1, L = -1/2, B = 1/2, D = -1/2>, weight_decay = <1>, eps = <1>, width_dim = "d">}
// CHECK: tp.residual {{.*}} {tp.scaling = #tp.scaling<multiplier = <L = -1>>}
// CHECK: tp.model @tagged attributes {tp.parametrization = #tp.parametrization<scheme = mup, optimizer = adamw, alpha = 1, steps = <B = -1, D = 1>>}
tp.model @scales {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 8>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<D = -2/4, B = 1/2, N = -1, L = -1/2>, weight_decay = #tp.scale<N = 0>, eps = #tp.scale<>, width_dim = "d">} : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.residual %h, %f {tp.scaling = #tp.scaling<multiplier = #tp.scale<L = -1>>} : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}
tp.model @tagged attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1, steps = <B = -1, D = 1>>} {
  tp.output
}

// The records of tp-parametrize and tp-instantiate: enums print bare (quoted
// when not an identifier), f64 values read back exactly, unset options and
// a false unscaled_eps are left out, one value per quantity or one per block.
// CHECK-LABEL: tp.model @records
// CHECK-SAME: tp.instance = #tp.instance<width = 4.000000e+00, depth = 2.500000e-01, batch = 1.000000e+00, duration = 3.000000e+00, base = <init_std = [1.000000e+00], lr = [1.000000e-03], weight_decay = [0.000000e+00], eps = [1.000000e-08], beta1 = [0.97999999999999998], beta2 = [0.99899999999999999]>, init_std_rule = fan_in, steps_multiplier = 0.33333333333333331>
// CHECK-SAME: tp.parametrization = #tp.parametrization<scheme = "sp-pytorch", optimizer = "lion-ar", alpha = 1/2, steps = <D = 1>, unscaled_eps = true, nesterov = true, beta = 0.97999999999999998, inverse_bias_correction = false, units = tensor, zero_mean = true, rho = 9.000000e-01, rotational_eps = 1.000000e-08, angle = lr>
// CHECK: tp.param "w" normal {tp.values = #tp.values<init_std = [1.250000e-01], multiplier = [1.000000e+00], lr = [1.000000e-03, 5.000000e-04], weight_decay = [0.000000e+00], beta1 = [0.97999999999999998]>}
tp.model @records attributes {tp.parametrization = #tp.parametrization<scheme = "sp-pytorch", optimizer = "lion-ar", alpha = 2/4, steps = <D = 1>, unscaled_eps = true, nesterov = true, beta = 0.98, inverse_bias_correction = false, units = tensor, zero_mean = true, rho = 0.9, rotational_eps = 1.0e-8, angle = lr>, tp.instance = #tp.instance<width = 4.0, depth = 0.25, batch = 1.0, duration = 3.0, base = <init_std = [1.0], lr = [0.001], weight_decay = [0.0], eps = [1.0e-8], beta1 = [0.98], beta2 = [0.999]>, init_std_rule = fan_in, steps_multiplier = 0.33333333333333331>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 2>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal {tp.values = #tp.values<lr = [0.001, 0.0005], init_std = [0.125], multiplier = [1.0], weight_decay = [0.0], beta1 = [0.98]>} : !tp.tensor<[d], f32>
    %r = tp.add %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}
