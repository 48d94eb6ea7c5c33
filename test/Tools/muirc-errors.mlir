// Errors of the muirc driver: each goes to stderr, makes muirc exit non-zero,
// and names the file (and, for errors in the IR, line and column).

// A missing input file.
// RUN: rm -f %t.missing.mlir
// RUN: not muirc summary %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: muirc: cannot open input file '{{.*}}.missing.mlir'

// A file that parses but holds no tp.model (here: empty, and a function).
// RUN: echo "" > %t.empty.mlir
// RUN: not muirc summary %t.empty.mlir 2>&1 | FileCheck %s --check-prefix=NO-MODEL
// RUN: echo "func.func private @f()" > %t.func.mlir
// RUN: not muirc summary %t.func.mlir 2>&1 | FileCheck %s --check-prefix=NO-MODEL
// NO-MODEL: muirc: {{.*}}.mlir: no tp.model found

// An unknown option of a subcommand.
// RUN: not muirc summary --no-such-option %S/Inputs/valid.mlir 2>&1 | FileCheck %s --check-prefix=OPTION
// OPTION: muirc: Unknown command line argument '--no-such-option'

// No subcommand at all, an unknown subcommand, and a subcommand without its
// input file.
// RUN: not muirc 2>&1 | FileCheck %s --check-prefix=NO-SUBCOMMAND
// NO-SUBCOMMAND: muirc: no subcommand given; see 'muirc --help'
// RUN: not muirc frobnicate %S/Inputs/valid.mlir 2>&1 | FileCheck %s --check-prefix=BAD-SUBCOMMAND
// BAD-SUBCOMMAND: muirc: Unknown subcommand 'frobnicate'
// RUN: not muirc summary 2>&1 | FileCheck %s --check-prefix=NO-INPUT
// NO-INPUT: muirc: Not enough positional command line arguments specified!

// A file that does not parse: this one. The error carries file:line:col and
// quotes the line.
// RUN: not muirc summary %s 2>&1 | FileCheck %s --check-prefix=PARSE
// PARSE: muirc-errors.mlir:[[@LINE+4]]:15: error: custom op 'tp.dim' expected dim kind 'width', 'fixed', 'depth' or 'product', got 'wide'
// PARSE-NEXT: tp.dim @d = wide<base 8, size 64>
// PARSE-NOT: parameters
tp.model @m {
  tp.dim @d = wide<base 8, size 64>
  tp.output
}

// A file that parses but fails verification.
// RUN: not muirc summary %S/Inputs/verify-error.mlir 2>&1 | FileCheck %s --check-prefix=VERIFY
// VERIFY: verify-error.mlir:3:3: error: 'tp.dim' op dim 'vocab' must have a positive size, got 0
// VERIFY-NOT: parameters
