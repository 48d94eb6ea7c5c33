// RUN: muir-opt %s -split-input-file -tp-print-params -verify-diagnostics > /dev/null

// Regression (fuzzing with UBSan): the parameter table multiplied dim sizes
// and added element counts in int64_t without checking, so huge (valid)
// dims overflowed: undefined behaviour, and a table that claimed 1 element
// and -2^63 tensors. Overflowing counts are now errors.

tp.model @m {
  tp.dim @a = fixed<9223372036854775807>
  // expected-error @+1 {{parameter 'w' has more elements than fit in a 64-bit count}}
  %w = tp.param "w" normal : !tp.tensor<[a, a], f32>
  tp.output
}

// -----

// One copy fits, the copies of a repeated parameter do not.
tp.model @m {
  tp.dim @a = fixed<4611686018427387904>
  tp.dim @L = depth<base 1, size 4>
  tp.repeat @L () : () -> () {
    // expected-error @+1 {{parameter 'v' has more elements than fit in a 64-bit count}}
    %v = tp.param "v" normal : !tp.tensor<[a], f32>
    tp.yield
  }
  tp.output
}

// -----

// Each parameter fits, the total does not.
// expected-error @+1 {{model 'm' has more parameter elements than fit in a 64-bit count}}
tp.model @m {
  tp.dim @a = fixed<3037000499>
  %w = tp.param "w" normal : !tp.tensor<[a, a], f32>
  %v = tp.param "v" normal : !tp.tensor<[a, a], f32>
  tp.output
}
