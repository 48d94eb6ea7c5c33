// The kernels' table would overflow what the kernels index, or a tensor is
// not placed for 128-bit accesses: an error at the parameter, naming the
// limit, before any code is generated.
// RUN: muir-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(tp.model(tp-parametrize{scheme=mup optimizer=adamw},tp-instantiate,tp-assign-layout),convert-tp-to-kernels)'

// 2^42 elements: 2^32 chunks of 1024.
tp.model @huge {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<2097152>
  tp.dim @d = width<base 2, size 2097152>
  // expected-error@+1 {{'tp.param' op 'w' (1 x 4398046511104 elements) takes the kernels' chunks of 1024 elements past 2147483647, the most that 32-bit indices address}}
  %w = tp.param "w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// 2^30 chunks each: the second parameter crosses the limit.
tp.model @two {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<1048576>
  tp.dim @d = width<base 2, size 1048576>
  %w = tp.param "w" normal : !tp.tensor<[d, n], f32>
  // expected-error@+1 {{'tp.param' op 'v' (1 x 1099511627776 elements) takes the kernels' chunks of 1024 elements past 2147483647, the most that 32-bit indices address}}
  %v = tp.param "v" normal : !tp.tensor<[n, d], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  %z = tp.linear %y, %v : (!tp.tensor<[b, d], f32>, !tp.tensor<[n, d], f32>) -> !tp.tensor<[b, n], f32>
  tp.output %z : !tp.tensor<[b, n], f32>
}
