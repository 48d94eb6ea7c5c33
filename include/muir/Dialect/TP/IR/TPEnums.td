//===- TPEnums.td - The enums of the tp dialect and its passes -*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every closed set of names muir knows: the IR's (dim kinds, init
// distributions, roles), and those of the rules, the passes and the tools
// (scheme, optimizer, quantity, report format). They are generated into
// TPEnums.h.inc (stringify*/symbolize*, used to parse and print them
// everywhere) and built into MuirTPEnums, which depends on no IR, so the
// rules library below the dialect can use them. TPAttrs.td wraps the IR's
// in attributes.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPENUMS_TD
#define MUIR_DIALECT_TP_IR_TPENUMS_TD

include "mlir/IR/EnumAttr.td"

/// An enum of muir: C++ `::mlir::tp::<name>`, no attribute of its own (the
/// dialect's attributes are declared in TPAttrs.td).
class TP_I32Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tp";
}

def TP_DimKind : TP_I32Enum<"DimKind", "how a named dimension scales", [
    I32EnumAttrCase<"width", 0>,
    I32EnumAttrCase<"fixed", 1>,
    I32EnumAttrCase<"depth", 2>,
    I32EnumAttrCase<"product", 3>,
  ]>;

def TP_InitKind : TP_I32Enum<"InitKind", "initial distribution of a parameter", [
    I32EnumAttrCase<"normal", 0>,
    I32EnumAttrCase<"trunc_normal", 1>,
    I32EnumAttrCase<"uniform", 2>,
    I32EnumAttrCase<"zeros", 3>,
    I32EnumAttrCase<"ones", 4>,
  ]>;

def TP_AttentionScale : TP_I32Enum<"AttentionScale",
    "how attention logits are scaled by the head dimension", [
    I32EnumAttrCase<"inv_sqrt_head_dim", 0>,
    I32EnumAttrCase<"inv_head_dim", 1>,
  ]>;

def TP_GenericKind : TP_I32Enum<"GenericKind",
    "what a generic tp.op promises about the shapes of its operands and results", [
    I32EnumAttrCase<"opaque", 0>,
    I32EnumAttrCase<"elementwise", 1>,
    I32EnumAttrCase<"reshape", 2>,
  ]>;

def TP_Role : TP_I32Enum<"Role", "what kind of weight a parameter is", [
    I32EnumAttrCase<"embedding", 0>,
    I32EnumAttrCase<"hidden", 1>,
    I32EnumAttrCase<"unembedding", 2>,
    I32EnumAttrCase<"hidden_bias", 3>,
    I32EnumAttrCase<"norm", 4>,
    I32EnumAttrCase<"qk_norm", 5>,
    I32EnumAttrCase<"final_norm", 6>,
    I32EnumAttrCase<"scalar", 7>,
  ]>;

def TP_Placement : TP_I32Enum<"Placement",
    "where a parameter sits relative to the repeated blocks (tp.repeat)", [
    // Model level, reading no tp.repeat result (or there is no repeat).
    I32EnumAttrCase<"beforeBlocks", 0, "before-blocks">,
    // Inside a tp.repeat body: one copy per block.
    I32EnumAttrCase<"inBlocks", 1, "in-blocks">,
    // Model level, reading a tp.repeat result.
    I32EnumAttrCase<"afterBlocks", 2, "after-blocks">,
  ]>;

def TP_Scheme : TP_I32Enum<"Scheme", "a parametrization scheme", [
    // CompleteP's SP: every quantity fixed at its base value.
    I32EnumAttrCase<"sp", 0>,
    // TP5's SP (PyTorch's default): init std 1/sqrt(fan_in).
    I32EnumAttrCase<"spPytorch", 1, "sp-pytorch">,
    I32EnumAttrCase<"mup", 2>,
    I32EnumAttrCase<"mupTable8", 3, "mup-table8">,
    I32EnumAttrCase<"mupTable9", 4, "mup-table9">,
    I32EnumAttrCase<"depthMup", 5, "depth-mup">,
    I32EnumAttrCase<"completep", 6>,
    I32EnumAttrCase<"completedp", 7>,
  ]>;

def TP_Optimizer : TP_I32Enum<"Optimizer",
    "an optimizer whose scaling rules and step kernel muir knows", [
    I32EnumAttrCase<"sgd", 0>,
    I32EnumAttrCase<"sgdMomentum", 1, "sgd-momentum">,
    I32EnumAttrCase<"sgdNesterov", 2, "sgd-nesterov">,
    I32EnumAttrCase<"adam", 3>,
    I32EnumAttrCase<"adamw", 4>,
    I32EnumAttrCase<"adamwDecoupled", 5, "adamw-decoupled">,
    I32EnumAttrCase<"lion", 6>,
    I32EnumAttrCase<"adamAtan2", 7, "adam-atan2">,
    // Lion with a controlled l2 update norm (Kosson et al. 2024).
    I32EnumAttrCase<"lionA", 8, "lion-a">,
    // Rotational LionA: angular updates per row (Kosson et al. 2024).
    I32EnumAttrCase<"lionAR", 9, "lion-ar">,
  ]>;

def TP_Quantity : TP_I32Enum<"Quantity",
    "a per-parameter hyperparameter that a scheme scales", [
    I32EnumAttrCase<"init_std", 0>,
    I32EnumAttrCase<"multiplier", 1>,
    I32EnumAttrCase<"lr", 2>,
    I32EnumAttrCase<"weight_decay", 3>,
    I32EnumAttrCase<"eps", 4>,
    I32EnumAttrCase<"beta1", 5>,
    I32EnumAttrCase<"beta2", 6>,
  ]>;

def TP_InitStdRule : TP_I32Enum<"InitStdRule",
    "how tp-instantiate's base init std applies to a tensor", [
    // One std for every tensor.
    I32EnumAttrCase<"fixed", 0>,
    // gain / sqrt(fan_in of the base model) per tensor.
    I32EnumAttrCase<"fan_in", 1>,
  ]>;

def TP_UpdateUnits : TP_I32Enum<"UpdateUnits",
    "where LionA and LionAR normalise their update", [
    // Every matrix row (a neuron's weights).
    I32EnumAttrCase<"row", 0>,
    // The whole tensor copy.
    I32EnumAttrCase<"tensor", 1>,
  ]>;

def TP_AngleRule : TP_I32Enum<"AngleRule", "how LionAR sets its angle per step", [
    // REQ's equilibrium of (lr, weight decay).
    I32EnumAttrCase<"equilibrium", 0>,
    // The learning rate itself.
    I32EnumAttrCase<"lr", 1>,
  ]>;

def TP_ReportFormat : TP_I32Enum<"ReportFormat",
    "how the parametrization report is written", [
    I32EnumAttrCase<"table", 0>,
    I32EnumAttrCase<"markdown", 1>,
    I32EnumAttrCase<"json", 2>,
    I32EnumAttrCase<"csv", 3>,
  ]>;

#endif // MUIR_DIALECT_TP_IR_TPENUMS_TD
