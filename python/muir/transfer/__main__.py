"""python3 -m muir.transfer: coordinate checks and hyperparameter sweeps
through muir packages. Run with --help."""

import argparse
import json
import math
import os
import signal
import sys

from . import analysis
from .data import DataError
from .cards import FAMILIES
from .runner import Interrupted, RunError, run_grid

DESCRIPTION = """\
Does a hyperparameter tuned on a small model stay optimal on a wide, deep
one? muir.transfer trains a grid of models through muir packages (muirc
builds one per shape and scheme: init, forward multipliers and the fused
optimizer step come from the package; torch runs forward and backward on
views of its flat buffers) and writes what it finds to --out:

  results.jsonl  one line per run, appended as runs finish (a second
                 invocation skips the runs already there: resumable)
  results.md     the table: optimum per series and axis value, its drift;
                 or the coordinate-check slopes per layer and step
  summary.json   the same numbers for scripts
  *.png          sweep.png (loss against log2 of the hyperparameter, one
                 curve per width, depth, batch or duration, one panel per
                 scheme; TP5 Figures 1 and 3), optimum.png; coord-delta.png,
                 coord-act.png and slopes.png for coordinate checks

Exactly one of --widths, --depths, --batches, --durations has several
values: that is the axis. A diverged run (non-finite loss, or above
--diverge-factor times its first) is recorded as a result.

Subcommands:
  coord-check  a few steps per width (or depth) at one learning rate: the
               size of every layer's output and of its change since init,
               and their log-log slopes (0 under muP)
  sweep        full training runs over a log2 grid of a base hyperparameter
               (learning rate by default) at every axis value
  report       redraw the table and figures of an existing --out
"""

EXAMPLES = """\
examples:
  # muP vs PyTorch's SP: width transfer of the learning rate, Fashion-MNIST
  python3 -m muir.transfer sweep --model mlp --schemes sp-pytorch,mup \\
      --widths 64,128,256,512,1024 --log2-values=-14:-4 --seeds 3 \\
      --steps 300 --out runs/mlp-width
  python3 -m muir.transfer coord-check --model mlp --schemes sp-pytorch,mup \\
      --widths 64,128,256,512,1024 --out runs/mlp-coord
  # your own torch module: make(width, depth) -> nn.Module, forward(x, y) -> loss
  python3 -m muir.transfer coord-check --model-factory mymodels.py:make \\
      --widths 64,256,1024 --out runs/mine
  # depth: CompleteP (alpha 1), depth-muP (alpha 1/2), muP, byte-level GPT
  python3 -m muir.transfer sweep --model gpt --schemes mup-table8,depth-mup,completep \\
      --depths 2,4,8,16 --widths 64 --out runs/gpt-depth
"""


def _ints(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected integers separated by commas, got %r" % text)
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(
            "expected positive integers, got %r" % text)
    return values


def _floats(text):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected numbers separated by commas, got %r" % text)
    if not values or any(not (v > 0 and math.isfinite(v)) for v in values):
        raise argparse.ArgumentTypeError(
            "expected positive numbers, got %r" % text)
    return values


def _log2_grid(text):
    """'A:B[:STEP]' (inclusive) or a comma list of log2 values."""
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            lo, hi = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1.0
            if step <= 0 or hi < lo or (hi - lo) / step > 64:
                raise ValueError
            count = int(round((hi - lo) / step)) + 1
            return [lo + i * step for i in range(count)]
        values = [float(v) for v in text.split(",") if v.strip()]
        if not values or not all(math.isfinite(v) for v in values):
            raise ValueError
        return sorted(set(values))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected a log2 grid 'LOW:HIGH[:STEP]' (at most 65 points) or "
            "values separated by commas, got %r" % text) from None


def _schemes(text):
    out = []
    for item in text.split(","):
        name, _, alpha = item.strip().partition("@")
        if not name:
            raise argparse.ArgumentTypeError("empty scheme in %r" % text)
        out.append((name, alpha or None))
    return out


def _parser():
    parser = argparse.ArgumentParser(
        prog="python3 -m muir.transfer", description=DESCRIPTION,
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p):
        g = p.add_argument_group("model and data")
        g.add_argument("--model", choices=sorted(FAMILIES), default="mlp",
                       help="card family: mlp (plain), rmlp (residual mlp), "
                       "gpt, llama (default mlp)")
        g.add_argument("--model-factory", metavar="MODULE:FUNCTION",
                       help="a torch module instead of a card family: "
                       "FUNCTION(width, depth) -> nn.Module whose forward("
                       "inputs, targets) returns the loss (MODULE importable "
                       "or a FILE.py); muir.torch imports and binds it")
        g.add_argument("--dataset", choices=["fashion-mnist", "bytes"],
                       help="default: fashion-mnist for mlp/rmlp, bytes for "
                       "gpt/llama")
        g.add_argument("--data-dir", help="the data set's directory or "
                       "corpus file (default /usr/share/datasets/fashion-mnist"
                       " or /usr/share/games/fortunes)")
        g.add_argument("--seq-len", type=int, default=64,
                       help="transformers: context (default 64)")
        g.add_argument("--d-head", type=int, default=16,
                       help="transformers: head size; width grows by heads "
                       "(default 16)")
        g.add_argument("--ff-mult", type=float, default=4.0,
                       help="transformers: d_ff / d_model (default 4)")
        g = p.add_argument_group("grid (one axis varies)")
        g.add_argument("--widths", type=_ints, default=None,
                       help="d_hidden or d_model values, e.g. 64,128,256")
        g.add_argument("--depths", type=_ints, default=None,
                       help="blocks (n_layer) values")
        g.add_argument("--batches", type=_ints, default=None,
                       help="batch sizes")
        g.add_argument("--durations", type=_floats, default=None,
                       help="training tokens as multiples of the base run's")
        g.add_argument("--base-width", type=int, help="default: smallest width")
        g.add_argument("--base-depth", type=int, help="default: smallest depth")
        g.add_argument("--base-batch", type=int,
                       help="default: smallest batch")
        g.add_argument("--seeds", type=int, default=3,
                       help="seeds 0..N-1 per grid point (default 3)")
        g = p.add_argument_group("parametrisation and optimizer")
        g.add_argument("--schemes", type=_schemes,
                       default=_schemes("sp-pytorch,mup"),
                       help="comma list of muirc schemes, NAME[@ALPHA] "
                       "(default sp-pytorch,mup)")
        g.add_argument("--optimizer", default="adamw")
        g.add_argument("--init-std", default="fan-in",
                       help="muirc --init-std (default fan-in: PyTorch's "
                       "1/sqrt(fan_in) at the base)")
        g.add_argument("--zero-readout", action="store_true",
                       help="zero the readout weight after muir's init (TP5 "
                       "App. D.2), under every scheme")
        g.add_argument("--weight-decay", type=float, default=0.0)
        g.add_argument("--multipliers", metavar="FILE.json",
                       help="muirc --multipliers: per-module factors, e.g. "
                       "{\"modules\": {\"wte\": {\"weight_decay\": 0}}} "
                       "(docs/Parametrization.md)")
        g.add_argument("--eps", type=float, default=1e-8)
        g.add_argument("--beta1", type=float, default=0.9)
        g.add_argument("--beta2", type=float, default=0.999)
        g = p.add_argument_group("training")
        g.add_argument("--batch", type=int, default=None,
                       help="batch size when --batches is not given "
                       "(default 128 mlp, 32 transformers)")
        g.add_argument("--schedule", choices=["constant", "cosine", "linear"],
                       default="cosine")
        g.add_argument("--warmup", type=int, default=0,
                       help="linear warmup steps (default 0)")
        g.add_argument("--eval-count", type=int, default=None,
                       help="held-out examples or windows (default 2000 "
                       "images, 64 windows)")
        g.add_argument("--diverge-factor", type=float, default=3.0)
        g.add_argument("--telemetry-steps", type=int, default=0,
                       help="record the update sizes of the first N steps "
                       "(||dw||, ||dw||/||w||, angular update) from the "
                       "step kernel's telemetry (default 0)")
        g = p.add_argument_group("execution")
        g.add_argument("--out", required=True, help="output directory")
        g.add_argument("--jobs", type=int, default=1,
                       help="parallel training processes (default 1)")
        g.add_argument("--threads", type=int, default=1,
                       help="torch threads per process (default 1)")
        g.add_argument("--quiet", action="store_true")

    p = sub.add_parser("sweep", help="loss over a log2 grid of a base "
                       "hyperparameter at every axis value",
                       description=DESCRIPTION, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    common(p)
    p.add_argument("--hparam", choices=["lr", "init", "wd"], default="lr",
                   help="what the log2 grid sweeps: the base learning rate "
                   "(default), the fan-in init gain or the weight decay")
    p.add_argument("--log2-values", type=_log2_grid,
                   default=_log2_grid("-12:-4"),
                   help="log2 grid, LOW:HIGH[:STEP] or a comma list "
                   "(default -12:-4); write --log2-values=-12:-4")
    p.add_argument("--lr", type=float, default=2 ** -8,
                   help="base learning rate when --hparam is not lr")
    p.add_argument("--steps", type=int, default=300,
                   help="training steps of the base run (default 300)")
    p.add_argument("--metric", choices=["loss", "train_loss"],
                   default="loss", help="held-out loss (default) or the "
                   "mean training loss of the last 10%% of steps")

    p = sub.add_parser("coord-check", help="coordinate sizes per layer "
                       "against width or depth over the first steps",
                       description=DESCRIPTION, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    common(p)
    p.add_argument("--lr", type=float, default=2 ** -6,
                   help="base learning rate (default 2^-6; use a large one)")
    p.add_argument("--steps", type=int, default=5,
                   help="steps to follow (default 5)")
    p.add_argument("--probe", type=int, default=256,
                   help="held-out examples the sizes are measured on")

    p = sub.add_parser("train", help="one run with an existing package: "
                       "print its loss at every step (what a C trainer is "
                       "compared with)")
    p.add_argument("--package", required=True, help="muirc package -o DIR")
    p.add_argument("--model", choices=sorted(FAMILIES), default="mlp")
    p.add_argument("--dataset", choices=["fashion-mnist", "bytes"])
    p.add_argument("--data-dir")
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1.0,
                   help="factor on the package's per-tensor rates")
    p.add_argument("--schedule", choices=["constant", "cosine", "linear"],
                   default="cosine")
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--zero-readout", action="store_true")
    p.add_argument("--eval-count", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("report", help="redraw results.md, summary.json and "
                       "the figures of an --out directory")
    p.add_argument("--out", required=True)
    p.add_argument("--metric", choices=["loss", "train_loss"],
                   default="loss")
    return parser


def _grid(args, sweep):
    transformer = args.model in ("gpt", "llama")
    dataset = args.dataset or ("bytes" if transformer else "fashion-mnist")
    factory = args.model_factory
    if factory:
        if args.model != "mlp":
            raise RunError("--model-factory replaces --model %s: give one"
                           % args.model)
        from . import factory as factory_mod
        factory_mod.load(factory)  # a bad name fails before any run
    elif transformer and dataset != "bytes":
        raise RunError("--model %s trains on --dataset bytes" % args.model)
    elif not transformer and dataset != "fashion-mnist":
        raise RunError("--model %s trains on --dataset fashion-mnist"
                       % args.model)
    widths = args.widths or [64]
    depths = args.depths or [1 if not transformer else 2]
    batches = args.batches or [args.batch or (32 if transformer else 128)]
    durations = args.durations or [1.0]
    varying = [n for n, v in (("--widths", widths), ("--depths", depths),
                              ("--batches", batches),
                              ("--durations", durations)) if len(v) > 1]
    if len(varying) > 1:
        raise RunError("vary one axis at a time (%s all have several values)"
                       % ", ".join(varying))
    axis = {"--widths": "width", "--depths": "depth", "--batches": "batch",
            "--durations": "tokens_mult"}[varying[0]] if varying else "width"
    if args.model == "mlp" and not factory and any(s in ("depth-mup", "completep",
                                         "completedp") for s, _ in
                                   args.schemes) and len(depths) > 1:
        raise RunError("depth schemes need residual blocks: use --model rmlp")
    if factory:
        shape = ({"seq_len": args.seq_len} if dataset == "bytes"
                 else {"d_in": 784, "classes": 10})
    elif transformer:
        shape = {"vocab": 256, "seq_len": args.seq_len, "d_head": args.d_head,
                 "ff_mult": args.ff_mult}
        bad = [w for w in widths + [args.base_width or min(widths)]
               if w % args.d_head]
        if bad:
            raise RunError("width %d is not a multiple of --d-head %d"
                           % (bad[0], args.d_head))
    else:
        shape = {"d_in": 784, "classes": 10}
    for name in ("seeds", "jobs", "threads", "steps"):
        if getattr(args, name) < 1:
            raise RunError("--%s must be at least 1" % name)
    base = {
        "model": args.model, "dataset": dataset, "data_dir": args.data_dir,
        "shape": shape, "optimizer": args.optimizer,
        "compiled_lr": 1.0, "init_std": args.init_std,
        "weight_decay": args.weight_decay, "eps": args.eps,
        "beta1": args.beta1, "beta2": args.beta2,
        "base_width": args.base_width or min(widths),
        "base_depth": args.base_depth or min(depths),
        "base_batch": args.base_batch or min(batches),
        "base_steps": args.steps, "schedule": args.schedule,
        "warmup": args.warmup, "diverge_factor": args.diverge_factor,
        "eval_count": args.eval_count or (64 if transformer else 2000),
        "threads": args.threads, "zero_readout": args.zero_readout,
    }
    if factory:  # absent otherwise: older results keep their keys
        base.update(model="factory", factory=factory)
    if args.multipliers:  # absent otherwise: older results keep their keys
        try:
            with open(args.multipliers) as f:
                base["multipliers"] = json.load(f)
        except (OSError, ValueError) as e:
            raise RunError("--multipliers %s: %s" % (args.multipliers, e))
    if args.telemetry_steps < 0:
        raise RunError("--telemetry-steps must not be negative")
    if args.telemetry_steps:  # absent otherwise: older results keep their keys
        base["telemetry_steps"] = args.telemetry_steps
    if sweep:
        hparam, grid = args.hparam, args.log2_values
    else:
        hparam, grid = "lr", [math.log2(args.lr)]
        base.update({"coord_steps": args.steps, "coord_only": True,
                     "probe": args.probe})
    specs = []
    for scheme, alpha in args.schemes:
        for width in widths:
            for depth in depths:
                for batch in batches:
                    for tokens in durations:
                        for x in grid:
                            for seed in range(args.seeds):
                                spec = dict(base, scheme=scheme, alpha=alpha,
                                            width=width, depth=depth,
                                            batch=batch, tokens_mult=tokens,
                                            seed=seed, hparam=hparam,
                                            log2_value=x,
                                            lr=2.0 ** x if hparam == "lr"
                                            else args.lr)
                                if hparam == "init":
                                    spec["init_std"] = "fan-in:%r" % 2.0 ** x
                                if hparam == "wd":
                                    spec["weight_decay"] = 2.0 ** x
                                specs.append(spec)
    return specs, axis


def write_outputs(out, records, axis=None, metric="loss", quiet=False):
    """results.md, summary.json and the figures, from `records`."""
    from . import plots
    if axis is None:
        axis = next((a for a in analysis.AXES
                     if len({r[a] for r in records}) > 1), "width")
    coord = [r for r in records if "coord" in r]
    sweep = [r for r in records if "coord" not in r]
    summary, text = {}, []
    if sweep:
        s = analysis.summarise_sweep(sweep, axis, metric)
        summary["sweep"] = s
        hparam = sweep[0]["hparam"]
        text += ["## Sweep: %s, %s over log2 %s" % (
            sweep[0]["model"], axis, hparam), "",
            analysis.sweep_table(s)]
        plots.plot_sweep(sweep, s, os.path.join(out, "sweep.png"), hparam,
                         metric)
        plots.plot_optimum(s, os.path.join(out, "optimum.png"), hparam)
        if any("telemetry" in r for r in sweep):
            tel = analysis.summarise_telemetry(sweep, s)
            summary["telemetry"] = tel
            text += ["## Update sizes at each series' optimum (step "
                     "telemetry)", "", analysis.telemetry_table(tel)]
            plots.plot_telemetry(tel, os.path.join(out, "telemetry.png"))
    if coord:
        c = analysis.summarise_coord(coord, axis)
        summary["coord"] = c
        text += ["## Coordinate check: %s against %s" % (
            coord[0]["model"], axis), "",
            "Slope of log2 rms(x_t - x_0) against log2 %s:" % axis, "",
            analysis.coord_table(c, "delta"),
            "Slope of log2 rms(x_t):", "", analysis.coord_table(c, "act")]
        plots.plot_coord(c, os.path.join(out, "coord-delta.png"), "delta")
        plots.plot_coord(c, os.path.join(out, "coord-act.png"), "act")
        plots.plot_slopes(c, os.path.join(out, "slopes.png"), "delta")
    seconds = sum(r.get("seconds", 0) for r in records)
    cpu = sum(r.get("cpu_seconds", 0) for r in records)
    text.append("%d runs, %.0f s wall in runs, %.0f s CPU\n"
                % (len(records), seconds, cpu))
    summary["compute"] = {"runs": len(records), "seconds": seconds,
                          "cpu_seconds": cpu}
    tmp = os.path.join(out, "summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=1)
    os.replace(tmp, os.path.join(out, "summary.json"))
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(text))
    if not quiet:
        print("\n".join(text))
    return summary


def _train_one(args):
    """The train subcommand: one run, every loss printed."""
    from .runner import train
    transformer = args.model in ("gpt", "llama")
    if args.steps < 1 or args.batch < 1:
        raise RunError("--steps and --batch must be at least 1")
    if not os.path.exists(os.path.join(args.package, "manifest.json")):
        raise RunError("%s: not a package (no manifest.json); build one with "
                       "muirc package -o" % args.package)
    spec = {
        "model": args.model, "data_dir": args.data_dir,
        "dataset": args.dataset or ("bytes" if transformer
                                    else "fashion-mnist"),
        "shape": {"seq_len": args.seq_len} if transformer else {},
        "seed": args.seed, "batch": args.batch, "base_batch": args.batch,
        "base_steps": args.steps, "tokens_mult": 1.0, "hparam": "lr",
        "lr": args.lr, "schedule": args.schedule, "warmup": args.warmup,
        "diverge_factor": float("inf"), "eval_count": args.eval_count,
        "threads": args.threads, "zero_readout": args.zero_readout,
        "coord_only": args.eval_count == 0,
    }
    record = train(spec, args.package)
    for t, loss in enumerate(record["losses"], start=1):
        print("step %d loss %.9g" % (t, loss))
    if record["diverged"]:
        print("diverged")
    elif record["loss"] is not None:
        print("held-out loss %.9g" % record["loss"])
    return 0


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        if args.command == "train":
            return _train_one(args)
        if args.command == "report":
            from .runner import read_results
            records = [r for r in read_results(
                os.path.join(args.out, "results.jsonl")) if "key" in r]
            if not records:
                raise RunError("%s: no results.jsonl records to report"
                               % args.out)
            write_outputs(args.out, records, metric=args.metric)
            return 0
        specs, axis = _grid(args, args.command == "sweep")
        records, errors = run_grid(specs, args.out, args.jobs, args.quiet)
        for spec, record in errors:
            print("error: %s\n%s" % (record["error"], record["traceback"]),
                  file=sys.stderr)
        if records:
            write_outputs(args.out, records, axis,
                          getattr(args, "metric", "loss"), args.quiet)
        if errors:
            print("%d of %d runs failed (not recorded; a rerun retries them)"
                  % (len(errors), len(specs)), file=sys.stderr)
            return 1
        return 0
    except (RunError, DataError) as e:
        print("muir.transfer: error: %s" % e, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted) as e:
        signum = getattr(e, "signum", signal.SIGINT)
        print("muir.transfer: stopped by %s; the runs recorded so far stay "
              "in results.jsonl (rerun to resume)"
              % signal.Signals(signum).name, file=sys.stderr)
        return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
