"""muir for an unmodified PyTorch nn.Module.

Five lines make a model μP, CompleteP or Complete^(d)P::

    import muir.torch as mt
    imported = mt.import_model(model, base, (idx, targets))   # two sizes
    package = mt.package(imported, "gpt.pkg", scheme="mup",
                         optimizer="adamw", lr=3e-3, weight_decay=0.1)
    mt.bind(model, package, imported)    # parameters become package views
    mt.init_(model, seed=0)              # the scheme's init
    opt = mt.Optimizer(model)            # the package's fused step

``import_model`` runs the model at the target size (``model``) and at the
base size (``base``, the same class with smaller widths and/or fewer blocks)
on example inputs, records every PyTorch call (``_trace``), and has ``muirc
import --torch`` (C++) build and verify the tp program: widths from the sizes
that differ, depth from repeated blocks, roles from the dataflow. ``package``
runs ``muirc package`` on it. ``bind`` makes the module's parameters views
of the package's flat buffers and applies the forward multipliers, the
residual-branch multipliers and the attention scale the scheme asks for
while the user's own forward runs (``_binding``). See docs/PyTorch.md.
"""

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from . import _trace
from ._trace import TraceError
from ._binding import Binding, BoundOptimizer, Optimizer, bind, binding_of, init_

__all__ = ["ImportError_", "Imported", "export_graph", "import_model",
           "package", "bind", "binding_of", "init_", "Optimizer", "BoundOptimizer",
           "Binding"]


class ImportError_(Exception):
    """A model muir cannot import: the message names the module, the call
    and the source line, and why."""


#: Seconds a muirc run may take before it is stopped.
MUIRC_TIMEOUT = 600


def _muirc(muirc):
    path = muirc or os.environ.get("MUIRC") or shutil.which("muirc")
    if not path:
        raise ImportError_("muirc not found: pass muirc=PATH, set MUIRC or "
                           "put it on PATH")
    return path


def _run(command, what):
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=MUIRC_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ImportError_("%s: muirc ran longer than %d s"
                           % (what, MUIRC_TIMEOUT)) from None
    if done.returncode != 0:
        # muirc's own lines ("muirc: <where>: <what>"), without the prefix.
        lines = [l[len("muirc: "):] if l.startswith("muirc: ") else l
                 for l in done.stderr.strip().splitlines()]
        raise ImportError_("%s: %s" % (what, "\n".join(lines)))
    return done


def export_graph(model, base, args, kwargs=None, base_args=None,
                 base_kwargs=None, loss=None, name=None):
    """The torch graph (a JSON-ready dict) of `model` (target size) and
    `base` (base size) run on the example inputs. `base_args`/`base_kwargs`
    default to the target's. `loss(output)` picks the scalar loss from the
    forward's output (default: its one scalar tensor)."""
    if model is base:
        raise ImportError_("the target and the base are one module; build "
                           "the base at its own (smaller) size")
    try:
        target_graph, _ = _trace.trace(model, args, kwargs, loss)
        base_graph, _ = _trace.trace(
            base, args if base_args is None else base_args,
            kwargs if base_kwargs is None else base_kwargs, loss)
    except TraceError as e:
        raise ImportError_(str(e)) from None
    return _trace.graph_document(target_graph, base_graph,
                                 name or type(model).__name__.lower())


@dataclass
class Imported:
    """An imported model: the tp program (text and the file it is in) and
    the binding (how the module's parameters and calls map to it)."""
    mlir: str
    path: str
    binding: dict


def import_model(model, base, args, kwargs=None, base_args=None,
                 base_kwargs=None, loss=None, name=None, muirc=None,
                 workdir=None):
    """Traces `model` and `base` (see export_graph) and imports them with
    ``muirc import --torch``; returns an Imported. Files go to `workdir` (a
    new temporary directory by default)."""
    graph = export_graph(model, base, args, kwargs, base_args, base_kwargs,
                         loss, name)
    workdir = workdir or tempfile.mkdtemp(prefix="muir-torch-")
    os.makedirs(workdir, exist_ok=True)
    graph_path = os.path.join(workdir, "graph.json")
    mlir_path = os.path.join(workdir, "model.mlir")
    binding_path = os.path.join(workdir, "binding.json")
    with open(graph_path, "w") as f:
        json.dump(graph, f)
    _run([_muirc(muirc), "import", "--torch", graph_path, "-o", mlir_path,
          "--binding", binding_path], "muirc import --torch " + graph_path)
    with open(mlir_path) as f:
        text = f.read()
    with open(binding_path) as f:
        binding = json.load(f)
    return Imported(mlir=text, path=mlir_path, binding=binding)


def package(imported, out, scheme, optimizer="adamw", muirc=None,
            extra=(), **hyper):
    """Builds the package of an Imported under `scheme` with ``muirc
    package`` (CPU only) at `out` and opens it. Keyword arguments are muirc
    flags (``lr=3e-3`` -> ``--lr 3e-3``, ``weight_decay`` ->
    ``--weight-decay``, ``precision="bf16"`` for bf16 parameters and
    gradients with float32 master weights); `extra` lists more flags as
    they are."""
    import muir
    command = [_muirc(muirc), "package", imported.path, "--scheme", scheme,
               "--optimizer", optimizer, "--no-gpu", "-o", out]
    for key, value in hyper.items():
        command += ["--" + key.replace("_", "-"), str(value)]
    _run(command + list(extra), "muirc package " + imported.path)
    return muir.Package(out)
