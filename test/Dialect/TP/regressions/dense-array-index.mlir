// RUN: not muir-opt %s 2>&1 | FileCheck %s
// RUN: not muirc summary %s 2>&1 | FileCheck %s
// Without the dense array the rest parses: `array<index` in a string, a
// comment or another type's name is no hazard.
// RUN: sed -e '/layer_norm/d' -e 's/output %%n/output %%y/' %s | muir-opt | FileCheck %s --check-prefix=OK
// OK: tp.input "array<index: 1>" {a = "array<index>", b = !llvm.array<2 x index>}

// Regression (fuzzing, generic form with i32 replaced by index): MLIR 22's
// parser dereferences null on a dense array of `index` elements
// (Parser::parseDenseArrayAttr asks index for a float width). The tools
// reject `array<index` before parsing.

// CHECK: dense-array-index.mlir:[[@LINE+5]]:83: error: a dense array cannot have 'index' elements; use i64
// CHECK-NOT: Stack dump
tp.model @m {
  tp.dim @d = fixed<2>
  %x = tp.input "x" : !tp.tensor<[d], f32>
  %n = "tp.layer_norm"(%x) <{epsilon = 1.0e-05 : f64, operandSegmentSizes = array<index: 1, 0, 0>}> : (!tp.tensor<[d], f32>) -> !tp.tensor<[d], f32>
  // Not a dense array: a string, a comment, another dialect's type name.
  %y = tp.input "array<index: 1>" {a = "array<index>", b = !llvm.array<2 x index>} : !tp.tensor<[d], f32> // array<index>
  tp.output %n : !tp.tensor<[d], f32>
}
