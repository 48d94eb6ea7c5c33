//===- mlp.mlir - An MLP classifier as a tp program -----------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A multilayer perceptron for 28x28 images in 10 classes (MNIST,
// Fashion-MNIST), the classic muP example:
//
//   x [784] -> linear + ReLU -> (linear + ReLU) x n_hidden -> linear -> 10
//
// with biases on every layer and the mean cross-entropy against integer
// labels as the output.
//
// Only the hidden width scales: 64 in the base model (where the learning
// rate and init are tuned), 1024 here (width ratio 16). The hidden layers
// are plain stacking, not residual blocks, so depth-wise transfer
// (Depth-muP, CompleteP) does not apply to them; the depth dim therefore
// has the same size in the base model and here (depth ratio 1), and a depth
// scheme on a deeper copy is an error. mlp-residual.mlir is the residual
// variant, for depth transfer.
//
// Try:
//
//   muirc summary examples/mlp.mlir
//
//===----------------------------------------------------------------------===//

!in = !tp.tensor<[batch, features], f32>
!h = !tp.tensor<[batch, hidden], f32>
!out = !tp.tensor<[batch, classes], f32>
!labels = !tp.tensor<[batch], i32>
!w_in = !tp.tensor<[hidden, features], f32>
!w_hid = !tp.tensor<[hidden, hidden], f32>
!w_out = !tp.tensor<[classes, hidden], f32>
!b_hid = !tp.tensor<[hidden], f32>
!b_out = !tp.tensor<[classes], f32>

tp.model @mlp {
  tp.dim @batch = fixed<128>
  tp.dim @features = fixed<784>
  tp.dim @classes = fixed<10>
  tp.dim @hidden = width<base 64, size 1024>
  // Hidden-to-hidden layers after the input layer (3 hidden layers in all).
  tp.dim @n_hidden = depth<base 2, size 2>

  %x = tp.input "images" : !in
  %y = tp.input "labels" : !labels

  // Input layer: 784 fixed features -> hidden width.
  %w0 = tp.param "input.weight" normal : !w_in
  %b0 = tp.param "input.bias" zeros : !b_hid
  %z0 = tp.linear %x, %w0, %b0 : (!in, !w_in, !b_hid) -> !h
  %h0 = tp.relu %z0 : !h

  // Hidden layers, one copy of `hidden.*` per layer. The carried value is
  // replaced, not accumulated: there is no tp.residual.
  %hL = tp.repeat @n_hidden (%h0) : (!h) -> !h {
  ^bb0(%a: !h):
    %w = tp.param "hidden.weight" normal : !w_hid
    %b = tp.param "hidden.bias" zeros : !b_hid
    %z = tp.linear %a, %w, %b : (!h, !w_hid, !b_hid) -> !h
    %r = tp.relu %z : !h
    tp.yield %r : !h
  }

  // Readout: hidden width -> 10 fixed classes.
  %w_o = tp.param "readout.weight" normal : !w_out
  %b_o = tp.param "readout.bias" zeros : !b_out
  %logits = tp.linear %hL, %w_o, %b_o : (!h, !w_out, !b_out) -> !out

  %loss = tp.cross_entropy %logits, %y : (!out, !labels) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
