// RUN: muir-opt %s --tp-parametrize='scheme=completep' --tp-instantiate='lr=0.001 weight-decay=0.1 batch=8 base-batch=2' | FileCheck %s
// RUN: muir-opt %s --tp-parametrize='scheme=completep' --tp-instantiate='lr=0.001 weight-decay=0.1 batch=8 base-batch=2' | muir-opt | FileCheck %s

// tp-instantiate's output, pinned: CompleteP (AdamW, alpha = 1; CompleteP
// Table 1) at width ratio m_N = 8/4 = 2 and depth ratio m_L = 4/2 = 2, by
// hand: hidden init std 0.02 m_N^-1/2 = 0.01414213562373095, lr 1e-3 m_N^-1
// = 5e-4, weight decay 0.1 m_N = 0.2, eps 1e-8 m_N^-1 m_L^-1 = 2.5e-9, betas
// unscaled; the residual branch m_L^-1 = 0.5. CompleteP has no batch rule,
// so the batch ratio 4 is recorded and changes nothing. Values print exactly
// and read back unchanged (second RUN line).
// CHECK-LABEL: tp.model @blocks attributes {tp.instance = #tp.instance<width = 2.000000e+00, depth = 2.000000e+00, batch = 4.000000e+00, duration = 1.000000e+00, base = <init_std = [2.000000e-02], lr = [1.000000e-03], weight_decay = [1.000000e-01], eps = [1.000000e-08], beta1 = [9.000000e-01], beta2 = [0.99899999999999999]>, init_std_rule = fixed, steps_multiplier = 1.000000e+00>
// CHECK: tp.values = #tp.values<init_std = [{{0.01414213562373095[12]}}], multiplier = [1.000000e+00], lr = [5.000000e-04], weight_decay = [2.000000e-01], eps = [2.500000e-09], beta1 = [9.000000e-01], beta2 = [0.99899999999999999]>
// CHECK: tp.residual {{.*}} {tp.scaling = #tp.scaling<multiplier = <L = -1>>, tp.values = #tp.values<multiplier = [5.000000e-01]>}
tp.model @blocks {
  tp.dim @b = fixed<2>
  tp.dim @d = width<base 4, size 8>
  tp.dim @L = depth<base 2, size 4>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  %y = tp.repeat @L (%x) : (!tp.tensor<[b, d], f32>) -> !tp.tensor<[b, d], f32> {
  ^bb0(%h: !tp.tensor<[b, d], f32>):
    %w = tp.param "blocks.fc" normal : !tp.tensor<[d, d], f32>
    %f = tp.linear %h, %w : (!tp.tensor<[b, d], f32>, !tp.tensor<[d, d], f32>) -> !tp.tensor<[b, d], f32>
    %r = tp.residual %h, %f : !tp.tensor<[b, d], f32>
    tp.yield %r : !tp.tensor<[b, d], f32>
  }
  tp.output %y : !tp.tensor<[b, d], f32>
}
