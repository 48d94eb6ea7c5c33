"""From recorded runs to the numbers a transfer claim rests on: the optimum
of each loss curve (grid argmin and a quadratic-fit vertex), its drift along
the scaled axis in grid steps, and the log-log slopes of coordinate sizes
against width or depth.
"""

import math
from collections import defaultdict

import numpy as np

AXES = ("width", "depth", "batch", "tokens_mult")


def label(record):
    """A curve family: the scheme, with alpha where set, and the optimizer,
    weight decay, per-module factors and warmup where they are not AdamW's
    without any (an --out may hold several optimizers' sweeps)."""
    text = record["scheme"]
    if record.get("alpha") is not None:
        text += " (alpha %s)" % record["alpha"]
    if record.get("optimizer", "adamw") != "adamw":
        text += ", " + record["optimizer"]
    if record.get("weight_decay") and record.get("hparam") != "wd":
        text += ", wd %g" % record["weight_decay"]
    if record.get("multipliers"):
        text += " (per-module factors)"
    if record.get("warmup"):
        text += ", warmup %d" % record["warmup"]
    return text


def run_value(record, metric="loss"):
    """A run's loss; a diverged run counts as its first loss (no better than
    at init), so it pushes the optimum away instead of vanishing."""
    value = record.get(metric)
    if record.get("diverged") or value is None or not math.isfinite(value):
        first = record["losses"][0] if record.get("losses") else None
        return first if first is not None and math.isfinite(first) else None
    return value


def curves(records, axis, metric="loss"):
    """{label: {axis value: [(log2 value, mean, std, runs, diverged)]}}
    sorted by log2 value."""
    groups = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in records:
        if "coord" in r and r.get("coord_only"):
            continue
        groups[label(r)][r[axis]][r["log2_value"]].append(r)
    out = {}
    for lab, by_axis in groups.items():
        out[lab] = {}
        for value, by_x in sorted(by_axis.items()):
            points = []
            for x, runs in sorted(by_x.items()):
                values = [run_value(r, metric) for r in runs]
                finite = [v for v in values if v is not None]
                if not finite:
                    continue
                points.append((x, float(np.mean(finite)),
                               float(np.std(finite)), len(runs),
                               sum(bool(r.get("diverged")) for r in runs)))
            out[lab][value] = points
    return out


def optimum(points):
    """(argmin x, vertex x, at_edge) of one curve: the grid point with the
    lowest mean loss and the vertex of the parabola through it and its two
    neighbours (the three lowest-x or highest-x points at an edge), clipped
    to those three points' range."""
    if not points:
        return None
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    i = int(np.argmin(ys))
    if len(xs) < 3:
        return float(xs[i]), float(xs[i]), True
    lo = min(max(i - 1, 0), len(xs) - 3)
    fx, fy = xs[lo:lo + 3], ys[lo:lo + 3]
    a, b, _ = np.polyfit(fx, fy, 2)
    vertex = float(xs[i]) if a <= 0 else float(
        np.clip(-b / (2 * a), fx[0], fx[-1]))
    return float(xs[i]), vertex, i in (0, len(xs) - 1)


def seed_values(records, axis, metric="loss"):
    """{label: {axis value: {log2 value: {seed: loss}}}}, each run's value
    as run_value() counts it (the per-seed view of curves())."""
    out = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for r in records:
        if "coord" in r and r.get("coord_only"):
            continue
        value = run_value(r, metric)
        if value is not None:
            out[label(r)][r[axis]][r["log2_value"]][r["seed"]] = value
    return out


#: Resamples of the seed bootstrap (drawn from a fixed generator, so a
#: report is reproducible).
BOOTSTRAP_RESAMPLES = 1000


def vertex_drift_sd(by_value, first, last, step,
                    resamples=BOOTSTRAP_RESAMPLES):
    """The standard deviation of the vertex drift from axis value `first`
    to `last` (grid steps) under a seed bootstrap: at both ends the seeds
    are drawn again with replacement and the mean curve's vertex refitted.
    It says how large a drift the seeds' noise alone makes."""
    rng = np.random.default_rng(0)
    ends = [by_value[first], by_value[last]]
    seeds = [sorted({s for by_seed in by_x.values() for s in by_seed})
             for by_x in ends]
    drifts = []
    for _ in range(resamples):
        vertex = []
        for by_x, pool in zip(ends, seeds):
            chosen = rng.choice(pool, len(pool))
            points = []
            for x, by_seed in sorted(by_x.items()):
                ys = [by_seed[s] for s in chosen if s in by_seed]
                if ys:
                    points.append((x, float(np.mean(ys)), 0.0, len(ys), 0))
            vertex.append(optimum(points)[1])
        drifts.append((vertex[1] - vertex[0]) / step)
    return float(np.std(drifts))


def grid_step(records):
    xs = sorted({r["log2_value"] for r in records})
    steps = np.diff(xs)
    return float(steps.min()) if len(steps) else 1.0


def summarise_sweep(records, axis, metric="loss"):
    """Per label: the optimum at every axis value and the drift from the
    smallest to the largest axis value in grid steps."""
    step = grid_step(records)
    summary = {"axis": axis, "metric": metric, "grid_step": step,
               "series": {}}
    per_seed = seed_values(records, axis, metric)
    for lab, by_value in curves(records, axis, metric).items():
        rows = []
        for value, points in by_value.items():
            opt = optimum(points)
            if opt is None:
                continue
            best = min(p[1] for p in points)
            rows.append({axis: value, "argmin": opt[0], "vertex": opt[1],
                         "at_edge": opt[2], "best_loss": best,
                         "runs": sum(p[3] for p in points),
                         "diverged": sum(p[4] for p in points)})
        entry = {"optima": rows}
        if len(rows) >= 2:
            entry["argmin_drift_steps"] = (rows[-1]["argmin"]
                                           - rows[0]["argmin"]) / step
            entry["vertex_drift_steps"] = (rows[-1]["vertex"]
                                           - rows[0]["vertex"]) / step
            entry["max_vertex_spread_steps"] = (
                max(r["vertex"] for r in rows)
                - min(r["vertex"] for r in rows)) / step
            entry["vertex_drift_sd_steps"] = vertex_drift_sd(
                per_seed[lab], rows[0][axis], rows[-1][axis], step)
        summary["series"][lab] = entry
    return summary


TELEMETRY = ("update_norm", "relative_update", "angle")


def summarise_telemetry(records, summary):
    """Per series: the update sizes per step (mean over seeds) of the runs
    at the series' grid optimum (its first axis value), the final loss
    there, and the same sizes at every grid value for the table."""
    out = {}
    for lab, entry in summary["series"].items():
        if not entry["optima"]:
            continue
        row = entry["optima"][0]
        axis = summary["axis"]
        runs = [r for r in records if label(r) == lab and "telemetry" in r
                and r[axis] == row[axis]]
        by_x = defaultdict(list)
        for r in runs:
            by_x[r["log2_value"]].append(r)
        if not by_x:
            continue
        per_x = {}
        for x, rs in sorted(by_x.items()):
            sizes = {}
            for key in TELEMETRY:
                cols = [r["telemetry"][key] for r in rs]
                steps = min(len(c) for c in cols)
                sizes[key] = [float(np.mean([c[t] for c in cols
                                             if c[t] is not None]))
                              if any(c[t] is not None for c in cols)
                              else None for t in range(steps)]
            per_x[x] = sizes
        out[lab] = {"optimum": row["argmin"], "best_loss": row["best_loss"],
                    "diverged": row["diverged"], "runs": row["runs"],
                    "by_value": per_x}
    return out


def telemetry_table(telemetry, steps=(1, 2, 5, 10, 20, 40)):
    """Markdown: per series, the final loss at the optimum and the angular
    and relative update size at a few early steps there."""
    lines = ["| series | best log2 value | best loss | angle (mrad) at t=%s "
             "| ‖dw‖/‖w‖ (x1e-3) at t=%s |" % (
                 ",".join(map(str, steps)), ",".join(map(str, steps))),
             "| --- | --- | --- | --- | --- |"]
    for lab, entry in telemetry.items():
        sizes = entry["by_value"].get(entry["optimum"])
        if sizes is None:
            continue

        def cells(key):
            col = sizes[key]
            return " / ".join("%.2f" % (1e3 * col[t - 1])
                              if t <= len(col) and col[t - 1] is not None
                              else "-" for t in steps)
        lines.append("| %s | %g | %.4f | %s | %s |" % (
            lab, entry["optimum"], entry["best_loss"], cells("angle"),
            cells("relative_update")))
    return "\n".join(lines) + "\n"


def slope(xs, ys):
    """Least-squares slope of log2 y against log2 x."""
    lx, ly = np.log2(np.asarray(xs, float)), np.log2(np.asarray(ys, float))
    return float(np.polyfit(lx, ly, 1)[0])


def summarise_coord(records, axis):
    """Per label, layer and step: the mean coordinate size over seeds at
    every axis value, and the log-log slope against the axis.

    ``act`` is the RMS of a layer's output on the probe batch after t
    steps, ``delta`` the RMS of its change since init (TP5's coordinate
    check, x_t - x_0)."""
    grouped = defaultdict(lambda: defaultdict(list))
    for r in records:
        if "coord" in r:
            grouped[label(r)][r[axis]].append(r)
    summary = {"axis": axis, "series": {}}
    for lab, by_value in grouped.items():
        values = sorted(by_value)
        layers = None
        for v in values:
            names = set(by_value[v][0]["coord"]["act"])
            layers = names if layers is None else layers & names
        first = by_value[values[0]][0]["coord"]
        order = first.get("layers") or list(first["act"])
        layers = [n for n in order if n in layers]
        entry = {"values": values, "layers": {}}
        for name in layers:
            per = {}
            for kind in ("act", "delta"):
                sizes = []
                for v in values:
                    runs = [r["coord"][kind][name] for r in by_value[v]]
                    steps = min(len(x) for x in runs)
                    sizes.append(np.mean([x[:steps] for x in runs], axis=0))
                steps = min(len(s) for s in sizes)
                table = np.array([s[:steps] for s in sizes])  # value x step
                slopes = []
                for t in range(steps):
                    col = table[:, t]
                    slopes.append(slope(values, col)
                                  if np.all(col > 0) and len(values) > 1
                                  else None)
                per[kind] = {"sizes": table.tolist(), "slopes": slopes}
            entry["layers"][name] = per
        summary["series"][lab] = entry
    return summary


def sweep_table(summary):
    """Markdown: the optimum at each axis value, per series."""
    axis = summary["axis"]
    lines = ["| series | %s | best log2 value (grid) | quadratic vertex | "
             "best loss | runs | diverged |" % axis,
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for lab, entry in summary["series"].items():
        for row in entry["optima"]:
            lines.append("| %s | %s | %g%s | %.2f | %.4f | %d | %d |" % (
                lab, _fmt(row[axis]), row["argmin"],
                " (edge)" if row["at_edge"] else "", row["vertex"],
                row["best_loss"], row["runs"], row["diverged"]))
    lines.append("")
    lines.append("| series | drift of the grid optimum (steps) | drift of the "
                 "quadratic vertex (steps) | spread of the vertex (steps) | "
                 "s.d. of the vertex drift, seed bootstrap (steps) |")
    lines.append("| --- | --- | --- | --- | --- |")
    for lab, entry in summary["series"].items():
        if "argmin_drift_steps" in entry:
            lines.append("| %s | %+g | %+.2f | %.2f | %.2f |" % (
                lab, entry["argmin_drift_steps"], entry["vertex_drift_steps"],
                entry["max_vertex_spread_steps"],
                entry["vertex_drift_sd_steps"]))
    return "\n".join(lines) + "\n"


def coord_table(summary, kind="delta"):
    """Markdown: the slope of every layer at every step, per series."""
    lines = []
    for lab, entry in summary["series"].items():
        layers = entry["layers"]
        if not layers:
            continue
        steps = max(len(v[kind]["slopes"]) for v in layers.values())
        lines.append("| %s: %s slope vs %s | %s |" % (
            lab, kind, summary["axis"],
            " | ".join("t=%d" % t for t in range(steps))))
        lines.append("| --- |" + " --- |" * steps)
        for name, per in layers.items():
            cells = ["%+.3f" % s if s is not None else "-"
                     for s in per[kind]["slopes"]]
            lines.append("| %s | %s |" % (name, " | ".join(cells)))
        lines.append("")
    return "\n".join(lines)


def _fmt(v):
    return "%g" % v if isinstance(v, float) else str(v)
