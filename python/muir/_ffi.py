"""ctypes declarations of the muir runtime C API (runtime/include/muir/runtime.h
and package_abi.h). Private: use the classes in ``muir``."""

import ctypes
import ctypes.util
import os

MUIR_MAX_RANK = 4


class ParamInfo(ctypes.Structure):
    """muir_param_info_t."""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("role", ctypes.c_char_p),
        ("tied_to", ctypes.c_char_p),
        ("init", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.c_int64 * MUIR_MAX_RANK),
        ("copies", ctypes.c_int64),
        ("offset", ctypes.c_int64),
        ("stride", ctypes.c_int64),
        ("numel", ctypes.c_int64),
        ("multiplier", ctypes.POINTER(ctypes.c_double)),
    ]


class ResidualInfo(ctypes.Structure):
    """muir_residual_info_t."""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("depth", ctypes.c_char_p),
        ("index_in_block", ctypes.c_int64),
        ("copies", ctypes.c_int64),
        ("multiplier", ctypes.POINTER(ctypes.c_double)),
    ]


class AttentionInfo(ctypes.Structure):
    """muir_attention_info_t."""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("head_dim", ctypes.c_char_p),
        ("head_dim_size", ctypes.c_int64),
        ("scale", ctypes.c_double),
    ]


class KernelParam(ctypes.Structure):
    """muir_kernel_param_t: one untied parameter in the kernels' table."""
    _fields_ = [(name, ctypes.c_int64) for name in (
        "offset", "stride", "numel", "copies", "first_chunk",
        "chunks_per_copy", "first_slot", "slots_per_copy", "chunks_per_slot",
        "param", "init", "first_row", "row_stride", "unit_elements",
        "first_unit")]


class Buffer(ctypes.Structure):
    """muir_buffer_t: one buffer for muir_state_adopt_buffers."""
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("elements", ctypes.c_int64),
        ("element_size", ctypes.c_int32),
    ]


class TensorRow(ctypes.Structure):
    """muir_tensor_row_t: the constants of a tensor copy."""
    _fields_ = [(name, ctypes.c_double) for name in (
        "lr", "weight_decay", "eps", "beta1", "beta2", "init_scale")]


class PackageInfo(ctypes.Structure):
    """muir_package_info_t."""
    _fields_ = [
        ("abi_version", ctypes.c_uint32),
        ("model", ctypes.c_char_p),
        ("package_hash", ctypes.c_char_p),
        ("optimizer", ctypes.c_int32),
        ("num_states", ctypes.c_int32),
        ("num_params", ctypes.c_int64),
        ("params", ctypes.POINTER(ParamInfo)),
        ("buffer_elements", ctypes.c_int64),
        ("alignment", ctypes.c_int64),
        ("num_residuals", ctypes.c_int64),
        ("residuals", ctypes.POINTER(ResidualInfo)),
        ("num_attentions", ctypes.c_int64),
        ("attentions", ctypes.POINTER(AttentionInfo)),
        ("num_kernel_params", ctypes.c_int64),
        ("kernel_params", ctypes.POINTER(KernelParam)),
        ("num_tensor_rows", ctypes.c_int64),
        ("tensor_rows", ctypes.POINTER(TensorRow)),
        ("num_chunks", ctypes.c_int64),
        ("num_slots", ctypes.c_int64),
        ("optimizer_spec", ctypes.c_char_p),
        ("num_units", ctypes.c_int64),
        ("precision", ctypes.c_int32),
    ]


class StepGuards(ctypes.Structure):
    """muir_step_guards_t."""
    _fields_ = [("max_grad_norm", ctypes.c_double),
                ("skip_nonfinite", ctypes.c_int32)]


class StepReport(ctypes.Structure):
    """muir_step_report_t."""
    _fields_ = [("grad_norm", ctypes.c_double), ("grad_scale", ctypes.c_float),
                ("skipped", ctypes.c_int32)]


class StepTelemetry(ctypes.Structure):
    """muir_step_telemetry_t."""
    _fields_ = [("param_norm", ctypes.c_double),
                ("param_norm_after", ctypes.c_double),
                ("update_norm", ctypes.c_double), ("angle", ctypes.c_double)]


class LaunchConfig(ctypes.Structure):
    """muir_launch_config_t."""
    _fields_ = [("grid_x", ctypes.c_uint32), ("block_x", ctypes.c_uint32)]


_handle = ctypes.c_void_p
_status = ctypes.c_int
_float_p = ctypes.POINTER(ctypes.c_float)

# name: (restype, argtypes)
_PROTOTYPES = {
    "muir_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "muir_last_error": (ctypes.c_char_p, []),
    "muir_runtime_api_version": (ctypes.c_uint32, []),
    "muir_runtime_package_abi_version": (ctypes.c_uint32, []),
    "muir_package_open": (_status, [ctypes.c_char_p,
                                    ctypes.POINTER(_handle)]),
    "muir_package_retain": (None, [_handle]),
    "muir_package_release": (None, [_handle]),
    "muir_package_get_info": (_status, [
        _handle, ctypes.POINTER(ctypes.POINTER(PackageInfo))]),
    "muir_package_dir": (ctypes.c_char_p, [_handle]),
    "muir_package_check_hash": (_status, [_handle, ctypes.c_char_p]),
    "muir_package_get_manifest": (_status, [
        _handle, ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_size_t)]),
    "muir_package_find_param": (_status, [_handle, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_int64)]),
    "muir_launch_config": (_status, [ctypes.c_int64,
                                     ctypes.POINTER(LaunchConfig)]),
    "muir_state_create": (_status, [_handle, ctypes.c_int32,
                                    ctypes.POINTER(_handle)]),
    "muir_state_adopt": (_status, [_handle, ctypes.c_int32, ctypes.c_void_p,
                                   ctypes.c_void_p,
                                   ctypes.POINTER(ctypes.c_void_p),
                                   ctypes.c_int64, ctypes.POINTER(_handle)]),
    "muir_state_release": (None, [_handle]),
    "muir_state_device": (ctypes.c_int32, [_handle]),
    "muir_state_buffer": (_status, [_handle, ctypes.c_int32,
                                    ctypes.POINTER(ctypes.c_void_p),
                                    ctypes.POINTER(ctypes.c_int64)]),
    "muir_state_buffer_bytes": (_status, [_handle, ctypes.c_int32,
                                          ctypes.POINTER(ctypes.c_void_p),
                                          ctypes.POINTER(ctypes.c_int64),
                                          ctypes.POINTER(ctypes.c_int32)]),
    "muir_state_unit_telemetry": (_status, [
        _handle, ctypes.c_int64, ctypes.POINTER(StepTelemetry),
        ctypes.c_int64]),
    "muir_state_set_rounding_seed": (_status, [_handle, ctypes.c_uint64]),
    "muir_state_get_rounding_seed": (_status, [
        _handle, ctypes.POINTER(ctypes.c_uint64)]),
    "muir_package_bytes_per_param": (_status, [
        _handle, ctypes.POINTER(ctypes.c_int64),
        ctypes.POINTER(ctypes.c_int64)]),
    "muir_state_copy_to_host": (_status, [_handle, ctypes.c_int32,
                                          ctypes.c_int64, ctypes.c_int64,
                                          ctypes.c_void_p]),
    "muir_state_copy_from_host": (_status, [_handle, ctypes.c_int32,
                                            ctypes.c_int64, ctypes.c_int64,
                                            ctypes.c_void_p]),
    "muir_state_copy_bytes_to_host": (_status, [
        _handle, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64,
        ctypes.c_int32, ctypes.c_void_p]),
    "muir_state_copy_bytes_from_host": (_status, [
        _handle, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64,
        ctypes.c_int32, ctypes.c_void_p]),
    "muir_state_init": (_status, [_handle, ctypes.c_uint64]),
    "muir_state_init_range": (_status, [_handle, ctypes.c_uint64,
                                        ctypes.c_int64, ctypes.c_int64]),
    "muir_state_step": (_status, [_handle, ctypes.c_int64, ctypes.c_float]),
    "muir_state_grad_norm": (_status, [_handle,
                                       ctypes.POINTER(ctypes.c_double)]),
    "muir_state_step_with_norm": (_status, [
        _handle, ctypes.c_int64, ctypes.c_float,
        ctypes.POINTER(ctypes.c_double)]),
    "muir_state_step_guarded": (_status, [
        _handle, ctypes.c_int64, ctypes.c_float,
        ctypes.POINTER(StepGuards), ctypes.POINTER(StepReport)]),
    "muir_state_step_telemetry": (_status, [
        _handle, ctypes.c_int64, ctypes.c_float,
        ctypes.POINTER(StepGuards), ctypes.POINTER(StepReport),
        ctypes.POINTER(StepTelemetry), ctypes.c_int64]),
    "muir_package_plan_shards": (_status, [_handle, ctypes.c_int64,
                                           ctypes.c_void_p]),
    "muir_state_create_shard": (_status, [_handle, ctypes.c_int32,
                                          ctypes.c_int64, ctypes.c_int64,
                                          ctypes.POINTER(_handle)]),
    "muir_state_adopt_shard": (_status, [
        _handle, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
        ctypes.c_int64, ctypes.POINTER(_handle)]),
    "muir_state_adopt_buffers": (_status, [
        _handle, ctypes.c_int32, ctypes.c_int64, ctypes.c_int64,
        ctypes.POINTER(Buffer), ctypes.c_int32, ctypes.POINTER(_handle)]),
    "muir_state_shard": (_status, [_handle, ctypes.POINTER(ctypes.c_int64),
                                   ctypes.POINTER(ctypes.c_int64)]),
    "muir_package_partials": (_status, [_handle,
                                        ctypes.POINTER(ctypes.c_int64),
                                        ctypes.POINTER(ctypes.c_int64)]),
    "muir_state_reduce": (_status, [_handle, ctypes.c_void_p,
                                    ctypes.c_int64]),
    "muir_state_reduce_units": (_status, [
        _handle, ctypes.c_int64, ctypes.c_float, ctypes.POINTER(StepGuards),
        ctypes.c_void_p, ctypes.c_int64]),
    "muir_package_unit_at": (_status, [_handle, ctypes.c_int64,
                                       ctypes.POINTER(ctypes.c_int64),
                                       ctypes.POINTER(ctypes.c_int64)]),
    "muir_state_step_sharded": (_status, [
        _handle, ctypes.c_int64, ctypes.c_float, ctypes.POINTER(StepGuards),
        ctypes.c_void_p, ctypes.c_int64, ctypes.POINTER(StepReport),
        ctypes.c_void_p, ctypes.c_int64]),
    "muir_package_combine_telemetry": (_status, [
        _handle, ctypes.c_void_p, ctypes.c_int64,
        ctypes.POINTER(StepTelemetry), ctypes.c_int64]),
    "muir_package_unit_telemetry": (_status, [
        _handle, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
        ctypes.POINTER(StepTelemetry), ctypes.c_int64]),
    "muir_state_set_optimizer_multipliers": (_status, [_handle, ctypes.c_int64,
                                             ctypes.c_double,
                                             ctypes.c_double]),
    "muir_state_get_optimizer_multipliers": (_status, [
        _handle, ctypes.c_int64, ctypes.POINTER(ctypes.c_double),
        ctypes.POINTER(ctypes.c_double)]),
}


def _candidates():
    """Where libmuir_runtime.so may be, most specific first."""
    env = os.environ.get("MUIR_RUNTIME_LIB")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    found = [os.path.join(here, "libmuir_runtime.so"),
             os.path.join(repo, "build", "lib", "libmuir_runtime.so")]
    system = ctypes.util.find_library("muir_runtime")
    if system:
        found.append(system)
    return found


_lib = None


def lib():
    """The loaded runtime, with prototypes set (loaded on first use)."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            loaded = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        for name, (restype, argtypes) in _PROTOTYPES.items():
            function = getattr(loaded, name)
            function.restype = restype
            function.argtypes = argtypes
        _lib = loaded
        return _lib
    raise OSError("cannot load libmuir_runtime.so (set MUIR_RUNTIME_LIB); "
                  "tried: " + "; ".join(tried))
