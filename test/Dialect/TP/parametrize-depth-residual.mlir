// Depth rules compensate the residual branch multiplier h + m_L^-alpha f(h);
// a plain stack whose depth grows has no branch for them to act on. Under a
// depth scheme that is an error naming the blocks and the way out, a warning
// with allow-depth-without-residual (the rules are then applied anyway), and
// silent for width-only schemes, at depth ratio 1, and on residual blocks.
// RUN: muir-opt %s -split-input-file -verify-diagnostics --tp-parametrize='scheme=completep'
// (muir-opt checks expected-* lines whenever present, so the other runs
// drop them.)
// RUN: grep -v expected- %s | not muir-opt -split-input-file --tp-parametrize='scheme=depth-mup' 2>&1 | FileCheck %s --check-prefix=DEPTHMUP
// RUN: grep -v expected- %s | muir-opt -split-input-file --tp-parametrize='scheme=completedp allow-depth-without-residual=true' 2>&1 | FileCheck %s --check-prefix=ALLOW
// RUN: grep -v expected- %s | muir-opt -split-input-file --tp-parametrize='scheme=mup' 2>&1 | FileCheck %s --check-prefix=WIDTH

// DEPTHMUP: error: scheme 'depth-mup' transfers across depth through residual branches, but the blocks of @L (2 -> 8 blocks) have no tp.residual
// DEPTHMUP-NOT: error:
// ALLOW: warning: scheme 'completedp' transfers across depth through residual branches, but the blocks of @L (2 -> 8 blocks) have no tp.residual
// ALLOW-NOT: error:
// ALLOW: tp.param "w" normal {{.*}}eps = <N = -1, L = -1, B = -1/2, D = 1/2>
// WIDTH-NOT: {{error|warning}}:

tp.model @plain_stack_deeper {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 8>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  // expected-error @+2 {{scheme 'completep' transfers across depth through residual branches, but the blocks of @L (2 -> 8 blocks) have no tp.residual: a plain stack has no branch for the depth rules to act on}}
  // expected-note @+1 {{the depth factors (LR x m_L^(alpha-1), eps x m_L^-alpha) compensate the branch multiplier of h + m_L^-alpha f(h) (CompleteP Table 1 'MHA/MLP Residual'); make the blocks residual (an mlp card's "residual": true), keep the depth of the base model, or use a width-only scheme; allow-depth-without-residual (muirc --allow-depth-without-residual) applies the depth rules anyway, with a warning}}
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.relu %f : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// At depth ratio 1 the depth rules evaluate to 1: nothing to report.
tp.model @plain_stack_same_depth {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 8, size 32>
  tp.dim @L = depth<base 2, size 2>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "w" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.relu %f : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}

// -----

// Residual blocks are what the depth rules are for.
tp.model @residual_deeper {
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
