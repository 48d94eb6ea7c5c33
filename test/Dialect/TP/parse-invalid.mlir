// RUN: muir-opt %s -split-input-file -verify-diagnostics

// Parse errors of the tp custom assembly formats: tp.dim's
// `@name = kind<...>`, tp.param's init-or-tie directive, and the enum
// keywords of the declarative formats. Errors of the !tp.tensor syntax are
// in types-invalid.mlir.

//===----------------------------------------------------------------------===//
// tp.dim @name = width<base B, size N> | depth<...> | fixed<N> | product<...>
//===----------------------------------------------------------------------===//

// The dim kind is one of width, fixed, depth, product.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected dim kind 'width', 'fixed', 'depth' or 'product', got 'wide'}}
  tp.dim @d = wide<base 8, size 64>
  tp.output
}

// -----

// Dim kinds are lower case.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected dim kind 'width', 'fixed', 'depth' or 'product', got 'Fixed'}}
  tp.dim @vocab = Fixed<256>
  tp.output
}

// -----

// The dim kind is a keyword, not a bare size.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected valid keyword}}
  tp.dim @vocab = 256
  tp.output
}

// -----

// The name and the kind are separated by '='.
tp.model @m {
  // expected-error @+1 {{expected '='}}
  tp.dim @vocab fixed<256>
  tp.output
}

// -----

// The name is a symbol (`@vocab`).
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected valid '@'-identifier for symbol name}}
  tp.dim vocab = fixed<256>
  tp.output
}

// -----

// A width dim spells out `base B, size N`.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected 'base'}}
  tp.dim @d = width<8, 64>
  tp.output
}

// -----

// The base and the size of a depth dim are separated by ','.
tp.model @m {
  // expected-error @+1 {{expected ','}}
  tp.dim @layers = depth<base 2 size 12>
  tp.output
}

// -----

// A width dim names its target size with `size`.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected 'size'}}
  tp.dim @d = width<base 8, 64>
  tp.output
}

// -----

// A fixed dim's size is an integer literal.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected integer value}}
  tp.dim @vocab = fixed<n>
  tp.output
}

// -----

// Sizes fit in 64 bits.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' integer value too large}}
  tp.dim @vocab = fixed<99999999999999999999999>
  tp.output
}

// -----

// A fixed dim has one size: no `base` (it does not scale).
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' expected integer value}}
  tp.dim @vocab = fixed<base 128, size 256>
  tp.output
}

// -----

// A fixed dim has exactly one size.
tp.model @m {
  // expected-error @+1 {{expected '>'}}
  tp.dim @vocab = fixed<256, 512>
  tp.output
}

// -----

// The kind's parameters are closed by '>'.
tp.model @m {
  // expected-error @+1 {{expected '>'}}
  tp.dim @vocab = fixed<256
  tp.output
}

// -----

// Product factors are symbols (`@n_head`), not bare names.
tp.model @m {
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  // expected-error @+1 {{expected attribute value}}
  tp.dim @d_attn = product<n_head, d_head>
  tp.output
}

// -----

// Product factors are symbols, not strings.
tp.model @m {
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  // expected-error @+1 {{custom op 'tp.dim' invalid kind of attribute specified}}
  tp.dim @d_attn = product<@n_head, "d_head">
  tp.output
}

// -----

// A product has factors.
tp.model @m {
  // expected-error @+1 {{expected attribute value}}
  tp.dim @d_attn = product<>
  tp.output
}

// -----

// Attributes given in the trailing dictionary do not repeat the ones the
// kind spells.
tp.model @m {
  // expected-error @+1 {{custom op 'tp.dim' attribute 'size' occurs more than once in the attribute list}}
  tp.dim @vocab = fixed<256> {size = 512 : i64}
  tp.output
}

// -----

//===----------------------------------------------------------------------===//
// tp.param "path" (normal | trunc_normal | uniform | zeros | ones | tied "other")
//===----------------------------------------------------------------------===//

// A parameter names its init distribution or its tie. (The keyword parser
// reports first, then the directive.)
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  // expected-error @+2 {{custom op 'tp.param' expected valid keyword}}
  // expected-error @+1 {{custom op 'tp.param' expected an init distribution (normal, trunc_normal, uniform, zeros, ones) or 'tied'}}
  %w = tp.param "w" : !tp.tensor<[d], f32>
  tp.output
}

// -----

// The init distribution is a keyword, not a string.
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  // expected-error @+2 {{custom op 'tp.param' expected valid keyword}}
  // expected-error @+1 {{custom op 'tp.param' expected an init distribution (normal, trunc_normal, uniform, zeros, ones) or 'tied'}}
  %w = tp.param "w" "normal" : !tp.tensor<[d], f32>
  tp.output
}

// -----

// The init distribution is one of the known ones.
tp.model @m {
  tp.dim @d = width<base 8, size 64>
  // expected-error @+1 {{custom op 'tp.param' unknown init distribution 'gaussian'; expected normal, trunc_normal, uniform, zeros or ones}}
  %w = tp.param "w" gaussian : !tp.tensor<[d], f32>
  tp.output
}

// -----

// `tied` is followed by the other parameter's path as a string.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{custom op 'tp.param' expected string}}
  %head = tp.param "lm_head" tied wte : !tp.tensor<[vocab, d], f32>
  tp.output
}

// -----

// `tied` needs the other parameter's path.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{custom op 'tp.param' expected string}}
  %head = tp.param "lm_head" tied : !tp.tensor<[vocab, d], f32>
  tp.output
}

// -----

// A parameter has an init distribution or a tie, not both.
tp.model @m {
  tp.dim @vocab = fixed<256>
  tp.dim @d = width<base 8, size 64>
  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d], f32>
  // expected-error @+1 {{expected ':'}}
  %head = tp.param "lm_head" normal tied "wte" : !tp.tensor<[vocab, d], f32>
  tp.output
}

// -----

//===----------------------------------------------------------------------===//
// Enum keywords of the declarative formats
//===----------------------------------------------------------------------===//

// The attention scale is inv_sqrt_head_dim or inv_head_dim.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  // expected-error @+2 {{custom op 'tp.attention' expected ::mlir::tp::AttentionScale to be one of: inv_sqrt_head_dim, inv_head_dim}}
  // expected-error @+1 {{custom op 'tp.attention' failed to parse TP_AttentionScaleAttr parameter 'value' which is to be a `::mlir::tp::AttentionScale`}}
  %a = tp.attention %q, %q, %q head_dim @d_head scale inv_sqrt_d : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[s, d_attn], f32>
  tp.output %a : !tp.tensor<[s, d_attn], f32>
}

// -----

// RoPE names its head dim with the `head_dim` keyword.
tp.model @m {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %x = tp.input "x" : !tp.tensor<[s, d_attn], f32>
  // expected-error @+1 {{expected 'head_dim'}}
  %y = tp.rope %x @d_head : !tp.tensor<[s, d_attn], f32>
  tp.output %y : !tp.tensor<[s, d_attn], f32>
}
