"""An nn.Module bound to a muir package.

Every trainable parameter of the module becomes a view of the package's flat
params buffer and its ``.grad`` a view of the flat grads buffer, so autograd
accumulates straight into what the fused step reads (no per-step copies;
for a bf16 package torch.bfloat16 views of its bf16 params copy and bf16
grads, the float32 master weights beside them: docs/PyTorch.md);
``module.parameters()``, ``state_dict()`` and ``load_state_dict()`` keep
working, on the views. While the module's forward runs, a TorchFunctionMode
counts its calls per module exactly as the trace did (``_trace``) and
rewrites three kinds of them, without touching the user's code:

- a call that uses a parameter reads ``multiplier * w`` (the package's
  forward multiplier of that parameter, per block for repeated ones);
- a residual add of block l reads ``stream + r[l] * branch``;
- an attention's logit scale reads the scale the scheme fixes (1/d_head
  under μP) instead of the constant the source wrote.
"""

import numbers
import types

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

import muir

from . import _trace

# The uses of a parameter the importer accepts (muirc import --torch).
_PARAM_USES = frozenset(["linear", "embedding", "layer_norm", "add", "mul"])


class BindError(muir.Error, ValueError):
    """The module does not fit the package or the import (ERROR_ARGUMENT)."""

    def __init__(self, message):
        super().__init__(muir.Status.ERROR_ARGUMENT, message)


def binding_of(model):
    """The Binding of a module bound by bind()."""
    binding = getattr(model, "_muir_binding", None)
    if binding is None:
        raise BindError("%s is not bound to a muir package: call "
                        "muir.torch.bind(model, package, imported) first"
                        % type(model).__name__)
    return binding


class _Rewriter(TorchFunctionMode):
    """Applies the forward multipliers during one forward (module doc)."""

    def __init__(self, binding):
        super().__init__()
        self.binding = binding
        self.stack = [""]
        self.ordinals = {}

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        kwargs = kwargs or {}
        module = self.stack[-1]
        ordinal = self.ordinals.get(module, 0)
        self.ordinals[module] = ordinal + 1
        b = self.binding
        site = b.sites.get((module, ordinal))
        if site is not None:
            args, kwargs = _trace._normalise(func, args, kwargs)
            args = site(func, list(args), module, ordinal)
        if b.scaled and _reads_param(args, kwargs, b.scaled):
            name, _ = _trace.op_name(func)
            if name in _PARAM_USES:
                args = tuple(b.scale_arg(a, module) for a in args)
                kwargs = {k: b.scale_arg(v, module)
                          for k, v in kwargs.items()}
        return func(*args, **kwargs)


def _reads_param(args, kwargs, scaled):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, torch.Tensor) and id(a) in scaled:
            return True
    return False


def _site_op(func):
    return _trace.op_name(func)[0]


def _bf16_tensor(bits):
    """A torch.bfloat16 tensor over a numpy uint16 array of bfloat16 bits,
    sharing its memory (torch has no uint16: through int16)."""
    return torch.from_numpy(bits.view(np.int16)).view(torch.bfloat16)


class Binding:
    """A module bound to a package (see bind)."""

    def __init__(self, model, package, binding):
        if not isinstance(package, muir.Package):
            raise BindError("bind: package must be a muir.Package, not %s"
                            % type(package).__name__)
        binding = getattr(binding, "binding", binding)
        if not isinstance(binding, dict) or \
                binding.get("format") != "muir-torch-binding":
            raise BindError("bind: expected the binding of muirc import "
                            "--torch (an Imported or its .binding)")
        if binding.get("model") != package.model:
            raise BindError(
                "bind: the import is of model '%s' but package '%s' holds "
                "model '%s'" % (binding.get("model"), package.path,
                                package.model))
        self.model = model
        self.package = package
        self.import_binding = binding
        n = package.buffer_elements
        #: A bf16 package (docs/PyTorch.md): the module's parameters and
        #: gradients are torch.bfloat16 views of the package's bf16 params
        #: copy and bf16 grads; flat_params holds the float32 master weights.
        self.bf16 = package.precision == "bf16"
        # The params and grads the module uses; the optimizer's whole-size
        # states (and the State over them) at their first use: a sharded
        # optimizer (muir.distributed.ZeroOptimizer) keeps shard-sized
        # states of its own.
        self.flat_params = muir.aligned_zeros(n, package.alignment)
        self.flat_grads = muir.aligned_zeros(
            n, package.alignment, np.uint16 if self.bf16 else np.float32)
        #: A bf16 package's params copy (bfloat16 bits), else None.
        self.flat_params_bf16 = (muir.aligned_zeros(n, package.alignment,
                                                    np.uint16)
                                 if self.bf16 else None)
        self._states = None
        self._state = None
        master = torch.from_numpy(self.flat_params)
        if self.bf16:
            flat_params = _bf16_tensor(self.flat_params_bf16)
            flat_grads = _bf16_tensor(self.flat_grads)
        else:
            flat_params = master
            flat_grads = torch.from_numpy(self.flat_grads)
        # Parameter -> every name it has; each unique one is bound once.
        names = _trace.param_names(model)
        objects = {id(p): p for _, p in _trace._all_named(model,
                                                           "_parameters")}
        entries = binding["params"]
        self.params = []  # the bound Parameters, in module order
        self.param_views = {}  # id(Parameter) -> its params (copy) view
        self.grad_views = {}  # id(Parameter) -> its grads view
        self.names = {}  # id(Parameter) -> names (for name_at)
        self.multipliers = {}  # user name -> forward multiplier
        replaced = {}
        for pid, pnames in names.items():
            old = objects[pid]
            for name in pnames:
                if name not in entries:
                    raise BindError(
                        "bind: parameter '%s' of %s is not in the imported "
                        "program; import the model again"
                        % (name, type(model).__name__))
            infos = [(name, package.params_info.get(entries[name]["param"]))
                     for name in pnames]
            for name, info in infos:
                if info is None:
                    raise BindError(
                        "bind: parameter '%s' (package name '%s') is not in "
                        "package '%s'" % (name, entries[name]["param"],
                                          package.path))
            owners = [(n, i) for n, i in infos if i.tied_to is None]
            if len(owners) != 1:
                raise BindError("bind: parameter %s is %d untied package "
                                "parameters; expected one"
                                % (" = ".join(pnames), len(owners)))
            owner, info = owners[0]
            copy = entries[owner]["copy"]
            begin = info.offset + copy * info.stride
            view = flat_params[begin:begin + info.numel].view(info.copy_shape)
            if tuple(old.shape) != tuple(info.copy_shape):
                raise BindError(
                    "bind: parameter '%s' has shape %s in the module but %s "
                    "in package '%s'" % (owner, tuple(old.shape),
                                         info.copy_shape, package.path))
            if old.dtype not in self._dtypes():
                raise BindError(
                    "bind: parameter '%s' is %s, but package '%s' (precision "
                    "%s) binds %s parameters; convert the module (e.g. "
                    "model.float()) before bind" % (
                        owner, old.dtype, package.path, package.precision,
                        " or ".join(str(d) for d in self._dtypes())))
            with torch.no_grad():
                # The float32 master weights (exact from float32 or
                # bfloat16); a bf16 copy is rounded from them below.
                master[begin:begin + info.numel].view(
                    info.copy_shape).copy_(old)
            new = nn.Parameter(view)
            grad = flat_grads[begin:begin + info.numel].view(info.copy_shape)
            new.grad = grad
            self.param_views[id(new)] = view
            self.grad_views[id(new)] = grad
            self.names[id(new)] = pnames
            replaced[pid] = new
            self.params.append(new)
            for name, i in infos:
                m = i.multiplier
                copy_i = entries[name]["copy"]
                self.multipliers[name] = float(
                    m[copy_i] if isinstance(m, tuple) else m)
        if self.bf16:
            # The copy the module reads: the master rounded to nearest, ties
            # to even, as the runtime's init rounds it (muir.to_bf16 is that
            # rounding); only the steps round stochastically.
            self.flat_params_bf16[...] = muir.to_bf16(self.flat_params)
        for _, module in model.named_modules(remove_duplicate=False):
            for local, p in list(module._parameters.items()):
                if p is not None and id(p) in replaced:
                    module._parameters[local] = replaced[id(p)]
        # Parameters whose uses read a multiplier other than 1.
        self.scaled = {pid: n for pid, n in self.names.items()
                       if any(self.multipliers[x] != 1.0 for x in n)}
        self.sites = {}
        self._add_sites(package, binding)
        self._rewriter = None
        self._install(model)

    def _dtypes(self):
        """The parameter dtypes bind accepts: their values are the float32
        params (master weights) exactly."""
        return ((torch.float32, torch.bfloat16) if self.bf16
                else (torch.float32,))

    # -- forward multipliers ---------------------------------------------

    def scale_arg(self, a, module):
        if isinstance(a, torch.Tensor) and id(a) in self.scaled:
            name = _trace.name_at(self.scaled[id(a)], module)
            m = self.multipliers[name]
            return a if m == 1.0 else a * m
        return a

    def _add_sites(self, package, binding):
        residuals = {r.name: r for r in package.residuals}
        attentions = {a.name: a for a in package.attention}
        for entry in binding.get("residuals", []):
            info = residuals.get(entry["name"])
            if info is None:
                raise BindError("bind: package '%s' has no residual '%s'"
                                % (package.path, entry["name"]))
            stream = int(entry["stream"])
            for block, site in enumerate(entry["sites"]):
                m = info.multiplier[block] if block < len(info.multiplier) \
                    else 1.0
                if m != 1.0:
                    self._site(site, self._residual(stream, float(m)))
        for entry in binding.get("attentions", []):
            info = attentions.get(entry["name"])
            if info is None:
                raise BindError("bind: package '%s' has no attention '%s'"
                                % (package.path, entry["name"]))
            for site in entry["sites"]:
                self._site(site, self._attention(float(info.scale)))

    def _site(self, site, rewrite):
        key = (site["module"], int(site["ordinal"]))
        op = site["op"]

        def checked(func, args, module, ordinal):
            if _site_op(func) != op:
                raise BindError(
                    "the forward of module '%s' made '%s' as its call #%d, "
                    "where the traced one made '%s'; the forward differs "
                    "from the imported one: import the model again"
                    % (module or "<model>", _site_op(func), ordinal, op))
            return rewrite(args, op)
        self.sites[key] = checked

    @staticmethod
    def _residual(stream, m):
        def rewrite(args, op):
            args[1 - stream] = args[1 - stream] * m
            return tuple(args)
        return rewrite

    @staticmethod
    def _attention(scale):
        def rewrite(args, op):
            # The one Python number the logits are multiplied or divided
            # by (the importer recognised it).
            for i, a in enumerate(args):
                if isinstance(a, numbers.Real) and not isinstance(a, bool):
                    args[i] = scale if op == "mul" else 1.0 / scale
            return tuple(args)
        return rewrite

    def _install(self, model):
        """Module hooks keep the module path of each call; the root's
        forward runs under the rewriter."""
        binding = self
        self._handles = []
        for path, module in model.named_modules():
            if not path:
                continue
            self._handles.append(module.register_forward_pre_hook(
                lambda m, i, p=path: binding._enter(p)))
            self._handles.append(module.register_forward_hook(
                lambda m, i, o, p=path: binding._leave(p)))
        forward = model.forward

        def bound_forward(self_, *args, **kwargs):
            rewriter = _Rewriter(binding)
            binding._rewriter = rewriter
            try:
                with _trace.seeing_indexing(), rewriter:
                    return forward(*args, **kwargs)
            finally:
                binding._rewriter = None
        model.forward = types.MethodType(bound_forward, model)
        model._muir_binding = self

    def _enter(self, path):
        if self._rewriter is not None:
            self._rewriter.stack.append(path)

    def _leave(self, path):
        if self._rewriter is not None:
            self._rewriter.stack.pop()

    # -- buffers -------------------------------------------------------------

    @property
    def flat(self):
        """[params, grads, *optimizer states]: the whole flat buffers (numpy
        views; a bf16 package's grads are uint16 bfloat16 bits and its
        params the float32 master weights, its copy flat_params_bf16); the
        states are allocated at the first use."""
        if self._states is None:
            self._states = [muir.aligned_zeros(self.package.buffer_elements,
                                               self.package.alignment)
                            for _ in range(self.package.num_states)]
        return [self.flat_params, self.flat_grads, *self._states]

    @property
    def state(self):
        """The muir.State over the whole flat buffers (created, with the
        optimizer states, at the first use)."""
        if self._state is None:
            flat = self.flat
            self._state = self.package.adopt(
                flat[0], flat[1], flat[2:],
                params_bf16=self.flat_params_bf16)
        return self._state

    def check_grads(self):
        """Each bound parameter is still its view of the params buffer (a
        bf16 package's: of the bf16 copy) and its .grad its view of the
        grads buffer (model.zero_grad(set_to_none=True) drops it: put it
        back, zeroed)."""
        for p in self.params:
            data = self.param_views[id(p)]
            if p.dtype != data.dtype or p.data_ptr() != data.data_ptr():
                raise BindError(
                    "parameter %s is no longer its view of the package's "
                    "params buffer (now %s; the binding's is %s): the module "
                    "was converted or its .data replaced after bind (e.g. "
                    "model.to(), .float(), .double()); muir steps the flat "
                    "buffers: convert before bind"
                    % ("/".join(self.names[id(p)]), p.dtype, data.dtype))
            view = self.grad_views[id(p)]
            if p.grad is None:
                view.zero_()
                p.grad = view
            elif p.grad is not view:
                if p.grad.data_ptr() != view.data_ptr():
                    raise BindError(
                        "a gradient of %s was replaced by another tensor; "
                        "muir steps from the flat grads buffer: zero "
                        "gradients with optimizer.zero_grad()"
                        % "/".join(self.names[id(p)]))


def bind(model, package, imported):
    """Makes the trainable parameters of `model` views of a new State of
    `package` (their current values copied in) and applies its forward
    multipliers during `model`'s forward; `imported` is what import_model
    returned (or its .binding). Returns the Binding.

    The parameters must be float32; a bf16 package (``muirc package
    --precision=bf16``) also takes bfloat16 ones and makes them, and their
    .grad, torch.bfloat16 views of its bf16 params copy and grads: the
    float32 master weights get the values, the copy their nearest bf16."""
    if getattr(model, "_muir_binding", None) is not None:
        raise BindError("%s is already bound to package '%s'"
                        % (type(model).__name__,
                           model._muir_binding.package.path))
    return Binding(model, package, imported)


def init_(model, seed=0):
    """Initialises every bound parameter of `model` as the package's scheme
    prescribes, from `seed` (muir_state_init; with a sharded optimizer use
    its init, which allocates no whole-size state). A bf16 package's copy
    is the master weights rounded to nearest and `seed` becomes its
    stochastic-rounding seed."""
    binding_of(model).state.init(seed)


class BoundOptimizer(torch.optim.Optimizer):
    """What muir's optimizers over a bound module share: torch's API, one
    param group of every bound parameter whose ``lr`` (1.0 by default)
    multiplies every learning rate compiled into the package, the step
    count ``t``, gradients zeroed in the flat grads buffer. Subclasses step
    in ``_step(t, lr_factor)``."""

    def __init__(self, model, lr=1.0):
        binding = binding_of(model)
        if not isinstance(lr, numbers.Real) or not 0.0 <= lr < float("inf"):
            raise BindError("%s: lr must be a finite, non-negative number, "
                            "not %r" % (type(self).__name__, lr))
        super().__init__(binding.params, dict(lr=float(lr)))
        self.binding = binding
        self.t = 0

    def zero_grad(self, set_to_none=False):
        """Zeroes the flat grads buffer (the gradients stay its views,
        whatever `set_to_none` says)."""
        self.binding.check_grads()
        self.binding.flat_grads.fill(0.0)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.binding.check_grads()
        self.t += 1
        self._step(self.t, self.param_groups[0]["lr"])
        return loss

    def _step(self, t, lr_factor):
        raise NotImplementedError


class Optimizer(BoundOptimizer):
    """The package's fused optimizer step with torch's API.

    A new Optimizer zeroes the package's optimizer state (AdamW's m and
    v). One param group holds every bound parameter; its ``lr`` (1.0 by
    default) multiplies every learning rate compiled into the package, so a
    ``torch.optim.lr_scheduler`` over this optimizer scales the schedule.
    ``state_dict`` holds the step count, the optimizer's state buffers and
    the package's identity; ``load_state_dict`` refuses a state of another
    package."""

    def __init__(self, model, lr=1.0):
        super().__init__(model, lr)
        # A new optimizer starts from zero state (a sweep re-inits the model
        # with init_ and makes a new Optimizer per run).
        for state in self.binding.flat[2:]:
            state.fill(0.0)

    def _step(self, t, lr_factor):
        self.binding.state.step(t, lr_factor)

    def state_dict(self):
        package = self.binding.package
        saved = {
            "format": "muir-torch-optimizer",
            "package_hash": package.package_hash,
            "model": package.model,
            "optimizer": package.optimizer,
            "t": self.t,
            "states": [torch.from_numpy(s.copy())
                       for s in self.binding.flat[2:]],
            "param_groups": [{k: v for k, v in g.items() if k != "params"}
                             for g in self.param_groups],
        }
        if self.binding.bf16:
            # The module's state_dict holds only the bf16 copy: the float32
            # master weights and the rounding seed continue the run.
            saved["master"] = torch.from_numpy(self.binding.flat_params.copy())
            saved["rounding_seed"] = self.binding.state.rounding_seed
        return saved

    def load_state_dict(self, state_dict):
        package = self.binding.package
        if not isinstance(state_dict, dict) or \
                state_dict.get("format") != "muir-torch-optimizer":
            raise BindError("load_state_dict: not the state_dict of a "
                            "muir.torch.Optimizer")
        if state_dict.get("package_hash") != package.package_hash:
            raise BindError(
                "load_state_dict: the state was saved with package %s "
                "(model '%s'), this optimizer runs package %s (model '%s', "
                "%s); load it with the package it was saved with"
                % (str(state_dict.get("package_hash"))[:16],
                   state_dict.get("model"), package.package_hash[:16],
                   package.model, package.path))
        states = state_dict["states"]
        if len(states) != len(self.binding.flat) - 2:
            raise BindError("load_state_dict: %d state buffers, the package "
                            "keeps %d" % (len(states),
                                          len(self.binding.flat) - 2))
        # Everything is checked before anything is written: a bad part
        # leaves the optimizer as it was, not half loaded.
        loaded = []
        for flat, saved in zip(self.binding.flat[2:], states):
            saved = saved.detach().cpu().numpy()
            if saved.shape != flat.shape or saved.dtype != np.float32:
                raise BindError("load_state_dict: a state buffer of shape %s "
                                "and dtype %s, the package's is %s float32"
                                % (saved.shape, saved.dtype, flat.shape))
            loaded.append(saved)
        if self.binding.bf16:
            master = state_dict.get("master")
            want = self.binding.flat_params.shape
            if not isinstance(master, torch.Tensor) or \
                    tuple(master.shape) != want or \
                    master.dtype != torch.float32:
                raise BindError(
                    "load_state_dict: a bf16 package's state holds its "
                    "float32 master weights of shape %s; this one has %s"
                    % (want, "none" if master is None else
                       "%s %s" % (getattr(master, "dtype", type(master)),
                                  tuple(getattr(master, "shape", ())))))
            seed = state_dict.get("rounding_seed")
            if isinstance(seed, bool) or \
                    not isinstance(seed, numbers.Integral) or \
                    not 0 <= seed < 2 ** 64:
                raise BindError(
                    "load_state_dict: a bf16 package's state holds its "
                    "rounding seed, an integer in [0, 2**64); this one has "
                    "%r" % (seed,))
        t = int(state_dict["t"])
        for flat, saved in zip(self.binding.flat[2:], loaded):
            flat[...] = saved
        if self.binding.bf16:
            self.binding.flat_params[...] = master.detach().cpu().numpy()
            self.binding.state.rounding_seed = int(seed)
        self.t = t
        for group, saved in zip(self.param_groups,
                                state_dict["param_groups"]):
            group.update(saved)
