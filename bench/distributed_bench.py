#!/usr/bin/python3
"""Bytes moved per rank per step by a ZeRO-1 optimizer step of the example
GPT (examples/torch/gpt.py) at 1, 2 and 3 gloo ranks on this machine:
muir.distributed.ZeroOptimizer (the package's fused shard step, guards on)
beside torch's ZeroRedundancyOptimizer with AdamW (gradients all-reduced
first, as DDP does, then clip_grad_norm_), in the same run.

Communication is measured: the bytes the loopback interface carried during
the steps (/proc/net/dev, all ranks' gloo traffic) divided by the ranks and
the steps, i.e. what one rank sends per step (it receives as much).
Compute is the memory traffic of the step's elementwise passes, counted
from the code: muir's shard kernel reads p, g, m, v and writes p, m, v (28
B per element of the shard), the reduction phase reads g (4 B), averaging
the reduced gradients reads and writes them (8 B, at 2+ ranks); torch
1.13's single-tensor AdamW on the CPU makes 92 B per element of its shard
(p.mul_ 8, exp_avg.mul_.add_ 20, exp_avg_sq.mul_.addcmul_ 24,
sqrt/div/add_ of the denominator 24, p.addcdiv_ 16) and clip_grad_norm_ 12 B
per element of the whole model (the norm's read, the scaling's read and
write). Step times are wall-clock medians (the machine is shared: read the
ratios).

The same GPT packaged with LionAR (per-row units, clipping on) runs the same
ZeroOptimizer step: compute 20 B per element of the shard (reads p, g, m,
writes p, m; a rotating row's sums read it once more from cache), the
reduction 4 B, averaging 8 B at 2+ ranks; its communication adds the second
all-reduce, of the units' partial sums (80 B per reduction slot, the
payload printed), to the gradients' reduce and the params' broadcast.

    MUIRC=build/bin/muirc PYTHONPATH=python python3 bench/distributed_bench.py [--quick]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "torch"))
import muir  # noqa: E402
import muir.torch as mt  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402

HP = dict(lr=3e-3, weight_decay=0.1, eps=1e-8, beta1=0.9, beta2=0.95)
CLIP = 1.0


def config(args, width, layers):
    return GPTConfig(block_size=64, vocab_size=args.vocab, n_layer=layers,
                     n_head=max(1, width // 64), n_embd=width)


def loopback_bytes():
    """Bytes sent over the loopback interface so far."""
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                return int(rest.split()[8])
    raise SystemExit("distributed_bench: no loopback interface in /proc/net/dev")


def measure(step, steps, rank, world):
    """(bytes one rank sends per step, median step seconds) over `steps`
    steps after one warm-up."""
    step()
    dist.barrier()
    before = loopback_bytes() if rank == 0 else 0
    times = []
    for _ in range(steps):
        dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    dist.barrier()
    sent = (loopback_bytes() - before) if rank == 0 else 0
    return sent / world / steps, statistics.median(times)


def worker(args, rank, world):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="file://" + os.path.join(
        args.tmp, "store-%d" % world), rank=rank, world_size=world,
        timeout=datetime.timedelta(seconds=600))
    from muir.distributed import ZeroOptimizer
    from torch.distributed.optim import ZeroRedundancyOptimizer
    torch.manual_seed(0)
    rng = np.random.default_rng(rank)

    # muir: the bound GPT, grads in the flat buffer.
    model = GPT(config(args, args.width, args.layers))
    with open(os.path.join(args.tmp, "binding.json")) as f:
        mt.bind(model, muir.Package(os.path.join(args.tmp, "pkg")), json.load(f))
    opt = ZeroOptimizer(model, max_grad_norm=CLIP)
    opt.init(0)
    flat = [mt.binding_of(model).flat_params, mt.binding_of(model).flat_grads]
    grads = (rng.standard_normal(flat[1].size) * 1e-2).astype(np.float32)

    def muir_step():
        flat[1][...] = grads
        opt.step()
    muir_sent, muir_time = measure(muir_step, args.steps, rank, world)
    shard = opt.shards.end - opt.shards.begin
    elements = flat[0].size

    # muir, LionAR per row: the same step with the units' second round.
    model = GPT(config(args, args.width, args.layers))
    with open(os.path.join(args.tmp, "binding.json")) as f:
        mt.bind(model, muir.Package(os.path.join(args.tmp, "pkg-lion-ar")), json.load(f))
    lion = ZeroOptimizer(model, max_grad_norm=CLIP)
    lion.init(0)
    lion_grads = mt.binding_of(model).flat_grads

    def lion_step():
        lion_grads[...] = grads
        lion.step()
    lion_sent, lion_time = measure(lion_step, args.steps, rank, world)
    lion_shard = lion.shards.end - lion.shards.begin
    lion_units = 8 * (lion.shards.package.step_partials - lion.shards.package.num_slots)

    # torch: the same GPT unbound, ZeroRedundancyOptimizer(AdamW).
    model = GPT(config(args, args.width, args.layers))
    params = [p for p in model.parameters() if p.requires_grad]
    total = sum(p.numel() for p in params)
    flat_grads = torch.zeros(total)
    offset = 0
    for p in params:  # .grad views of one buffer, as DDP's bucket views
        p.grad = flat_grads[offset:offset + p.numel()].view_as(p)
        offset += p.numel()
    zero = ZeroRedundancyOptimizer(params, optimizer_class=torch.optim.AdamW,
                                   lr=HP["lr"], weight_decay=HP["weight_decay"],
                                   eps=HP["eps"], betas=(HP["beta1"], HP["beta2"]))
    torch_grads = torch.from_numpy((rng.standard_normal(total) * 1e-2).astype(np.float32))
    owned = sum(p.numel() for p in zero.optim.param_groups[0]["params"])

    def torch_step():
        flat_grads.copy_(torch_grads)
        if world > 1:
            dist.all_reduce(flat_grads)
            flat_grads.div_(world)
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        zero.step()
    torch_sent, torch_time = measure(torch_step, args.steps, rank, world)
    if rank == 0:
        print(json.dumps({"world": world, "elements": elements, "torch_elements": total,
                          "muir_shard": shard, "torch_shard": owned,
                          "muir_sent": muir_sent, "torch_sent": torch_sent,
                          "muir_time": muir_time, "torch_time": torch_time,
                          "lion_shard": lion_shard, "lion_sent": lion_sent,
                          "lion_time": lion_time, "lion_units": lion_units}))
    dist.barrier()
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small GPT, 3 steps")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=50304)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--worker", nargs=3, metavar=("TMP", "RANK", "WORLD"))
    args = ap.parse_args()
    if args.quick:
        args.width, args.layers, args.vocab, args.steps = 128, 2, 4096, 3
    if args.worker:
        args.tmp = args.worker[0]
        worker(args, int(args.worker[1]), int(args.worker[2]))
        return
    tmp = tempfile.mkdtemp(prefix="muir-distributed-bench-")
    torch.manual_seed(0)
    idx = torch.randint(0, args.vocab, (1, 64))
    imported = mt.import_model(GPT(config(args, args.width, args.layers)),
                               GPT(config(args, max(64, args.width // 4), 2)),
                               (idx, idx), loss=lambda o: o[1], workdir=tmp)
    with open(os.path.join(tmp, "binding.json"), "w") as f:
        json.dump(imported.binding, f)
    mt.package(imported, os.path.join(tmp, "pkg"), "completep", **HP)
    mt.package(imported, os.path.join(tmp, "pkg-lion-ar"), "completep", optimizer="lion-ar",
               **HP)
    flags = ["--width", str(args.width), "--layers", str(args.layers), "--vocab",
             str(args.vocab), "--steps", str(args.steps)]
    rows = []
    for world in (1, 2, 3):
        procs = [subprocess.Popen([sys.executable, __file__, *flags, "--worker", tmp, str(r),
                                   str(world)], stdout=subprocess.PIPE, text=True)
                 for r in range(world)]
        try:
            outs = [p.communicate(timeout=900)[0] for p in procs]
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise SystemExit("distributed_bench: %d ranks ran past 900 s" % world)
        if any(p.returncode for p in procs):
            raise SystemExit("distributed_bench: a rank of %d failed" % world)
        rows.append(json.loads(outs[0].strip().splitlines()[-1]))
    n = rows[0]["elements"]
    print("GPT d_model %d, %d layers, vocab %d: %.2fM elements in the flat buffer "
          "(torch: %.2fM parameters), AdamW, clipping at %g; %d steps per size"
          % (args.width, args.layers, args.vocab, n / 1e6, rows[0]["torch_elements"] / 1e6,
             CLIP, args.steps))
    print()
    print("| ranks | muir shard | muir compute B/rank/step | muir sent B/rank/step "
          "| torch shard | torch compute B/rank/step | torch sent B/rank/step "
          "| sent muir/torch | step ms muir / torch |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        w = r["world"]
        # Compute bytes as counted in the module doc (the largest shard).
        muir_compute = (28 + 4 + (8 if w > 1 else 0)) * r["muir_shard"]
        torch_compute = 92 * r["torch_shard"] + 12 * r["torch_elements"]
        print("| %d | %.2fM | %.1f MB | %.1f MB | %.2fM | %.1f MB | %.1f MB | %s | %.0f / %.0f |" % (
            w, r["muir_shard"] / 1e6, muir_compute / 1e6, r["muir_sent"] / 1e6,
            r["torch_shard"] / 1e6, torch_compute / 1e6, r["torch_sent"] / 1e6,
            "%.2f" % (r["muir_sent"] / r["torch_sent"]) if r["torch_sent"] else "-",
            r["muir_time"] * 1e3, r["torch_time"] * 1e3))

    print()
    print("LionAR (per row), the same GPT and guards:")
    print()
    print("| ranks | muir shard | compute B/rank/step | sent B/rank/step | units' partials "
          "all-reduced B | step ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        w = r["world"]
        compute = (20 + 4 + (8 if w > 1 else 0)) * r["lion_shard"]
        print("| %d | %.2fM | %.1f MB | %.1f MB | %.2f MB | %.0f |" % (
            w, r["lion_shard"] / 1e6, compute / 1e6, r["lion_sent"] / 1e6,
            r["lion_units"] / 1e6, r["lion_time"] * 1e3))


if __name__ == "__main__":
    main()
