// Errors of the muir-opt driver: each goes to stderr, makes muir-opt exit
// non-zero, and names the file (and, for errors in the IR, line and column).

// An unknown flag.
// RUN: not muir-opt --no-such-flag %S/Inputs/valid.mlir 2>&1 | FileCheck %s --check-prefix=FLAG
// FLAG: muir-opt: Unknown command line argument '--no-such-flag'

// An unknown pass.
// RUN: not muir-opt --pass-pipeline='builtin.module(no-such-pass)' %S/Inputs/valid.mlir 2>&1 | FileCheck %s --check-prefix=PASS
// PASS: 'no-such-pass' does not refer to a registered pass or pass pipeline

// A missing input file.
// RUN: rm -f %t.missing.mlir
// RUN: not muir-opt %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file '{{.*}}.missing.mlir'

// A file that does not parse: this one. The error carries file:line:col and
// quotes the line; nothing is printed on stdout.
// RUN: not muir-opt %s 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: not muir-opt %s 2>/dev/null | count 0
// PARSE: muir-opt-errors.mlir:[[@LINE+3]]:21: error: custom op 'tp.param' unknown init distribution 'gaussian'; expected normal, trunc_normal, uniform, zeros or ones
// PARSE-NEXT: %w = tp.param "w" gaussian : !tp.tensor<[d], f32>
tp.model @m {
  %w = tp.param "w" gaussian : !tp.tensor<[d], f32>
  tp.output
}

// A file that parses but fails verification.
// RUN: not muir-opt %S/Inputs/verify-error.mlir 2>&1 | FileCheck %s --check-prefix=VERIFY
// VERIFY: verify-error.mlir:3:3: error: 'tp.dim' op dim 'vocab' must have a positive size, got 0
