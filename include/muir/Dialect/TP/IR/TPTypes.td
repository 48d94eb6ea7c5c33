//===- TPTypes.td - tp dialect types -----------------------*- tablegen -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPTYPES_TD
#define MUIR_DIALECT_TP_IR_TPTYPES_TD

include "muir/Dialect/TP/IR/TPDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class TP_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<TP_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def TP_TensorType : TP_Type<"NamedTensor", "tensor"> {
  let summary = "A tensor whose dimensions are named";
  let description = [{
    A value-semantic tensor whose dimensions are referred to by the names of
    `tp.dim` declarations in the enclosing `tp.model`; sizes come from those
    declarations, so one program describes the base model and the target
    model at once. The element type is any integer, float or complex type.

    ```mlir
    !tp.tensor<[batch, seq, d_model], f32>   // activations
    !tp.tensor<[vocab, d_model], bf16>       // an embedding table
    !tp.tensor<[], f32>                      // a scalar
    ```

    Whether every name is declared, and declared before its first use, is
    checked by the enclosing `tp.model`.
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::StringAttr", "dim names">:$dims,
                        "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of dimensions.
    unsigned getRank() const { return getDims().size(); }
    /// Name of dimension `i`, counted from the back when negative.
    ::llvm::StringRef getDim(int i) const {
      return getDims()[i < 0 ? getRank() + i : i].getValue();
    }
    /// Same element type with other dimensions.
    NamedTensorType withDims(::llvm::ArrayRef<::mlir::StringAttr> dims) const {
      return NamedTensorType::get(getContext(), dims, getElementType());
    }
  }];
}

#endif // MUIR_DIALECT_TP_IR_TPTYPES_TD
