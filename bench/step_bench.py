#!/usr/bin/python3
"""CPU step throughput of a generated package against the bandwidth limit and
torch, all measured in the same run (the machine is shared and noisy: read the
ratios, not the absolute times).

    python3 bench/step_bench.py [--build build] [--quick]

Baselines:
  copy   a C loop compiled here with -O3 -march=native that reads p, g, m, v
         and writes p, m, v (the same 28 bytes per parameter as fp32 AdamW)
         with trivial arithmetic: the memory-bandwidth limit;
  torch  torch.optim.AdamW with one param group per distinct (lr, wd, eps,
         betas), which is what per-tensor scaling forces on torch.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--build", default="build")
ap.add_argument("--model", default="examples/gpt2.mlir")
ap.add_argument("--quick", action="store_true", help="3 repetitions, small torch run")
ap.add_argument("--reps", type=int, default=7)
args = ap.parse_args()
reps = 3 if args.quick else args.reps
tmp = tempfile.mkdtemp(prefix="muir-bench-")

pkg = f"{tmp}/pkg"
subprocess.run([f"{args.build}/bin/muirc", "package", args.model, "--scheme=completep",
                "--lr=3e-3", "--weight-decay=0.1", "--eps=1e-8", "--beta1=0.9",
                "--beta2=0.95", "-o", pkg], check=True, stdout=subprocess.DEVNULL)
man = json.load(open(f"{pkg}/manifest.json"))
n = man["layout"]["buffer_elements"]
owned = sum(p["numel"] * p["copies"] for p in man["layout"]["params"] if not p["tied_to"])
lib = ctypes.CDLL(f"{pkg}/libmuir_kernels.so")
lib.muir_kernel_step.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int64, ctypes.c_float]
lib.muir_kernel_init.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int64]

P = np.zeros(n, np.float32)
G = (np.random.default_rng(0).standard_normal(n) * 1e-3).astype(np.float32)
M = np.zeros(n, np.float32)
V = np.zeros(n, np.float32)
lib.muir_kernel_init(P.ctypes.data, 0, 0, n)
states = (ctypes.c_void_p * 2)(M.ctypes.data, V.ctypes.data)


def timeit(fn):
    fn()  # warm up (page faults, caches)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


step = [0]


def muir_step():
    step[0] += 1
    lib.muir_kernel_step(P.ctypes.data, G.ctypes.data, states, step[0], 1.0)


copy_src = f"{tmp}/copy.c"
open(copy_src, "w").write(r"""
#include <stdint.h>
void copy_like(float *restrict p, const float *restrict g, float *restrict m,
               float *restrict v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    m[i] = m[i] + gi;
    v[i] = v[i] + gi;
    p[i] = p[i] - gi;
  }
}
""")
subprocess.run(["clang-22", "-O3", "-march=native", "-shared", "-fPIC", "-o",
                f"{tmp}/copy.so", copy_src], check=True)
copy = ctypes.CDLL(f"{tmp}/copy.so")
copy.copy_like.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64]

t_muir = timeit(muir_step)
t_copy = timeit(lambda: copy.copy_like(P.ctypes.data, G.ctypes.data, M.ctypes.data,
                                       V.ctypes.data, n))

import torch  # noqa: E402

# torch gets every core (Debian's build defaults to one thread here); the
# generated kernel and the copy loop run on one.
torch.set_num_threads(os.cpu_count())

vals = {p["name"]: p for p in man["report"]["params"]}
groups = {}
for p in man["layout"]["params"]:
    if p["tied_to"]:
        continue
    v = vals[p["name"]]
    for c in range(p["copies"]):
        pick = lambda x: x[c] if isinstance(x, list) else x  # noqa: E731
        key = (pick(v["lr"]), pick(v["weight_decay"]), pick(v["eps"]),
               pick(v["beta1"]), pick(v["beta2"]))
        off = p["offset"] + c * p["stride"]
        t = torch.from_numpy(P[off:off + p["numel"]]).requires_grad_()
        t.grad = torch.from_numpy(G[off:off + p["numel"]])
        groups.setdefault(key, []).append(t)
opt = torch.optim.AdamW([{"params": ts, "lr": k[0], "weight_decay": k[1], "eps": k[2],
                          "betas": (k[3], k[4])} for k, ts in groups.items()])
t_torch = timeit(opt.step)

bytes_per_param = 28  # fp32 AdamW: read p g m v, write p m v
gbs = lambda t: bytes_per_param * owned / t / 1e9  # noqa: E731
print(f"model {man['model']}: {owned:,} parameters, {len(man['layout']['params'])} tensors, "
      f"{len(groups)} distinct (lr, wd, eps, betas) groups")
print(f"threads: muir kernel 1, copy loop 1, torch {torch.get_num_threads()}")
print(f"{'':12}{'s/step':>10}{'GB/s':>8}")
for name, t in (("muir AdamW", t_muir), ("copy bound", t_copy), ("torch AdamW", t_torch)):
    print(f"{name:12}{t:10.4f}{gbs(t):8.1f}")
print(f"bytes moved per parameter: {bytes_per_param} (the AdamW minimum: read p, g, m, v; "
      f"write p, m, v)")
print(f"muir / copy bandwidth: {t_copy / t_muir:.2f}   muir speed-up over torch: "
      f"{t_torch / t_muir:.2f}x")
h100 = bytes_per_param * owned / 3.0e12
print(f"estimated H100 step at 3.0 TB/s: {h100 * 1e3:.2f} ms")
