"""Sharded muir steps under torch.distributed (ZeRO-1; docs/Distributed.md).

Every rank keeps a whole replica of the flat params and grads buffers (what
the forward and backward use) and a shard of the optimizer state: rank r of
N owns the elements ``package.plan_shards(N)[r]`` of the flat buffers. A
step

1. reduces the gradients into their owners' shards (``dist.reduce`` of each
   shard to its owner: a reduce-scatter with uneven shards, on gloo and
   NCCL alike) and, with ``average=True``, divides them by N (as DDP does);
2. when guards or telemetry ask for it, all-reduces the reduction phase's
   per-slot partial sums (float64): every slot lies in one shard, so the
   summed partials, the global norm, the clip factor and the skip decision
   are exactly those of one process holding the same gradients; for
   LionAR, then all-reduces its units' partial sums (a unit may span
   shards; each of its per-slot segments has one owner, so the sums are
   one process's too);
3. steps the rank's shard with the package's shard kernel (each element
   with the constants of its whole tensor: a shard may cut through one, or
   through a LionAR unit, whose state every rank holding part of it
   keeps);
4. all-gathers the updated parameters (``dist.broadcast`` of each shard
   from its owner).

Init gives the single-process bits for any world size (each rank
initialises its shard from the counter-based RNG, then the all-gather).
Checkpoints are sharded: one file per rank plus ``meta.json``; a checkpoint
saved at N ranks loads at M, bit for bit, and refuses another package.

On the CPU use the gloo backend. On CUDA (NCCL) pass CUDA tensors: the shard
state adopts device pointers in the device's primary context (the one
PyTorch uses), the partial sums go through the device for NCCL.
"""

import json
import os
import pickle

import numpy as np
import torch
import torch.distributed as dist

import muir
from muir.torch import BoundOptimizer
from muir.torch._binding import _bf16_tensor

__all__ = ["DistributedError", "ShardedState", "ZeroOptimizer",
           "default_backend"]

_FORMAT = "muir-sharded-checkpoint"


class DistributedError(muir.Error, RuntimeError):
    """Ranks that disagree (another package, another world size) or a
    checkpoint that does not fit; raised on every rank alike."""

    def __init__(self, message, status=muir.Status.ERROR_ARGUMENT):
        super().__init__(status, message)


def default_backend():
    """The torch.distributed backend for muir's sharded steps on this
    machine: "nccl" where CUDA and NCCL are available (one GPU per rank,
    ShardedState over CUDA tensors), else "gloo" (CPU tensors)."""
    return "nccl" if torch.cuda.is_available() and \
        dist.is_nccl_available() else "gloo"


def _agree(group, error, what):
    """Every rank's `error` (None or a DistributedError) gathered: raises
    the same DistributedError on all ranks when any rank has one, so no
    rank waits in a collective for a rank that gave up."""
    mine = None if error is None else (int(error.status), error.message)
    errors = [None] * dist.get_world_size(group)
    dist.all_gather_object(errors, mine, group=group)
    bad = [(r, e) for r, e in enumerate(errors) if e is not None]
    if bad:
        raise DistributedError(
            "%s: %s" % (what, "; ".join("rank %d: %s" % (r, e[1])
                                        for r, e in bad)), bad[0][1][0])


def _check_flat(tensor, package, label, dtype=torch.float32):
    if not isinstance(tensor, torch.Tensor):
        raise DistributedError("ShardedState: %s must be a torch tensor, not "
                               "%s" % (label, type(tensor).__name__))
    if tensor.dtype != dtype or tensor.dim() != 1 or \
            not tensor.is_contiguous() or \
            tensor.numel() != package.buffer_elements:
        raise DistributedError(
            "ShardedState: %s must be a contiguous 1-D %s tensor of the "
            "package's %d elements%s, not %s %s" % (
                label, str(dtype).replace("torch.", ""),
                package.buffer_elements,
                " (package '%s' is bf16)" % package.path
                if package.precision == "bf16" else "",
                tuple(tensor.shape), tensor.dtype))
    if tensor.data_ptr() % package.alignment:
        raise DistributedError(
            "ShardedState: %s at %#x is not aligned to the package's %d bytes"
            % (label, tensor.data_ptr(), package.alignment))


class ShardedState:
    """This rank's shard of `package`'s buffers over the whole-replica flat
    tensors `params` and `grads` (1-D float32, buffer_elements each, on the
    CPU for gloo or one CUDA device for NCCL). Collective: every rank of
    `group` constructs it at the same point, with the same package;
    `world_size`, when given, is the number of ranks the trainer expects.

    A bf16 package (CPU only) takes float32 `params` (the master weights),
    bfloat16 `grads` and `params_bf16` (the whole bf16 params copy the
    forward reads): the gradients are reduced in float32 and rounded to
    nearest into this rank's shard, the step writes the shard's master and
    copy, and both are all-gathered."""

    def __init__(self, package, params, grads, group=None, world_size=None,
                 average=True, params_bf16=None):
        if not dist.is_initialized():
            raise DistributedError("ShardedState: torch.distributed is not "
                                   "initialised (init_process_group first)")
        self.package = package
        self.group = group
        self.rank = dist.get_rank(group)
        self.world_size = dist.get_world_size(group)
        self.average = bool(average)
        self.bf16 = package.precision == "bf16"
        _check_flat(params, package, "params")
        _check_flat(grads, package, "grads",
                    torch.bfloat16 if self.bf16 else torch.float32)
        if self.bf16 and params_bf16 is None:
            raise DistributedError(
                "ShardedState: package '%s' is bf16: its params copy "
                "(params_bf16, a bfloat16 tensor) is needed too"
                % package.path)
        if not self.bf16 and params_bf16 is not None:
            raise DistributedError(
                "ShardedState: package '%s' is %s: it has no bf16 copy of "
                "the params" % (package.path, package.precision))
        if self.bf16:
            _check_flat(params_bf16, package, "params_bf16", torch.bfloat16)
            if params.device.type != "cpu":
                raise DistributedError(
                    "ShardedState: bf16 packages on %s are not supported "
                    "yet (CPU tensors over gloo only)" % params.device)
        if params.device != grads.device:
            raise DistributedError("ShardedState: params on %s, grads on %s"
                                   % (params.device, grads.device))
        self.device = params.device
        # NCCL reduces CUDA tensors only; gloo's CUDA collectives lack the
        # reduce the step needs.
        backend = dist.get_backend(group)
        wants = "nccl" if self.device.type == "cuda" else "gloo"
        # Every rank must run the same package with the same world size.
        mine = {"hash": package.package_hash, "model": package.model,
                "world_size": self.world_size, "expected": world_size,
                "rank": self.rank, "device": self.device.type,
                "backend": backend}
        views = [None] * self.world_size
        dist.all_gather_object(views, mine, group=group)
        for r, v in enumerate(views):
            if v["hash"] != package.package_hash:
                raise DistributedError(
                    "ShardedState: rank %d runs package %s (model '%s'), "
                    "rank %d package %s (model '%s'): every rank needs the "
                    "same package" % (r, v["hash"][:16], v["model"],
                                      self.rank, package.package_hash[:16],
                                      package.model),
                    muir.Status.ERROR_VERSION)
            if v["world_size"] != self.world_size or (
                    v["expected"] is not None and
                    v["expected"] != self.world_size) or v["rank"] != r:
                raise DistributedError(
                    "ShardedState: inconsistent world sizes: rank %d sees "
                    "world size %d (expects %s, is rank %d), the process "
                    "group has %d ranks" % (r, v["world_size"], v["expected"],
                                            v["rank"], self.world_size))
            if v["backend"] != wants:
                raise DistributedError(
                    "ShardedState: rank %d's process group has backend %s, "
                    "but %s tensors need %s (muir.distributed."
                    "default_backend)" % (r, v["backend"],
                                          self.device.type.upper(), wants))
            if v["device"] != self.device.type:
                raise DistributedError(
                    "ShardedState: rank %d keeps its buffers on %s, rank %d "
                    "on %s" % (r, v["device"], self.rank, self.device.type))
        self.plan = package.plan_shards(self.world_size)
        self.begin, self.end = self.plan[self.rank]
        self.params, self.grads = params, grads
        self.params_bf16 = params_bf16
        n = self.end - self.begin
        if self.bf16:
            # The shard's bf16 grads and copy in buffers of their own (a
            # shard of the replicas may not start at an aligned address):
            # reduce_grads writes the one, gather_params reads the other.
            bits = [muir.aligned_zeros(n, package.alignment, np.uint16)
                    for _ in range(2)]
            self.shard_grads, self.shard_params_bf16 = [
                _bf16_tensor(b) for b in bits]
            self.states = [torch.from_numpy(
                muir.aligned_zeros(n, package.alignment))
                for _ in range(package.num_states)]
            self.state = package.adopt(
                params[self.begin:self.end].numpy(), bits[0],
                [s.numpy() for s in self.states],
                shard=(self.begin, self.end), params_bf16=bits[1])
        elif self.device.type == "cpu":
            self.states = [torch.from_numpy(
                muir.aligned_zeros(n, package.alignment))
                for _ in range(package.num_states)]
            self.state = package.adopt(
                params[self.begin:self.end].numpy(),
                grads[self.begin:self.end].numpy(),
                [s.numpy() for s in self.states],
                shard=(self.begin, self.end))
        else:
            # The caching allocator aligns to 512 bytes; a shard starts at a
            # slot boundary, a multiple of the package's alignment.
            # (One element at least: an empty shard still needs addresses.)
            self.states = [torch.zeros(max(n, 1), dtype=torch.float32,
                                       device=self.device)[:n]
                           for _ in range(package.num_states)]
            self.state = package.adopt(
                params.data_ptr() + 4 * self.begin,
                grads.data_ptr() + 4 * self.begin,
                [s.data_ptr() for s in self.states],
                device="cuda:%d" % self.device.index,
                shard=(self.begin, self.end))
        #: The last step's muir.StepReport (None without guards).
        self.report = None

    # -- collectives ---------------------------------------------------------

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def gather_params(self):
        """All-gather: every rank's params (a bf16 package's: and its bf16
        copy) get every shard from its owner."""
        self._sync()
        if self.bf16:
            with torch.no_grad():
                self.params_bf16[self.begin:self.end].copy_(
                    self.shard_params_bf16)
        for q, (begin, end) in enumerate(self.plan):
            if end > begin:
                dist.broadcast(self.params[begin:end], src=q,
                               group=self.group)
                if self.bf16:
                    # gloo has no bfloat16 (nor int16): the bytes.
                    dist.broadcast(self.params_bf16[begin:end].view(
                        torch.uint8), src=q, group=self.group)
        self._sync()

    def reduce_grads(self):
        """Reduce-scatter: the sum (the mean with ``average``) of every
        rank's grads lands in the owner's shard; other ranks' copies of a
        shard are left undefined. A bf16 package's are summed (and
        averaged) in float32, then rounded to nearest into the shard's bf16
        grads (shard_grads); the replica is left as it was."""
        if self.bf16:
            wide = self.grads.float()
            for q, (begin, end) in enumerate(self.plan):
                if end > begin:
                    dist.reduce(wide[begin:end], dst=q, op=dist.ReduceOp.SUM,
                                group=self.group)
            mine = wide[self.begin:self.end]
            if self.average and self.world_size > 1:
                mine.div_(self.world_size)
            self.shard_grads.copy_(mine)
            return
        self._sync()
        for q, (begin, end) in enumerate(self.plan):
            if end > begin:
                dist.reduce(self.grads[begin:end], dst=q, op=dist.ReduceOp.SUM,
                            group=self.group)
        if self.average and self.world_size > 1:
            self.grads[self.begin:self.end].div_(self.world_size)
        self._sync()

    def _all_reduce(self, values):
        """The elementwise sum over the ranks of a float64 numpy vector."""
        tensor = torch.from_numpy(values)
        if self.device.type == "cuda":
            tensor = tensor.to(self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM, group=self.group)
        return tensor.cpu().numpy()

    # -- init and step -------------------------------------------------------

    def init(self, seed=0):
        """Initialises this rank's shard (the single-process bits), then
        all-gathers the params."""
        self.state.init(seed)
        self.gather_params()

    def zero_states(self):
        for s in self.states:
            s.zero_()

    def step(self, t, lr_factor=1.0, max_grad_norm=None, skip_nonfinite=False,
             telemetry=False, reduce_grads=True):
        """One sharded step (module doc): returns a muir.StepReport with
        guards or telemetry (its ``telemetry`` by parameter name), else
        None. `reduce_grads=False` when the grads are already reduced (the
        caller's own collectives)."""
        if reduce_grads:
            self.reduce_grads()
        elif self.bf16:
            self.shard_grads.copy_(self.grads[self.begin:self.end])
        report = None
        guarded = max_grad_norm is not None or skip_nonfinite or telemetry
        units = self.package.num_units > 0
        if guarded or units:
            slots = self.package.num_slots
            if guarded:
                partials = self._all_reduce(self.state.reduce())
            else:
                partials = np.zeros(self.package.step_partials)
            if units:
                # Second round: LionAR's unit sums, with the gradients
                # scaled by the clip factor the summed partials give.
                self.state.reduce_units(t, partials, lr_factor=lr_factor,
                                        max_grad_norm=max_grad_norm,
                                        skip_nonfinite=skip_nonfinite)
                partials[slots:] = self._all_reduce(partials[slots:].copy())
            result = self.state.step_sharded(
                t, partials, lr_factor=lr_factor, max_grad_norm=max_grad_norm,
                skip_nonfinite=skip_nonfinite, telemetry=telemetry)
            if telemetry:
                result, mine = result
                summed = self._all_reduce(mine)
                by_name = (self.package.combine_telemetry(summed)
                           if not result.skipped else None)
                by_unit = (self.package.combine_unit_telemetry(summed)
                           if not result.skipped else None)
                result = muir.StepReport(result.grad_norm, result.grad_scale,
                                         result.skipped, by_name, by_unit)
            report = result if guarded else None
        else:
            self.state.step(t, lr_factor)
        self._sync()
        self.gather_params()
        self.report = report
        return report

    # -- checkpoints -----------------------------------------------------------

    def _cut_unit(self):
        """The LionAR unit [lo, hi) this shard starts inside (lo < begin),
        else (begin, begin): it keeps a replica of that unit's state (n0,
        nu) at its own first two elements of state buffer 1 (runtime.h,
        muir_package_unit_at)."""
        if self.package.num_units and self.begin < self.end:
            lo, hi = self.package.unit_at(self.begin)
            if lo < self.begin < hi:
                return lo, hi
        return self.begin, self.begin

    def _shard_path(self, directory, rank, world_size):
        return os.path.join(directory, "shard-%05d-of-%05d.pt"
                            % (rank, world_size))

    def save(self, directory, extra=None):
        """Writes this rank's shard (its params and optimizer states, with
        the package's identity and the plan) and, on rank 0 once every shard
        is written, ``meta.json``. Collective. `extra` (JSON) goes into
        meta.json (the step count, a scheduler's state...)."""
        error = None
        try:
            os.makedirs(directory, exist_ok=True)
            path = self._shard_path(directory, self.rank, self.world_size)
            self._sync()
            states = [s.detach().cpu().clone() for s in self.states]
            if self._cut_unit()[0] < self.begin:
                # The file holds one process's layout: a unit's state at
                # its own first two elements only (load puts the replica).
                states[1][0:2] = 0.0
            shard = {
                "format": _FORMAT, "package_hash": self.package.package_hash,
                "model": self.package.model, "world_size": self.world_size,
                "rank": self.rank, "begin": self.begin, "end": self.end,
                "params": self.params[self.begin:self.end].detach().cpu()
                .clone(),
                "states": states}
            if self.bf16:
                # The copy the steps rounded stochastically (not the
                # master's nearest) and the seed of the next roundings.
                shard["params_bf16"] = self.shard_params_bf16.view(
                    torch.int16).clone()
                shard["rounding_seed"] = self.state.rounding_seed
            torch.save(shard, path + ".tmp")
            os.replace(path + ".tmp", path)
        except OSError as e:
            error = DistributedError("cannot write its shard: %s" % e,
                                     muir.Status.ERROR_IO)
        _agree(self.group, error, "save")
        if self.rank == 0:
            meta = {"format": _FORMAT, "package_hash":
                    self.package.package_hash, "model": self.package.model,
                    "buffer_elements": self.package.buffer_elements,
                    "world_size": self.world_size,
                    "plan": [list(p) for p in self.plan],
                    "extra": extra}
            tmp = os.path.join(directory, "meta.json.tmp")
            with open(tmp, "w") as f:
                json.dump(meta, f, indent=1)
            os.replace(tmp, os.path.join(directory, "meta.json"))
        dist.barrier(group=self.group)

    def _read_meta(self, directory):
        path = os.path.join(directory, "meta.json")
        try:
            with open(path) as f:
                meta = json.load(f)
        except (OSError, ValueError) as e:
            raise DistributedError("%s: not a sharded checkpoint: %s"
                                   % (path, e), muir.Status.ERROR_IO)
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise DistributedError("%s: not a muir sharded checkpoint" % path)
        if meta.get("package_hash") != self.package.package_hash:
            raise DistributedError(
                "%s was saved with package %s (model '%s'), this run has "
                "package %s (model '%s', %s); load it with the package it was "
                "saved with" % (path, str(meta.get("package_hash"))[:16],
                                meta.get("model"),
                                self.package.package_hash[:16],
                                self.package.model, self.package.path),
                muir.Status.ERROR_VERSION)
        plan = meta.get("plan")
        world = meta.get("world_size")
        if not isinstance(world, int) or world < 1 or \
                not isinstance(plan, list) or len(plan) != world or \
                plan != [list(p) for p in self.package.plan_shards(world)]:
            raise DistributedError(
                "%s: inconsistent world sizes: world_size %r with a plan of "
                "%s shards, which is not this package's plan for that many "
                "ranks" % (path, world, len(plan) if isinstance(plan, list)
                           else "no"))
        return meta

    def load(self, directory):
        """Loads a checkpoint written by save() at any world size: this rank
        reads the shards that overlap its own and copies their params and
        states in (bit for bit), then the params are all-gathered.
        Collective. Returns meta.json's `extra`."""
        error, meta = None, None
        try:
            meta = self._read_meta(directory)
            world = meta["world_size"]
            # A LionAR unit this shard starts inside keeps its state (n0,
            # nu) at the shard's first two elements of state buffer 1; the
            # checkpoint has it at the unit's own first two, in the saved
            # shard that holds them.
            unit = self._cut_unit()
            cut = unit[0] < self.begin
            replica = None
            for q, (begin, end) in enumerate(meta["plan"]):
                lo, hi = max(begin, self.begin), min(end, self.end)
                holds_unit = cut and begin <= unit[0] < end
                if lo >= hi and not holds_unit:
                    continue
                path = self._shard_path(directory, q, world)
                try:
                    # weights_only: a checkpoint is data; unpickling
                    # arbitrary objects would run whatever code it names.
                    shard = torch.load(path, weights_only=True)
                except (OSError, RuntimeError, EOFError,
                        pickle.UnpicklingError) as e:
                    raise DistributedError("%s: cannot read shard %d of %d: %s"
                                           % (directory, q, world, e),
                                           muir.Status.ERROR_IO)
                header = (shard.get("format"), shard.get("package_hash"),
                          shard.get("world_size"), shard.get("rank"),
                          shard.get("begin"), shard.get("end")) \
                    if isinstance(shard, dict) else None
                if header != (_FORMAT, self.package.package_hash, world, q,
                              begin, end):
                    raise DistributedError(
                        "%s: inconsistent world sizes: shard %d says world "
                        "size %s, rank %s, [%s, %s) where meta.json says %d, "
                        "%d, [%d, %d)" % (path, q, *(header or (None,) * 6)[2:],
                                          world, q, begin, end))
                params, states = shard.get("params"), shard.get("states")
                copy = shard.get("params_bf16") if self.bf16 else params
                if not isinstance(states, (list, tuple)) or \
                        len(states) != len(self.states) or \
                        not all(isinstance(b, torch.Tensor) and
                                b.numel() == end - begin
                                for b in [params, copy, *states]) or \
                        (self.bf16 and not isinstance(
                            shard.get("rounding_seed"), int)):
                    raise DistributedError(
                        "%s: buffers of the wrong size%s" % (
                            path, " (or no params_bf16 and rounding_seed "
                            "of a bf16 package)" if self.bf16 else ""))
                # copy_ would convert other values into the bits silently.
                seed = shard.get("rounding_seed")
                if self.bf16 and (copy.dtype != torch.int16 or
                                  isinstance(seed, bool) or
                                  not 0 <= seed < 2 ** 64):
                    raise DistributedError(
                        "%s: a bf16 shard needs params_bf16 as the int16 "
                        "bits save() writes and a rounding_seed in [0, "
                        "2**64), not %s and %r" % (path, copy.dtype, seed))
                with torch.no_grad():
                    if lo < hi:
                        self.params[lo:hi].copy_(params[lo - begin:hi - begin])
                        if self.bf16:
                            self.shard_params_bf16.view(torch.int16)[
                                lo - self.begin:hi - self.begin].copy_(
                                copy[lo - begin:hi - begin])
                            self.state.rounding_seed = shard["rounding_seed"]
                        for mine, saved in zip(self.states, states):
                            mine[lo - self.begin:hi - self.begin].copy_(
                                saved[lo - begin:hi - begin])
                    if holds_unit:
                        at = unit[0] - begin
                        replica = states[1][at:at + 2].clone()
            if replica is not None:
                # After every range: a later shard's copy covers these two.
                with torch.no_grad():
                    self.states[1][0:2].copy_(replica)
        except DistributedError as e:
            error = e
        _agree(self.group, error, "load")
        self.gather_params()
        return meta["extra"]


class ZeroOptimizer(BoundOptimizer):
    """muir.torch.Optimizer sharded over torch.distributed (ZeRO-1) for a
    module bound by muir.torch.bind on every rank: torch's optimizer API,
    the package's fused shard step, one param group whose ``lr`` is the
    schedule factor. ``max_grad_norm`` / ``skip_nonfinite`` are the guards
    of every step (the last report is ``self.report``). Construct it on
    every rank (collective); init_ through ``self.init(seed)`` (the
    single-process bits, then the all-gather)."""

    def __init__(self, model, lr=1.0, group=None, world_size=None,
                 max_grad_norm=None, skip_nonfinite=False, average=True):
        super().__init__(model, lr)
        binding = self.binding
        # Over the binding's params and grads only: the binding allocates
        # no whole-size optimizer state unless something else asks for it.
        if binding.bf16:
            grads = _bf16_tensor(binding.flat_grads)
            copy = _bf16_tensor(binding.flat_params_bf16)
        else:
            grads, copy = torch.from_numpy(binding.flat_grads), None
        self.shards = ShardedState(
            binding.package, torch.from_numpy(binding.flat_params), grads,
            group=group, world_size=world_size, average=average,
            params_bf16=copy)
        self.max_grad_norm = max_grad_norm
        self.skip_nonfinite = skip_nonfinite
        self.report = None

    def init(self, seed=0):
        self.shards.init(seed)

    def _step(self, t, lr_factor):
        self.report = self.shards.step(
            t, lr_factor, max_grad_norm=self.max_grad_norm,
            skip_nonfinite=self.skip_nonfinite)

    def save(self, directory):
        """A sharded checkpoint of the params, optimizer states, step count
        and lr (collective)."""
        self.shards.save(directory, extra={"t": self.t,
                                           "lr": self.param_groups[0]["lr"]})

    def load(self, directory):
        """Loads a checkpoint of save() written at any world size."""
        extra = self.shards.load(directory)
        self.t = int(extra["t"])
        self.param_groups[0]["lr"] = float(extra["lr"])

    def state_dict(self):
        raise DistributedError("ZeroOptimizer: the optimizer state is "
                               "sharded; use save(directory) / "
                               "load(directory)")

    def load_state_dict(self, state_dict):
        self.state_dict()
