# The C trainer (examples/trainers/mlp_trainer.c: OpenBLAS forward and
# backward, init, forward multipliers and step from the package through the
# C runtime) and the torch trainer (python3 -m muir.transfer train) print
# the same first 20 losses from the same package and seed, to float32
# rounding: a plain MLP under muP (Table 3) and a residual MLP under
# CompleteP whose readout and residual-branch multipliers are not 1, with
# warmup and cosine decay. The two share nothing but the package and the
# data-order convention (data.py's splitmix64 shuffle), so a wrong
# multiplier, a missed gradient scale or a different order in either shows
# up as a loss that parts after a step or two.
#
# REQUIRES: mlp-trainer, fashion-mnist
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %muir_tools %t | FileCheck %s
# CHECK: mlp mup: 20 losses agree
# CHECK-NEXT: mlp mup: held-out loss agrees
# CHECK-NEXT: rmlp completep: 20 losses agree
# CHECK-NEXT: rmlp completep: held-out loss agrees

import json
import os
import subprocess
import sys

TOOLS, TMP = sys.argv[1:3]
# float32 has 24 bits: 2^-24 ~ 6e-8 is one rounding. Different summation
# orders (OpenBLAS vs torch) round differently, and Adam's first steps
# amplify a little; a wrong multiplier or gradient moves the losses by
# percents.
RTOL = 2e-6


def package(name, card, base, scheme, extra=()):
    for which, c in (("target", card), ("base", base)):
        json.dump(c, open(os.path.join(TMP, "%s-%s.json" % (name, which)),
                          "w"))
    out = os.path.join(TMP, name)
    subprocess.run([os.path.join(TOOLS, "muirc"), "package", "--card",
                    os.path.join(TMP, name + "-target.json"), "--base-card",
                    os.path.join(TMP, name + "-base.json"), "--scheme", scheme,
                    "--optimizer", "adamw", "--lr", "1", "--init-std",
                    "fan-in", "--weight-decay", "0.01", "--no-gpu", "-o",
                    out, *extra], check=True, capture_output=True,
                   timeout=300)
    return out


def losses(text):
    steps, held_out = [], None
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["step"]:
            steps.append(float(words[3]))
        elif words[:2] == ["held-out", "loss"]:
            held_out = float(words[2])
    return steps, held_out


def compare(label, pkg, model, options):
    c = subprocess.run([os.path.join(TOOLS, "mlp_trainer"), pkg, *options],
                       check=True, capture_output=True, text=True,
                       timeout=300).stdout
    py = subprocess.run([sys.executable, "-m", "muir.transfer", "train",
                         "--package", pkg, "--model", model,
                         *[o.replace("--eval", "--eval-count")
                           for o in options]],
                        check=True, capture_output=True, text=True,
                        timeout=300).stdout
    (c_steps, c_eval), (py_steps, py_eval) = losses(c), losses(py)
    assert len(c_steps) == len(py_steps) == 20, (c, py)
    worst = max(abs(a - b) / abs(b) for a, b in zip(c_steps, py_steps))
    assert worst <= RTOL, "%s: losses part: %s" % (
        label, list(zip(c_steps, py_steps)))
    # The losses fall: the run trains (a frozen model would agree too).
    assert c_steps[-1] < 0.8 * c_steps[0], c_steps
    print("%s: 20 losses agree (max relative difference %.2g)"
          % (label, worst))
    assert abs(c_eval - py_eval) <= RTOL * abs(py_eval), (c_eval, py_eval)
    print("%s: held-out loss agrees (%.6f)" % (label, c_eval))


def mlp(width, layers, residual):
    return {"name": "m", "family": "mlp", "d_in": 784, "d_hidden": width,
            "n_layer": layers, "d_out": 10, "bias": True,
            "residual": residual, "batch": 64}


pkg = package("mlp", mlp(256, 2, False), mlp(64, 2, False), "mup")
compare("mlp mup", pkg, "mlp", ["--steps", "20", "--batch", "64", "--seed",
                                "3", "--lr", "0.004", "--eval", "500"])

json.dump({"modules": {"readout.weight": {"multiplier": 2.0}},
           "depth": {"residual": [1.0, 0.5]}},
          open(os.path.join(TMP, "multipliers.json"), "w"))
pkg = package("rmlp", mlp(128, 6, True), mlp(32, 2, True), "completep",
              ["--multipliers", os.path.join(TMP, "multipliers.json")])
compare("rmlp completep", pkg, "rmlp",
        ["--steps", "20", "--batch", "64", "--seed", "5", "--lr", "0.01",
         "--warmup", "5", "--schedule", "cosine", "--eval", "500"])
