//===- Passes.td - tp dialect passes -----------------------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_TRANSFORMS_PASSES_TD
#define MUIR_DIALECT_TP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TPPrintParams : Pass<"tp-print-params", "::mlir::ModuleOp"> {
  let summary = "Print a table of every parameter of each tp.model";
  let description = [{
    Prints, for each `tp.model`, one row per parameter: its module path,
    shape over named dims, sizes in the base and in this model, element
    count (times the depth for parameters inside a `tp.repeat`) and initial
    distribution, then the totals. The IR is left unchanged. Models print
    in program order (the pass runs on the module, not once per model in
    parallel, so that tables never interleave).

    ```
    $ muir-opt examples/gpt2.mlir --tp-print-params -o /dev/null
    ```
  }];
}

def TPParametrize : Pass<"tp-parametrize", "ModelOp"> {
  let summary = "Annotate every parameter with its scaling rule";
  let description = [{
    Derives each parameter's role from its dims and uses (embedding, hidden,
    unembedding, hidden_bias, norm, qk_norm, final_norm, scalar) and attaches
    how its init std, forward multiplier, learning rate, weight decay, Adam
    epsilon, 1-beta1 and 1-beta2 scale with the width (N), depth (L), batch
    (B) and duration (D) ratios under the chosen scheme and optimizer:

    ```mlir
    %w = tp.param "blocks.mlp.fc.weight" normal {tp.role = #tp.role<hidden>,
        tp.scaling = {beta1 = #tp.scale<1>, beta2 = #tp.scale<1>,
                      eps = #tp.scale<N = -1, L = -1>,
                      init_std = #tp.scale<N = -1/2>, lr = #tp.scale<N = -1>,
                      multiplier = #tp.scale<1>, weight_decay = #tp.scale<N = 1>,
                      width_dim = "d_model"}} : !tp.tensor<[d_ff, d_model], f32>
    ```

    Width exponents refer to the parameter's own width dim (`width_dim`:
    the fan-in of hidden and readout matrices, the fan-out of embeddings),
    so a `d_ff` that grows apart from `d_model` is handled per tensor. Each
    `tp.residual` gets its branch multiplier, each `tp.attention` without a
    `scale` gets the scheme's logit scale, and the model records the scheme
    and the training-steps rule in `tp.parametrization`.

    Adam's epsilon scales like the gradient of the stored weight (TP5
    App. B.3), and in the blocks by m_L^-alpha; with `unscaled-eps` it keeps
    its base value everywhere, as microsoft/mup does (the model then records
    `unscaled_eps` in `tp.parametrization`).

    The optimizer may carry options (`adamw:bias-correction1=false`,
    `lion-ar:recipe,units=tensor`, docs/Optimizers.md); the model records
    the optimizer's name and every option of its family, defaults filled
    in, as `optimizer` and `optimizer_options` in `tp.parametrization`.

    Depth factors go to the parameters inside the `tp.repeat` blocks only,
    whatever their role: a parameter before or after the blocks never scales
    with depth.

    Fails with a diagnostic when a role cannot be derived, when a scheme has
    no rule for the optimizer, when a tied parameter would need two
    different rules for its one storage, or when a depth scheme
    (`depth-mup`, `completep`, `completedp`) meets a `tp.repeat` whose depth
    ratio is not 1 and whose body has no `tp.residual`: the depth rules
    compensate the residual branch multiplier, so a plain stack has nothing
    for them to act on (`allow-depth-without-residual` makes this a
    warning and applies the rules anyway).
  }];
  let options = [
    Option<"scheme", "scheme", "::mlir::tp::Scheme",
           /*default=*/"::mlir::tp::Scheme::completep",
           "sp, sp-pytorch, mup, mup-table8, mup-table9, depth-mup, completep "
           "or completedp (TPEnums.td's Scheme)">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "sgd | sgd-momentum | sgd-nesterov | adam | adamw | adamw-decoupled "
           "| lion | adam-atan2 | lion-a | lion-ar, with options as "
           "name:option,key=value (docs/Optimizers.md), e.g. "
           "adamw:bias-correction1=false or lion-ar:recipe">,
    Option<"alpha", "alpha", "std::string", /*default=*/"\"\"",
           "depth exponent of the residual branch multiplier m_L^-alpha, in "
           "[1/2, 1] (N, N/D or a decimal); default 1, or 1/2 for depth-mup">,
    Option<"unscaledEps", "unscaled-eps", "bool", /*default=*/"false",
           "keep Adam's eps at its base value for every parameter "
           "(microsoft/mup's MuAdam) instead of scaling it with the "
           "gradient (TP5 App. B.3; the default)">,
    Option<"allowDepthWithoutResidual", "allow-depth-without-residual",
           "bool", /*default=*/"false",
           "under a depth scheme, a tp.repeat whose depth grows but whose "
           "body has no tp.residual is a warning instead of an error">,
  ];
}

def TPInstantiate : Pass<"tp-instantiate", "ModelOp"> {
  let summary = "Turn scaling rules into concrete per-parameter constants";
  let description = [{
    Evaluates the `tp.scaling` monomials attached by `tp-parametrize` at
    this model's ratios and multiplies them into the hyperparameters tuned on
    the base model, writing `tp.values` (f64) on every parameter and residual
    and `tp.instance` on the model:

    - width ratio: per parameter, size / base size of its `width_dim`;
    - depth ratio: size / base size of the enclosing `tp.repeat`'s dim (for
      model-level parameters, of the model's first depth dim);
    - batch and duration ratios: `batch / base-batch`, `tokens / base-tokens`.

    `lr`, `init_std`, `weight_decay`, `eps` and the multiplier are base value
    x monomial; `beta1`/`beta2` are 1 - (1 - base) x monomial; each
    `tp.residual` gets its branch multiplier. `init-std` is one base std, or
    `fan-in[:gain]`: gain / sqrt(fan-in at the base model) per tensor, the
    fan-in being what a linear contracts (1 for looked-up tables, biases and
    norm gains). The optional `multipliers` file (JSON) adds
    Complete^(d)P's per-module factors:

    ```json
    {"modules": {"blocks.attn.*": {"lr": 1.5}, "wte": {"multiplier": 10}},
     "depth": {"lr": [1.0, 0.8, 0.9, 1.1]}}
    ```

    Module keys are glob patterns over parameter paths; every matching
    pattern multiplies. `depth` lists one factor per block of the base model;
    for a model of another depth they are linearly interpolated in l/L, and
    parameters in repeated blocks get one value per block. The quantity
    `residual` scales residual branches, named `<depth>.residual<k>` (the
    k-th tp.residual of the blocks over `<depth>`).
  }];
  let options = [
    Option<"lr", "lr", "double", "1e-3", "base learning rate">,
    Option<"initStd", "init-std", "std::string", "\"0.02\"",
           "base init std: a number for every tensor, or fan-in[:gain] for "
           "gain / sqrt(fan_in at the base model) per tensor (gain 1)">,
    Option<"weightDecay", "weight-decay", "double", "0.0", "base weight decay">,
    Option<"eps", "eps", "double", "1e-8", "base Adam epsilon">,
    Option<"beta1", "beta1", "double", "0.9", "base beta1">,
    Option<"beta2", "beta2", "double", "0.999", "base beta2">,
    Option<"batch", "batch", "double", "1.0", "batch size of this model">,
    Option<"baseBatch", "base-batch", "double", "1.0", "batch size of the base model">,
    Option<"tokens", "tokens", "double", "1.0", "training tokens of this model">,
    Option<"baseTokens", "base-tokens", "double", "1.0", "training tokens of the base model">,
    Option<"multipliers", "multipliers", "std::string", "\"\"",
           "JSON file of per-module and per-depth multipliers">,
  ];
}

def TPPrintReport : Pass<"tp-print-report", "::mlir::ModuleOp"> {
  let summary = "Print the parametrisation report of an instantiated model";
  let description = [{
    Prints, for a model that went through `tp-parametrize` and
    `tp-instantiate`, the scheme, the ratios, the base hyperparameters, the
    forward multipliers and one row per parameter with its role, shape and
    instantiated values, each with its exponents. `format` is `table` (for a
    person; grouped by module), `markdown`, `json` or `csv`. The IR is left
    unchanged; models print in program order. `muirc report` runs the same
    after importing a model card.
  }];
  let options = [
    Option<"format", "format", "::mlir::tp::ReportFormat",
           "::mlir::tp::ReportFormat::table",
           "table, markdown, json or csv (TPEnums.td's ReportFormat)">,
  ];
}

def TPAssignLayout : Pass<"tp-assign-layout", "::mlir::tp::ModelOp"> {
  let summary = "Place every parameter in one flat buffer";
  let description = [{
    Gives each parameter an offset in the flat f32 buffers a package uses
    for parameters, gradients and every optimizer state, in program order
    (parameters declared f16, bf16 or f8 get f32 master copies). Each
    tensor starts at a multiple of `alignment` bytes (64 by default: a cache
    line, and a multiple of the 16 bytes of a 128-bit vector access); the
    copies of a parameter in a repeated block are `stride` elements apart,
    also aligned. A tied parameter gets its owner's placement.

    ```mlir
    %w = tp.param "blocks.fc" normal {tp.layout = #tp.layout<
        offset = 38633472, stride = 589824, numel = 589824, copies = 12>}
    ```

    The model records `tp.buffer = #tp.buffer<elements = N, alignment = A>`.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "64",
           "alignment of every tensor in bytes (a multiple of 16)">,
  ];
}

def TPVerifyParametrization : Pass<"tp-verify-parametrization", "ModelOp"> {
  let summary = "Check hand-edited scaling rules for mistakes that break transfer";
  let description = [{
    Statically checks a model whose parameters carry `tp.role` and
    `tp.scaling` (from `tp-parametrize`, or written or edited by hand) and
    which records `tp.parametrization = {scheme, optimizer, ...}`. Each
    finding is a warning at the offending op with a note that states the rule
    and cites its source; the IR is never modified.

    - **Attention at 1/sqrt(d)** (muP-family schemes, i.e. every scheme but
      `sp`): a `tp.attention` with `scale inv_sqrt_head_dim` whose head dim
      grows with width; the logits must be q.k/d_head (TP5 Def. 4.1). With
      a fixed head dim the two differ by a constant, which is reported as a
      remark, not a finding.
    - **Readout** (muP-family): the unembedding's multiplier and init_std
      width exponents must sum to -1 (effective weights 1/fan_in at init:
      TP5 Tables 3, 8, 9), and its lr must keep the logit updates O(1) (multiplier +
      lr = -1 for Adam-like optimizers, 2 multiplier + lr = -1 for SGD). A
      tied readout uses its owner's init and lr (one storage). A zero-init
      readout skips the init check.
    - **Weight decay** (every scheme): with coupled decay lr x weight_decay
      must not scale with width; with `adamw-decoupled` the decay itself
      must not. Under `completedp` the per-step decay must scale like
      m_B/m_D (Complete^(d)P Table 1 SDE column; Wang & Aitchison).
    - **Adam epsilon** (muP-family, `adam`, `adamw`, `adamw-decoupled`): eps
      must shrink at least as fast as the gradient of the stored weight,
      N^g with g = Table 3's eps exponent of the role (-1 inside the
      network, 0 for the readout, final norm and scalars) plus the
      multiplier's width exponent (TP5 App. B.3, Lemma J.1).
    - **Depth outside the blocks** (every scheme): a parameter outside every
      `tp.repeat` has no depth exponent on any quantity; depth rules scale
      the residual blocks only (CompleteP Table 1, Complete^(d)P Table 1).

    Before (a Table 8 readout whose 1/fan_in multiplier was dropped by hand):

    ```mlir
    %head = tp.param "head" normal {tp.role = #tp.role<unembedding>,
        tp.scaling = {init_std = #tp.scale<1>, lr = #tp.scale<1>,
                      multiplier = #tp.scale<1>, ...}}
        : !tp.tensor<[vocab, d], f32>
    ```

    After `muir-opt model.mlir --tp-verify-parametrization -o /dev/null`
    the IR is unchanged, and:

    ```
    warning: readout 'head' starts with multiplier x init_std of scale N^0
      (multiplier N^0, init_std N^0) but muP needs N^-1 (1/fan_in)
    note: ... TP5 Table 3 (multiplier N^0, init_std N^-1), Table 8 (N^-1,
      N^0) or Table 9 (N^-1/2, N^-1/2); with multiplier N^0 init_std must
      be N^-1, with init_std N^0 the multiplier must be N^-1 (TP5 App. B)
    warning: readout 'head' moves its logits by N^1 per step (multiplier
      N^0, lr N^0) but muP needs N^0
    note: ... with multiplier N^0 lr must be N^-1 (TP5 Lemma J.1)
    ```

    A model without `tp.parametrization`, or a parameter without `tp.role`,
    `tp.scaling` or one of the entries the checks read, is an error ("run
    tp-parametrize first"). With `strict`, findings are errors and the pass
    fails. Rules and sources: docs/VerifyParametrization.md.
  }];
  let options = [
    Option<"strict", "strict", "bool", /*default=*/"false",
           "report findings as errors and fail the pass">,
  ];
}

#endif // MUIR_DIALECT_TP_TRANSFORMS_PASSES_TD
