#!/usr/bin/python3
"""CPU step throughput of a generated package against the bandwidth limit and
torch, all measured in the same run (the machine is shared and noisy: read the
ratios, not the absolute times).

    python3 bench/step_bench.py [--build build] [--quick]

Baselines:
  copy   a C loop compiled here with -O3 -march=native that reads p, g, m, v
         and writes p, m, v (the same 28 bytes per parameter as fp32 AdamW)
         with trivial arithmetic: the memory-bandwidth limit;
  fused  a hand-written fused AdamW loop in C (-O3 -march=native
         -fno-math-errno), one set of constants for the whole buffer: what
         a single-group fused optimizer could reach at best;
  torch  torch.optim.AdamW with one param group per distinct (lr, wd, eps,
         betas), which is what per-tensor scaling forces on torch, with the
         single-tensor loop (the CPU default) and with foreach=True.
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

# torch's OpenMP workers spin after each parallel region by default; on a
# 2-core machine a spinning worker would compete with the next
# single-threaded loop. Passive waiting keeps the rounds fair.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--build", default="build")
ap.add_argument("--model", default="examples/gpt2.mlir")
ap.add_argument("--quick", action="store_true", help="3 repetitions instead of --reps")
ap.add_argument("--reps", type=int, default=11)
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
lib.muir_kernel_step.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int64, ctypes.c_float,
                                                         ctypes.c_float]
lib.muir_kernel_init.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int64]

P = np.zeros(n, np.float32)
G = (np.random.default_rng(0).standard_normal(n) * 1e-3).astype(np.float32)
M = np.zeros(n, np.float32)
V = np.zeros(n, np.float32)
lib.muir_kernel_init(P.ctypes.data, 0, 0, n)
states = (ctypes.c_void_p * 2)(M.ctypes.data, V.ctypes.data)


def interleaved(fns):
    """Seconds per call of each function, one list entry per round: the
    repetitions are taken in turn (one call of each per round) so that a
    noisy neighbour slows the calls of a round alike, and ratios are taken
    within a round."""
    for fn in fns.values():
        fn()  # warm up (page faults, caches)
    times = {name: [] for name in fns}
    names = list(fns)
    for r in range(reps):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate the order
            fn = fns[name]
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def ratio(times, num, den):
    """The median over rounds of times[num] / times[den]."""
    return statistics.median(a / b for a, b in zip(times[num], times[den]))


step = [0]


def muir_step():
    step[0] += 1
    lib.muir_kernel_step(P.ctypes.data, G.ctypes.data, states, step[0], 1.0, 1.0)


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
fused_src = f"{tmp}/fused.c"
open(fused_src, "w").write(r"""
#include <math.h>
#include <stdint.h>
void fused_adamw(float *restrict p, const float *restrict g, float *restrict m,
                 float *restrict v, int64_t n, float decay, float step_size,
                 float bc2_sqrt) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    float mi = 0.9f * m[i] + 0.1f * gi;
    float vi = 0.95f * v[i] + 0.05f * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * (mi / (sqrtf(vi) / bc2_sqrt + 1e-8f));
  }
}
""")
for src, lib_name in ((copy_src, "copy.so"), (fused_src, "fused.so")):
    subprocess.run(["clang-22", "-O3", "-march=native", "-fno-math-errno", "-shared", "-fPIC",
                    "-o", f"{tmp}/{lib_name}", src], check=True)
copy = ctypes.CDLL(f"{tmp}/copy.so")
copy.copy_like.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64]
fused = ctypes.CDLL(f"{tmp}/fused.so")
fused.fused_adamw.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] + [ctypes.c_float] * 3


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

def torch_adamw(foreach):
    return torch.optim.AdamW([{"params": ts, "lr": k[0], "weight_decay": k[1], "eps": k[2],
                               "betas": (k[3], k[4])} for k, ts in groups.items()],
                             foreach=foreach)


raw = interleaved({
    "muir": muir_step,
    "copy": lambda: copy.copy_like(P.ctypes.data, G.ctypes.data, M.ctypes.data, V.ctypes.data, n),
    "fused": lambda: fused.fused_adamw(P.ctypes.data, G.ctypes.data, M.ctypes.data, V.ctypes.data,
                                       n, 1 - 3e-4, 3e-3, 0.5),
    "torch": torch_adamw(False).step,
    "foreach": torch_adamw(True).step,
})
t_muir, t_copy, t_fused, t_torch, t_foreach = (
    statistics.median(raw[k]) for k in ("muir", "copy", "fused", "torch", "foreach"))

bytes_per_param = 28  # fp32 AdamW: read p g m v, write p m v
gbs = lambda t: bytes_per_param * owned / t / 1e9  # noqa: E731
tensors = sum(p["copies"] for p in man["layout"]["params"] if not p["tied_to"])
print(f"model {man['model']}: {owned:,} parameters, {tensors} tensors, "
      f"{len(groups)} distinct (lr, wd, eps, betas) groups")
print(f"threads: muir kernel 1, C loops 1, torch {torch.get_num_threads()}")
print(f"{'':12}{'s/step':>10}{'GB/s':>8}")
rows = (("muir AdamW", t_muir), ("copy bound", t_copy), ("fused C", t_fused),
        ("torch", t_torch), ("torch each", t_foreach))
for name, t in rows:
    print(f"{name:12}{t:10.4f}{gbs(t):8.1f}")
print(f"bytes moved per parameter: {bytes_per_param} (the AdamW minimum: read p, g, m, v; "
      f"write p, m, v)")
best_torch = "torch" if t_torch <= t_foreach else "foreach"
print(f"ratios (median over {reps} rounds of the ratio within a round):")
print(f"  muir / copy bandwidth:        {ratio(raw, 'copy', 'muir'):.2f}")
print(f"  muir / fused C loop:          {ratio(raw, 'fused', 'muir'):.2f}")
print(f"  muir speed-up over torch:     {ratio(raw, best_torch, 'muir'):.2f}x "
      f"(the faster torch: {'single-tensor' if best_torch == 'torch' else 'foreach'})")
h100 = bytes_per_param * owned / 3.0e12
print(f"estimated H100 step at 3.0 TB/s: {h100 * 1e3:.2f} ms")
