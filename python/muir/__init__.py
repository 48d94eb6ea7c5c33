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
Every failure raises muir.Error(status, message): the runtime's errors, and
bad arguments caught before any C call (integers out of their C type's range,
wrong dtypes, shapes, counts or alignment), which name the call, the file or
the parameter involved.

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
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import numpy as np

from . import _ffi

__all__ = ["Error", "ArgumentError", "NotFoundError", "Status", "ParamInfo",
           "ResidualInfo", "AttentionInfo",
           "Package", "State", "StepReport", "Telemetry", "aligned_zeros",
           "to_bf16", "from_bf16",
           "runtime_api_version",
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


class ArgumentError(Error, ValueError):
    """A bad argument, caught before the runtime is called (status
    ERROR_ARGUMENT). Also a ValueError."""

    def __init__(self, message):
        super().__init__(Status.ERROR_ARGUMENT, message)


class NotFoundError(Error, KeyError):
    """No parameter of that name in a view mapping (status ERROR_NOT_FOUND).
    Also a KeyError, so the mappings behave as mappings (``in``, ``get``)."""

    def __init__(self, message):
        super().__init__(Status.ERROR_NOT_FOUND, message)

    __str__ = Exception.__str__


_INT32 = (-2**31, 2**31 - 1)
_INT64 = (-2**63, 2**63 - 1)
_UINT64 = (0, 2**64 - 1)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _integer(value, what, bounds):
    """`value` as a Python int inside `bounds` (inclusive), else an
    ArgumentError naming `what` ("init: seed"): ctypes would wrap it
    silently (2**64 becomes 0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, numbers.Integral):
        raise ArgumentError("%s must be an integer, not %r" % (what, value))
    value = int(value)
    if not bounds[0] <= value <= bounds[1]:
        raise ArgumentError("%s = %d is outside [%d, %d]"
                            % (what, value, bounds[0], bounds[1]))
    return value


def _real(value, what):
    """`value` as a Python float, for a C double (the runtime checks the
    range); a bool, a string or a complex number is an ArgumentError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value,
                                                             numbers.Real):
        raise ArgumentError("%s must be a real number, not %r"
                            % (what, value))
    return float(value)


def _c_string(value, what):
    """`value` (str, bytes or a path) as bytes for a C string; a NUL byte
    would cut it short in C, so it is an error."""
    if isinstance(value, str):
        encoded = value.encode("utf-8", errors="surrogateescape")
    elif isinstance(value, (bytes, os.PathLike)):
        encoded = os.fsencode(value)
    else:
        raise ArgumentError("%s must be a string, not %r" % (what, value))
    if b"\0" in encoded:
        raise ArgumentError("%s %r contains a NUL byte" % (what, value))
    return encoded


def _decode(raw, what):
    """A string from the package's table."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Error(Status.ERROR_FORMAT,
                    "%s %r is not UTF-8: %s" % (what, raw, e)) from None


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
               "adamw_decoupled", "sgd_nesterov", "lion_a", "lion_ar"]

BUFFER_PARAMS = 0
BUFFER_GRADS = 1
BUFFER_STATE0 = 2
#: A bf16 package's bf16 copy of the params (runtime.h).
BUFFER_PARAMS_BF16 = 64
_PRECISIONS = ["fp32", "bf16"]


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
    if isinstance(device, numbers.Integral) and not isinstance(
            device, (bool, np.bool_)):
        return _integer(device, "device", (0, _INT32[1]))
    match = re.fullmatch(r"(cpu|cuda)(?::(\d{1,9}))?", str(device))
    if not match or (match.group(1) == "cpu" and match.group(2)):
        raise ArgumentError("device must be 'cpu', 'cuda' or 'cuda:N', not %r"
                            % (device,))
    if match.group(1) == "cpu":
        return 0
    return 1 + int(match.group(2) or 0)


def _device_name(device):
    return "cpu" if device == 0 else "cuda:%d" % (device - 1)


def _parse_options(spec):
    """The options of an optimizer spec "name:key=value,..." as a dict."""
    options = {}
    _, _, text = spec.partition(":")
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        if value in ("true", "false"):
            options[key] = value == "true"
        else:
            try:
                options[key] = float(value)
            except ValueError:
                options[key] = value
    return options


@dataclass(frozen=True)
class StepReport:
    """What a guarded State.step did: the global gradient norm before
    clipping (NaN or inf when a gradient is), the factor every gradient was
    multiplied by (1.0: not clipped) and whether the step was skipped for
    non-finite gradients (params and states untouched)."""
    grad_norm: float
    grad_scale: float
    skipped: bool
    #: With ``step(telemetry=True)``: parameter name -> one Telemetry per
    #: copy (a tuple of one for a parameter that is not repeated); NaN
    #: entries when the step was skipped. None otherwise.
    telemetry: dict = None
    #: LionAR's per-row telemetry, with ``step(telemetry=True)`` (CPU or CUDA):
    #: name -> float64 array (copies, units per copy, 4) of each rotational
    #: unit's (param_norm, param_norm_after, update_norm, angle), NaN for a
    #: unit that did not rotate (muir_state_unit_telemetry). None otherwise.
    unit_telemetry: dict = None


@dataclass(frozen=True)
class Telemetry:
    """The step telemetry of one tensor copy (float64, from the step
    kernel): ||w|| before and after the step, ||w' - w|| and the angle
    between w and w' in radians (docs/Optimizers.md)."""
    param_norm: float
    param_norm_after: float
    update_norm: float
    angle: float


def to_bf16(values):
    """float32 values as bfloat16 bits (uint16), rounded to nearest even
    (a NaN stays a quiet NaN): what a bf16 package's grads take."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
               >> np.uint32(16))
    nan = (bits & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    rounded = np.where(nan, (bits >> np.uint32(16)) | np.uint32(0x40), rounded)
    return rounded.astype(np.uint16)


def from_bf16(bits):
    """bfloat16 bits (uint16) as float32 values (exact)."""
    bits = np.ascontiguousarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def aligned_zeros(elements, alignment=64, dtype=np.float32):
    """A zeroed numpy array of `elements` float32 values (or, with
    ``dtype=np.uint16``, bfloat16 bits) whose data starts at a multiple of
    `alignment` bytes (a power of two; for Package.adopt)."""
    elements = _integer(elements, "aligned_zeros: elements", (0, _INT64[1]))
    alignment = _integer(alignment, "aligned_zeros: alignment",
                         (4, 1 << 30))
    if alignment & (alignment - 1):
        raise ArgumentError("aligned_zeros: alignment %d is not a power of "
                            "two" % alignment)
    try:
        dtype = np.dtype(dtype)
    except Exception:  # numpy raises TypeError, ValueError, SyntaxError
        dtype = repr(dtype)  # a name numpy does not know: the same error
    if dtype not in (np.float32, np.uint16):
        raise ArgumentError("aligned_zeros: dtype %s is not float32 or "
                            "uint16 (bfloat16 bits)" % dtype)
    size = dtype.itemsize
    raw = np.zeros(elements + alignment // size, dtype=dtype)
    skip = (-raw.ctypes.data % alignment) // size
    return raw[skip:skip + elements]


def _strict_json(text, label):
    """Parses JSON like the runtime: duplicate keys and NaN are errors."""
    def pairs(items):
        result = dict(items)
        if len(result) != len(items):
            seen = set()
            for k, _ in items:
                if k in seen:
                    raise ValueError("duplicate key %r" % k)
                seen.add(k)
        return result

    def constant(name):
        raise ValueError("%s is not JSON" % name)

    try:
        return json.loads(text, object_pairs_hook=pairs,
                          parse_constant=constant)
    except (ValueError, RecursionError) as e:
        raise Error(Status.ERROR_FORMAT, "%s: %s" % (label, e)) from None


class Package:
    """An opened package directory (muir_package_open)."""

    def __init__(self, path, expect_hash=None):
        """Opens the package directory `path` (muir_package_open). With
        `expect_hash`, also checks that it is that build
        (muir_package_check_hash), e.g. the MUIR_PACKAGE_HASH of a header
        the rest of the trainer was built against."""
        self._lib = _ffi.lib()
        self._handle = None
        encoded = _c_string(path, "Package: path")
        expected = (None if expect_hash is None
                    else _c_string(expect_hash, "Package: expect_hash"))
        handle = ctypes.c_void_p()
        _check(self._lib.muir_package_open(encoded, ctypes.byref(handle)))
        self._handle = handle
        self.path = os.fsdecode(encoded)
        if expected is not None:
            _check(self._lib.muir_package_check_hash(handle, expected))
        info_p = ctypes.POINTER(_ffi.PackageInfo)()
        _check(self._lib.muir_package_get_info(handle, ctypes.byref(info_p)))
        info = info_p.contents
        self.abi_version = info.abi_version
        self.model = _decode(info.model, "the model name")
        #: The package's identity (SHA-256, 64 hex digits): the same in the
        #: table, the library's soname, manifest.json and muir_package.h.
        self.package_hash = _decode(info.package_hash, "the package hash")
        self.optimizer = (_OPTIMIZERS[info.optimizer]
                          if 0 <= info.optimizer < len(_OPTIMIZERS)
                          else str(info.optimizer))
        #: The optimizer with every option of its family, as muirc's
        #: --optimizer reads it ("lion:nesterov=true,beta=0.98,...";
        #: docs/Optimizers.md), and its options as a dict (key -> bool,
        #: float or str).
        self.optimizer_spec = info.optimizer_spec.decode()
        self.optimizer_options = _parse_options(self.optimizer_spec)
        self.num_states = info.num_states
        self.buffer_elements = info.buffer_elements
        self.alignment = info.alignment
        params = {}
        for i in range(info.num_params):
            p = info.params[i]
            name = _decode(p.name, "a parameter name")
            params[name] = ParamInfo(
                index=i,
                name=name,
                role=_decode(p.role, "the role of " + name) if p.role
                else None,
                tied_to=_decode(p.tied_to, "the tie of " + name)
                if p.tied_to else None,
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
            ResidualInfo(name=_decode(r.name, "a residual name"), depth=_decode(r.depth, "a depth dim name"),
                         index_in_block=r.index_in_block, copies=r.copies,
                         multiplier=tuple(r.multiplier[:r.copies]))
            for r in info.residuals[:info.num_residuals]]
        self.attention = [
            AttentionInfo(name=_decode(a.name, "an attention name"), head_dim=_decode(a.head_dim, "a head dim name"),
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
        #: LionAR's rotational units: name -> (elements per unit, units per
        #: copy) for the parameters that have them (docs/Optimizers.md).
        self.num_units = info.num_units
        #: "fp32" (every buffer float32) or "bf16" (bfloat16 grads and a
        #: bfloat16 copy of the params, float32 master weights and states;
        #: docs/Optimizers.md).
        self.precision = (_PRECISIONS[info.precision]
                          if 0 <= info.precision < len(_PRECISIONS)
                          else str(info.precision))
        memory, step = ctypes.c_int64(), ctypes.c_int64()
        _check(self._lib.muir_package_bytes_per_param(
            handle, ctypes.byref(memory), ctypes.byref(step)))
        #: Bytes per parameter of this precision and optimizer: "memory"
        #: (the buffers a state holds) and "step" (what a step reads and
        #: writes), muir_package_bytes_per_param.
        self.bytes_per_param = {"memory": memory.value, "step": step.value}
        self.rotational_units = {
            names[e.param]: (e.unit_elements, e.numel // e.unit_elements)
            for e in info.kernel_params[:info.num_kernel_params]
            if e.unit_elements > 0}
        #: Lengths of the partial-sum vectors of a sharded step
        #: (muir_package_partials): State.reduce's and the telemetry's.
        step_count, telemetry_count = ctypes.c_int64(), ctypes.c_int64()
        _check(self._lib.muir_package_partials(
            handle, ctypes.byref(step_count), ctypes.byref(telemetry_count)))
        self.step_partials = step_count.value
        self.telemetry_partials = telemetry_count.value
        # The telemetry's entries: (name, copies) in kernel table order.
        self._telemetry_layout = [
            (names[info.kernel_params[k].param], info.kernel_params[k].copies)
            for k in range(info.num_kernel_params)]
        # The manifest the runtime checked against the table at open, not a
        # fresh read of the path (which may hold a newer package by now).
        text = ctypes.c_void_p()
        size = ctypes.c_size_t()
        _check(self._lib.muir_package_get_manifest(
            handle, ctypes.byref(text), ctypes.byref(size)))
        raw = ctypes.string_at(text.value, size.value)
        label = "manifest.json of package '%s'" % self.path
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Error(Status.ERROR_FORMAT, "%s: %s" % (label, e)) from None
        #: manifest.json as written by muirc: the constants and metadata
        #: beyond the C table.
        self.manifest = _strict_json(decoded, label)

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
            self._handle, _c_string(name, "find: name"),
            ctypes.byref(index)))
        return list(self.params_info.values())[index.value]

    def plan_shards(self, ranks):
        """[(begin, end)] of `ranks` contiguous shards of the flat buffers,
        rank r owning the r-th: bounds at reduction-slot boundaries, as
        even as those allow (muir_package_plan_shards; docs/Distributed.md).
        """
        ranks = _integer(ranks, "plan_shards: ranks", (1, 1 << 40))
        bounds = np.zeros(ranks + 1, dtype=np.int64)
        _check(self._lib.muir_package_plan_shards(self._handle, ranks,
                                                  bounds.ctypes.data))
        return [(int(bounds[r]), int(bounds[r + 1])) for r in range(ranks)]

    def _shard(self, shard, what):
        """`shard` as (begin, end) ints, (0, buffer_elements) for None."""
        if shard is None:
            return 0, self.buffer_elements
        try:
            begin, end = shard
        except (TypeError, ValueError):
            raise ArgumentError("%s: shard must be a pair (begin, end), not "
                                "%r" % (what, shard)) from None
        return (_integer(begin, what + ": shard begin", _INT64),
                _integer(end, what + ": shard end", _INT64))

    def state(self, device="cpu", shard=None):
        """A new State whose buffers the runtime allocates (zeroed); with
        `shard` = (begin, end), buffers of that range of the flat buffers
        only (muir_state_create_shard)."""
        begin, end = self._shard(shard, "state")
        handle = ctypes.c_void_p()
        _check(self._lib.muir_state_create_shard(
            self._handle, _parse_device(device), begin, end,
            ctypes.byref(handle)))
        return State(self, handle, keep=())

    def unit_at(self, element):
        """The LionAR unit holding flat element `element`: (begin, end) of
        its elements, (0, 0) where its tensor has no units
        (muir_package_unit_at)."""
        element = _integer(element, "unit_at: element", _INT64)
        begin, end = ctypes.c_int64(), ctypes.c_int64()
        _check(self._lib.muir_package_unit_at(
            self._handle, element, ctypes.byref(begin), ctypes.byref(end)))
        return begin.value, end.value

    def combine_telemetry(self, partials):
        """parameter name -> tuple of Telemetry (one per copy) from the
        telemetry partials of a sharded step summed over the ranks
        (muir_package_combine_telemetry)."""
        partials = np.ascontiguousarray(partials, dtype=np.float64).ravel()
        layout = self._telemetry_layout
        count = sum(copies for _, copies in layout)
        entries = (_ffi.StepTelemetry * max(1, count))()
        _check(self._lib.muir_package_combine_telemetry(
            self._handle, partials.ctypes.data, partials.size, entries, count))
        return _telemetry_by_name(layout, entries)

    def combine_unit_telemetry(self, partials):
        """LionAR's per-row telemetry of a sharded step: parameter name ->
        float64 array (copies, units per copy, 4) of each rotational unit's
        (param_norm, param_norm_after, update_norm, angle) from the
        telemetry partials summed over the ranks, as
        StepReport.unit_telemetry (muir_package_unit_telemetry); None
        without units."""
        partials = np.ascontiguousarray(partials, dtype=np.float64).ravel()
        return _unit_telemetry_of(
            self, lambda index, entries, count:
            self._lib.muir_package_unit_telemetry(
                self._handle, partials.ctypes.data, partials.size, index,
                entries, count))

    def _adopted_pointer(self, buffer, label, device, elements,
                         dtype=np.float32):
        """The address of one adopted buffer, checked for what the runtime
        cannot see: on the CPU a writable, C-contiguous, 1-D numpy array of
        `dtype` (float32, or uint16 for bfloat16 bits) and buffer_elements,
        aligned to the package; on CUDA an integer device address."""
        what = "adopt: %s" % label
        if device != 0:
            if isinstance(buffer, np.ndarray):
                raise ArgumentError("%s is a numpy array, but a state on %s "
                                    "needs a device address (e.g. a torch "
                                    "tensor's data_ptr())"
                                    % (what, _device_name(device)))
            return _integer(buffer, what, (1, _UINT64[1]))
        if not isinstance(buffer, np.ndarray):
            raise ArgumentError(
                "%s must be a numpy %s array on the CPU, not %s (an "
                "address cannot be checked)"
                % (what, np.dtype(dtype).name, type(buffer).__name__))
        if buffer.dtype != dtype:
            raise ArgumentError("%s has dtype %s, not %s%s"
                                % (what, buffer.dtype, np.dtype(dtype).name,
                                   " (bfloat16 bits: muir.to_bf16 makes "
                                   "them)" if dtype == np.uint16 else ""))
        if buffer.ndim != 1 or not buffer.flags.c_contiguous:
            raise ArgumentError("%s must be 1-D and contiguous, not shape %s "
                                "with strides %s"
                                % (what, buffer.shape, buffer.strides))
        if not buffer.flags.writeable:
            raise ArgumentError("%s is read-only" % what)
        if buffer.size != elements:
            raise Error(Status.ERROR_SIZE,
                        "%s has %d elements, but package '%s' (model '%s') "
                        "needs %d per buffer"
                        % (what, buffer.size, self.path, self.model,
                           elements))
        if buffer.ctypes.data % self.alignment:
            raise ArgumentError("%s at %#x is not aligned to the package's %d "
                                "bytes (muir.aligned_zeros makes one)"
                                % (what, buffer.ctypes.data, self.alignment))
        return buffer.ctypes.data

    def adopt(self, params, grads, states=(), device="cpu", shard=None,
              params_bf16=None):
        """A State over buffers the caller owns: numpy float32 arrays on the
        CPU (see aligned_zeros), or device addresses (ints, e.g. a torch
        tensor's data_ptr()) on CUDA; `states` is a list or tuple of exactly
        num_states of them. The arrays are kept alive by the State. With
        `shard` = (begin, end) each buffer holds that range of the flat
        buffers. A bf16 package's grads and `params_bf16` (its params copy,
        required there and refused elsewhere) hold bfloat16 bits: uint16
        arrays on the CPU (muir_state_adopt_buffers)."""
        device = _parse_device(device)
        begin, end = self._shard(shard, "adopt")
        bf16 = self.precision == "bf16"
        if bf16 and params_bf16 is None:
            raise ArgumentError("adopt: package '%s' is bf16: its params copy "
                                "(params_bf16, bfloat16 bits) is needed too"
                                % self.path)
        if not bf16 and params_bf16 is not None:
            raise ArgumentError("adopt: package '%s' is %s: it has no bf16 "
                                "copy of the params to adopt"
                                % (self.path, self.precision))
        if not isinstance(states, (list, tuple)):
            raise ArgumentError("adopt: states must be a list or tuple of %d "
                                "buffers, not %s"
                                % (self.num_states, type(states).__name__))
        if len(states) != self.num_states:
            raise ArgumentError("adopt: package '%s' (optimizer %s) keeps %d "
                                "state buffers, but %d were given"
                                % (self.path, self.optimizer, self.num_states,
                                   len(states)))
        buffers = [params, grads] + list(states)
        labels = ["params", "grads"] + ["states[%d]" % k
                                        for k in range(len(states))]
        sizes = [4, 2 if bf16 else 4] + [4] * len(states)
        if bf16:
            buffers.append(params_bf16)
            labels.append("params_bf16")
            sizes.append(2)
        pointers = [self._adopted_pointer(
            b, label, device, end - begin,
            np.uint16 if size == 2 else np.float32)
            for b, label, size in zip(buffers, labels, sizes)]
        if device == 0:
            for i in range(len(buffers)):
                for j in range(i):
                    if np.may_share_memory(buffers[i], buffers[j]):
                        raise ArgumentError("adopt: %s and %s share memory"
                                            % (labels[j], labels[i]))
        described = (_ffi.Buffer * len(buffers))(
            *[_ffi.Buffer(p, end - begin, size)
              for p, size in zip(pointers, sizes)])
        handle = ctypes.c_void_p()
        _check(self._lib.muir_state_adopt_buffers(
            self._handle, device, begin, end, described, len(buffers),
            ctypes.byref(handle)))
        return State(self, handle, keep=tuple(buffers))


def _unit_telemetry_of(package, call):
    """name -> float64 array (copies, units per copy, 4) of every parameter
    with rotational units, each from `call(index, entries, count)` (a C
    function filling `count` muir_step_telemetry_t); None without units."""
    units = package.rotational_units
    if not units:
        return None
    out = {}
    for name, (_, per_copy) in units.items():
        info = package.params_info[name]
        count = info.copies * per_copy
        entries = (_ffi.StepTelemetry * count)()
        _check(call(info.index, entries, count))
        out[name] = np.array(
            [(e.param_norm, e.param_norm_after, e.update_norm, e.angle)
             for e in entries]).reshape(info.copies, per_copy, 4)
    return out


def _telemetry_by_name(layout, entries):
    """name -> tuple of Telemetry from muir_step_telemetry_t entries in
    kernel table order."""
    by_name, i = {}, 0
    for name, copies in layout:
        by_name[name] = tuple(
            Telemetry(e.param_norm, e.param_norm_after, e.update_norm,
                      e.angle)
            for e in entries[i:i + copies])
        i += copies
    return by_name


def _float32_values(values, label, shape=None):
    """`values` as a float32 array: real numbers only, nothing that
    float32 turns into an infinity, and (with `shape`) exactly that shape or
    a scalar, never broadcast."""
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as e:
        raise ArgumentError("%s: %s" % (label, e)) from None
    if array.dtype.kind not in "fiu" or array.dtype.itemsize > 8:
        raise ArgumentError("%s: values of dtype %s are not real numbers"
                            % (label, array.dtype))
    if shape is not None and array.ndim != 0 and array.shape != shape:
        raise ArgumentError("%s has shape %s; cannot assign shape %s"
                            % (label, shape, array.shape))
    with np.errstate(over="ignore"):
        converted = array.astype(np.float32)
    overflow = np.isfinite(array) & ~np.isfinite(converted)
    if overflow.any():
        raise ArgumentError("%s: %r overflows float32 (largest %g)"
                            % (label, array[overflow].flat[0], _FLOAT32_MAX))
    return converted


def _bf16_bits(values, label):
    """`values` as an array of bfloat16 bits: uint16 only (float values
    would be stored as bits silently)."""
    bits = np.asarray(values)
    if bits.dtype != np.uint16:
        raise ArgumentError("%s: a bf16 buffer takes bfloat16 bits as uint16 "
                            "(muir.to_bf16 rounds float32 to them), not %s"
                            % (label, bits.dtype))
    return bits


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
        except (KeyError, TypeError):
            raise NotFoundError("no parameter %r (have: %s)"
                                % (name, ", ".join(self._views))) from None

    def __setitem__(self, name, value):
        view = self[name]
        label = "%s[%r]" % (self._label, name)
        if view.dtype == np.uint16:
            bits = _bf16_bits(value, label)
            if bits.ndim != 0 and bits.shape != view.shape:
                raise ArgumentError("%s has shape %s; cannot assign shape %s"
                                    % (label, view.shape, bits.shape))
            view[...] = bits
            return
        view[...] = _float32_values(value, label, view.shape)

    def __iter__(self):
        return iter(self._views)

    def __len__(self):
        return len(self._views)

    def __repr__(self):
        return "{%s}" % ", ".join("%r: %s" % (k, v.shape)
                                  for k, v in self._views.items())


def _step_arguments(t, lr_factor, what):
    """(t, lr_factor) checked for a step: t >= 1, lr_factor a finite,
    non-negative float32 that does not underflow to 0."""
    t = _integer(t, what + ": t", (1, _INT64[1]))
    if isinstance(lr_factor, (bool, np.bool_)) or not isinstance(
            lr_factor, numbers.Real):
        raise ArgumentError("%s: lr_factor must be a real number, not %r"
                            % (what, lr_factor))
    factor = float(lr_factor)
    if not (0.0 <= factor <= _FLOAT32_MAX):
        raise ArgumentError("%s: lr_factor %r is not a finite, non-negative "
                            "float32" % (what, lr_factor))
    if factor != 0.0 and np.float32(factor) == 0.0:
        raise ArgumentError("%s: lr_factor %r underflows float32 to 0"
                            % (what, lr_factor))
    return t, factor


def _guards(max_grad_norm, skip_nonfinite, what):
    """muir_step_guards_t from the keyword arguments of a step."""
    limit = 0.0
    if max_grad_norm is not None:
        limit = _real(max_grad_norm, what + ": max_grad_norm")
        if not 0.0 < limit < float("inf"):
            raise ArgumentError("%s: max_grad_norm %r is not a finite "
                                "positive number" % (what, max_grad_norm))
    return _ffi.StepGuards(limit, 1 if skip_nonfinite else 0)


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
        begin, end = ctypes.c_int64(), ctypes.c_int64()
        _check(self._lib.muir_state_shard(handle, ctypes.byref(begin),
                                          ctypes.byref(end)))
        #: The elements [begin, end) of the flat buffers this state holds
        #: ((0, buffer_elements) unless it is a shard).
        self.shard = (begin.value, end.value)
        #: Elements of each of its buffers.
        self.elements = end.value - begin.value
        self._flat = None
        self._views = None
        self._bf16 = None  # a bf16 package's params copy (flat, views)
        if self.device == "cpu":
            self._flat = [self._flat_view(w) for w in range(self.num_buffers)]
            labels = ["params", "grads"] + [
                "states[%d]" % k for k in range(package.num_states)]
            whole = self.elements == package.buffer_elements
            if whole:
                self._views = [_Views(self._param_views(f), label)
                               for f, label in zip(self._flat, labels)]
            if package.precision == "bf16":
                flat = self._flat_view(BUFFER_PARAMS_BF16)
                self._bf16 = (flat, _Views(self._param_views(flat),
                                           "params_bf16") if whole else None)

    def __del__(self):
        if getattr(self, "_handle", None):
            self._lib.muir_state_release(self._handle)
            self._handle = None

    def __repr__(self):
        return "muir.State(%r on %s)" % (self.package.model, self.device)

    def _which(self, which, what):
        return _integer(which, "%s: which" % what, _INT32)

    def _buffer(self, which, what):
        """(address, bytes per element) of buffer `which`
        (muir_state_buffer_bytes)."""
        data = ctypes.c_void_p()
        elements = ctypes.c_int64()
        size = ctypes.c_int32()
        _check(self._lib.muir_state_buffer_bytes(
            self._handle, self._which(which, what), ctypes.byref(data),
            ctypes.byref(elements), ctypes.byref(size)))
        return data.value or 0, size.value

    def buffer_pointer(self, which):
        """Address of buffer `which` (0 params, 1 grads, 2 + k state k,
        BUFFER_PARAMS_BF16 a bf16 package's params copy); a device pointer
        on CUDA."""
        return self._buffer(which, "buffer_pointer")[0]

    def _flat_view(self, which):
        n = self.elements
        address, size = self._buffer(which, "buffer_pointer")
        # float32, or the raw bits of a bf16 buffer.
        ctype, dtype = ((ctypes.c_float, np.float32) if size == 4
                        else (ctypes.c_uint16, np.uint16))
        carray = (ctype * n).from_address(address)
        carray._muir_state = self  # the memory lives as long as a view
        return np.frombuffer(carray, dtype=dtype)

    def _param_views(self, flat):
        views = {}
        for p in self.package.params_info.values():
            base = flat[p.offset:]
            if p.copies > 1:
                inner = np.empty(p.copy_shape, dtype=flat.dtype).strides
                views[p.name] = np.lib.stride_tricks.as_strided(
                    base, shape=p.shape,
                    strides=(p.stride * flat.itemsize,) + inner)
            else:
                views[p.name] = base[:p.numel].reshape(p.copy_shape)
        return views

    def _cpu_only(self, what):
        if self._flat is None:
            raise Error(Status.ERROR_ARGUMENT,
                        "%s: the buffers of a state on %s are device memory; "
                        "use copy_to_host / copy_from_host"
                        % (what, self.device))

    def _views_of(self, which, what):
        self._cpu_only(what)
        if self._views is None:
            raise Error(Status.ERROR_ARGUMENT,
                        "%s: a shard [%d, %d) has no per-parameter views (a "
                        "tensor may be cut); use the flat buffers"
                        % ((what,) + self.shard))
        return self._views[which]

    @property
    def params(self):
        """name -> view of the params buffer."""
        return self._views_of(BUFFER_PARAMS, "params")

    @property
    def grads(self):
        """name -> view of the grads buffer (a bf16 package's: uint16
        bfloat16 bits; ``torch.from_numpy(v.view(np.int16)).view(
        torch.bfloat16)`` shares the memory as a torch tensor)."""
        return self._views_of(BUFFER_GRADS, "grads")

    def _bf16_only(self, what):
        self._cpu_only(what)
        if self._bf16 is None:
            raise Error(Status.ERROR_ARGUMENT,
                        "%s: package '%s' is %s: it has no bf16 copy of the "
                        "params" % (what, self.package.path,
                                    self.package.precision))
        return self._bf16

    @property
    def params_bf16(self):
        """A bf16 package's bf16 copy of the params, name -> uint16 view of
        its bits (written by init, rounded to nearest, and by every step,
        rounded stochastically): what the forward pass reads."""
        views = self._bf16_only("params_bf16")[1]
        if views is None:
            self._views_of(BUFFER_PARAMS, "params_bf16")
        return views

    @property
    def flat_params_bf16(self):
        return self._bf16_only("flat_params_bf16")[0]

    @property
    def rounding_seed(self):
        """A bf16 state's stochastic-rounding seed: init's seed, or what was
        set (muir_state_set_rounding_seed)."""
        seed = ctypes.c_uint64()
        _check(self._lib.muir_state_get_rounding_seed(self._handle,
                                                      ctypes.byref(seed)))
        return seed.value

    @rounding_seed.setter
    def rounding_seed(self, seed):
        _check(self._lib.muir_state_set_rounding_seed(
            self._handle, _integer(seed, "rounding_seed", _UINT64)))

    @property
    def states(self):
        """One name -> view mapping per optimizer state (AdamW: m, v)."""
        self._views_of(BUFFER_PARAMS, "states")
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
        numpy array (any device): float32, or uint16 bfloat16 bits for a
        bf16 package's grads and params copy."""
        which = self._which(which, "copy_to_host")
        begin = _integer(begin, "copy_to_host: begin", _INT64)
        if count is None:
            count = self.elements - begin
        count = _integer(count, "copy_to_host: count", _INT64)
        if not 0 <= begin <= begin + count <= self.elements:
            raise ArgumentError(
                "copy_to_host: elements [%d, %d + %d) are outside the buffer "
                "of %d elements" % (begin, begin, count, self.elements))
        if self._buffer(which, "copy_to_host")[1] == 4:
            out = np.empty(count, dtype=np.float32)
            _check(self._lib.muir_state_copy_to_host(
                self._handle, which, begin, count, out.ctypes.data))
        else:
            out = np.empty(count, dtype=np.uint16)
            _check(self._lib.muir_state_copy_bytes_to_host(
                self._handle, which, begin, count, 2, out.ctypes.data))
        return out

    def copy_from_host(self, which, values, begin=0):
        """Writes `values` (real numbers, stored as float32; for a bf16
        package's grads and params copy, uint16 bfloat16 bits, which
        muir.to_bf16 makes) into buffer `which` from `begin`."""
        which = self._which(which, "copy_from_host")
        begin = _integer(begin, "copy_from_host: begin", _INT64)
        if self._buffer(which, "copy_from_host")[1] == 4:
            values = np.ascontiguousarray(
                _float32_values(values, "copy_from_host: values")).ravel()
            _check(self._lib.muir_state_copy_from_host(
                self._handle, which, begin, values.size, values.ctypes.data))
            return
        values = np.ascontiguousarray(
            _bf16_bits(values, "copy_from_host: values")).ravel()
        _check(self._lib.muir_state_copy_bytes_from_host(
            self._handle, which, begin, values.size, 2, values.ctypes.data))

    def init(self, seed=0):
        """Initialises every parameter from `seed`, an integer in [0, 2**64)
        (muir_state_init)."""
        _check(self._lib.muir_state_init(
            self._handle, _integer(seed, "init: seed", _UINT64)))

    def init_range(self, seed, begin, end):
        """Initialises elements [begin, end) of the params buffer only
        (elements of the flat buffer, inside the state's shard)."""
        _check(self._lib.muir_state_init_range(
            self._handle, _integer(seed, "init_range: seed", _UINT64),
            _integer(begin, "init_range: begin", _INT64),
            _integer(end, "init_range: end", _INT64)))

    def step(self, t, lr_factor=1.0, grad_norm=False, max_grad_norm=None,
             skip_nonfinite=False, telemetry=False):
        """One optimizer step; `t` counts from 1, `lr_factor` (a finite,
        non-negative number that float32 holds) scales every learning rate
        (the schedule). With ``grad_norm=True`` it returns the global L2 norm
        of the gradients it stepped with (float64, from the reduction phase;
        see grad_norm), else None.

        Guards (docs/Optimizers.md): `max_grad_norm` (a positive number)
        scales every gradient by min(1, max_grad_norm / (norm + 1e-6)) as the
        kernel reads it (torch.nn.utils.clip_grad_norm_); with
        ``skip_nonfinite=True`` a step whose gradients hold a NaN or an
        infinity changes nothing. With either guard it returns a
        StepReport(grad_norm, grad_scale, skipped).

        With ``telemetry=True`` the step kernel's telemetry
        variant also measures every tensor copy's update, and the
        StepReport's `telemetry` maps each parameter name to a tuple of
        Telemetry, one per copy (muir_state_step_telemetry); for LionAR
        its `unit_telemetry` holds each rotational unit's."""
        t, factor = _step_arguments(t, lr_factor, "step")
        if max_grad_norm is not None or skip_nonfinite or telemetry:
            guards = _guards(max_grad_norm, skip_nonfinite, "step")
            report = _ffi.StepReport()
            if not telemetry:
                _check(self._lib.muir_state_step_guarded(
                    self._handle, t, factor, ctypes.byref(guards),
                    ctypes.byref(report)))
                return StepReport(report.grad_norm, report.grad_scale,
                                  bool(report.skipped))
            layout = self.package._telemetry_layout
            entries = (_ffi.StepTelemetry * max(
                1, sum(copies for _, copies in layout)))()
            _check(self._lib.muir_state_step_telemetry(
                self._handle, t, factor, ctypes.byref(guards),
                ctypes.byref(report), entries,
                sum(copies for _, copies in layout)))
            return StepReport(report.grad_norm, report.grad_scale,
                              bool(report.skipped),
                              _telemetry_by_name(layout, entries),
                              self._unit_telemetry())
        if not grad_norm:
            _check(self._lib.muir_state_step(self._handle, t, factor))
            return None
        norm = ctypes.c_double()
        _check(self._lib.muir_state_step_with_norm(
            self._handle, t, factor, ctypes.byref(norm)))
        return norm.value

    def _unit_telemetry(self):
        """name -> (copies, units, 4) of LionAR's per-unit telemetry after a
        telemetry step (CPU or CUDA); None without units."""
        return _unit_telemetry_of(
            self.package, lambda index, entries, count:
            self._lib.muir_state_unit_telemetry(self._handle, index, entries,
                                                count))

    def reduce(self):
        """The reduction phase's partial sums of this state's gradients
        (float64, package.step_partials of them; zeros outside a shard):
        what the ranks of a sharded step all-reduce (muir_state_reduce)."""
        out = np.zeros(self.package.step_partials, dtype=np.float64)
        _check(self._lib.muir_state_reduce(self._handle, out.ctypes.data,
                                           out.size))
        return out

    def reduce_units(self, t, partials, lr_factor=1.0, max_grad_norm=None,
                     skip_nonfinite=False):
        """LionAR's second reduction round (muir_state_reduce_units): from
        `partials` (package.step_partials float64 values, the gradients'
        part summed over the ranks; zeros without guards) and the step's
        guards, writes this state's unit partial sums into the units' part
        (``partials[package.num_slots:]``, in place; zeros outside its
        slots) and returns `partials`. Sum that part over the ranks, then
        step_sharded with the same arguments."""
        t, factor = _step_arguments(t, lr_factor, "reduce_units")
        guards = _guards(max_grad_norm, skip_nonfinite, "reduce_units")
        if not (isinstance(partials, np.ndarray) and
                partials.dtype == np.float64 and partials.ndim == 1 and
                partials.flags.c_contiguous and partials.flags.writeable):
            raise ArgumentError("reduce_units: partials must be a writable "
                                "contiguous 1-D float64 numpy array")
        _check(self._lib.muir_state_reduce_units(
            self._handle, t, factor, ctypes.byref(guards),
            partials.ctypes.data, partials.size))
        return partials

    def step_sharded(self, t, partials, lr_factor=1.0, max_grad_norm=None,
                     skip_nonfinite=False, telemetry=False):
        """One step of this state's elements with the reduction phase's
        `partials` summed over all ranks (muir_state_step_sharded): the
        norm, the clip factor and the skip decision come from them. Returns
        a StepReport; with ``telemetry=True`` (CPU) also this state's
        telemetry partials (float64): ``(report, partials)``; sum those over
        the ranks and pass them to Package.combine_telemetry (and for
        LionAR's per-row telemetry to Package.combine_unit_telemetry)."""
        t, factor = _step_arguments(t, lr_factor, "step_sharded")
        guards = _guards(max_grad_norm, skip_nonfinite, "step_sharded")
        partials = np.ascontiguousarray(partials, dtype=np.float64).ravel()
        report = _ffi.StepReport()
        out = (np.zeros(self.package.telemetry_partials, dtype=np.float64)
               if telemetry else None)
        _check(self._lib.muir_state_step_sharded(
            self._handle, t, factor, ctypes.byref(guards),
            partials.ctypes.data, partials.size, ctypes.byref(report),
            out.ctypes.data if telemetry else None,
            out.size if telemetry else 0))
        result = StepReport(report.grad_norm, report.grad_scale,
                            bool(report.skipped))
        return (result, out) if telemetry else result

    def grad_norm(self):
        """The global L2 norm of the grads buffer: every element of every
        untied parameter once, padding excluded (float64); for a shard,
        the norm of its elements."""
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
            self._handle, self.package.find(name).index,
            _real(lr, "set_optimizer_multipliers: lr"),
            _real(weight_decay, "set_optimizer_multipliers: weight_decay")))

    def optimizer_multipliers(self, name):
        """(lr, weight_decay) multipliers of parameter `name` in this
        state."""
        lr, wd = ctypes.c_double(), ctypes.c_double()
        _check(self._lib.muir_state_get_optimizer_multipliers(
            self._handle, self.package.find(name).index, ctypes.byref(lr),
            ctypes.byref(wd)))
        return lr.value, wd.value
