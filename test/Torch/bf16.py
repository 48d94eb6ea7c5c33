# A module bound to a bf16 package (muirc package --precision=bf16,
# docs/PyTorch.md): its parameters are torch.bfloat16 views of the
# package's bf16 params copy, their .grad bfloat16 views of the bf16 grads
# buffer, the float32 master weights and AdamW's moments live in the
# binding's flat buffers. ResidualMLP (Inputs/models.py) trains with torch
# autograd in bf16 on the CPU and muir.torch.Optimizer steps it:
#
# (a) after 20 steps the module's bf16 parameters are bit for bit the
#     params_bf16 of a separately created muir State of the same package,
#     initialised with the same seed and fed the same gradient bits step by
#     step, and the master weights and moments are that State's bit for
#     bit; at bind the master holds the module's values and the copy is
#     their nearest bf16 (rounded here by comparing both neighbours);
# (b) the master weights follow a numpy AdamW written here from the
#     equations (per tensor copy, the manifest's constants) on the widened
#     gradients, to float32 rounding, and every bf16 parameter is one of
#     the two bf16 neighbours of its master weight (stochastic rounding; a
#     master weight that is a bf16 value is its copy exactly);
# (c) the loss falls over 50 steps on a small classification task;
# (d) two runs with the same seed give the same bits; another rounding
#     seed (same init) other copy bits; a checkpoint (the module's and the
#     optimizer's state_dict, which for bf16 holds the master weights and
#     the rounding seed) resumes bit for bit, and an optimizer state
#     without float32 master weights or a rounding seed is an error that
#     writes nothing;
# the forward multipliers apply to the bf16 parameters (the loss and
# gradient bits of a forward written here with them); and the binding's
# guards: zero_grad(set_to_none=True) puts the bf16 grad
# views back, a float64 module or a bf16 module bound to an fp32 package is
# an error naming the dtype, a module converted after bind makes step() an
# error (test/Distributed/bf16.py shards it).
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: bind: parameters bfloat16 views of the copy, grads bfloat16 views of the grads buffer
# CHECK-NEXT: bind: master = the module's values, copy = their nearest bf16
# CHECK-NEXT: forward: the multipliers apply, loss and bf16 gradients = the hand written forward's bits
# CHECK-NEXT: (a) 20 steps: module = muir State fed the same gradients, bit for bit
# CHECK-NEXT: (b) 20 steps: master = numpy AdamW to float32 rounding; copies are neighbours
# CHECK-NEXT: (c) loss falls
# CHECK-NEXT: (d) same seed, same bits; another rounding seed, other copy bits; checkpoint resumes bit for bit
# CHECK-NEXT: no master: load_state_dict: a bf16 package's state holds its float32 master weights of shape ({{[0-9]+}},); this one has none
# CHECK-NEXT: float64 master: load_state_dict: a bf16 package's state holds its float32 master weights of shape ([[N:[0-9]+]],); this one has torch.float64 ([[N]],)
# CHECK-NEXT: no rounding seed: load_state_dict: a bf16 package's state holds its rounding seed, an integer in [0, 2**64); this one has None
# CHECK-NEXT: a negative rounding seed: load_state_dict: a bf16 package's state holds its rounding seed, an integer in [0, 2**64); this one has -1
# CHECK-NEXT: a refused optimizer state leaves the optimizer as it was
# CHECK-NEXT: set_to_none: grads are the bf16 views again
# CHECK-NEXT: float64 module: bind: parameter 'input.weight' is torch.float64, but package '{{.*}}' (precision bf16) binds torch.float32 or torch.bfloat16 parameters
# CHECK-NEXT: bf16 module, fp32 package: bind: parameter 'input.weight' is torch.bfloat16, but package '{{.*}}' (precision fp32) binds torch.float32 parameters
# CHECK-NEXT: converted after bind: parameter input.weight is no longer its view of the package's params buffer (now torch.float32; the binding's is torch.bfloat16)

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import muir
import muir.torch as mt
from models import ResidualMLP

TMP = sys.argv[1]
torch.manual_seed(0)
torch.set_num_threads(1)
f = np.float32
D_IN, BASE_H, H, BASE_L, L, CLASSES, BATCH = 12, 8, 32, 2, 4, 5, 32


def build():
    return ResidualMLP(D_IN, H, L, CLASSES)


x0 = torch.randn(BATCH, D_IN)
y0 = torch.randint(0, CLASSES, (BATCH,))
imported = mt.import_model(build(), ResidualMLP(D_IN, BASE_H, BASE_L, CLASSES),
                           (x0, y0), workdir=os.path.join(TMP, "imp"))
package = mt.package(imported, os.path.join(TMP, "pkg"), "completep",
                     lr=1e-2, weight_decay=1e-2, precision="bf16")
fp32 = mt.package(imported, os.path.join(TMP, "pkg-fp32"), "completep",
                  lr=1e-2, weight_decay=1e-2)
assert package.precision == "bf16" and fp32.precision == "fp32"

# The task: labels of a fixed random linear teacher.
rng = np.random.default_rng(1)
teacher = rng.standard_normal((D_IN, CLASSES))
BATCHES = []
for _ in range(50):
    xb = rng.standard_normal((BATCH, D_IN)).astype(f)
    BATCHES.append((torch.from_numpy(xb).bfloat16(),
                    torch.from_numpy((xb @ teacher).argmax(1))))


def widen(bits):
    """float32 of bfloat16 bits (the top half of a float32)."""
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(f)


def bits_of(t):
    """The bfloat16 bits of a torch tensor."""
    return t.detach().contiguous().view(torch.int16).numpy().view(np.uint16)


def nearest(x):
    """bf16 bits nearest to float32 `x` (ties to even), by comparing the
    two neighbours in float64."""
    down = (np.asarray(x, f).view(np.uint32) >> 16).astype(np.uint16)
    up = down + np.uint16(1)
    d = np.abs(x.astype(np.float64) - widen(down)) - \
        np.abs(widen(up).astype(np.float64) - x)
    return np.where((d > 0) | ((d == 0) & (down % 2 == 1)), up, down)


def same(a, b):
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


def slices(model, binding):
    """user name -> (parameter, first flat element, numel)."""
    entries = binding.import_binding["params"]
    out = {}
    for name, p in model.named_parameters():
        info = package.params_info[entries[name]["param"]]
        begin = info.offset + entries[name]["copy"] * info.stride
        out[name] = (p, begin, info.numel)
    return out


def train(model, opt, batches, record=None):
    losses = []
    for xb, yb in batches:
        opt.zero_grad()
        loss = model(xb, yb)
        loss.backward()
        if record is not None:
            record.append(mt.binding_of(model).flat_grads.copy())
        opt.step()
        losses.append(float(loss))
    return losses


# ---- bind ----------------------------------------------------------------------
model = build()
before = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
mt.bind(model, package, imported)
binding = mt.binding_of(model)
views = slices(model, binding)
ok = True
for name, (p, begin, numel) in views.items():
    ok &= p.dtype == torch.bfloat16 and p.grad.dtype == torch.bfloat16
    ok &= p.data_ptr() == binding.flat_params_bf16[begin:].ctypes.data
    ok &= p.grad.data_ptr() == binding.flat_grads[begin:].ctypes.data
assert ok
print("bind: parameters bfloat16 views of the copy, grads bfloat16 views of "
      "the grads buffer")
for name, (p, begin, numel) in views.items():
    master = binding.flat_params[begin:begin + numel]
    assert same(master, before[name].ravel()), name
    assert same(bits_of(p).ravel(), nearest(master)), name
print("bind: master = the module's values, copy = their nearest bf16")

# ---- the forward multipliers, in bf16 ---------------------------------------------
SEED = 7
mt.init_(model, seed=SEED)
opt = mt.Optimizer(model)
# CompleteP (alpha = 1) written by hand: the readout weight x 1/m_N, each
# residual branch x 1/m_L (both powers of two here: exact in bf16).
M_N, M_L = H / BASE_H, L / BASE_L
ref = {n: p.detach().clone().requires_grad_()
       for n, p in model.named_parameters()}


def reference_forward(xb, yb):
    h = torch.relu(F.linear(xb, ref["input.weight"], ref["input.bias"]))
    for l in range(L):
        h = h + (1 / M_L) * F.linear(torch.relu(h),
                                     ref["blocks.%d.fc.weight" % l],
                                     ref["blocks.%d.fc.bias" % l])
    return F.cross_entropy(F.linear(h, (1 / M_N) * ref["readout.weight"],
                                    ref["readout.bias"]), yb)


opt.zero_grad()
loss = model(*BATCHES[0])
loss.backward()
want = reference_forward(*BATCHES[0])
want.backward()
assert loss.dtype == torch.bfloat16 and same(bits_of(loss), bits_of(want))
for n, p in model.named_parameters():
    assert same(bits_of(p.grad), bits_of(ref[n].grad)), n
print("forward: the multipliers apply, loss and bf16 gradients = the hand "
      "written forward's bits")

# ---- (a) the bound module against a separately driven State ------------------------
init_master = binding.flat_params.copy()
grads = []
losses = train(model, opt, BATCHES[:20], grads)

twin = package.state()
twin.init(SEED)
assert same(twin.flat_params, init_master)
for t, g in enumerate(grads, 1):
    twin.flat_grads[...] = g
    twin.step(t)
assert same(binding.flat_params, twin.flat_params)
for mine, theirs in zip(binding.flat[2:], twin.flat_states):
    assert same(mine, theirs)
assert same(binding.flat_params_bf16, twin.flat_params_bf16)
for name, (p, begin, numel) in views.items():
    assert same(bits_of(p).ravel(),
                twin.flat_params_bf16[begin:begin + numel]), name
print("(a) 20 steps: module = muir State fed the same gradients, bit for bit")

# ---- (b) numpy AdamW from the equations --------------------------------------------
rows = {r["name"]: r for r in package.manifest["report"]["params"]}
worst = 0.0
for name, info in package.params_info.items():
    if info.tied_to:
        continue
    for c in range(info.copies):
        k = {key: (v[c] if isinstance(v, list) else v)
             for key, v in rows[name].items()
             if key in ("lr", "weight_decay", "eps", "beta1", "beta2")}
        begin = info.offset + c * info.stride
        w = init_master[begin:begin + info.numel].astype(np.float64)
        m = np.zeros_like(w)
        v = np.zeros_like(w)
        for t, g in enumerate(grads, 1):
            g = widen(g[begin:begin + info.numel]).astype(np.float64)
            m = k["beta1"] * m + (1 - k["beta1"]) * g
            v = k["beta2"] * v + (1 - k["beta2"]) * g * g
            mhat = m / (1 - k["beta1"] ** t)
            vhat = v / (1 - k["beta2"] ** t)
            w = w * (1 - k["lr"] * k["weight_decay"]) - \
                k["lr"] * mhat / (np.sqrt(vhat) + k["eps"])
        got = binding.flat_params[begin:begin + info.numel]
        # float32 rounding of each of 20 steps, relative to the weights'
        # size and the updates' (lr).
        err = np.abs(got - w) / (np.abs(w) + k["lr"])
        worst = max(worst, float(err.max()))
assert worst < 2e-5, worst
master_bits = binding.flat_params.view(np.uint32)
down = (master_bits >> 16).astype(np.uint16)
copy = binding.flat_params_bf16
exact = (master_bits & 0xFFFF) == 0
assert np.all((copy == down) | ((copy == down + np.uint16(1)) & ~exact))
ups = np.count_nonzero((copy == down + np.uint16(1)) & ~exact)
assert 0 < ups < np.count_nonzero(~exact)  # both neighbours occur
print("(b) 20 steps: master = numpy AdamW to float32 rounding; copies are "
      "neighbours")
sys.stderr.write("(b) worst relative difference %.2e; %d of %d rounded up\n"
                 % (worst, ups, np.count_nonzero(~exact)))

# ---- (c) the loss falls ---------------------------------------------------------------
losses += train(model, opt, BATCHES[20:])
first, last = np.mean(losses[:5]), np.mean(losses[-5:])
assert last < 0.6 * first, (first, last)
print("(c) loss falls")
sys.stderr.write("(c) loss %.3f -> %.3f over 50 steps\n" % (first, last))


# ---- (d) reproducible ----------------------------------------------------------------------
def run(rounding_seed=None, steps=10):
    model = build()
    mt.bind(model, package, imported)
    mt.init_(model, seed=SEED)
    b = mt.binding_of(model)
    if rounding_seed is not None:
        b.state.rounding_seed = rounding_seed
    opt = mt.Optimizer(model)
    losses = train(model, opt, BATCHES[:steps])
    return model, opt, losses, [a.copy() for a in b.flat] + \
        [b.flat_params_bf16.copy()]


_, _, la, a = run()
_, _, lb, b = run()
assert la == lb and all(same(x, y) for x, y in zip(a, b))
_, _, _, c = run(rounding_seed=SEED + 1)
assert not same(a[-1], c[-1])
m5, o5, _, _ = run(steps=5)
path = os.path.join(TMP, "ckpt.pt")
torch.save({"model": m5.state_dict(), "optimizer": o5.state_dict()}, path)
resumed = build()
mt.bind(resumed, package, imported)
ropt = mt.Optimizer(resumed)
ckpt = torch.load(path)
resumed.load_state_dict(ckpt["model"])
ropt.load_state_dict(ckpt["optimizer"])
rl = train(resumed, ropt, BATCHES[5:10])
rb = mt.binding_of(resumed)
assert rl == la[5:10]
assert all(same(x, y) for x, y in zip([*rb.flat, rb.flat_params_bf16], a))
print("(d) same seed, same bits; another rounding seed, other copy bits; "
      "checkpoint resumes bit for bit")
# Each refused state (its optimizer states changed too) leaves the
# optimizer as it was: nothing is written before everything is checked.
kept = [x.copy() for x in (*rb.flat, rb.flat_params_bf16)]
other_states = [torch.ones_like(x) for x in ckpt["optimizer"]["states"]]
for title, change in (("no master", {"master": None}),
                      ("float64 master", {"master": ckpt["optimizer"]["master"].double()}),
                      ("no rounding seed", {"rounding_seed": None}),
                      ("a negative rounding seed", {"rounding_seed": -1})):
    state = dict(ckpt["optimizer"], states=other_states, **change)
    state = {k: v for k, v in state.items() if v is not None}
    try:
        ropt.load_state_dict(state)
        print(title, "loaded")
    except muir.Error as e:
        print("%s: %s" % (title, e.message))
assert all(same(x, y) for x, y in zip((*rb.flat, rb.flat_params_bf16), kept))
print("a refused optimizer state leaves the optimizer as it was")

# ---- guards and errors --------------------------------------------------------------
model.zero_grad(set_to_none=True)
opt.zero_grad()
loss = model(*BATCHES[0])
loss.backward()
assert all(p.grad is binding.grad_views[id(p)] for p in binding.params)
assert np.any(binding.flat_grads != 0)
print("set_to_none: grads are the bf16 views again")

for title, module, pkg in (("float64 module", build().double(), package),
                           ("bf16 module, fp32 package",
                            build().to(torch.bfloat16), fp32)):
    try:
        mt.bind(module, pkg, imported)
        print(title, "bound")
    except muir.Error as e:
        print("%s: %s" % (title, e.message))

model.float()
try:
    opt.step()
    print("converted after bind: stepped")
except muir.Error as e:
    print("converted after bind:", e.message)
