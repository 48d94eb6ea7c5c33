"""Prints a tp.model with N independent parameters p0.weight .. pN-1.weight
(a readout each, summed), for tests that need a model with many parameters."""
import sys

n = int(sys.argv[1])
t = "!tp.tensor<[b, d], f32>"
print("tp.model @many {")
print("  tp.dim @b = fixed<2>")
print("  tp.dim @d = width<base 8, size 32>")
print("  tp.dim @v = fixed<4>")
print(f"  %x = tp.input \"x\" : {t}")
for i in range(n):
    print(f"  %w{i} = tp.param \"p{i}.weight\" normal : !tp.tensor<[v, d], f32>")
    print(f"  %y{i} = tp.linear %x, %w{i} : ({t}, !tp.tensor<[v, d], f32>) -> !tp.tensor<[b, v], f32>")
print("  tp.output " + ", ".join(f"%y{i}" for i in range(n)) + " : " + ", ".join("!tp.tensor<[b, v], f32>" for _ in range(n)))
print("}")
