// RUN: muir-opt %s --tp-parametrize='scheme=mup optimizer=adamw' | FileCheck %s --check-prefixes=CHECK,MUP
// RUN: muir-opt %s --tp-parametrize='scheme=completep optimizer=adamw' | FileCheck %s --check-prefixes=CHECK,CP

// Pins what tp-parametrize writes on a small pre-LN transformer under two
// schemes: the model's tp.parametrization, each parameter's tp.role and
// tp.scaling, the residual multiplier and the attention scale it fills in.
// Every exponent is read off the published tables (TP5 Table 3 for `mup`,
// CompleteP Table 1 for `completep`, both as transcribed in
// shared/reference/parametrisation-rules.md §1.4 and §2.4);
// test/Parametrization/tables.py checks the same rows numerically for
// every scheme, this file the IR the pass produces. Both schemes scale
// every eps like the parameter's gradient (docs/Parametrization.md,
// "Choices where the sources are silent", 2).

!x = !tp.tensor<[b, s, d], f32>

// MUP-LABEL: tp.model @tiny attributes {tp.parametrization = #tp.parametrization<scheme = mup, optimizer = adamw, alpha = 1, steps = <1>, bias_correction1 = true>} {
// CP-LABEL:  tp.model @tiny attributes {tp.parametrization = #tp.parametrization<scheme = completep, optimizer = adamw, alpha = 1, steps = <1>, bias_correction1 = true>} {
tp.model @tiny {
  tp.dim @b = fixed<2>
  tp.dim @s = fixed<4>
  tp.dim @v = fixed<16>
  tp.dim @n_head = width<base 2, size 8>
  tp.dim @d_head = fixed<4>
  tp.dim @d = product<@n_head, @d_head>
  tp.dim @L = depth<base 2, size 8>
  %tok = tp.input "tokens" : !tp.tensor<[b, s], i32>
  %tgt = tp.input "targets" : !tp.tensor<[b, s], i32>

  // Embedding (fixed -> width): init, LR and weight decay constant in width
  // (TP5 Table 3 "input weights"; CompleteP "Embed").
  // CHECK: %wte = tp.param "wte" normal {tp.role = #tp.role<embedding>, tp.scaling = #tp.scaling<init_std = <1>, multiplier = <1>, lr = <1>, weight_decay = <1>, eps = <N = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %wte = tp.param "wte" normal : !tp.tensor<[v, d], f32>
  %e = tp.embedding %tok, %wte : (!tp.tensor<[b, s], i32>, !tp.tensor<[v, d], f32>) -> !x

  // CHECK: %h = tp.repeat @L (%embedding)
  %y = tp.repeat @L (%e) : (!x) -> !x {
  ^bb0(%h: !x):
    // Pre-LN gain in the blocks: LR constant (CompleteP "Pre-LN LR" at
    // alpha = 1: m_L^0); eps N^-1, and L^-1 under CompleteP ("AdamW eps
    // (residual blocks)": m_N^-1 m_L^-alpha).
    // MUP: %blocks.ln.weight = tp.param "blocks.ln.weight" ones {tp.role = #tp.role<norm>, tp.scaling = #tp.scaling<init_std = <1>, multiplier = <1>, lr = <1>, weight_decay = <1>, eps = <N = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[d], f32>
    // CP:  %blocks.ln.weight = tp.param "blocks.ln.weight" ones {tp.role = #tp.role<norm>, tp.scaling = #tp.scaling<init_std = <1>, multiplier = <1>, lr = <1>, weight_decay = <1>, eps = <N = -1, L = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[d], f32>
    %g = tp.param "blocks.ln.weight" ones : !tp.tensor<[d], f32>
    %n = tp.layer_norm %h, %g : (!x, !tp.tensor<[d], f32>) -> !x
    // No scale given, so the scheme decides: 1/d_head for both (TP5 Def.
    // 4.1; the CompleteP code's attention_scale = 1/k.size(-1)).
    // CHECK: tp.attention {{.*}} head_dim @d_head causal scale inv_head_dim :
    %a = tp.attention %n, %n, %n head_dim @d_head causal : (!x, !x, !x) -> !x
    // Hidden matrix (width -> width): init std N^-1/2 (variance 1/fan_in),
    // Adam LR N^-1, weight decay N^1 so that lr x wd is constant (TP5 Table
    // 3 "hidden"; CompleteP "Hidden" rows at alpha = 1).
    // MUP: %blocks.proj.weight = tp.param "blocks.proj.weight" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = <N = -1/2>, multiplier = <1>, lr = <N = -1>, weight_decay = <N = 1>, eps = <N = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
    // CP:  %blocks.proj.weight = tp.param "blocks.proj.weight" normal {tp.role = #tp.role<hidden>, tp.scaling = #tp.scaling<init_std = <N = -1/2>, multiplier = <1>, lr = <N = -1>, weight_decay = <N = 1>, eps = <N = -1, L = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[d, d], f32>
    %w = tp.param "blocks.proj.weight" normal : !tp.tensor<[d, d], f32>
    // Bias: LR constant (TP5 Table 3 "all biases"; CompleteP "Hidden Bias").
    // MUP: %blocks.proj.bias = tp.param "blocks.proj.bias" zeros {tp.role = #tp.role<hidden_bias>, tp.scaling = #tp.scaling<init_std = <1>, multiplier = <1>, lr = <1>, weight_decay = <1>, eps = <N = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[d], f32>
    // CP:  %blocks.proj.bias = tp.param "blocks.proj.bias" zeros {tp.role = #tp.role<hidden_bias>, tp.scaling = #tp.scaling<init_std = <1>, multiplier = <1>, lr = <1>, weight_decay = <1>, eps = <N = -1, L = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[d], f32>
    %bias = tp.param "blocks.proj.bias" zeros : !tp.tensor<[d], f32>
    %f = tp.linear %a, %w, %bias : (!x, !tp.tensor<[d, d], f32>, !tp.tensor<[d], f32>) -> !x
    // The branch multiplier m_L^-alpha: none under muP, L^-1 under
    // CompleteP ("MHA Residual").
    // MUP: tp.residual %h_{{[0-9]+}}, %linear_{{[0-9]+}} {tp.scaling = #tp.scaling<multiplier = <1>>}
    // CP:  tp.residual %h_{{[0-9]+}}, %linear_{{[0-9]+}} {tp.scaling = #tp.scaling<multiplier = <L = -1>>}
    %r = tp.residual %h, %f : !x
    tp.yield %r : !x
  }

  // Final norm, after the blocks: no width or depth factor, eps constant
  // (its gradient is O(1); CompleteP "Final-LN").
  // CHECK: %ln_f.weight = tp.param "ln_f.weight" ones {tp.role = #tp.role<final_norm>, tp.scaling = #tp.scaling<init_std = <1>, multiplier = <1>, lr = <1>, weight_decay = <1>, eps = <1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[d], f32>
  %gf = tp.param "ln_f.weight" ones : !tp.tensor<[d], f32>
  %yn = tp.layer_norm %y, %gf : (!x, !tp.tensor<[d], f32>) -> !x
  // Readout (width -> fixed). TP5 Table 3: init variance 1/fan_in^2 (std
  // N^-1), Adam LR 1/fan_in, no multiplier, eps constant (gradient O(1)).
  // CompleteP: init and LR constant, forward multiplier m_N^-1 (the Table 8
  // form), so the gradient is N^-1 and so is eps.
  // MUP: %lm_head.weight = tp.param "lm_head.weight" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = <N = -1>, multiplier = <1>, lr = <N = -1>, weight_decay = <N = 1>, eps = <1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  // CP:  %lm_head.weight = tp.param "lm_head.weight" normal {tp.role = #tp.role<unembedding>, tp.scaling = #tp.scaling<init_std = <1>, multiplier = <N = -1>, lr = <1>, weight_decay = <1>, eps = <N = -1>, beta1 = <1>, beta2 = <1>, width_dim = "d">} : !tp.tensor<[v, d], f32>
  %head = tp.param "lm_head.weight" normal : !tp.tensor<[v, d], f32>
  %logits = tp.linear %yn, %head : (!x, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, s, v], f32>
  // Ops without parameters are left as they are.
  // CHECK: %loss = tp.cross_entropy %linear, %targets : (!tp.tensor<[b, s, v], f32>, !tp.tensor<[b, s], i32>) -> !tp.tensor<[], f32>
  %loss = tp.cross_entropy %logits, %tgt : (!tp.tensor<[b, s, v], f32>, !tp.tensor<[b, s], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
