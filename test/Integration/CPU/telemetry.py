# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t
#
# Step telemetry (docs/Optimizers.md) through the runtime and Python on the
# shrunk GPT-2 example: State.step(t, telemetry=True) against numpy float64
# computed here from every untied tensor copy's params before and after the
# step (||w||, ||w'||, ||w' - w|| and the angle by Kahan's formula
# 2 atan2(|| w ||w'|| - w' ||w|| ||, || w ||w'|| + w' ||w|| ||)), over steps of
# AdamW and LionA, one of them clipped (a tensor initialised to zero has
# angle 0); the telemetry step leaves params and
# states bit-identical to a plain step on a twin state; a skipped step
# reports NaN and changes nothing; a wrong entry count is an error in C.
import ctypes
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, shrink, GPT2_DIMS, start  # noqa: E402

TOOLS, SRC, TMP = start()
import muir  # noqa: E402
from muir import _ffi  # noqa: E402

check = Checks()
GPT = shrink(SRC, TMP, "gpt2", GPT2_DIMS)
HP = ["--lr=3e-3", "--weight-decay=0.1", "--eps=1e-8", "--beta1=0.9", "--beta2=0.95"]


def copies(pkg, buffer):
    """(name, copy) -> float64 copy of every untied tensor copy."""
    out = {}
    for name, info in pkg.params_info.items():
        if info.tied_to:
            continue
        v = buffer[name]
        for c in range(info.copies):
            out[(name, c)] = np.array(v[c] if info.copies > 1 else v, dtype=np.float64).ravel()
    return out


def reference(w, w2):
    a, b = np.linalg.norm(w), np.linalg.norm(w2)
    angle = 2 * np.arctan2(np.linalg.norm(w * b - w2 * a), np.linalg.norm(w * b + w2 * a))
    return a, b, np.linalg.norm(w2 - w), angle


def rel(x, y):
    """Relative difference; absolute against 0 (a zero tensor's angle)."""
    return abs(x - y) / abs(y) if y else abs(x)


for spec in ["adamw", "lion-a"]:
    out = f"{TMP}/{spec}"
    subprocess.run([f"{TOOLS}/muirc", "package", GPT, "--scheme=completep", f"--optimizer={spec}",
                    *HP, "--no-gpu", "-o", out], check=True, capture_output=True, timeout=300)
    pkg = muir.Package(out)
    st, twin = pkg.state(), pkg.state()
    st.init(seed=3)
    twin.init(seed=3)
    rng = np.random.default_rng(0)
    worst = {"norms": 0.0, "angle": 0.0}
    entries = 0
    for t in range(1, 6):
        grads = (rng.standard_normal(pkg.buffer_elements) * 10.0 ** rng.uniform(-4, 0)).astype(np.float32)
        st.flat_grads[...] = grads
        twin.flat_grads[...] = grads
        clip = 0.5 if t == 3 else None
        before = copies(pkg, st.params)
        report = st.step(t, 0.7, max_grad_norm=clip, telemetry=True)
        twin.step(t, 0.7, max_grad_norm=clip)
        after = copies(pkg, st.params)
        if t == 3:
            check(f"{spec}: step 3 is clipped", report.grad_scale < 1.0)
        same = all(np.array_equal(x.view(np.uint32), y.view(np.uint32)) for x, y in zip(
            [st.flat_params] + list(st.flat_states), [twin.flat_params] + list(twin.flat_states)))
        check(f"{spec} step {t}: params and states bit-identical to the plain step", same)
        check(f"{spec} step {t}: one entry per untied parameter copy",
              sorted((n, c) for n, ts in report.telemetry.items() for c in range(len(ts)))
              == sorted(before))
        entries = len(before)
        for (name, c), w in before.items():
            got = report.telemetry[name][c]
            want = reference(w, after[(name, c)])
            for g, x in zip((got.param_norm, got.param_norm_after, got.update_norm), want[:3]):
                worst["norms"] = max(worst["norms"], rel(g, x))
            worst["angle"] = max(worst["angle"], rel(got.angle, want[3]))
    print(f"{spec}: {entries} tensor copies, worst relative difference: norms "
          f"{worst['norms']:.2e}, angle {worst['angle']:.2e}")
    check(f"{spec}: ||w||, ||w'||, ||dw|| within 1e-12 of numpy", worst["norms"] < 1e-12)
    check(f"{spec}: angle within 1e-10 of numpy (Kahan)", worst["angle"] < 1e-10)

    # A skipped step: NaN telemetry, every byte unchanged.
    st.flat_grads[5] = np.nan
    saved = [b.copy() for b in [st.flat_params] + list(st.flat_states)]
    report = st.step(6, telemetry=True, skip_nonfinite=True)
    check(f"{spec}: a skipped step is reported with NaN telemetry",
          report.skipped and all(np.isnan(x.param_norm) and np.isnan(x.angle)
                                 for ts in report.telemetry.values() for x in ts))
    check(f"{spec}: a skipped telemetry step changes no byte", all(
        np.array_equal(a.view(np.uint32), b.view(np.uint32))
        for a, b in zip(saved, [st.flat_params] + list(st.flat_states))))

    # C: the entry count must be the package's; nothing runs otherwise.
    lib = st._lib
    buf = (_ffi.StepTelemetry * (entries + 1))()
    st.flat_grads[...] = 0.25
    status = lib.muir_state_step_telemetry(st._handle, 7, 1.0, None, None, buf, entries + 1)
    message = lib.muir_last_error().decode()
    check(f"{spec}: a wrong entry count is MUIR_ERROR_ARGUMENT naming both counts "
          f"({message!r})", status == muir.Status.ERROR_ARGUMENT and str(entries) in message
          and str(entries + 1) in message)
    check(f"{spec}: ... and nothing ran", all(
        np.array_equal(a.view(np.uint32), b.view(np.uint32))
        for a, b in zip(saved, [st.flat_params] + list(st.flat_states))))

check.finish()
