"""What the distributed tests share: the example GPT imported and packaged
once per test, ranks spawned as processes over gloo (each with a timeout),
and the model, data and process group of one rank."""
import datetime
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.distributed as dist

import muir
import muir.torch as mt
from gpt import GPT, GPTConfig

VOCAB, SEQ = 64, 16
# Six sequences per step: an equal slice for 1, 2 and 3 ranks.
BATCH = 6
TARGET = GPTConfig(block_size=SEQ, vocab_size=VOCAB, n_layer=4, n_head=4, n_embd=64)
BASE = GPTConfig(block_size=SEQ, vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=32)
HP = dict(lr=3e-3, weight_decay=0.1)
# The GPT at width 48 (rows of 48 and 192 elements): reduction slots of 4096
# elements, and so shard bounds, cut its rows (LionAR's units).
NARROW = GPTConfig(block_size=SEQ, vocab_size=VOCAB, n_layer=4, n_head=4, n_embd=48)
NARROW_BASE = GPTConfig(block_size=SEQ, vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=24)
# Seconds a group of ranks may take before it is killed (the test fails):
# a bound for a loaded machine; a group takes 5-20 s here.
RANKS_TIMEOUT = 120


def prepare(tmp, schemes=("completep",), optimizers=("adamw",), target=TARGET, base=BASE):
    """Imports the GPT (`target`, with `base`) and packages it under each
    scheme and optimizer in `tmp` (pkg-SCHEME, pkg-SCHEME-OPTIMIZER for
    another optimizer than AdamW); writes the binding next to them. Returns
    the package paths."""
    torch.manual_seed(0)
    idx = torch.randint(0, VOCAB, (2, SEQ))
    imported = mt.import_model(GPT(target), GPT(base), (idx, idx), loss=lambda o: o[1],
                               name="gpt", workdir=os.path.join(tmp, "imp"))
    with open(os.path.join(tmp, "binding.json"), "w") as f:
        json.dump(imported.binding, f)
    return [mt.package(imported, os.path.join(
        tmp, "pkg-" + s + ("" if o == "adamw" else "-" + o.replace(":", "-").replace("=", "-"))),
        s, optimizer=o, **HP).path for s in schemes for o in optimizers]


def batches(steps, seed=1):
    """The global batches: (idx, targets) of BATCH sequences per step."""
    g = torch.Generator().manual_seed(seed)
    return [(torch.randint(0, VOCAB, (BATCH, SEQ), generator=g),
             torch.randint(0, VOCAB, (BATCH, SEQ), generator=g)) for _ in range(steps)]


def bound_model(tmp, package_path, target=TARGET):
    """A GPT bound to the package (its own State; init is the caller's)."""
    with open(os.path.join(tmp, "binding.json")) as f:
        binding = json.load(f)
    torch.manual_seed(0)
    model = GPT(target)
    mt.bind(model, muir.Package(package_path), binding)
    return model


def spawn(script, tmp, world, scenario, timeout=RANKS_TIMEOUT, extra=()):
    """Runs `world` ranks of `script` (`script --worker tmp rank world
    scenario *extra`) over a file store; kills them all past `timeout`.
    Returns each rank's stdout; raises if a rank failed."""
    store = os.path.join(tmp, "store-%s-%d" % (scenario, world))
    if os.path.exists(store):
        os.remove(store)
    procs = [subprocess.Popen([sys.executable, script, "--worker", tmp, str(r), str(world),
                               scenario, *extra], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for r in range(world)]
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=timeout)[0])
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        for p in procs:
            p.communicate()
        raise SystemExit("%s: %d ranks of '%s' ran past %d s" % (script, world, scenario, timeout))
    for r, (p, out) in enumerate(zip(procs, outs)):
        if p.returncode != 0:
            raise SystemExit("rank %d of %d ('%s') failed with exit status %d:\n%s"
                             % (r, world, scenario, p.returncode, out))
    return outs


def join(tmp, rank, world, scenario):
    """This process's rank of the group spawn() started."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="file://" + os.path.join(
        tmp, "store-%s-%d" % (scenario, world)), rank=rank, world_size=world,
        timeout=datetime.timedelta(seconds=RANKS_TIMEOUT - 10))


def leave():
    """Ends this rank cleanly: a process that exits with the gloo group
    still up may abort in its threads' destructors ("terminate called
    without an active exception")."""
    dist.barrier()
    dist.destroy_process_group()


def run(worker, main):
    """A test's entry point: `script --worker tmp rank world scenario` runs
    one rank (spawn), `script tmp` the test."""
    if sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        main(sys.argv[1])


def same(a, b):
    """Bit for bit (float32 arrays)."""
    return np.array_equal(np.asarray(a).view(np.uint32), np.asarray(b).view(np.uint32))


def cut_units(pkg, plan):
    """The LionAR units (of tensor copies with weight decay) that the bounds
    of `plan` cut: 'param copy c unit [lo, hi) at bound' each."""
    cuts = []
    for b, _ in plan[1:]:
        lo, hi = pkg.unit_at(b) if b < pkg.buffer_elements else (0, 0)
        if not lo < b < hi:
            continue
        for p in pkg.params_info.values():
            c = (lo - p.offset) // p.stride if p.stride else 0
            if p.tied_to is None and 0 <= c < p.copies and \
                    p.offset + c * p.stride <= lo < p.offset + c * p.stride + p.numel:
                rows = pkg.tensor_rows[p.name]
                if rows[c if len(rows) > 1 else 0]["weight_decay"] > 0:
                    cuts.append("%s copy %d unit [%d, %d) at %d" % (p.name, c, lo, hi, b))
    return cuts


def replicated(pkg, begin, end, state1):
    """What shard [begin, end) holds of LionAR's state buffer 1 (the units'
    n0, nu) given a whole state's `state1`: a replica of the unit its begin
    cuts at its own first two elements (docs/Distributed.md)."""
    want = state1[begin:end].copy()
    lo, hi = pkg.unit_at(begin) if begin < end else (0, 0)
    if lo < begin:
        want[0:2] = state1[lo:lo + 2]
    return want
