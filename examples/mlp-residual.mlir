//===- mlp-residual.mlir - A residual MLP classifier as a tp program ------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The MLP of mlp.mlir with residual hidden layers, for depth-wise transfer
// (Depth-muP, CompleteP, Complete^(d)P) on 28x28 images in 10 classes:
//
//   x [784] -> linear + ReLU -> (h + W relu(h) + b) x n_hidden -> linear -> 10
//
// Each hidden layer is a pre-activation residual block with one linear
// layer, the block of Depth-muP (x + L^-alpha W phi(x)); the parametrisation
// multiplies the branch by m_L^-alpha at the tp.residual. The input layer
// and the readout sit outside the blocks and never scale with depth.
//
// The hidden width grows 16x (64 -> 1024) and the depth 4x (2 -> 8 blocks)
// from the base model where the hyperparameters are tuned.
//
// Try:
//
//   muirc report examples/mlp-residual.mlir --scheme completep
//   muirc import --card examples/cards/mlp-residual-target.json \
//       --base-card examples/cards/mlp-residual-base.json   (the same IR)
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

tp.model @mlp_residual {
  tp.dim @batch = fixed<128>
  tp.dim @features = fixed<784>
  tp.dim @classes = fixed<10>
  tp.dim @hidden = width<base 64, size 1024>
  // Residual blocks after the input layer.
  tp.dim @n_hidden = depth<base 2, size 8>

  %x = tp.input "images" : !in
  %y = tp.input "labels" : !labels

  // Input layer: 784 fixed features -> hidden width (before the blocks).
  %w0 = tp.param "input.weight" normal : !w_in
  %b0 = tp.param "input.bias" zeros : !b_hid
  %z0 = tp.linear %x, %w0, %b0 : (!in, !w_in, !b_hid) -> !h
  %h0 = tp.relu %z0 : !h

  // Residual blocks, one copy of `hidden.*` per block: the stream is
  // carried and the branch W relu(h) + b is added to it.
  %hL = tp.repeat @n_hidden (%h0) : (!h) -> !h {
  ^bb0(%s: !h):
    %w = tp.param "hidden.weight" normal : !w_hid
    %b = tp.param "hidden.bias" zeros : !b_hid
    %a = tp.relu %s : !h
    %z = tp.linear %a, %w, %b : (!h, !w_hid, !b_hid) -> !h
    %r = tp.residual %s, %z : !h
    tp.yield %r : !h
  }

  // Readout: hidden width -> 10 fixed classes (after the blocks).
  %w_o = tp.param "readout.weight" normal : !w_out
  %b_o = tp.param "readout.bias" zeros : !b_out
  %logits = tp.linear %hL, %w_o, %b_o : (!h, !w_out, !b_out) -> !out

  %loss = tp.cross_entropy %logits, %y : (!out, !labels) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}
