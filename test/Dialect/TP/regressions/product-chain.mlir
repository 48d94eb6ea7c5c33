// RUN: muir-opt %s | FileCheck %s
// RUN: muirc summary %s | FileCheck %s --check-prefix=SUMMARY

// Regression (audit): the size of a product dim was computed by recursing
// into each factor, so a chain of dims that each multiply the previous one
// by itself took 2^depth steps (here 2^60: a hang). Sizes are now computed
// in one pass over the declarations.

// CHECK: tp.dim @d60 = product<@d59, @d59>
// CHECK: tp.attention
// SUMMARY: w          [h, seq]  [16, 16]    [16, 16]       256  normal
tp.model @m {
  tp.dim @seq = fixed<16>
  tp.dim @d0 = fixed<1>
  tp.dim @d1 = product<@d0, @d0>
  tp.dim @d2 = product<@d1, @d1>
  tp.dim @d3 = product<@d2, @d2>
  tp.dim @d4 = product<@d3, @d3>
  tp.dim @d5 = product<@d4, @d4>
  tp.dim @d6 = product<@d5, @d5>
  tp.dim @d7 = product<@d6, @d6>
  tp.dim @d8 = product<@d7, @d7>
  tp.dim @d9 = product<@d8, @d8>
  tp.dim @d10 = product<@d9, @d9>
  tp.dim @d11 = product<@d10, @d10>
  tp.dim @d12 = product<@d11, @d11>
  tp.dim @d13 = product<@d12, @d12>
  tp.dim @d14 = product<@d13, @d13>
  tp.dim @d15 = product<@d14, @d14>
  tp.dim @d16 = product<@d15, @d15>
  tp.dim @d17 = product<@d16, @d16>
  tp.dim @d18 = product<@d17, @d17>
  tp.dim @d19 = product<@d18, @d18>
  tp.dim @d20 = product<@d19, @d19>
  tp.dim @d21 = product<@d20, @d20>
  tp.dim @d22 = product<@d21, @d21>
  tp.dim @d23 = product<@d22, @d22>
  tp.dim @d24 = product<@d23, @d23>
  tp.dim @d25 = product<@d24, @d24>
  tp.dim @d26 = product<@d25, @d25>
  tp.dim @d27 = product<@d26, @d26>
  tp.dim @d28 = product<@d27, @d27>
  tp.dim @d29 = product<@d28, @d28>
  tp.dim @d30 = product<@d29, @d29>
  tp.dim @d31 = product<@d30, @d30>
  tp.dim @d32 = product<@d31, @d31>
  tp.dim @d33 = product<@d32, @d32>
  tp.dim @d34 = product<@d33, @d33>
  tp.dim @d35 = product<@d34, @d34>
  tp.dim @d36 = product<@d35, @d35>
  tp.dim @d37 = product<@d36, @d36>
  tp.dim @d38 = product<@d37, @d37>
  tp.dim @d39 = product<@d38, @d38>
  tp.dim @d40 = product<@d39, @d39>
  tp.dim @d41 = product<@d40, @d40>
  tp.dim @d42 = product<@d41, @d41>
  tp.dim @d43 = product<@d42, @d42>
  tp.dim @d44 = product<@d43, @d43>
  tp.dim @d45 = product<@d44, @d44>
  tp.dim @d46 = product<@d45, @d45>
  tp.dim @d47 = product<@d46, @d46>
  tp.dim @d48 = product<@d47, @d47>
  tp.dim @d49 = product<@d48, @d48>
  tp.dim @d50 = product<@d49, @d49>
  tp.dim @d51 = product<@d50, @d50>
  tp.dim @d52 = product<@d51, @d51>
  tp.dim @d53 = product<@d52, @d52>
  tp.dim @d54 = product<@d53, @d53>
  tp.dim @d55 = product<@d54, @d54>
  tp.dim @d56 = product<@d55, @d55>
  tp.dim @d57 = product<@d56, @d56>
  tp.dim @d58 = product<@d57, @d57>
  tp.dim @d59 = product<@d58, @d58>
  tp.dim @d60 = product<@d59, @d59>
  tp.dim @h = product<@seq, @d60>
  %q = tp.input "q" : !tp.tensor<[seq, h], f32>
  %a = tp.attention %q, %q, %q head_dim @d60 : (!tp.tensor<[seq, h], f32>, !tp.tensor<[seq, h], f32>, !tp.tensor<[seq, h], f32>) -> !tp.tensor<[seq, h], f32>
  %w = tp.param "w" normal : !tp.tensor<[h, seq], f32>
  tp.output %a : !tp.tensor<[seq, h], f32>
}
