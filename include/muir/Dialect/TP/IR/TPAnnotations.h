//===- TPAnnotations.h - The discardable tp.* attributes --------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The passes annotate the IR with discardable attributes in the `tp.`
// namespace, all typed (TPAttrs.td): tp.role (#tp.role), tp.scaling
// (#tp.scaling), tp.values (#tp.values), tp.parametrization
// (#tp.parametrization), tp.instance (#tp.instance), tp.layout (#tp.layout)
// and tp.buffer (#tp.buffer). Each verifies its own entries and is read and
// written through the dialect's helpers
// (tpDialect(op).getScalingAttrHelper()). The dialect checks the rest in
// one place (TPAnnotations.cpp): which op carries each, the quantities a
// tp.param or tp.residual needs, and consistency with the program (a layout
// that fits the buffer, one value per block copy, what the optimizer's step
// reads). A pass may then read a verified annotation without checking it
// again; hand-written or edited IR that breaks one is rejected by the
// verifier, with a diagnostic at the op, instead of crashing a pass or
// silently skipping a parameter.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPANNOTATIONS_H
#define MUIR_DIALECT_TP_IR_TPANNOTATIONS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include <optional>
#include <string>

namespace mlir::tp {

class ModelIndex;
class ModelOp;

/// Why `value` cannot be a float32 constant of the kernels, worded to
/// follow the value ("is beyond float32's range (at most 3.40282347e+38)"):
/// not finite, beyond float32's range, or nonzero but below its smallest
/// normal (flushed to zero, on the GPU in any case). None when it can.
std::optional<std::string> float32Problem(double value);

/// `value` in at most 9 significant digits (`1e-37`, `3.40282347e+38`), the
/// way messages about values print them.
std::string formatNumber(double value);

/// The checks of the annotations that need the whole model, run by
/// tp.model's verifier after its ops are verified: `width_dim` names a dim of
/// its parameter, per-block values have one value per block copy,
/// tp.values holds what the optimizer's step reads, every layout matches
/// its parameter, lies inside tp.buffer and overlaps no other, and a tied
/// parameter has its owner's layout.
/// `index` holds the model's dims and parameters.
LogicalResult verifyAnnotations(ModelOp model, const ModelIndex &index);

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_IR_TPANNOTATIONS_H
