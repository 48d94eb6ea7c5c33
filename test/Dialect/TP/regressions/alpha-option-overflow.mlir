// RUN: not muir-opt %s '--tp-parametrize=scheme=completep alpha=-9223372036854775808/1' 2>&1 | FileCheck %s --check-prefix=MIN
// RUN: not muir-opt %s '--tp-parametrize=scheme=completep alpha=9223372036854775807/9223372036854775806' 2>&1 | FileCheck %s --check-prefix=NEAR-ONE
// RUN: not muir-opt %s '--tp-parametrize=scheme=completep alpha=9223372036854775807.5' 2>&1 | FileCheck %s --check-prefix=DECIMAL
// RUN: muir-opt %s '--tp-parametrize=scheme=completep alpha=2147483647/2147483647' | FileCheck %s --check-prefix=OK

// Regression (fuzzing the command line, assertions on): alpha=-2^63/1 built
// a Rational of -2^63, whose normalisation takes its absolute value
// (undefined; an assertion in checked builds); 2^63-1 over 2^63-2 rounded
// to 1.0 and was accepted; a huge decimal overflowed. Alpha's terms are now
// limited to 32 bits.

// MIN: alpha-option-overflow.mlir:[[@LINE+5]]:1: error: alpha '-9223372036854775808/1' is not a number; write it as 1, 1/2 or 0.5
// NEAR-ONE: alpha-option-overflow.mlir:[[@LINE+4]]:1: error: alpha '9223372036854775807/9223372036854775806' is not a number
// DECIMAL: alpha-option-overflow.mlir:[[@LINE+3]]:1: error: alpha '9223372036854775807.5' is not a number
// OK: alpha = 1,
// MIN-NOT: Assertion
tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 8>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.residual %h, %f : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}
