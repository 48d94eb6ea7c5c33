// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Hostile IR: tp.values and tp.scaling with missing, mistyped or out-of-range
// entries, and in their old dictionary form. An empty tp.values array crashed convert-tp-to-kernels (it read
// element -1), and a missing quantity became a silent 0 (an lr of 0 freezes
// the parameter).

// An empty per-block array.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.values lr is empty; give one value, or one per block}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A value of the wrong kind.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+2 {{expected floating point literal}}
  // expected-error @+1 {{failed to parse TP_ValuesAttr parameter 'lr' which is to be a `::mlir::DenseF64ArrayAttr`}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = ["0.001"], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A missing base quantity.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.values' of a tp.param needs 'lr'}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A quantity nothing reads (a typo).
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{duplicate or unknown struct parameter name: learning_rate}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], learning_rate = [0.1], lr = [0.1], multiplier = [1.0], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// Values the float32 kernels cannot hold: too large, flushed to zero, not
// finite.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.values init_std 1e+300 is beyond float32's range (at most 3.40282347e+38)}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0e300], multiplier = [1.0], lr = [0.1], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.values lr 1e-60 is flushed to zero by float32 (its smallest normal is 1.17549435e-38)}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [1.0e-60], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.values multiplier inf is not finite}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [0x7FF0000000000000], lr = [0.1], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A negative lr, a beta of 1.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.values lr must not be negative, got -0.1}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [-0.1], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.values beta2 must be in [0, 1), got 1}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [0.1], weight_decay = [0.0], beta2 = [1.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// Per-block values: one per block copy, and only in a repeated block.
tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @d = fixed<4>
  tp.dim @L = depth<base 2, size 3>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    // expected-error @+1 {{'tp.values' lr has 2 values but the op has 3 block copies; give one value or one per copy}}
    %g = tp.param "g" ones {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [0.1, 0.2], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
    %n = tp.rms_norm %h, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
    tp.yield %n : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.values' lr has 2 values but the op is not repeated; give one value}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [0.1, 0.2], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// The step of the model's optimizer reads eps and the betas.
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1>} {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.values' needs 'eps', which the adamw step reads}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [0.1], weight_decay = [0.0], beta1 = [0.9], beta2 = [0.999]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A residual branch has one multiplier per block of its tp.repeat.
tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @L = depth<base 2, size 3>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  ^bb0(%h: !tp.tensor<[b], f32>):
    %f = tp.relu %h : !tp.tensor<[b], f32>
    // expected-error @+1 {{'tp.values' multiplier has 2 values but the op has 3 block copies; give one value or one per copy}}
    %r = tp.residual %h, %f {tp.values = #tp.values<multiplier = [1.0, 0.5]>} : !tp.tensor<[b], f32>
    tp.yield %r : !tp.tensor<[b], f32>
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// tp.scaling: an unknown quantity, a missing one, the wrong op, a width dim
// the parameter does not have, an lr on a residual.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{duplicate or unknown struct parameter name: momentum}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<momentum = <1>>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.scaling' of a tp.param needs 'multiplier'}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<init_std = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

tp.model @m {
  tp.dim @b = fixed<2>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  // expected-error @+1 {{'tp.scaling' must be a #tp.scaling on a tp.param or a tp.residual}}
  %y = tp.relu %x {tp.scaling = #tp.scaling<multiplier = #tp.scale<1>>} : !tp.tensor<[b], f32>
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

tp.model @m {
  tp.dim @d = width<base 2, size 8>
  tp.dim @e = width<base 2, size 8>
  // expected-error @+1 {{'tp.scaling' width_dim names 'e', which is not a dim of this parameter}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "e">} : !tp.tensor<[d], f32>
  tp.output
}

// -----

tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @L = depth<base 2, size 3>
  %x = tp.input "x" : !tp.tensor<[b], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b], f32>) -> !tp.tensor<[b], f32> {
  ^bb0(%h: !tp.tensor<[b], f32>):
    %f = tp.relu %h : !tp.tensor<[b], f32>
    // expected-error @+1 {{'tp.scaling' of a tp.residual has only 'multiplier', not 'lr'}}
    %r = tp.residual %h, %f {tp.scaling = #tp.scaling<multiplier = #tp.scale<1>, lr = #tp.scale<1>>} : !tp.tensor<[b], f32>
    tp.yield %r : !tp.tensor<[b], f32>
  }
  tp.output %y : !tp.tensor<[b], f32>
}

// -----

// The dictionaries of before #tp.values and #tp.scaling are errors.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.values' must be a #tp.values on a tp.param or a tp.residual}}
  %w = tp.param "w" normal {tp.values = {init_std = 1.0, lr = 0.1, multiplier = 1.0, weight_decay = 0.0}} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// LionAR's step reads both betas, as Lion's does: beta1 interpolates the
// update direction, beta2 decays the momentum.
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion-ar", alpha = 1>} {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.values' needs 'beta2', which the lion-ar step reads}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [0.1], weight_decay = [0.0], beta1 = [0.9]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// With the momentum recipe (nesterov) LionAR has one beta, the beta1 row.
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion-ar", alpha = 1, nesterov = true, beta = 0.98>} {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.values' needs 'beta1', which the lion-ar step reads}}
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [0.1], weight_decay = [0.0]>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// ... and needs no beta2.
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion-ar", alpha = 1, nesterov = true, beta = 0.98>} {
  tp.dim @d = fixed<2>
  %w = tp.param "w" normal {tp.values = #tp.values<init_std = [1.0], multiplier = [1.0], lr = [0.1], weight_decay = [0.0], beta1 = [0.98]>} : !tp.tensor<[d], f32>
  tp.output
}
