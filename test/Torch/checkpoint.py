# Checkpoints of a bound module: model.state_dict() and the muir.torch
# Optimizer's state_dict() saved with torch.save after 5 steps and loaded
# into a freshly built, freshly bound module continue training bit for bit
# like the run that never stopped (an lr scheduler included); the
# optimizer's state records the package's identity, and loading it into an
# optimizer of another package is an error naming both.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: resumed run = uninterrupted run, bit for bit
# CHECK-NEXT: another package: load_state_dict: the state was saved with package {{[0-9a-f]+}} (model 'residualmlp'), this optimizer runs package {{[0-9a-f]+}} (model 'residualmlp',
# CHECK-NEXT: not an optimizer state: load_state_dict: not the state_dict of a muir.torch.Optimizer
# CHECK-NEXT: bound twice: ResidualMLP is already bound to package

import os
import sys

import numpy as np
import torch

import muir
import muir.torch as mt
from models import ResidualMLP

TMP = sys.argv[1]
torch.manual_seed(0)
torch.set_num_threads(1)
D_IN, H, L, CLASSES, BATCH = 12, 32, 4, 5, 16


def build():
    return ResidualMLP(D_IN, H, L, CLASSES)


x = torch.randn(BATCH, D_IN)
y = torch.randint(0, CLASSES, (BATCH,))
imported = mt.import_model(build(), ResidualMLP(D_IN, 8, 2, CLASSES), (x, y),
                           workdir=os.path.join(TMP, "imp"))
package = mt.package(imported, os.path.join(TMP, "pkg"), "completep",
                     lr=1e-2, weight_decay=1e-2)
other = mt.package(imported, os.path.join(TMP, "pkg-mup"), "mup-table8",
                   lr=1e-2, weight_decay=1e-2)
rng = np.random.default_rng(0)
BATCHES = [(torch.from_numpy(rng.standard_normal((BATCH, D_IN)).astype(np.float32)),
            torch.from_numpy(rng.integers(0, CLASSES, BATCH))) for _ in range(10)]


def bound(pkg):
    model = build()
    mt.bind(model, pkg, imported)
    mt.init_(model, seed=5)
    opt = mt.Optimizer(model)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
    return model, opt, sched


def train(model, opt, sched, batches):
    losses = []
    for xb, yb in batches:
        opt.zero_grad()
        loss = model(xb, yb)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


model, opt, sched = bound(package)
train(model, opt, sched, BATCHES[:5])
path = os.path.join(TMP, "ckpt.pt")
torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict()}, path)
straight = train(model, opt, sched, BATCHES[5:])
final = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}

resumed, ropt, rsched = bound(muir.Package(os.path.join(TMP, "pkg")))
ckpt = torch.load(path)
resumed.load_state_dict(ckpt["model"])
ropt.load_state_dict(ckpt["optimizer"])
rsched.load_state_dict(ckpt["scheduler"])
again = train(resumed, ropt, rsched, BATCHES[5:])
assert again == straight, (again, straight)
for n, p in resumed.named_parameters():
    assert p.detach().numpy().tobytes() == final[n].tobytes(), n
print("resumed run = uninterrupted run, bit for bit")

_, mopt, _ = bound(other)
for title, state in (("another package", ckpt["optimizer"]),
                     ("not an optimizer state", ckpt["model"])):
    try:
        mopt.load_state_dict(state)
        print(title, "loaded")
    except muir.Error as e:
        print("%s: %s" % (title, e.message))
try:
    mt.bind(model, package, imported)
except muir.Error as e:
    print("bound twice:", e.message)
