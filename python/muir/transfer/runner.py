"""Runs a grid of training runs through muir packages: one package per model
shape and scheme (built by muirc), one process per run, results appended to
a JSONL file as they finish.

A run is a dict (its *spec*) of plain values; its key is the spec's
canonical JSON, so a second invocation on the same output directory skips
every run already recorded (resuming an interrupted sweep) and adds the
rest. A diverged run (a non-finite loss, or one above ``diverge_factor``
times its first) is a result: it is recorded with ``diverged: true``.
"""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from . import data as data_mod
from .cards import make_card

#: Spec keys that change the package (everything else is run-time).
PACKAGE_KEYS = ("model", "width", "depth", "batch", "shape", "base_width",
                "base_depth", "base_batch", "scheme", "alpha", "optimizer",
                "compiled_lr", "init_std", "weight_decay", "eps", "beta1",
                "beta2", "tokens_mult")


#: Seconds a muirc package may take (an MLP or small GPT takes about one).
MUIRC_TIMEOUT = 600


class RunError(Exception):
    """A problem with the grid, the tools or the output directory."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached the parent of a grid: the pool's workers
    were terminated and every record written so far is whole."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: The signals that stop a grid.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_key(spec):
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def find_muirc():
    """muirc from $MUIR_MUIRC, else <repo>/build/bin, else PATH."""
    env = os.environ.get("MUIR_MUIRC")
    if env:
        if not os.access(env, os.X_OK):
            raise RunError("MUIR_MUIRC=%s is not an executable" % env)
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "..", "build", "bin", "muirc")
    if os.access(built, os.X_OK):
        return os.path.normpath(built)
    found = shutil.which("muirc")
    if found:
        return found
    raise RunError("muirc not found: build the repository (scripts/setup.sh), "
                   "put muirc on PATH or set MUIR_MUIRC")


def steps_of(spec):
    """Training steps: the base run's, times the token ratio, divided by
    the batch ratio (Complete^(d)P's T ~ m_D / m_B)."""
    return max(1, round(spec["base_steps"] * spec["tokens_mult"]
                        * spec["base_batch"] / spec["batch"]))


def package_dir(out, spec):
    key = {k: spec[k] for k in PACKAGE_KEYS + ("factory", "multipliers")
           if k in spec}
    digest = hashlib.sha1(run_key(key).encode()).hexdigest()[:16]
    return os.path.join(out, "packages", digest)


def build_package(out, spec, muirc):
    """Builds (once) the package a spec trains with; returns its directory."""
    path = package_dir(out, spec)
    if os.path.exists(os.path.join(path, "manifest.json")):
        import muir
        try:
            muir.Package(path)
            return path
        except muir.Error:
            pass  # built by an older muirc (another ABI): build it anew
    os.makedirs(os.path.dirname(path), exist_ok=True)
    base_tokens = spec["base_batch"] * spec["base_steps"]
    flags = ["--scheme", spec["scheme"], "--optimizer", spec["optimizer"],
             "--lr", repr(spec["compiled_lr"]), "--init-std",
             spec["init_std"], "--weight-decay", repr(spec["weight_decay"]),
             "--eps", repr(spec["eps"]), "--beta1", repr(spec["beta1"]),
             "--beta2", repr(spec["beta2"]), "--batch", str(spec["batch"]),
             "--base-batch", str(spec["base_batch"]), "--tokens",
             repr(base_tokens * spec["tokens_mult"]), "--base-tokens",
             str(base_tokens), "--no-gpu"]
    if spec["alpha"] is not None:
        flags += ["--alpha", str(spec["alpha"])]
    if spec.get("multipliers"):  # the file's content is part of the spec
        factors = path + ".multipliers.json"
        with open(factors, "w") as f:
            json.dump(spec["multipliers"], f)
        flags += ["--multipliers", factors]
    if spec.get("factory"):
        import torch
        from . import factory
        x, y = _dataset(spec).batch(0, 0, spec["batch"])
        factory.build_package(path, spec, muirc,
                              (torch.from_numpy(x), torch.from_numpy(y)),
                              # muir.torch adds the scheme and --no-gpu
                              [f for f in flags[4:] if f != "--no-gpu"])
        return path
    cards = {}
    for which, (w, d, b) in {
            "target": (spec["width"], spec["depth"], spec["batch"]),
            # The card's batch is a fixed dim (base and target agree); the
            # batch ratio reaches muirc as --batch/--base-batch.
            "base": (spec["base_width"], spec["base_depth"],
                     spec["batch"])}.items():
        card = make_card(spec["model"], w, d, b, spec["shape"])
        cards[which] = path + "." + which + ".json"
        with open(cards[which], "w") as f:
            json.dump(card, f)
    args = [muirc, "package", "--card", cards["target"], "--base-card",
            cards["base"]] + flags + ["-o", path]
    try:
        proc = subprocess.run(args, capture_output=True, text=True,
                              timeout=MUIRC_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RunError("muirc package took over %d s for %s width %d depth "
                       "%d under %s" % (MUIRC_TIMEOUT, spec["model"],
                                        spec["width"], spec["depth"],
                                        spec["scheme"])) from None
    finally:
        for which in cards.values():
            os.unlink(which)
    if proc.returncode != 0:
        raise RunError("muirc package failed for %s width %d depth %d under "
                       "%s:\n%s" % (spec["model"], spec["width"],
                                    spec["depth"], spec["scheme"],
                                    proc.stderr.strip()))
    return path


def schedule(spec, t, steps):
    """The LR factor at step t (from 1): linear warmup over `warmup` steps,
    then constant, cosine or linear decay to 0 at the end."""
    import math
    warmup = spec["warmup"]
    if warmup and t <= warmup:
        return t / warmup
    progress = (t - 1 - warmup) / max(1, steps - warmup)
    kind = spec["schedule"]
    if kind == "constant":
        return 1.0
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if kind == "linear":
        return 1.0 - progress
    raise RunError("unknown schedule %r" % kind)


_DATASETS = {}


def _dataset(spec):
    key = (spec["dataset"], spec["shape"].get("seq_len"), spec["data_dir"])
    if key not in _DATASETS:
        _DATASETS[key] = data_mod.open_dataset(
            spec["dataset"], spec["shape"].get("seq_len"), spec["data_dir"])
    return _DATASETS[key]


def train(spec, package):
    """One run of `spec` with the package in directory `package`: init, `steps_of(spec)` steps of torch
    forward/backward and muir's fused step, then the held-out loss. Returns
    the record (spec plus results)."""
    import torch
    import muir
    from .models import CardModel, rms

    torch.set_num_threads(spec.get("threads", 1))
    start, cpu_start = time.time(), time.process_time()
    data = _dataset(spec)
    if spec.get("factory"):
        from .factory import Bound
        net = Bound(spec, package)
    else:
        pkg = muir.Package(package)
        net = CardModel(spec["model"], pkg, pkg.state())
    pkg, st = net.package, net.state
    st.init(seed=spec["seed"])
    if spec.get("zero_readout"):
        net.zero_readout()
    steps = steps_of(spec)
    lr = spec["lr"] if spec["hparam"] == "lr" else 1.0

    def as_torch(x, y):
        return torch.from_numpy(x), torch.from_numpy(y)

    coord = None
    coord_steps = spec.get("coord_steps", 0)
    if coord_steps:
        probe = as_torch(*data.held_out(spec["probe"]))
        coord = {"act": {}, "delta": {}, "layers": []}
        initial = {}

        def probe_sizes(t):
            acts = {}
            with torch.no_grad():
                net.loss(*probe,
                         record=lambda n, v: acts.__setitem__(n, v.clone()))
            for name, value in acts.items():
                if t == 0:
                    initial[name] = value
                    coord["layers"].append(name)
                coord["act"].setdefault(name, []).append(rms(value))
                coord["delta"].setdefault(name, []).append(
                    rms(value - initial[name]))
        probe_sizes(0)

    telemetry_steps = spec.get("telemetry_steps", 0)
    telemetry = UpdateSizes(pkg) if telemetry_steps else None
    losses, diverged = [], False
    for t in range(1, steps + 1):
        x, y = as_torch(*data.batch(spec["seed"], t - 1, spec["batch"]))
        net.zero_grads()
        loss = net.loss(x, y)
        value = float(loss)
        losses.append(value)
        if not (value == value and abs(value) != float("inf")) or (
                value > spec["diverge_factor"] * losses[0]
                and not spec.get("coord_only")):
            diverged = True
            break
        loss.backward()
        net.grads_to_state()
        if t <= telemetry_steps:
            report = st.step(t, lr * schedule(spec, t, steps),
                             telemetry=True)
            telemetry.add(report.telemetry)
        else:
            st.step(t, lr * schedule(spec, t, steps))
        if coord is not None and t <= coord_steps:
            probe_sizes(t)
        if coord is not None and t == coord_steps and spec["coord_only"]:
            break

    held_out = None
    if not diverged and not spec.get("coord_only"):
        x, y = data.held_out(spec["eval_count"])
        total, count = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(x), max(spec["batch"], 256)):
                xb, yb = as_torch(x[i:i + max(spec["batch"], 256)],
                                  y[i:i + max(spec["batch"], 256)])
                total += float(net.loss(xb, yb)) * len(xb)
                count += len(xb)
        held_out = total / count
        if held_out != held_out or held_out == float("inf"):
            held_out, diverged = None, True
    tail = losses[-max(1, len(losses) // 10):]
    record = dict(spec)
    record.update({
        "key": run_key(spec), "steps": steps, "losses": losses,
        "diverged": diverged, "loss": held_out,
        "train_loss": None if diverged or not losses
        else sum(tail) / len(tail),
        "seconds": time.time() - start,
        "cpu_seconds": time.process_time() - cpu_start,
    })
    if coord is not None:
        record["coord"] = coord
    if telemetry is not None:
        record["telemetry"] = telemetry.columns
    return record


class UpdateSizes:
    """The early update sizes of a run, from the step kernel's telemetry
    (``State.step(t, telemetry=True)``), one entry per step:

    - ``update_norm``: ||dw|| over every parameter (the whole step's size),
    - ``relative_update``: ||dw|| / ||w|| over the weight matrices,
    - ``angle``: the mean angular update (radians between w and w + dw)
      over the weight matrices' copies (the warmup paper's measure),
    - ``angle_by_param``: that angle per matrix (mean over its copies).

    Vectors (biases, norm gains) and tied names are left out of the matrix
    columns; a skipped step's entries are NaN (null in the JSON)."""

    def __init__(self, package):
        self.matrices = {name for name, p in package.params_info.items()
                         if len(p.copy_shape) >= 2 and not p.tied_to}
        self.columns = {"update_norm": [], "relative_update": [],
                        "angle": [], "angle_by_param": {
                            name: [] for name in sorted(self.matrices)}}

    def add(self, by_name):
        total = matrix_dw = matrix_w = 0.0
        angles = []
        for name, copies in by_name.items():
            total += sum(c.update_norm ** 2 for c in copies)
            if name in self.matrices:
                matrix_dw += sum(c.update_norm ** 2 for c in copies)
                matrix_w += sum(c.param_norm ** 2 for c in copies)
                mean = sum(c.angle for c in copies) / len(copies)
                self.columns["angle_by_param"][name].append(_finite(mean))
                angles += [c.angle for c in copies]
        self.columns["update_norm"].append(_finite(total ** 0.5))
        self.columns["relative_update"].append(_finite(
            (matrix_dw / matrix_w) ** 0.5 if matrix_w > 0 else None))
        self.columns["angle"].append(_finite(
            sum(angles) / len(angles) if angles else None))


def _finite(x):
    """x, or None (JSON null) when it is missing or not finite."""
    return x if x is not None and x == x and abs(x) != float("inf") else None


def _ignore_sigint():
    """A pool worker leaves a Ctrl-C (sent to the whole process group) to
    the parent, which terminates the pool; SIGTERM still ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _raise_interrupted(signum, frame):
    for s in STOP_SIGNALS:  # a second signal must not cut the cleanup short
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


def _worker(job):
    spec, package = job
    try:
        return train(spec, package)
    except Exception as e:  # reported by the parent, the grid goes on
        import traceback
        return {"key": run_key(spec), "error": "%s: %s" % (
            type(e).__name__, e), "traceback": traceback.format_exc()}


def read_results(path):
    """Records of a results.jsonl; a torn last line (a killed writer) is
    dropped with a warning, a malformed line elsewhere is an error."""
    records = []
    if not os.path.exists(path):
        return records
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if number == len(lines):
                print("warning: %s:%d: dropping a torn last line" % (
                    path, number), file=sys.stderr)
                continue
            raise RunError("%s:%d: not a JSON record; move the file away or "
                           "fix the line" % (path, number)) from None
    return records


class ResultsFile:
    """results.jsonl, locked for one writer; each record is one line,
    flushed and synced before the next run is reported."""

    def __init__(self, out):
        os.makedirs(out, exist_ok=True)
        self.path = os.path.join(out, "results.jsonl")
        self._lock = open(os.path.join(out, ".lock"), "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RunError("%s is in use by another muir.transfer run; wait "
                           "for it or use another --out" % out) from None
        self.records = read_results(self.path)
        # Cut a torn last line so the next record starts on its own line.
        if os.path.exists(self.path):
            with open(self.path, "rb+") as f:
                content = f.read()
                if content and not content.endswith(b"\n"):
                    f.truncate(content.rfind(b"\n") + 1)
        self.done = {r["key"] for r in self.records if "key" in r}
        self._file = open(self.path, "a")

    def append(self, record):
        # A stop signal waits until the line is written and synced.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            self._file.write(json.dumps(record, sort_keys=True) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.records.append(record)
        self.done.add(record["key"])

    def close(self):
        self._file.close()
        self._lock.close()


def describe(spec):
    parts = ["%s w%d d%d" % (spec["model"], spec["width"], spec["depth"])]
    if spec["batch"] != spec["base_batch"] or spec["tokens_mult"] != 1:
        parts.append("b%d x%g tokens" % (spec["batch"], spec["tokens_mult"]))
    parts.append(spec["scheme"] + (" a%s" % spec["alpha"]
                                   if spec["alpha"] is not None else ""))
    parts.append("%s 2^%g" % (spec["hparam"], spec["log2_value"]))
    parts.append("seed %d" % spec["seed"])
    return " ".join(parts)


def run_grid(specs, out, jobs, quiet=False):
    """Runs every spec not yet in out/results.jsonl with `jobs` processes;
    returns (all records of the grid, errors).

    SIGINT or SIGTERM raises Interrupted here, even where the launcher
    ignored SIGINT (a shell script's background job): the pool is
    terminated (its workers get SIGTERM and exit at once, mid-run), no
    record is half-written, and a rerun resumes."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, _raise_interrupted)
                    for s in STOP_SIGNALS}
    results = None
    try:
        results = ResultsFile(out)
        muirc = find_muirc()
        pending = []
        for spec in specs:
            if run_key(spec) in results.done:
                continue
            pending.append(spec)
        skipped = len(specs) - len(pending)
        if skipped and not quiet:
            print("%s: %d of %d runs already recorded, %d to go"
                  % (results.path, skipped, len(specs), len(pending)),
                  flush=True)
        checked = set()
        for spec in pending:  # a missing data set fails once, up front
            key = (spec["dataset"], spec["shape"].get("seq_len"),
                   spec["data_dir"])
            if key not in checked:
                checked.add(key)
                _dataset(spec)
        built = {}
        jobs_list = []
        for spec in pending:
            pdir = package_dir(out, spec)
            if pdir not in built:
                built[pdir] = build_package(out, spec, muirc)
            jobs_list.append((spec, pdir))
        by_key = {run_key(s): s for s in pending}
        errors = []
        started = time.time()
        done = 0

        def report(record):
            nonlocal done
            done += 1
            spec = by_key[record["key"]]
            if "error" in record:
                errors.append((spec, record))
                status = "ERROR " + record["error"]
            else:
                results.append(record)
                if record["diverged"]:
                    status = "diverged at step %d" % len(record["losses"])
                elif record["loss"] is None:
                    status = "first loss %.4f" % record["losses"][0]
                else:
                    status = "loss %.4f" % record["loss"]
                status += " (%.1f s)" % record["seconds"]
            if not quiet:
                elapsed = time.time() - started
                eta = elapsed / done * (len(pending) - done)
                print("[%d/%d] %s: %s, eta %s" % (
                    done, len(pending), describe(spec), status,
                    _duration(eta)), flush=True)

        if jobs <= 1 or len(pending) <= 1:
            for job in jobs_list:
                report(_worker(job))
        else:
            import multiprocessing
            ctx = multiprocessing.get_context("spawn")
            # Leaving the block (an Interrupted included) terminates the
            # workers.
            with ctx.Pool(jobs, initializer=_ignore_sigint) as pool:
                for record in pool.imap_unordered(_worker, jobs_list):
                    report(record)
        keys = {run_key(s) for s in specs}
        return [r for r in results.records if r.get("key") in keys], errors
    finally:
        if results is not None:
            results.close()
        for s, handler in previous.items():
            signal.signal(s, handler)


def _duration(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)
    if seconds >= 60:
        return "%dm%02ds" % (seconds // 60, seconds % 60)
    return "%ds" % seconds
