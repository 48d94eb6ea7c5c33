#!/usr/bin/python3
"""muir.torch on examples/torch/gpt.py: import + package time, and the step
time of the bound optimizer (muir.torch.Optimizer: the package's fused step
over the flat buffers) beside torch.optim.AdamW with foreach=True and one
param group per distinct (lr, weight decay, eps) of the package (what
per-role scaling forces on torch), on the same module, in the same run
(the machine is shared and noisy: read the ratio).

    MUIRC=build/bin/muirc PYTHONPATH=python python3 bench/torch_bench.py [--quick]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "examples", "torch"))
import muir.torch as mt  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--quick", action="store_true", help="small model, 3 reps")
ap.add_argument("--width", type=int, default=768)
ap.add_argument("--layers", type=int, default=12)
ap.add_argument("--reps", type=int, default=11)
args = ap.parse_args()
if args.quick:
    args.width, args.layers, args.reps = 256, 4, 3
torch.set_num_threads(1)
torch.manual_seed(0)


def gpt(width, layers):
    return GPT(GPTConfig(block_size=64, vocab_size=50304, n_layer=layers,
                         n_head=width // 64, n_embd=width))


model, base = gpt(args.width, args.layers), gpt(max(128, args.width // 4), 2)
idx = torch.randint(0, 50304, (1, 64))
tmp = tempfile.mkdtemp(prefix="muir-torch-bench-")
t0 = time.perf_counter()
imported = mt.import_model(model, base, (idx, idx), loss=lambda o: o[1],
                           workdir=tmp)
t1 = time.perf_counter()
package = mt.package(imported, os.path.join(tmp, "pkg"), "completep",
                     lr=3e-3, weight_decay=0.1, eps=1e-8, beta1=0.9,
                     beta2=0.95)
t2 = time.perf_counter()
mt.bind(model, package, imported)
mt.init_(model, seed=0)
params = list(model.parameters())
n = sum(p.numel() for p in params)
print("GPT d_model %d, %d layers: %.1fM parameters" % (args.width,
                                                      args.layers, n / 1e6))
print("import %.2f s, package %.2f s" % (t1 - t0, t2 - t1))

# Random gradients in the flat grads buffer (the bound .grads are views).
for p in params:
    p.grad.copy_(torch.randn_like(p) * 1e-3)
opt = mt.Optimizer(model)

# torch's AdamW on copies of the same tensors, grouped by the package's
# per-tensor constants.
names = {id(p): n for n, p in model.named_parameters()}
groups = {}
for p in params:
    name = mt.binding_of(model).import_binding["params"][names[id(p)]]["param"]
    copy = mt.binding_of(model).import_binding["params"][names[id(p)]]["copy"]
    rows = package.tensor_rows[name]
    row = rows[copy if len(rows) > 1 else 0]
    key = (row["lr"], row["weight_decay"], row["eps"])
    q = p.detach().clone().requires_grad_()
    q.grad = p.grad.clone()
    groups.setdefault(key, []).append(q)
ref = torch.optim.AdamW([{"params": ps, "lr": k[0], "weight_decay": k[1],
                          "eps": k[2]} for k, ps in groups.items()],
                        betas=(0.9, 0.95), foreach=True)
print("torch.optim.AdamW: %d param groups" % len(groups))


def timed(step):
    step()  # warm: allocates torch's state
    times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


rounds = [(timed(opt.step), timed(ref.step)) for _ in range(2)]
muir_s = min(r[0] for r in rounds)
torch_s = min(r[1] for r in rounds)
print("step: muir.torch.Optimizer %.1f ms, torch AdamW foreach %.1f ms: "
      "%.1fx" % (1e3 * muir_s, 1e3 * torch_s, torch_s / muir_s))
