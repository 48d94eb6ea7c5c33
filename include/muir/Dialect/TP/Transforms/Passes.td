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

#endif // MUIR_DIALECT_TP_TRANSFORMS_PASSES_TD
