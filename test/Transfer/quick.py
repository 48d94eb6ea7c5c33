# CI's quick mode of the transfer evidence (docs/Transfer.md has the full
# runs): through muir packages, on Fashion-MNIST, PyTorch's SP
# (sp-pytorch) against muP (TP5 Table 3), for the mlp card at n_layer 1:
#   1. a coordinate check at widths 64, 256 and 1024 (16x; 5 steps at LR
#      2^-8, two seeds, readout zeroed after init as
#      TP5 App. D.2): under muP every layer's change since init,
#      rms(x_t - x_0), keeps its size as the width grows (log-log slope near
#      0; the hidden layers start moving at step 2, once the readout is not
#      zero); under SP the logits' change grows with the width (slope near
#      1 for Adam with a fixed LR);
#   2. a three-width mini sweep of the learning rate at widths 32, 128 and
#      512 (16x; 2^-12 .. 2^-5, 100 steps): under muP the best LR stays
#      where it is (quadratic-fit drift within 0.6 grid steps, measured
#      +0.18), under SP it falls as the width grows (measured -2.29).
# The bounds are looser than the full runs' (one seed, few steps). Every
# subprocess has a timeout: a hang fails the test instead of CI.
# Also: a second invocation resumes (runs nothing), and the figures exist.
#
# REQUIRES: fashion-mnist, matplotlib
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: coordinate check: mup slopes within 0.15, sp-pytorch logits slope >= 0.4 at t=1
# CHECK-NEXT: resumed: nothing to run
# CHECK-NEXT: mini sweep: mup optimum moves at most 0.6 grid steps, sp-pytorch's falls >= 1.5
# CHECK-NEXT: figures: coord-act.png coord-delta.png optimum.png slopes.png sweep.png

import json
import os
import subprocess
import sys

OUT = sys.argv[1]
COMMON = ["--model", "mlp", "--schemes", "sp-pytorch,mup", "--jobs", "2"]


def transfer(*args):
    return subprocess.run([sys.executable, "-m", "muir.transfer", *args],
                          check=True, capture_output=True, text=True,
                          timeout=300)


coord = os.path.join(OUT, "coord")
COORD = ["--lr", str(2 ** -8), "--steps", "5", "--zero-readout", "--out",
         coord]
COORD += ["--widths", "64,256,1024"]
transfer("coord-check", *COMMON, "--seeds", "2", "--quiet", *COORD)
summary = json.load(open(os.path.join(coord, "summary.json")))["coord"]
assert summary["axis"] == "width" and summary["series"]["mup"]["values"] == [
    64, 256, 1024], summary["series"]["mup"]["values"]
for layer, per in summary["series"]["mup"]["layers"].items():
    slopes = per["delta"]["slopes"]
    # At t=1 only the readout has moved (it was zero): the layers below have
    # no change yet (no slope); from t=2 on every layer has one.
    first = 1 if layer == "logits" else 2
    assert slopes[first - 1] is None or layer == "logits", (layer, slopes)
    assert len(slopes) == 6 and all(abs(s) <= 0.15 for s in slopes[first:]), (
        layer, slopes)
sp = summary["series"]["sp-pytorch"]["layers"]
assert sp["logits"]["delta"]["slopes"][1] >= 0.4, sp["logits"]
print("coordinate check: mup slopes within 0.15, sp-pytorch logits slope "
      ">= 0.4 at t=1")

again = transfer("coord-check", *COMMON, "--seeds", "2", *COORD)
assert "12 of 12 runs already recorded, 0 to go" in again.stdout, again.stdout
print("resumed: nothing to run")

sweep = os.path.join(OUT, "sweep")
transfer("sweep", *COMMON, "--widths", "32,128,512", "--seeds", "1", "--quiet",
         "--log2-values=-12:-5", "--steps", "100", "--out", sweep)
summary = json.load(open(os.path.join(sweep, "summary.json")))["sweep"]
mup, sp = summary["series"]["mup"], summary["series"]["sp-pytorch"]
assert abs(mup["argmin_drift_steps"]) <= 1, mup
assert abs(mup["vertex_drift_steps"]) <= 0.6, mup
assert sp["argmin_drift_steps"] <= -1 and sp["vertex_drift_steps"] <= -1.5, sp
# The gap itself: SP's optimum falls at least 1.5 steps more than muP's.
assert sp["vertex_drift_steps"] <= mup["vertex_drift_steps"] - 1.5, (sp, mup)
print("mini sweep: mup optimum moves at most 0.6 grid steps, sp-pytorch's "
      "falls >= 1.5")

figures = sorted(f for d in (coord, sweep) for f in os.listdir(d)
                 if f.endswith(".png"))
for d in (coord, sweep):
    for f in os.listdir(d):
        if f.endswith(".png"):
            with open(os.path.join(d, f), "rb") as png:
                assert png.read(8) == b"\x89PNG\r\n\x1a\n", f
print("figures: " + " ".join(figures))
