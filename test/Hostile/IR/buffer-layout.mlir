// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Hostile IR: tp.buffer and tp.layout as a hand edit can break them. Before
// the dialect checked them, a tp.buffer without `elements` crashed
// convert-tp-to-kernels and a tp.layout without `copies` made it skip the
// parameter silently; a layout past the buffer would have written past it.
// #tp.buffer and #tp.layout parse only with every entry, each an i64, and
// verify their own ranges; tp.model's verifier checks them against the
// program.

// tp.buffer needs its element count (the parser expects the next entry).
// expected-error @+1 {{expected ','}}
tp.model @m attributes {tp.buffer = #tp.buffer<alignment = 64>} {
  tp.output
}

// -----

// An alignment that is not a multiple of 16 bytes.
// expected-error @+1 {{#tp.buffer alignment must be a multiple of 16 bytes in [16, 2^30], got 24}}
tp.model @m attributes {tp.buffer = #tp.buffer<elements = 0, alignment = 24>} {
  tp.output
}

// -----

// A negative element count.
// expected-error @+1 {{#tp.buffer elements must be in [0, 2305843009213693951], got -1}}
tp.model @m attributes {tp.buffer = #tp.buffer<elements = -1, alignment = 64>} {
  tp.output
}

// -----

// An entry wider than 64 bits.
// expected-error @+2 {{integer value too large}}
// expected-error @+1 {{failed to parse TP_BufferAttr parameter 'elements' which is to be a `int64_t`}}
tp.model @m attributes {tp.buffer = #tp.buffer<elements = 99999999999999999999999, alignment = 64>} {
  tp.output
}

// -----

// An unknown entry (a typo of a real one).
// expected-error @+1 {{duplicate or unknown struct parameter name: element}}
tp.model @m attributes {tp.buffer = #tp.buffer<element = 4, alignment = 64>} {
  tp.output
}

// -----

// The dictionary the passes wrote before the attribute was typed.
// expected-error @+1 {{'tp.buffer' must be a #tp.buffer on a tp.model}}
tp.model @m attributes {tp.buffer = {alignment = 64 : i64, elements = 0 : i64}} {
  tp.output
}

// -----

// tp.buffer belongs on the model.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.buffer' must be a #tp.buffer on a tp.model}}
  %w = tp.param "w" normal {tp.buffer = #tp.buffer<elements = 2, alignment = 64>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A layout without `copies`.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{expected ','}}
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = 0, stride = 2, numel = 2>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// Zero copies.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.layout copies must be in [1, 2305843009213693951], got 0}}
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = 0, stride = 2, numel = 2, copies = 0>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A stride shorter than a copy: copies would overlap.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.layout stride must be in [2, 2305843009213693951], got 1}}
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = 0, stride = 1, numel = 2, copies = 1>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A negative offset.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.layout offset must be in [0, 2305843009213693951], got -16}}
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = -16, stride = 2, numel = 2, copies = 1>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// Copies whose end overflows 64 bits.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{#tp.layout ends past the largest flat buffer (2^61 f32 elements)}}
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = 0, stride = 2, numel = 2, copies = 2305843009213693951>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A layout whose numel is not the parameter's.
tp.model @m attributes {tp.buffer = #tp.buffer<elements = 16, alignment = 64>} {
  tp.dim @d = fixed<4>
  // expected-error @+1 {{'tp.layout' gives numel 2 and copies 1 but the parameter has 4 elements and 1 block copies}}
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = 0, stride = 2, numel = 2, copies = 1>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// One copy laid out for a parameter repeated three times.
tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @d = fixed<4>
  tp.dim @L = depth<base 2, size 3>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    // expected-error @+1 {{'tp.layout' gives numel 4 and copies 1 but the parameter has 4 elements and 3 block copies}}
    %g = tp.param "g" ones {tp.layout = #tp.layout<offset = 0, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
    %n = tp.rms_norm %h, %g : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
    tp.yield %n : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// A layout that ends past the buffer.
tp.model @m attributes {tp.buffer = #tp.buffer<elements = 16, alignment = 64>} {
  tp.dim @d = fixed<4>
  // expected-error @+1 {{'tp.layout' ends at element 20, past the 16 elements of the model's 'tp.buffer'}}
  %w = tp.param "w" normal {tp.layout = #tp.layout<offset = 16, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// Two parameters in the same elements.
tp.model @m attributes {tp.buffer = #tp.buffer<elements = 32, alignment = 64>} {
  tp.dim @d = fixed<4>
  %a = tp.param "a" normal {tp.layout = #tp.layout<offset = 16, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
  // expected-error @+1 {{'tp.layout' [18, 22) overlaps 'a' [16, 20)}}
  %b = tp.param "b" normal {tp.layout = #tp.layout<offset = 18, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A laid-out model whose parameter has no layout.
tp.model @m attributes {tp.buffer = #tp.buffer<elements = 32, alignment = 64>} {
  tp.dim @d = fixed<4>
  %a = tp.param "a" normal {tp.layout = #tp.layout<offset = 0, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
  // expected-error @+1 {{has no 'tp.layout' but the model has a 'tp.buffer'; every parameter is laid out}}
  %b = tp.param "b" normal : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A tied parameter shares its owner's storage.
tp.model @m attributes {tp.buffer = #tp.buffer<elements = 32, alignment = 64>} {
  tp.dim @d = fixed<4>
  %a = tp.param "a" normal {tp.layout = #tp.layout<offset = 0, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
  // expected-error @+1 {{'tp.layout' of a tied parameter must be the layout of 'a'}}
  %b = tp.param "b" tied "a" {tp.layout = #tp.layout<offset = 16, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// A layout on an input.
tp.model @m {
  tp.dim @d = fixed<4>
  // expected-error @+1 {{'tp.layout' must be a #tp.layout on a tp.param}}
  %x = tp.input "x" {tp.layout = #tp.layout<offset = 0, stride = 4, numel = 4, copies = 1>} : !tp.tensor<[d], f32>
  tp.output
}

// -----

// The dictionary the passes wrote before the attribute was typed.
tp.model @m {
  tp.dim @d = fixed<2>
  // expected-error @+1 {{'tp.layout' must be a #tp.layout on a tp.param}}
  %w = tp.param "w" normal {tp.layout = {copies = 1 : i64, numel = 2 : i64, offset = 0 : i64, stride = 2 : i64}} : !tp.tensor<[d], f32>
  tp.output
}
