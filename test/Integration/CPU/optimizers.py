# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t
#
# The optimizers and options of the warmup paper (Kosson, Messmer & Jaggi
# 2024; docs/Optimizers.md) through the runtime, against references written
# here from the equations, per tensor copy with that copy's own constants
# (manifest.json's report), over 100 steps with random gradients and a
# cosine lr factor, on the shrunk GPT-2 and Llama examples:
#
# - AdamW without the beta1 bias correction: a numpy version of PyTorch's
#   AdamW with step size lr instead of lr / (1 - beta1^t) (bit for bit),
#   and torch.optim.AdamW with lr and weight decay rescaled per step so that
#   its bias correction cancels (it has no switch for it);
# - Lion's momentum recipe (one beta, Nesterov form, inverse bias
#   correction) and each of its parts alone: numpy (bit for bit) and torch
#   ops;
# - LionA (the sign step times a fixed RMS: AdamW's equilibrium
#   sqrt((1 - beta1) / (1 + beta1)) by default, or the option's), alone and
#   with the recipe: numpy (bit for bit) and torch ops.
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, shrink, GPT2_DIMS, LLAMA_DIMS, start  # noqa: E402

TOOLS, SRC, TMP = start()
import muir  # noqa: E402
import torch  # noqa: E402

check = Checks()
f = np.float32

GPT = shrink(SRC, TMP, "gpt2", GPT2_DIMS)
LLAMA = shrink(SRC, TMP, "llama", LLAMA_DIMS)
HP = ["--lr=3e-3", "--weight-decay=0.1", "--eps=1e-8", "--beta1=0.9", "--beta2=0.95"]
SDE = ["--batch=512", "--base-batch=256", "--tokens=4e9", "--base-tokens=1e9"]


def package(model, scheme, spec, name, extra=()):
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", model, f"--scheme={scheme}",
                    f"--optimizer={spec}", *HP, "--no-gpu", "-o", out, *extra],
                   check=True, capture_output=True)
    return muir.Package(out)


def constants(pkg, name, copy):
    """The report's constants of one tensor copy (a value or one per copy)."""
    row = next(p for p in pkg.manifest["report"]["params"] if p["name"] == name)
    pick = lambda v: v[copy] if isinstance(v, list) else v  # noqa: E731
    return {k: pick(row[k]) for k in ("lr", "weight_decay", "eps", "beta1", "beta2") if k in row}


def copies(view, info):
    return [view[c] for c in range(info.copies)] if info.copies > 1 else [view]


# ---- References (float32 in the kernels' operation order) -----------------
def sign(x):
    return np.sign(x).astype(np.float32)


def adamw_no_bc1(p, g, s, t, k, factor):
    """PyTorch's AdamW with step size lr (no division by 1 - beta1^t)."""
    lr = k["lr"] * factor
    m, v = s
    p *= f(1 - lr * k["weight_decay"])
    m *= f(k["beta1"]); m += g * f(1 - k["beta1"])
    v *= f(k["beta2"]); v += f(1 - k["beta2"]) * g * g
    denom = np.sqrt(v) / f(math.sqrt(1 - k["beta2"] ** t)) + f(k["eps"])
    p -= f(lr) * (m / denom)


def lion_a_rms(k, rms):
    """LionA's RMS: the option's, or AdamW's equilibrium RMS for beta1."""
    return rms if rms else math.sqrt((1 - k["beta1"]) / (1 + k["beta1"]))


def lion(nesterov, inverse, rms=None):
    """Lion; `nesterov`: one beta (beta1), m first, c from the new m;
    `inverse`: the sign step times 1 - beta_m^t; `rms` (LionA, 0: the
    default): the sign step times that RMS."""
    def step(p, g, s, t, k, factor):
        lr = k["lr"] * factor
        (m,) = s
        b = k["beta1"]
        if nesterov:
            m *= f(b); m += g * f(1 - b)
            c = m * f(b) + g * f(1 - b)
            bm = b
        else:
            c = m * f(b) + g * f(1 - b)
            m *= f(k["beta2"]); m += g * f(1 - k["beta2"])
            bm = k["beta2"]
        p *= f(1 - lr * k["weight_decay"])
        if inverse:
            lr = lr * (1 - bm ** t)
        if rms is not None:
            lr = lr * lion_a_rms(k, rms)
        p -= f(lr) * sign(c)
    return step


# ---- The same in torch ops, written from the papers' equations -------------
# torch's add(x, alpha=a) on the CPU is one fused multiply-add, which rounds
# b m + (1 - b) g differently from the kernels' two products and a sum: sign
# flips where c is within an ulp of 0. The moving averages are written as
# separate products and a sum here.
def average(m, g, b):
    return m.mul(b).add(g.mul(1 - b))


def torch_adamw_no_bc1(q, st, t, k, factor):
    """torch.optim.AdamW itself: its step size lr / (1 - beta1^t) is lr when
    its lr is lr (1 - beta1^t), and its decay 1 - lr wd is unchanged when its
    weight decay is wd / (1 - beta1^t)."""
    bc1 = 1 - k["beta1"] ** t
    if "opt" not in st:
        st["opt"] = torch.optim.AdamW([q], lr=1.0, betas=(k["beta1"], k["beta2"]),
                                      eps=k["eps"], weight_decay=0.0)
    group = st["opt"].param_groups[0]
    group["lr"] = k["lr"] * factor * bc1
    group["weight_decay"] = k["weight_decay"] / bc1
    st["opt"].step()


def torch_lion(nesterov, inverse, rms=None):
    def step(q, st, t, k, factor):
        lr = k["lr"] * factor
        m = st.setdefault("m", torch.zeros_like(q))
        b = k["beta1"]
        if nesterov:
            m.copy_(average(m, q.grad, b))
            c = average(m, q.grad, b)
            bm = b
        else:
            c = average(m, q.grad, b)
            m.copy_(average(m, q.grad, k["beta2"]))
            bm = k["beta2"]
        q.mul_(1 - lr * k["weight_decay"])
        scale = (1 - bm ** t if inverse else 1) * (1 if rms is None else lion_a_rms(k, rms))
        q.add_(c.sign(), alpha=-lr * scale)
    return step


def run(model, scheme, spec, name, numpy_ref, torch_ref, extra=(), steps=100):
    """`steps` steps of the package against both references, per copy."""
    pkg = package(model, scheme, spec, name, extra)
    st = pkg.state()
    st.init(seed=3)
    refs, tors = {}, {}
    for pname, info in pkg.params_info.items():
        if info.tied_to:
            continue
        for c, w in enumerate(copies(st.params[pname], info)):
            refs[(pname, c)] = (w.copy(), [np.zeros_like(w) for _ in range(pkg.num_states)])
            q = torch.tensor(w.copy(), requires_grad=True)
            tors[(pname, c)] = (q, {})
    rng = np.random.default_rng(1)
    for t in range(1, steps + 1):
        st.flat_grads[...] = (rng.standard_normal(pkg.buffer_elements) * 0.01).astype(f)
        factor = float(f(0.5 + 0.5 * math.cos(math.pi * t / steps)))
        st.step(t, lr_factor=factor)
        for (pname, c), (p, s) in refs.items():
            info = pkg.params_info[pname]
            g = copies(st.grads[pname], info)[c].copy()
            k = constants(pkg, pname, c)
            numpy_ref(p, g, s, t, k, factor)
            q, qs = tors[(pname, c)]
            q.grad = torch.from_numpy(g)
            with torch.no_grad():
                torch_ref(q, qs, t, k, factor)
    worst_np = worst_t = 0.0
    for (pname, c), (p, s) in refs.items():
        got = copies(st.params[pname], pkg.params_info[pname])[c]
        same = np.array_equal(got.view(np.uint32), p.view(np.uint32))
        check(f"{name}: {pname}[{c}] bit for bit against numpy", same)
        scale = max(float(np.abs(p).max()), 1e-30)
        d_np = float(np.abs(got - p).max()) / scale
        d_t = float(np.abs(got - tors[(pname, c)][0].detach().numpy()).max()) / scale
        worst_np, worst_t = max(worst_np, d_np), max(worst_t, d_t)
        check(f"{name}: {pname}[{c}] against torch, rel {d_t:.2e}", d_t <= 1e-5)
        for j, state in enumerate(s):
            got_s = copies(st.states[j][pname], pkg.params_info[pname])[c]
            check(f"{name}: {pname}[{c}] state {j} bit for bit",
                  np.array_equal(got_s.view(np.uint32), state.view(np.uint32)))
    print(f"{name}: {len(refs)} tensor copies, {steps} steps: numpy {worst_np:.1e}, "
          f"torch {worst_t:.1e} (relative, worst tensor)")
    return pkg


pkg = run(GPT, "completep", "adamw:bias-correction1=false", "gpt-adamw-nobc1",
          adamw_no_bc1, torch_adamw_no_bc1)
check("the package reports its options", pkg.optimizer_options == {"bias-correction1": False}
      and pkg.optimizer_spec == "adamw:bias-correction1=false")
run(LLAMA, "completedp", "adamw:bias-correction1=false", "llama-adamw-nobc1",
    adamw_no_bc1, torch_adamw_no_bc1, SDE)

pkg = run(GPT, "completep", "lion:recipe", "gpt-lion-recipe", lion(True, True), torch_lion(True, True))
check("the recipe's one beta defaults to 0.98",
      pkg.manifest["report"]["base"]["beta1"] == 0.98
      and all(p.get("beta2") is None for p in pkg.manifest["report"]["params"]))
check("the package reports the recipe", pkg.optimizer_options["nesterov"]
      and pkg.optimizer_options["inverse-bias-correction"] and pkg.optimizer_options["beta"] == 0.98)
run(LLAMA, "completedp", "lion:recipe,beta=0.95", "llama-lion-recipe", lion(True, True),
    torch_lion(True, True), SDE)
run(LLAMA, "mup", "lion:nesterov", "llama-lion-nesterov", lion(True, False), torch_lion(True, False))
run(GPT, "completep", "lion:inverse-bias-correction", "gpt-lion-ibc", lion(False, True),
    torch_lion(False, True))

pkg = run(GPT, "completep", "lion-a", "gpt-lion-a", lion(False, False, 0), torch_lion(False, False, 0))
check("LionA's default RMS is AdamW's equilibrium (the option reads 0)",
      pkg.optimizer == "lion_a" and pkg.optimizer_options["rms"] == 0.0)
run(LLAMA, "completedp", "lion-a:recipe,rms=0.2", "llama-lion-a-recipe", lion(True, True, 0.2),
    torch_lion(True, True, 0.2), SDE)

# LionA controls the l2 norm of its update: the first step moves every tensor
# copy (besides the decay) by exactly lr rms sqrt(numel), for gradients a
# million times smaller or a thousand times larger (closed form; float32
# rounding of p (1 - lr wd) - p' only).
pkg = muir.Package(f"{TMP}/gpt-lion-a")
rng = np.random.default_rng(4)
worst = 0.0
for size in (1e-6, 1e3):
    st = pkg.state()
    st.init(seed=3)
    st.flat_grads[...] = (rng.standard_normal(pkg.buffer_elements) * size).astype(f)
    before = {}
    for pname, info in pkg.params_info.items():
        if not info.tied_to:
            for c, w in enumerate(copies(st.params[pname], info)):
                k = constants(pkg, pname, c)
                before[(pname, c)] = (w * f(1 - k["lr"] * k["weight_decay"]), k)
    st.step(1)
    for (pname, c), (decayed, k) in before.items():
        moved = float(np.linalg.norm((decayed - copies(st.params[pname], pkg.params_info[pname])[c])
                                     .astype(np.float64)))
        want = k["lr"] * lion_a_rms(k, 0) * math.sqrt(decayed.size)
        worst = max(worst, abs(moved / want - 1))
        check(f"LionA update norm of {pname}[{c}] at gradient size {size}: {moved:.6g} "
              f"against lr rms sqrt(C) = {want:.6g}", abs(moved / want - 1) <= 1e-3)
print(f"LionA: update norm = lr rms sqrt(C) for gradient sizes 1e-6 and 1e3, worst {worst:.1e}")

check.finish()
