"""muir: run a compiled muir kernel package from Python.

A thin ctypes layer over the C runtime (libmuir_runtime.so, runtime.h). A
package's parameters live in flat float32 buffers (params, grads and the
optimizer's states); on the CPU this module hands out writable numpy views of
them by parameter name, with the shapes of the manifest::

    import muir
    pkg = muir.Package("build/gpt2-package")
    st = pkg.state()                 # or pkg.state("cuda"), "cuda:1"
    st.init(seed=0)
    for t in range(1, steps + 1):
        for name, g in compute_grads(st.params).items():
            st.grads[name][...] = g   # or: st.grads[name] = g
        st.step(t, lr_factor=schedule(t))

A repeated parameter (one copy per block) has its copies as the leading
dimension: shape (copies, *shape). A tied parameter views its owner's memory.
Errors from the runtime raise muir.Error(status, message).

The forward pass is the trainer's: it applies each parameter's
``ParamInfo.multiplier`` (W = multiplier * w at every use), each residual
branch's ``Package.residuals[k].multiplier[l]`` and each attention's
``Package.attention[k].scale``, once each (docs/Parametrization.md, "Applying
the forward multipliers in a trainer").

The runtime library is found through the MUIR_RUNTIME_LIB environment
variable, else next to this package, else in <repo>/build/lib.
"""

import ctypes
import enum
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import numpy as np

from . import _ffi

__all__ = ["Error", "Status", "ParamInfo", "ResidualInfo", "AttentionInfo",
           "Package", "State", "aligned_zeros", "runtime_api_version",
           "package_abi_version"]


class Status(enum.IntEnum):
    """muir_status_t."""
    OK = 0
    ERROR_IO = 1
    ERROR_FORMAT = 2
    ERROR_VERSION = 3
    ERROR_SIZE = 4
    ERROR_NOT_FOUND = 5
    ERROR_ARGUMENT = 6
    ERROR_NO_DEVICE = 7
    ERROR_CUDA = 8
    ERROR_MEMORY = 9


class Error(Exception):
    """A runtime call failed: ``status`` (a Status) and the runtime's
    ``message``, which names the file, parameter or sizes involved."""

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        self.message = message
        name = status.name if isinstance(status, Status) else str(status)
        super().__init__("%s: %s" % (name, message))


def _check(status):
    if status != 0:
        raise Error(status, _ffi.lib().muir_last_error().decode(
            errors="replace"))


def runtime_api_version():
    """MUIR_RUNTIME_API_VERSION of the loaded library."""
    return _ffi.lib().muir_runtime_api_version()


def package_abi_version():
    """The package ABI version the loaded library reads."""
    return _ffi.lib().muir_runtime_package_abi_version()


_INIT_KINDS = ["normal", "trunc_normal", "uniform", "zeros", "ones", "tied"]
# By muir_optimizer_t code (package_abi.h's MUIR_OPTIMIZERS).
_OPTIMIZERS = ["sgd", "sgd_momentum", "adam", "adamw", "lion", "adam_atan2",
               "adamw_decoupled", "sgd_nesterov"]

BUFFER_PARAMS = 0
BUFFER_GRADS = 1
BUFFER_STATE0 = 2


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of the package's table (muir_param_info_t)."""
    index: int
    name: str
    role: Optional[str]
    tied_to: Optional[str]
    init: str
    copy_shape: Tuple[int, ...]  # shape of one copy
    copies: int
    offset: int  # first element of copy 0 in every flat buffer
    stride: int  # elements from one copy to the next
    numel: int  # elements of one copy
    #: The forward multiplier: every use of the parameter reads
    #: ``multiplier * w``. One float, or for a repeated parameter a tuple
    #: with one per copy (the views' leading dim). The readout's is the
    #: output multiplier, the embedding's the embedding multiplier: apply
    #: each once.
    multiplier: Union[float, Tuple[float, ...]]

    @property
    def shape(self):
        """The view's shape: (copies, *copy_shape) for repeated parameters."""
        if self.copies > 1:
            return (self.copies,) + self.copy_shape
        return self.copy_shape


@dataclass(frozen=True)
class ResidualInfo:
    """One residual branch (muir_residual_info_t): in block l the forward
    pass computes ``stream + multiplier[l] * branch``."""
    name: str  # "<depth>.residual<k>", as in the multipliers file
    depth: str  # the depth dim of its tp.repeat
    index_in_block: int  # program order among its block's residuals
    copies: int  # blocks
    multiplier: Tuple[float, ...]  # one per block


@dataclass(frozen=True)
class AttentionInfo:
    """One attention (muir_attention_info_t): ``softmax(scale * q.k)`` over
    each head."""
    name: str  # "<depth>.attention<k>", or "attention<k>" at model level
    head_dim: str
    head_dim_size: int
    scale: float  # 1/d_head or 1/sqrt(d_head); 1 when unscaled


def _parse_device(device):
    if isinstance(device, int):
        return device
    match = re.fullmatch(r"(cpu|cuda)(?::(\d+))?", str(device))
    if not match or (match.group(1) == "cpu" and match.group(2)):
        raise ValueError("device must be 'cpu', 'cuda' or 'cuda:N', not %r"
                         % (device,))
    if match.group(1) == "cpu":
        return 0
    return 1 + int(match.group(2) or 0)


def _device_name(device):
    return "cpu" if device == 0 else "cuda:%d" % (device - 1)


def aligned_zeros(elements, alignment=64):
    """A zeroed float32 numpy array of `elements` whose data starts at a
    multiple of `alignment` bytes (for Package.adopt)."""
    raw = np.zeros(elements + alignment // 4, dtype=np.float32)
    skip = (-raw.ctypes.data % alignment) // 4
    return raw[skip:skip + elements]


class Package:
    """An opened package directory (muir_package_open)."""

    def __init__(self, path):
        self._lib = _ffi.lib()
        self._handle = None
        handle = ctypes.c_void_p()
        _check(self._lib.muir_package_open(os.fsencode(path),
                                           ctypes.byref(handle)))
        self._handle = handle
        self.path = os.fspath(path)
        info_p = ctypes.POINTER(_ffi.PackageInfo)()
        _check(self._lib.muir_package_get_info(handle, ctypes.byref(info_p)))
        info = info_p.contents
        self.abi_version = info.abi_version
        self.model = info.model.decode()
        self.optimizer = (_OPTIMIZERS[info.optimizer]
                          if 0 <= info.optimizer < len(_OPTIMIZERS)
                          else str(info.optimizer))
        self.num_states = info.num_states
        self.buffer_elements = info.buffer_elements
        self.alignment = info.alignment
        params = {}
        for i in range(info.num_params):
            p = info.params[i]
            params[p.name.decode()] = ParamInfo(
                index=i,
                name=p.name.decode(),
                role=p.role.decode() if p.role else None,
                tied_to=p.tied_to.decode() if p.tied_to else None,
                init=(_INIT_KINDS[p.init] if 0 <= p.init < len(_INIT_KINDS)
                      else str(p.init)),
                copy_shape=tuple(p.shape[d] for d in range(p.rank)),
                copies=p.copies,
                offset=p.offset,
                stride=p.stride,
                numel=p.numel,
                multiplier=(tuple(p.multiplier[:p.copies]) if p.copies > 1
                            else p.multiplier[0]))
        #: name -> ParamInfo, in table order (the C table is the source of
        #: truth for the layout).
        self.params_info = params
        #: The residual branches (ResidualInfo) and attentions
        #: (AttentionInfo) in program order: the forward multipliers besides
        #: each parameter's own.
        self.residuals = [
            ResidualInfo(name=r.name.decode(), depth=r.depth.decode(),
                         index_in_block=r.index_in_block, copies=r.copies,
                         multiplier=tuple(r.multiplier[:r.copies]))
            for r in info.residuals[:info.num_residuals]]
        self.attention = [
            AttentionInfo(name=a.name.decode(), head_dim=a.head_dim.decode(),
                          head_dim_size=a.head_dim_size, scale=a.scale)
            for a in info.attentions[:info.num_attentions]]
        #: The kernels' compiled-in constants: name -> list of dicts (lr,
        #: weight_decay, eps, beta1, beta2, init_scale), one per copy of a
        #: repeated parameter whose constants differ by copy, else one.
        self.tensor_rows = {}
        names = list(params)
        for k in range(info.num_kernel_params):
            entry = info.kernel_params[k]
            count = entry.copies if entry.row_stride else 1
            self.tensor_rows[names[entry.param]] = [
                {f: getattr(info.tensor_rows[entry.first_row + r], f)
                 for f, _ in _ffi.TensorRow._fields_}
                for r in range(count)]
        #: Partial sums of the reduction phase (package_abi.h).
        self.num_slots = info.num_slots
        manifest = os.path.join(self.path, "manifest.json")
        #: manifest.json as written by muirc (None if absent): the constants
        #: and metadata beyond the C table.
        self.manifest = None
        if os.path.exists(manifest):
            with open(manifest) as f:
                self.manifest = json.load(f)

    def __del__(self):
        if getattr(self, "_handle", None):
            self._lib.muir_package_release(self._handle)
            self._handle = None

    def __repr__(self):
        return "muir.Package(%r, model=%r, %d params, %d elements)" % (
            self.path, self.model, len(self.params_info),
            self.buffer_elements)

    def find(self, name):
        """The ParamInfo of `name` (muir_package_find_param)."""
        index = ctypes.c_int64()
        _check(self._lib.muir_package_find_param(
            self._handle, name.encode(), ctypes.byref(index)))
        return list(self.params_info.values())[index.value]

    def state(self, device="cpu"):
        """A new State whose buffers the runtime allocates (zeroed)."""
        handle = ctypes.c_void_p()
        _check(self._lib.muir_state_create(self._handle,
                                           _parse_device(device),
                                           ctypes.byref(handle)))
        return State(self, handle, keep=())

    def adopt(self, params, grads, states=(), device="cpu"):
        """A State over buffers the caller owns: numpy float32 arrays on the
        CPU (see aligned_zeros), or device addresses (ints, e.g. a torch
        tensor's data_ptr()) on CUDA. The arrays are kept alive by the
        State."""
        device = _parse_device(device)
        buffers = [params, grads] + list(states)
        pointers = []
        elements = None
        for b in buffers:
            if isinstance(b, np.ndarray):
                if b.dtype != np.float32 or not b.flags.c_contiguous:
                    raise ValueError("adopted arrays must be contiguous "
                                     "float32, got %s" % (b.dtype,))
                if not b.flags.writeable:
                    raise ValueError("adopted arrays must be writable")
                pointers.append(b.ctypes.data)
                elements = b.size if elements is None else elements
                if b.size != elements:
                    raise Error(Status.ERROR_SIZE,
                                "adopted arrays differ in size (%d vs %d)"
                                % (b.size, elements))
            else:
                pointers.append(int(b))
        if elements is None:
            elements = self.buffer_elements
        state_array = (ctypes.c_void_p * max(1, len(buffers) - 2))(
            *pointers[2:])
        handle = ctypes.c_void_p()
        _check(self._lib.muir_state_adopt(
            self._handle, device, pointers[0], pointers[1],
            state_array if len(buffers) > 2 else None, elements,
            ctypes.byref(handle)))
        return State(self, handle, keep=tuple(buffers))


class _Views(Mapping):
    """name -> writable numpy view of one buffer. Assigning copies into the
    view: ``views[name] = array`` is ``views[name][...] = array`` except that
    the shapes must match exactly (or `array` be a scalar): no broadcasting."""

    def __init__(self, views, label):
        self._views = views
        self._label = label

    def __getitem__(self, name):
        try:
            return self._views[name]
        except KeyError:
            raise KeyError("no parameter %r (have: %s)"
                           % (name, ", ".join(self._views))) from None

    def __setitem__(self, name, value):
        view = self[name]
        value = np.asarray(value)
        if value.ndim != 0 and value.shape != view.shape:
            raise ValueError("%s[%r] has shape %s; cannot assign shape %s"
                             % (self._label, name, view.shape, value.shape))
        view[...] = value

    def __iter__(self):
        return iter(self._views)

    def __len__(self):
        return len(self._views)

    def __repr__(self):
        return "{%s}" % ", ".join("%r: %s" % (k, v.shape)
                                  for k, v in self._views.items())


class State:
    """The flat buffers of one model replica on one device (muir_state_t).

    On the CPU, ``params``, ``grads`` and ``states[k]`` map parameter names to
    writable numpy views, and ``flat_params``, ``flat_grads`` and
    ``flat_states[k]`` are the whole buffers. The memory stays valid while
    any view of it is alive. On CUDA the buffers are device memory: use
    buffer_pointer, copy_to_host and copy_from_host.

    A State must not be used from two threads at once.
    """

    def __init__(self, package, handle, keep):
        self._lib = package._lib
        self._handle = handle
        self.package = package
        self._keep = keep
        self.device = _device_name(self._lib.muir_state_device(handle))
        self.num_buffers = 2 + package.num_states
        self._flat = None
        if self.device == "cpu":
            self._flat = [self._flat_view(w) for w in range(self.num_buffers)]
            labels = ["params", "grads"] + [
                "states[%d]" % k for k in range(package.num_states)]
            self._views = [_Views(self._param_views(f), label)
                           for f, label in zip(self._flat, labels)]

    def __del__(self):
        if getattr(self, "_handle", None):
            self._lib.muir_state_release(self._handle)
            self._handle = None

    def __repr__(self):
        return "muir.State(%r on %s)" % (self.package.model, self.device)

    def buffer_pointer(self, which):
        """Address of buffer `which` (0 params, 1 grads, 2 + k state k); a
        device pointer on CUDA."""
        data = ctypes.c_void_p()
        elements = ctypes.c_int64()
        _check(self._lib.muir_state_buffer(self._handle, which,
                                           ctypes.byref(data),
                                           ctypes.byref(elements)))
        return data.value or 0

    def _flat_view(self, which):
        n = self.package.buffer_elements
        address = self.buffer_pointer(which)
        carray = (ctypes.c_float * n).from_address(address)
        carray._muir_state = self  # the memory lives as long as a view
        return np.frombuffer(carray, dtype=np.float32)

    def _param_views(self, flat):
        views = {}
        for p in self.package.params_info.values():
            base = flat[p.offset:]
            if p.copies > 1:
                inner = np.empty(p.copy_shape, dtype=np.float32).strides
                views[p.name] = np.lib.stride_tricks.as_strided(
                    base, shape=p.shape, strides=(p.stride * 4,) + inner)
            else:
                views[p.name] = base[:p.numel].reshape(p.copy_shape)
        return views

    def _cpu_only(self, what):
        if self._flat is None:
            raise Error(Status.ERROR_ARGUMENT,
                        "%s: the buffers of a state on %s are device memory; "
                        "use copy_to_host / copy_from_host"
                        % (what, self.device))

    @property
    def params(self):
        """name -> view of the params buffer."""
        self._cpu_only("params")
        return self._views[BUFFER_PARAMS]

    @property
    def grads(self):
        """name -> view of the grads buffer."""
        self._cpu_only("grads")
        return self._views[BUFFER_GRADS]

    @property
    def states(self):
        """One name -> view mapping per optimizer state (AdamW: m, v)."""
        self._cpu_only("states")
        return self._views[BUFFER_STATE0:]

    @property
    def flat_params(self):
        self._cpu_only("flat_params")
        return self._flat[BUFFER_PARAMS]

    @property
    def flat_grads(self):
        self._cpu_only("flat_grads")
        return self._flat[BUFFER_GRADS]

    @property
    def flat_states(self):
        self._cpu_only("flat_states")
        return self._flat[BUFFER_STATE0:]

    def copy_to_host(self, which, begin=0, count=None):
        """Elements [begin, begin + count) of buffer `which`, as a new
        numpy array (any device)."""
        if count is None:
            count = self.package.buffer_elements - begin
        out = np.empty(max(count, 0), dtype=np.float32)
        _check(self._lib.muir_state_copy_to_host(
            self._handle, which, begin, count, out.ctypes.data))
        return out

    def copy_from_host(self, which, values, begin=0):
        """Writes `values` (float32) into buffer `which` from `begin`."""
        values = np.ascontiguousarray(values, dtype=np.float32).ravel()
        _check(self._lib.muir_state_copy_from_host(
            self._handle, which, begin, values.size, values.ctypes.data))

    def init(self, seed=0):
        """Initialises every parameter from `seed` (muir_state_init)."""
        _check(self._lib.muir_state_init(self._handle, seed))

    def init_range(self, seed, begin, end):
        """Initialises elements [begin, end) of the params buffer only."""
        _check(self._lib.muir_state_init_range(self._handle, seed, begin,
                                               end))

    def step(self, t, lr_factor=1.0, grad_norm=False):
        """One optimizer step; `t` counts from 1, `lr_factor` scales every
        learning rate (the schedule). With ``grad_norm=True`` it returns the
        global L2 norm of the gradients it stepped with (float64, from the
        reduction phase; see grad_norm), else None."""
        if not grad_norm:
            _check(self._lib.muir_state_step(self._handle, t, lr_factor))
            return None
        norm = ctypes.c_double()
        _check(self._lib.muir_state_step_with_norm(
            self._handle, t, lr_factor, ctypes.byref(norm)))
        return norm.value

    def grad_norm(self):
        """The global L2 norm of the grads buffer: every element of every
        untied parameter once, padding excluded (float64)."""
        norm = ctypes.c_double()
        _check(self._lib.muir_state_grad_norm(self._handle,
                                              ctypes.byref(norm)))
        return norm.value

    def set_optimizer_multipliers(self, name, lr=1.0, weight_decay=1.0):
        """From the next step on, parameter `name` (all its copies) steps
        with its compiled-in learning rate times `lr` and weight decay times
        `weight_decay`; this state only, no recompiling. 1 and 1 restore
        the package's constants (Package.tensor_rows)."""
        _check(self._lib.muir_state_set_optimizer_multipliers(
            self._handle, self.package.find(name).index, lr, weight_decay))

    def optimizer_multipliers(self, name):
        """(lr, weight_decay) multipliers of parameter `name` in this
        state."""
        lr, wd = ctypes.c_double(), ctypes.c_double()
        _check(self._lib.muir_state_get_optimizer_multipliers(
            self._handle, self.package.find(name).index, ctypes.byref(lr),
            ctypes.byref(wd)))
        return lr.value, wd.value
