// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Hostile IR: the model-level records #tp.parametrization and #tp.instance:
// missing, unknown or mistyped entries, values out of range, the wrong op,
// and the dictionaries they replaced. The package writer once read
// tp.parametrization's optimizer without checking it was there.

// expected-error @+1 {{struct is missing required parameter: optimizer}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = mup, alpha = 1>} {
  tp.output
}

// -----

// expected-error @+2 {{expected ::mlir::tp::Scheme to be one of: sp, sp-pytorch, mup, mup-table8, mup-table9, depth-mup, completep, completedp}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'scheme' which is to be a `::mlir::tp::Scheme`}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = "mup2", optimizer = adamw, alpha = 1>} {
  tp.output
}

// -----

// An optimizer muir does not know (convert-tp-to-kernels once had to reject it).
// expected-error @+2 {{expected ::mlir::tp::Optimizer to be one of: sgd, sgd-momentum, sgd-nesterov, adam, adamw, adamw-decoupled, lion, adam-atan2, lion-a, lion-ar}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'optimizer' which is to be a `::mlir::tp::Optimizer`}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = mup, optimizer = adagrad, alpha = 1>} {
  tp.output
}

// -----

// expected-error @+2 {{expected integer value}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'alpha' which is to be a `::mlir::tp::Rational`}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = completep, optimizer = adamw, alpha = 0.5>} {
  tp.output
}

// -----

// expected-error @+2 {{expected a rational with a positive denominator, both at most 2147483647}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'alpha' which is to be a `::mlir::tp::Rational`}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = completep, optimizer = adamw, alpha = 1/0>} {
  tp.output
}

// -----

// expected-error @+2 {{expected '<'}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'steps' which is to be a `::mlir::tp::ScaleAttr`}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = completep, optimizer = adamw, alpha = 1, steps = 1.0>} {
  tp.output
}

// -----

// expected-error @+1 {{duplicate or unknown struct parameter name: lr}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = completep, optimizer = adamw, alpha = 1, lr = 1.0>} {
  tp.output
}

// -----

// expected-error @+2 {{expected true or false}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'unscaled_eps' which is to be a `bool`}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = completep, optimizer = adamw, alpha = 1, unscaled_eps = 1>} {
  tp.output
}

// -----

// An option of the wrong kind.
// expected-error @+2 {{expected true or false}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'nesterov' which is to be a `std::optional<bool>`}}
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = mup, optimizer = lion, alpha = 1, nesterov = yes>} {
  tp.output
}

// -----

// The dictionary of before.
// expected-error @+1 {{'tp.parametrization' must be a #tp.parametrization on a tp.model}}
tp.model @m attributes {tp.parametrization = {optimizer = "adamw", scheme = "mup"}} {
  tp.output
}

// -----

// expected-error @+1 {{#tp.instance width must be a positive finite f64, got -16}}
tp.model @m attributes {tp.instance = #tp.instance<width = -16.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <lr = [0.001]>, init_std_rule = fixed, steps_multiplier = 1.0>} {
  tp.output
}

// -----

// expected-error @+1 {{#tp.instance steps_multiplier must be a positive finite f64, got 0}}
tp.model @m attributes {tp.instance = #tp.instance<width = 1.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <lr = [0.001]>, init_std_rule = fixed, steps_multiplier = 0.0>} {
  tp.output
}

// -----

// expected-error @+1 {{#tp.instance base holds the base value of every quantity but multiplier}}
tp.model @m attributes {tp.instance = #tp.instance<width = 1.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <multiplier = [1.0], lr = [0.001]>, init_std_rule = fixed, steps_multiplier = 1.0>} {
  tp.output
}

// -----

// expected-error @+2 {{#tp.values eps must not be negative, got -1}}
// expected-error @+1 {{failed to parse TP_InstanceAttr parameter 'base' which is to be a `::mlir::tp::ValuesAttr`}}
tp.model @m attributes {tp.instance = #tp.instance<width = 1.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <eps = [-1.0]>, init_std_rule = fan_in, steps_multiplier = 1.0>} {
  tp.output
}

// -----

// expected-error @+2 {{expected ::mlir::tp::InitStdRule to be one of: fixed, fan_in}}
// expected-error @+1 {{failed to parse TP_InstanceAttr parameter 'init_std_rule' which is to be a `::mlir::tp::InitStdRule`}}
tp.model @m attributes {tp.instance = #tp.instance<width = 1.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <lr = [0.001]>, init_std_rule = xavier, steps_multiplier = 1.0>} {
  tp.output
}

// -----

// expected-error @+1 {{expected '>'}}
tp.model @m attributes {tp.instance = #tp.instance<width = 1.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <lr = [0.001]>, init_std_rule = fixed, steps_multiplier = 1.0, seed = 0>} {
  tp.output
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.instance' must be a #tp.instance on a tp.model}}
  %w = tp.param "w" normal {tp.instance = #tp.instance<width = 1.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <lr = [0.001]>, init_std_rule = fixed, steps_multiplier = 1.0>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' must be a #tp.instance on a tp.model}}
tp.model @m attributes {tp.instance = {ratios = {width = 16.0}}} {
  tp.output
}
