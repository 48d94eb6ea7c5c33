// A well-formed model that fails verification: a fixed dim of size 0.
tp.model @m {
  tp.dim @vocab = fixed<0>
  tp.output
}
