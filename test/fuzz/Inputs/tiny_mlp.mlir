// Two models in one module: an MLP with biases and a transposed tie, and a
// parameter-free model. Fuzz seed.
tp.model @tiny_mlp {
  tp.dim @batch = fixed<8>
  tp.dim @d_in = fixed<12>
  tp.dim @width = width<base 4, size 32>
  tp.dim @classes = fixed<10>
  %x = tp.input "x" : !tp.tensor<[batch, d_in], f32>
  %y = tp.input "y" : !tp.tensor<[batch], i32>
  %w1 = tp.param "fc1.weight" uniform : !tp.tensor<[width, d_in], f32>
  %b1 = tp.param "fc1.bias" zeros : !tp.tensor<[width], f32>
  %h = tp.linear %x, %w1, %b1 : (!tp.tensor<[batch, d_in], f32>, !tp.tensor<[width, d_in], f32>, !tp.tensor<[width], f32>) -> !tp.tensor<[batch, width], f32>
  %r = tp.relu %h : !tp.tensor<[batch, width], f32>
  %w2 = tp.param "fc2.weight" tied "fc1.weight" : !tp.tensor<[d_in, width], f32>
  %h2 = tp.linear %r, %w2 : (!tp.tensor<[batch, width], f32>, !tp.tensor<[d_in, width], f32>) -> !tp.tensor<[batch, d_in], f32>
  %s = tp.mul %h2, %x : (!tp.tensor<[batch, d_in], f32>, !tp.tensor<[batch, d_in], f32>) -> !tp.tensor<[batch, d_in], f32>
  %w3 = tp.param "readout.weight" zeros : !tp.tensor<[classes, d_in], f32>
  %logits = tp.linear %s, %w3 : (!tp.tensor<[batch, d_in], f32>, !tp.tensor<[classes, d_in], f32>) -> !tp.tensor<[batch, classes], f32>
  %loss = tp.cross_entropy %logits, %y : (!tp.tensor<[batch, classes], f32>, !tp.tensor<[batch], i32>) -> !tp.tensor<[], f32>
  tp.output %loss : !tp.tensor<[], f32>
}

tp.model @no_params {
  tp.dim @n = fixed<3>
  tp.dim @d = width<base 2, size 6>
  %a = tp.input "a" : !tp.tensor<[n, d], f16>
  %b = tp.input "b" : !tp.tensor<[d], f16>
  %c = tp.add %a, %b : (!tp.tensor<[n, d], f16>, !tp.tensor<[d], f16>) -> !tp.tensor<[n, d], f16>
  %e = tp.gelu %c : !tp.tensor<[n, d], f16>
  tp.output %e, %a : !tp.tensor<[n, d], f16>, !tp.tensor<[n, d], f16>
}
