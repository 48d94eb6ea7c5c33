// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Scaling axes are N, L, B and D.
// expected-error @+1 {{unknown scaling axis 'W'; expected N (width), L (depth), B (batch) or D (duration)}}
tp.model @m attributes {tp.parametrization = {steps = #tp.scale<W = 1>}} {
  tp.output
}

// -----

// Each axis appears once.
// expected-error @+1 {{scaling axis 'N' given twice}}
tp.model @m attributes {tp.parametrization = {steps = #tp.scale<N = 1, N = 2>}} {
  tp.output
}

// -----

// Exponents are rationals with a positive denominator.
// expected-error @+1 {{exponent denominator must be positive}}
tp.model @m attributes {tp.parametrization = {steps = #tp.scale<N = 1/0>}} {
  tp.output
}

// -----

// The only constant monomial is 1: base values carry the coefficients.
// expected-error @+1 {{a constant monomial is written #tp.scale<1>}}
tp.model @m attributes {tp.parametrization = {steps = #tp.scale<2>}} {
  tp.output
}

// -----

// tp.role belongs on parameters.
// expected-error @+1 {{'tp.role' must be a #tp.role on a tp.param}}
tp.model @m attributes {tp.role = #tp.role<hidden>} {
  tp.output
}

// -----

// tp.scaling is a #tp.scaling: the old dictionary is an error.
tp.model @m {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{'tp.scaling' must be a #tp.scaling on a tp.param or a tp.residual}}
  %w = tp.param "w" normal {tp.scaling = 3} : !tp.tensor<[d], f32>
  tp.output %w : !tp.tensor<[d], f32>
}

// -----

tp.model @m {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{'tp.scaling' must be a #tp.scaling on a tp.param or a tp.residual}}
  %w = tp.param "w" normal {tp.scaling = {lr = #tp.scale<1>}} : !tp.tensor<[d], f32>
  tp.output %w : !tp.tensor<[d], f32>
}

// -----

// A quantity's rule is a monomial.
tp.model @m {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+2 {{expected '<'}}
  // expected-error @+1 {{failed to parse TP_ScalingAttr parameter 'lr' which is to be a `::mlir::tp::ScaleAttr`}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<lr = 1.0>} : !tp.tensor<[d], f32>
  tp.output %w : !tp.tensor<[d], f32>
}

// -----

tp.model @m {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{#tp.scaling width_dim must name a dim}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<init_std = <1>, multiplier = <1>, lr = <1>, weight_decay = <1>, width_dim = "">} : !tp.tensor<[d], f32>
  tp.output %w : !tp.tensor<[d], f32>
}

// -----

// Quantities are those of the Quantity enum.
tp.model @m {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{duplicate or unknown struct parameter name: learning_rate}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<learning_rate = <1>>} : !tp.tensor<[d], f32>
  tp.output %w : !tp.tensor<[d], f32>
}

// -----

// The parametrisation record belongs on the model.
tp.model @m {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{'tp.parametrization' must be a #tp.parametrization on a tp.model}}
  %w = tp.param "w" normal {tp.parametrization = #tp.parametrization<scheme = mup, optimizer = adamw, alpha = 1>} : !tp.tensor<[d], f32>
  tp.output %w : !tp.tensor<[d], f32>
}

// -----

// Discardable attributes in the tp namespace are checked by name.
tp.model @m {
  tp.dim @d = width<base 8, size 32>
  // expected-error @+1 {{unknown tp dialect attribute 'tp.lr'}}
  %w = tp.param "w" normal {tp.lr = 1} : !tp.tensor<[d], f32>
  tp.output %w : !tp.tensor<[d], f32>
}
