// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Regression (fuzzing): dim sizes are I64Attrs, whose getters return them
// unsigned, so fixed<-1> passed the positivity check as 2^64 - 1 and was
// printed as 18446744073709551615, which does not parse back.

tp.model @m {
  // expected-error @+1 {{'tp.dim' op dim 'batch' must have a positive size, got -1}}
  tp.dim @batch = fixed<-1>
  tp.output
}

// -----

tp.model @m {
  // expected-error @+1 {{'tp.dim' op dim 'd' must have positive sizes, got base 4 and size -9223372036854775808}}
  tp.dim @d = width<base 4, size -9223372036854775808>
  tp.output
}

// -----

tp.model @m {
  // expected-error @+1 {{'tp.dim' op dim 'L' must have positive sizes, got base -1 and size 2}}
  tp.dim @L = depth<base -1, size 2>
  tp.output
}
