// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Regression (fuzzing with assertions): #tp.scale<N = -9223372036854775808>
// reached std::gcd with -2^63, whose absolute value does not exist
// (undefined behaviour; an assertion in checked builds). Exponents are now
// limited to 32-bit numerators and denominators.

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+2 {{exponent -9223372036854775808 is too large; numerators and denominators must be at most 2147483647 in magnitude}}
  // expected-error @+1 {{failed to parse TP_ScalingAttr parameter 'lr' which is to be a `::mlir::tp::ScaleAttr`}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<lr = #tp.scale<N = -9223372036854775808>>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+2 {{exponent 4294967296 is too large; numerators and denominators must be at most 2147483647 in magnitude}}
  // expected-error @+1 {{failed to parse TP_ScalingAttr parameter 'lr' which is to be a `::mlir::tp::ScaleAttr`}}
  %w = tp.param "w" normal {tp.scaling = #tp.scaling<lr = #tp.scale<L = 1/4294967296>>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// The largest accepted exponents.
tp.model @m attributes {tp.parametrization = #tp.parametrization<scheme = "completep", optimizer = "adamw", alpha = 1, steps = #tp.scale<N = -2147483647/2147483647, L = 2147483647/2>>} {
  tp.output
}
