// Bad instantiation inputs name the problem and exit non-zero.
// RUN: not muir-opt %s --tp-instantiate 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='lr=0' 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='beta2=1' 2>&1 | FileCheck %s --check-prefix=BETA
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='base-tokens=-1' 2>&1 | FileCheck %s --check-prefix=TOKENS
// RUN: not muir-opt %s --tp-parametrize='scheme=completedp' --tp-instantiate='batch=4096 base-batch=16' 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/missing.json' 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/syntax.json' 2>&1 | FileCheck %s --check-prefix=SYNTAX
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/negative.json' 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/quantity.json' 2>&1 | FileCheck %s --check-prefix=QUANTITY
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/key.json' 2>&1 | FileCheck %s --check-prefix=KEY
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/glob.json' 2>&1 | FileCheck %s --check-prefix=GLOB
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/ragged.json' 2>&1 | FileCheck %s --check-prefix=RAGGED
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='multipliers=%S/Inputs/multipliers/depth3.json' 2>&1 | FileCheck %s --check-prefix=DEPTH
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='init-std=abc' 2>&1 | FileCheck %s --check-prefix=INITSTD
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='init-std=fan-in2' 2>&1 | FileCheck %s --check-prefix=FANIN
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='init-std=fan-in:-1' 2>&1 | FileCheck %s --check-prefix=GAIN
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate='init-std=-0.5' 2>&1 | FileCheck %s --check-prefix=NEGSTD
// RUN: not muir-opt %s --tp-print-report 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: not muir-opt %s --tp-parametrize --tp-instantiate --tp-print-report=format=yaml 2>&1 | FileCheck %s --check-prefix=FORMAT

// ORDER: instantiate-errors.mlir:[[@LINE+15]]:1: error: tp-instantiate needs the scaling rules of tp-parametrize; run it first
// LR: error: lr must be positive, got 0
// BETA: error: beta2 must be in [0, 1), got 1
// TOKENS: error: base-tokens must be positive, got -1
// RANGE: error: 'tp.param' op beta1 becomes -2.460000e+01 for 'w': 1 - beta1 scaled by 2.560000e+02 leaves [0, 1); the batch or duration ratio is out of the range this rule covers
// MISSING: error: option 'multipliers': {{.*}}missing.json: cannot read the multipliers file: No such file or directory
// SYNTAX: syntax.json:2:1: error: invalid JSON: Expected object key
// NEGATIVE: negative.json:1:20: error: $.modules.w.lr: expected a positive number (0 is allowed for weight_decay)
// QUANTITY: quantity.json:1:20: error: $.modules.w.learning_rate: unknown quantity; expected init_std, multiplier, lr, weight_decay, eps, beta1, beta2 or residual
// KEY: key.json:1:2: error: $.layers: unknown key; expected 'modules' or 'depth'
// GLOB: glob.json:1:14: error: $.modules["[w"]: invalid glob pattern, unmatched '['
// RAGGED: ragged.json:1:{{12|26}}: error: $.depth.{{lr|eps}}: every depth list needs one factor per base block; lists differ in length
// DEPTH: depth3.json:1:2: error: $.depth: the lists have 3 factors, but the base model has 2 blocks; give one factor per base block
// REPORT: error: the report needs an instantiated model; run tp-parametrize and tp-instantiate first
// FORMAT: for the --format option: unknown value 'yaml'; expected table, markdown, json or csv
tp.model @m {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 8>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.residual %h, %f : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// INITSTD: error: init-std 'abc' is not a number (0.02), fan-in or fan-in:GAIN (fan-in:2)
// FANIN: error: init-std 'fan-in2' is not a number (0.02), fan-in or fan-in:GAIN (fan-in:2)
// GAIN: error: init-std gain must not be negative, got -1
// NEGSTD: error: init-std must be zero or positive, got -0.5
