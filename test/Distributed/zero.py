# ZeRO-1 through muir.distributed (docs/Distributed.md): the example GPT
# (examples/torch/gpt.py: d_model 64, 4 layers; base 32, 2 layers) bound
# to a CompleteP AdamW package, trained by 1, 2 and 3 gloo ranks with
# ZeroOptimizer (global-norm clipping at 0.5 on every step, a cosine lr
# factor), each rank the same share of a 6-sequence batch, against one
# process stepping the whole batch with the runtime's guarded step:
#
# - init (each rank its shard, then the all-gather) is bit-identical to
#   the single-process init on every rank;
# - the plan's bounds at 2 and 3 ranks cut through tensors (named below);
# - after 20 steps every rank holds the same params, and so do the
#   optimizer states gathered from the shards: bit-identical to the single
#   process at 1 rank; at 2 and 3 within float32 rounding of it, amplified
#   by 20 Adam steps (the ranks' gradients are summed in another order and
#   averaged; measured 2.3e-6 and 1.0e-5 of max |w|, allowed 5e-5); the
#   global norms agree to 4e-8 and the clip factor applies on the same
#   steps;
# - rank 0's host memory (tracemalloc: numpy's buffers) through bind, the
#   optimizer and 20 steps stays below params, grads and its shard of the
#   states plus 3/4 of the whole states it no longer allocates.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: plan of 2: [0, {{[0-9]+}}) [{{[0-9]+}}, {{[0-9]+}}) cuts through
# CHECK: plan of 3:
# CHECK: reference: 20 steps, {{[0-9]+}} clipped
# CHECK: 1 ranks: rank 0's host memory peak {{.*}}: ok
# CHECK: 1 ranks: init bit-identical, params equal on every rank, max |diff| {{.*}}: ok
# CHECK: 2 ranks: rank 0's host memory peak {{.*}}: ok
# CHECK: 2 ranks: init bit-identical, params equal on every rank, max |diff| {{.*}}: ok
# CHECK: 3 ranks: rank 0's host memory peak {{.*}}: ok
# CHECK: 3 ranks: init bit-identical, params equal on every rank, max |diff| {{.*}}: ok
import math
import os
import sys
import tracemalloc

import numpy as np

import muir
import muir.torch as mt
from muir.distributed import ZeroOptimizer
from ranks import BATCH, batches, bound_model, join, leave, prepare, run, spawn

STEPS, SEED, CLIP = 20, 7, 0.5


def lr_factor(t):
    return 0.5 + 0.5 * math.cos(math.pi * t / STEPS)


def worker(tmp, rank, world, scenario):
    join(tmp, rank, world, scenario)
    # Host memory of bind, the optimizer and the steps (numpy's buffers are
    # traced): the binding allocates no whole-size optimizer state.
    tracemalloc.start()
    model = bound_model(tmp, os.path.join(tmp, "pkg-completep"))
    opt = ZeroOptimizer(model, max_grad_norm=CLIP)
    opt.init(SEED)
    binding = mt.binding_of(model)
    flat = [binding.flat_params, binding.flat_grads]
    out = os.path.join(tmp, "w%d-r%d" % (world, rank))
    np.save(out + "-init.npy", flat[0])
    per = BATCH // world
    reports = []
    for t, (x, y) in enumerate(batches(STEPS), 1):
        opt.zero_grad()
        mine = slice(rank * per, (rank + 1) * per)
        model(x[mine], y[mine])[1].backward()
        opt.param_groups[0]["lr"] = lr_factor(t)
        opt.step()
        reports.append((opt.report.grad_norm, opt.report.grad_scale))
    np.save(out + "-peak.npy", np.array(tracemalloc.get_traced_memory()[1]))
    tracemalloc.stop()
    np.save(out + "-final.npy", flat[0])
    np.save(out + "-reports.npy", np.array(reports))
    np.save(out + "-states.npy", np.stack([s.numpy() for s in opt.shards.states]))
    leave()


def main(tmp):
    [path] = prepare(tmp)
    pkg = muir.Package(path)
    starts = {}
    for p in pkg.params_info.values():
        if p.tied_to is None:
            for c in range(p.copies):
                starts[p.offset + c * p.stride] = (p, c)

    def inside(e):
        for (first, (p, c)) in starts.items():
            if first < e < first + p.numel:
                return "%s copy %d" % (p.name, c)
        return None
    for world in (2, 3):
        plan = pkg.plan_shards(world)
        cuts = [inside(b) for b, _ in plan[1:] if inside(b)]
        print("plan of %d: %s%s" % (world, " ".join("[%d, %d)" % s for s in plan),
                                    " cuts through " + ", ".join(cuts) if cuts else ""))

    # One process, the whole batch, the runtime's guarded step.
    model = bound_model(tmp, path)
    binding = mt.binding_of(model)
    binding.state.init(SEED)
    init = binding.flat[0].copy()
    reports = []
    for t, (x, y) in enumerate(batches(STEPS), 1):
        binding.flat[1].fill(0.0)
        model(x, y)[1].backward()
        r = binding.state.step(t, lr_factor(t), max_grad_norm=CLIP)
        reports.append((r.grad_norm, r.grad_scale))
    reports = np.array(reports)
    final, states = binding.flat[0].copy(), [s.copy() for s in binding.flat[2:]]
    print("reference: %d steps, %d clipped" % (STEPS, (reports[:, 1] < 1).sum()))
    scale = np.abs(final).max()
    ok = True
    for world in (1, 2, 3):
        spawn(__file__, tmp, world, "train")
        plan = pkg.plan_shards(world)
        same_init, same_final, worst = True, True, 0.0
        gathered = [np.zeros_like(s) for s in states]
        for r in range(world):
            out = os.path.join(tmp, "w%d-r%d" % (world, r))
            got_init = np.load(out + "-init.npy")
            same_init &= np.array_equal(got_init.view(np.uint32), init.view(np.uint32))
            got = np.load(out + "-final.npy")
            if r == 0:
                first = got
                worst = np.abs(got - final).max() / scale
            same_final &= np.array_equal(got.view(np.uint32), first.view(np.uint32))
            begin, end = plan[r]
            for k, s in enumerate(np.load(out + "-states.npy")):
                gathered[k][begin:end] = s
            got_reports = np.load(out + "-reports.npy")
            norms = np.abs(got_reports[:, 0] - reports[:, 0]).max() / reports[:, 0].max()
            clipped_alike = np.array_equal(got_reports[:, 1] < 1, reports[:, 1] < 1)
        state_worst = max(np.abs(g - s).max() / max(np.abs(s).max(), 1e-30)
                          for g, s in zip(gathered, states))
        good = (same_init and same_final and worst < 5e-5 and state_worst < 1e-4
                and norms < 1e-5 and clipped_alike)
        ok &= good
        # Rank 0's host memory: params and grads (whole) and its shard of the
        # two states; the whole states it no longer allocates would add
        # 8 n bytes.
        n = pkg.buffer_elements
        peak = int(np.load(os.path.join(tmp, "w%d-r0-peak.npy" % world)))
        needed = 4 * (2 * n + 2 * (plan[0][1] - plan[0][0]))
        lean = peak < needed + 6 * n
        ok &= lean
        print("%d ranks: rank 0's host memory peak %.2f MB: params and grads %.2f MB, its "
              "shard of the states %.2f MB (whole states not allocated: %.2f MB): %s" % (
                  world, peak / 1e6, 8 * n / 1e6, (needed - 8 * n) / 1e6, 8 * n / 1e6,
                  "ok" if lean else "FAIL"))
        print("%d ranks: init %s, params %s on every rank, max |diff| %.2g of max |w|, "
              "states %.2g, norms %.2g, clipped on the same steps: %s: %s" % (
                  world, "bit-identical" if same_init else "DIFFERS",
                  "equal" if same_final else "NOT equal", worst, state_worst, norms,
                  clipped_alike, "ok" if good else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    run(worker, main)
