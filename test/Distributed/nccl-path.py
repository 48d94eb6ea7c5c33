# The NCCL/CUDA path of muir.distributed without a GPU (docs/Distributed.md,
# "The NCCL path"): this machine's torch has no CUDA, so the path is
# selected and constructed with torch's CUDA pieces mocked, in one process
# (a gloo group of one rank):
#
# - default_backend() is gloo here and nccl where CUDA and NCCL are;
# - ShardedState refuses a backend that does not fit its tensors (CPU
#   tensors under NCCL), a DistributedError naming both;
# - over CUDA tensors (CPU tensors that report a CUDA device) under an NCCL
#   group, it allocates the shard's states on that device and adopts
#   device pointers: params and grads at data_ptr() + 4 begin, the states'
#   pointers, device "cuda:<index>", the rank's shard; the partial sums go
#   through the device for the collectives;
# - unmocked, the runtime's CUDA branch answers that adoption with
#   ERROR_NO_DEVICE (no CUDA driver here): the CUDA code is built in.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: default backend here: gloo; with CUDA and NCCL: nccl
# CHECK-NEXT: CPU tensors under nccl: DistributedError: ShardedState: rank 0's process group has backend nccl, but CPU tensors need gloo
# CHECK-NEXT: CUDA tensors under nccl: states on cuda:1 (2 of {{[0-9]+}} elements), adopt(params + 4 begin, grads + 4 begin, the states, device='cuda:1', shard=(0, {{[0-9]+}})): ok
# CHECK-NEXT: CUDA partial sums: all-reduced on cuda:1: ok
# CHECK-NEXT: the runtime's CUDA branch: ERROR_NO_DEVICE: no CUDA driver
import datetime
import os
import sys
from unittest import mock

import numpy as np
import torch
import torch.distributed as dist

import muir
import muir.distributed as md
from ranks import prepare


class CudaLooking(torch.Tensor):
    """A CPU tensor that reports a CUDA device (what the path reads)."""

    @property
    def device(self):
        return torch.device("cuda", 1)


def main(tmp):
    with mock.patch.object(torch.cuda, "is_available", return_value=True), \
            mock.patch.object(dist, "is_nccl_available", return_value=True):
        mocked = md.default_backend()
    print("default backend here: %s; with CUDA and NCCL: %s" % (md.default_backend(), mocked))
    assert (md.default_backend(), mocked) == ("gloo", "nccl")

    [path] = prepare(tmp)
    pkg = muir.Package(path)
    n = pkg.buffer_elements
    dist.init_process_group("gloo", init_method="file://" + os.path.join(tmp, "store"),
                            rank=0, world_size=1, timeout=datetime.timedelta(seconds=60))
    params = torch.from_numpy(muir.aligned_zeros(n, pkg.alignment))
    grads = torch.from_numpy(muir.aligned_zeros(n, pkg.alignment))
    with mock.patch.object(dist, "get_backend", return_value="nccl"):
        try:
            md.ShardedState(pkg, params, grads)
            print("CPU tensors under nccl: accepted")
        except md.DistributedError as e:
            print("CPU tensors under nccl: DistributedError: %s" % e.message)

    # The CUDA branch: states allocated on the device, device pointers
    # adopted (recorded instead of a CUDA driver).
    cuda_params = torch.Tensor._make_subclass(CudaLooking, params)
    cuda_grads = torch.Tensor._make_subclass(CudaLooking, grads)
    zeros = torch.zeros
    allocated = []

    def on_device(*args, device=None, **kwargs):
        if device is not None and torch.device(device).type == "cuda":
            allocated.append((args[0], device))
            device = None
        return zeros(*args, device=device, **kwargs)
    adopted = []
    with mock.patch.object(dist, "get_backend", return_value="nccl"), \
            mock.patch.object(md.torch, "zeros", side_effect=on_device), \
            mock.patch.object(pkg, "adopt", side_effect=lambda *a, **k: adopted.append((a, k))):
        shards = md.ShardedState(pkg, cuda_params, cuda_grads)
    begin, end = shards.begin, shards.end
    (args, kwargs), = adopted
    want = (params.data_ptr() + 4 * begin, grads.data_ptr() + 4 * begin,
            [s.data_ptr() for s in shards.states])
    good = (args == want and kwargs == {"device": "cuda:1", "shard": (begin, end)} and
            allocated == [(max(end - begin, 1), torch.device("cuda", 1))] * pkg.num_states and
            [s.numel() for s in shards.states] == [end - begin] * pkg.num_states)
    print("CUDA tensors under nccl: states on cuda:1 (%d of %d elements), adopt(params + 4 "
          "begin, grads + 4 begin, the states, device=%r, shard=%s): %s"
          % (len(allocated), end - begin, kwargs.get("device"), kwargs.get("shard"),
             "ok" if good else "FAIL %s %s %s" % (args, kwargs, allocated)))

    # The partial sums: to the device, all-reduced there, back to the host.
    moved = []

    def to(self, device):
        moved.append(device)
        return self
    with mock.patch.object(torch.Tensor, "to", to):
        summed = shards._all_reduce(np.arange(5, dtype=np.float64))
    reduced = np.array_equal(summed, np.arange(5)) and moved == [torch.device("cuda", 1)]
    print("CUDA partial sums: all-reduced on cuda:1: %s" % ("ok" if reduced else "FAIL"))

    try:
        pkg.adopt(want[0], want[1], want[2], device="cuda:1", shard=(begin, end))
        print("the runtime's CUDA branch: adopted without a GPU")
    except muir.Error as e:
        print("the runtime's CUDA branch: %s: %s" % (e.status.name, e.message))
    dist.destroy_process_group()
    sys.exit(0 if good and reduced else 1)


if __name__ == "__main__":
    main(sys.argv[1])
