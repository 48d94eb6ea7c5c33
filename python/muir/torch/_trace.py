"""Records what an nn.Module computes, call by call, for `muirc import --torch`.

The model runs eagerly on example inputs under a TorchFunctionMode, which
sees every PyTorch call the user's code makes (``F.linear``, ``x.view``,
``q @ k.transpose(-2, -1)``, ``att * 0.125``, ``F.softmax``), at the level
it is written: ``B, T, C = x.size()`` simply runs. Forward hooks on every
submodule keep the module path of each call. Nothing is analysed here: the
trace (tensors with their shapes, calls with their arguments, where the
parameters and buffers enter, which containers hold repeated blocks) goes to
the C++ importer, which compares the base and target traces.

The same site numbering (module path, ordinal of the call among that
module's own calls) is what the binding counts at run time to find the
calls it rewrites (``_binding.py``).
"""

import contextlib
import inspect
import math
import os
import sys

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

GRAPH_FORMAT = "muir-torch-graph"
GRAPH_VERSION = 1


class TraceError(Exception):
    """The model cannot be traced (raised as muir.torch.ImportError_)."""


# Calls whose results broadcast their tensor operands elementwise, and
# calls that only rearrange the elements of their one tensor operand: the
# C++ importer checks these shape contracts (tp.op kinds).
_ELEMENTWISE = frozenset("""
    add sub rsub mul div true_divide floor_divide remainder pow neg abs exp
    log sqrt rsqrt reciprocal square sigmoid tanh relu gelu silu erf sin cos
    clamp clip maximum minimum masked_fill where dropout eq ne lt le gt ge
    logical_not logical_and logical_or float half bfloat16 double tril triu
    """.split())
_RESHAPE = frozenset("""
    view reshape flatten unflatten squeeze unsqueeze transpose permute
    contiguous clone detach T mT t swapaxes
    """.split())
# Spellings of one operation.
_ALIASES = {"multiply": "mul", "divide": "div", "true_divide": "div",
            "truediv": "div", "subtract": "sub", "bmm": "matmul",
            "getitem": "getitem", "iadd": "add", "imul": "mul",
            "isub": "sub", "itruediv": "div"}


def op_name(func):
    """The canonical name of a torch function and whether it is in place:
    ``Tensor.add_`` -> (``add``, True), ``F.linear`` -> (``linear``, False),
    ``x.T`` -> (``T``, False)."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "__get__":  # a Tensor property: x.T, x.shape
        owner = getattr(func, "__self__", None)
        return getattr(owner, "__name__", "property"), False
    inplace = False
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        if name in ("iadd", "isub", "imul", "itruediv"):
            inplace = True
    elif name.endswith("_") and not name.startswith("_"):
        name, inplace = name[:-1], True
    name = name.lstrip("_")
    return _ALIASES.get(name, name), inplace


_TENSOR_GETITEM = torch.Tensor.__getitem__


def _getitem(self, index):
    """Tensor indexing that a TorchFunctionMode always sees: torch 1.13
    skips modes for `x[0]`, `x[None]` and `x[mask]` on plain tensors."""
    if torch._C._is_torch_function_mode_enabled():
        return torch.overrides.handle_torch_function(_getitem, (self,), self,
                                                     index)
    return _TENSOR_GETITEM(self, index)


@contextlib.contextmanager
def seeing_indexing():
    """Routes every tensor indexing through the active TorchFunctionMode
    while the block runs (the trace and the binding count calls alike)."""
    torch.Tensor.__getitem__ = _getitem
    try:
        yield
    finally:
        torch.Tensor.__getitem__ = _TENSOR_GETITEM


def _shape_kind(name):
    if name in _ELEMENTWISE:
        return "elementwise"
    if name in _RESHAPE:
        return "reshape"
    return "opaque"


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def _user_frame():
    """(file, line) of the innermost frame outside torch and muir."""
    frame = sys._getframe(2)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
    while frame is not None:
        path = frame.f_code.co_filename
        if not (path.startswith(here) or path.startswith(torch_dir)):
            return path, frame.f_lineno
        frame = frame.f_back
    return "<unknown>", 0


def param_names(model):
    """id(parameter) -> every name it has (tied parameters have several),
    over the trainable parameters."""
    names = {}
    for name, p in _all_named(model, "_parameters"):
        if p.requires_grad:
            names.setdefault(id(p), []).append(name)
    return names


def _all_named(model, table):
    """(name, tensor) of every parameter (`table` "_parameters") or buffer
    ("_buffers") under every name it has; torch 1.13's named_parameters
    cannot keep duplicates."""
    for path, module in model.named_modules(remove_duplicate=False):
        for local, t in getattr(module, table).items():
            if t is not None:
                yield (path + "." + local if path else local), t


def name_at(names, module):
    """The name of a parameter (of `names`, its names) as used from the
    module at path `module`: the one that module or its closest enclosing
    module owns, so a tied weight is ``lm_head.weight`` in lm_head and
    ``transformer.wte.weight`` in wte."""
    if len(names) == 1:
        return names[0]

    def owner_depth(name):
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        if module == owner:
            return (2, len(owner))
        if not owner or module.startswith(owner + "."):
            return (1, len(owner))
        return (0, 0)

    return max(names, key=owner_depth)


def repeat_candidates(model):
    """Containers whose children may be repeated blocks: nn.ModuleList and
    nn.Sequential whose children all have one class, outermost only."""
    found = []
    for path, module in model.named_modules():
        if not isinstance(module, (nn.ModuleList, nn.Sequential)):
            continue
        children = list(module.named_children())
        if not children or len({type(c) for _, c in children}) != 1:
            continue
        if any(path.startswith(p + ".") for p, _ in found):
            continue
        found.append((path, [n for n, _ in children]))
    return found


def init_kind(p):
    """How muir initialises `p`, read from its current values: a tensor of
    zeros stays zeros, of ones stays ones (a norm's gain), anything else is
    drawn from the scheme's normal distribution."""
    with torch.no_grad():
        if bool((p == 0).all()):
            return "zeros"
        if bool((p == 1).all()):
            return "ones"
    return "normal"


class _Recorder(TorchFunctionMode):
    """Records the calls of one forward pass (see the module docstring)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.names = param_names(model)
        self.buffers = {}
        for n, b in _all_named(model, "_buffers"):
            self.buffers.setdefault(id(b), n)
        self.stack = [""]
        self.ordinals = {}
        self.calls = []
        self.tensors = []
        self.index = {}  # id(tensor) -> index of its current value
        self.keep = []  # every tensor seen, alive so that ids stay unique
        self.param_index = {}  # name -> tensor index
        self.param_order = []  # names in order of first use
        self.param_objects = {}  # name -> the Parameter
        self.block_calls = {}  # child path -> [inputs, outputs, count]
        # True while the recorder's own code (hooks) runs with the mode
        # active: its tensor queries are not the model's calls.
        self.busy = False

    # -- tensors -------------------------------------------------------------

    def _new_tensor(self, t):
        self.keep.append(t)
        self.tensors.append({"shape": list(t.shape),
                             "dtype": _dtype_name(t.dtype)})
        index = len(self.tensors) - 1
        self.index[id(t)] = index
        return index

    def _pseudo(self, op, name, t):
        """A call that brings `t` into the program (an input, a parameter, a
        buffer, a tensor from outside the model's calls)."""
        index = self._new_tensor(t)
        path, line = _user_frame()
        self.calls.append({"op": op, "name": name, "module": self.stack[-1],
                           "ordinal": -1, "file": path, "line": line,
                           "kind": "opaque", "args": [], "results": [index]})
        return index

    def tensor_ref(self, t):
        """The index of `t`'s current value, entering it if it is new."""
        if id(t) in self.names:
            name = name_at(self.names[id(t)], self.stack[-1])
            if name not in self.param_index:
                self.param_index[name] = self._pseudo("param", name, t)
                self.param_order.append(name)
                self.param_objects[name] = t
            return self.param_index[name]
        if id(t) in self.index:
            return self.index[id(t)]
        if id(t) in self.buffers:
            return self._pseudo("buffer", self.buffers[id(t)], t)
        if t.grad_fn is not None:
            path, line = _user_frame()
            raise TraceError(
                "%s:%d: in module '%s': a tensor computed from the model's "
                "parameters by an operation the trace did not see (not a "
                "PyTorch call: a custom autograd Function, a hook, or code "
                "outside forward); muir needs every step from the "
                "parameters to the loss" % (path, line,
                                            self.stack[-1] or "<model>"))
        if isinstance(t, nn.Parameter):
            return self._pseudo("constant", "frozen parameter", t)
        return self._pseudo("constant", "tensor", t)

    def value(self, v, depth=0):
        """An argument as JSON: tensors by index, numbers, lists, and a
        short text for anything else."""
        if isinstance(v, torch.Tensor):
            return {"tensor": self.tensor_ref(v)}
        if isinstance(v, bool) or v is None:
            return {"value": repr(v)}
        if isinstance(v, (int, float)):
            if isinstance(v, float) and not math.isfinite(v):
                return {"number": repr(v)}
            return {"number": v}
        if isinstance(v, (list, tuple)) and depth < 8:
            return {"list": [self.value(x, depth + 1) for x in v]}
        text = repr(v)
        return {"value": text if len(text) <= 80 else text[:77] + "..."}

    # -- modules -------------------------------------------------------------

    def enter(self, path, inputs):
        self.stack.append(path)
        if path in self.block_calls:
            self.busy = True
            entry = self.block_calls[path]
            entry[2] += 1
            entry[0] = [self.tensor_ref(t) for t in _tensors(inputs)]
            self.busy = False

    def leave(self, path, outputs):
        if path in self.block_calls:
            self.block_calls[path][1] = [self.index[id(t)]
                                         for t in _tensors(outputs)
                                         if id(t) in self.index]
        self.stack.pop()

    # -- calls ---------------------------------------------------------------

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.busy:
            return func(*args, **kwargs)
        module = self.stack[-1]
        ordinal = self.ordinals.get(module, 0)
        self.ordinals[module] = ordinal + 1
        name, inplace = op_name(func)
        if inplace:
            for t in _tensors(args[:1]):
                if t._is_view():
                    path, line = _user_frame()
                    raise TraceError(
                        "%s:%d: in module '%s': in-place '%s' on a view of "
                        "another tensor; muir follows values, not storage, "
                        "so the other tensor would not see the change"
                        % (path, line, module or "<model>", name))
        args, kwargs = _normalise(func, args, kwargs)
        arg_values = [self.value(a) for a in args]
        kwarg_values = {k: self.value(v) for k, v in kwargs.items()}
        out = func(*args, **kwargs)
        results = []
        for t in _tensors(out):
            results.append(self._new_tensor(t))
        if results:
            path, line = _user_frame()
            self.calls.append({
                "op": name, "module": module, "ordinal": ordinal,
                "file": path, "line": line, "kind": _shape_kind(name),
                "inplace": inplace, "args": arg_values,
                "kwargs": kwarg_values, "results": results})
        return out


def _tensors(value):
    """The tensors in a (nested) call result or argument, in order."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_tensors(v))
        return out
    return []


def _normalise(func, args, kwargs):
    """Binds the arguments of a Python-level torch function (F.layer_norm
    passes weight and bias by keyword) to its parameters, so that the
    importer reads them by position."""
    if not kwargs or not inspect.isfunction(func):
        return tuple(args), kwargs
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return tuple(args), kwargs
    bound.apply_defaults()
    return tuple(bound.args), dict(bound.kwargs)


def trace(model, args, kwargs=None, loss=None):
    """Runs `model` once on the example inputs and returns the trace (a
    JSON-ready dict) and the recorder (its calls carry module paths and
    ordinals, its parameters their objects)."""
    kwargs = dict(kwargs or {})
    rec = _Recorder(model)
    candidates = repeat_candidates(model)
    for path, children in candidates:
        for child in children:
            rec.block_calls[path + "." + child] = [[], [], 0]
    handles = []
    try:
        for path, module in model.named_modules():
            if not path:
                continue
            handles.append(module.register_forward_pre_hook(
                lambda m, i, p=path: rec.enter(p, i)))
            handles.append(module.register_forward_hook(
                lambda m, i, o, p=path: rec.leave(p, o)))
        signature = inspect.signature(model.forward)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TraceError("the example inputs do not fit %s.forward%s: %s"
                             % (type(model).__name__, signature, e)) from None
        for name, value in bound.arguments.items():
            for i, t in enumerate(_tensors(value)):
                label = name if isinstance(value, torch.Tensor) \
                    else "%s.%d" % (name, i)
                rec._pseudo("input", label, t)
        # Gradients are recorded (though never computed) so that a tensor
        # computed outside the trace's sight is recognised.
        with seeing_indexing(), rec:
            output = model(*args, **kwargs)
            value = loss(output) if loss is not None else _find_loss(model,
                                                                    output)
            rec.busy = True
        if not isinstance(value, torch.Tensor) or value.dim() != 0:
            raise TraceError("the loss must be a scalar tensor, got %r"
                             % (type(value).__name__,))
        loss_index = rec.tensor_ref(value)
    finally:
        for h in handles:
            h.remove()
    return _graph(model, rec, candidates, loss_index), rec


def _find_loss(model, output):
    scalars = [t for t in _tensors(output)
               if t.dim() == 0 and t.is_floating_point()]
    if len(scalars) != 1:
        raise TraceError(
            "%s.forward returned %d scalar tensors; muir needs the loss: "
            "return exactly one, or pass loss=lambda output: ..."
            % (type(model).__name__, len(scalars)))
    return scalars[0]


def _graph(model, rec, candidates, loss_index):
    params = {}
    for name in rec.param_order:
        p = rec.param_objects[name]
        owner = next(n for n in rec.param_order
                     if rec.param_objects[n] is p)
        entry = {"init": init_kind(p)}
        if owner != name:
            entry["tied_to"] = owner
        params[name] = entry
    repeats = []
    for path, children in candidates:
        blocks = [rec.block_calls[path + "." + c] for c in children]
        # Only containers whose every block ran once are folded; the
        # importer reports a structure that differs between base and target.
        if all(b[2] == 1 for b in blocks):
            repeats.append({"path": path, "blocks": [
                {"child": c, "inputs": b[0], "outputs": b[1]}
                for c, b in zip(children, blocks)]})
    unused = [n for ids in rec.names.values() for n in ids
              if not any(rec.param_objects.get(m) is not None for m in ids)]
    return {"calls": rec.calls, "tensors": rec.tensors, "params": params,
            "unused_params": unused, "repeats": repeats, "loss": loss_index}


def graph_document(target, base, model_name):
    """The JSON document muirc import --torch reads."""
    return {"format": GRAPH_FORMAT, "version": GRAPH_VERSION,
            "model": model_name, "target": target, "base": base}
