// tp-assign-layout rejects an alignment that is not a whole number of
// 128-bit vectors.
// RUN: muir-opt %s -verify-diagnostics --tp-assign-layout=alignment=8

// expected-error@+1 {{alignment must be a positive multiple of 16 bytes (one 128-bit vector), got 8}}
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  tp.output %x : !tp.tensor<[b, n], f32>
}
