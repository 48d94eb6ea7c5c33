# Sharded LionAR checkpoints through muir.distributed (docs/Distributed.md):
# the GPT at width 48 with LionAR per row, trained 3 steps by 2 gloo ranks
# with ZeroOptimizer (clipping at 0.5), saved, then loaded by 3 ranks (one
# of whose shards starts inside a row: its replica of the row's n0 and nu
# comes from the saved shard that holds the row's first two elements) and
# by 1. Checked against one process stepping a whole state with the
# gradients the ranks reduced:
#
# - after loading, params and momentum are that state's bit for bit, and
#   every shard's units' state is its units' (n0, nu), replicas included;
# - one more step at 3 ranks after loading, and at 1, gives that state's
#   next step bit for bit (given the same reduced gradients), so the loaded
#   replicas are the ones the step reads.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: saved at 2 ranks: meta.json shard-00000-of-00002.pt shard-00001-of-00002.pt
# CHECK-NEXT: the plan of 3 cuts {{.*}}
# CHECK-NEXT: loaded at 3 ranks: params, momentum and units' state bit-identical; the next step bit-identical: ok
# CHECK-NEXT: loaded at 1 ranks: params, momentum and units' state bit-identical; the next step bit-identical: ok
import os
import sys

import numpy as np

import muir
import muir.torch as mt
from muir.distributed import ZeroOptimizer
from ranks import (BATCH, NARROW, NARROW_BASE, batches, bound_model, cut_units, join, leave,
                   prepare, replicated, run, same, spawn)

SEED, CLIP, LR = 3, 0.5, 0.25


def worker(tmp, rank, world, scenario):
    join(tmp, rank, world, scenario)
    model = bound_model(tmp, os.path.join(tmp, "pkg-completep-lion-ar"), NARROW)
    opt = ZeroOptimizer(model, max_grad_norm=CLIP)
    flat = mt.binding_of(model).flat
    per = BATCH // world
    mine = slice(rank * per, (rank + 1) * per)
    out = os.path.join(tmp, "%s-w%d-r%d" % (scenario, world, rank))
    grads = []

    def step(x, y):
        opt.zero_grad()
        model(x[mine], y[mine])[1].backward()
        opt.step()
        grads.append(flat[1][opt.shards.begin:opt.shards.end].copy())

    def dump(tag):
        np.save("%s-%s-params.npy" % (out, tag), flat[0])
        np.save("%s-%s-states.npy" % (out, tag), np.stack([s.numpy() for s in opt.shards.states]))

    data = batches(4)
    if scenario == "save":
        opt.init(SEED)
        opt.param_groups[0]["lr"] = LR
        for x, y in data[:3]:
            step(x, y)
        opt.save(os.path.join(tmp, "ckpt"))
    else:
        opt.load(os.path.join(tmp, "ckpt"))
        dump("loaded")
        step(*data[3])
        dump("next")
    np.save(out + "-grads.npy", np.stack(grads))
    leave()


def main(tmp):
    [path] = prepare(tmp, optimizers=["lion-ar"], target=NARROW, base=NARROW_BASE)
    pkg = muir.Package(path)
    spawn(__file__, tmp, 2, "save")
    print("saved at 2 ranks:", " ".join(sorted(os.listdir(os.path.join(tmp, "ckpt")))))
    cuts = cut_units(pkg, pkg.plan_shards(3))
    print("the plan of 3 cuts", "; ".join(cuts))
    assert cuts

    def reduced(scenario, world, steps):
        g = np.zeros((steps, pkg.buffer_elements), np.float32)
        for r, (begin, end) in enumerate(pkg.plan_shards(world)):
            g[:, begin:end] = np.load(os.path.join(tmp, "%s-w%d-r%d-grads.npy"
                                                   % (scenario, world, r)))
        return g

    # One process: the whole state through the 2 ranks' reduced gradients.
    st = pkg.state()
    st.init(SEED)
    for t, g in enumerate(reduced("save", 2, 3), 1):
        st.flat_grads[...] = g
        st.step(t, LR, max_grad_norm=CLIP)
    saved = [b.copy() for b in [st.flat_params, *st.flat_states]]
    ok = True
    for world in (3, 1):
        spawn(__file__, tmp, world, "load")
        plan = pkg.plan_shards(world)
        # The next step of one process from the saved state with this
        # world's reduced gradients.
        for b, s in zip([st.flat_params, *st.flat_states], saved):
            b[...] = s
        st.flat_grads[...] = reduced("load", world, 1)[0]
        st.step(4, LR, max_grad_norm=CLIP)
        following = [st.flat_params, *st.flat_states]
        result = {}
        for tag, want in (("loaded", saved), ("next", following)):
            good = True
            for r, (begin, end) in enumerate(plan):
                out = os.path.join(tmp, "load-w%d-r%d-%s" % (world, r, tag))
                good &= same(np.load(out + "-params.npy"), want[0])
                states = np.load(out + "-states.npy")
                good &= same(states[0], want[1][begin:end])
                good &= same(states[1], replicated(pkg, begin, end, want[2]))
            result[tag] = good
        good = result["loaded"] and result["next"]
        ok &= good
        print("loaded at %d ranks: params, momentum and units' state %s; the next step %s: %s"
              % (world, "bit-identical" if result["loaded"] else "DIFFER",
                 "bit-identical" if result["next"] else "DIFFERS", "ok" if good else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    run(worker, main)
