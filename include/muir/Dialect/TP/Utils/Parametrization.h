//===- Parametrization.h - The optimizer in #tp.parametrization -*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// tp-parametrize records the scheme and the optimizer with its options in
// the model's #tp.parametrization; tp-instantiate, the verifier of the
// rules, convert-tp-to-kernels, the report and the package read the
// optimizer back. This is the one place that maps an OptimizerSpec (the
// rules library, which depends on no IR) to the attribute and back.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_UTILS_PARAMETRIZATION_H
#define MUIR_DIALECT_TP_UTILS_PARAMETRIZATION_H

#include "muir/Dialect/TP/IR/TPAttrs.h"
#include "muir/Parametrization/OptimizerSpec.h"

namespace mlir::tp {

/// The #tp.parametrization of `p` with `spec`'s optimizer and every option
/// of its family (the momentum recipe's `beta` only when the recipe is on:
/// without it Lion's betas are beta1 and beta2).
ParametrizationAttr getParametrizationAttr(MLIRContext *context,
                                           const Parametrization &p,
                                           const OptimizerSpec &spec,
                                           ScaleAttr steps);

/// The optimizer recorded in `parametrization`, its options checked as
/// `--optimizer` checks them (an option of another family, a number out of
/// range: an error naming it).
llvm::Expected<OptimizerSpec>
readOptimizerSpec(ParametrizationAttr parametrization);

} // namespace mlir::tp

#endif // MUIR_DIALECT_TP_UTILS_PARAMETRIZATION_H
