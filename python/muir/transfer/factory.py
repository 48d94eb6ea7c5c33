"""A user's torch module as the model of a sweep or coordinate check.

``--model-factory MODULE:FUNCTION`` (or ``path/to/file.py:FUNCTION``) names
a function ``FUNCTION(width, depth) -> nn.Module`` whose module's
``forward(inputs, targets)`` returns the loss (a scalar tensor, or a tuple
or list holding exactly one scalar tensor, as nanoGPT's ``(logits, loss)``).
muir.torch (docs/PyTorch.md) imports the module at each grid point against
the base point's module, muirc packages it under the scheme, and every run
binds a fresh module to its package: muir's init, forward multipliers and
fused step, the user's own forward and torch's backward.

A point at the base width (the base point, every point of a depth, batch
or duration grid) has no tensor whose size differs between the two traces,
which is how muirc import finds the width dims; its program is imported from
a module twice the base width (at the point's depth) and compiled at the
base width (every width dim's size set back to its base size).
"""

import importlib
import importlib.util
import json
import os
import re

from .runner import RunError


def load(text):
    """The factory function named by 'MODULE:FUNCTION' or
    'FILE.py:FUNCTION'."""
    where, sep, name = text.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise RunError("--model-factory %r: expected MODULE:FUNCTION or "
                       "FILE.py:FUNCTION" % text)
    try:
        if where.endswith(".py"):
            if not os.path.isfile(where):
                raise RunError("--model-factory %r: no such file %s"
                               % (text, where))
            spec = importlib.util.spec_from_file_location(
                "muir_transfer_factory", where)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except RunError:
        raise
    except Exception as e:  # the user's module failed to import
        raise RunError("--model-factory %r: importing %s failed: %s: %s"
                       % (text, where, type(e).__name__, e)) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise RunError("--model-factory %r: %s has no function %s"
                       % (text, where, name))
    return function


def make(text, width, depth):
    """The factory's module at (width, depth), checked to be a module."""
    import torch
    try:
        model = load(text)(width, depth)
    except RunError:
        raise
    except Exception as e:
        raise RunError("--model-factory %r at width %d depth %d raised "
                       "%s: %s" % (text, width, depth, type(e).__name__,
                                   e)) from None
    if not isinstance(model, torch.nn.Module):
        raise RunError("--model-factory %r returned %s, not a torch "
                       "nn.Module" % (text, type(model).__name__))
    return model


def loss_of(output):
    """The scalar loss in a forward's output."""
    import torch
    if isinstance(output, torch.Tensor) and output.dim() == 0:
        return output
    if isinstance(output, (tuple, list)):
        scalars = [o for o in output
                   if isinstance(o, torch.Tensor) and o.dim() == 0]
        if len(scalars) == 1:
            return scalars[0]
    raise RunError("the factory's module returned %s from forward(inputs, "
                   "targets): expected the loss (a scalar tensor) or a "
                   "tuple with exactly one scalar tensor"
                   % type(output).__name__)


def _import_dir(path):
    return path + ".import"


def build_package(path, spec, muirc, example, flags):
    """Imports the factory's module at the spec's point against the base
    point and packages it at `path` with muirc `flags` (the card families'
    flags without the cards); `example` is an (inputs, targets) batch."""
    import torch
    import muir.torch as mt
    text = spec["factory"]
    at_base_width = spec["width"] == spec["base_width"]
    torch.manual_seed(0)
    target = make(text, spec["width"] * (2 if at_base_width else 1),
                  spec["depth"])
    base = make(text, spec["base_width"], spec["base_depth"])
    try:
        imported = mt.import_model(target, base, example, loss=loss_of,
                                   muirc=muirc, workdir=_import_dir(path))
        if at_base_width:  # compile the program at the base width
            imported.mlir = re.sub(r"width<base (\d+), size \d+>",
                                   r"width<base \1, size \1>", imported.mlir)
            with open(imported.path, "w") as f:
                f.write(imported.mlir)
        mt.package(imported, path, spec["scheme"], spec["optimizer"],
                   muirc=muirc, extra=flags)
    except mt.ImportError_ as e:
        raise RunError("--model-factory %r at width %d depth %d: %s"
                       % (text, spec["width"], spec["depth"], e)) from None


class Bound:
    """A fresh module of the factory bound to the package at `path`: the
    trainer's view of a factory model (card families use models.Weights)."""

    def __init__(self, spec, path):
        import muir
        import muir.torch as mt
        self.model = make(spec["factory"], spec["width"], spec["depth"])
        with open(os.path.join(_import_dir(path), "binding.json")) as f:
            binding = json.load(f)
        self.package = muir.Package(path)
        self.binding = mt.bind(self.model, self.package, binding)
        self.state = self.binding.state

    def zero_readout(self):
        """Zeroes the readout (the package's unembedding parameters)."""
        readouts = [n for n, p in self.package.params_info.items()
                    if p.role == "unembedding" and not p.tied_to]
        if not readouts:
            raise RunError("--zero-readout: the package of the factory's "
                           "module has no unembedding (readout) parameter")
        for name in readouts:
            self.state.params[name][...] = 0.0

    def zero_grads(self):
        self.binding.flat[1].fill(0.0)

    def loss(self, inputs, targets, record=None):
        """The module's loss; with `record(name, tensor)` every submodule
        that holds parameters reports its output under its module path."""
        import torch
        if record is None:
            return loss_of(self.model(inputs, targets))
        # The hooks only keep the outputs: a torch call inside the forward
        # would count as one of the module's calls, which the binding checks
        # against the trace.
        outputs, handles = [], []
        for name, module in self.model.named_modules():
            if name and any(True for _ in module.parameters(recurse=False)):
                handles.append(module.register_forward_hook(
                    lambda m, i, o, name=name: outputs.append((name, o))))
        try:
            loss = loss_of(self.model(inputs, targets))
        finally:
            for h in handles:
                h.remove()
        for name, value in outputs:
            if isinstance(value, torch.Tensor):
                record(name, value)
        return loss

    def grads_to_state(self):
        """Nothing: the gradients are views of the package's grads."""
