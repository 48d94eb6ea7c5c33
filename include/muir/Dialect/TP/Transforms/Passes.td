//===- Passes.td - tp dialect passes -----------------------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_TRANSFORMS_PASSES_TD
#define MUIR_DIALECT_TP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TPPrintParams : Pass<"tp-print-params", "ModelOp"> {
  let summary = "Print a table of every parameter of each tp.model";
  let description = [{
    Prints, for each `tp.model`, one row per parameter: its module path,
    shape over named dims, sizes in the base and in this model, element
    count (times the depth for parameters inside a `tp.repeat`) and initial
    distribution, then the totals. The IR is left unchanged.

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

    Fails with a diagnostic when a role cannot be derived, when a scheme has
    no rule for the optimizer, or when a tied parameter would need two
    different rules for its one storage.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"completep\"",
           "sp | mup | mup-table8 | mup-table9 | depth-mup | completep | completedp">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "sgd | sgd-momentum | adam | adamw | adamw-decoupled | lion | adam-atan2">,
    Option<"alpha", "alpha", "std::string", /*default=*/"\"\"",
           "depth exponent of the residual branch multiplier m_L^-alpha, in "
           "[1/2, 1] (N, N/D or a decimal); default 1, or 1/2 for depth-mup">,
  ];
}

#endif // MUIR_DIALECT_TP_TRANSFORMS_PASSES_TD
