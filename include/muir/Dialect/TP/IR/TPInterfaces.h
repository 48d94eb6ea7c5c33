//===- TPInterfaces.h - tp dialect op interfaces ----------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPINTERFACES_H
#define MUIR_DIALECT_TP_IR_TPINTERFACES_H

#include "mlir/IR/OpDefinition.h"
#include "muir/Dialect/TP/IR/TPAttrs.h"
#include <optional>

namespace mlir::tp {

class ModelIndex;

/// How an op uses one of its operands that holds a parameter: the facts role
/// derivation reads instead of the op's kind (see ParamUseOpInterface).
struct ParamUse {
  enum class Kind {
    /// A matrix mapping `fanIn` features to `fanOut` features: a linear's
    /// `[out, in]` weight, an embedding's `[count, features]` table (fan-in
    /// the count), a `[count, features]` positional table added to the
    /// activations.
    matrix,
    /// A bias over `fanOut`, added to a matrix's output.
    bias,
    /// A norm's gain or bias over `fanOut`; `perHead` when the norm
    /// normalises each head of a `product` feature dim separately, `fanOut`
    /// then being the head dim (QK-norm).
    norm,
    /// A rank-0 multiplier of the activations.
    scalar,
  };

  Kind kind;
  /// The dims the parameter maps between. Vectors have only `fanOut`,
  /// scalars neither.
  StringAttr fanIn, fanOut;
  bool perHead = false;
  /// The activation the parameter acts on (a linear's or a norm's input, an
  /// embedding's indices, the other operand of an add or a mul); analyses
  /// follow it to place the parameter in the dataflow.
  Value input;

  static ParamUse matrix(StringAttr fanIn, StringAttr fanOut, Value input) {
    return {Kind::matrix, fanIn, fanOut, false, input};
  }
  static ParamUse bias(StringAttr dim, Value input) {
    return {Kind::bias, {}, dim, false, input};
  }
  static ParamUse norm(StringAttr dim, bool perHead, Value input) {
    return {Kind::norm, {}, dim, perHead, input};
  }
  static ParamUse scalar(Value input) {
    return {Kind::scalar, {}, {}, false, input};
  }
};

} // namespace mlir::tp

#include "muir/Dialect/TP/IR/TPInterfaces.h.inc"

#endif // MUIR_DIALECT_TP_IR_TPINTERFACES_H
