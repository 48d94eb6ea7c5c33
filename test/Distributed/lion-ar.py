# LionAR under ZeRO-1 (docs/Distributed.md#lionar-units-that-span-shards):
# the example GPT at width 48 (rows of 48 and 192 elements, so reduction
# slots of 4096 elements cut rows), packaged with LionAR per row and with
# units=tensor, trained 20 steps by 1, 2 and 3 gloo ranks with
# ZeroOptimizer (clipping at 0.5, a cosine lr factor), each rank its share
# of a 6-sequence batch:
#
# - the plans at 2 and 3 ranks cut through LionAR units (a row of a matrix
#   with weight decay; a whole matrix with units=tensor), named below;
# - every rank ends with the same params; given the gradients the ranks
#   reduced (each rank's shard of them, every step), one process's guarded
#   whole-state step gives bit for bit the same params, momentum, every
#   unit's n0 and nu (a shard that starts inside a unit holds a replica of
#   its state) and the same norms and clip factors;
# - those reduced gradients equal one process's whole-batch gradients to
#   float32 rounding (the only difference from one process: the ranks sum
#   them in another order; Lion's sign then flips where the momentum is
#   ~0, so the 20-step params are compared given the same gradients).
# - the last step's per-unit telemetry (muir_package_unit_telemetry of the
#   ranks' summed telemetry partials, StepReport.unit_telemetry) is the same
#   on every rank and one process's: equal for every unit no bound cuts,
#   within 1e-10 for a cut one.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: lion-ar: plan of 2: {{.*}} cuts {{.*}}
# CHECK: lion-ar: plan of 3:
# CHECK: lion-ar-units-tensor: plan of 2: {{.*}} cuts {{.*}}
# CHECK: 1 ranks: lion-ar: params equal on every rank, bit-identical to one process given the reduced gradients (params, momentum, units' n0 and nu, norms){{.*}}: ok
# CHECK: 2 ranks: lion-ar: {{.*}}: ok
# CHECK: 2 ranks: lion-ar-units-tensor: {{.*}}: ok
# CHECK: 3 ranks: lion-ar: {{.*}}: ok
# CHECK: 3 ranks: lion-ar-units-tensor: {{.*}}: ok
import math
import os
import sys

import numpy as np

import muir
import muir.torch as mt
from muir.distributed import ZeroOptimizer
from ranks import (BATCH, NARROW, NARROW_BASE, batches, bound_model, cut_units, join, leave,
                   prepare, replicated, run, same, spawn)

STEPS, SEED, CLIP = 20, 7, 0.5
OPTIMIZERS = ["lion-ar", "lion-ar:units=tensor"]
NAMES = ["lion-ar", "lion-ar-units-tensor"]


def lr_factor(t):
    return 0.5 + 0.5 * math.cos(math.pi * t / STEPS)


def worker(tmp, rank, world, scenario):
    join(tmp, rank, world, scenario)
    per = BATCH // world
    mine = slice(rank * per, (rank + 1) * per)
    for name in NAMES:
        model = bound_model(tmp, os.path.join(tmp, "pkg-completep-" + name), NARROW)
        opt = ZeroOptimizer(model, max_grad_norm=CLIP)
        opt.init(SEED)
        flat = mt.binding_of(model).flat
        begin, end = opt.shards.begin, opt.shards.end
        grads, reports = [], []
        for t, (x, y) in enumerate(batches(STEPS), 1):
            opt.zero_grad()
            model(x[mine], y[mine])[1].backward()
            opt.param_groups[0]["lr"] = lr_factor(t)
            if t < STEPS:
                opt.step()
                report = opt.report
            else:  # the last step with telemetry, through the sharded state
                report = opt.shards.step(t, lr_factor(t), max_grad_norm=CLIP, telemetry=True)
                np.savez(os.path.join(tmp, "%s-w%d-r%d-units.npz" % (name, world, rank)),
                         **report.unit_telemetry)
            grads.append(flat[1][begin:end].copy())  # this rank's reduced shard
            reports.append((report.grad_norm, report.grad_scale))
        out = os.path.join(tmp, "%s-w%d-r%d" % (name, world, rank))
        np.save(out + "-final.npy", flat[0])
        np.save(out + "-grads.npy", np.stack(grads))
        np.save(out + "-reports.npy", np.array(reports))
        np.save(out + "-states.npy", np.stack([s.numpy() for s in opt.shards.states]))
    leave()


def main(tmp):
    paths = prepare(tmp, optimizers=OPTIMIZERS, target=NARROW, base=NARROW_BASE)
    pkgs = [muir.Package(p) for p in paths]
    for name, pkg in zip(NAMES, pkgs):
        for world in (2, 3):
            cuts = cut_units(pkg, pkg.plan_shards(world))
            print("%s: plan of %d: %s%s" % (name, world, pkg.plan_shards(world),
                                            " cuts " + "; ".join(cuts) if cuts else ""))
        assert cut_units(pkg, pkg.plan_shards(2)) + cut_units(pkg, pkg.plan_shards(3)), name

    # One process's whole-batch gradients at the first step (from the init).
    whole_grads = []
    for pkg, path in zip(pkgs, paths):
        model = bound_model(tmp, path, NARROW)
        binding = mt.binding_of(model)
        binding.state.init(SEED)
        x, y = batches(1)[0]
        model(x, y)[1].backward()
        whole_grads.append(binding.flat[1].copy())

    ok = True
    for world in (1, 2, 3):
        spawn(__file__, tmp, world, "train")
        for name, pkg, g1 in zip(NAMES, pkgs, whole_grads):
            plan = pkg.plan_shards(world)
            n = pkg.buffer_elements
            grads = np.zeros((STEPS, n), np.float32)
            finals, reports, shards = [], [], []
            for r, (begin, end) in enumerate(plan):
                out = os.path.join(tmp, "%s-w%d-r%d" % (name, world, r))
                grads[:, begin:end] = np.load(out + "-grads.npy")
                finals.append(np.load(out + "-final.npy"))
                reports.append(np.load(out + "-reports.npy"))
                shards.append(np.load(out + "-states.npy"))
            # One process, the ranks' reduced gradients, the guarded step.
            st = pkg.state()
            st.init(SEED)
            want_reports = []
            for t in range(1, STEPS + 1):
                st.flat_grads[...] = grads[t - 1]
                rep = st.step(t, lr_factor(t), max_grad_norm=CLIP, telemetry=t == STEPS)
                want_reports.append((rep.grad_norm, rep.grad_scale))
            # The last step's per-unit telemetry, the ranks' partials summed:
            # every rank's the same; the whole state's for the units no bound
            # cuts, within 1e-10 for a cut one (its parts' sums added).
            units = [np.load(os.path.join(tmp, "%s-w%d-r%d-units.npz" % (name, world, r)))
                     for r in range(world)]
            cut = {int(c.split("[")[1].split(",")[0]) for c in cut_units(pkg, plan)}
            telemetry_ok = all(sorted(u.files) == sorted(rep.unit_telemetry) for u in units)
            for pname, want in rep.unit_telemetry.items():
                info = pkg.params_info[pname]
                per = pkg.rotational_units[pname][0]
                telemetry_ok &= all(np.array_equal(u[pname], units[0][pname], equal_nan=True)
                                    for u in units)
                got = units[0][pname]
                for c in range(want.shape[0]):
                    for r in range(want.shape[1]):
                        if info.offset + c * info.stride + r * per in cut:
                            telemetry_ok &= bool(np.allclose(got[c, r], want[c, r], rtol=1e-10,
                                                             atol=0, equal_nan=True))
                        else:
                            telemetry_ok &= bool(np.array_equal(got[c, r], want[c, r],
                                                                equal_nan=True))
            equal = all(same(f, finals[0]) for f in finals)
            exact = same(finals[0], st.flat_params) and all(
                np.array_equal(np.asarray(rp), np.array(want_reports)) for rp in reports)
            for (begin, end), s in zip(plan, shards):
                exact &= same(s[0], st.flat_states[0][begin:end])
                exact &= same(s[1], replicated(pkg, begin, end, st.flat_states[1]))
            rounding = np.abs(grads[0] - g1).max() / np.abs(g1).max()
            good = equal and exact and rounding < 1e-5 and telemetry_ok
            ok &= good
            print("%d ranks: %s: params %s on every rank, %s to one process given the "
                  "reduced gradients (params, momentum, units' n0 and nu, norms): the "
                  "reduced gradients of step 1 within %.2g of one process's; per-unit "
                  "telemetry %s: %s" % (
                      world, name, "equal" if equal else "NOT equal",
                      "bit-identical" if exact else "NOT bit-identical", rounding,
                      "as one process's" if telemetry_ok else "DIFFERS",
                      "ok" if good else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    run(worker, main)
