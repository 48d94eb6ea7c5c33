# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t
#
# The generated CPU kernels of real packages against references written
# separately: Philox4x32-10 against Random123's known answers
# (shared/reference/philox-kat.md), every initial value against a float64
# numpy evaluation of the documented formula on numpy's own Philox words
# (docs/Lowering.md, "Init"), init moments against each tensor's
# instantiated std, and 100 optimizer steps with random gradients against a
# numpy implementation of PyTorch's update and against torch.optim itself,
# per tensor, with that tensor's own constants. The models are the GPT-2 and
# Llama examples with their dims shrunk (same structure, same roles), and the
# MLP example with one weight of each random init.
import ctypes
import json
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, ptr, shrink  # noqa: E402

TOOLS, SRC, TMP = sys.argv[1:4]
os.makedirs(TMP, exist_ok=True)
check = Checks()


GPT = shrink(SRC, TMP, "gpt2", {"seq": "fixed<16>", "vocab": "fixed<96>", "d_head": "fixed<8>",
                                "d_model": "width<base 16, size 48>", "n_head": "width<base 2, size 6>",
                                "d_ff": "width<base 64, size 192>", "layers": "depth<base 2, size 3>"})
LLAMA = shrink(SRC, TMP, "llama", {"seq": "fixed<16>", "vocab": "fixed<80>", "d_head": "fixed<8>",
                                   "d_model": "width<base 16, size 64>", "n_head": "width<base 2, size 8>",
                                   "n_kv_head": "width<base 1, size 4>", "d_ff": "width<base 40, size 160>",
                                   "layers": "depth<base 1, size 3>"})

MLP = shrink(SRC, TMP, "mlp", {"batch": "fixed<8>", "features": "fixed<40>", "classes": "fixed<10>",
                               "hidden": "width<base 64, size 192>", "n_hidden": "depth<base 2, size 3>"},
             {"input.weight": "uniform", "hidden.weight": "trunc_normal"})

HP = dict(lr=3e-3, wd=0.1, eps=1e-8, b1=0.9, b2=0.95)


def package(model, scheme, optimizer, name, extra=()):
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", model, f"--scheme={scheme}",
                    f"--optimizer={optimizer}", f"--lr={HP['lr']}",
                    f"--weight-decay={HP['wd']}", f"--eps={HP['eps']}",
                    f"--beta1={HP['b1']}", f"--beta2={HP['b2']}", "--no-gpu", "-o", out,
                    *extra],
                   check=True, capture_output=True)
    lib = ctypes.CDLL(f"{out}/libmuir_kernels.so")
    lib.muir_kernel_init.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int64]
    lib.muir_kernel_step.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_int64, ctypes.c_float, ctypes.c_float]
    return lib, json.load(open(f"{out}/manifest.json"))


# ---- Philox4x32-10 known answers (Random123 kat_vectors) -------------------
lib, _ = package(GPT, "completep", "adamw", "kat")
lib.muir_philox4x32_10.argtypes = [ctypes.c_void_p] * 3
KAT = [([0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
       ([0xffffffff] * 4, [0xffffffff] * 2, [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]),
       ([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0],
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1])]
for ctr, key, want in KAT:
    c, k, o = (np.array(ctr, np.uint32), np.array(key, np.uint32), np.zeros(4, np.uint32))
    lib.muir_philox4x32_10(ptr(c), ptr(k), ptr(o))
    check(f"Philox KAT {ctr[0]:08x}: {[hex(x) for x in o]}", list(o) == want)


def views(manifest, flat):
    """name -> (copies, numel, offset, stride) and array view per copy."""
    out = {}
    for p in manifest["layout"]["params"]:
        out[p["name"]] = [flat[p["offset"] + c * p["stride"]: p["offset"] + c * p["stride"] + p["numel"]]
                          for c in range(p["copies"])]
    return out


def values(manifest):
    return {p["name"]: p for p in manifest["report"]["params"]}


def per_copy(v, c):
    return v[c] if isinstance(v, list) else v


# ---- Init: every value against the formula, moments, determinism, sharding
M32 = np.uint64(0xFFFFFFFF)


def philox_words(ctr, key):
    """Philox4x32-10 on arrays of counters (4 x n uint32) and one key,
    written from Salmon et al. (SC'11), vectorised over elements."""
    c = [np.asarray(x, np.uint64) for x in ctr]
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c[0]
        p1 = np.uint64(0xCD9E8D57) * c[2]
        c = [((p1 >> np.uint64(32)) ^ c[1] ^ k0) & M32, p1 & M32,
             ((p0 >> np.uint64(32)) ^ c[3] ^ k1) & M32, p0 & M32]
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & M32, (k1 + np.uint64(0xBB67AE85)) & M32
    return c


def reference_init(kind, param_index, count, seed, std):
    """float64 initial values of the first `count` elements of a parameter
    (over all its copies), and a mask of elements whose truncated-normal
    choice is within rounding of the +-2 boundary (left out of the check)."""
    i = np.arange(count, dtype=np.uint64)
    ctr = [i & M32, i >> np.uint64(32), np.full(count, param_index, np.uint64),
           np.zeros(count, np.uint64)]
    w = [x.astype(np.float64) for x in philox_words(ctr, (seed & 0xFFFFFFFF, seed >> 32))]
    top = [np.floor(x / 256) for x in w]
    if kind == "uniform":
        return (2 * top[0] / 2**24 - 1) * math.sqrt(3) * std, np.zeros(count, bool)
    z = []
    for a, b in ((0, 1), (2, 3)):
        r = np.sqrt(-2 * np.log((top[a] + 1) / 2**24))
        z += [r * np.cos(2 * np.pi * top[b] / 2**24), r * np.sin(2 * np.pi * top[b] / 2**24)]
    if kind == "normal":
        return z[0] * std, np.zeros(count, bool)
    out = np.clip(z[3], -2, 2)
    for cand in (z[2], z[1], z[0]):
        out = np.where(np.abs(cand) <= 2, cand, out)
    near = np.zeros(count, bool)
    for cand in z:
        near |= np.abs(np.abs(cand) - 2) < 1e-5
    return out * std, near


for model, scheme in ((GPT, "completep"), (LLAMA, "completedp"), (MLP, "mup")):
    lib, man = package(model, scheme, "adamw", f"init-{scheme}")
    n = man["layout"]["buffer_elements"]
    full = np.zeros(n, np.float32)
    lib.muir_kernel_init(ptr(full), 1234, 0, n)
    again = np.zeros(n, np.float32)
    lib.muir_kernel_init(ptr(again), 1234, 0, n)
    check(f"{scheme}: init is deterministic", np.array_equal(full.view(np.uint32), again.view(np.uint32)))
    shards = np.zeros(n, np.float32)
    for lo, hi in ((0, n // 3), (n // 3, n // 3 + 7), (n // 3 + 7, n)):
        lib.muir_kernel_init(ptr(shards), 1234, lo, hi)
    check(f"{scheme}: sharded init has the same bits",
          np.array_equal(full.view(np.uint32), shards.view(np.uint32)))
    other = np.zeros(n, np.float32)
    lib.muir_kernel_init(ptr(other), 1235, 0, n)
    check(f"{scheme}: another seed gives other values", not np.array_equal(full, other))
    vals = values(man)
    order = [p["name"] for p in man["report"]["params"]]
    worst = 0.0
    for name, copies in views(man, full).items():
        p = vals[name]
        x = np.concatenate(copies).astype(np.float64)
        if p["init"] == "ones":
            check(f"{scheme}: {name} ones", np.all(x == 1))
        elif p["init"] == "zeros":
            check(f"{scheme}: {name} zeros", np.all(x == 0))
        elif p["init"] in ("normal", "uniform", "trunc_normal"):
            std = p["init_std"]
            stds = np.repeat(np.broadcast_to(np.asarray(std, np.float64), (len(copies),)),
                             len(copies[0]))
            ref, near = reference_init(p["init"], order.index(name), len(x), 1234, stds)
            # Float32 evaluation of ln, sqrt, cos/sin and the products: a few
            # ulps of the value, plus a few ulps of the radius where cos or
            # sin is near zero. 1e-6 is 8 ulps at 1.
            err = np.abs(x - ref) / stds / (1 + np.abs(ref / stds))
            worst = max(worst, err[~near].max())
            check(f"{scheme}: {name} ({p['init']}) values vs the formula, worst {err[~near].max():.2e}",
                  err[~near].max() <= 1e-6 and near.sum() <= max(2, len(x) // 10000))
            k = len(x)
            std = float(np.mean(stds))
            # Mean within 5 standard errors; sample std within 5 of its
            # standard errors (sqrt(2/k) relative for a normal).
            check(f"{scheme}: {name} mean {x.mean():.3g} vs 0 (std {std:.3g}, n {k})",
                  abs(x.mean()) < 5 * std / math.sqrt(k))
            # A normal cut at +-2 has variance 1 - 4 phi(2) / (Phi(2) - Phi(-2)).
            phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
            cut = math.sqrt(1 - 4 * phi2 / math.erf(2 / math.sqrt(2)))
            want = std * (cut if p["init"] == "trunc_normal" else 1.0)
            check(f"{scheme}: {name} std {x.std():.4g} vs {want:.4g}",
                  abs(x.std() - want) < 5 * want * math.sqrt(2 / k) + 1e-12)
            if p["init"] == "trunc_normal":
                check(f"{scheme}: {name} inside +-2 std", np.abs(x).max() <= 2 * std * (1 + 1e-6))
    print(f"{scheme}: initial values within {worst:.2e} (relative, float64 formula)")


# ---- Steps against numpy and torch -----------------------------------------
def numpy_step(opt, p, g, s0, s1, t, lr, wd, eps, b1, b2, factor):
    """PyTorch's single-tensor algorithms, written from torch/optim docs."""
    f = np.float32
    if opt == "lion":  # Chen et al. 2023, Algorithm 2 (lion-pytorch's order)
        c = s0 * f(b1) + g * f(1 - b1)
        p *= f(1 - lr * wd)
        p -= f(lr) * np.sign(c)
        s0 *= f(b2); s0 += g * f(1 - b2)
        return
    if opt == "adam-atan2":  # Everett et al. 2024; a = 1.27, b = 1 (lucidrains)
        p *= f(1 - lr * wd)
        s0 *= f(b1); s0 += g * f(1 - b1)
        s1 *= f(b2); s1 += f(1 - b2) * g * g
        m_hat = s0.astype(np.float64) / (1 - b1 ** t)
        den = np.sqrt(s1.astype(np.float64) / (1 - b2 ** t))
        p -= (lr * 1.27 * np.arctan2(m_hat, den)).astype(np.float32)
        return
    if opt == "adamw":
        p *= f(1 - lr * wd)
    elif opt == "adamw-decoupled":
        p *= f(1 - wd * factor)
    elif wd:
        g = g + p * f(wd)
    if opt in ("adamw", "adam", "adamw-decoupled"):
        s0 *= f(b1); s0 += g * f(1 - b1)
        s1 *= f(b2); s1 += f(1 - b2) * g * g
        bc1 = 1 - b1 ** t
        bc2 = 1 - b2 ** t
        step = f(lr / bc1)
        denom = np.sqrt(s1) / f(math.sqrt(bc2)) + f(eps)
        p -= step * (s0 / denom)
    else:  # sgd-momentum, sgd-nesterov
        s0 *= f(b1); s0 += g
        p -= f(lr) * (g + s0 * f(b1) if opt == "sgd-nesterov" else s0)


def torch_optimizer(params, lr, betas, weight_decay, update):
    """A torch.optim.Optimizer whose step decays each param by 1 - lr wd and
    then calls update(param, state, beta1, beta2, lr) (torch 1.13 has
    neither Lion nor Adam-atan2)."""
    import torch

    class Optimizer(torch.optim.Optimizer):
        def __init__(self):
            super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for q in group["params"]:
                    q.mul_(1 - group["lr"] * group["weight_decay"])
                    update(q, self.state[q], *group["betas"], group["lr"])
    return Optimizer()


def lion_update(q, st, b1, b2, lr):
    """Lion as lion-pytorch writes it, in torch ops."""
    import torch
    m = st.setdefault("exp_avg", torch.zeros_like(q))
    q.add_(m.mul(b1).add(q.grad, alpha=1 - b1).sign_(), alpha=-lr)
    m.mul_(b2).add_(q.grad, alpha=1 - b2)


def adam_atan2_update(q, st, b1, b2, lr, a=1.27, b=1.0):
    """Adam-atan2 as lucidrains/adam-atan2-pytorch writes it, in torch ops."""
    import torch
    if not st:
        st.update(steps=0, m=torch.zeros_like(q), v=torch.zeros_like(q))
    st["steps"] += 1
    st["m"].lerp_(q.grad, 1 - b1)
    st["v"].lerp_(q.grad * q.grad, 1 - b2)
    den = st["v"].mul(b * b / (1 - b2 ** st["steps"])).sqrt_()
    q.add_(st["m"].mul(1 / (1 - b1 ** st["steps"])).atan2_(den), alpha=-lr * a)


def run_steps(model, scheme, opt, name, extra=()):
    import torch
    lib, man = package(model, scheme, opt, name, extra)
    n = man["layout"]["buffer_elements"]
    nstates = man["layout"]["num_states"]
    P = np.zeros(n, np.float32)
    lib.muir_kernel_init(ptr(P), 7, 0, n)
    G = np.zeros(n, np.float32)
    S = [np.zeros(n, np.float32) for _ in range(2)]
    arr = (ctypes.c_void_p * 2)(*[S[i].ctypes.data for i in range(2)])
    vals = values(man)
    ref = {}   # numpy reference per tensor copy
    tor = {}   # torch params per tensor copy, one group each
    groups = []
    for name_, copies in views(man, P).items():
        if vals[name_]["init"].startswith("tied"):
            continue
        for c, view in enumerate(copies):
            v = vals[name_]
            key = (name_, c)
            ref[key] = [view.copy(), np.zeros_like(view), np.zeros_like(view)]
            tp = torch.tensor(view.copy(), requires_grad=True)
            tor[key] = tp
            lr = per_copy(v["lr"], c)
            wd = per_copy(v["weight_decay"], c)
            if opt in ("adamw", "adam", "adamw-decoupled"):
                cls = torch.optim.Adam if opt == "adam" else torch.optim.AdamW
                if opt == "adamw-decoupled":  # torch decays by lr_t wd' = factor wd
                    wd = wd / lr
                groups.append(cls([tp], lr=lr, weight_decay=wd, eps=per_copy(v["eps"], c),
                                  betas=(per_copy(v["beta1"], c), per_copy(v["beta2"], c)),
                                  foreach=False))
            elif opt == "adam-atan2":
                groups.append(torch_optimizer([tp], lr, (per_copy(v["beta1"], c),
                                                         per_copy(v["beta2"], c)), wd,
                                              adam_atan2_update))
            elif opt == "lion":
                groups.append(torch_optimizer([tp], lr, (per_copy(v["beta1"], c),
                                                         per_copy(v["beta2"], c)), wd,
                                              lion_update))
            else:
                groups.append(torch.optim.SGD([tp], lr=lr, weight_decay=wd,
                                              momentum=per_copy(v["beta1"], c),
                                              nesterov=opt == "sgd-nesterov", foreach=False))
    rng = np.random.default_rng(0)
    lr_factor = 1.0
    for t in range(1, 101):
        G[:] = rng.standard_normal(n).astype(np.float32) * np.float32(0.01)
        lr_factor = 0.5 + 0.5 * math.cos(math.pi * t / 100)  # a cosine schedule
        lib.muir_kernel_step(ptr(P), ptr(G), arr, t, lr_factor, 1.0)
        gv = views(man, G)
        for (name_, c), (rp, r0, r1) in ref.items():
            v = vals[name_]
            g = gv[name_][c]
            lr = per_copy(v["lr"], c) * float(np.float32(lr_factor))
            numpy_step(opt, rp, g.copy(), r0, r1, t, lr, per_copy(v["weight_decay"], c),
                       per_copy(v.get("eps") or 0.0, c), per_copy(v["beta1"], c),
                       per_copy(v.get("beta2") or 0.0, c), float(np.float32(lr_factor)))
        for (key, tp), o in zip(tor.items(), groups):
            for group in o.param_groups:
                v = vals[key[0]]
                group["lr"] = per_copy(v["lr"], key[1]) * float(np.float32(lr_factor))
            tp.grad = torch.from_numpy(gv[key[0]][key[1]].copy())
            o.step()
    pv = views(man, P)
    worst_np = worst_t = 0.0
    for (name_, c), (rp, _, _) in ref.items():
        got = pv[name_][c]
        scale = max(np.abs(rp).max(), 1e-30)
        worst_np = max(worst_np, np.abs(got - rp).max() / scale)
        worst_t = max(worst_t, np.abs(got - tor[(name_, c)].detach().numpy()).max() / scale)
        # Float32 rounding: a few ulps of the tensor's scale after 100 steps.
        check(f"{name}: {name_}[{c}] vs numpy, rel {np.abs(got - rp).max() / scale:.2e}",
              np.abs(got - rp).max() <= 1e-5 * scale)
        check(f"{name}: {name_}[{c}] vs torch, rel "
              f"{np.abs(got - tor[(name_, c)].detach().numpy()).max() / scale:.2e}",
              np.abs(got - tor[(name_, c)].detach().numpy()).max() <= 1e-5 * scale)
    print(f"{name}: {len(ref)} tensors, worst relative difference numpy {worst_np:.2e}, torch {worst_t:.2e}")


run_steps(GPT, "completep", "adamw", "gpt-adamw")
run_steps(LLAMA, "completedp", "adamw", "llama-adamw",
          ("--batch=512", "--base-batch=256", "--tokens=4e9", "--base-tokens=1e9"))
run_steps(LLAMA, "mup-table8", "adam", "llama-adam")
run_steps(GPT, "mup-table8", "sgd-momentum", "gpt-sgdm")
run_steps(LLAMA, "mup", "sgd-nesterov", "llama-nesterov")
run_steps(GPT, "completep", "lion", "gpt-lion")
run_steps(GPT, "completep", "adam-atan2", "gpt-adam-atan2")
run_steps(LLAMA, "mup", "adam-atan2", "llama-adam-atan2")
run_steps(LLAMA, "completedp", "adamw-decoupled", "llama-adamw-decoupled",
          ("--batch=512", "--base-batch=256", "--tokens=4e9", "--base-tokens=1e9"))
run_steps(LLAMA, "completedp", "lion", "llama-lion",
          ("--batch=512", "--base-batch=256", "--tokens=4e9", "--base-tokens=1e9"))

check.finish()
