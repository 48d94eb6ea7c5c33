// Regression: the print passes ran once per tp.model in parallel and their
// tables interleaved on stdout (once an EFAULT write error, found by the
// fuzzer's seed check). They now run on the module and print the models in
// program order, whatever the thread count.
// RUN: muir-opt %s --tp-print-params -o /dev/null | FileCheck %s --check-prefix=PARAMS
// RUN: muir-opt %s --tp-parametrize --tp-instantiate --tp-print-report=format=csv -o /dev/null | FileCheck %s --check-prefix=REPORT

// PARAMS: model @m0: 1 parameter
// PARAMS: m0.w
// PARAMS: total: 12 elements in 1 tensors
// PARAMS: model @m1: 1 parameter
// PARAMS: m1.w
// PARAMS: total: 18 elements in 1 tensors
// PARAMS: model @m2: 1 parameter
// PARAMS: m2.w
// PARAMS: total: 24 elements in 1 tensors
// PARAMS: model @m3: 1 parameter
// PARAMS: m3.w
// PARAMS: total: 30 elements in 1 tensors
// PARAMS: model @m4: 1 parameter
// PARAMS: m4.w
// PARAMS: total: 36 elements in 1 tensors
// PARAMS: model @m5: 1 parameter
// PARAMS: m5.w
// PARAMS: total: 42 elements in 1 tensors
// PARAMS: model @m6: 1 parameter
// PARAMS: m6.w
// PARAMS: total: 48 elements in 1 tensors
// PARAMS: model @m7: 1 parameter
// PARAMS: m7.w
// PARAMS: total: 54 elements in 1 tensors

// REPORT: m0.w,
// REPORT: m1.w,
// REPORT: m2.w,
// REPORT: m3.w,
// REPORT: m4.w,
// REPORT: m5.w,
// REPORT: m6.w,
// REPORT: m7.w,

tp.model @m0 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 2>
  %w = tp.param "m0.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

tp.model @m1 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 3>
  %w = tp.param "m1.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

tp.model @m2 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 4>
  %w = tp.param "m2.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

tp.model @m3 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 5>
  %w = tp.param "m3.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

tp.model @m4 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 6>
  %w = tp.param "m4.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

tp.model @m5 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 7>
  %w = tp.param "m5.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

tp.model @m6 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 8>
  %w = tp.param "m6.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

tp.model @m7 {
  tp.dim @b = fixed<4>
  tp.dim @n = fixed<6>
  tp.dim @d = width<base 2, size 9>
  %w = tp.param "m7.w" normal : !tp.tensor<[d, n], f32>
  %x = tp.input "x" : !tp.tensor<[b, n], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, n], f32>, !tp.tensor<[d, n], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}
