# The packages a --batches or --durations grid trains with: the cards agree
# on the batch dim and muirc gets the ratios, so under completedp the
# package scales every learning rate by sqrt(m_B / m_D) and 1 - beta by
# m_B / m_D (Complete^(d)P Table 1, SDE column), and under mup (no batch or
# duration rule) it leaves them; steps follow T ~ m_D / m_B.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: completedp batch x4: lr x2, 1-beta1 x4, 100 steps
# CHECK-NEXT: completedp tokens x4: lr x1/2, 1-beta1 x1/4, 1600 steps
# CHECK-NEXT: mup batch x4: lr x1, beta1 0.9, 100 steps

import json
import math
import os
import sys

from muir.transfer.runner import build_package, find_muirc, steps_of

OUT = sys.argv[1]
BASE = {"model": "mlp", "width": 32, "depth": 1, "shape": {"d_in": 784,
        "classes": 10}, "base_width": 32, "base_depth": 1, "base_batch": 32,
        "base_steps": 400, "alpha": None, "optimizer": "adamw",
        "compiled_lr": 1.0, "init_std": "fan-in", "weight_decay": 0.0,
        "eps": 1e-8, "beta1": 0.9, "beta2": 0.999}


def rows(spec):
    path = build_package(OUT, spec, find_muirc())
    report = json.load(open(os.path.join(path, "manifest.json")))["report"]
    return {p["name"]: p for p in report["params"]}


def check(label, scheme, batch, tokens, lr, one_minus_beta1, steps):
    spec = dict(BASE, scheme=scheme, batch=batch, tokens_mult=tokens)
    params = rows(spec)
    assert set(params) >= {"input.weight", "hidden.weight", "readout.weight"}
    base = rows(dict(spec, batch=32, tokens_mult=1.0))
    for name, p in params.items():
        ratio = p["lr"] / base[name]["lr"]
        assert math.isclose(ratio, lr, rel_tol=1e-12), (name, ratio)
        b1 = (1 - p["beta1"]) / (1 - base[name]["beta1"])
        assert math.isclose(b1, one_minus_beta1, rel_tol=1e-9), (name, b1)
    assert steps_of(spec) == steps, steps_of(spec)
    print(label)


check("completedp batch x4: lr x2, 1-beta1 x4, 100 steps",
      "completedp", 128, 1.0, 2.0, 4.0, 100)
check("completedp tokens x4: lr x1/2, 1-beta1 x1/4, 1600 steps",
      "completedp", 32, 4.0, 0.5, 0.25, 1600)
check("mup batch x4: lr x1, beta1 0.9, 100 steps", "mup", 128, 1.0, 1.0, 1.0,
      100)
