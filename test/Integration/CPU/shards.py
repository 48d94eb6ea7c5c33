# RUN: rm -rf %t.fixture && mkdir -p %t.fixture
# RUN: %muir_build_fixture -o %t.fixture/libmuir_kernels.so
# RUN: %python %s %muir_tools %muir_src %t %t.fixture
#
# Shards of the flat buffers through the runtime and Python
# (docs/Distributed.md), on the shrunk GPT-2 (AdamW) and Llama (Lion):
#
# - muir_package_plan_shards at 1, 2, 3 and 5 ranks: contiguous, covering,
#   every bound a shard boundary (0, the end or a reduction slot's first
#   element), each within one slot of the even split; some bound cuts
#   through a tensor;
# - shard states (muir_state_create_shard, and muir_state_adopt_shard over
#   numpy buffers) at 2 and 3 ranks: init equals the whole state's init bit
#   for bit; 8 guarded steps (clipping on every step, a NaN gradient on one
#   step with skip_nonfinite, telemetry on every other step) through
#   muir_state_reduce, the sum of the ranks' partials and
#   muir_state_step_sharded leave params and every state bit-identical to
#   one whole state's guarded step, with the same norm, clip factor and skip
#   decision, and muir_package_combine_telemetry gives its telemetry bit for
#   bit;
# - LionAR per row (GPT-2) and units=tensor (Llama) at 2 and 3 shards whose
#   bounds cut units: 8 guarded steps (the first records n0; clipping, an
#   inf skipped, telemetry) through muir_state_reduce, the summed partials,
#   muir_state_reduce_units, the summed unit partials and
#   muir_state_step_sharded leave params, momentum and every unit's (n0,
#   nu) bit-identical to one whole state, each cut unit's state replicated
#   at the shard's first two elements; the per-unit telemetry from the
#   ranks' summed telemetry partials (muir_package_unit_telemetry) is the
#   whole state's for every unit no bound cuts and within 1e-10 for a cut
#   one (its parts' sums added); the planner never leaves one element
#   of a unit on one side of a bound (rows of 4095) and creating such a
#   shard is an error;
# - every error of the shard API with its message, in C through ctypes.
import ctypes
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from harness import Checks, shrink, GPT2_DIMS, LLAMA_DIMS, start  # noqa: E402

TOOLS, SRC, TMP = start()
FIXTURE = sys.argv[4]
import muir  # noqa: E402
from muir import _ffi  # noqa: E402

check = Checks()
HP = ["--lr=3e-3", "--weight-decay=0.1", "--eps=1e-8", "--beta1=0.9", "--beta2=0.95"]


def package(model, optimizer, name, *flags):
    out = f"{TMP}/{name}"
    subprocess.run([f"{TOOLS}/muirc", "package", model, "--scheme=completep",
                    f"--optimizer={optimizer}", "--no-gpu", "-o", out, *HP, *flags],
                   check=True, capture_output=True, timeout=120)
    return muir.Package(out)


def slot_starts(pkg):
    """The first element of every reduction slot, from the manifest."""
    table = pkg.manifest["kernel_table"]
    out = []
    for e in table["params"]:
        for c in range(e["copies"]):
            for s in range(e["slots_per_copy"]):
                out.append(e["offset"] + c * e["stride"] + s * e["chunks_per_slot"] * 1024)
    return out


def same(a, b):
    return np.array_equal(np.asarray(a).view(np.uint32), np.asarray(b).view(np.uint32))


def check_plan(pkg, name):
    n = pkg.buffer_elements
    starts = slot_starts(pkg)
    boundaries = set(starts) | {0, n}
    widest = max(b - a for a, b in zip(starts, starts[1:] + [n]))
    tensor_starts = {p.offset + c * p.stride for p in pkg.params_info.values()
                     for c in range(p.copies)}
    cuts = 0
    for ranks in (1, 2, 3, 5):
        plan = pkg.plan_shards(ranks)
        check(f"{name}: plan of {ranks}: {plan} is contiguous and covers the buffers",
              len(plan) == ranks and plan[0][0] == 0 and plan[-1][1] == n
              and all(plan[r][1] == plan[r + 1][0] for r in range(ranks - 1))
              and all(b <= e for b, e in plan))
        check(f"{name}: plan of {ranks}: every bound is a shard boundary",
              all(b in boundaries for b, _ in plan))
        check(f"{name}: plan of {ranks}: each bound within one slot of the even split",
              all(abs(plan[r][0] - r * n / ranks) <= widest for r in range(ranks)))
        check(f"{name}: plan of {ranks} is the same twice", pkg.plan_shards(ranks) == plan)
        cuts += sum(1 for b, _ in plan[1:] if b not in tensor_starts)
    check(f"{name}: some planned bound cuts through a tensor", cuts > 0)


def unit_replicas(pkg, begin, end, whole_state1):
    """What a shard [begin, end) holds in state buffer 1: the whole state's
    (every unit's n0, nu at its own first two elements), with a replica of
    the unit its begin cuts at its own first two."""
    want = whole_state1[begin:end].copy()
    if begin < end:
        lo, hi = pkg.unit_at(begin)
        if lo < begin:
            want[0:2] = whole_state1[lo:lo + 2]
    return want


def cut_units(pkg, plan):
    """The units that a bound of `plan` cuts: (bound, unit begin, unit end)."""
    return [(b, *pkg.unit_at(b)) for b, _ in plan[1:]
            if b < pkg.buffer_elements and pkg.unit_at(b)[0] < b]


def unit_telemetry_differs(pkg, cuts, got, want):
    """LionAR's per-unit telemetry combined from the ranks' telemetry
    partials (Package.combine_unit_telemetry) against the whole state's:
    equal for every unit that no bound cuts (NaN where it does not rotate),
    within 1e-10 for a cut one (the sums of its parts added: another order
    than the whole state's). Returns (what differs or None, the rotating
    cut units compared)."""
    cut = {lo for _, lo, _ in cuts}
    compared = 0
    for name, (u, per_copy) in pkg.rotational_units.items():
        info = pkg.params_info[name]
        for c in range(info.copies):
            for r in range(per_copy):
                a, b = got[name][c, r], want[name][c, r]
                if info.offset + c * info.stride + r * u in cut:
                    ok = np.allclose(a, b, rtol=1e-10, atol=0) or \
                        (np.isnan(a).all() and np.isnan(b).all())
                    compared += int(not np.isnan(b).all())
                else:
                    ok = np.array_equal(a, b, equal_nan=True)
                if not ok:
                    return f"{name}[{c}] unit {r}: {a} against {b}", compared
    return None, compared


def step_all(pkg, name, ranks, adopt):
    """One whole state and `ranks` shard states through 8 guarded steps
    (LionAR: the first records n0; the units' partials summed as a second
    round). Returns the units that the plan's bounds cut."""
    n, slots = pkg.buffer_elements, pkg.num_slots
    plan = pkg.plan_shards(ranks)
    cuts = cut_units(pkg, plan)
    whole = pkg.state()
    whole.init(seed=11)
    shards = []
    for begin, end in plan:
        if adopt:
            bufs = [muir.aligned_zeros(end - begin, pkg.alignment) for _ in range(2 + pkg.num_states)]
            st = pkg.adopt(bufs[0], bufs[1], bufs[2:], shard=(begin, end))
        else:
            st = pkg.state(shard=(begin, end))
        st.init(seed=11)
        check(f"{name} x{ranks}: init of [{begin}, {end}) is the whole init's",
              same(st.flat_params, whole.flat_params[begin:end]))
        shards.append(st)
    rng = np.random.default_rng(3)
    bad = None
    cut_units_seen = 0
    for t in range(1, 9):
        grads = (rng.standard_normal(n) * 0.05).astype(np.float32)
        if t == 5:
            grads[n // 2] = np.nan
        whole.flat_grads[...] = grads
        telemetry = t % 2 == 0
        guards = dict(lr_factor=0.8, max_grad_norm=0.5, skip_nonfinite=True)
        want = whole.step(t, telemetry=telemetry, **guards)
        partials = np.zeros(pkg.step_partials)
        for st, (begin, end) in zip(shards, plan):
            st.flat_grads[...] = grads[begin:end]
            partials += st.reduce()
        check(f"{name} x{ranks} step {t}: the summed partials are the whole state's",
              same(partials, whole.reduce()))
        if pkg.num_units:
            units = np.zeros(pkg.step_partials - slots)
            for st in shards:
                units += st.reduce_units(t, partials.copy(), **guards)[slots:]
            partials[slots:] = units
            check(f"{name} x{ranks} step {t}: the units' partials are not all zero",
                  want.skipped or np.count_nonzero(units) > 0)
        sums = np.zeros(pkg.telemetry_partials)
        for st in shards:
            got = st.step_sharded(t, partials, telemetry=telemetry, **guards)
            if telemetry:
                got, mine = got
                sums += mine
            if (got.grad_norm, got.grad_scale, got.skipped) != \
                    (want.grad_norm, want.grad_scale, want.skipped) and \
                    not (np.isnan(got.grad_norm) and np.isnan(want.grad_norm)):
                bad = bad or f"step {t}: report {got} against {want}"
        if telemetry and not want.skipped:
            combined = pkg.combine_telemetry(sums)
            if combined != want.telemetry:
                bad = bad or f"step {t}: telemetry differs"
        if telemetry and not want.skipped and pkg.num_units:
            differs, compared = unit_telemetry_differs(
                pkg, cuts, pkg.combine_unit_telemetry(sums), want.unit_telemetry)
            bad = bad or (differs and f"step {t}: per-unit telemetry: {differs}")
            cut_units_seen += compared
        for st, (begin, end) in zip(shards, plan):
            for w in range(2 + pkg.num_states):
                want_w = whole._flat[w][begin:end]
                if pkg.num_units and w == 3:  # the units' state, replicas too
                    want_w = unit_replicas(pkg, begin, end, whole._flat[3])
                if w != 1 and not same(st._flat[w], want_w):
                    bad = bad or f"step {t}: buffer {w} of [{begin}, {end}) differs"
        check(f"{name} x{ranks} step {t}: clipped ({want.grad_scale})",
              want.skipped or want.grad_scale < 1.0)
        check(f"{name} x{ranks} step {t}: skipped exactly at the NaN", want.skipped == (t == 5))
    check(f"{name} x{ranks}{' adopted' if adopt else ''}: 8 sharded steps equal the whole "
          f"state's: {bad}", bad is None)
    if pkg.num_units and cuts:
        check(f"{name} x{ranks}: the per-unit telemetry of cut units was compared "
              f"({cut_units_seen})", cut_units_seen > 0)
    print(f"{name}: {ranks} shards {plan}{' (adopted)' if adopt else ''} cutting units "
          f"{cuts}: {'bit-identical' if bad is None else bad}")
    return cuts


gpt = package(shrink(SRC, TMP, "gpt2", GPT2_DIMS), "adamw", "gpt")
llama = package(shrink(SRC, TMP, "llama", LLAMA_DIMS), "lion", "llama")
for pkg, name in ((gpt, "gpt"), (llama, "llama")):
    check_plan(pkg, name)
    step_all(pkg, name, 2, adopt=False)
    step_all(pkg, name, 3, adopt=True)

# ---- errors, in C ------------------------------------------------------------
lib = _ffi.lib()
i64 = ctypes.c_int64
pkg = gpt
n = pkg.buffer_elements
plan = pkg.plan_shards(2)
mid = plan[1][0]


def expect(what, status, code, *fragments):
    message = lib.muir_last_error().decode()
    ok = status == code and all(f in message for f in fragments)
    check(f"{what}: {muir.Status(status).name}: {message}", ok)
    print(f"{what}: {muir.Status(status).name}: {message}")


ARG, SIZE, FORMAT = muir.Status.ERROR_ARGUMENT, muir.Status.ERROR_SIZE, muir.Status.ERROR_FORMAT
bounds = (i64 * 4)()
expect("plan 0 ranks", lib.muir_package_plan_shards(pkg._handle, 0, bounds), ARG,
       "muir_package_plan_shards: 0 ranks given; at least 1")
expect("plan NULL package", lib.muir_package_plan_shards(None, 2, bounds), ARG, "package is NULL")
expect("plan NULL bounds", lib.muir_package_plan_shards(pkg._handle, 2, None), ARG,
       "out_bounds is NULL")

handle = ctypes.c_void_p()
expect("create: not a boundary", lib.muir_state_create_shard(pkg._handle, 0, mid + 16, n,
                                                             ctypes.byref(handle)), ARG,
       f"muir_state_create_shard: the shard's begin {mid + 16} is not a shard boundary",
       "the nearest are", "muir_package_plan_shards picks them")
expect("create: end not a boundary", lib.muir_state_create_shard(pkg._handle, 0, 0, mid - 4,
                                                                 ctypes.byref(handle)), ARG,
       f"the shard's end {mid - 4} is not a shard boundary")
expect("create: out of order", lib.muir_state_create_shard(pkg._handle, 0, mid, 0,
                                                           ctypes.byref(handle)), ARG,
       f"shard [{mid}, 0) is not a range inside the buffers [0, {n})")
expect("create: past the end", lib.muir_state_create_shard(pkg._handle, 0, 0, n + 16,
                                                           ctypes.byref(handle)), ARG,
       f"shard [0, {n + 16}) is not a range inside")
expect("create: NULL out", lib.muir_state_create_shard(pkg._handle, 0, 0, mid, None), ARG,
       "muir_state_create_shard: out_state is NULL")
expect("create: NULL package", lib.muir_state_create_shard(None, 0, 0, mid, ctypes.byref(handle)),
       ARG, "package is NULL")
small = [muir.aligned_zeros(mid - 16, pkg.alignment) for _ in range(4)]
states = (ctypes.c_void_p * 2)(small[2].ctypes.data, small[3].ctypes.data)
expect("adopt: wrong size", lib.muir_state_adopt_shard(
    pkg._handle, 0, 0, mid, small[0].ctypes.data, small[1].ctypes.data, states, mid - 16,
    ctypes.byref(handle)), SIZE, f"muir_state_adopt_shard: buffers of {mid - 16} elements given",
    f"needs {mid} elements per buffer (the shard)")
expect("adopt: not a boundary", lib.muir_state_adopt_shard(
    pkg._handle, 0, 8, mid, small[0].ctypes.data, small[1].ctypes.data, states, mid - 8,
    ctypes.byref(handle)), ARG, "muir_state_adopt_shard: the shard's begin 8 is not")

st = pkg.state(shard=plan[1])
b, e = i64(), i64()
expect("shard: NULL", lib.muir_state_shard(st._handle, None, ctypes.byref(e)), ARG,
       "muir_state_shard: out_begin is NULL")
check("shard: the bounds", lib.muir_state_shard(st._handle, ctypes.byref(b), ctypes.byref(e)) == 0
      and (b.value, e.value) == plan[1] == st.shard)
expect("init_range outside the shard", lib.muir_state_init_range(st._handle, 1, 0, mid + 4), ARG,
       f"range [0, {mid + 4}) is not inside the params buffer [{mid}, {n})")
guards = _ffi.StepGuards(1.0, 0)
report = _ffi.StepReport()
expect("guarded step on a shard", lib.muir_state_step_guarded(
    st._handle, 1, 1.0, ctypes.byref(guards), ctypes.byref(report)), ARG,
    f"the state holds the shard [{mid}, {n})", "muir_state_step_sharded")
entries = (_ffi.StepTelemetry * 64)()
expect("telemetry step on a shard", lib.muir_state_step_telemetry(
    st._handle, 1, 1.0, None, None, entries, 64), ARG, "need the partial sums of every shard")
partials = np.zeros(pkg.step_partials)
tele = np.zeros(pkg.telemetry_partials)
expect("reduce: wrong count", lib.muir_state_reduce(st._handle, partials.ctypes.data,
                                                    pkg.step_partials - 1), ARG,
       f"muir_state_reduce: room for {pkg.step_partials - 1} partial sums given",
       f"has {pkg.step_partials}")
expect("reduce: NULL", lib.muir_state_reduce(st._handle, None, pkg.step_partials), ARG,
       "out_partials is NULL")
expect("sharded: NULL partials", lib.muir_state_step_sharded(
    st._handle, 1, 1.0, None, None, pkg.step_partials, None, None, 0), ARG,
    "muir_state_step_sharded: partials is NULL")
expect("sharded: wrong count", lib.muir_state_step_sharded(
    st._handle, 1, 1.0, None, partials.ctypes.data, 3, None, None, 0), ARG,
    "muir_state_step_sharded: 3 partial sums given", f"has {pkg.step_partials}")
expect("sharded: wrong telemetry count", lib.muir_state_step_sharded(
    st._handle, 1, 1.0, None, partials.ctypes.data, pkg.step_partials, None,
    tele.ctypes.data, 5), ARG, "room for 5 telemetry partial sums given",
    f"has {pkg.telemetry_partials}")
expect("sharded: step 0", lib.muir_state_step_sharded(
    st._handle, 0, 1.0, None, partials.ctypes.data, pkg.step_partials, None, None, 0), ARG,
    "step 0 given, but steps count from 1")
expect("sharded: negative max_grad_norm", lib.muir_state_step_sharded(
    st._handle, 1, 1.0, ctypes.byref(_ffi.StepGuards(-1.0, 0)), partials.ctypes.data,
    pkg.step_partials, None, None, 0), ARG, "max_grad_norm -1 is not a finite")
count = sum(p.copies for p in pkg.params_info.values() if not p.tied_to)
many = (_ffi.StepTelemetry * count)()
expect("combine: wrong count", lib.muir_package_combine_telemetry(
    pkg._handle, tele.ctypes.data, 7, many, count), ARG,
    "muir_package_combine_telemetry: 7 telemetry partial sums given")
expect("combine: wrong entries", lib.muir_package_combine_telemetry(
    pkg._handle, tele.ctypes.data, tele.size, many, count + 1), ARG,
    f"room for {count + 1} entries given", f"has {count} parameter copies")
expect("combine: NULL", lib.muir_package_combine_telemetry(
    pkg._handle, None, tele.size, many, count), ARG, "partials is NULL")
expect("partials: NULL package", lib.muir_package_partials(None, None, None), ARG,
       "muir_package_partials: package is NULL")
try:
    st.params
    check("a shard has no per-parameter views", False)
except muir.Error as error:
    check(f"a shard has no per-parameter views: {error}",
          "has no per-parameter views" in str(error))

# ---- LionAR: units that span shards -----------------------------------------


lion_ar = package(shrink(SRC, TMP, "gpt2", GPT2_DIMS), "lion-ar", "gpt-lion-ar")
lion_ar_tensor = package(shrink(SRC, TMP, "llama", LLAMA_DIMS), "lion-ar:units=tensor",
                         "llama-lion-ar-tensor")
for pkg_, name_ in ((lion_ar, "gpt lion-ar"), (lion_ar_tensor, "llama lion-ar units=tensor")):
    check(f"{name_}: step partials = slots + 10 per slot",
          pkg_.step_partials == 11 * pkg_.num_slots)
    cuts_ = step_all(pkg_, name_, 2, adopt=False) + step_all(pkg_, name_, 3, adopt=True)
    check(f"{name_}: a planned bound cuts a unit: {cuts_}", len(cuts_) > 0)

# A bound one element from a unit's edge: never planned, refused.
odd = package(shrink(SRC, TMP, "gpt2", dict(GPT2_DIMS, d_ff="width<base 4095, size 4095>")),
              "lion-ar", "gpt-lion-ar-4095")
near = [start for start in slot_starts(odd)
        if (lambda u: u[0] < start < u[1] and min(start - u[0], u[1] - start) < 2)(
            odd.unit_at(start))]
check(f"4095-wide rows: slot starts one element from a unit's edge: {near[:3]}", len(near) > 0)
for ranks in (2, 3, 5, 8):
    oplan = odd.plan_shards(ranks)
    check(f"4095-wide rows: the plan of {ranks} avoids them: {oplan}",
          not any(b in near for b, _ in oplan))
expect("create: a bound one element into a unit", lib.muir_state_create_shard(
    odd._handle, 0, near[0], odd.buffer_elements, ctypes.byref(handle)), ARG,
    f"the shard's begin {near[0]} cuts the LionAR unit",
    "leaving one element on one side", "muir_package_plan_shards avoids such bounds")

bf16_lion_ar = package(shrink(SRC, TMP, "gpt2", GPT2_DIMS), "lion-ar", "gpt-lion-ar-bf16",
                       "--precision=bf16")
expect("LionAR bf16: no shards yet", lib.muir_state_create_shard(
    bf16_lion_ar._handle, 0, bf16_lion_ar.plan_shards(2)[1][0], bf16_lion_ar.buffer_elements,
    ctypes.byref(handle)), ARG, "is bf16 and has", "LionAR units",
    "its shards do not take the units' partial sums yet")
bf16_whole = bf16_lion_ar.state()
expect("reduce_units: a bf16 package", lib.muir_state_reduce_units(
    bf16_whole._handle, 1, 1.0, None, np.zeros(bf16_lion_ar.step_partials).ctypes.data,
    bf16_lion_ar.step_partials), ARG, "is bf16, whose LionAR units run unsharded")
lst = lion_ar.state(shard=lion_ar.plan_shards(2)[1])
lpartials = np.zeros(lion_ar.step_partials)
expect("LionAR: a plain step on a shard", lib.muir_state_step(lst._handle, 1, 1.0), ARG,
       "its LionAR units need the unit partial sums of every shard",
       "muir_state_reduce_units, muir_state_step_sharded")
lst.step_sharded(1, lpartials, telemetry=True)
rows_name, (_, per_copy) = next(iter(lion_ar.rotational_units.items()))
rows_info = lion_ar.params_info[rows_name]
unit_entries = (_ffi.StepTelemetry * (rows_info.copies * per_copy))()
expect("LionAR: per-unit telemetry of a shard", lib.muir_state_unit_telemetry(
    lst._handle, rows_info.index, unit_entries, rows_info.copies * per_copy), ARG,
    "was not a telemetry step of a whole state",
    "a shard's units may lie in other shards too")
ltele = np.zeros(lion_ar.telemetry_partials)
check("LionAR: the telemetry partials hold 4 per slot and 4 per unit",
      lion_ar.telemetry_partials == 4 * (lion_ar.num_slots + lion_ar.num_units))
plain_info = next(p for p in lion_ar.params_info.values()
                  if p.tied_to is None and p.name not in lion_ar.rotational_units)
for what, args, fragments in [
        ("NULL partials", (lion_ar._handle, None, ltele.size, rows_info.index, unit_entries,
                           rows_info.copies * per_copy), ["partials is NULL"]),
        ("a wrong count", (lion_ar._handle, ltele.ctypes.data, 4 * lion_ar.num_slots,
                           rows_info.index, unit_entries, rows_info.copies * per_copy),
         [f"{4 * lion_ar.num_slots} telemetry partial sums given",
          f"has {lion_ar.telemetry_partials}"]),
        ("no such parameter", (lion_ar._handle, ltele.ctypes.data, ltele.size, 10 ** 6,
                               unit_entries, 1), ["no parameter 1000000"]),
        ("a parameter without units", (lion_ar._handle, ltele.ctypes.data, ltele.size,
                                       plain_info.index, unit_entries, 1),
         [f"parameter '{plain_info.name}'", "has no rotational units"]),
        ("a wrong entry count", (lion_ar._handle, ltele.ctypes.data, ltele.size,
                                 rows_info.index, unit_entries, 1),
         ["room for 1 entries given", f"has {rows_info.copies * per_copy} units"])]:
    expect(f"unit telemetry of partials: {what}", lib.muir_package_unit_telemetry(*args), ARG,
           "muir_package_unit_telemetry", *fragments)
expect("reduce_units: a package without units", lib.muir_state_reduce_units(
    st._handle, 1, 1.0, None, partials.ctypes.data, pkg.step_partials), ARG,
    "muir_state_reduce_units: package", "has no LionAR units")
expect("reduce_units: wrong count", lib.muir_state_reduce_units(
    lst._handle, 1, 1.0, None, lpartials.ctypes.data, lion_ar.num_slots), ARG,
    f"{lion_ar.num_slots} partial sums given", f"has {lion_ar.step_partials}")
expect("reduce_units: NULL", lib.muir_state_reduce_units(
    lst._handle, 1, 1.0, None, None, lion_ar.step_partials), ARG,
    "muir_state_reduce_units: partials is NULL")
expect("reduce_units: step 0", lib.muir_state_reduce_units(
    lst._handle, 0, 1.0, None, lpartials.ctypes.data, lion_ar.step_partials), ARG,
    "step 0 given")
expect("sharded: the slots' partials only", lib.muir_state_step_sharded(
    lst._handle, 1, 1.0, None, lpartials.ctypes.data, lion_ar.num_slots, None, None, 0), ARG,
    f"{lion_ar.num_slots} partial sums given", f"has {lion_ar.step_partials}")
lo_, hi_ = i64(), i64()
expect("unit_at: outside", lib.muir_package_unit_at(
    lion_ar._handle, lion_ar.buffer_elements, ctypes.byref(lo_), ctypes.byref(hi_)), ARG,
    f"element {lion_ar.buffer_elements} is outside the buffers")
expect("unit_at: NULL", lib.muir_package_unit_at(lion_ar._handle, 0, None, ctypes.byref(hi_)),
       ARG, "out_begin is NULL")
check("unit_at: no units in an AdamW package", gpt.unit_at(mid) == (0, 0))

# A library without the shard kernels (the runtime's test fixture).
fixture = muir.Package(FIXTURE)
fplan = fixture.plan_shards(2)
check(f"fixture: a plan with an inner bound {fplan}", 0 < fplan[1][0] < fixture.buffer_elements)
expect("fixture: no shard kernels", lib.muir_state_create_shard(
    fixture._handle, 0, fplan[1][0], fixture.buffer_elements, ctypes.byref(handle)), FORMAT,
    "does not export the shard kernels (muir_kernel_init_shard")
check("fixture: a whole state still works", fixture.state().shard == (0, fixture.buffer_elements))

check.finish()
