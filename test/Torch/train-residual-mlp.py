# An unmodified nn.Module (Inputs/models.py: ResidualMLP, blocks in an
# nn.ModuleList) made CompleteP by muir.torch: imported at two sizes (width
# 8 -> 32, depth 2 -> 6 blocks), packaged, bound, initialised by the package
# and trained 50 steps by muir.torch.Optimizer under a
# torch.optim.lr_scheduler warmup. The same model trained by
# torch.optim.AdamW with one param group per role, hyperparameters from
# CompleteP Table 1 (alpha = 1; written here from the table, as in
# test/Python/forward-multipliers.py) and the forward multipliers inserted
# by hand (readout x 1/m_N, residual branch x 1/m_L) must give the same
# losses and weights to float32 rounding. Also: the module keeps its names
# and its parameters() / state_dict(), the parameters are views of the
# package's flat buffer, gradients land in the flat grads buffer.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: names kept: input.weight input.bias blocks.0.fc.weight ... readout.bias
# CHECK-NEXT: views of the flat buffers
# CHECK-NEXT: forward multipliers: readout 0.25, residual 0.333333
# CHECK-NEXT: 50 steps: torch.optim.AdamW reference agrees
# CHECK-NEXT: second run on the binding = first run

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import muir.torch as mt
from models import ResidualMLP

TMP = sys.argv[1]
torch.manual_seed(0)
torch.set_num_threads(1)

D_IN, CLASSES, BATCH = 12, 5, 16
BASE_H, H, BASE_L, L = 8, 32, 2, 6
M_N, M_L = H / BASE_H, L / BASE_L
LR, WD, EPS, B1, B2 = 1e-2, 1e-2, 1e-8, 0.9, 0.999
STEPS = 50

model = ResidualMLP(D_IN, H, L, CLASSES)
base = ResidualMLP(D_IN, BASE_H, BASE_L, CLASSES)
x = torch.randn(BATCH, D_IN)
y = torch.randint(0, CLASSES, (BATCH,))
imported = mt.import_model(model, base, (x, y), workdir=os.path.join(TMP, "imp"))
package = mt.package(imported, os.path.join(TMP, "pkg"), scheme="completep",
                     optimizer="adamw", lr=LR, weight_decay=WD, eps=EPS,
                     beta1=B1, beta2=B2, init_std="fan-in")
mt.bind(model, package, imported)
mt.init_(model, seed=3)

names = [n for n, _ in model.named_parameters()]
assert set(model.state_dict()) == set(names), model.state_dict().keys()
print("names kept:", " ".join(names[:3]), "...", names[-1])

# Views: every parameter's storage is the flat params buffer, its grad the
# flat grads buffer.
binding = mt.binding_of(model)
flat_p, flat_g = binding.flat[0], binding.flat[1]
for n, p in model.named_parameters():
    assert p.data_ptr() >= flat_p.ctypes.data and \
        p.data_ptr() < flat_p.ctypes.data + flat_p.nbytes, n
    assert p.grad.data_ptr() >= flat_g.ctypes.data and \
        p.grad.data_ptr() < flat_g.ctypes.data + flat_g.nbytes, n
info = package.params_info["blocks.*.fc.weight"]
np.testing.assert_array_equal(
    model.blocks[4].fc.weight.detach().numpy().ravel(),
    flat_p[info.offset + 4 * info.stride:][:info.numel])
print("views of the flat buffers")

mult = package.params_info["readout.weight"].multiplier
res = package.residuals[0].multiplier
assert abs(mult - 1 / M_N) < 1e-15 and all(abs(r - 1 / M_L) < 1e-15 for r in res)
print("forward multipliers: readout %g, residual %g" % (mult, res[0]))

rng = np.random.default_rng(1)
BATCHES = [(torch.from_numpy(rng.standard_normal((BATCH, D_IN)).astype(np.float32)),
            torch.from_numpy(rng.integers(0, CLASSES, BATCH))) for _ in range(STEPS)]
initial = {n: p.detach().clone() for n, p in model.named_parameters()}


def warmup(step):
    return min(1.0, (step + 1) / 10)


opt = mt.Optimizer(model)
sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup)
losses = []
for xb, yb in BATCHES:
    opt.zero_grad()
    loss = model(xb, yb)
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())

# ---- The reference: CompleteP Table 1 (alpha = 1), per-role groups --------
HPARAMS = {  # role: (lr, weight decay, eps)
    "input": (LR, WD, EPS / M_N),
    "input_bias": (LR, WD, EPS / M_N),
    "hidden": (LR / M_N, WD * M_N, EPS / M_N / M_L),
    "hidden_bias": (LR, WD, EPS / M_N / M_L),
    "readout": (LR, WD, EPS / M_N),
    "readout_bias": (LR, WD, EPS),
}
ROLE = {"input.weight": "input", "input.bias": "input_bias",
        "readout.weight": "readout", "readout.bias": "readout_bias"}
ref = {n: t.clone().requires_grad_() for n, t in initial.items()}
groups = {}
for n, p in ref.items():
    role = ROLE.get(n) or ("hidden" if n.endswith("weight") else "hidden_bias")
    groups.setdefault(role, []).append(p)
ropt = torch.optim.AdamW(
    [{"params": groups[r], "lr": lr, "weight_decay": wd, "eps": eps}
     for r, (lr, wd, eps) in HPARAMS.items()], betas=(B1, B2))
rsched = torch.optim.lr_scheduler.LambdaLR(ropt, warmup)


def reference_forward(xb, yb):
    h = torch.relu(F.linear(xb, ref["input.weight"], ref["input.bias"]))
    for l in range(L):
        branch = F.linear(torch.relu(h), ref["blocks.%d.fc.weight" % l],
                          ref["blocks.%d.fc.bias" % l])
        h = h + (1 / M_L) * branch
    logits = F.linear(h, (1 / M_N) * ref["readout.weight"], ref["readout.bias"])
    return F.cross_entropy(logits, yb)


ref_losses = []
for xb, yb in BATCHES:
    ropt.zero_grad()
    loss = reference_forward(xb, yb)
    loss.backward()
    ropt.step()
    rsched.step()
    ref_losses.append(loss.item())
np.testing.assert_allclose(losses, ref_losses, rtol=2e-5)
for n, p in model.named_parameters():
    np.testing.assert_allclose(p.detach().numpy(), ref[n].detach().numpy(),
                               rtol=1e-4, atol=2e-6, err_msg=n)
assert losses[-1] < losses[0], losses
print("%d steps: torch.optim.AdamW reference agrees" % STEPS)

# A second run on the same binding (as a sweep does): init_ and a new
# Optimizer start over from the same state, bit for bit.
mt.init_(model, seed=3)
opt = mt.Optimizer(model)
sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup)
again = []
for xb, yb in BATCHES:
    opt.zero_grad()
    loss = model(xb, yb)
    loss.backward()
    opt.step()
    sched.step()
    again.append(loss.item())
assert again == losses, (again[:3], losses[:3])
print("second run on the binding = first run")
