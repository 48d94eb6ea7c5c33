// tp-assign-layout: program order, every tensor at a multiple of the
// alignment (64 bytes = 16 f32 elements by default), repeated copies a whole
// aligned stride apart, ties sharing their owner's placement, and offsets in
// f32 elements whatever the declared element type (the buffers hold f32
// master copies; docs/Lowering.md).
// RUN: muir-opt %s --tp-assign-layout | FileCheck %s
// RUN: muir-opt %s --tp-assign-layout=alignment=16 | FileCheck %s --check-prefix=A16

// CHECK-LABEL: tp.model @mixed attributes {tp.buffer = #tp.buffer<elements = 160, alignment = 64>}
// CHECK: tp.param "a" normal {tp.layout = #tp.layout<offset = 0, stride = 16, numel = 6, copies = 1>} : !tp.tensor<[n], f32>
// CHECK: tp.param "b" normal {tp.layout = #tp.layout<offset = 16, stride = 48, numel = 36, copies = 1>} : !tp.tensor<[n, n], bf16>
// CHECK: tp.param "c" zeros {tp.layout = #tp.layout<offset = 64, stride = 16, numel = 6, copies = 3>} : !tp.tensor<[n], f4E2M1FN>
// CHECK: tp.param "d" tied "b" {tp.layout = #tp.layout<offset = 16, stride = 48, numel = 36, copies = 1>}
// CHECK: tp.param "e" ones {tp.layout = #tp.layout<offset = 112, stride = 48, numel = 36, copies = 1>} : !tp.tensor<[n, n], f16>
// A16: tp.buffer = #tp.buffer<elements = 104, alignment = 16>
// A16: tp.param "b" normal {tp.layout = #tp.layout<offset = 8, stride = 36, numel = 36, copies = 1>}
tp.model @mixed {
  tp.dim @n = fixed<6>
  tp.dim @l = depth<base 1, size 3>
  %a = tp.param "a" normal : !tp.tensor<[n], f32>
  %b = tp.param "b" normal : !tp.tensor<[n, n], bf16>
  %r = tp.repeat @l (%a) : (!tp.tensor<[n], f32>) -> !tp.tensor<[n], f32> {
  ^bb0(%h: !tp.tensor<[n], f32>):
    %c = tp.param "c" zeros : !tp.tensor<[n], f4E2M1FN>
    tp.yield %h : !tp.tensor<[n], f32>
  }
  %d = tp.param "d" tied "b" : !tp.tensor<[n, n], bf16>
  %e = tp.param "e" ones : !tp.tensor<[n, n], f16>
  tp.output %r, %b, %d, %e : !tp.tensor<[n], f32>, !tp.tensor<[n, n], bf16>, !tp.tensor<[n, n], bf16>, !tp.tensor<[n, n], f16>
}
