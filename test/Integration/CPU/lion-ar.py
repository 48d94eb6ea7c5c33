# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t
#
# LionAR (Kosson, Messmer & Jaggi 2024; REQ's rotational Lion, Kosson et al.
# 2023; docs/Optimizers.md) through the runtime, 100 steps with random
# gradients, a cosine lr factor and a clipped step every 10th, per tensor copy
# against a numpy reference written here from REQ's equations
# (shared/optimizers/common.py's perform_rotational_update and
# center_rotational_weights): every unit (a matrix row, or the whole copy
# with units=tensor) centred and scaled to its initial norm n0 at the first
# step, then per step u = sign(c) (Lion's direction, float32 as the kernels
# compute it), its mean and radial part removed, nu an EMA of ||u_perp||^2,
# w' = w - eta_r n0 u_perp / (sqrt(nu-hat) + eps) renormalised to n0, in
# float64. Vectors and matrices without weight decay take Lion's update (bit
# for bit). Checked: the params (relative to n0), the momentum (bit for
# bit), the state (n0, nu) of every unit, every unit's norm equal to n0 and
# its mean 0 to float32 rounding. The telemetry step is the plain step bit
# for bit and its norms and angles match numpy float64, per copy and per
# rotational unit (NaN for the units of a copy that does not rotate); the
# per-unit telemetry's errors in C.
import ctypes
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, shrink, GPT2_DIMS, LLAMA_DIMS, start  # noqa: E402

TOOLS, SRC, TMP = start()
import muir  # noqa: E402
from muir import _ffi  # noqa: E402

check = Checks()
f = np.float32

GPT = shrink(SRC, TMP, "gpt2", GPT2_DIMS)
LLAMA = shrink(SRC, TMP, "llama", LLAMA_DIMS)
HP = ["--lr=3e-3", "--weight-decay=0.1", "--beta1=0.9", "--beta2=0.99"]
SDE = ["--batch=512", "--base-batch=256", "--tokens=4e9", "--base-tokens=1e9"]


def package(model, scheme, spec, name, extra=()):
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", model, f"--scheme={scheme}",
                    f"--optimizer={spec}", *HP, "--no-gpu", "-o", out, *extra],
                   check=True, capture_output=True, timeout=120)
    return muir.Package(out)


def constants(pkg, name, copy):
    row = next(p for p in pkg.manifest["report"]["params"] if p["name"] == name)
    pick = lambda v: v[copy] if isinstance(v, list) else v  # noqa: E731
    return {k: pick(row[k]) for k in ("lr", "weight_decay", "beta1", "beta2") if k in row}


def copies(view, info):
    return [view[c] for c in range(info.copies)] if info.copies > 1 else [view]


class Reference:
    """One tensor copy: Lion's momentum in float32 (the kernels' order) and
    either Lion's update (float32) or REQ's rotational update (float64)."""

    def __init__(self, w, shape, k, opts, rotational):
        self.k, self.o = k, opts
        self.m = np.zeros(w.size, f)
        self.rotational = rotational
        if rotational:
            rows = 1 if opts["units"] == "tensor" else shape[0]
            self.w = w.astype(np.float64).reshape(rows, -1)
            self.n0 = None
        else:
            self.w = w.copy().reshape(-1)

    def direction(self, g):
        b, o, m = self.k["beta1"], self.o, self.m
        if o["nesterov"]:
            m *= f(b); m += g * f(1 - b)
            c = m * f(b) + g * f(1 - b)
        else:
            c = m * f(b) + g * f(1 - b)
            m *= f(self.k["beta2"]); m += g * f(1 - self.k["beta2"])
        return np.sign(c).astype(f)

    def angle(self, lr, t):
        """eta_r: REQ's lion_etar_func (the recipe's Nesterov direction is
        Lion's with b1 = beta^2, b2 = beta), or lr; times 1 - beta_m^t with
        the inverse bias correction."""
        k, o = self.k, self.o
        if o["angle"] == "lr":
            eta = lr
        else:
            b1, b2 = (k["beta1"] ** 2, k["beta1"]) if o["nesterov"] else (k["beta1"], k["beta2"])
            eta = (math.sqrt(math.pi / 2) * math.sqrt(2 * lr * k["weight_decay"])
                   * math.sqrt((1 - b1) ** 2 + b1 ** 2 * (1 - b2) / (1 + b2)))
        if o["inverse-bias-correction"]:
            eta *= 1 - (k["beta1"] if o["nesterov"] else k["beta2"]) ** t
        return eta

    def step(self, g, t, factor):
        lr = self.k["lr"] * factor
        u = self.direction(g)
        if not self.rotational:
            self.w *= f(1 - lr * self.k["weight_decay"])
            o = self.o
            if o["inverse-bias-correction"]:
                lr = lr * (1 - (self.k["beta1"] if o["nesterov"] else self.k["beta2"]) ** t)
            self.w -= f(lr) * u
            return
        w, zero_mean = self.w, self.o["zero-mean"]
        if self.n0 is None:  # center_rotational_weights: n0 = ||w||, centred
            self.n0 = np.linalg.norm(w, axis=1, keepdims=True).astype(f).astype(np.float64)
            if zero_mean:
                wc = w - w.mean(axis=1, keepdims=True)
                w[...] = self.n0 * wc / np.linalg.norm(wc, axis=1, keepdims=True)
            self.nu = np.zeros_like(self.n0)
        u = u.astype(np.float64).reshape(w.shape)
        if zero_mean:
            u = u - u.mean(axis=1, keepdims=True)
        u = u - w * (np.sum(u * w, axis=1, keepdims=True) / self.n0 ** 2)
        rho = self.o["rho"]
        self.nu = rho * self.nu + (1 - rho) * np.sum(u * u, axis=1, keepdims=True)
        avg = np.sqrt(self.nu / (1 - rho ** t))
        w2 = w - self.angle(lr, t) * (u / (self.o["rotational-eps"] + avg)) * self.n0
        w[...] = w2 * self.n0 / np.linalg.norm(w2, axis=1, keepdims=True)


def run(model, scheme, spec, name, extra=(), steps=100):
    pkg = package(model, scheme, spec, name, extra)
    opts = pkg.optimizer_options
    st = pkg.state()
    st.init(seed=5)
    refs = {}
    for pname, info in pkg.params_info.items():
        if info.tied_to:
            continue
        shape = info.shape[1:] if info.copies > 1 else info.shape
        for c, w in enumerate(copies(st.params[pname], info)):
            k = constants(pkg, pname, c)
            rotational = (len(shape) >= 2 and k["weight_decay"] != 0
                          and (w.size if opts["units"] == "tensor" else w.size // shape[0]) >= 2)
            refs[(pname, c)] = Reference(w, shape, k, opts, rotational)
    check(f"{name}: the package's units are the reference's",
          set(pkg.rotational_units) == {p for (p, c), r in refs.items() if r.rotational})
    rng = np.random.default_rng(2)
    clipped = 0
    for t in range(1, steps + 1):
        st.flat_grads[...] = (rng.standard_normal(pkg.buffer_elements) * 0.01).astype(f)
        factor = float(f(0.5 + 0.5 * math.cos(math.pi * t / steps)))
        if t % 10 == 0:  # a clipped step: the kernels scale every gradient
            report = st.step(t, lr_factor=factor, max_grad_norm=0.05)
            scale = f(report.grad_scale)
            clipped += scale < 1
        else:
            st.step(t, lr_factor=factor)
            scale = f(1)
        for (pname, c), ref in refs.items():
            g = copies(st.grads[pname], pkg.params_info[pname])[c].reshape(-1) * scale
            ref.step(g, t, factor)
    check(f"{name}: some steps clipped", clipped > 0)
    worst = worst_norm = worst_mean = worst_nu = 0.0
    rows = 0
    for (pname, c), ref in refs.items():
        info = pkg.params_info[pname]
        got = copies(st.params[pname], info)[c]
        m = copies(st.states[0][pname], info)[c].reshape(-1)
        check(f"{name}: {pname}[{c}] momentum bit for bit",
              np.array_equal(m.view(np.uint32), ref.m.view(np.uint32)))
        if not ref.rotational:
            check(f"{name}: {pname}[{c}] Lion's update bit for bit",
                  np.array_equal(got.reshape(-1).view(np.uint32), ref.w.view(np.uint32)))
            continue
        w = got.astype(np.float64).reshape(ref.w.shape)
        n = w.shape[1]
        # A unit's state (n0, nu) is at its own first two elements.
        unit_state = copies(st.states[1][pname], info)[c].reshape(w.shape)
        n0 = unit_state[:, 0:1].astype(np.float64)
        nu = unit_state[:, 1:2].astype(np.float64)
        rows += w.shape[0]
        d = float(np.max(np.linalg.norm(w - ref.w, axis=1, keepdims=True) / ref.n0))
        check(f"{name}: {pname}[{c}] against REQ's update, {d:.1e} of n0", d <= 5e-6)
        check(f"{name}: {pname}[{c}] n0 as recorded", np.array_equal(n0, ref.n0))
        dnu = float(np.max(np.abs(nu - ref.nu) / ref.nu))
        check(f"{name}: {pname}[{c}] nu, relative {dnu:.1e}", dnu <= 2e-6)
        # Every unit keeps its norm and (with zero-mean) its mean 0 to
        # float32 rounding: errors of a few ulps of the elements.
        dn = float(np.max(np.abs(np.linalg.norm(w, axis=1, keepdims=True) / n0 - 1)))
        check(f"{name}: {pname}[{c}] every unit's norm is n0, {dn:.1e}", dn <= 2 ** -22)
        mean = float(np.max(np.abs(w.sum(axis=1, keepdims=True)) / (n0 * math.sqrt(n))))
        if opts["zero-mean"]:
            check(f"{name}: {pname}[{c}] every unit's mean is 0, {mean:.1e}", mean <= 2 ** -23)
        worst, worst_norm = max(worst, d), max(worst_norm, dn)
        worst_mean, worst_nu = max(worst_mean, mean), max(worst_nu, dnu)
    print(f"{name}: {len(refs)} tensor copies ({rows} rotating units), {steps} steps: "
          f"params within {worst:.1e} of n0, nu {worst_nu:.1e}; norm = n0 within "
          f"{worst_norm:.1e}, |sum w| / (n0 sqrt(C)) {worst_mean:.1e}")
    return pkg


def telemetry(pkg, name):
    """The telemetry step of LionAR: params and states bit for bit the plain
    step's (a twin state), per copy ||w||, ||w'||, ||dw|| and the angle
    against numpy float64 (the angle by Kahan's formula)."""
    sts = [pkg.state(), pkg.state()]
    # One rotational parameter without weight decay (a multiplier of 0): its
    # copies take plain Lion, and their units report NaN.
    still_name = sorted(pkg.rotational_units)[0]
    for st in sts:
        st.set_optimizer_multipliers(still_name, weight_decay=0.0)
    rng = np.random.default_rng(3)
    worst = 0.0
    for t in (1, 2):
        g = (rng.standard_normal(pkg.buffer_elements) * 0.01).astype(f)
        before = {}
        for st in sts:
            if t == 1:
                st.init(seed=5)
            st.flat_grads[...] = g
        before = {n: sts[0].params[n].astype(np.float64).copy() for n in pkg.params_info}
        report = sts[0].step(t, telemetry=True)
        sts[1].step(t)
    check(f"{name}: the telemetry step is the plain step, bit for bit",
          all(np.array_equal(a.view(np.uint32), b.view(np.uint32)) for a, b in
              zip([sts[0].flat_params, *sts[0].flat_states], [sts[1].flat_params, *sts[1].flat_states])))
    for pname, info in pkg.params_info.items():
        if info.tied_to:
            continue
        after = sts[0].params[pname].astype(np.float64)
        for c, (w, w2) in enumerate(zip(copies(before[pname], info), copies(after, info))):
            w, w2 = w.reshape(-1), w2.reshape(-1)
            nw, nw2 = np.linalg.norm(w), np.linalg.norm(w2)
            want = (nw, nw2, np.linalg.norm(w2 - w),
                    2 * math.atan2(np.linalg.norm(w * nw2 - w2 * nw), np.linalg.norm(w * nw2 + w2 * nw)))
            e = report.telemetry[pname][c]
            got = (e.param_norm, e.param_norm_after, e.update_norm, e.angle)
            d = max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(got, want))
            worst = max(worst, d)
            check(f"{name}: telemetry of {pname}[{c}], relative {d:.1e}", d <= 1e-11)
    print(f"{name}: telemetry (||w||, ||w'||, ||dw||, angle) within {worst:.1e} of numpy")
    worst, rows, still = 0.0, 0, 0
    for pname, (elements, per_copy) in pkg.rotational_units.items():
        info = pkg.params_info[pname]
        after = sts[0].params[pname].astype(np.float64)
        got_all = report.unit_telemetry[pname]
        check(f"{name}: per-unit telemetry of {pname} has shape {got_all.shape}",
              got_all.shape == (info.copies, per_copy, 4))
        for c, (w, w2) in enumerate(zip(copies(before[pname], info), copies(after, info))):
            k = constants(pkg, pname, c)
            if k["weight_decay"] == 0 or pname == still_name:
                still += 1
                check(f"{name}: {pname}[{c}] does not rotate: NaN per unit",
                      np.isnan(got_all[c]).all())
                continue
            for r, (u, u2) in enumerate(zip(w.reshape(per_copy, elements),
                                            w2.reshape(per_copy, elements))):
                nu, nu2 = np.linalg.norm(u), np.linalg.norm(u2)
                want = (nu, nu2, np.linalg.norm(u2 - u),
                        2 * math.atan2(np.linalg.norm(u * nu2 - u2 * nu),
                                       np.linalg.norm(u * nu2 + u2 * nu)))
                d = max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(got_all[c, r], want))
                worst = max(worst, d)
                rows += 1
                if d > 1e-10:
                    check(f"{name}: telemetry of {pname}[{c}] unit {r}, relative {d:.1e}", False)
    check(f"{name}: per-unit telemetry of {rows} units within {worst:.1e} of numpy",
          rows > 0 and worst <= 1e-10)
    check(f"{name}: {still} copies without decay report NaN units", still > 0)
    print(f"{name}: per-unit telemetry of {rows} rotating units within {worst:.1e} of numpy, "
          f"{still} copies without decay NaN")
    # A skipped step: every unit NaN.
    sts[0].flat_grads[0] = np.nan
    report = sts[0].step(3, skip_nonfinite=True, telemetry=True)
    check(f"{name}: a skipped step's units are all NaN",
          report.skipped and all(np.isnan(v).all() for v in report.unit_telemetry.values()))
    # Errors in C: a parameter without units, a wrong count, no telemetry
    # step before.
    lib = ctypes.CDLL(os.environ["MUIR_RUNTIME_LIB"])
    lib.muir_last_error.restype = ctypes.c_char_p
    lib.muir_state_unit_telemetry.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                                              ctypes.c_int64]
    out = (_ffi.StepTelemetry * 4096)()
    plain = next(p for p in pkg.params_info.values() if p.name not in pkg.rotational_units
                 and not p.tied_to)
    unit_name = next(iter(pkg.rotational_units))
    index = pkg.params_info[unit_name].index
    total = pkg.params_info[unit_name].copies * pkg.rotational_units[unit_name][1]
    for what, st, param, count, words in [
            ("a parameter without units", sts[0], plain.index, 1, ["has no rotational units"]),
            ("a wrong count", sts[0], index, total + 1, ["room for", "units"]),
            ("after a plain step", sts[1], index, total, ["not a telemetry step"]),
            ("no such parameter", sts[0], 10**6, total, ["no parameter"])]:
        status = lib.muir_state_unit_telemetry(st._handle, param, out, count)
        message = lib.muir_last_error().decode()
        check(f"{name}: unit telemetry with {what}: {message}",
              status == muir.Status.ERROR_ARGUMENT and all(w in message for w in words))


pkg = run(GPT, "completep", "lion-ar", "gpt-lion-ar")
check("units per row by default", pkg.optimizer_options["units"] == "row"
      and pkg.rotational_units["blocks.mlp.fc.weight"] == (54, 192))
telemetry(pkg, "gpt-lion-ar")
run(LLAMA, "completedp", "lion-ar:recipe,beta=0.95", "llama-lion-ar-recipe", SDE)
pkg = run(GPT, "mup-table8", "lion-ar:units=tensor,rho=0.8", "gpt-lion-ar-tensor")
check("units=tensor: one unit per copy",
      all(n == 1 for _, n in pkg.rotational_units.values()))
run(LLAMA, "completep", "lion-ar:angle=lr,zero-mean=false,inverse-bias-correction",
    "llama-lion-ar-lr")

check.finish()
