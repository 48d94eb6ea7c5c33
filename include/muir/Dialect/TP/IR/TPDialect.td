//===- TPDialect.td - The tp (tensor program) dialect ------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPDIALECT_TD
#define MUIR_DIALECT_TP_IR_TPDIALECT_TD

include "mlir/IR/OpBase.td"

def TP_Dialect : Dialect {
  let name = "tp";
  let summary = "Tensor programs: networks over named width and depth dims";
  let description = [{
    The `tp` dialect describes a neural network the way the Tensor Programs
    papers reason about it: every tensor dimension has a *name* and a *kind*.
    A dimension either scales with the model's width (`d_model`, `d_ff`,
    `n_head`), stays fixed (vocabulary, context length, classes), or counts
    repetitions of a residual block (depth). Parameters are declared with a
    shape over those names, an initial distribution and a module path.

    Nothing in the IR names a parameter's *role* (embedding, hidden, readout,
    ...): the role is derived from the parameter's dims and from the ops that
    use it, so a transformation that rescales weights cannot be fooled by a
    name. See docs/Rationale.md.

    ```mlir
    tp.model @mlp {
      tp.dim @batch = fixed<32>
      tp.dim @d_in = fixed<784>
      tp.dim @width = width<base 64, size 1024>
      %x = tp.input "x" : !tp.tensor<[batch, d_in], f32>
      %w = tp.param "fc1.weight" normal : !tp.tensor<[width, d_in], f32>
      %h = tp.linear %x, %w : (!tp.tensor<[batch, d_in], f32>,
                               !tp.tensor<[width, d_in], f32>)
                              -> !tp.tensor<[batch, width], f32>
      tp.output %h : !tp.tensor<[batch, width], f32>
    }
    ```
  }];
  let cppNamespace = "::mlir::tp";
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  // The typed tp.* annotations: each gets a helper on the dialect
  // (getLayoutAttrHelper(): its name, getAttr(op), setAttr(op, attr)), so
  // no code spells the name or casts the attribute itself.
  let discardableAttrs = (ins
    "::mlir::tp::RoleAttr":$role,
    "::mlir::tp::LayoutAttr":$layout,
    "::mlir::tp::BufferAttr":$buffer,
    "::mlir::tp::ScalingAttr":$scaling,
    "::mlir::tp::ValuesAttr":$values,
    "::mlir::tp::ParametrizationAttr":$parametrization,
    "::mlir::tp::InstanceAttr":$instance
  );
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class TP_Op<string mnemonic, list<Trait> traits = []>
    : Op<TP_Dialect, mnemonic, traits>;

#endif // MUIR_DIALECT_TP_IR_TPDIALECT_TD
