"""Figures in the style of TP5 Figures 1 and 3 (matplotlib, Agg): loss
against log2 of the swept hyperparameter, one curve per width (depth, batch,
duration) and one panel per scheme; the optimum against the axis; the
coordinate check (activation size and its change since init against width,
per step) and its fitted slopes."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .analysis import curves  # noqa: E402

AXIS_NAMES = {"width": "width", "depth": "depth", "batch": "batch",
              "tokens_mult": "tokens (x base)"}


def _colours(n):
    return plt.cm.viridis(np.linspace(0.05, 0.9, max(n, 1)))


def plot_sweep(records, summary, path, hparam="lr", metric="loss",
               title=None):
    """Loss against log2(hparam), one panel per series (rows of at most
    three), one curve per axis value; dots mark each curve's grid optimum,
    crosses diverged runs."""
    axis = summary["axis"]
    data = curves(records, axis, metric)
    labels = list(data)
    cols = min(len(labels), 3)
    rows = -(-len(labels) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows),
                             squeeze=False, sharey=True)
    axes = grid.flatten()
    for ax in axes[len(labels):]:
        ax.set_visible(False)
    finite = [p[1] for lab in labels for pts in data[lab].values()
              for p in pts if p[4] < p[3]]
    low = min(finite) if finite else 0
    high = np.percentile(finite, 75) if finite else 1
    for ax, lab in zip(axes, labels):
        by_value = data[lab]
        for colour, (value, points) in zip(_colours(len(by_value)),
                                           by_value.items()):
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            ax.plot(xs, ys, "-", color=colour, lw=1.4,
                    label="%s %g" % (AXIS_NAMES[axis], value))
            sd = np.array([p[2] for p in points])
            ax.fill_between(xs, np.array(ys) - sd, np.array(ys) + sd,
                            color=colour, alpha=0.15, lw=0)
            div = [(p[0], p[1]) for p in points if p[4]]
            if div:
                ax.plot(*zip(*div), "x", color=colour, ms=5)
            row = next((r for r in summary["series"][lab]["optima"]
                        if r[axis] == value), None)
            if row:
                ax.plot([row["argmin"]], [min(ys)], "o", color=colour, ms=5)
        ax.set_title(lab, fontsize=9)
        ax.set_xlabel("log2 %s" % hparam)
        ax.grid(alpha=0.3)
        ax.set_ylim(low - 0.05 * (high - low + 1e-3),
                    high + 0.6 * (high - low + 1e-3))
    for row in grid:
        row[0].set_ylabel("held-out loss" if metric == "loss"
                          else "training loss")
    axes[len(labels) - 1].legend(fontsize=7, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_optimum(summary, path, hparam="lr"):
    """The optimum's log2 value (grid argmin and quadratic vertex) against
    the axis, per series."""
    axis = summary["axis"]
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    for colour, (lab, entry) in zip(_colours(len(summary["series"])),
                                    summary["series"].items()):
        rows = entry["optima"]
        xs = [r[axis] for r in rows]
        ax.plot(xs, [r["vertex"] for r in rows], "-o", color=colour, ms=4,
                label="%s (vertex)" % lab)
        ax.plot(xs, [r["argmin"] for r in rows], "s", color=colour, ms=6,
                mfc="none")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(AXIS_NAMES[axis])
    ax.set_ylabel("optimal log2 %s" % hparam)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_coord(summary, path, kind="delta", max_steps=6):
    """TP5-style coordinate check: per series (rows) and step (columns),
    each layer's coordinate size against the axis on log-log axes."""
    axis = summary["axis"]
    series = [(lab, e) for lab, e in summary["series"].items() if e["layers"]]
    steps = min(max_steps, max(len(next(iter(e["layers"].values()))[kind][
        "sizes"][0]) for _, e in series))
    first = 1 if kind == "delta" else 0
    cols = steps - first
    fig, axes = plt.subplots(len(series), cols,
                             figsize=(2.3 * cols, 2.1 * len(series)),
                             squeeze=False, sharey="row")
    for row, (lab, entry) in enumerate(series):
        layers = list(entry["layers"])
        colours = _colours(len(layers))
        for c in range(cols):
            t = c + first
            ax = axes[row][c]
            for colour, name in zip(colours, layers):
                sizes = np.array(entry["layers"][name][kind]["sizes"])
                if t < sizes.shape[1]:
                    ax.plot(entry["values"], sizes[:, t], "-o", ms=2.5,
                            color=colour, label=name)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title("%s, t=%d" % (lab, t), fontsize=7)
            ax.tick_params(labelsize=6)
            if row == len(series) - 1:
                ax.set_xlabel(AXIS_NAMES[axis], fontsize=7)
        axes[row][0].set_ylabel("rms(x_t - x_0)" if kind == "delta"
                                else "rms(x_t)", fontsize=7)
        # At least a factor 16 top to bottom, so that a flat line (slope 0)
        # looks flat and a slope of 1 over 16x does not fill the panel.
        low, high = axes[row][0].get_ylim()
        if high / low < 16:
            middle = (low * high) ** 0.5
            axes[row][0].set_ylim(middle / 4, middle * 4)
    axes[0][-1].legend(fontsize=5, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_slopes(summary, path, kind="delta"):
    """The fitted log-log slope of every layer against the step, per
    series; the band is |slope| <= 0.05."""
    series = [(lab, e) for lab, e in summary["series"].items() if e["layers"]]
    fig, axes = plt.subplots(1, len(series), figsize=(3.6 * len(series), 3),
                             squeeze=False, sharey=True)
    for ax, (lab, entry) in zip(axes[0], series):
        layers = list(entry["layers"])
        for colour, name in zip(_colours(len(layers)), layers):
            slopes = entry["layers"][name][kind]["slopes"]
            ts = [t for t, s in enumerate(slopes) if s is not None]
            ax.plot(ts, [slopes[t] for t in ts], "-o", ms=3, color=colour,
                    label=name)
        ax.axhspan(-0.05, 0.05, color="grey", alpha=0.2)
        ax.set_title(lab, fontsize=9)
        ax.set_xlabel("step t")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("log-log slope vs %s" % AXIS_NAMES[summary["axis"]])
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_telemetry(telemetry, path):
    """The early update sizes at each series' optimum: the mean angular
    update of the weight matrices and ||dw|| / ||w|| against the step
    (the warmup paper's view), one curve per series."""
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.4))
    for colour, (lab, entry) in zip(_colours(len(telemetry)),
                                    telemetry.items()):
        sizes = entry["by_value"].get(entry["optimum"])
        if sizes is None:
            continue
        for ax, key in zip(axes, ("angle", "relative_update")):
            ys = [np.nan if y is None else y for y in sizes[key]]
            ax.plot(range(1, len(ys) + 1), ys, "-", color=colour, lw=1.4,
                    label="%s (2^%g)" % (lab, entry["optimum"]))
    axes[0].set_ylabel("angular update (rad), matrices")
    axes[1].set_ylabel("||dw|| / ||w||, matrices")
    for ax in axes:
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
