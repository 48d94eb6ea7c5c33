// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Hostile IR: the model-level records tp.parametrization and tp.instance.
// The package writer read tp.parametrization's optimizer without checking it
// was there.

// expected-error @+1 {{'tp.parametrization' needs 'optimizer', a non-empty string}}
tp.model @m attributes {tp.parametrization = {scheme = "mup"}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.parametrization' needs 'scheme', a non-empty string}}
tp.model @m attributes {tp.parametrization = {optimizer = "adamw", scheme = ""}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.parametrization' entry 'alpha' must be a string}}
tp.model @m attributes {tp.parametrization = {alpha = 5.000000e-01 : f64, optimizer = "adamw", scheme = "completep"}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.parametrization' entry 'optimizer_options' must be a dictionary}}
tp.model @m attributes {tp.parametrization = {optimizer = "lion", optimizer_options = "recipe", scheme = "completep"}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.parametrization' entry 'steps' must be a #tp.scale monomial}}
tp.model @m attributes {tp.parametrization = {optimizer = "adamw", scheme = "completep", steps = 1.0}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.parametrization' has unknown entry 'lr'; expected scheme, optimizer, optimizer_options, alpha, steps, unscaled_eps}}
tp.model @m attributes {tp.parametrization = {lr = 1.0, optimizer = "adamw", scheme = "completep"}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' entry 'ratios' must map width, depth, batch, duration to positive finite numbers; 'width' does not}}
tp.model @m attributes {tp.instance = {ratios = {width = -16.0}}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' entry 'base' must map lr, init_std, weight_decay, eps, beta1, beta2 to non-negative finite numbers; 'lr' does not}}
tp.model @m attributes {tp.instance = {base = {lr = "0.001"}}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' entry 'ratios' must map width, depth, batch, duration to positive finite numbers; 'height' does not}}
tp.model @m attributes {tp.instance = {ratios = {height = 2.0}}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' entry 'steps_multiplier' must be a positive finite f64}}
tp.model @m attributes {tp.instance = {steps_multiplier = 0.0}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' has unknown entry 'seed'; expected ratios, base, steps_multiplier}}
tp.model @m attributes {tp.instance = {seed = 0 : i64}} {
  tp.output
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.instance' must be a dictionary on a tp.model}}
  %w = tp.param "w" normal {tp.instance = {}} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// expected-error @+1 {{'tp.parametrization' entry 'unscaled_eps' must be a unit attribute}}
tp.model @m attributes {tp.parametrization = {optimizer = "adamw", scheme = "completep", unscaled_eps = true}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' entry 'ratios' must be a dictionary}}
tp.model @m attributes {tp.instance = {ratios = [2.0, 1.0]}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' entry 'base' must be a dictionary}}
tp.model @m attributes {tp.instance = {base = 0.001}} {
  tp.output
}

// -----

// expected-error @+1 {{'tp.instance' entry 'base' maps 'init_std_rule' to "fixed" or "fan_in"}}
tp.model @m attributes {tp.instance = {base = {init_std_rule = "xavier", lr = 1.000000e-03}}} {
  tp.output
}

// -----

// The rule is not a number, but the other base values still are checked.
// expected-error @+1 {{'tp.instance' entry 'base' must map lr, init_std, weight_decay, eps, beta1, beta2 to non-negative finite numbers; 'eps' does not}}
tp.model @m attributes {tp.instance = {base = {init_std_rule = "fan_in", eps = -1.0}}} {
  tp.output
}
