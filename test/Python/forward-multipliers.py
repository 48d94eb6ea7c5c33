# Every forward multiplier a trainer applies, read from each place a package
# states it, trains the same model to the same numbers (issue 8). A residual
# MLP (examples/mlp-residual.mlir's family) grown 4x in width and 3x in depth
# is packaged under CompleteP with a readout module multiplier and a
# per-depth residual list, so the weight multipliers and the branch
# multipliers are not all 1 and vary per block. Its multipliers are read
#   - from manifest.json (params[].multiplier, forward.residuals[]),
#   - from muir_package.h, by a small C program compiled here,
#   - from the C table, through Python's ParamInfo and Package.residuals,
# and each set drives a few steps of training: torch does the forward and
# backward (W = multiplier * w, h + r[l] * branch), muir the fused AdamW
# step. The three runs must agree bit for bit, and match a separately
# written torch reference that takes its multipliers and per-tensor
# hyperparameters from CompleteP Table 1 (closed form, not from muir) and
# steps with torch.optim.AdamW.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %muir_tools %muir_cc %t | FileCheck %s
# CHECK: sources agree: manifest = header = table
# CHECK-NEXT: closed form agrees
# CHECK-NEXT: training: manifest = header = table
# CHECK-NEXT: training: torch reference agrees

import json
import os
import re
import subprocess
import sys

import numpy as np
import torch

import muir

TOOLS, CC, TMP = sys.argv[1:4]
torch.manual_seed(0)
torch.set_num_threads(1)

# The model: 12 features -> 8 (base) / 32 hidden -> 2 (base) / 6 residual
# blocks -> 5 classes; m_N = 4, m_L = 3.
D_IN, CLASSES, BATCH = 12, 5, 16
BASE_H, H, BASE_L, L = 8, 32, 2, 6
M_N, M_L = H / BASE_H, L / BASE_L
LR, WD, EPS, B1, B2 = 1e-2, 1e-2, 1e-8, 0.9, 0.999
READOUT_FACTOR, RESIDUAL_DEPTH = 2.0, [1.0, 0.5]


def card(hidden, layers):
    return {"name": "rmlp", "family": "mlp", "d_in": D_IN, "d_hidden": hidden,
            "n_layer": layers, "d_out": CLASSES, "bias": True,
            "residual": True, "batch": BATCH}


for name, c in (("base", card(BASE_H, BASE_L)), ("target", card(H, L))):
    json.dump(c, open(os.path.join(TMP, name + ".json"), "w"))
json.dump({"modules": {"readout.weight": {"multiplier": READOUT_FACTOR}},
           "depth": {"residual": RESIDUAL_DEPTH}},
          open(os.path.join(TMP, "multipliers.json"), "w"))
PKG = os.path.join(TMP, "pkg")
subprocess.run([os.path.join(TOOLS, "muirc"), "package",
                "--card", os.path.join(TMP, "target.json"),
                "--base-card", os.path.join(TMP, "base.json"),
                "--scheme", "completep", "--optimizer", "adamw",
                "--lr", str(LR), "--weight-decay", str(WD), "--eps", str(EPS),
                "--beta1", str(B1), "--beta2", str(B2), "--init-std", "fan-in",
                "--multipliers", os.path.join(TMP, "multipliers.json"),
                "--no-gpu", "-o", PKG], check=True, capture_output=True)
pkg = muir.Package(PKG)
NAMES = list(pkg.params_info)
REPEATED = {n for n, i in pkg.params_info.items() if i.copies > 1}


def per_copy(value, name):
    """One multiplier per copy of `name` (a single value repeats)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    copies = pkg.params_info[name].copies
    return [float(v) for v in (values * copies if len(values) == 1 else values)]


# ---- Source 1: manifest.json ------------------------------------------------
manifest = json.load(open(os.path.join(PKG, "manifest.json")))
report = manifest["report"]
assert "output_multiplier" not in report["forward"], report["forward"]
from_manifest = {
    "weights": {p["name"]: per_copy(p["multiplier"], p["name"])
                for p in report["params"]},
    "residual": [per_copy(r["multiplier"], "hidden.weight")
                 for r in report["forward"]["residuals"]],
}

# ---- Source 2: muir_package.h, through a C program ---------------------------
def macro(name):
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


program = ["#include <stdio.h>", '#include "muir_package.h"',
           "static void list(const char *key, const double *v, int n) {",
           '  printf("\\"%s\\": [", key);',
           '  for (int i = 0; i < n; ++i) printf("%s%.17g", i ? ", " : "", v[i]);',
           '  printf("]");', "}", "int main(void) {", '  printf("{");']
entries = [(f"MUIR_PARAM_{macro(p['name'])}_MULTIPLIER", p["name"],
            isinstance(p["multiplier"], list)) for p in report["params"]]
entries += [(f"MUIR_RESIDUAL_{k}_MULTIPLIER", f"residual{k}",
             isinstance(r["multiplier"], list))
            for k, r in enumerate(report["forward"]["residuals"])]
for i, (m, key, is_list) in enumerate(entries):
    init = m if is_list else "{" + m + "}"
    separator = 'printf(", "); ' if i else ""
    program += [f"  {{ static const double v[] = {init};",
                f'    {separator}list("{key}", v, (int)(sizeof v / sizeof *v)); }}']
program += ['  printf("}\\n");',
            '  printf("%d\\n", MUIR_NUM_RESIDUALS);', "  return 0;", "}"]
source = os.path.join(TMP, "multipliers.c")
open(source, "w").write("\n".join(program) + "\n")
binary = os.path.join(TMP, "multipliers")
subprocess.run([CC, "-std=c11", "-Wall", "-Werror", "-I", PKG, source, "-o",
                binary], check=True)
out = subprocess.run([binary], check=True, capture_output=True,
                     text=True).stdout.splitlines()
printed = json.loads(out[0])
assert int(out[1]) == len(report["forward"]["residuals"]), out
from_header = {
    "weights": {n: per_copy(printed[n], n) for n in NAMES},
    "residual": [per_copy(printed[f"residual{k}"], "hidden.weight")
                 for k in range(int(out[1]))],
}

# ---- Source 3: the C table, through Python -----------------------------------
from_table = {
    "weights": {n: per_copy(i.multiplier, n)
                for n, i in pkg.params_info.items()},
    "residual": [per_copy(r.multiplier, "hidden.weight")
                 for r in pkg.residuals],
}
assert [r.name for r in pkg.residuals] == ["n_hidden.residual0"], pkg.residuals
assert pkg.residuals[0].copies == L and pkg.residuals[0].depth == "n_hidden"
assert pkg.attention == [], pkg.attention

assert from_manifest == from_header == from_table, (from_manifest, from_header,
                                                     from_table)
print("sources agree: manifest = header = table")

# ---- The closed form: CompleteP Table 1 (alpha = 1), written from the table --
# Unembed Fwd x m_N^-1 (times the module factor); MLP Residual x m_L^-alpha
# times the depth list interpolated in l/(L-1); no other multiplier.
interp = np.interp(np.arange(L) / (L - 1), np.linspace(0, 1, len(RESIDUAL_DEPTH)),
                   RESIDUAL_DEPTH)
closed = {
    "weights": {"input.weight": [1.0], "input.bias": [1.0],
                "hidden.weight": [1.0] * L, "hidden.bias": [1.0] * L,
                "readout.weight": [READOUT_FACTOR / M_N], "readout.bias": [1.0]},
    "residual": [list(interp / M_L)],
}
for name in NAMES:
    np.testing.assert_allclose(from_table["weights"][name],
                               closed["weights"][name], rtol=1e-15, err_msg=name)
np.testing.assert_allclose(from_table["residual"], closed["residual"], rtol=1e-15)
print("closed form agrees")

# ---- Training ------------------------------------------------------------------
rng = np.random.default_rng(1)
BATCHES = [(rng.standard_normal((BATCH, D_IN)).astype(np.float32),
            rng.integers(0, CLASSES, BATCH)) for _ in range(5)]


def forward(params, weights, residual, x, y):
    """The residual MLP with its forward multipliers: W = m * w at every use,
    h + r[l] * (W relu(h) + b) in block l."""
    def w(name, l=0):
        t = params[name] if name not in REPEATED else params[name][l]
        return weights[name][l] * t
    h = torch.relu(x @ w("input.weight").T + w("input.bias"))
    for l in range(L):
        branch = torch.relu(h) @ w("hidden.weight", l).T + w("hidden.bias", l)
        h = h + residual[0][l] * branch
    logits = h @ w("readout.weight").T + w("readout.bias")
    return torch.nn.functional.cross_entropy(logits, y)


def train_with_muir(multipliers):
    st = pkg.state()
    st.init(seed=3)
    initial = {n: st.params[n].copy() for n in NAMES}
    losses = []
    for t, (x, y) in enumerate(BATCHES, start=1):
        params = {n: torch.tensor(st.params[n], requires_grad=True)
                  for n in NAMES}
        loss = forward(params, multipliers["weights"], multipliers["residual"],
                       torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        for n in NAMES:
            st.grads[n] = params[n].grad.numpy()
        st.step(t)
        losses.append(loss.item())
    return initial, losses, {n: st.params[n].copy() for n in NAMES}


runs = [train_with_muir(m) for m in (from_manifest, from_header, from_table)]
for _, losses, final in runs[1:]:
    assert losses == runs[0][1], (losses, runs[0][1])
    for n in NAMES:
        assert final[n].tobytes() == runs[0][2][n].tobytes(), n
print("training: manifest = header = table")

# ---- The torch reference -------------------------------------------------------
# Per-tensor hyperparameters from CompleteP Table 1 (alpha = 1) with coupled
# decay (lr x wd width-invariant) and eps following the gradient (TP5 B.3;
# in the blocks also x m_L^-alpha): the input layer and its bias are before
# the blocks (no depth factor), the readout bias has no width dim.
HPARAMS = {  # name: (lr, weight decay, eps)
    "input.weight": (LR, WD, EPS / M_N),
    "input.bias": (LR, WD, EPS / M_N),
    "hidden.weight": (LR / M_N, WD * M_N, EPS / M_N / M_L),
    "hidden.bias": (LR, WD, EPS / M_N / M_L),
    "readout.weight": (LR, WD, EPS / M_N),
    "readout.bias": (LR, WD, EPS),
}
initial, losses, final = runs[0]
params = {n: torch.tensor(initial[n], requires_grad=True) for n in NAMES}
optimizer = torch.optim.AdamW(
    [{"params": [params[n]], "lr": lr, "weight_decay": wd, "eps": eps}
     for n, (lr, wd, eps) in HPARAMS.items()], betas=(B1, B2))
reference = []
for x, y in BATCHES:
    optimizer.zero_grad()
    loss = forward(params, closed["weights"], closed["residual"],
                   torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    optimizer.step()
    reference.append(loss.item())
np.testing.assert_allclose(losses, reference, rtol=1e-5)
for n in NAMES:
    np.testing.assert_allclose(final[n], params[n].detach().numpy(), rtol=1e-4,
                               atol=1e-6, err_msg=n)
assert losses[-1] < losses[0], losses
print("training: torch reference agrees")
