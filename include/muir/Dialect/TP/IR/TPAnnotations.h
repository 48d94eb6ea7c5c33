//===- TPAnnotations.h - The discardable tp.* attributes --------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The passes annotate the IR with discardable attributes in the `tp.`
// namespace (tp.role, tp.scaling, tp.values, tp.parametrization,
// tp.instance, tp.layout, tp.buffer). tp.role, tp.layout and tp.buffer are
// typed attributes (#tp.role, #tp.layout, #tp.buffer: TPAttrs.td) that
// verify their own entries and are read and written through the dialect's
// helpers (tpDialect(op).getLayoutAttrHelper()); the others are still
// dictionaries. The dialect checks them in one place (TPAnnotations.cpp):
// which op carries each, the dictionaries' entries and their kinds and
// ranges, and consistency with the program (a layout that fits the buffer,
// one value per block copy). A pass
// may then read a verified annotation without checking it again; hand-
// written or edited IR that breaks one is rejected by the verifier, with a
// diagnostic at the op, instead of crashing a pass or silently skipping a
// parameter.
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
