# The runtime and the binding over real packages from `muirc package`: the
# GPT-2 (repeated blocks, a tied lm_head), Llama, MLP and residual MLP
# examples shrunk.
# For each, the C table passes the runtime's checks and equals
# manifest.json's layout, views have the manifest's shapes, the Philox init
# shards bit for bit, and one AdamW step moves params and both states as the
# manifest's per-tensor constants say (through the runtime, so a swapped
# buffer or a lost lr_factor shows).
#
# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t | FileCheck %s
# CHECK: gpt2: table matches the manifest
# CHECK-NEXT: gpt2: views ok
# CHECK-NEXT: gpt2: init shards ok
# CHECK-NEXT: gpt2: step ok
# CHECK-NEXT: llama: table matches the manifest
# CHECK-NEXT: llama: views ok
# CHECK-NEXT: llama: init shards ok
# CHECK-NEXT: llama: step ok
# CHECK-NEXT: mlp: table matches the manifest
# CHECK-NEXT: mlp: views ok
# CHECK-NEXT: mlp: init shards ok
# CHECK-NEXT: mlp: step ok
# CHECK-NEXT: mlp-residual: table matches the manifest
# CHECK-NEXT: mlp-residual: views ok
# CHECK-NEXT: mlp-residual: init shards ok
# CHECK-NEXT: mlp-residual: step ok

import os
import re
import subprocess
import sys

import numpy as np

import muir

TOOLS, SRC, TMP = sys.argv[1:4]
os.makedirs(TMP, exist_ok=True)

EXAMPLES = {
    "gpt2": ({"seq": "fixed<16>", "vocab": "fixed<96>", "d_head": "fixed<8>",
              "d_model": "width<base 16, size 48>",
              "n_head": "width<base 2, size 6>",
              "d_ff": "width<base 64, size 192>",
              "layers": "depth<base 2, size 3>"}, [("lm_head", "wte")]),
    "llama": ({"seq": "fixed<16>", "vocab": "fixed<80>", "d_head": "fixed<8>",
               "d_model": "width<base 16, size 64>",
               "n_head": "width<base 2, size 8>",
               "n_kv_head": "width<base 1, size 4>",
               "d_ff": "width<base 40, size 160>",
               "layers": "depth<base 1, size 3>"}, []),
    # A plain stack keeps its depth (a depth scheme needs residual blocks).
    "mlp": ({"batch": "fixed<8>", "features": "fixed<40>",
             "classes": "fixed<10>", "hidden": "width<base 64, size 192>",
             "n_hidden": "depth<base 2, size 2>"}, []),
    "mlp-residual": ({"batch": "fixed<8>", "features": "fixed<40>",
                      "classes": "fixed<10>",
                      "hidden": "width<base 64, size 192>",
                      "n_hidden": "depth<base 2, size 3>"}, []),
}


def check_example(example, dims, ties):
    text = open(os.path.join(SRC, "examples", example + ".mlir")).read()
    for name, decl in dims.items():
        text, n = re.subn(r"tp.dim @%s = [a-z]+<[^>]*>" % name,
                          "tp.dim @%s = %s" % (name, decl), text)
        assert n == 1, name
    model = os.path.join(TMP, example + "-tiny.mlir")
    open(model, "w").write(text)
    out = os.path.join(TMP, example + "-pkg")
    subprocess.run([os.path.join(TOOLS, "muirc"), "package", model,
                    "--scheme=completep", "--optimizer=adamw", "--lr=3e-3",
                    "--weight-decay=0.1", "--eps=1e-8", "--beta1=0.9",
                    "--beta2=0.95", "--no-gpu", "-o", out], check=True)

    pkg = muir.Package(out)
    layout = pkg.manifest["layout"]
    assert pkg.model == pkg.manifest["model"] and pkg.optimizer == "adamw"
    assert pkg.buffer_elements == layout["buffer_elements"]
    assert pkg.alignment == layout["alignment_bytes"]
    assert pkg.num_states == layout["num_states"] == 2
    assert [p["name"] for p in layout["params"]] == list(pkg.params_info)
    for p in layout["params"]:
        info = pkg.params_info[p["name"]]
        assert (info.offset, info.copies, info.stride, info.numel,
                list(info.copy_shape), info.tied_to) == (
            p["offset"], p["copies"], p["stride"], p["numel"], p["shape"],
            p["tied_to"]), (info, p)
    tied = [i for i in pkg.params_info.values() if i.tied_to]
    assert [(i.name, i.tied_to) for i in tied] == ties, tied
    # The forward multipliers: the table's are the report's, each once.
    report = pkg.manifest["report"]
    for p in report["params"]:
        m = pkg.params_info[p["name"]].multiplier
        want = p["multiplier"]
        if isinstance(m, tuple) and not isinstance(want, list):
            want = [want] * len(m)
        assert (list(m) if isinstance(m, tuple) else m) == want, (p, m)
    forward = report["forward"]
    assert [(r.name, r.depth, r.index_in_block, r.copies) for r in pkg.residuals] \
        == [(r["name"], r["depth"], r["index_in_block"], r["copies"])
            for r in forward["residuals"]], pkg.residuals
    for r, m in zip(pkg.residuals, forward["residuals"]):
        want = m["multiplier"]
        assert list(r.multiplier) == (want if isinstance(want, list)
                                      else [want] * r.copies), (r, m)
    assert [(a.name, a.head_dim, a.head_dim_size, a.scale)
            for a in pkg.attention] == [
        (a["name"], a["head_dim"], a["head_dim_size"], a["scale"])
        for a in forward["attention"]], pkg.attention
    print(f"{example}: table matches the manifest")

    st = pkg.state()
    for p in layout["params"]:
        shape = tuple(p["shape"])
        if p["copies"] > 1:
            shape = (p["copies"],) + shape
        for views in [st.params, st.grads] + list(st.states):
            assert views[p["name"]].shape == shape, (p["name"], shape)
    for name, target in ties:
        assert np.shares_memory(st.params[name], st.params[target])
    print(f"{example}: views ok")

    st.init(seed=1)
    full = st.flat_params.copy()
    assert np.count_nonzero(full) > 0.9 * sum(
        i.numel * i.copies for i in pkg.params_info.values() if not i.tied_to)
    other = pkg.state()
    n = pkg.buffer_elements
    cuts = sorted({0, n, 1, 17, n // 3, n // 3 + 1, n - 5})
    for begin, end in reversed(list(zip(cuts, cuts[1:]))):
        other.init_range(1, begin, end)
    assert other.flat_params.tobytes() == full.tobytes()
    other.init(seed=2)
    assert other.flat_params.tobytes() != full.tobytes()
    print(f"{example}: init shards ok")

    # Step 1 with bias correction: m_hat = g and v_hat = g^2, so
    # p1 = p0 (1 - lr wd) - lr g / (|g| + eps), with lr = the tensor's lr * factor.
    rng = np.random.default_rng(0)
    constants = {p["name"]: p for p in pkg.manifest["report"]["params"]}
    factor = 0.5
    grads = {}
    for name, info in pkg.params_info.items():
        if info.tied_to:
            continue
        grads[name] = rng.standard_normal(info.shape).astype(np.float32)
        st.grads[name] = grads[name]
    before = {name: st.params[name].astype(np.float64) for name in grads}
    st.step(1, lr_factor=factor)
    for name, g in grads.items():
        c = constants[name]
        g = g.astype(np.float64)
        lr = c["lr"] * factor
        expect = before[name] * (1 - lr * c["weight_decay"]) - lr * g / (
            np.abs(g) + c["eps"])
        np.testing.assert_allclose(st.params[name], expect, rtol=1e-5,
                                   atol=1e-7, err_msg=name)
        np.testing.assert_allclose(st.states[0][name], (1 - c["beta1"]) * g,
                                   rtol=1e-5, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(st.states[1][name], (1 - c["beta2"]) * g * g,
                                   rtol=1e-5, atol=1e-10, err_msg=name)
    for name, target in ties:
        assert (st.params[name] == st.params[target]).all()
    print(f"{example}: step ok")


for example, (dims, ties) in EXAMPLES.items():
    check_example(example, dims, ties)
