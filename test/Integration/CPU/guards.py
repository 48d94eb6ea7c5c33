# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t
#
# The step guards (docs/Optimizers.md) through the runtime and Python, on the
# shrunk GPT-2 example, against references written here:
#
# - global-norm clipping: the reported norm against numpy's norm of every
#   untied gradient (float64), the factor against min(1, max / (norm +
#   1e-6)), and 100 steps of AdamW and Lion with gradients whose size varies
#   so that about half the steps clip: bit for bit against numpy (the
#   gradients times the factor in float32, then the optimizer), and against
#   torch.nn.utils.clip_grad_norm_ followed by torch.optim.AdamW;
# - skipping non-finite steps: a NaN, +inf or -inf in one gradient element
#   (a different parameter each time) leaves every byte of params and of
#   every state unchanged and is reported; the next finite step runs;
#   without skip_nonfinite the step runs (and the NaN spreads);
# - bad guards: a negative, NaN or infinite max_grad_norm is an error in C
#   and in Python, and nothing runs.
import ctypes
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, shrink, GPT2_DIMS, start  # noqa: E402

TOOLS, SRC, TMP = start()
import muir  # noqa: E402
from muir import _ffi  # noqa: E402
import torch  # noqa: E402

check = Checks()
f = np.float32
GPT = shrink(SRC, TMP, "gpt2", GPT2_DIMS)
HP = ["--lr=3e-3", "--weight-decay=0.1", "--eps=1e-8", "--beta1=0.9", "--beta2=0.95"]


def package(spec, name):
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", GPT, "--scheme=completep", f"--optimizer={spec}",
                    *HP, "--no-gpu", "-o", out], check=True, capture_output=True, timeout=300)
    return muir.Package(out)


def tensors(pkg, st, which):
    """(name, copy) -> the view of every untied tensor copy of `which`."""
    out = {}
    for name, info in pkg.params_info.items():
        if info.tied_to:
            continue
        v = which[name]
        for c in range(info.copies):
            out[(name, c)] = v[c] if info.copies > 1 else v
    return out


def constants(pkg, name, copy):
    row = next(p for p in pkg.manifest["report"]["params"] if p["name"] == name)
    pick = lambda v: v[copy] if isinstance(v, list) else v  # noqa: E731
    return {k: pick(row[k]) for k in ("lr", "weight_decay", "eps", "beta1", "beta2") if k in row}


def adamw(p, g, s, t, k):
    m, v = s
    lr = k["lr"]
    p *= f(1 - lr * k["weight_decay"])
    m *= f(k["beta1"]); m += g * f(1 - k["beta1"])
    v *= f(k["beta2"]); v += f(1 - k["beta2"]) * g * g
    bc1, bc2 = 1 - k["beta1"] ** t, 1 - k["beta2"] ** t
    p -= f(lr / bc1) * (m / (np.sqrt(v) / f(math.sqrt(bc2)) + f(k["eps"])))


def lion(p, g, s, t, k):
    (m,) = s
    c = m * f(k["beta1"]) + g * f(1 - k["beta1"])
    p *= f(1 - k["lr"] * k["weight_decay"])
    p -= f(k["lr"]) * np.sign(c).astype(f)
    m *= f(k["beta2"]); m += g * f(1 - k["beta2"])


MAX_NORM = 1.0


def clipping(spec, ref, with_torch):
    pkg = package(spec, spec)
    st = pkg.state()
    st.init(seed=5)
    params = tensors(pkg, st, st.params)
    refs = {key: (w.copy(), [np.zeros_like(w) for _ in range(pkg.num_states)])
            for key, w in params.items()}
    torch_params = {key: torch.tensor(w.copy(), requires_grad=True) for key, w in params.items()}
    opts = {key: torch.optim.AdamW([q], lr=constants(pkg, *key)["lr"],
                                   betas=(constants(pkg, *key)["beta1"], constants(pkg, *key)["beta2"]),
                                   eps=constants(pkg, *key)["eps"],
                                   weight_decay=constants(pkg, *key)["weight_decay"])
            for key, q in torch_params.items()} if with_torch else {}
    rng = np.random.default_rng(2)
    clipped = worst_norm = 0
    for t in range(1, 101):
        # Global norms from about 0.1x to 10x the limit (about 1e5 elements),
        # so about half the steps clip.
        st.flat_grads[...] = (rng.standard_normal(pkg.buffer_elements)
                              * 10 ** rng.uniform(-3.5, -1.5)).astype(f)
        grads = {key: g.copy() for key, g in tensors(pkg, st, st.grads).items()}
        norm = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values()))
        report = st.step(t, max_grad_norm=MAX_NORM)
        want = f(min(1.0, MAX_NORM / (norm + 1e-6)))
        worst_norm = max(worst_norm, abs(report.grad_norm - norm) / norm)
        check(f"{spec} step {t}: norm {report.grad_norm} against numpy {norm}",
              abs(report.grad_norm - norm) <= 1e-12 * norm)
        check(f"{spec} step {t}: factor {report.grad_scale} against {want}",
              f(report.grad_scale) == want and not report.skipped)
        clipped += want < 1
        for key, (p, s) in refs.items():
            ref(p, grads[key] * want, s, t, constants(pkg, *key))
        if with_torch:
            for key, q in torch_params.items():
                q.grad = torch.from_numpy(grads[key])
            torch.nn.utils.clip_grad_norm_(list(torch_params.values()), MAX_NORM)
            for o in opts.values():
                o.step()
    check(f"{spec}: some steps clip and some do not ({clipped} of 100)", 20 <= clipped <= 80)
    worst_torch = 0.0
    for key, (p, s) in refs.items():
        got = params[key]
        check(f"{spec}: {key} bit for bit against numpy",
              np.array_equal(got.view(np.uint32), p.view(np.uint32)))
        for j in range(pkg.num_states):
            got_s = tensors(pkg, st, st.states[j])[key]
            check(f"{spec}: {key} state {j} bit for bit",
                  np.array_equal(got_s.view(np.uint32), s[j].view(np.uint32)))
        if with_torch:
            d = float(np.abs(got - torch_params[key].detach().numpy()).max()) / float(np.abs(p).max())
            worst_torch = max(worst_torch, d)
            check(f"{spec}: {key} against torch clip_grad_norm_ + AdamW, rel {d:.2e}", d <= 1e-5)
    print(f"{spec}: {clipped} of 100 steps clipped; norm rel {worst_norm:.1e}; "
          f"numpy bit for bit; torch {worst_torch:.1e}")
    return pkg, st


pkg, st = clipping("adamw", adamw, True)
clipping("lion", lion, False)

# ---- Non-finite gradients -------------------------------------------------
keys = list(tensors(pkg, st, st.params))
rng = np.random.default_rng(3)
for t, bad in enumerate([np.nan, np.inf, -np.inf, np.nan], start=101):
    st.flat_grads[...] = (rng.standard_normal(pkg.buffer_elements) * 1e-3).astype(f)
    key = keys[(t * 7) % len(keys)]
    g = tensors(pkg, st, st.grads)[key]
    g.reshape(-1)[(t * 31) % g.size] = bad
    before = [b.copy() for b in [st.flat_params] + list(st.flat_states)]
    report = st.step(t, max_grad_norm=MAX_NORM, skip_nonfinite=True)
    after = [st.flat_params] + list(st.flat_states)
    check(f"{bad} in {key}: skipped and reported ({report})",
          report.skipped and not math.isfinite(report.grad_norm) and report.grad_scale == 1.0)
    check(f"{bad} in {key}: every byte of params and states unchanged",
          all(np.array_equal(a.view(np.uint32), b.view(np.uint32)) for a, b in zip(before, after)))
g = tensors(pkg, st, st.grads)[key]
g.reshape(-1)[0] = 0.0
st.flat_grads[np.isnan(st.flat_grads) | np.isinf(st.flat_grads)] = 0.0
before = st.flat_params.copy()
report = st.step(105, skip_nonfinite=True)
check(f"a finite step after the skipped ones runs ({report})",
      not report.skipped and math.isfinite(report.grad_norm)
      and not np.array_equal(before, st.flat_params))
tensors(pkg, st, st.grads)[keys[0]].reshape(-1)[0] = np.nan
report = st.step(106, max_grad_norm=MAX_NORM)
check(f"without skip_nonfinite a NaN steps unclipped ({report})",
      not report.skipped and math.isnan(report.grad_norm) and report.grad_scale == 1.0)

# ---- Bad guards -------------------------------------------------------------
for bad in (-1.0, float("nan"), float("inf"), True, "1"):
    try:
        st.step(107, max_grad_norm=bad)
        check(f"Python: max_grad_norm {bad!r} is an error", False)
    except muir.ArgumentError as e:
        check(f"Python: max_grad_norm {bad!r}: {e}", "max_grad_norm" in str(e))
lib = ctypes.CDLL(os.environ["MUIR_RUNTIME_LIB"])
lib.muir_state_step_guarded.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_float,
                                        ctypes.POINTER(_ffi.StepGuards),
                                        ctypes.POINTER(_ffi.StepReport)]
lib.muir_last_error.restype = ctypes.c_char_p
before = st.flat_params.copy()
for bad in (-1.0, float("nan"), float("inf")):
    status = lib.muir_state_step_guarded(st._handle, 107, 1.0,
                                         ctypes.byref(_ffi.StepGuards(bad, 0)), None)
    message = lib.muir_last_error().decode()
    check(f"C: max_grad_norm {bad}: status {status}, '{message}'",
          status == muir.Status.ERROR_ARGUMENT and "max_grad_norm" in message)
# (Bits: the unguarded NaN step above left NaNs in the parameters.)
check("C: nothing ran", np.array_equal(before.view(np.uint32), st.flat_params.view(np.uint32)))

check.finish()
