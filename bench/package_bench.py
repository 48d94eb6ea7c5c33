#!/usr/bin/python3
"""What `muirc package` costs as models get deep: wall time, peak memory of
muirc and the ptxas it runs, and the bytes of kernels.ptx, the two cubins and
libmuir_kernels.so, for a GPT-3-175B-shaped card at 12, 24, 48 and 96 layers
and a 1000-layer MLP.

    python3 bench/package_bench.py [--build build] [--quick]

The GPT-3 card: d_model 12288, n_head 96, d_ff 49152, vocab 50257, 2048
tokens, tied embeddings (the base: d_model 256, 2 heads, d_ff 1024, 4
layers); the MLP: 784 -> 1024 x 1000 residual layers -> 10 (base: 2). Both
under CompleteP with AdamW, CUDA kernels included (--gpu: ptxas must be
found). --quick packages the GPT-3 card at 12 and 96 layers only;
--precision=bf16 builds bf16 packages (docs/Optimizers.md: the bf16 step
and reduction beside the fp32 ones).

Time is wall-clock and CPU (user + system of muirc and its children: what
a busy machine inflates less). Peak memory is the largest sum of the resident sets of muirc and its child
processes (ptxas), sampled every 10 ms from /proc; the exact peak of the
largest single process (getrusage) is printed beside it. Targets (issue 9):
the 96-layer GPT-3 package in < 20 s and < 1.5 GB, and its PTX within 10% of
the 12-layer one's. Not a test: CI does not run it.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--build", default="build")
ap.add_argument("--quick", action="store_true", help="GPT-3 at 12 and 96 layers only")
ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
args = ap.parse_args()
tmp = tempfile.mkdtemp(prefix="muir-package-bench-")
MUIRC = os.path.join(args.build, "bin", "muirc")


def card(path, **fields):
    json.dump(fields, open(path, "w"))
    return path


GPT3 = dict(name="gpt3", family="gpt", n_head=96, d_model=12288, d_ff=49152, vocab=50257,
            seq_len=2048, tied_embeddings=True, bias=True, qk_norm=False)
gpt3_base = card(f"{tmp}/gpt3-base.json", **{**GPT3, "d_model": 256, "n_head": 2,
                                             "d_ff": 1024, "n_layer": 4})
MLP = dict(name="mlp", family="mlp", d_in=784, d_hidden=1024, d_out=10, bias=True, batch=128,
           residual=True)
mlp_base = card(f"{tmp}/mlp-base.json", **{**MLP, "n_layer": 2})

runs = [(f"gpt3-{n}", card(f"{tmp}/gpt3-{n}.json", **GPT3, n_layer=n), gpt3_base)
        for n in ((12, 96) if args.quick else (12, 24, 48, 96))]
if not args.quick:
    runs.append(("mlp-1000", card(f"{tmp}/mlp-1000.json", **MLP, n_layer=1000), mlp_base))


def tree_rss(root):
    """Resident bytes of `root` and its descendants (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError):
                pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def package(name, target, base):
    out = f"{tmp}/{name}"
    cmd = [MUIRC, "package", "--card", target, "--base-card", base, "--scheme=completep",
           "--optimizer=adamw", f"--precision={args.precision}", "--gpu", "-o", out]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"{name}: muirc package failed:\n{proc.stderr.read().decode()}")
    size = lambda f: os.path.getsize(f"{out}/{f}")  # noqa: E731
    manifest = json.load(open(f"{out}/manifest.json"))
    params = sum(p["numel"] * p["copies"] for p in manifest["layout"]["params"]
                 if not p["tied_to"])
    table = manifest["kernel_table"]
    return dict(name=name, seconds=seconds, cpu_seconds=cpu, peak=peak, params=params,
                tensors=sum(p["copies"] for p in table["params"]), rows=len(table["rows"]),
                ptx=size("kernels.ptx"), sm80=size("kernels.sm_80.cubin"),
                sm90=size("kernels.sm_90.cubin"), cpu=size("libmuir_kernels.so"))


results = []
print(f"{'model':10}{'params':>10}{'tensors':>8}{'rows':>6}{'wall s':>8}{'CPU s':>7}{'peak MB':>9}"
      f"{'PTX KB':>8}{'sm_80 KB':>9}{'sm_90 KB':>9}{'CPU lib KB':>11}")
for name, target, base in runs:
    r = package(name, target, base)
    results.append(r)
    print(f"{r['name']:10}{r['params'] / 1e9:9.1f}B{r['tensors']:8}{r['rows']:6}"
          f"{r['seconds']:8.1f}{r['cpu_seconds']:7.1f}{r['peak'] / 2**20:9.0f}{r['ptx'] / 1024:8.1f}"
          f"{r['sm80'] / 1024:9.1f}{r['sm90'] / 1024:9.1f}{r['cpu'] / 1024:11.1f}", flush=True)
largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"largest single process over all runs (getrusage): {largest / 1024:.0f} MB")

by = {r["name"]: r for r in results}
deep, shallow = by["gpt3-96"], by["gpt3-12"]
spread = abs(deep["ptx"] - shallow["ptx"]) / shallow["ptx"]
checks = [(f"gpt3-96 packaged in {deep['seconds']:.1f} s wall, {deep['cpu_seconds']:.1f} s CPU "
           "(< 20 s)", deep["seconds"] < 20),
          (f"gpt3-96 peak {deep['peak'] / 2**30:.2f} GB (< 1.5 GB)", deep["peak"] < 1.5 * 2**30),
          (f"PTX at 96 vs 12 layers: {100 * spread:.1f}% apart (< 10%)", spread < 0.1)]
for what, ok in checks:
    print(("meets " if ok else "MISSES ") + what)
sys.exit(0 if all(ok for _, ok in checks) else 1)
