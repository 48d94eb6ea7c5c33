// Errors of the muir-translate driver: each goes to stderr, makes
// muir-translate exit non-zero and names the file, line and column. The
// input guard of muir-opt and muirc (muir/Support/InputGuard.h) runs here
// too, before MLIR's parser sees the text.

// An unknown flag.
// RUN: not muir-translate --no-such-flag %S/Inputs/valid.mlir 2>&1 | FileCheck %s --check-prefix=FLAG
// FLAG: Unknown command line argument '--no-such-flag'

// No translation chosen.
// RUN: not muir-translate %S/Inputs/valid.mlir 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: Translations to perform option: must be specified

// A missing input file.
// RUN: rm -f %t.missing.mlir
// RUN: not muir-translate --tp-to-param-table %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file '{{.*}}.missing.mlir'

// Nesting deeper than the parser's stack survives.
// RUN: %python -c "print('tp.model @m {\n' + '[' * 3000 + '\n}')" > %t.deep.mlir
// RUN: not muir-translate --tp-to-param-table %t.deep.mlir 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: deep.mlir:2:256: error: brackets nest more than 256 levels deep here

// A dense array of index elements (MLIR 22's parser dereferences null).
// RUN: printf 'module attributes {a = array<index: 1>} {}\n' | not muir-translate --tp-to-param-table 2>&1 | FileCheck %s --check-prefix=INDEX
// INDEX: <stdin>:1:30: error: a dense array cannot have 'index' elements; use i64

// A file that does not parse: this one.
// RUN: not muir-translate --tp-to-param-table %s 2>&1 | FileCheck %s --check-prefix=PARSE
// PARSE: muir-translate-errors.mlir:[[@LINE+2]]:21: error: custom op 'tp.param' unknown init distribution 'gaussian'
tp.model @m {
  %w = tp.param "w" gaussian : !tp.tensor<[d], f32>
  tp.output
}

// A file that parses but fails verification.
// RUN: not muir-translate --tp-to-param-table %S/Inputs/verify-error.mlir 2>&1 | FileCheck %s --check-prefix=VERIFY
// VERIFY: verify-error.mlir:3:3: error: 'tp.dim' op dim 'vocab' must have a positive size, got 0
