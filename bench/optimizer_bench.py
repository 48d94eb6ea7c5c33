#!/usr/bin/python3
"""CPU step throughput of every optimizer and guard through the runtime,
beside the memory-copy bound of the same bytes, all measured in the same run
(the machine is shared and noisy: read the ratios, not the absolute times).

    python3 bench/optimizer_bench.py [--build build] [--quick]

For each optimizer (docs/Optimizers.md) it packages the model, then times
muir_state_step (through Python) plain, with global-norm clipping
(max_grad_norm, never reached, so the kernel does the same arithmetic), with
the non-finite check, and with both. Reported per row: bytes per parameter
the step moves (params read and written, grads read, each state read and
written, plus one more read of the grads for a guard's reduction phase), GB/s
at the median time, and two ratios taken within each round: against a C copy
loop that moves the same bytes (-O3 -march=native: the bandwidth bound), and
against plain AdamW (the issue's target for the guards: <= 1.15x). A second
table times the guards' reduction phase alone (muir_state_grad_norm, on
$MUIR_NUM_THREADS threads like the guarded steps) against each plain step.

bf16 packages (--precision=bf16: bf16 grads read, a bf16 copy of the params
written with stochastic rounding, float32 master weights and states) of the
optimizers in --bf16 get the same rows, with their own copy bound (the same
2-byte reads and writes) and the ratio to fp32's plain AdamW.
"""
import argparse
import ctypes
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
ap.add_argument("--quick", action="store_true",
                help="3 rounds (unless --reps) and a 4-layer, 384-wide GPT-2 instead of the model")
ap.add_argument("--reps", type=int, help="rounds (default 9; 3 with --quick)")
ap.add_argument("--optimizers", help="a ';'-separated subset (default: all below; "
                "adamw first, the baseline)")
ap.add_argument("--bf16", default="adamw;lion:recipe;lion-ar",
                help="';'-separated optimizers to run in bf16 too (default: %(default)s; '' none)")
args = ap.parse_args()
reps = args.reps or (3 if args.quick else 9)
tmp = tempfile.mkdtemp(prefix="muir-optbench-")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
os.environ.setdefault("MUIR_RUNTIME_LIB", os.path.join(args.build, "lib", "libmuir_runtime.so"))
import muir  # noqa: E402

model = args.model
if args.quick:
    import re
    text = open(model).read()
    for name, decl in (("d_model", "width<base 256, size 384>"), ("n_head", "width<base 4, size 6>"),
                       ("d_ff", "width<base 1024, size 1536>"), ("layers", "depth<base 2, size 4>")):
        text = re.sub(rf"tp.dim @{name} = [a-z]+<[^>]*>", f"tp.dim @{name} = {decl}", text)
    model = f"{tmp}/model.mlir"
    open(model, "w").write(text)

OPTIMIZERS = ["adamw", "adamw:bias-correction1=false", "adam-atan2", "sgd-momentum", "lion",
              "lion:recipe", "lion-a", "lion-a:recipe", "lion-ar", "lion-ar:units=tensor"]
if args.optimizers:
    OPTIMIZERS = ["adamw"] + [o for o in args.optimizers.split(";") if o != "adamw"]
GUARDS = {"plain": {}, "clip": {"max_grad_norm": 1e30}, "nonfinite": {"skip_nonfinite": True},
          "clip+nonfinite": {"max_grad_norm": 1e30, "skip_nonfinite": True}}

VARIANTS = [(o, "fp32") for o in OPTIMIZERS] + [(o, "bf16") for o in args.bf16.split(";") if o]

copy_src = f"{tmp}/copy.c"
open(copy_src, "w").write(r"""
#include <stdint.h>
/* A bf16 step's bytes: `rw` float buffers read and written, the bf16
 * grads read `reads` times, the bf16 copy written. */
void copy_like_bf16(float *const *b, int rw, const uint16_t *g, int reads,
                    uint16_t *c, int64_t n) {
  for (int r = 0; r < reads; ++r) {
    uint32_t s = 0;
    for (int64_t i = 0; i < n; ++i) s += g[i];
    b[0][0] += (float)s * 0.0f;
  }
  for (int w = 0; w < rw; ++w)
    for (int64_t i = 0; i < n; ++i) b[w][i] = b[w][i] + 1.0f;
  for (int64_t i = 0; i < n; ++i) c[i] = (uint16_t)(c[i] + 1);
}
/* Reads `reads` buffers and writes `writes` of them (n floats each) with
 * trivial arithmetic: the bandwidth bound of a step moving those bytes. */
void copy_like(float *const *b, int reads, int writes, int64_t n) {
  for (int r = writes; r < reads; ++r) {       /* read-only buffers */
    float s = 0;
    for (int64_t i = 0; i < n; ++i) s += b[r][i];
    b[0][0] += s * 0.0f;
  }
  for (int w = 0; w < writes; ++w)
    for (int64_t i = 0; i < n; ++i) b[w][i] = b[w][i] + 1.0f;
}
""")
subprocess.run(["clang-22", "-O3", "-march=native", "-ffast-math", "-shared", "-fPIC",
                "-o", f"{tmp}/copy.so", copy_src], check=True)
copy = ctypes.CDLL(f"{tmp}/copy.so")
copy.copy_like.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
copy.copy_like_bf16.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                ctypes.c_void_p, ctypes.c_int64]

rows = []
norms = []
base = None
for spec, precision in VARIANTS:
    out = f"{tmp}/{spec.replace(':', '_').replace('=', '_').replace(',', '_')}-{precision}"
    subprocess.run([f"{args.build}/bin/muirc", "package", model, "--scheme=mup-table8",
                    f"--optimizer={spec}", "--lr=3e-3", "--weight-decay=0.1", "--no-gpu",
                    f"--precision={precision}", "-o", out],
                   check=True, stdout=subprocess.DEVNULL, timeout=600)
    pkg = muir.Package(out)
    st = pkg.state()
    st.init(seed=0)
    n = pkg.buffer_elements
    grads = (np.random.default_rng(0).standard_normal(n) * 1e-3).astype(np.float32)
    bf16 = precision == "bf16"
    st.flat_grads[...] = muir.to_bf16(grads) if bf16 else grads
    # Buffers read and written per element (LionAR's second state holds a
    # few values per unit: no traffic to speak of).
    states = pkg.num_states - (pkg.optimizer == "lion_ar")
    bufs = [st.flat_params] + list(st.flat_states)[:states] + ([] if bf16 else [st.flat_grads])
    ptrs = (ctypes.c_void_p * len(bufs))(*[b.ctypes.data for b in bufs])
    t = [0]

    def step(guards):
        def run():
            t[0] += 1
            st.step(t[0], **guards)
        return run

    fns = {g: step(kw) for g, kw in GUARDS.items()}
    # The guards' reduction phase alone (muir_state_grad_norm).
    fns["norm"] = st.grad_norm
    # The copy bound of the plain step and of a guarded one (one more read).
    if bf16:
        g16, c16 = st.flat_grads.ctypes.data, st.flat_params_bf16.ctypes.data
        fns["copy"] = lambda: copy.copy_like_bf16(ptrs, 1 + states, g16, 1, c16, n)
        fns["copy+read"] = lambda: copy.copy_like_bf16(ptrs, 1 + states, g16, 2, c16, n)
    else:
        fns["copy"] = lambda: copy.copy_like(ptrs, 2 + states, 1 + states, n)
        fns["copy+read"] = lambda: copy.copy_like(ptrs, 3 + states, 1 + states, n)
    if base is None:
        base_pkg, base_st = pkg, st
        fns["adamw"] = None
    else:
        fns["adamw"] = lambda: base_st.step(1000 + t[0])
    fns = {k: v for k, v in fns.items() if v is not None}
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    names = list(fns)
    for r in range(reps):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    ratio = lambda a, b: med([x / y for x, y in zip(times[a], times[b])])  # noqa: E731
    for g in GUARDS:
        # The runtime's count (muir_package_bytes_per_param), plus a guard's
        # read of the grads.
        nbytes = pkg.bytes_per_param["step"] + (g != "plain") * (2 if bf16 else 4)
        assert bf16 or nbytes == 4 * (3 + 2 * states + (g != "plain"))
        bound = "copy" if g == "plain" else "copy+read"
        vs_adamw = 1.0 if base is None and g == "plain" else (
            ratio(g, "plain") if base is None else ratio(g, "adamw"))
        rows.append((spec, precision, g, nbytes, nbytes * n / med(times[g]) / 1e9,
                     ratio(g, bound), vs_adamw))
    gbytes = 2 if bf16 else 4
    norms.append((spec, precision, gbytes, gbytes * n / med(times["norm"]) / 1e9,
                  med(times["norm"]) * 1e3, ratio("norm", "plain")))
    if base is None:
        base = spec

print(f"model {args.model}{' (quick: 4 layers, width 384)' if args.quick else ''}, "
      f"{reps} rounds, ratios are medians within rounds\n")
print("| optimizer | precision | guard | bytes/param | GB/s | x copy bound | x plain AdamW |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for spec, precision, g, nbytes, gbs, vs_copy, vs_adamw in rows:
    print(f"| `{spec}` | {precision} | {g} | {nbytes} | {gbs:.1f} | {vs_copy:.2f} | {vs_adamw:.2f} |")
print("\nThe reduction phase alone (muir_state_grad_norm: one read of the grads), against the plain step:\n")
print("| optimizer | precision | bytes/param | GB/s | ms | x plain step |")
print("| --- | --- | --- | --- | --- | --- |")
for spec, precision, nbytes, gbs, ms, vs_plain in norms:
    print(f"| `{spec}` | {precision} | {nbytes} | {gbs:.1f} | {ms:.2f} | {vs_plain:.2f} |")
