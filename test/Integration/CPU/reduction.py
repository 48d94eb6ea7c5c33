# RUN: %python %s %muir_tools %muir_src %t
#
# The reduction phase (docs/Lowering.md) against numpy in float64: the sum
# of squared gradients of every slot of the kernels' table (manifest.json's
# kernel_table: a copy's slot s covers chunks [s c, (s + 1) c) of its
# elements) and the global gradient norm, from
#
# - the CPU kernels: muir_kernel_reduce of libmuir_kernels.so (all slots,
#   and disjoint slot ranges), and the runtime's muir_state_grad_norm /
#   step(grad_norm=True) through the Python binding, on 1, 3 and 8 threads;
# - the GPU kernel muir_reduce_kernel run on the CPU by tp-test-emulate-gpu
#   (one block per slot; the block's threads combine through workgroup
#   memory across two barriers) at 256, 96 and 32 threads per block and at
#   512 (threads past 256 idle); and muir_telemetry_kernel (the same shape,
#   four sums per slot from the params before and after a step) at 256 and
#   96.
#
# The grads hold large values in the padding between tensors, which must
# not count; tied parameters count once. Each variant must give the same
# bits when run twice.
#
# Shards (docs/Distributed.md): for the runtime's plan of 2 and 3 shards,
# muir_kernel_reduce_shard and the emulated kernel (the shard's slots, its
# buffer starting at its first element) over shard-sized grads give the
# unsharded partials' bits on the shard's slots and leave the others alone,
# so the sum over the shards is the unsharded vector bit for bit.
import ctypes
import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, ptr, shrink, start  # noqa: E402

TOOLS, SRC, TMP = start()
import muir  # noqa: E402

check = Checks()
LLVM_BIN = "/usr/lib/llvm-22/bin"


def tool(name, *alternatives):
    for n in (name, *alternatives):
        path = shutil.which(n) or shutil.which(n, path=LLVM_BIN)
        if path:
            return path
    sys.exit(f"reduction: {name} not found")


MLIR_TRANSLATE = tool("mlir-translate", "mlir-translate-22")
CC = tool("clang-22", "clang")

# Tied embeddings (GPT-2), many chunks per copy (d_ff), tails.
GPT = shrink(SRC, TMP, "gpt2", {"seq": "fixed<16>", "vocab": "fixed<301>", "d_head": "fixed<8>",
                                "d_model": "width<base 18, size 54>", "n_head": "width<base 2, size 6>",
                                "d_ff": "width<base 64, size 960>", "layers": "depth<base 2, size 3>"})
LLAMA = shrink(SRC, TMP, "llama", {"seq": "fixed<16>", "vocab": "fixed<81>", "d_head": "fixed<8>",
                                   "d_model": "width<base 22, size 66>", "n_head": "width<base 2, size 8>",
                                   "n_kv_head": "width<base 1, size 4>", "d_ff": "width<base 40, size 160>",
                                   "layers": "depth<base 1, size 3>"})
EMULATED = ["muir_reduce_kernel_emulated", "muir_telemetry_kernel_emulated",
            "muir_generated_reduce"]


def slots_of(manifest):
    """[(begin, end)) of every slot, in slot order, from the manifest."""
    table = manifest["kernel_table"]
    out = []
    for p in table["params"]:
        per = p["chunks_per_slot"] * table["chunk_elements"]
        for c in range(p["copies"]):
            base = p["offset"] + c * p["stride"]
            for s in range(p["slots_per_copy"]):
                out.append((base + s * per, base + min((s + 1) * per, p["numel"])))
    return out


def run(model, name, optimizer):
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", model, "--scheme=completep",
                    f"--optimizer={optimizer}", "--no-gpu", "-o", out],
                   check=True, capture_output=True)
    manifest = json.load(open(f"{out}/manifest.json"))
    n = manifest["layout"]["buffer_elements"]
    slots = slots_of(manifest)
    check(f"{name}: the manifest's slot count", len(slots) == manifest["kernel_table"]["slots"])
    check(f"{name}: some tensor copy has several slots",
          any(p["slots_per_copy"] > 1 for p in manifest["kernel_table"]["params"]))

    # Grads: random values on the parameters, 1e3 in the padding.
    rng = np.random.default_rng(5)
    grads = np.full(n, 1e3, np.float32)
    owned = np.zeros(n, bool)
    for p in manifest["layout"]["params"]:
        if p["tied_to"] is None:
            for c in range(p["copies"]):
                owned[p["offset"] + c * p["stride"]:][:p["numel"]] = True
    grads[owned] = (rng.standard_normal(owned.sum()) * 1e-2).astype(np.float32)
    check(f"{name}: the slots cover exactly the owned elements",
          sum(e - b for b, e in slots) == owned.sum()
          and all(owned[b:e].all() for b, e in slots))
    g64 = grads.astype(np.float64)
    want_partials = np.array([np.sum(g64[b:e] ** 2) for b, e in slots])
    want = np.sqrt(np.sum(g64[owned] ** 2))

    def close(got, ref, tol=1e-13):
        return np.all(np.abs(got - ref) <= tol * np.abs(ref))

    # CPU kernels.
    lib = ctypes.CDLL(f"{out}/libmuir_kernels.so")
    lib.muir_kernel_reduce.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                       ctypes.c_int64, ctypes.c_int64]
    partials = np.zeros(len(slots), np.float64)
    lib.muir_kernel_reduce(ptr(grads), ptr(partials), 0, len(slots))
    check(f"{name}: CPU partials against numpy", close(partials, want_partials))
    again = np.zeros_like(partials)
    lib.muir_kernel_reduce(ptr(grads), ptr(again), 0, len(slots))
    check(f"{name}: CPU partials twice, the same bits", np.array_equal(partials, again))
    # Disjoint slot ranges (the runtime's threads) give the same bits and
    # touch only their own partials.
    pieces = np.full_like(partials, -1.0)
    cuts = [0, 1, len(slots) // 3, len(slots) // 3, len(slots) - 1, len(slots)]
    for b, e in zip(cuts, cuts[1:]):
        lib.muir_kernel_reduce(ptr(grads), ptr(pieces), b, e)
        check(f"{name}: slots [{b}, {e}) alone",
              np.array_equal(pieces[:e], partials[:e]) and (pieces[e:] == -1).all())

    # The runtime and Python.
    st = muir.Package(out).state()
    st.flat_grads[...] = grads
    norm = st.grad_norm()
    print(f"{name}: {len(slots)} slots, norm {norm!r}, numpy {want!r}")
    check(f"{name}: grad_norm {norm} against numpy {want}", close(norm, want))
    check(f"{name}: the norm is the sum of the partials in order",
          norm == np.sqrt(sum(partials.tolist())))
    # The runtime's threads (MUIR_NUM_THREADS, read at every call) take
    # disjoint slot ranges: the same bits with any number of them.
    for threads in ("3", "8", "1"):
        os.environ["MUIR_NUM_THREADS"] = threads
        check(f"{name}: grad_norm on {threads} threads, the same bits",
              st.grad_norm() == norm)
    del os.environ["MUIR_NUM_THREADS"]
    st.init(seed=1)
    check(f"{name}: step(grad_norm=True) returns the same norm",
          st.step(1, grad_norm=True) == norm)
    check(f"{name}: step() returns None", st.step(2) is None)

    # The GPU kernel, emulated.
    pipeline = ("builtin.module(tp.model(tp-parametrize{scheme=completep optimizer=" + optimizer + "},"
                "tp-instantiate,tp-assign-layout),convert-tp-to-kernels{gpu=true},tp-test-emulate-gpu,"
                f"symbol-privatize{{exclude={','.join(EMULATED)}}},symbol-dce,tp-lower-to-cpu)")
    subprocess.run([f"{TOOLS}/muir-opt", model, f"--pass-pipeline={pipeline}",
                    "-o", f"{out}-emulated.mlir"], check=True)
    subprocess.run([MLIR_TRANSLATE, "--mlir-to-llvmir", f"{out}-emulated.mlir",
                    "-o", f"{out}-emulated.ll"], check=True)
    subprocess.run([CC, "-O2", "-shared", "-fPIC", "-Wno-override-module",
                    f"{out}-emulated.ll", "-o", f"{out}-emulated.so", "-lm"], check=True)
    emu = ctypes.CDLL(f"{out}-emulated.so")
    emu.muir_reduce_kernel_emulated.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                ctypes.c_int64, ctypes.c_int64,
                                                ctypes.c_int64, ctypes.c_int64]
    for block in (256, 96, 32, 512):
        got = [np.zeros(len(slots), np.float64) for _ in range(2)]
        for g in got:
            emu.muir_reduce_kernel_emulated(ptr(grads), ptr(g), 0, 0, len(slots), block)
        check(f"{name}: emulated GPU partials, {block} threads, against numpy",
              close(got[0], want_partials))
        check(f"{name}: emulated GPU partials, {block} threads, twice the same bits",
              np.array_equal(got[0], got[1]))
        gpu_norm = np.sqrt(np.sum(got[0]))
        check(f"{name}: emulated GPU norm, {block} threads", close(gpu_norm, want))
        print(f"{name}: emulated {block} threads: norm {gpu_norm!r}")

    # Shards.
    lib.muir_kernel_reduce_shard.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                             ctypes.c_int64, ctypes.c_int64,
                                             ctypes.c_int64]
    full_gpu = np.zeros(len(slots), np.float64)
    emu.muir_reduce_kernel_emulated(ptr(grads), ptr(full_gpu), 0, 0, len(slots), 256)
    starts = [b for b, _ in slots]
    for ranks in (2, 3):
        bounds = st.package.plan_shards(ranks)
        total = np.zeros(len(slots), np.float64)
        for begin, end in bounds:
            first = starts.index(begin) if begin < n else len(slots)
            last = starts.index(end) if end < n else len(slots)
            g = grads[begin:end].copy()
            mine = np.zeros(len(slots), np.float64)
            lib.muir_kernel_reduce_shard(ptr(g), ptr(mine), begin, first, last)
            inside = np.arange(len(slots))
            inside = (inside >= first) & (inside < last)
            check(f"{name}: reduce_shard [{begin}, {end}) of {ranks}: the shard's slots",
                  np.array_equal(mine[inside], partials[inside]) and not mine[~inside].any())
            total += mine
            emulated = np.zeros(len(slots), np.float64)
            emu.muir_reduce_kernel_emulated(ptr(g), ptr(emulated), begin, first, last - first, 256)
            check(f"{name}: emulated reduce on the shard [{begin}, {end}) of {ranks}",
                  np.array_equal(emulated[inside], full_gpu[inside])
                  and not emulated[~inside].any())
        check(f"{name}: the partials of {ranks} shards sum to the unsharded ones",
              np.array_equal(total, partials))
        print(f"{name}: {ranks} shards {bounds}: partials bit-identical")

    # The telemetry kernel (the CUDA step's telemetry), emulated: the four
    # sums of every slot from params before and after a step (random; the
    # padding's 1e3 must not count).
    emu.muir_telemetry_kernel_emulated.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int64] * 4
    before = grads.copy()
    after = before.copy()
    after[owned] += (rng.standard_normal(owned.sum()) * 1e-3).astype(np.float32)
    w, w2 = before.astype(np.float64), after.astype(np.float64)
    d = w2 - w
    want_t = np.array([[np.sum(w[b:e] ** 2), np.sum(w2[b:e] ** 2), np.sum(d[b:e] ** 2),
                        np.sum(w[b:e] * d[b:e])] for b, e in slots])
    size_t = np.array([[np.sum(w[b:e] ** 2), np.sum(w2[b:e] ** 2), np.sum(d[b:e] ** 2),
                        np.sum(np.abs(w[b:e] * d[b:e]))] for b, e in slots])
    for block in (256, 96):
        got = [np.zeros(4 * len(slots), np.float64) for _ in range(2)]
        for g in got:
            emu.muir_telemetry_kernel_emulated(ptr(before), ptr(after), ptr(g), 0, 0,
                                               len(slots), block)
        worst = float(np.max(np.abs(got[0].reshape(-1, 4) - want_t) / size_t))
        check(f"{name}: emulated telemetry sums, {block} threads, against numpy ({worst:.1e})",
              worst <= 1e-13)
        check(f"{name}: emulated telemetry sums, {block} threads, twice the same bits",
              np.array_equal(got[0], got[1]))
        print(f"{name}: emulated telemetry {block} threads: within {worst:.1e} of numpy")


run(GPT, "gpt", "adamw")
run(LLAMA, "llama", "lion")
check.finish()
