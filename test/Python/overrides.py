# Per-tensor overrides at run time against recompiling: a state of the plain
# GPT-2 package (shrunk) whose blocks.mlp.fc.weight gets lr multiplier 4 and
# weight-decay multiplier 0.5, and whose wte gets lr multiplier 0.25, steps
# bit for bit like the package compiled with a multipliers file giving those
# factors (powers of two: both products are exact); multipliers 1 and 1
# restore the plain package's bits; another state of the same package is
# untouched; the manifest's kernel_table lists the compiled-in values, which
# Package.tensor_rows reads from the library; and the errors.
#
# RUN: %python %s %muir_tools %muir_src %t | FileCheck %s
# CHECK: table ok
# CHECK-NEXT: override = recompiled: 5 steps bit for bit
# CHECK-NEXT: restored: 5 steps bit for bit
# CHECK-NEXT: tied: ERROR_ARGUMENT: muir_state_set_optimizer_multipliers: parameter 'lm_head' is tied to 'wte' and has no constants of its own; set those of 'wte'
# CHECK-NEXT: unknown: ERROR_NOT_FOUND: package '{{.*}}' (model 'gpt2') has no parameter 'nope'
# CHECK-NEXT: negative: ERROR_ARGUMENT: muir_state_set_optimizer_multipliers: multipliers must be finite and non-negative, got lr 1 and weight decay -0.5

import json
import os
import re
import subprocess
import sys

import numpy as np

import muir

TOOLS, SRC, TMP = sys.argv[1:4]
os.makedirs(TMP, exist_ok=True)

DIMS = {"seq": "fixed<16>", "vocab": "fixed<96>", "d_head": "fixed<8>",
        "d_model": "width<base 16, size 48>", "n_head": "width<base 2, size 6>",
        "d_ff": "width<base 64, size 192>", "layers": "depth<base 2, size 3>"}
text = open(os.path.join(SRC, "examples", "gpt2.mlir")).read()
for name, decl in DIMS.items():
    text, n = re.subn(r"tp.dim @%s = [a-z]+<[^>]*>" % name,
                      "tp.dim @%s = %s" % (name, decl), text)
    assert n == 1, name
model = os.path.join(TMP, "gpt2-tiny.mlir")
open(model, "w").write(text)
factors = {"blocks.mlp.fc.weight": {"lr": 4.0, "weight_decay": 0.5},
           "wte": {"lr": 0.25}}
multipliers = os.path.join(TMP, "multipliers.json")
json.dump({"modules": factors}, open(multipliers, "w"))


def package(name, *extra):
    out = os.path.join(TMP, name)
    subprocess.run([os.path.join(TOOLS, "muirc"), "package", model,
                    "--scheme=completep", "--optimizer=adamw", "--lr=3e-3",
                    "--weight-decay=0.1", "--no-gpu", "-o", out, *extra],
                   check=True)
    return muir.Package(out)


plain, compiled = package("plain"), package("compiled", "--multipliers=" + multipliers)

# The compiled-in constants: the library's table is the manifest's.
table = plain.manifest["kernel_table"]
for p in table["params"]:
    rows = table["rows"][p["first_row"]:][:p["copies"] if p["row_stride"] else 1]
    assert plain.tensor_rows[p["name"]] == rows, p["name"]
    assert plain.manifest["report"]["params"][p["param"]]["name"] == p["name"]
lr_fc = plain.tensor_rows["blocks.mlp.fc.weight"][0]["lr"]
assert compiled.tensor_rows["blocks.mlp.fc.weight"][0]["lr"] == 4 * lr_fc
print("table ok")


def run(pkg, setup, steps=5):
    """Params and states after `steps` AdamW steps from the same start."""
    st = pkg.state()
    setup(st)
    st.init(seed=3)
    rng = np.random.default_rng(0)
    for t in range(1, steps + 1):
        st.flat_grads[...] = rng.standard_normal(pkg.buffer_elements).astype(np.float32)
        st.step(t, lr_factor=0.5 + 0.1 * t)
    return [st.flat_params.copy()] + [s.copy() for s in st.flat_states]


def same(a, b):
    return all(np.array_equal(x.view(np.uint32), y.view(np.uint32)) for x, y in zip(a, b))


def override(st):
    for name, f in factors.items():
        st.set_optimizer_multipliers(name, lr=f.get("lr", 1.0), weight_decay=f.get("weight_decay", 1.0))
    assert st.optimizer_multipliers("blocks.mlp.fc.weight") == (4.0, 0.5)
    assert st.optimizer_multipliers("wte") == (0.25, 1.0)
    assert st.optimizer_multipliers("blocks.mlp.proj.weight") == (1.0, 1.0)


want = run(compiled, lambda st: None)
got = run(plain, override)
assert same(want, got), "override differs from the recompiled package"
assert not same(got, run(plain, lambda st: None)), "the override changed nothing"
print("override = recompiled: 5 steps bit for bit")


def restored(st):
    override(st)
    for name in factors:
        st.set_optimizer_multipliers(name)


other = plain.state()  # a second state is untouched by the first's calls
first = plain.state()
override(first)
assert other.optimizer_multipliers("wte") == (1.0, 1.0)
assert same(run(plain, restored), run(plain, lambda st: None))
print("restored: 5 steps bit for bit")

for label, call in [("tied", lambda: first.set_optimizer_multipliers("lm_head", lr=2.0)),
                    ("unknown", lambda: first.set_optimizer_multipliers("nope")),
                    ("negative", lambda: first.set_optimizer_multipliers("wte", weight_decay=-0.5))]:
    try:
        call()
        sys.exit(label + ": no error")
    except muir.Error as e:
        print("%s: %s: %s" % (label, e.status.name, e.message))
