# The numbers a transfer claim rests on, against closed forms: the
# quadratic-fit optimum of a loss curve, its drift in grid steps and that
# drift's seed-bootstrap spread, diverged runs, the log-log slope of coordinate sizes; and data.py's splitmix64
# against the published test vectors of the reference generator, the
# shuffle a permutation, the corpus reader.
#
# RUN: %python %s | FileCheck %s
# CHECK: optimum: exact vertex of a parabola, clipped at an edge
# CHECK-NEXT: drift: 2 grid steps down, vertex -2.00; diverged runs count as their first loss
# CHECK-NEXT: bootstrap: s.d. of the vertex drift 0.{{[0-9]+}} (closed form 0.218)
# CHECK-NEXT: slopes: 0.5, 0, -1
# CHECK-NEXT: telemetry: mean over seeds at the optimum, null steps left out
# CHECK-NEXT: splitmix64: reference vectors
# CHECK-NEXT: shuffle: a permutation, deterministic

import math
import os
import tempfile

import numpy as np

from muir.transfer import analysis, data


def run(scheme, width, x, loss, seed=0, diverged=False, first=2.3):
    return {"scheme": scheme, "alpha": None, "width": width, "depth": 1,
            "batch": 128, "tokens_mult": 1.0, "log2_value": x, "seed": seed,
            "loss": None if diverged else loss, "diverged": diverged,
            "losses": [first], "hparam": "lr"}


# A parabola with its vertex at -7.3 on the grid -10..-4: the fit through
# the three points around the argmin recovers it exactly.
points = [(x, (x + 7.3) ** 2 + 0.4, 0.0, 1, 0) for x in range(-10, -3)]
argmin, vertex, edge = analysis.optimum(points)
assert argmin == -7 and abs(vertex - (-7.3)) < 1e-9 and not edge, (
    argmin, vertex)
# Minimum at the grid's edge: flagged, and the vertex stays inside the grid.
points = [(x, (x + 12) ** 2, 0.0, 1, 0) for x in range(-10, -3)]
argmin, vertex, edge = analysis.optimum(points)
assert argmin == -10 and edge and vertex == -10, (argmin, vertex)
print("optimum: exact vertex of a parabola, clipped at an edge")

# Two widths: the optimum moves from -7 to -9 (vertex -7.3 -> -9.3); the
# diverged runs at large LR count as their first loss (2.3), worse than
# any finite point, so they do not become the optimum.
records = []
for width, centre in ((64, -7.3), (1024, -9.3)):
    for x in range(-12, -3):
        for seed in range(2):
            if x >= -5:
                records.append(run("sp", width, x, None, seed, True))
            else:
                records.append(run("sp", width, x, 0.3 + 0.01 * (x - centre)
                                   ** 2, seed))
summary = analysis.summarise_sweep(records, "width")
entry = summary["series"]["sp"]
assert summary["grid_step"] == 1.0
assert entry["argmin_drift_steps"] == -2, entry
assert abs(entry["vertex_drift_steps"] - (-2.0)) < 1e-9, entry
assert entry["optima"][0]["diverged"] == 4, entry["optima"][0]
print("drift: 2 grid steps down, vertex %.2f; diverged runs count as their "
      "first loss" % entry["vertex_drift_steps"])
table = analysis.sweep_table(summary)
assert "| sp | -2 | -2.00 | 2.00 | 0.00 |" in table.replace("+", ""), table

# The seed bootstrap of the vertex drift. Seed s's curve at width w is a
# parabola 0.3 + 0.01 (x - c[w][s])^2 of one curvature, so a resample's
# mean curve is the parabola centred on the mean of its seeds' centres and
# the 3-point fit recovers that exactly: the drift of a resample is
# mean(c[1024] drawn) - mean(c[64] drawn), whose standard deviation is
# sqrt(var(c[64]) / 3 + var(c[1024]) / 3) (a bootstrap mean of n values
# has the variance of the values over n).
centres = {64: [-7.2, -7.0, -6.5], 1024: [-7.4, -6.9, -6.9]}
noisy = [run("mup", width, x, 0.3 + 0.01 * (x - c[seed]) ** 2, seed)
         for width, c in centres.items() for x in range(-9, -4)
         for seed in range(3)]
expected = math.sqrt(sum(np.var(c) / 3 for c in centres.values()))
entry = analysis.summarise_sweep(noisy, "width")["series"]["mup"]
got = entry["vertex_drift_sd_steps"]
assert abs(got - expected) < 0.08 * expected, (got, expected)
assert abs(entry["vertex_drift_steps"] - (np.mean(centres[1024])
                                          - np.mean(centres[64]))) < 1e-9
print("bootstrap: s.d. of the vertex drift %.3f (closed form %.3f)"
      % (got, expected))

# Coordinate sizes c * width^p over widths 64..1024: slopes p exactly.
coord = []
for width in (64, 256, 1024):
    sizes = {"a": [1.0, 3 * width ** 0.5], "b": [1.0, 2.0],
             "c": [1.0, 5.0 / width]}
    coord.append(dict(run("mup", width, -8, 1.0), coord={
        "layers": ["a", "b", "c"], "act": sizes, "delta": sizes}))
c = analysis.summarise_coord(coord, "width")["series"]["mup"]["layers"]
got = [c[k]["delta"]["slopes"][1] for k in "abc"]
assert np.allclose(got, [0.5, 0.0, -1.0], atol=1e-12), got
assert list(c) == ["a", "b", "c"]
print("slopes: %g, %g, %g" % tuple(round(g, 12) + 0.0 for g in got))

# Telemetry: the update sizes of the runs at each series' optimum, the mean
# over seeds per step (a skipped step's null left out); the optimizer and
# warmup name the series.
tel = []
for x, loss in ((-9, 2.0), (-8, 1.5), (-7, 1.8)):
    for seed in (0, 1):
        r = run("mup", 64, x, loss, seed=seed)
        r.update(optimizer="lion-a:recipe", warmup=5, weight_decay=0.1,
                 multipliers={"modules": {}}, telemetry={
            "update_norm": [x + seed, 1.0], "angle": [0.1 * (seed + 1),
                                                      None if seed else 0.4],
            "relative_update": [1e-3, 2e-3]})
        tel.append(r)
s = analysis.summarise_sweep(tel, "width")
SERIES = "mup, lion-a:recipe, wd 0.1 (per-module factors), warmup 5"
t = analysis.summarise_telemetry(tel, s)[SERIES]
sizes = t["by_value"][-8]
assert t["optimum"] == -8 and t["best_loss"] == 1.5, t
assert sizes["update_norm"] == [-7.5, 1.0], sizes
assert np.allclose(sizes["angle"], [0.15, 0.4]), sizes
assert ("| %s | -8 | 1.5000 | 150.00 / 400.00 / -" % SERIES) in \
    analysis.telemetry_table({SERIES: t}), t
# A weight-decay sweep is one series (its decay is the swept value).
assert analysis.label(dict(run("mup", 64, -8, 1.0), hparam="wd",
                           weight_decay=2 ** -8)) == "mup"
print("telemetry: mean over seeds at the optimum, null steps left out")

# Vigna's splitmix64 (the reference C code, as in Java's SplittableRandom):
# seed 0 -> 0xe220a8397b1dcdaf; seed 1234567 -> the three values below.
r = data.SplitMix64(0)
assert r.next() == 0xE220A8397B1DCDAF
r = data.SplitMix64(1234567)
assert [r.next() for _ in range(3)] == [
    6457827717110365317, 3203168211198807973, 9817491932198370423]
print("splitmix64: reference vectors")

p = data.permutation(1000, seed=3, epoch=2)
assert sorted(p.tolist()) == list(range(1000)) and p.tolist() != list(
    range(1000))
assert (data.permutation(1000, 3, 2) == p).all()
assert not (data.permutation(1000, 3, 1) == p).all()
with tempfile.TemporaryDirectory() as d:
    for name, text in (("b", b"BB"), ("a", b"AA"), ("a.dat", b"index")):
        open(os.path.join(d, name), "wb").write(text)
    os.symlink(os.path.join(d, "a"), os.path.join(d, "a.u8"))
    assert data.read_corpus(d).tobytes() == b"AABB"
print("shuffle: a permutation, deterministic")
