// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Errors of the !tp.tensor type: its verifier (element types), then its
// syntax `!tp.tensor<[dim, ...], element-type>`. Whether dims are declared
// is a tp.model check (invalid.mlir).

// The element type is an integer or a float type, not index.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{tp.tensor element type must be an integer, float or complex type, got 'index'}}
  %x = tp.input "x" : !tp.tensor<[b], index>
  tp.output
}

// -----

// The element type is a scalar: tensors do not nest.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{tp.tensor element type must be an integer, float or complex type, got '!tp.tensor<[], f32>'}}
  %x = tp.input "x" : !tp.tensor<[b], !tp.tensor<[], f32>>
  tp.output
}

// -----

// The element type is a scalar, not a builtin tensor or vector.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{tp.tensor element type must be an integer, float or complex type, got 'vector<4xf32>'}}
  %x = tp.input "x" : !tp.tensor<[b], vector<4xf32>>
  tp.output
}

// -----

// The dims are a bracketed list, even for one dim.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{expected '[' in dimension list}}
  %x = tp.input "x" : !tp.tensor<b, f32>
  tp.output
}

// -----

// A dim is named by a bare identifier or a string, not by a size.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{expected valid keyword or string}}
  %x = tp.input "x" : !tp.tensor<[b, 4], f32>
  tp.output
}

// -----

// A dim is named without the '@' of its declaration.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{expected valid keyword or string}}
  %x = tp.input "x" : !tp.tensor<[@b], f32>
  tp.output
}

// -----

// The dim list has no trailing comma.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{expected valid keyword or string}}
  %x = tp.input "x" : !tp.tensor<[b,], f32>
  tp.output
}

// -----

// The element type is required, even for a scalar.
tp.model @m {
  // expected-error @+1 {{expected ','}}
  %x = tp.input "x" : !tp.tensor<[]>
  tp.output
}

// -----

// The element type is a type, not a bit width.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{expected non-function type}}
  %x = tp.input "x" : !tp.tensor<[b], 32>
  tp.output
}

// -----

// One element type closes the parameter list.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{expected '>'}}
  %x = tp.input "x" : !tp.tensor<[b], f32, f32>
  tp.output
}

// -----

// The type has parameters.
tp.model @m {
  // expected-error @+1 {{expected '<'}}
  %x = tp.input "x" : !tp.tensor
  tp.output
}

// -----

// `tensor` is the only type of the dialect.
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{unknown  type `tensr` in dialect `tp`}}
  %x = tp.input "x" : !tp.tensr<[b], f32>
  tp.output
}

// -----

// The dim list is closed by ']'. (The message comes from MLIR's lexer of
// dialect types.)
tp.model @m {
  tp.dim @b = fixed<4>
  // expected-error @+1 {{unbalanced '[' character in pretty dialect name}}
  %x = tp.input "x" : !tp.tensor<[b f32>
  tp.output
}
