# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t
#
# bf16 packages (`muirc package --precision=bf16`, docs/Optimizers.md):
# bfloat16 grads and a bfloat16 copy of the params beside float32 master
# weights and states, through the runtime and Python, against references
# written here from the definitions (not from the kernels' code):
#
# - Philox4x32-10 (this file's own, checked on Random123's known answers)
#   and stochastic rounding as "round the magnitude up when the low 16 bits
#   plus the element's 16 random bits reach 2^16";
# - init: the master weights are the fp32 package's bit for bit, the copy is
#   every master weight rounded to the nearest bf16 (ties to even), found by
#   comparing the two neighbouring bf16 values in float64;
# - 100 steps of AdamW (shrunk GPT-2) and of Lion with the momentum recipe
#   (shrunk Llama) on random bf16 gradients, a varying lr factor and
#   clipping on some steps: master weights and states bit for bit against
#   numpy float32 per tensor, the copy bit for bit against the rounding
#   reference, the reported norm against numpy's from the widened gradients;
# - unbiasedness: with lr_factor 0 the master stays put and every step
#   rounds it afresh; over 60 steps of about 10^5 elements placed 1/4, 1/2
#   and 3/4 of an ulp above a bf16 value the mean rounding error is within
#   5 standard errors of 0 (the bound is about 3e-4 ulp; round-to-nearest
#   would be 1/4 ulp off at 1/4 and 3/4) and the fraction rounded up
#   matches the position;
# - reproducibility: the same seed gives the same bytes, another rounding
#   seed other copy bits over the same master weights;
# - guards: a NaN or an infinity in one bf16 gradient leaves every byte of
#   the master, the states and the copy unchanged and is reported;
# - shards: three shard states through init and guarded steps with the
#   partials summed over them are the whole state bit for bit;
# - telemetry: the telemetry step is the plain step bit for bit, its
#   per-copy norms and angle the master weights' against numpy;
# - adopted buffers (the caller's float32 and uint16 arrays), whole and a
#   shard: the created states' bytes through init and guarded steps, in
#   the caller's memory; copies to and from the host of uint16 bits;
# - bad input: --precision=fp16, float access to a bf16 buffer (C and
#   Python), adoption of a bf16 package without its copy, with float32
#   grads or copy, or through the float32 muir_state_adopt, a copy for an
#   fp32 package,
#   the rounding seed of an fp32 state, a manifest whose precision is not
#   the table's: each a clear error.
import ctypes
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, shrink, GPT2_DIMS, LLAMA_DIMS, start  # noqa: E402

TOOLS, SRC, TMP = start()
import muir  # noqa: E402

check = Checks()
f = np.float32
GPT = shrink(SRC, TMP, "gpt2", GPT2_DIMS)
LLAMA = shrink(SRC, TMP, "llama", LLAMA_DIMS)
HP = ["--lr=3e-3", "--weight-decay=0.1", "--eps=1e-8", "--beta1=0.9", "--beta2=0.95"]


def package(model, spec, name, precision="bf16"):
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", model, "--scheme=completep", f"--optimizer={spec}",
                    *HP, f"--precision={precision}", "--no-gpu", "-o", out],
                   check=True, capture_output=True, timeout=300)
    return muir.Package(out)


# ---- Philox4x32-10 and the rounding, from their definitions ----------------
def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 (Salmon et al., SC'11) on uint64 arrays of 32-bit
    words: ten rounds of two 32x32 -> 64-bit products, the key bumped by
    the Weyl constants between rounds."""
    mask = np.uint64(0xFFFFFFFF)
    c = [np.asarray(x, np.uint64) & mask for x in (c0, c1, c2, c3)]
    k = [np.uint64(k0), np.uint64(k1)]
    for r in range(10):
        if r:
            k = [(k[0] + np.uint64(0x9E3779B9)) & mask, (k[1] + np.uint64(0xBB67AE85)) & mask]
        hi0, lo0 = (c[0] * np.uint64(0xD2511F53)) >> np.uint64(32), (c[0] * np.uint64(0xD2511F53)) & mask
        hi2, lo2 = (c[2] * np.uint64(0xCD9E8D57)) >> np.uint64(32), (c[2] * np.uint64(0xCD9E8D57)) & mask
        c = [hi2 ^ c[1] ^ k[0], lo2, hi0 ^ c[3] ^ k[1], lo0]
    return c


for ctr, key, want in [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
                       ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
                        (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]:
    got = tuple(int(w) for w in philox(*ctr, *key))
    check(f"the test's Philox on Random123's answer {want}", got == want)


def rounding_bits(elements, step, seed):
    """The 16 rounding bits of flat-buffer elements `elements` at `step`:
    word e mod 4 of Philox((e div 4, step | 2^63 as two words), seed)."""
    e = np.asarray(elements, np.uint64)
    g = e >> np.uint64(2)
    t = step | (1 << 63)
    words = philox(g, g >> np.uint64(32), np.full(e.shape, t & 0xFFFFFFFF, np.uint64),
                   np.full(e.shape, t >> 32, np.uint64), seed & 0xFFFFFFFF, seed >> 32)
    lane = (e & np.uint64(3)).astype(np.int64)
    return np.choose(lane, words) & np.uint64(0xFFFF)


def stochastic(x, r):
    """bf16 bits of float32 `x`: truncate, and add one to the magnitude when
    the 16 bits cut off plus `r` carry past 2^16 (NaN: quiet NaN)."""
    bits = np.asarray(x, f).view(np.uint32).astype(np.uint64)
    up = (bits & np.uint64(0xFFFF)) + r >= np.uint64(1 << 16)
    out = (bits >> np.uint64(16)) + up.astype(np.uint64)
    nan = np.isnan(x)
    out[nan] = (bits[nan] >> np.uint64(16)) | np.uint64(0x40)
    return out.astype(np.uint16)


def widen(bits):
    """float32 of bf16 bits (the top half of a float32)."""
    return (np.asarray(bits, np.uint16).astype(np.uint32) << np.uint32(16)).view(f)


def nearest(x):
    """bf16 bits nearest to finite float32 `x` (ties to the even one), by
    comparing the two neighbours' values in float64."""
    bits = np.asarray(x, f).view(np.uint32)
    down = (bits >> np.uint32(16)).astype(np.uint16)
    up = down + np.uint16(1)
    lo, hi = widen(down).astype(np.float64), widen(up).astype(np.float64)
    dx = np.abs(x.astype(np.float64) - lo) - np.abs(hi - x.astype(np.float64))
    pick_up = (dx > 0) | ((dx == 0) & (down % 2 == 1))
    return np.where(pick_up, up, down)


def random_bf16(rng, n, scale):
    return nearest((rng.standard_normal(n) * scale).astype(f))


# ---- The optimizers in numpy float32 (the kernels' operation order) --------
def constants(pkg, name, copy):
    row = next(p for p in pkg.manifest["report"]["params"] if p["name"] == name)
    pick = lambda v: v[copy] if isinstance(v, list) else v  # noqa: E731
    return {k: pick(row[k]) for k in ("lr", "weight_decay", "eps", "beta1", "beta2") if k in row}


def adamw(p, g, s, t, k, factor):
    m, v = s
    lr = k["lr"] * factor
    p *= f(1 - lr * k["weight_decay"])
    m *= f(k["beta1"]); m += g * f(1 - k["beta1"])
    v *= f(k["beta2"]); v += f(1 - k["beta2"]) * g * g
    bc1, bc2 = 1 - k["beta1"] ** t, 1 - k["beta2"] ** t
    p -= f(lr / bc1) * (m / (np.sqrt(v) / f(math.sqrt(bc2)) + f(k["eps"])))


def lion_recipe(p, g, s, t, k, factor):
    """Lion with one beta (beta1) in the Nesterov form and the inverse bias
    correction (docs/Optimizers.md)."""
    (m,) = s
    lr = k["lr"] * factor
    b = k["beta1"]
    m *= f(b); m += g * f(1 - b)
    c = m * f(b) + g * f(1 - b)
    p *= f(1 - lr * k["weight_decay"])
    p -= f(lr * (1 - b ** t)) * np.sign(c).astype(f)


def tensors(pkg):
    """(name, copy) -> (first flat element, numel) of every untied copy."""
    return {(name, c): (info.offset + c * info.stride, info.numel)
            for name, info in pkg.params_info.items() if not info.tied_to
            for c in range(info.copies)}


def same(a, b):
    return np.array_equal(np.asarray(a).view(np.uint8), np.asarray(b).view(np.uint8))


# ---- Init --------------------------------------------------------------------
def check_init(pkg, fp32, seed):
    st, twin = pkg.state(), fp32.state()
    st.init(seed=seed)
    twin.init(seed=seed)
    check(f"{pkg.path}: init's master weights are the fp32 package's bit for bit",
          same(st.flat_params, twin.flat_params))
    check(f"{pkg.path}: init's copy is every weight rounded to nearest bf16",
          same(st.flat_params_bf16, nearest(st.flat_params)))
    check(f"{pkg.path}: init sets the rounding seed ({st.rounding_seed})", st.rounding_seed == seed)
    return st


# ---- 100 steps against numpy --------------------------------------------------
def run(model, spec, name, ref, seed):
    pkg = package(model, spec, name)
    fp32 = package(model, spec, name + "-fp32", "fp32")
    check(f"{name}: precision bf16, the fp32 twin fp32",
          pkg.precision == "bf16" and fp32.precision == "fp32"
          and pkg.manifest["precision"] == "bf16" and fp32.manifest["precision"] == "fp32")
    st = check_init(pkg, fp32, seed)
    places = tensors(pkg)
    master = st.flat_params.copy()
    states = [np.zeros(pkg.buffer_elements, f) for _ in range(pkg.num_states)]
    copy = st.flat_params_bf16.copy()
    rng = np.random.default_rng(seed)
    clipped = 0
    worst = 0.0
    for t in range(1, 101):
        factor = float(f(0.5 * (1 + math.cos(math.pi * t / 100)) + 0.05))
        grads = random_bf16(rng, pkg.buffer_elements, 10 ** rng.uniform(-3.5, -1.5))
        st.flat_grads[...] = grads
        g = widen(grads)
        norm = math.sqrt(sum(float(np.sum(g[o:o + n].astype(np.float64) ** 2))
                             for o, n in places.values()))
        report = st.step(t, lr_factor=factor, max_grad_norm=1.0, skip_nonfinite=True)
        scale = f(min(1.0, 1.0 / (norm + 1e-6)))
        clipped += scale < 1
        worst = max(worst, abs(report.grad_norm - norm) / norm)
        check(f"{name} step {t}: norm {report.grad_norm} against numpy {norm}, factor {report.grad_scale}",
              abs(report.grad_norm - norm) <= 1e-12 * norm and f(report.grad_scale) == scale
              and not report.skipped)
        for (pname, c), (o, n) in places.items():
            ref(master[o:o + n], g[o:o + n] * scale, [s[o:o + n] for s in states], t,
                constants(pkg, pname, c), factor)
            copy[o:o + n] = stochastic(master[o:o + n], rounding_bits(np.arange(o, o + n), t, seed))
    for (pname, c), (o, n) in places.items():
        check(f"{name}: {pname}[{c}] master bit for bit",
              same(st.flat_params[o:o + n], master[o:o + n]))
        for j, s in enumerate(states):
            check(f"{name}: {pname}[{c}] state {j} bit for bit",
                  same(st.flat_states[j][o:o + n], s[o:o + n]))
        check(f"{name}: {pname}[{c}] bf16 copy bit for bit",
              same(st.flat_params_bf16[o:o + n], copy[o:o + n]))
    # The copy is within one bf16 ulp of the master, and differs from the
    # nearest value somewhere (it is not round-to-nearest).
    differ = np.count_nonzero(st.flat_params_bf16 != nearest(st.flat_params))
    check(f"{name}: stochastic, not nearest ({differ} of {pkg.buffer_elements} elements differ)",
          differ > pkg.buffer_elements // 20)
    check(f"{name}: {clipped} of 100 steps clipped", 10 <= clipped <= 90)
    print(f"{name}: 100 steps bit for bit (master, states, copy); {clipped} clipped; norm rel {worst:.1e}")
    return pkg, st


pkg, st = run(GPT, "adamw", "gpt2-adamw", adamw, seed=11)
run(LLAMA, "lion:recipe", "llama-lion-recipe", lion_recipe, seed=2**40 + 3)

# ---- Unbiasedness -------------------------------------------------------------
# lr_factor 0 leaves AdamW's master weights bit for bit (decay 1, step 0):
# every step then rounds the same values with fresh bits.
rng = np.random.default_rng(5)
ulp_frac = np.array([0.25, 0.5, 0.75])
n = pkg.buffer_elements
base = nearest((rng.uniform(0.5, 2.0, n) * np.where(rng.random(n) < 0.5, -1, 1)).astype(f))
position = ulp_frac[np.arange(n) % 3]
# base + position ulp, exactly: the low 16 bits of the float32 are 2^16 x position.
x = (base.astype(np.uint32) << np.uint32(16) | (position * 65536).astype(np.uint32)).view(f)
st.flat_params[...] = x
st.flat_grads[...] = 0
ulp = widen(base + np.uint16(1)).astype(np.float64) - widen(base).astype(np.float64)
ulp = np.abs(ulp)
errors = np.zeros(n)
ups = np.zeros(n)
STEPS = 60
for t in range(1000, 1000 + STEPS):
    st.step(t, lr_factor=0.0)
    got = widen(st.flat_params_bf16).astype(np.float64)
    errors += (got - x.astype(np.float64)) / ulp
    ups += st.flat_params_bf16 != base
check("lr_factor 0 kept every master weight", same(st.flat_params, x))
stepped = np.zeros(n, bool)  # padding is never stepped
for o, count in tensors(pkg).values():
    stepped[o:o + count] = True
for frac in ulp_frac:
    sel = (position == frac) & stepped
    samples = sel.sum() * STEPS
    mean = errors[sel].sum() / samples
    sigma = math.sqrt(frac * (1 - frac) / samples)
    nearest_bias = -frac if frac < 0.5 else (1 - frac if frac > 0.5 else None)
    check(f"at {frac} ulp: mean error {mean:+.2e} ulp within 5 sigma = {5 * sigma:.1e} of 0"
          f" (round to nearest: {nearest_bias})", abs(mean) <= 5 * sigma)
    rate = ups[sel].sum() / samples
    check(f"at {frac} ulp: rounded away from zero {rate:.4f} of the time",
          abs(rate - frac) <= 5 * sigma)
    print(f"unbiased at {frac} ulp: mean error {mean:+.1e} ulp (5 sigma {5 * sigma:.1e}), up {rate:.4f}")

# ---- Reproducibility ----------------------------------------------------------
def steps(seed, rounding_seed=None, count=5):
    st = pkg.state()
    st.init(seed=seed)
    if rounding_seed is not None:
        st.rounding_seed = rounding_seed
    rng = np.random.default_rng(0)
    for t in range(1, count + 1):
        st.flat_grads[...] = random_bf16(rng, pkg.buffer_elements, 1e-3)
        st.step(t)
    return st.flat_params.copy(), st.flat_params_bf16.copy()


a, b, c = steps(21), steps(21), steps(21, rounding_seed=22)
check("the same seed twice: the same bytes (master and copy)", same(a[0], b[0]) and same(a[1], b[1]))
check("another rounding seed: the same master weights", same(a[0], c[0]))
differ = np.count_nonzero(a[1] != c[1])
check(f"another rounding seed: other copy bits ({differ} elements differ)", differ > pkg.buffer_elements // 20)

# ---- Guards ---------------------------------------------------------------------
st = pkg.state()
st.init(seed=4)
rng = np.random.default_rng(6)
for t, bad in enumerate([0x7FC0, 0x7F80, 0xFF80, 0xFFC1], start=1):
    st.flat_grads[...] = random_bf16(rng, pkg.buffer_elements, 1e-3)
    name = list(pkg.params_info)[(t * 5) % len(pkg.params_info)]
    if pkg.params_info[name].tied_to:
        name = pkg.params_info[name].tied_to
    st.grads[name].reshape(-1)[t * 7 % st.grads[name].size] = bad
    before = [b.copy() for b in [st.flat_params, st.flat_params_bf16] + list(st.flat_states)]
    report = st.step(t, max_grad_norm=1.0, skip_nonfinite=True)
    after = [st.flat_params, st.flat_params_bf16] + list(st.flat_states)
    check(f"bf16 {bad:#06x} in {name}: skipped and reported ({report})",
          report.skipped and not math.isfinite(report.grad_norm))
    check(f"bf16 {bad:#06x} in {name}: every byte of master, copy and states unchanged",
          all(same(x, y) for x, y in zip(before, after)))
st.flat_grads[...] = random_bf16(rng, pkg.buffer_elements, 1e-3)
before = st.flat_params_bf16.copy()
report = st.step(5, skip_nonfinite=True)
check(f"a finite step afterwards runs ({report})", not report.skipped and not same(before, st.flat_params_bf16))

# ---- Shards ---------------------------------------------------------------------
# Three shard states (bounds from plan_shards) through init and 5 guarded
# steps with the partials summed over the shards: the whole state's bytes.
whole = pkg.state()
whole.init(seed=8)
shards = [pkg.state(shard=b) for b in pkg.plan_shards(3)]
for sh in shards:
    sh.init(seed=8)
rng = np.random.default_rng(9)
for t in range(1, 6):
    g = random_bf16(rng, pkg.buffer_elements, 10 ** rng.uniform(-3, -1.5))
    whole.flat_grads[...] = g
    for sh in shards:
        sh.flat_grads[...] = g[sh.shard[0]:sh.shard[1]]
    want = whole.step(t, max_grad_norm=1.0, skip_nonfinite=True)
    partials = sum(sh.reduce() for sh in shards)
    got = [sh.step_sharded(t, partials, max_grad_norm=1.0, skip_nonfinite=True) for sh in shards]
    check(f"bf16 shards step {t}: the whole state's norm and factor ({want.grad_scale})",
          all(r.grad_norm == want.grad_norm and r.grad_scale == want.grad_scale for r in got))
for name, flat in (("master", lambda s: s.flat_params), ("copy", lambda s: s.flat_params_bf16),
                   ("grads", lambda s: s.flat_grads)) + tuple(
        (f"state {j}", lambda s, j=j: s.flat_states[j]) for j in range(pkg.num_states)):
    check(f"bf16 shards {[sh.shard for sh in shards]}: {name} bit for bit the whole state's",
          same(np.concatenate([flat(sh) for sh in shards]), flat(whole)))

# ---- Telemetry ------------------------------------------------------------------
# The telemetry step is the plain bf16 step bit for bit (a twin state), and
# its per-copy norms and angle are the master weights' (float64 numpy).
a, b = pkg.state(), pkg.state()
for x in (a, b):
    x.init(seed=12)
rng = np.random.default_rng(13)
worst = 0.0
for t in range(1, 4):
    g = random_bf16(rng, pkg.buffer_elements, 1e-2)
    a.flat_grads[...] = g
    b.flat_grads[...] = g
    before = a.flat_params.astype(np.float64)
    report = a.step(t, max_grad_norm=1.0, telemetry=True)
    b.step(t, max_grad_norm=1.0)
    after = a.flat_params.astype(np.float64)
    for (pname, c), (o, n_) in tensors(pkg).items():
        w, w2 = before[o:o + n_], after[o:o + n_]
        nw, nw2 = np.linalg.norm(w), np.linalg.norm(w2)
        want = (nw, nw2, np.linalg.norm(w2 - w),
                2 * math.atan2(np.linalg.norm(w * nw2 - w2 * nw), np.linalg.norm(w * nw2 + w2 * nw)))
        e = report.telemetry[pname][c]
        got = (e.param_norm, e.param_norm_after, e.update_norm, e.angle)
        worst = max(worst, max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(got, want)
                               if y != 0 or x != 0))
check(f"bf16 telemetry against numpy, worst relative {worst:.1e}", worst <= 1e-10)
check("the bf16 telemetry step is the plain bf16 step, bit for bit (master, copy, states)",
      all(same(x, y) for x, y in zip([a.flat_params, a.flat_params_bf16, *a.flat_states],
                                     [b.flat_params, b.flat_params_bf16, *b.flat_states])))
print(f"bf16 telemetry within {worst:.1e} of numpy; the plain step's bits")

# ---- Adopted buffers ------------------------------------------------------------
# A state over the caller's arrays (float32 master and states, uint16 grads
# and copy; muir_state_adopt_buffers), whole and as the first of two
# shards, through init and guarded steps: the created states' bytes, in the
# caller's memory.
def adopted(n):
    return ([muir.aligned_zeros(n), muir.aligned_zeros(n, dtype=np.uint16)]
            + [muir.aligned_zeros(n) for _ in range(pkg.num_states)]
            + [muir.aligned_zeros(n, dtype=np.uint16)])


first = pkg.plan_shards(2)[0]
mine, mine_shard = adopted(pkg.buffer_elements), adopted(first[1] - first[0])
pairs = [(pkg.state(), pkg.adopt(mine[0], mine[1], mine[2:-1], params_bf16=mine[-1])),
         (pkg.state(shard=first), pkg.adopt(mine_shard[0], mine_shard[1], mine_shard[2:-1],
                                            shard=first, params_bf16=mine_shard[-1]))]
rng = np.random.default_rng(14)
for created, adopt in pairs:
    created.init(seed=15)
    adopt.init(seed=15)
for t in range(1, 5):
    g = random_bf16(rng, pkg.buffer_elements, 10 ** rng.uniform(-3, -1.5))
    partials = None
    for created, adopt in pairs:
        lo, hi = created.shard
        created.flat_grads[...] = g[lo:hi]
        adopt.copy_from_host(muir.BUFFER_GRADS, g[lo:hi])
        if created.shard == (0, pkg.buffer_elements):
            for x in (created, adopt):
                x.step(t, max_grad_norm=1.0, skip_nonfinite=True)
        else:  # a shard steps with its own partials (the only shard here)
            for x in (created, adopt):
                x.step_sharded(t, x.reduce(), max_grad_norm=1.0)
for (created, adopt), buffers in zip(pairs, (mine, mine_shard)):
    got = [adopt.flat_params, adopt.flat_grads, *adopt.flat_states, adopt.flat_params_bf16]
    want = [created.flat_params, created.flat_grads, *created.flat_states, created.flat_params_bf16]
    check(f"adopted bf16 buffers {adopt.shard}: every buffer the created state's bytes, in the caller's arrays",
          all(same(x, y) for x, y in zip(got, want))
          and all(np.shares_memory(x, b) for x, b in zip(got, buffers))
          and not same(want[-1], np.zeros_like(want[-1])))
# The copies of a 2-byte buffer move bfloat16 bits (any device).
st = pairs[0][0]
check("copy_to_host of the grads and the copy: their uint16 bits",
      same(st.copy_to_host(muir.BUFFER_GRADS), st.flat_grads)
      and same(st.copy_to_host(muir.BUFFER_PARAMS_BF16, 5, 7), st.flat_params_bf16[5:12]))
bits = random_bf16(rng, 9, 1.0)
st.copy_from_host(muir.BUFFER_PARAMS_BF16, bits, begin=3)
check("copy_from_host of uint16 bits into the copy", same(st.flat_params_bf16[3:12], bits))

# ---- Bad input --------------------------------------------------------------------
run_muirc = subprocess.run([f"{TOOLS}/muirc", "package", GPT, "--precision=fp16", "--no-gpu", "-o",
                            f"{TMP}/fp16"], capture_output=True, text=True, timeout=60)
check(f"--precision=fp16: {run_muirc.stderr.strip()}",
      run_muirc.returncode != 0 and "--precision 'fp16' is not fp32 or bf16" in run_muirc.stderr
      and not os.path.exists(f"{TMP}/fp16"))

lib = ctypes.CDLL(os.environ["MUIR_RUNTIME_LIB"])
lib.muir_last_error.restype = ctypes.c_char_p
lib.muir_state_buffer.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_void_p),
                                  ctypes.POINTER(ctypes.c_int64)]


def expect(what, call, *words):
    try:
        call()
        check(f"{what}: an error", False)
    except muir.Error as e:
        check(f"{what}: {e}", all(w in str(e) for w in words))


for which, label in ((1, "grads"), (muir.BUFFER_PARAMS_BF16, "params_bf16")):
    data, count = ctypes.c_void_p(), ctypes.c_int64()
    status = lib.muir_state_buffer(st._handle, which, ctypes.byref(data), ctypes.byref(count))
    message = lib.muir_last_error().decode()
    check(f"C: muir_state_buffer({label}) of a bf16 state: {message}",
          status == muir.Status.ERROR_ARGUMENT and f"the {label} buffer" in message
          and "bf16" in message and "muir_state_buffer_bytes" in message)
    expect(f"copy_from_host({label}) of floats", lambda: st.copy_from_host(which, [1.0]),
           "bfloat16 bits as uint16", "float64")
name = next(iter(pkg.params_info))
expect("float32 values into a bf16 grad", lambda: st.grads.__setitem__(name, np.zeros(st.grads[name].shape, f)),
       "bfloat16 bits as uint16", "float32")
expect("bf16 bits of the wrong shape", lambda: st.grads.__setitem__(name, np.zeros(3, np.uint16)), "shape")
before = st.flat_grads.copy()
st.grads[name] = np.full(st.grads[name].shape, 0x3F80, np.uint16)
check("uint16 bits into a bf16 grad by name", np.all(st.grads[name] == 0x3F80)
      and np.count_nonzero(st.flat_grads != before) > 0)
mine = adopted(pkg.buffer_elements)
expect("adopting a bf16 package without its params copy",
       lambda: pkg.adopt(mine[0], mine[1], mine[2:-1]), "is bf16", "params_bf16")
expect("adopting float32 grads for a bf16 package",
       lambda: pkg.adopt(mine[0], mine[0].copy(), mine[2:-1], params_bf16=mine[-1]),
       "grads has dtype float32, not uint16", "muir.to_bf16")
expect("adopting a float32 params copy",
       lambda: pkg.adopt(mine[0], mine[1], mine[2:-1], params_bf16=mine[2]),
       "params_bf16 has dtype float32, not uint16")
lib.muir_state_adopt.argtypes = [ctypes.c_void_p, ctypes.c_int32] + [ctypes.c_void_p] * 3 + [
    ctypes.c_int64, ctypes.c_void_p]
states = (ctypes.c_void_p * pkg.num_states)(*[b.ctypes.data for b in mine[2:-1]])
handle = ctypes.c_void_p()
status = lib.muir_state_adopt(pkg._handle, 0, mine[0].ctypes.data, mine[1].ctypes.data, states,
                              pkg.buffer_elements, ctypes.byref(handle))
message = lib.muir_last_error().decode()
check(f"C: muir_state_adopt of a bf16 package: {message}",
      status == muir.Status.ERROR_ARGUMENT and "is bf16" in message
      and "muir_state_adopt_buffers" in message)
twin = package(GPT, "adamw", "gpt2-adamw-fp32-twin", "fp32").state()
expect("the rounding seed of an fp32 state", lambda: twin.rounding_seed, "fp32", "rounds nothing")
expect("params_bf16 of an fp32 state", lambda: twin.params_bf16, "fp32", "no bf16 copy")
f32 = [muir.aligned_zeros(pkg.buffer_elements) for _ in range(3 + pkg.num_states)]
expect("adopting a params copy for an fp32 package",
       lambda: twin.package.adopt(f32[0], f32[1], f32[2:-1], params_bf16=f32[-1]),
       "is fp32", "no bf16 copy")

# A manifest that says fp32 over a bf16 library (files of two builds).
bad = f"{TMP}/mismatch"
shutil.copytree(pkg.path, bad)
manifest = json.load(open(f"{bad}/manifest.json"))
manifest["precision"] = "fp32"
json.dump(manifest, open(f"{bad}/manifest.json", "w"))
expect("a manifest whose precision is not the table's", lambda: muir.Package(bad), "precision", "'fp32'", "'bf16'")

# Bytes per parameter, per mode (AdamW: 16 in memory either way, 28 per step).
fp32 = muir.Package(f"{TMP}/gpt2-adamw-fp32")
check(f"bytes per parameter: bf16 {pkg.bytes_per_param}, fp32 {fp32.bytes_per_param}",
      pkg.bytes_per_param == {"memory": 16, "step": 28} == pkg.manifest["bytes_per_param"]
      and fp32.bytes_per_param == {"memory": 16, "step": 28} == fp32.manifest["bytes_per_param"])
lion = muir.Package(f"{TMP}/llama-lion-recipe")
check(f"bytes per parameter: Lion bf16 {lion.bytes_per_param}",
      lion.bytes_per_param == {"memory": 12, "step": 20} == lion.manifest["bytes_per_param"])

# A torch bfloat16 tensor over the same memory.
try:
    import torch
    v = torch.from_numpy(st.params_bf16[name].view(np.int16)).view(torch.bfloat16)
    check("torch.bfloat16 view of params_bf16 by name",
          np.array_equal(v.float().numpy(), widen(st.params_bf16[name])))
except ImportError:
    pass

check.finish()
