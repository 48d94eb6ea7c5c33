# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t
#
# The GPU kernels run on the CPU, bit for bit against the CPU kernels.
# convert-tp-to-kernels{gpu=true} builds muir_init_kernel and
# muir_step_kernel; tp-test-emulate-gpu turns each into a host function
# that runs the kernel body in loops over blocks and threads (the kernels'
# own index math, chunking, grid-stride loop, binary segment search,
# 128-bit vector accesses and scalar tails), lowered with
# convert-vector-to-llvm and tp-lower-to-cpu, translated to LLVM IR and
# compiled into a library. Checked against the package's libmuir_kernels.so
# (the CPU kernels, built by `muirc package` from the same options):
#
# - step: 20 steps of each optimizer family (AdamW, decoupled AdamW,
#   SGD-momentum, Lion, Adam-atan2; AdamW without the beta1 correction,
#   Lion's momentum recipe, LionA and LionAR per row and per tensor, whose
#   units run after the chunks in muir_step_units_kernel, 4 threads per
#   unit, with the units' partials of every slot from
#   muir_reduce_units_kernel for those that straddle a slot start, as the
#   runtime launches them) with random gradients, a varying
#   lr factor and a gradient clip factor on every third step give the same
#   bits in params and every state, at the
#   runtime's launch configuration (muir_launch_config) and at tiny grids
#   (3 x 32, 5 x 96) that make every block loop over many chunks;
# - LionAR's per-unit telemetry (muir_unit_telemetry_kernel, from the
#   params before and after a step) equals the sums the package's
#   muir_kernel_step_telemetry adds per unit, bit for bit, over 5 steps at
#   three launch shapes, and over a range that cuts units each unit's part
#   equals a sequential float64 sum in Python;
# - init: the same bits for the full range and for shards [begin, end),
#   elements outside the shard untouched (ln, cos and sin are PortableMath's
#   fma/div polynomials in both kernels: the GPU computes the same bits).
# - shards (docs/Distributed.md): for five models, three shards at slot
#   boundaries, one cutting through a tensor (through a LionAR unit, per row
#   and per tensor): 10 steps of the package's muir_kernel_step_shard and of
#   the emulated GPU step on shard-sized buffers (element e at e - begin,
#   the shard's chunks only) equal the whole step's elements of the shard
#   bit for bit (LionAR: each shard's unit partials from
#   muir_kernel_reduce_units and the emulated muir_reduce_units_kernel are
#   the same bits, summed they step the cut units; each unit's n0 and nu
#   the whole step's, replicated where a shard starts inside a unit), and
#   init into a shard's buffer (muir_kernel_init_shard, the emulated init
#   with `first`) equals the whole init's elements.
#
# The models are the GPT-2 and Llama examples shrunk as in kernels.py (and
# the MLP with uniform and trunc_normal weights), with
# d_model and the vocabulary chosen so that some tensors' sizes are not
# multiples of 4 (the scalar tail of the step kernel) and several tensors
# span more than one 1024-element chunk.
import ctypes
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, ptr, shrink, GPT2_DIMS, LLAMA_DIMS  # noqa: E402

TOOLS, SRC, TMP = sys.argv[1:4]
# Which models: "fp32" (this file's RUN line) or "bf16"
# (gpu-emulation-bf16.test), two lit tests so each stays quick.
PART = sys.argv[4] if len(sys.argv) > 4 else "fp32"
os.makedirs(TMP, exist_ok=True)
check = Checks()
LLVM_BIN = "/usr/lib/llvm-22/bin"


def tool(name, *alternatives):
    for n in (name, *alternatives):
        path = shutil.which(n) or shutil.which(n, path=LLVM_BIN)
        if path:
            return path
    sys.exit(f"gpu-emulation: {name} not found")


MLIR_TRANSLATE = tool("mlir-translate", "mlir-translate-22")
CC = tool("clang-22", "clang")


GPT = shrink(SRC, TMP, "gpt2", GPT2_DIMS)
LLAMA = shrink(SRC, TMP, "llama", LLAMA_DIMS)
# One weight of each random init (the init kernel's distribution switch).
MLP = shrink(SRC, TMP, "mlp", {"batch": "fixed<8>", "features": "fixed<41>", "classes": "fixed<10>",
                               "hidden": "width<base 64, size 192>", "n_hidden": "depth<base 2, size 3>"},
             {"input.weight": "uniform", "hidden.weight": "trunc_normal"})

HP = {"lr": 3e-3, "weight-decay": 0.1, "eps": 1e-8, "beta1": 0.9, "beta2": 0.95}


# The runtime's launch configuration.
RUNTIME = ctypes.CDLL(os.path.join(os.path.dirname(TOOLS), "lib", "libmuir_runtime.so"))


class LaunchConfig(ctypes.Structure):
    _fields_ = [("grid_x", ctypes.c_uint32), ("block_x", ctypes.c_uint32)]


RUNTIME.muir_launch_config.argtypes = [ctypes.c_int64, ctypes.POINTER(LaunchConfig)]
RUNTIME.muir_launch_config.restype = ctypes.c_int


def launch_config(elements):
    config = LaunchConfig()
    assert RUNTIME.muir_launch_config(elements, ctypes.byref(config)) == 0
    return config.grid_x, config.block_x


EMULATED = ["muir_init_kernel_emulated", "muir_step_kernel_emulated",
            "muir_reduce_units_kernel_emulated", "muir_unit_telemetry_kernel_emulated",
            "muir_step_units_kernel_emulated",
            "muir_generated_init",
            "muir_generated_step", "muir_step_bf16_kernel_emulated",
            "muir_reduce_bf16_kernel_emulated"]


def build(model, scheme, optimizer, name, extra, precision="fp32"):
    """The package (CPU kernels) and the emulated GPU kernels of one model."""
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", model, f"--scheme={scheme}",
                    f"--optimizer={optimizer}", "--no-gpu", "-o", out,
                    f"--precision={precision}",
                    *[f"--{k}={v}" for k, v in HP.items()],
                    *[f"--{k}={v}" for k, v in extra.items()]],
                   check=True, capture_output=True)
    cpu = ctypes.CDLL(f"{out}/libmuir_kernels.so")
    cpu.muir_kernel_init.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int64]
    cpu.muir_kernel_step.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_int64, ctypes.c_float, ctypes.c_float]
    cpu.muir_kernel_step_shard.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                           ctypes.c_int64, ctypes.c_float, ctypes.c_float,
                                           ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                           ctypes.c_void_p]
    cpu.muir_kernel_reduce_units.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                             ctypes.c_int64, ctypes.c_float, ctypes.c_float,
                                             ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                             ctypes.c_int64, ctypes.c_int64]
    cpu.muir_kernel_init_shard.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64,
                                           ctypes.c_int64, ctypes.c_int64]
    manifest = json.load(open(f"{out}/manifest.json"))

    # The same model through muir-opt: parametrize, instantiate and lay out
    # as muirc does, generate the kernels with the GPU ones, emulate, keep
    # only the functions called here, lower for the CPU.
    instantiate = " ".join(f"{k}={v}" for k, v in {**HP, **extra}.items())
    pipeline = (f"builtin.module(tp.model(tp-parametrize{{scheme={scheme} optimizer={optimizer}}},"
                f"tp-instantiate{{{instantiate}}},tp-assign-layout),"
                f"convert-tp-to-kernels{{gpu=true precision={precision}}},tp-test-emulate-gpu,"
                f"symbol-privatize{{exclude={','.join(EMULATED)}}},symbol-dce,"
                "convert-vector-to-llvm,tp-lower-to-cpu)")
    subprocess.run([f"{TOOLS}/muir-opt", model, f"--pass-pipeline={pipeline}",
                    "-o", f"{out}-emulated.mlir"], check=True)
    subprocess.run([MLIR_TRANSLATE, "--mlir-to-llvmir", f"{out}-emulated.mlir",
                    "-o", f"{out}-emulated.ll"], check=True)
    subprocess.run([CC, "-O2", "-shared", "-fPIC", "-Wno-override-module",
                    f"{out}-emulated.ll", "-o", f"{out}-libemulated.so", "-lm"], check=True)
    emu = ctypes.CDLL(f"{out}-libemulated.so")
    i64, f32, vp = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
    emu.muir_init_kernel_emulated.argtypes = [vp, ctypes.c_uint64, i64, i64, i64, i64, i64]
    emu.muir_step_kernel_emulated.argtypes = [vp, vp, vp, vp, i64, f32, f32, i64, i64, i64,
                                              i64, vp, i64, i64, i64]
    if manifest["kernel_table"]["units"]:
        emu.muir_reduce_units_kernel_emulated.argtypes = [vp, vp, vp, vp, i64, f32, f32, vp, i64,
                                                          i64, i64, i64, i64]
        emu.muir_unit_telemetry_kernel_emulated.argtypes = [vp, vp, vp, i64, i64, i64, i64]
        emu.muir_step_units_kernel_emulated.argtypes = [vp, vp, vp, vp, i64, f32, f32, i64, i64,
                                                        vp, i64, i64]
        cpu.muir_kernel_step_telemetry.argtypes = [vp, vp, vp, i64, f32, f32, vp, vp, i64, i64,
                                                   vp]
    emu.muir_generated_init.argtypes = [vp, ctypes.c_uint64, i64, i64, i64]
    emu.muir_generated_step.argtypes = [vp, vp, vp, vp, i64, f32, f32, vp]
    if precision == "bf16":
        cpu.muir_kernel_step_bf16.argtypes = [vp, vp, vp, vp, i64, f32, f32, vp, ctypes.c_uint64,
                                              i64, i64]
        emu.muir_step_bf16_kernel_emulated.argtypes = [vp, vp, vp, vp, vp, i64, f32, f32,
                                                       ctypes.c_uint64, i64, i64, i64, i64, vp, i64,
                                                       i64, i64]
        emu.muir_reduce_bf16_kernel_emulated.argtypes = [vp, vp, i64, i64, i64, i64]
    return cpu, emu, manifest


# Where a step takes no unit partials (never read).
NO_UNITS = np.zeros(1, np.float64)


def same(a, b):
    return np.array_equal(a.view(np.uint32), b.view(np.uint32))


def first_difference(a, b):
    diff = np.flatnonzero(a.view(np.uint32) != b.view(np.uint32))
    return f"first of {len(diff)} differences at {diff[0]}: {a[diff[0]]!r} vs {b[diff[0]]!r}" \
        if len(diff) else "same"


def step_units(emu, manifest, P, G, S, t, lr_factor, scale, first, end, units, block):
    """LionAR's units after the emulated step kernel's chunks:
    muir_step_units_kernel with `block` threads a block (4 a unit, up to
    256) and enough blocks for every unit, `units` the units' partials."""
    groups = min(block, 256) // 4
    grid = -(-manifest["kernel_table"]["units"] // groups)
    emu.muir_step_units_kernel_emulated(ptr(P), ptr(G), ptr(S[0]), ptr(S[1]), t, lr_factor, scale,
                                        first, end, ptr(units), grid, block)


def emulated_step(emu, manifest, P, G, S, t, lr_factor, scale, grid, block):
    """One whole step of the emulated GPU kernels at `grid` x `block`, as
    the runtime launches them: for LionAR the units' partials of every slot
    (muir_reduce_units_kernel, for the units that straddle a slot start),
    muir_step_kernel's chunks, then muir_step_units_kernel."""
    n = manifest["layout"]["buffer_elements"]
    slots = manifest["kernel_table"]["slots"]
    has_units = manifest["kernel_table"]["units"] > 0
    units = np.zeros(10 * slots) if has_units else NO_UNITS
    if has_units:
        emu.muir_reduce_units_kernel_emulated(ptr(P), ptr(G), ptr(S[0]), ptr(S[1]), t, lr_factor,
                                              scale, ptr(units), 0, 0, slots, grid, block)
    emu.muir_step_kernel_emulated(ptr(P), ptr(G), ptr(S[0]), ptr(S[1]), t, lr_factor, scale, 0,
                                  0, manifest["kernel_table"]["chunks"], n, ptr(units),
                                  int(has_units), grid, block)
    if has_units:
        step_units(emu, manifest, P, G, S, t, lr_factor, scale, 0, n, units, block)


def run(model, scheme, optimizer, name, extra={}, shard_steps=False):
    cpu, emu, manifest = build(model, scheme, optimizer, name, extra)
    n = manifest["layout"]["buffer_elements"]
    nstates = manifest["layout"]["num_states"]
    params = [p for p in manifest["layout"]["params"] if p["tied_to"] is None]
    tails = sum(p["copies"] for p in params if p["numel"] % 4)
    multi = sum(p["copies"] for p in params if p["numel"] > 1024)
    check(f"{name}: some tensor has a scalar tail", tails > 0)
    check(f"{name}: some tensor spans several chunks", multi > 0)
    chunks = manifest["kernel_table"]["chunks"]
    real = launch_config(n)
    configs = [real, (3, 32), (5, 96)]
    print(f"{name}: {n} elements, {len(params)} parameters, {tails} tensor copies with a "
          f"tail, {multi} over a chunk; launch {real[0]} x {real[1]}")

    # ---- init ----------------------------------------------------------
    rng = np.random.default_rng(1)
    seed = 0x1234_5678_9abc
    want = np.zeros(n, np.float32)
    cpu.muir_kernel_init(ptr(want), seed, 0, n)
    mine = np.zeros(n, np.float32)
    emu.muir_generated_init(ptr(mine), seed, 0, n, 0)
    check(f"{name}: muir-opt's CPU init is the package's", same(want, mine))
    for grid, block in configs:
        got = np.zeros(n, np.float32)  # as `want`: padding is not written
        emu.muir_init_kernel_emulated(ptr(got), seed, 0, n, 0, grid, block)
        check(f"{name}: emulated init {grid} x {block}: {first_difference(want, got)}",
              same(want, got))
    shards = [(0, n // 3), (n // 3, n // 3 + 7), (n // 3 + 7, n), (1, 2), (n - 5, n),
              (1000, 3100), (n // 2, n // 2)]
    for begin, end in shards:
        background = rng.standard_normal(n).astype(np.float32)
        want = background.copy()
        cpu.muir_kernel_init(ptr(want), seed, begin, end)
        for grid, block in [launch_config(end - begin), (3, 32)]:
            got = background.copy()
            emu.muir_init_kernel_emulated(ptr(got), seed, begin, end, 0, grid, block)
            check(f"{name}: emulated init [{begin}, {end}) {grid} x {block}: "
                  f"{first_difference(want, got)}", same(want, got))

    # ---- steps ---------------------------------------------------------
    start = np.zeros(n, np.float32)
    cpu.muir_kernel_init(ptr(start), 7, 0, n)
    for grid, block in configs:
        P = [start.copy(), start.copy(), start.copy()]  # package, emulated, muir-opt CPU
        S = [[np.zeros(n, np.float32) for _ in range(2)] for _ in range(3)]
        states = (ctypes.c_void_p * 2)(*[s.ctypes.data for s in S[0]])
        G = np.zeros(n, np.float32)
        rng = np.random.default_rng(0)
        bad = None
        for t in range(1, 21):
            G[:] = rng.standard_normal(n).astype(np.float32) * np.float32(0.01)
            lr_factor = 0.5 + 0.5 * math.cos(math.pi * t / 20)
            # A clip factor on every third step (1 on the others).
            scale = 0.37 if t % 3 == 0 else 1.0
            cpu.muir_kernel_step(ptr(P[0]), ptr(G), states, t, lr_factor, scale)
            emulated_step(emu, manifest, P[1], G, S[1], t, lr_factor, scale, grid, block)
            emu.muir_generated_step(ptr(P[2]), ptr(G), ptr(S[2][0]), ptr(S[2][1]), t,
                                    lr_factor, scale, ptr(NO_UNITS))
            for k, what in ((1, "emulated GPU step"), (2, "muir-opt's CPU step")):
                for label, a, b in [("params", P[0], P[k])] + \
                        [(f"state{j}", S[0][j], S[k][j]) for j in range(nstates)]:
                    if bad is None and not same(a, b):
                        bad = f"{what} {grid} x {block}: {label} at step {t}: {first_difference(a, b)}"
        check(f"{name}: {bad}", bad is None)
        check(f"{name}: the steps changed the params", not same(start, P[0]))
        if nstates < 2:
            check(f"{name}: the emulated step leaves state1 alone", not S[1][1].any())
        print(f"{name}: 20 steps at {grid} x {block}: {'bit-identical' if bad is None else bad}")
    if manifest["kernel_table"]["units"]:
        run_unit_telemetry(cpu, emu, manifest, name, start, [real, (3, 32), (5, 96)])
    if shard_steps:
        run_shards(cpu, emu, manifest, name, start)


def run_unit_telemetry(cpu, emu, manifest, name, start, configs):
    """LionAR's per-unit telemetry on CUDA (muir_unit_telemetry_kernel,
    from the params before and after the step) against the package's
    muir_kernel_step_telemetry, which adds each unit's sums as its units
    go: the same four float64 sums per unit in the same order, bit for bit
    (the units of copies that do not rotate untouched by both: NaN here),
    at the launch configurations of the step; and over a range [first, end)
    of the buffer (a shard's buffers) the sums of each unit's elements in
    it, those of a unit outside untouched, against a sequential float64
    sum in Python."""
    n = manifest["layout"]["buffer_elements"]
    slots = manifest["kernel_table"]["slots"]
    units = manifest["kernel_table"]["units"]
    rows = ctypes.addressof(ctypes.c_double.in_dll(cpu, "muir_tensor_rows"))
    P = start.copy()
    S = [np.zeros(n, np.float32) for _ in range(2)]
    states = (ctypes.c_void_p * 2)(*[s.ctypes.data for s in S])
    rng = np.random.default_rng(11)
    bad, rotating = None, 0
    for t in range(1, 6):
        G = rng.standard_normal(n).astype(np.float32) * np.float32(0.01)
        before = P.copy()
        partials = np.full(4 * (slots + units), np.nan)
        cpu.muir_kernel_step_telemetry(ptr(P), ptr(G), states, t, 0.8, 1.0, rows,
                                       ptr(partials), 0, n, None)
        want = partials[4 * slots:]
        rotating = int(np.count_nonzero(~np.isnan(want[0::4])))
        for grid, block in configs:
            got = np.full(4 * units, np.nan)
            emu.muir_unit_telemetry_kernel_emulated(ptr(before), ptr(P), ptr(got), 0, n, grid,
                                                    block)
            if bad is None and not np.array_equal(want.view(np.uint64), got.view(np.uint64)):
                diff = np.flatnonzero(want.view(np.uint64) != got.view(np.uint64))
                bad = (f"step {t} at {grid} x {block}: {len(diff)} sums differ, first at "
                       f"{diff[0]}: {want[diff[0]]!r} vs {got[diff[0]]!r}")
    check(f"{name}: emulated per-unit telemetry is the CPU's: {bad}", bad is None)
    check(f"{name}: some units rotate ({rotating} of {units})", rotating > 0)
    # A range that starts and ends inside units: each unit's part in it.
    first, end = n // 3 + 5, 2 * n // 3 + 3
    got = np.full(4 * units, np.nan)
    emu.muir_unit_telemetry_kernel_emulated(ptr(before[first:end].copy()), ptr(P[first:end].copy()),
                                            ptr(got), first, end, 3, 32)
    ref = np.full(4 * units, np.nan)
    for e in manifest["kernel_table"]["params"]:
        u = e["unit_elements"]
        if not u:
            continue
        for c in range(e["copies"]):
            base = e["offset"] + c * e["stride"]
            for r in range(e["numel"] // u):
                lo, hi = base + r * u, base + (r + 1) * u
                k = e["first_unit"] + c * (e["numel"] // u) + r
                if hi <= first or lo >= end or np.isnan(want[4 * k]):
                    continue
                sums = [0.0] * 4
                for i in range(max(lo, first), min(hi, end)):
                    w, w2 = float(before[i]), float(P[i])
                    d = w2 - w
                    for j, term in enumerate((w * w, w2 * w2, d * d, w * d)):
                        sums[j] += term
                ref[4 * k:4 * k + 4] = sums
    check(f"{name}: emulated per-unit telemetry over [{first}, {end}) is each unit's part",
          np.array_equal(ref.view(np.uint64), got.view(np.uint64)))
    check(f"{name}: [{first}, {end}) meets some units and not others",
          0 < np.count_nonzero(~np.isnan(ref)) < np.count_nonzero(~np.isnan(want)))
    print(f"{name}: per-unit telemetry of {rotating} rotating units, 5 steps: "
          f"{'bit-identical' if bad is None else bad}")


def slot_starts(manifest):
    """(first element, first chunk) of every reduction slot, in slot order:
    the shard boundaries, from the manifest's copy of the kernel table."""
    starts = []
    for e in manifest["kernel_table"]["params"]:
        for c in range(e["copies"]):
            for s in range(e["slots_per_copy"]):
                chunk = s * e["chunks_per_slot"]
                starts.append((e["offset"] + c * e["stride"] + chunk * 1024,
                               e["first_chunk"] + c * e["chunks_per_copy"] + chunk))
    return starts


def unit_cut(manifest, element):
    """How far into a LionAR unit `element` lies (0 at a unit's start or
    outside units), and the unit's length."""
    for p in manifest["kernel_table"]["params"]:
        u = p["unit_elements"]
        for c in range(p["copies"]):
            base = p["offset"] + c * p["stride"]
            if u and base <= element < base + p["numel"]:
                return (element - base) % u, u
    return 0, 0


def run_shards(cpu, emu, manifest, name, start):
    """Shards at slot boundaries, at least one inside a tensor (inside a
    LionAR unit where the model has them): the package's
    muir_kernel_step_shard and the emulated GPU step on shard-sized buffers
    (element e at e - begin, the shard's chunks only) equal the whole step's
    elements of the shard, bit for bit; LionAR's unit partials of each shard
    (muir_kernel_reduce_units and the emulated kernel) are the same bits and
    their sum steps the units that span shards; init into a shard's buffer
    too."""
    n = manifest["layout"]["buffer_elements"]
    nstates = manifest["layout"]["num_states"]
    chunks = manifest["kernel_table"]["chunks"]
    slots = manifest["kernel_table"]["slots"]
    has_units = manifest["kernel_table"]["units"] > 0
    starts = slot_starts(manifest)
    # A bound may not leave one element of a unit on one side (runtime.h).
    usable = [i for i, (e, _) in enumerate(starts)
              if (lambda cut: cut[0] not in (1, cut[1] - 1))(unit_cut(manifest, e))]
    inside = [i for i in usable
              if not any(starts[i][0] == p["offset"] + c * p["stride"]
                         for p in manifest["kernel_table"]["params"] for c in range(p["copies"]))]
    if has_units:
        inside = [i for i in inside if unit_cut(manifest, starts[i][0])[0] > 0]
    check(f"{name}: some slot starts inside a tensor copy{' and a unit' if has_units else ''}",
          len(inside) > 0)
    cut = inside[len(inside) // 2]
    last = [i for i in usable if i > cut][-2]
    bounds = [(0, starts[cut][0], 0, starts[cut][1]),
              (starts[cut][0], starts[last][0], starts[cut][1], starts[last][1]),
              (starts[last][0], n, starts[last][1], chunks)]
    slot_bounds = [(0, cut), (cut, last), (last, slots)]
    rows = ctypes.addressof(ctypes.c_double.in_dll(cpu, "muir_tensor_rows"))
    P = start.copy()
    S = [np.zeros(n, np.float32) for _ in range(2)]
    full_states = (ctypes.c_void_p * 2)(*[s.ctypes.data for s in S])
    shard = []
    for begin, end, cb, ce in bounds:
        m = end - begin
        shard.append((begin, end, cb, ce, [start[begin:end].copy() for _ in range(2)],
                      [[np.zeros(m, np.float32) for _ in range(2)] for _ in range(2)]))
    rng = np.random.default_rng(5)
    bad = None
    for t in range(1, 11):
        G = rng.standard_normal(n).astype(np.float32) * np.float32(0.01)
        lr_factor, scale = 0.75, (0.5 if t % 2 else 1.0)
        cpu.muir_kernel_step(ptr(P), ptr(G), full_states, t, lr_factor, scale)
        units = [np.zeros(10 * slots) for _ in range(2)]  # CPU, emulated
        for (begin, end, cb, ce, SP, SS), (sb, se) in zip(shard, slot_bounds):
            if not has_units:
                break
            g = G[begin:end].copy()
            mine = [np.zeros(10 * slots) for _ in range(2)]
            states = (ctypes.c_void_p * 2)(*[s.ctypes.data for s in SS[0]])
            cpu.muir_kernel_reduce_units(ptr(SP[0]), ptr(g), states, t, lr_factor, scale, rows,
                                         ptr(mine[0]), begin, sb, se)
            emu.muir_reduce_units_kernel_emulated(ptr(SP[1]), ptr(g), ptr(SS[1][0]),
                                                  ptr(SS[1][1]), t, lr_factor, scale,
                                                  ptr(mine[1]), begin, sb, se, 3, 96)
            if bad is None and not np.array_equal(mine[0].view(np.uint64),
                                                  mine[1].view(np.uint64)):
                bad = f"unit partials of [{begin}, {end}) at step {t}: emulated GPU differs"
            for k in range(2):
                units[k] += mine[k]
        if has_units:
            check(f"{name}: step {t}: the unit partials are not all zero",
                  np.count_nonzero(units[0]) > 0)
        for begin, end, cb, ce, SP, SS in shard:
            g = G[begin:end].copy()
            states = (ctypes.c_void_p * 2)(*[s.ctypes.data for s in SS[0]])
            cpu.muir_kernel_step_shard(ptr(SP[0]), ptr(g), states, t, lr_factor, scale, rows,
                                       begin, end, ptr(units[0]) if has_units else None)
            emu.muir_step_kernel_emulated(ptr(SP[1]), ptr(g), ptr(SS[1][0]), ptr(SS[1][1]), t,
                                          lr_factor, scale, begin, cb, ce, end, ptr(units[1]),
                                          int(has_units), 3, 96)
            if has_units:
                step_units(emu, manifest, SP[1], g, SS[1], t, lr_factor, scale, begin, end,
                           units[1], 96)
            for k, what in ((0, "muir_kernel_step_shard"), (1, "emulated GPU step")):
                pairs = [("params", P[begin:end], SP[k])] + \
                    [(f"state{j}", S[j][begin:end], SS[k][j]) for j in range(nstates)]
                if has_units:
                    # A shard that starts inside a unit keeps a replica of
                    # the unit's state (n0, nu) at its own first two.
                    into, _ = unit_cut(manifest, begin)
                    want = S[1][begin:end].copy()
                    if into:
                        want[0:2] = S[1][begin - into:begin - into + 2]
                    pairs[-1] = ("the units' state", want, SS[k][1])
                for label, a, b in pairs:
                    if bad is None and not same(a, b):
                        bad = (f"{what} on [{begin}, {end}): {label} at step {t}: "
                               f"{first_difference(a, b)}")
    check(f"{name}: shards: {bad}", bad is None)
    print(f"{name}: 10 steps on shards {[(b, e) for b, e, *_ in bounds]}: "
          f"{'bit-identical to the whole step' if bad is None else bad}")
    seed = 99
    want = np.zeros(n, np.float32)
    cpu.muir_kernel_init(ptr(want), seed, 0, n)
    for begin, end, *_ in bounds:
        a = np.zeros(end - begin, np.float32)
        b = np.zeros(end - begin, np.float32)
        cpu.muir_kernel_init_shard(ptr(a), seed, begin, begin, end)
        emu.muir_init_kernel_emulated(ptr(b), seed, begin, end, begin, 3, 96)
        check(f"{name}: init into the shard [{begin}, {end}): "
              f"{first_difference(want[begin:end], a)}", same(want[begin:end], a))
        check(f"{name}: emulated init into the shard [{begin}, {end}): "
              f"{first_difference(want[begin:end], b)}", same(want[begin:end], b))


def run_bf16(model, scheme, optimizer, name, extra={}):
    """A bf16 package (docs/Optimizers.md): 20 steps of the emulated
    muir_step_bf16_kernel against the package's muir_kernel_step_bf16 on
    bf16 gradients give the same bits in the master params, every state
    and the stochastically rounded bf16 copy (one Philox call per 4-element
    group on the GPU's vector path, per element on the CPU); the emulated
    muir_reduce_bf16_kernel's slot sums match numpy's of the widened
    gradients."""
    cpu, emu, manifest = build(model, scheme, optimizer, name, extra, "bf16")
    n = manifest["layout"]["buffer_elements"]
    nstates = manifest["layout"]["num_states"]
    chunks = manifest["kernel_table"]["chunks"]
    slots = manifest["kernel_table"]["slots"]
    rows = ctypes.addressof(ctypes.c_double.in_dll(cpu, "muir_tensor_rows"))
    start = np.zeros(n, np.float32)
    cpu.muir_kernel_init(ptr(start), 7, 0, n)
    seed = 2**33 + 5
    widen = lambda bits: (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)  # noqa: E731
    for grid, block in [launch_config(n), (3, 32), (5, 96)]:
        P = [start.copy(), start.copy()]
        C = [np.zeros(n, np.uint16), np.zeros(n, np.uint16)]
        S = [[np.zeros(n, np.float32) for _ in range(2)] for _ in range(2)]
        states = (ctypes.c_void_p * 2)(*[s.ctypes.data for s in S[0]])
        rng = np.random.default_rng(3)
        bad = None
        for t in range(1, 21):
            G = (rng.standard_normal(n).astype(np.float32) * np.float32(0.01)).view(np.uint32)
            G = (G >> np.uint32(16)).astype(np.uint16)
            lr_factor = 0.5 + 0.5 * math.cos(math.pi * t / 20)
            scale = 0.37 if t % 3 == 0 else 1.0
            cpu.muir_kernel_step_bf16(ptr(P[0]), ptr(G), states, ptr(C[0]), t, lr_factor, scale,
                                      rows, seed, 0, n)
            emu.muir_step_bf16_kernel_emulated(ptr(P[1]), ptr(G), ptr(S[1][0]), ptr(S[1][1]),
                                               ptr(C[1]), t, lr_factor, scale, seed, 0, 0, chunks,
                                               n, ptr(NO_UNITS), 0, grid, block)
            pairs = [("params", P[0], P[1]), ("bf16 copy", C[0].view(np.int16).astype(np.int32),
                                              C[1].view(np.int16).astype(np.int32))]
            pairs += [(f"state{j}", S[0][j], S[1][j]) for j in range(nstates)]
            for label, a, b in pairs:
                if bad is None and not same(a, b):
                    bad = f"emulated bf16 step {grid} x {block}: {label} at step {t}: {first_difference(a, b)}"
        check(f"{name}: {bad}", bad is None)
        check(f"{name}: the copy was written", np.count_nonzero(C[0]) > n // 2)
        print(f"{name}: 20 bf16 steps at {grid} x {block}: {'bit-identical' if bad is None else bad}")
    # The CPU step over two shards whose bound is not 4-aligned (a 4-element
    # group of the rounding words cut in two): the whole step's bits.
    # (LionAR's units are stepped whole, so only packages without units.)
    if manifest["kernel_table"]["units"] == 0:
        cut = n // 2 + 1
        P, C = start.copy(), np.zeros(n, np.uint16)
        S = [np.zeros(n, np.float32) for _ in range(2)]
        parts = [(0, cut), (cut, n)]
        SP = [start[a:b].copy() for a, b in parts]
        SC = [np.zeros(b - a, np.uint16) for a, b in parts]
        SS = [[np.zeros(b - a, np.float32) for _ in range(2)] for a, b in parts]
        rng = np.random.default_rng(4)
        for t in range(1, 4):
            G = (rng.standard_normal(n).astype(np.float32) * np.float32(0.01)).view(np.uint32)
            G = (G >> np.uint32(16)).astype(np.uint16)
            cpu.muir_kernel_step_bf16(ptr(P), ptr(G), (ctypes.c_void_p * 2)(*[s.ctypes.data for s in S]),
                                      ptr(C), t, 1.0, 1.0, rows, seed, 0, n)
            for (a, b), p, c, ss in zip(parts, SP, SC, SS):
                g = G[a:b].copy()
                cpu.muir_kernel_step_bf16(ptr(p), ptr(g), (ctypes.c_void_p * 2)(*[x.ctypes.data for x in ss]),
                                          ptr(c), t, 1.0, 1.0, rows, seed, a, b)
        whole = [P, C.view(np.int16).astype(np.int32)] + S[:nstates]
        pieces = [np.concatenate(SP), np.concatenate(SC).view(np.int16).astype(np.int32)] + [
            np.concatenate([ss[j] for ss in SS]) for j in range(nstates)]
        check(f"{name}: the CPU bf16 step on shards [0, {cut}), [{cut}, {n}) is the whole step's",
              all(same(a, b) for a, b in zip(whole, pieces)))
    partials = np.zeros(slots, np.float64)
    emu.muir_reduce_bf16_kernel_emulated(ptr(G), ptr(partials), 0, 0, slots, 256)
    g = widen(G).astype(np.float64)
    worst = 0.0
    for e in manifest["kernel_table"]["params"]:
        per = e["chunks_per_slot"] * 1024
        for c in range(e["copies"]):
            base = e["offset"] + c * e["stride"]
            for q in range(e["slots_per_copy"]):
                lo = base + q * per
                want = float(np.sum(g[lo:min(lo + per, base + e["numel"])] ** 2))
                got = partials[e["first_slot"] + c * e["slots_per_copy"] + q]
                worst = max(worst, abs(got - want) / max(want, 1e-300))
    check(f"{name}: emulated bf16 reduction against numpy, worst relative {worst:.1e}", worst <= 1e-13)
    print(f"{name}: emulated bf16 reduction within {worst:.1e} of numpy")


if PART == "fp32":
    run(GPT, "completep", "adamw", "gpt-adamw", shard_steps=True)
    run(GPT, "mup-table8", "sgd-momentum", "gpt-sgdm")
    run(LLAMA, "completedp", "adamw", "llama-adamw",
        {"batch": 512, "base-batch": 256, "tokens": 4e9, "base-tokens": 1e9})
    run(LLAMA, "mup", "sgd-momentum", "llama-sgdm")
    run(LLAMA, "completep", "lion", "llama-lion", shard_steps=True)
    run(GPT, "completep", "adam-atan2", "gpt-adam-atan2")
    run(LLAMA, "mup", "adamw-decoupled", "llama-adamw-decoupled", shard_steps=True)
    run(MLP, "mup", "adamw", "mlp-adamw")
    run(GPT, "completep", "adamw:bias-correction1=false", "gpt-adamw-nobc1")
    run(GPT, "completep", "lion-a:recipe", "gpt-lion-a-recipe")
    run(LLAMA, "completedp", "lion:recipe,beta=0.95", "llama-lion-recipe",
        {"batch": 512, "base-batch": 256, "tokens": 4e9, "base-tokens": 1e9})
    run(GPT, "completep", "lion-ar", "gpt-lion-ar", shard_steps=True)
    run(LLAMA, "completedp", "lion-ar:recipe,units=tensor", "llama-lion-ar-tensor",
        {"batch": 512, "base-batch": 256, "tokens": 4e9, "base-tokens": 1e9}, shard_steps=True)
if PART == "bf16":
    run_bf16(GPT, "completep", "adamw", "gpt-adamw-bf16")
    run_bf16(LLAMA, "completep", "lion:recipe", "llama-lion-recipe-bf16")
    run_bf16(GPT, "completep", "lion-ar", "gpt-lion-ar-bf16")
    # Whole-tensor units: the CPU's elementwise phase of a unit takes its
    # rounding bits in blocks of 256 elements (rows here are shorter).
    run_bf16(LLAMA, "completep", "lion-ar:units=tensor", "llama-lion-ar-tensor-bf16")

check.finish()
