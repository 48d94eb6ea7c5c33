# RUN: %python %s %muir_tools %t
#
# Instantiated constants against closed forms written from the tables, at
# several (m_N, m_L, m_B, m_D). Each model is Inputs/roles.mlir with its dim
# sizes replaced; values come from `--tp-print-report=format=json`.
import json
import math
import os
import re
import subprocess
import sys

TOOLS, TMP = sys.argv[1], sys.argv[2]
os.makedirs(TMP, exist_ok=True)
SRC = open(__file__.rsplit("/", 1)[0] + "/../Dialect/TP/Inputs/roles.mlir").read()

# Base hyperparameters (eta, sigma, lambda, epsilon, beta1, beta2).
ETA, SIGMA, LAM, EPS, B1, B2 = 3e-3, 0.02, 0.1, 1e-8, 0.9, 0.95
failures, checks = [], 0


def model(mn, ml):
    """roles.mlir with width x mn (d, d_ff, n_head) and depth x ml."""
    text = SRC
    text = re.sub(r"@d = width<base 64, size \d+>", f"@d = width<base 64, size {64 * mn}>", text)
    text = re.sub(r"@d_ff = width<base 128, size \d+>", f"@d_ff = width<base 128, size {128 * mn}>", text)
    text = re.sub(r"@n_head = width<base 2, size \d+>", f"@n_head = width<base 2, size {2 * mn}>", text)
    text = re.sub(r"@layers = depth<base 2, size \d+>", f"@layers = depth<base 2, size {2 * ml}>", text)
    path = f"{TMP}/roles-{mn}-{ml}.mlir"
    open(path, "w").write(text)
    return path


def report(path, scheme, alpha, mb, md, extra="", rules="", init_std=SIGMA):
    inst = (f"lr={ETA} init-std={init_std} weight-decay={LAM} eps={EPS} beta1={B1} "
            f"beta2={B2} batch={256 * mb} base-batch=256 tokens={1e9 * md} "
            f"base-tokens=1e9 {extra}")
    if alpha:
        rules += f" alpha={alpha}"
    out = subprocess.run(
        [f"{TOOLS}/muir-opt", path, f"--tp-parametrize=scheme={scheme} {rules}",
         f"--tp-instantiate={inst}", "--tp-print-report=format=json", "-o", "/dev/null"],
        capture_output=True, text=True, check=True).stdout
    rep = json.loads(out)
    return rep, {p["name"]: p for p in rep["params"]}


def close(where, got, want):
    global checks
    checks += 1
    if isinstance(want, list):
        ok = isinstance(got, list) and len(got) == len(want) and all(
            math.isclose(g, w, rel_tol=1e-12) for g, w in zip(got, want))
    else:
        ok = isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-12)
    if not ok:
        failures.append(f"{where}: want {want}, got {got}")


for mn, ml, mb, md in ((2, 4, 1, 1), (4, 1, 4, 30), (1, 2, 8, 2), (8, 8, 2, 16)):
    path = model(mn, ml)
    at = f"(m_N={mn}, m_L={ml}, m_B={mb}, m_D={md})"
    S = math.sqrt(mb / md)

    # Complete(d)P Table 1, alpha = 1/2 (rows cited in tables.py).
    rep, p = report(path, "completedp", "1/2", mb, md)
    close(f"CDP ratios {at}", [rep["ratios"][k] for k in ("width", "depth", "batch", "duration")],
          [mn, ml, mb, md])
    close(f"CDP 'Steps' m_D/m_B {at}", rep["steps_multiplier"], md / mb)
    close(f"CDP 'MHA/MLP residual' m_L^-1/2 {at}",
          [r["multiplier"] for r in rep["forward"]["residuals"]], [ml ** -0.5] * 2)
    for name in ("blocks.q", "blocks.o", "blocks.fc", "blocks.proj"):
        close(f"CDP 'LR / Hidden weights' {name} {at}", p[name]["lr"], ETA / mn * ml ** -0.5 * S)
        close(f"CDP 'Init var / Hidden weights' {name} {at}", p[name]["init_std"], SIGMA * mn ** -0.5)
        close(f"CDP 'WD / Hidden weights' {name} {at}", p[name]["weight_decay"], LAM * mn * S)
        close(f"CDP 'eps / Hidden weights' {name} {at}", p[name]["eps"], EPS / mn * ml ** -0.5 / S)
        close(f"CDP '(1-beta1)' {name} {at}", p[name]["beta1"], 1 - (1 - B1) * mb / md)
        close(f"CDP '(1-beta2)' {name} {at}", p[name]["beta2"], 1 - (1 - B2) * mb / md)
    close(f"CDP 'LR / Input emb.' {at}", p["emb"]["lr"], ETA * S)
    close(f"CDP 'eps / Input emb.' {at}", p["emb"]["eps"], EPS / mn / S)
    close(f"CDP 'LR / Hidden biases/norm' {at}", p["blocks.norm"]["lr"], ETA * ml ** -0.5 * S)
    close(f"CDP 'eps / QK norms' {at}", p["blocks.qk_norm"]["eps"], EPS * ml ** -0.5 / S)
    close(f"CDP 'LR / Unemb. LN' {at}", p["final_norm"]["lr"], ETA * S)
    close(f"CDP 'Init var / Unemb. weights' m_N^-2 {at}", p["head"]["init_std"], SIGMA / mn)
    close(f"CDP 'LR / Unemb. weights' {at}", p["head"]["lr"], ETA / mn * S)
    close(f"CDP 'WD / Unemb. weights' {at}", p["head"]["weight_decay"], LAM * mn * S)
    close(f"CDP 'eps / Output weights' {at}", p["head"]["eps"], EPS / S)

    # CompleteP Table 1, alpha = 1 (Table 8 readout).
    rep, p = report(path, "completep", "1", mb, md)
    close(f"CP 'Hidden LR' m_N^-1 {at}", p["blocks.fc"]["lr"], ETA / mn)
    close(f"CP 'AdamW eps (residual blocks)' {at}", p["blocks.fc"]["eps"], EPS / mn / ml)
    close(f"CP 'Unembed Fwd' m_N^-1 {at}", p["head"]["multiplier"], 1 / mn)
    # Issue 8: the output multiplier is the readout weight's own, defined
    # once; a second forward.output_multiplier made trainers apply it twice.
    checks += 1
    if set(rep["forward"]) != {"applies", "residuals", "attention"}:
        failures.append(f"CP forward keys {at}: {sorted(rep['forward'])}")
    close(f"CP 'MHA/MLP Residual' m_L^-1 {at}",
          [r["multiplier"] for r in rep["forward"]["residuals"]], [1 / ml] * 2)
    close(f"CP attention 1/d_head (TP5 Def. 4.1) {at}",
          [a["scale"] for a in rep["forward"]["attention"]], [1 / 32])
    close(f"CP steps (no SDE) {at}", rep["steps_multiplier"], 1.0)

# TP5 Tables 3, 8 and 9 (width only), Adam and SGD columns: value = base x
# m_N^(exponent read from the table's fan_in/fan_out entries), rows cited.
TP5 = {  # role -> (table: (multiplier, init_std, adam lr, sgd lr) exponents)
    "mup": {"embedding": (0, 0, 0, 1), "hidden": (0, -0.5, -1, 0), "unembedding": (0, -1, -1, -1),
            "norm": (0, 0, 0, 1), "hidden_bias": (0, 0, 0, 1)},
    "mup-table8": {"embedding": (0, 0, 0, 1), "hidden": (0, -0.5, -1, 0), "unembedding": (-1, 0, 0, 1),
                   "norm": (0, 0, 0, 1), "hidden_bias": (0, 0, 0, 1)},
    "mup-table9": {"embedding": (0.5, -0.5, -0.5, 0), "hidden": (0, -0.5, -1, 0),
                   "unembedding": (-0.5, -0.5, -0.5, 0), "norm": (0.5, -0.5, -0.5, 0),
                   "hidden_bias": (0.5, -0.5, -0.5, 0)},
}
ROLE_OF = {"emb": "embedding", "blocks.q": "hidden", "blocks.fc": "hidden", "head": "unembedding",
           "blocks.norm": "norm", "blocks.fc_bias": "hidden_bias"}


def report_opt(path, scheme, optimizer):
    out = subprocess.run(
        [f"{TOOLS}/muir-opt", path, f"--tp-parametrize=scheme={scheme} optimizer={optimizer}",
         f"--tp-instantiate=lr={ETA} init-std={SIGMA}", "--tp-print-report=format=json",
         "-o", "/dev/null"], capture_output=True, text=True, check=True).stdout
    return {p["name"]: p for p in json.loads(out)["params"]}


for mn, ml in ((2, 1), (4, 3), (8, 2)):
    path = model(mn, ml)
    for scheme, rows in TP5.items():
        table = {"mup": "TP5 Table 3", "mup-table8": "TP5 Table 8", "mup-table9": "TP5 Table 9"}[scheme]
        for optimizer, col in (("adam", 2), ("sgd", 3)):
            p = report_opt(path, scheme, optimizer)
            for name, role in ROLE_OF.items():
                e = rows[role]
                at = f"{table} {role} (m_N={mn}, m_L={ml}, {optimizer})"
                close(f"{at} 'Multiplier'", p[name]["multiplier"], mn ** e[0])
                if p[name]["init_std"] is not None:
                    close(f"{at} 'Init. Var.'", p[name]["init_std"], SIGMA * mn ** e[1])
                close(f"{at} '{'Adam' if col == 2 else 'SGD'} LR'", p[name]["lr"], ETA * mn ** e[col])

# Per-module and per-depth multipliers (Complete(d)P 3.5): globs multiply,
# depth lists are linearly interpolated in l/L.
mult = f"{TMP}/multipliers.json"
json.dump({"modules": {"blocks.*": {"lr": 2.0}, "blocks.fc*": {"lr": 1.5, "weight_decay": 0},
                       "head": {"multiplier": 10.0}},
           "depth": {"lr": [1.0, 3.0]}}, open(mult, "w"))
path = model(2, 3)  # 6 blocks from a base of 2
rep, p = report(path, "completep", "1", 1, 1, f"multipliers={mult}")
interp = [1.0 + 2.0 * l / 5 for l in range(6)]  # from 1.0 (first) to 3.0 (last)
close("depth multipliers, interpolated", p["blocks.q"]["lr"], [ETA / 2 * 2.0 * f for f in interp])
close("two globs multiply", p["blocks.fc"]["lr"], [ETA / 2 * 2.0 * 1.5 * f for f in interp])
close("zero weight decay factor", p["blocks.fc"]["weight_decay"], 0.0)
close("model-level params take no depth list", p["emb"]["lr"], ETA)
close("module multiplier on the readout", p["head"]["multiplier"], 10.0 / 2)

# Residual branch multipliers (Complete(d)P 3.5 searches them per module
# type and depth): the `residual` quantity of the multipliers file, by the
# forward-table names <depth>.residual<k>; per-depth lists make them vary
# per block. A weight-multiplier glob must not reach them.
json.dump({"modules": {"layers.residual1": {"residual": 2.0}, "*": {"multiplier": 3.0}},
           "depth": {"residual": [1.0, 0.5]}}, open(mult, "w"))
rep, p = report(path, "completep", "1", 1, 1, f"multipliers={mult}")
interp = [1.0 - 0.5 * l / 5 for l in range(6)]
res = {r["name"]: r for r in rep["forward"]["residuals"]}
close("residual0: m_L^-1 x depth list", res["layers.residual0"]["multiplier"],
      [f / 3 for f in interp])
close("residual1: m_L^-1 x module x depth list", res["layers.residual1"]["multiplier"],
      [2.0 * f / 3 for f in interp])
close("weight multiplier glob on a parameter", p["blocks.q"]["multiplier"], 3.0)
checks += 1
if [(r["index_in_block"], r["copies"], r["depth"]) for r in rep["forward"]["residuals"]] != \
        [(0, 6, "layers"), (1, 6, "layers")]:
    failures.append(f"residual table: {rep['forward']['residuals']}")

# --init-std fan-in[:gain] (issue 8): sigma_base = gain / sqrt(fan_in at the
# base model) per tensor, then the scheme's init rule; fan-in is what a
# linear contracts (1 for a looked-up table, a bias or a norm: TP5 Table 3,
# PyTorch's nn.Embedding N(0, 1)). Per-module init_std factors still apply.
GAIN = 1.5
BASE_FAN_IN = {"blocks.q": 64, "blocks.o": 64, "blocks.fc": 64, "blocks.proj": 128,
               "head": 64, "emb": 1}
json.dump({"modules": {"blocks.proj": {"init_std": 0.5}}}, open(mult, "w"))
for mn in (1, 4):
    path = model(mn, 2)
    for scheme, hidden, readout in (("completep", -0.5, 0), ("mup", -0.5, -1),
                                    ("sp-pytorch", -0.5, -0.5), ("sp", 0, 0)):
        rep, p = report(path, scheme, None, 1, 1, f"multipliers={mult}",
                        init_std=f"fan-in:{GAIN}")
        at = f"fan-in:{GAIN} {scheme} (m_N={mn})"
        close(f"{at} base init_std is the gain", rep["base"]["init_std"], GAIN)
        checks += 1
        if rep["base"]["init_std_rule"] != "fan_in":
            failures.append(f"{at}: init_std_rule {rep['base']['init_std_rule']}")
        for name, fan_in in BASE_FAN_IN.items():
            e = {"emb": 0, "head": readout}.get(name, hidden)
            module = 0.5 if name == "blocks.proj" else 1.0
            close(f"{at} {name}: gain/sqrt({fan_in}) x m_N^{e}", p[name]["init_std"],
                  GAIN / math.sqrt(fan_in) * mn ** e * module)
        if scheme in ("sp-pytorch", "mup"):
            # TP5 Table 3 (both SP and muP): hidden Var 1/fan_in at every width.
            close(f"{at} blocks.fc std = gain/sqrt(fan_in at this width)",
                  p["blocks.fc"]["init_std"], GAIN / math.sqrt(64 * mn))
rep, p = report(model(2, 1), "completep", None, 1, 1, init_std="0.05")
close("init-std as a number", p["blocks.fc"]["init_std"], 0.05 / math.sqrt(2))
checks += 1
if rep["base"]["init_std_rule"] != "fixed":
    failures.append(f"init-std as a number: rule {rep['base']['init_std_rule']}")

# unscaled-eps (microsoft/mup's MuAdam leaves eps alone): eps is the base
# value for every parameter at every width, depth, batch and duration.
rep, p = report(model(4, 2), "completedp", "1/2", 4, 30, rules="unscaled-eps=true")
for name in p:
    close(f"unscaled-eps {name}", p[name]["eps"], EPS)
checks += 1
if rep["base"]["eps_rule"] != "unscaled":
    failures.append(f"unscaled-eps: eps_rule {rep['base']['eps_rule']}")

for f in failures:
    print("FAIL:", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
