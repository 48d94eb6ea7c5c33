# bf16 under muir.distributed (docs/Distributed.md): the example GPT
# (examples/torch/gpt.py; d_model 64, 4 layers) bound to a CompleteP AdamW
# bf16 package (muirc package --precision=bf16) runs its forward and
# backward in bf16 on 1 and 2 gloo ranks, each rank its share of a
# 6-sequence batch, and ZeroOptimizer steps it: each rank's bf16 gradients
# are summed (and averaged) in float32 and rounded to nearest into the
# owner's shard, the shard step writes its master weights and bf16 copy,
# and both are all-gathered. The reference is one process computing every
# rank's gradients on its share itself, reducing them in numpy (float32
# sum / ranks, rounded to nearest bf16 by comparing the two neighbours)
# and stepping the whole bf16 State (muir.torch's binding with its
# runtime step):
#
# - after 10 steps every rank's bf16 parameters (the copy the model reads)
#   and master weights are the reference's bit for bit, and the optimizer
#   states gathered from the shards too;
# - a sharded checkpoint written after 5 steps at 2 ranks (master, states,
#   the stochastically rounded copy and the rounding seed) and loaded into
#   freshly bound models continues to the same bits;
# - a ShardedState of a bf16 package without its copy, with float32 grads
#   or with tensors off the CPU, an fp32 package given a copy, a bf16
#   checkpoint without its copy, with float values as its copy or a
#   negative rounding seed: each an error naming it.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: no copy: ShardedState: package '{{.*}}' is bf16: its params copy (params_bf16, a bfloat16 tensor) is needed too
# CHECK-NEXT: float32 grads: ShardedState: grads must be a contiguous 1-D bfloat16 tensor of the package's {{[0-9]+}} elements (package '{{.*}}' is bf16), not ({{[0-9]+}},) torch.float32
# CHECK-NEXT: not on the CPU: ShardedState: bf16 packages on meta are not supported yet (CPU tensors over gloo only)
# CHECK-NEXT: a copy for fp32: ShardedState: package '{{.*}}pkg-fp32' is fp32: it has no bf16 copy of the params
# CHECK-NEXT: checkpoint without its copy: load: rank 0: {{.*}}shard-00000-of-00001.pt: buffers of the wrong size (or no params_bf16 and rounding_seed of a bf16 package)
# CHECK-NEXT: checkpoint of a float copy: load: rank 0: {{.*}}shard-00000-of-00001.pt: a bf16 shard needs params_bf16 as the int16 bits save() writes and a rounding_seed in [0, 2**64), not torch.float32 and {{[0-9]+}}
# CHECK-NEXT: checkpoint of a negative seed: load: rank 0: {{.*}}shard-00000-of-00001.pt: a bf16 shard needs params_bf16 as the int16 bits save() writes and a rounding_seed in [0, 2**64), not torch.int16 and -1
# CHECK-NEXT: 1 ranks: bf16 copy, master and states = the reference, bit for bit
# CHECK-NEXT: 2 ranks: bf16 copy, master and states = the reference, bit for bit
# CHECK-NEXT: 2 ranks: resumed from the step-5 checkpoint, bit for bit
import json
import os
import sys

import numpy as np
import torch

import muir
import muir.torch as mt
from gpt import GPT
from muir.distributed import DistributedError, ShardedState, ZeroOptimizer
from ranks import BASE, BATCH, HP, TARGET, batches, bound_model, join, leave, run, spawn

STEPS, SEED, SAVE_AT = 10, 7, 5


def path_of(tmp):
    return os.path.join(tmp, "pkg-bf16")


def worker(tmp, rank, world, scenario):
    join(tmp, rank, world, scenario)
    model = bound_model(tmp, path_of(tmp))
    binding = mt.binding_of(model)
    opt = ZeroOptimizer(model)
    ckpt = os.path.join(tmp, "ckpt")
    first = 1
    if scenario == "resume":
        opt.load(ckpt)
        first = opt.t + 1
    else:
        opt.init(SEED)
    per = BATCH // world
    for t, (x, y) in enumerate(batches(STEPS), 1):
        if t < first:
            continue
        opt.zero_grad()
        mine = slice(rank * per, (rank + 1) * per)
        model(x[mine], y[mine])[1].backward()
        opt.step()
        if t == SAVE_AT and scenario == "train" and world == 2:
            opt.save(ckpt)
    out = os.path.join(tmp, "%s-w%d-r%d" % (scenario, world, rank))
    np.save(out + "-master.npy", binding.flat_params)
    np.save(out + "-copy.npy", binding.flat_params_bf16)
    np.save(out + "-states.npy", np.stack([s.numpy() for s in opt.shards.states]))
    if rank == 0 and scenario == "train" and world == 1:
        errors(tmp, binding, opt)
    leave()


def errors(tmp, binding, opt):
    pkg = binding.package
    master = torch.from_numpy(binding.flat_params)
    grads = torch.from_numpy(binding.flat_grads.view(np.int16)).view(torch.bfloat16)
    n = pkg.buffer_elements
    meta = [torch.empty(n, dtype=d, device="meta")
            for d in (torch.float32, torch.bfloat16, torch.bfloat16)]
    fp32 = muir.Package(os.path.join(tmp, "pkg-fp32"))
    # A checkpoint of this bf16 run without its copy.
    ckpt = os.path.join(tmp, "ckpt-no-copy")
    opt.save(ckpt)
    shard = os.path.join(ckpt, "shard-00000-of-00001.pt")
    saved = torch.load(shard)
    copy_bits = saved.pop("params_bf16")
    torch.save(saved, shard)
    # And ones whose copy is float values, or whose seed is negative.
    float_copy = os.path.join(tmp, "ckpt-float-copy")
    opt.save(float_copy)
    torch.save(dict(saved, params_bf16=copy_bits.float()),
               os.path.join(float_copy, "shard-00000-of-00001.pt"))
    bad_seed = os.path.join(tmp, "ckpt-bad-seed")
    opt.save(bad_seed)
    torch.save(dict(saved, params_bf16=copy_bits, rounding_seed=-1),
               os.path.join(bad_seed, "shard-00000-of-00001.pt"))
    for title, call in (
            ("no copy", lambda: ShardedState(pkg, master, grads)),
            ("float32 grads", lambda: ShardedState(
                pkg, master, torch.zeros_like(master), params_bf16=grads)),
            ("not on the CPU", lambda: ShardedState(
                pkg, meta[0], meta[1], params_bf16=meta[2])),
            ("a copy for fp32", lambda: ShardedState(
                fp32, master, torch.zeros_like(master), params_bf16=grads)),
            ("checkpoint without its copy", lambda: opt.load(ckpt)),
            ("checkpoint of a float copy", lambda: opt.load(float_copy)),
            ("checkpoint of a negative seed", lambda: opt.load(bad_seed))):
        try:
            call()
            print(title, "constructed")
        except DistributedError as e:
            print("%s: %s" % (title, e.message))


def widen(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def nearest(x):
    """bf16 bits nearest to float32 `x` (ties to even)."""
    down = (x.view(np.uint32) >> 16).astype(np.uint16)
    up = down + np.uint16(1)
    d = np.abs(x.astype(np.float64) - widen(down)) - np.abs(widen(up).astype(np.float64) - x)
    return np.where((d > 0) | ((d == 0) & (down % 2 == 1)), up, down)


def reference(tmp, world):
    """One process: every rank's share's gradients, reduced in numpy, the
    whole state's step."""
    torch.set_num_threads(1)
    model = bound_model(tmp, path_of(tmp))
    binding = mt.binding_of(model)
    binding.state.init(SEED)
    per = BATCH // world
    for t, (x, y) in enumerate(batches(STEPS), 1):
        total = np.zeros(binding.flat_grads.shape, np.float32)
        for r in range(world):
            binding.flat_grads.fill(0)
            mine = slice(r * per, (r + 1) * per)
            model(x[mine], y[mine])[1].backward()
            total += widen(binding.flat_grads)
        binding.flat_grads[...] = nearest(total / np.float32(world))
        binding.state.step(t)
    return binding.flat_params.copy(), binding.flat_params_bf16.copy(), \
        [s.copy() for s in binding.flat[2:]]


def same(a, b):
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


def main(tmp):
    torch.manual_seed(0)
    idx = torch.randint(0, 64, (2, 16))
    imported = mt.import_model(GPT(TARGET), GPT(BASE), (idx, idx), loss=lambda o: o[1],
                               name="gpt", workdir=os.path.join(tmp, "imp"))
    with open(os.path.join(tmp, "binding.json"), "w") as f:
        json.dump(imported.binding, f)
    pkg = mt.package(imported, path_of(tmp), "completep", precision="bf16", **HP)
    mt.package(imported, os.path.join(tmp, "pkg-fp32"), "completep", **HP)
    assert pkg.precision == "bf16"
    ok = True
    for world, scenarios in ((1, ["train"]), (2, ["train", "resume"])):
        master, copy, states = reference(tmp, world)
        for scenario in scenarios:
            outs = spawn(__file__, tmp, world, scenario)
            sys.stdout.write("".join(outs))
            plan = pkg.plan_shards(world)
            good = True
            gathered = [np.zeros_like(s) for s in states]
            for r in range(world):
                out = os.path.join(tmp, "%s-w%d-r%d" % (scenario, world, r))
                good &= same(np.load(out + "-master.npy"), master)
                good &= same(np.load(out + "-copy.npy"), copy)
                begin, end = plan[r]
                for k, s in enumerate(np.load(out + "-states.npy")):
                    gathered[k][begin:end] = s
            good &= all(same(g, s) for g, s in zip(gathered, states))
            ok &= good
            if scenario == "train":
                print("%d ranks: bf16 copy, master and states = the reference, %s"
                      % (world, "bit for bit" if good else "DIFFER"))
            else:
                print("%d ranks: resumed from the step-%d checkpoint, %s"
                      % (world, SAVE_AT, "bit for bit" if good else "DIFFER"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    run(worker, main)
