# A user's torch module as the model (--model-factory FILE.py:FUNCTION):
# Inputs/factories.py's MLP, written as a user writes it, imported by
# muir.torch at each width against the base width, packaged and bound, on
# Fashion-MNIST, SP (sp-pytorch) against muP:
#   1. a coordinate check at widths 32, 128, 512 (16x; 4 steps at LR 2^-8,
#      two seeds, readout zeroed): under muP every layer's change since init
#      keeps its size as the width grows (|log-log slope| <= 0.15 from the
#      step it starts moving); under SP the readout's grows (>= 0.4 at t=1);
#      the layers are the module's own (module paths);
#   2. a two-width sweep with the step telemetry of the first 3 steps:
#      AdamW's first bias-corrected step moves every weight by at most the
#      learning rate, by exactly it where the gradient is not zero, so
#      ||dw|| at t=1 is at most lr sqrt(params) and (few dead units) close
#      to it; the angular update is positive and below pi/2;
#   3. a second invocation runs nothing;
#   4. a depth grid at the base width (1 and 3 blocks) builds and runs.
#
# REQUIRES: fashion-mnist
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t %S/Inputs/factories.py | FileCheck %s
# CHECK: layers: input hidden.0 readout
# CHECK-NEXT: coordinate check: mup slopes within 0.15, sp-pytorch readout slope >= 0.4 at t=1
# CHECK-NEXT: telemetry: ||dw|| at t=1 within 10% below lr sqrt(params), angles in (0, pi/2)
# CHECK-NEXT: resumed: nothing to run
# CHECK-NEXT: depth grid: packages at width 32 with 1 and 3 blocks, CompleteP's branch multipliers 1 and 1/3

import json
import math
import os
import subprocess
import sys

import numpy as np

OUT, FACTORIES = sys.argv[1], sys.argv[2]
COMMON = ["--model-factory", FACTORIES + ":mlp", "--jobs", "2", "--quiet"]


def transfer(*args):
    return subprocess.run([sys.executable, "-m", "muir.transfer", *args],
                          check=True, capture_output=True, text=True,
                          timeout=300)


coord = os.path.join(OUT, "coord")
transfer("coord-check", *COMMON, "--schemes", "sp-pytorch,mup", "--widths",
         "32,128,512", "--seeds", "2", "--lr", str(2 ** -8), "--steps", "4",
         "--zero-readout", "--out", coord)
summary = json.load(open(os.path.join(coord, "summary.json")))["coord"]
layers = summary["series"]["mup"]["layers"]
print("layers:", " ".join(layers))
for layer, per in layers.items():
    slopes = per["delta"]["slopes"]
    # The readout moves at t=1 (it was zero), the layers below from t=2.
    first = 1 if layer == "readout" else 2
    assert len(slopes) == 5 and all(
        abs(s) <= 0.15 for s in slopes[first:]), (layer, slopes)
sp = summary["series"]["sp-pytorch"]["layers"]["readout"]["delta"]["slopes"]
assert sp[1] >= 0.4, sp
print("coordinate check: mup slopes within 0.15, sp-pytorch readout slope "
      ">= 0.4 at t=1")

sweep = os.path.join(OUT, "sweep")
ARGS = ["--schemes", "sp-pytorch", "--widths", "32,64", "--seeds", "1",
        "--log2-values=-9", "--steps", "10", "--telemetry-steps", "3",
        "--out", sweep]
transfer("sweep", *COMMON, *ARGS)
records = [json.loads(line) for line in open(os.path.join(
    sweep, "results.jsonl"))]
assert len(records) == 2, records
for r in records:
    w = r["width"]
    params = 784 * w + w + w * w + w + w * 10 + 10
    bound = 2 ** -9 * math.sqrt(params)
    tel = r["telemetry"]
    assert len(tel["update_norm"]) == 3 and len(tel["angle"]) == 3, tel
    assert 0.9 * bound <= tel["update_norm"][0] <= bound * (1 + 1e-5), (
        w, tel["update_norm"][0], bound)
    assert all(0 < a < math.pi / 2 for a in tel["angle"]), tel["angle"]
    assert set(tel["angle_by_param"]) == {"input.weight", "hidden.*.weight",
                                          "readout.weight"}, tel
print("telemetry: ||dw|| at t=1 within 10% below lr sqrt(params), angles in "
      "(0, pi/2)")

again = transfer("sweep", *COMMON[:-1], *ARGS)
assert "2 of 2 runs already recorded, 0 to go" in again.stdout, again.stdout
print("resumed: nothing to run")

# A depth grid at the base width: no tensor differs in size between the
# traces, so each point is imported from a twice-wider module and compiled
# at the base width: the packages hold width-32 weights, 1 and 3 blocks,
# and CompleteP's branch multiplier base_depth / depth (1 and 1/3).
depth = os.path.join(OUT, "depth")
transfer("coord-check", "--model-factory", FACTORIES + ":rmlp", "--quiet",
         "--schemes", "completep", "--widths", "32", "--depths", "1,3",
         "--seeds", "1", "--steps", "2", "--out", depth)
import muir  # noqa: E402
for r in (json.loads(line) for line in open(os.path.join(
        depth, "results.jsonl"))):
    assert r["coord"]["layers"] == ["input"] + [
        "blocks.%d.fc" % l for l in range(r["depth"])] + ["readout"], r
got = {}
for d in os.listdir(os.path.join(depth, "packages")):
    if not d.endswith(".import"):
        p = muir.Package(os.path.join(depth, "packages", d))
        got[p.params_info["blocks.*.fc.weight"].shape] = \
            p.residuals[0].multiplier
assert sorted(got) == [(3, 32, 32), (32, 32)], got
assert got[(32, 32)] == (1.0,), got
assert np.allclose(got[(3, 32, 32)], [1 / 3] * 3, rtol=1e-12), got
print("depth grid: packages at width 32 with 1 and 3 blocks, CompleteP's "
      "branch multipliers 1 and 1/3")
