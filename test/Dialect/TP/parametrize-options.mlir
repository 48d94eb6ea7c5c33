// Bad pass options are reported on the model with the accepted values.
// RUN: not muir-opt %s --tp-parametrize='scheme=mu-p' 2>&1 | FileCheck %s --check-prefix=SCHEME
// RUN: not muir-opt %s --tp-parametrize='optimizer=adagrad' 2>&1 | FileCheck %s --check-prefix=OPT
// RUN: not muir-opt %s --tp-parametrize='alpha=one' 2>&1 | FileCheck %s --check-prefix=ALPHA
// RUN: not muir-opt %s --tp-parametrize='alpha=2' 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not muir-opt %s --tp-parametrize='scheme=depth-mup alpha=1' 2>&1 | FileCheck %s --check-prefix=DEPTHMUP
// RUN: not muir-opt %s --tp-parametrize='scheme=completep optimizer=sgd' 2>&1 | FileCheck %s --check-prefix=SGD
// The same model passes with a valid alpha in decimal form.
// RUN: muir-opt %s --tp-parametrize='scheme=completep alpha=0.5' | FileCheck %s --check-prefix=DECIMAL

// SCHEME: for the --scheme option: unknown value 'mu-p'; expected sp, sp-pytorch, mup, mup-table8, mup-table9, depth-mup, completep or completedp
// OPT: parametrize-options.mlir:[[@LINE+6]]:1: error: optimizer 'adagrad' is unknown; expected sgd, sgd-momentum, sgd-nesterov, adam, adamw, adamw-decoupled, lion, adam-atan2, lion-a or lion-ar
// ALPHA: error: alpha 'one' is not a number; write it as 1, 1/2 or 0.5
// RANGE: error: alpha 2 is outside [1/2, 1], the range where depth transfer is stated (Depth-muP 1/2, CompleteP 1)
// DEPTHMUP: error: alpha is fixed to 1/2 by depth-mup; use completep for alpha = 1
// SGD: error: 'tp.param' op scheme 'completep' has no SGD rules: CompleteP and Complete(d)P are stated for AdamW only
// DECIMAL: alpha = 1/2,
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
