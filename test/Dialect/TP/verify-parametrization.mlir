// RUN: muir-opt %s -split-input-file -verify-diagnostics --tp-verify-parametrization
// With strict, every finding is an error and the run fails; remarks stay
// remarks and the negative cases stay silent.
// (The expected-* lines are dropped: muir-opt checks them whenever present.)
// RUN: grep -v expected- %s | not muir-opt -split-input-file --tp-verify-parametrization='strict=true' -o /dev/null 2>&1 | FileCheck %s --check-prefix=STRICT
// That the pass never changes the IR and is silent on every tp-parametrize
// output is checked by test/Parametrization/verify.py.

// STRICT-NOT: warning:
// STRICT: error: attention logits are scaled by 1/sqrt(d_head) but head dim 'd_head' grows with width; scheme 'mup-table8' needs 1/d_head
// STRICT: remark: attention logits are scaled by 1/sqrt(d_head); head dim 'd_head' is fixed at 64
// STRICT: error: readout 'head' starts with multiplier x init_std of scale N^0
// STRICT-NOT: warning:

// Each case is a hand-written annotation. `lion` has no eps, so cases that
// are not about eps leave it out.

// TP5 Def. 4.1: when d_head grows with width, q.k grows like d_head, so
// muP needs 1/d_head; 1/sqrt(d_head) lets the logits blow up.
tp.model @attention_inv_sqrt_with_width_head_dim attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table8", optimizer = "lion", alpha = 1>} {
  tp.dim @s = fixed<16>
  tp.dim @n_head = fixed<4>
  tp.dim @d_head = width<base 16, size 64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  // expected-warning @+2 {{attention logits are scaled by 1/sqrt(d_head) but head dim 'd_head' grows with width; scheme 'mup-table8' needs 1/d_head}}
  // expected-note @+1 {{q and k become correlated during training, so q.k grows like d_head and only q.k/d_head stays O(1) as width grows (TP5 Def. 4.1; microsoft/mup uses 8/d); set 'scale inv_head_dim' or drop the scale and rerun tp-parametrize}}
  %a = tp.attention %q, %q, %q head_dim @d_head causal scale inv_sqrt_head_dim : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[s, d_attn], f32>
  tp.output %a : !tp.tensor<[s, d_attn], f32>
}

// -----

// With d_head fixed (width grows by adding heads) 1/sqrt(d_head) is a
// constant times 1/d_head: a remark, not a finding.
tp.model @negative_attention_fixed_head_dim attributes {tp.parametrization = #tp.parametrization<scheme = "completep", optimizer = "lion", alpha = 1>} {
  tp.dim @s = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  // expected-remark @+1 {{attention logits are scaled by 1/sqrt(d_head); head dim 'd_head' is fixed at 64, so this is muP's 1/d_head times a constant and does not affect transfer (TP5 App. B.1: the constant belongs to the tunable attention multiplier)}}
  %a = tp.attention %q, %q, %q head_dim @d_head scale inv_sqrt_head_dim : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[s, d_attn], f32>
  tp.output %a : !tp.tensor<[s, d_attn], f32>
}

// -----

// SP makes no claim about width, and muP's 1/d_head is what it should be.
tp.model @negative_attention_sp_and_inv_head_dim attributes {tp.parametrization = #tp.parametrization<scheme = "sp", optimizer = "lion", alpha = 1>} {
  tp.dim @s = fixed<16>
  tp.dim @n_head = fixed<4>
  tp.dim @d_head = width<base 16, size 64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  %a = tp.attention %q, %q, %q head_dim @d_head scale inv_sqrt_head_dim : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[s, d_attn], f32>
  tp.output %a : !tp.tensor<[s, d_attn], f32>
}

// -----

tp.model @negative_attention_inv_head_dim attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion", alpha = 1>} {
  tp.dim @s = fixed<16>
  tp.dim @n_head = fixed<4>
  tp.dim @d_head = width<base 16, size 64>
  tp.dim @d_attn = product<@n_head, @d_head>
  %q = tp.input "q" : !tp.tensor<[s, d_attn], f32>
  %a = tp.attention %q, %q, %q head_dim @d_head scale inv_head_dim : (!tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>, !tp.tensor<[s, d_attn], f32>) -> !tp.tensor<[s, d_attn], f32>
  tp.output %a : !tp.tensor<[s, d_attn], f32>
}

// -----

// A TP5 Table 8 readout whose 1/fan_in multiplier was dropped: the logits
// are O(sqrt(fan_in)) at init and each Adam step moves them by O(fan_in).
tp.model @readout_without_multiplier attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table8", optimizer = "lion", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+4 {{readout 'head' starts with multiplier x init_std of scale N^0 (multiplier N^0, init_std N^0) but muP needs N^-1 (1/fan_in)}}
  // expected-note @+3 {{a weight that maps the width to a finite dim needs output 1/fan_in, so the multiplier and init_std width exponents must sum to -1: TP5 Table 3 (multiplier N^0, init_std N^-1), Table 8 (N^-1, N^0) or Table 9 (N^-1/2, N^-1/2); with multiplier N^0 init_std must be N^-1, with init_std N^0 the multiplier must be N^-1 (TP5 App. B)}}
  // expected-warning @+2 {{readout 'head' moves its logits by N^1 per step (multiplier N^0, lr N^0) but muP needs N^0}}
  // expected-note @+1 {{under Adam-like optimizers the logit update is multiplier * lr * fan_in, so multiplier + lr must be -1: TP5 Table 3 (multiplier N^0, lr N^-1), Table 8 (N^-1, N^0) or Table 9 (N^-1/2, N^-1/2); with multiplier N^0 lr must be N^-1 (TP5 Lemma J.1)}}
  %head = tp.param "head" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

// A TP5 Table 3 readout left at the hidden init 1/sqrt(fan_in): only the
// init is wrong, its lr 1/fan_in is right.
tp.model @readout_without_init attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{readout 'head' starts with multiplier x init_std of scale N^-1/2 (multiplier N^0, init_std N^-1/2) but muP needs N^-1 (1/fan_in)}}
  // expected-note @+1 {{with multiplier N^0 init_std must be N^-1}}
  %head = tp.param "head" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, eps = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

// Mixing forms (Table 3's init and multiplier with Table 8's constant LR)
// breaks Lemma J.1: the logit updates grow like fan_in.
tp.model @readout_lr_from_another_form attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{readout 'head' moves its logits by N^1 per step (multiplier N^0, lr N^0) but muP needs N^0}}
  // expected-note @+1 {{with multiplier N^0 lr must be N^-1 (TP5 Lemma J.1)}}
  %head = tp.param "head" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, eps = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

// SGD moves the weight by lr * multiplier * grad, so the logit update is
// multiplier^2 * lr * fan_in: TP5 Table 8's SGD LR is fan_in, not 1.
tp.model @readout_sgd_lr attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table8", optimizer = "sgd", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{readout 'head' moves its logits by N^-1 per step (multiplier N^-1, lr N^0) but muP needs N^0}}
  // expected-note @+1 {{under SGD the logit update is multiplier^2 * lr * fan_in, so 2 x multiplier + lr must be -1: TP5 Table 3 (multiplier N^0, lr N^-1), Table 8 (N^-1, N^1) or Table 9 (N^-1/2, N^0); with multiplier N^-1 lr must be N^1 (TP5 Lemma J.1)}}
  %head = tp.param "head" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<N = -1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

// A tied readout has no init or optimizer state of its own: its own
// init_std entry (here the Table 3 value) is not what initialises the
// storage, the embedding's is.
tp.model @tied_readout_uses_owner_init attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table8", optimizer = "lion", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %tok = tp.input "tokens" : !tp.tensor<[b], i32>
  %wte = tp.param "wte" normal {tp.role = #tp.role<embedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %x = tp.embedding %tok, %wte : (!tp.tensor<[b], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{readout 'lm_head' starts with multiplier x init_std of scale N^0 (multiplier N^0, init_std N^0 of 'wte', whose storage it shares) but muP needs N^-1 (1/fan_in)}}
  // expected-note @+1 {{with multiplier N^0 init_std must be N^-1, with init_std N^0 the multiplier must be N^-1}}
  %head = tp.param "lm_head" tied "wte" {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

// The three equivalent muP readouts (TP5 Tables 3, 8 and 9, Adam), a tied
// Table 8 readout, and a zero-init readout whose init scale is moot (TP5
// App. D.2) stay silent.
tp.model @negative_readout_forms attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table9", optimizer = "lion", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %tok = tp.input "tokens" : !tp.tensor<[b], i32>
  %wte = tp.param "wte" normal {tp.role = #tp.role<embedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %x = tp.embedding %tok, %wte : (!tp.tensor<[b], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, d], f32>
  %t3 = tp.param "table3" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %t8 = tp.param "table8" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<N = -1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %t9 = tp.param "table9" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<N = -1/2>, lr = #tp.scale<N = -1/2>, weight_decay = #tp.scale<N = 1/2>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %tied = tp.param "tied" tied "wte" {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<N = -1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %zero = tp.param "zero" zeros {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y3 = tp.linear %x, %t3 : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  %y8 = tp.linear %x, %t8 : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  %y9 = tp.linear %x, %t9 : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  %yt = tp.linear %x, %tied : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  %yz = tp.linear %x, %zero : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y3, %y8, %y9, %yt, %yz : !tp.tensor<[b, v], f32>, !tp.tensor<[b, v], f32>, !tp.tensor<[b, v], f32>, !tp.tensor<[b, v], f32>, !tp.tensor<[b, v], f32>
}

// -----

// Coupled decay: mup's hidden LR 1/fan_in without weight_decay x fan_in
// lets the decay fade with width.
tp.model @coupled_weight_decay_not_scaled attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{weight decay of 'fc' breaks constant lr x weight_decay: lr x weight_decay scales like N^-1 (lr N^-1, weight_decay N^0)}}
  // expected-note @+1 {{coupled decay (PyTorch AdamW, SGD) shrinks the weight by lr x weight_decay each step, which must not change with width, so weight_decay must be N^1 (microsoft/mup MuAdamW 'weight_decay *= width_mult'; CompleteP Table 1 'Hidden WD x m_N')}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// LionAR: the coupled rule (weight_decay x fan_in) keeps lr x weight_decay
// constant, so REQ's equilibrium angle sqrt(2 lr wd) would not shrink like
// lr / init_std = N^-1/2 for a hidden matrix.
tp.model @lion_ar_coupled_weight_decay attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion-ar", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{weight decay of 'fc' breaks LionAR's angle: lr x weight_decay scales like N^0 but the angle per step sqrt(2 lr wd) must scale like lr / init_std = N^-1/2, so lr x weight_decay like N^-1}}
  // expected-note @+1 {{a sign update moves a row by lr sqrt(C) and the row's norm is init_std sqrt(C) (REQ, Kosson et al. 2023; docs/Parametrization.md)}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Decoupled (Loshchilov-Hutter) decay: keeping the coupled x fan_in makes
// the per-step shrink grow with width.
tp.model @decoupled_weight_decay_scaled attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw-decoupled", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{weight decay of 'fc' breaks constant lr x weight_decay: weight_decay scales like N^1 (lr N^-1, weight_decay N^1)}}
  // expected-note @+1 {{decoupled (Loshchilov-Hutter) decay subtracts weight_decay x theta each step, so weight_decay itself is the coupled lr x weight_decay and must be N^0 (microsoft/mup MuAdamW decoupled_wd; docs/Parametrization.md)}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, eps = #tp.scale<N = -1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Complete^(d)P: the SDE factor sqrt(m_B/m_D) on the LR alone leaves
// lr x weight_decay at sqrt(m_B/m_D) while training runs m_D/m_B steps.
tp.model @completedp_weight_decay_without_sde attributes {tp.parametrization = #tp.parametrization<scheme = "completedp", optimizer = "lion", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{weight decay of 'fc' breaks the batch and duration rule: lr x weight_decay scales like B^1/2 D^-1/2 but scheme 'completedp' needs B^1 D^-1 (m_B/m_D)}}
  // expected-note @+1 {{training runs m_D/m_B times the steps, so the decay's timescale 1/(lr x weight_decay) must shrink by the same factor (Wang & Aitchison, ICML 2025: constant tau_epoch; Complete^(d)P Table 1 SDE column: lr and weight decay x sqrt(m_B/m_D))}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1, B = 1/2, D = -1/2>, weight_decay = #tp.scale<N = 1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Correct decay: coupled x fan_in (mup), decoupled constant with the
// Complete^(d)P factor m_B/m_D, and a parameter without a width dim whose
// N exponents have nothing to act on.
tp.model @negative_weight_decay attributes {tp.parametrization = #tp.parametrization<scheme = "completedp", optimizer = "adamw-decoupled", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @c = fixed<3>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1, B = 1/2, D = -1/2>, weight_decay = #tp.scale<B = 1, D = -1>, eps = #tp.scale<N = -1, B = -1/2, D = 1/2>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %s = tp.param "s" ones {tp.role = #tp.role<scalar>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<N = 5, B = 1/2, D = -1/2>, weight_decay = #tp.scale<B = 1, D = -1>, eps = #tp.scale<B = -1/2, D = 1/2>>} : !tp.tensor<[], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  %z = tp.mul %y, %s : (!tp.tensor<[b, d], f32>, !tp.tensor<[], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %z : !tp.tensor<[b, d], f32>
}

// -----

// TP5 Table 8 gradients are all 1/fan_in, so a constant eps (microsoft/mup
// does not scale it) swamps sqrt(v) of the hidden weights at width.
tp.model @eps_constant_under_table8 attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table8", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{eps of 'fc' scales like N^0 but its gradient like N^-1: eps does not shrink with the gradient (eps dominates sqrt(v), so Adam degenerates to SGD at width)}}
  // expected-note @+1 {{TP5 App. B.3: a non-negligible eps must scale like the gradient (1/fan_in after the square root); the gradient of a parameter of role 'hidden' is N^-1 in TP5 Table 3's form (Complete^(d)P Table 1, muP column) times its multiplier N^0 (TP5 Lemma J.1), so eps must be N^-1 or smaller}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, eps = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// The same constant eps chosen on purpose (tp-parametrize unscaled-eps, as
// microsoft/mup does) is recorded, so the eps check is off and says so once.
// expected-remark @+1 {{eps is unscaled by choice (tp-parametrize unscaled-eps, microsoft/mup's behaviour), so the eps check is off: eps stays at its base value while the gradients shrink like 1/width, which transfers only while eps is negligible next to sqrt(v) (TP5 App. B.3)}}
tp.model @eps_unscaled_by_choice attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table8", optimizer = "adamw", alpha = 1, unscaled_eps = true>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, eps = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// The Table 8 readout's 1/fan_in multiplier makes its gradient 1/fan_in
// too (Lemma J.1), so the Table 3 readout eps (constant) is too large.
tp.model @eps_readout_multiplier attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table8", optimizer = "adam", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-warning @+2 {{eps of 'head' scales like N^0 but its gradient like N^-1}}
  // expected-note @+1 {{the gradient of a parameter of role 'unembedding' is N^0 in TP5 Table 3's form (Complete^(d)P Table 1, muP column) times its multiplier N^-1 (TP5 Lemma J.1), so eps must be N^-1 or smaller}}
  %head = tp.param "head" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<N = -1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, eps = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

// Correct eps: Table 3's constant readout eps, Table 9's N^-1/2 embedding
// (multiplier sqrt(fan_out)), an eps that shrinks faster than needed, and
// SP, which makes no width claim.
tp.model @negative_eps attributes {tp.parametrization = #tp.parametrization<scheme = "mup-table9", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %tok = tp.input "tokens" : !tp.tensor<[b], i32>
  %wte = tp.param "wte" normal {tp.role = #tp.role<embedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<N = 1/2>, lr = #tp.scale<N = -1/2>, weight_decay = #tp.scale<N = 1/2>, eps = #tp.scale<N = -1/2>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %x = tp.embedding %tok, %wte : (!tp.tensor<[b], i32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, d], f32>
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, eps = #tp.scale<N = -2>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %h = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  %head = tp.param "head" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<N = -1/2>, lr = #tp.scale<N = -1/2>, weight_decay = #tp.scale<N = 1/2>, eps = #tp.scale<N = -1/2>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %h, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

tp.model @negative_eps_table3_readout attributes {tp.parametrization = #tp.parametrization<scheme = "completedp", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @v = fixed<10>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %head = tp.param "head" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1, B = 1/2, D = -1/2>, weight_decay = #tp.scale<N = 1, B = 1/2, D = -1/2>, eps = #tp.scale<B = -1/2, D = 1/2>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %y = tp.linear %x, %head : (!tp.tensor<[b, d], f32>, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>
  tp.output %y : !tp.tensor<[b, v], f32>
}

// -----

tp.model @negative_eps_sp attributes {tp.parametrization = #tp.parametrization<scheme = "sp", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, eps = #tp.scale<1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Malformed input: nothing to check without the parametrisation record.
// expected-error @+1 {{model has no 'tp.parametrization'; run tp-parametrize first}}
tp.model @no_parametrization {
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[d], f32>
  tp.output %x : !tp.tensor<[d], f32>
}

// -----

// An unknown scheme no longer parses.
// expected-error @+2 {{expected ::mlir::tp::Scheme to be one of: sp, sp-pytorch, mup, mup-table8, mup-table9, depth-mup, completep, completedp}}
// expected-error @+1 {{failed to parse TP_ParametrizationAttr parameter 'scheme' which is to be a `::mlir::tp::Scheme`}}
tp.model @unknown_scheme attributes {tp.parametrization = #tp.parametrization<scheme = "mu-p", optimizer = "adamw", alpha = 1>} {
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[d], f32>
  tp.output %x : !tp.tensor<[d], f32>
}

// -----

tp.model @param_without_annotation attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{parameter 'fc' has no 'tp.role'; run tp-parametrize first}}
  %w = tp.param "fc" normal : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

tp.model @param_without_scaling attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{parameter 'fc' has no 'tp.scaling'; run tp-parametrize first}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Adam needs an eps rule to check.
tp.model @param_without_eps attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "adamw", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.scaling' of 'fc' has no 'eps' monomial; run tp-parametrize first}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Without width_dim tp-instantiate would apply none of the N exponents.
tp.model @param_without_width_dim attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.scaling' of 'fc' has no 'width_dim' although its type has the width dim 'd'; run tp-parametrize first}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>>} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

tp.model @width_dim_not_in_type attributes {tp.parametrization = #tp.parametrization<scheme = "mup", optimizer = "lion", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @e = width<base 8, size 32>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+1 {{'tp.scaling' width_dim names 'e', which is not a dim of this parameter}}
  %w = tp.param "fc" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = #tp.scale<N = -1/2>, multiplier = #tp.scale<1>, lr = #tp.scale<N = -1>, weight_decay = #tp.scale<N = 1>, width_dim = "e">} : !tp.tensor<[d, d], f32>
  %y = tp.linear %x, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Depth rules scale the parameters inside the residual blocks only (CompleteP
// Table 1): an input layer's bias before the blocks with a depth-scaled lr
// and eps (what tp-parametrize wrote when rules followed the role alone) is a
// finding; the same bias inside the block is not.
tp.model @depth_exponent_outside_blocks attributes {tp.parametrization = #tp.parametrization<scheme = "depth-mup", optimizer = "adam", alpha = 1>} {
  tp.dim @b = fixed<2>
  tp.dim @f = fixed<4>
  tp.dim @d = width<base 8, size 32>
  tp.dim @layers = depth<base 2, size 8>
  %x = tp.input "x" : !tp.tensor<[b, f], f32>
  %w = tp.param "in.weight" normal {tp.role = #tp.role<embedding>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<1>, weight_decay = #tp.scale<1>, eps = #tp.scale<N = -1>, width_dim = "d">} : !tp.tensor<[d, f], f32>
  // expected-warning @+2 {{'in.bias' sits before the blocks, outside every tp.repeat, but scales with depth (lr L^-1/2, eps L^-1/2): a model-level parameter keeps its base values at every depth}}
  // expected-note @+1 {{depth rules scale only the parameters inside the residual blocks (LR x m_L^(alpha-1), eps x m_L^-alpha: CompleteP Table 1 'Pre-LN', 'Hidden', 'Hidden Bias' and 'AdamW eps (residual blocks)' rows; Complete^(d)P Table 1); embeddings, the final norm, the readout and any bias or norm outside the blocks have no depth factor}}
  %bias = tp.param "in.bias" zeros {tp.role = #tp.role<hidden_bias>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<L = -1/2>, weight_decay = #tp.scale<1>, eps = #tp.scale<N = -1, L = -1/2>, width_dim = "d">} : !tp.tensor<[d], f32>
  %h = tp.linear %x, %w, %bias : (!tp.tensor<[b, f], f32>, !tp.tensor<[d, f], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
  %y = tp.repeat @layers (%h) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%a: !tp.tensor<[b, d], f32>):
    %wb = tp.param "blocks.bias" zeros {tp.role = #tp.role<hidden_bias>, tp.scaling = #tp.scaling<init_std = #tp.scale<1>, multiplier = #tp.scale<1>, lr = #tp.scale<L = -1/2>, weight_decay = #tp.scale<1>, eps = #tp.scale<N = -1, L = -1/2>, width_dim = "d">} : !tp.tensor<[d], f32>
    %s = tp.add %a, %wb : (!tp.tensor<[b, d], f32>, !tp.tensor<[d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.residual %a, %s : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}
