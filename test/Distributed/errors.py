# The errors of muir.distributed (docs/Distributed.md), each raised alike
# on every rank (no rank left waiting in a collective), with 2 gloo ranks:
# ranks running different packages (CompleteP and muP Table 8 of the same GPT),
# a trainer expecting another world size, a checkpoint of another package,
# a checkpoint whose meta.json and shards disagree on the world size, a
# missing shard file, a truncated shard, a shard whose pickle names code to
# run (refused unrun: shards load weights only), a shard with the right
# header and no states, state_dict on the sharded optimizer, tensors that are
# not a package's flat buffer, and no process group.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: no process group: ERROR_ARGUMENT: ShardedState: torch.distributed is not initialised
# CHECK: rank 0: package mismatch: ERROR_VERSION: ShardedState: rank 1 runs package {{[0-9a-f]+}} (model 'gpt'), rank 0 package {{[0-9a-f]+}} (model 'gpt'): every rank needs the same package
# CHECK: rank 1: package mismatch: ERROR_VERSION: ShardedState: rank 0 runs package
# CHECK: rank 0: world size: ERROR_ARGUMENT: ShardedState: inconsistent world sizes: rank 0 sees world size 2 (expects 3, is rank 0), the process group has 2 ranks
# CHECK: rank 1: world size: ERROR_ARGUMENT: ShardedState: inconsistent world sizes
# CHECK: rank 0: flat buffer: ERROR_ARGUMENT: ShardedState: params must be a contiguous 1-D float32 tensor of the package's {{[0-9]+}} elements, not (10,) torch.float32
# CHECK: rank 0: another package: ERROR_VERSION: load: rank 0: {{.*}}meta.json was saved with package {{[0-9a-f]+}} (model 'gpt'), this run has package {{[0-9a-f]+}} (model 'gpt', {{.*}}pkg-mup-table8); load it with the package it was saved with; rank 1:
# CHECK: rank 0: meta world size: ERROR_ARGUMENT: load: rank 0: {{.*}}meta.json: inconsistent world sizes: world_size 3 with a plan of 2 shards, which is not this package's plan for that many ranks
# CHECK: rank 0: shard world size: ERROR_ARGUMENT: load: rank 0: {{.*}}shard-00000-of-00002.pt: inconsistent world sizes: shard 0 says world size 3, rank 0, [{{[0-9]+}}, {{[0-9]+}}) where meta.json says 2, 0, [0, {{[0-9]+}})
# CHECK: rank 1: missing shard: ERROR_IO: load: rank 1: {{.*}}: cannot read shard 1 of 2:
# CHECK: rank 1: truncated shard: ERROR_IO: load: rank 1: {{.*}}: cannot read shard 1 of 2:
# CHECK: rank 0: pickled code: ERROR_IO: load: rank 0: {{.*}}: cannot read shard 0 of 2:
# CHECK-NOT: pickled code: ran
# CHECK: rank 0: shard buffers: ERROR_ARGUMENT: load: rank 0: {{.*}}shard-00000-of-00002.pt: buffers of the wrong size
# CHECK: rank 0: state_dict: ERROR_ARGUMENT: ZeroOptimizer: the optimizer state is sharded; use save(directory) / load(directory)
import json
import os
import shutil

import torch

import muir
import muir.torch as mt
from muir.distributed import ShardedState, ZeroOptimizer
from ranks import bound_model, join, leave, prepare, run, spawn


def expect(what, action):
    try:
        action()
    except muir.Error as e:
        return "%s: %s" % (what, e)
    return "%s: no error" % what


def worker(tmp, rank, world, scenario):
    join(tmp, rank, world, scenario)
    pkgs = {s: os.path.join(tmp, "pkg-" + s) for s in ("completep", "mup-table8")}
    lines = []
    # Rank 1 runs the muP package, rank 0 the CompleteP one.
    model = bound_model(tmp, pkgs["completep" if rank == 0 else "mup-table8"])
    lines.append(expect("package mismatch", lambda: ZeroOptimizer(model)))
    model = bound_model(tmp, pkgs["completep"])
    lines.append(expect("world size", lambda: ZeroOptimizer(model, world_size=3)))
    if rank == 0:
        package = mt.binding_of(model).package
        lines.append(expect("flat buffer", lambda: ShardedState(
            package, torch.zeros(10), torch.zeros(10))))
    opt = ZeroOptimizer(model)
    opt.init(1)
    good = os.path.join(tmp, "ckpt")
    opt.save(good)
    other = ZeroOptimizer(bound_model(tmp, pkgs["mup-table8"]))
    lines.append(expect("another package", lambda: other.load(good)))

    def tampered(name, edit):
        path = os.path.join(tmp, name)
        if rank == 0:
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(good, path)
            edit(path)
        torch.distributed.barrier()
        return path

    def meta_world(path):
        meta = json.load(open(os.path.join(path, "meta.json")))
        meta["world_size"] = 3
        json.dump(meta, open(os.path.join(path, "meta.json"), "w"))
    path = tampered("meta-world", meta_world)
    lines.append(expect("meta world size", lambda: opt.load(path)))

    def shard_world(path):
        shard = os.path.join(path, "shard-00000-of-00002.pt")
        data = torch.load(shard)
        data["world_size"] = 3
        torch.save(data, shard)
    path = tampered("shard-world", shard_world)
    lines.append(expect("shard world size", lambda: opt.load(path)))
    path = tampered("missing", lambda p: os.remove(os.path.join(p, "shard-00001-of-00002.pt")))
    lines.append(expect("missing shard", lambda: opt.load(path)))

    def truncate(path):
        shard = os.path.join(path, "shard-00001-of-00002.pt")
        data = open(shard, "rb").read()
        open(shard, "wb").write(data[:len(data) // 2])
    path = tampered("truncated", truncate)
    lines.append(expect("truncated shard", lambda: opt.load(path)))
    marker = os.path.join(tmp, "pickled-code-ran")

    def pickled_code(path):
        class Code:
            def __reduce__(self):
                return (open, (marker, "w"))
        torch.save(Code(), os.path.join(path, "shard-00000-of-00002.pt"))
    path = tampered("pickled-code", pickled_code)
    lines.append(expect("pickled code", lambda: opt.load(path)))
    if os.path.exists(marker):
        lines.append("pickled code: ran")

    def no_states(path):
        shard = os.path.join(path, "shard-00000-of-00002.pt")
        data = torch.load(shard)
        del data["states"]
        torch.save(data, shard)
    path = tampered("no-states", no_states)
    lines.append(expect("shard buffers", lambda: opt.load(path)))
    lines.append(expect("state_dict", opt.state_dict))
    # The optimizer still works after all that.
    opt.load(good)
    for line in lines:
        print("rank %d: %s" % (rank, line))
    leave()


def main(tmp):
    prepare(tmp, schemes=("completep", "mup-table8"))
    model = bound_model(tmp, os.path.join(tmp, "pkg-completep"))
    print(expect("no process group", lambda: ZeroOptimizer(model)))
    outs = spawn(__file__, tmp, 2, "errors")
    lines = sorted(set(outs[0].splitlines() + outs[1].splitlines()),
                   key=lambda l: (ORDER.index(l.split(": ")[1]), l))
    print("\n".join(lines))


ORDER = ["package mismatch", "world size", "flat buffer", "another package", "meta world size",
         "shard world size", "missing shard", "truncated shard", "pickled code",
         "shard buffers", "state_dict"]

if __name__ == "__main__":
    run(worker, main)
