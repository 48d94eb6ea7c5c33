# Sharded checkpoints through muir.distributed (docs/Distributed.md): the
# example GPT trained 3 steps by 2 gloo ranks with ZeroOptimizer, saved
# (one shard file per rank and meta.json), then loaded by 3 ranks and by
# 1: the params on every rank and the optimizer states gathered from the
# shards equal the saved ones bit for bit, with the step count and lr;
# one more step after loading at 3 equals the step at 2 after it saved, to
# float32 rounding (the gradients are summed in another order).
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: saved at 2 ranks: meta.json shard-00000-of-00002.pt shard-00001-of-00002.pt
# CHECK-NEXT: loaded at 3 ranks: params and states bit-identical, t 3 lr 0.25
# CHECK-NEXT: loaded at 1 ranks: params and states bit-identical, t 3 lr 0.25
# CHECK-NEXT: one more step at 3 ranks after loading: max |diff| {{.*}} of max |w|: ok
import os
import sys

import numpy as np

import muir
import muir.torch as mt
from muir.distributed import ZeroOptimizer
from ranks import BATCH, batches, bound_model, join, leave, prepare, run, spawn

SEED = 3


def step(model, opt, rank, world, x, y):
    per = BATCH // world
    opt.zero_grad()
    mine = slice(rank * per, (rank + 1) * per)
    model(x[mine], y[mine])[1].backward()
    opt.step()


def dump(tmp, tag, world, rank, model, opt):
    out = os.path.join(tmp, "%s-w%d-r%d" % (tag, world, rank))
    np.save(out + "-params.npy", mt.binding_of(model).flat[0])
    np.save(out + "-states.npy", np.stack([s.numpy() for s in opt.shards.states]))


def worker(tmp, rank, world, scenario):
    join(tmp, rank, world, scenario)
    model = bound_model(tmp, os.path.join(tmp, "pkg-completep"))
    opt = ZeroOptimizer(model, max_grad_norm=1.0)
    data = batches(4)
    if scenario == "save":
        opt.init(SEED)
        opt.param_groups[0]["lr"] = 0.25
        for x, y in data[:3]:
            step(model, opt, rank, world, x, y)
        opt.save(os.path.join(tmp, "ckpt"))
        dump(tmp, "saved", world, rank, model, opt)
        step(model, opt, rank, world, *data[3])
        dump(tmp, "next", world, rank, model, opt)
    else:
        opt.load(os.path.join(tmp, "ckpt"))
        dump(tmp, "loaded", world, rank, model, opt)
        print("t %d lr %g" % (opt.t, opt.param_groups[0]["lr"]))
        step(model, opt, rank, world, *data[3])
        dump(tmp, "next", world, rank, model, opt)
    leave()


def gathered(tmp, tag, world, plan):
    """The params of rank 0 (after checking every rank has them) and the
    optimizer states put together from the ranks' shards."""
    params, states = None, None
    for r, (begin, end) in enumerate(plan):
        out = os.path.join(tmp, "%s-w%d-r%d" % (tag, world, r))
        p = np.load(out + "-params.npy")
        if params is None:
            params = p
            states = np.zeros((0,) + p.shape, np.float32)
        assert np.array_equal(p.view(np.uint32), params.view(np.uint32)), (tag, world, r)
        s = np.load(out + "-states.npy")
        if not len(states):
            states = np.zeros((s.shape[0],) + p.shape, np.float32)
        states[:, begin:end] = s
    return params, states


def main(tmp):
    [path] = prepare(tmp)
    pkg = muir.Package(path)
    spawn(__file__, tmp, 2, "save")
    print("saved at 2 ranks:", " ".join(sorted(os.listdir(os.path.join(tmp, "ckpt")))))
    want = gathered(tmp, "saved", 2, pkg.plan_shards(2))
    after = gathered(tmp, "next", 2, pkg.plan_shards(2))
    ok = True
    for world in (3, 1):
        outs = spawn(__file__, tmp, world, "load")
        got = gathered(tmp, "loaded", world, pkg.plan_shards(world))
        same = all(np.array_equal(a.view(np.uint32), b.view(np.uint32))
                   for a, b in zip(got, want))
        ok &= same
        print("loaded at %d ranks: params and states %s, %s" % (
            world, "bit-identical" if same else "DIFFER", outs[0].strip()))
        if world == 3:
            nxt = gathered(tmp, "next", 3, pkg.plan_shards(3))
    worst = np.abs(nxt[0] - after[0]).max() / np.abs(after[0]).max()
    ok &= worst < 1e-5
    print("one more step at 3 ranks after loading: max |diff| %.2g of max |w|: %s"
          % (worst, "ok" if worst < 1e-5 else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    run(worker, main)
