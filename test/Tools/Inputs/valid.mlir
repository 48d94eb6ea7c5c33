// A valid model, for driver tests whose error comes before any parsing.
tp.model @m {
  tp.dim @b = fixed<4>
  tp.dim @d = width<base 8, size 64>
  %x = tp.input "x" : !tp.tensor<[b, d], f32>
  tp.output %x : !tp.tensor<[b, d], f32>
}
