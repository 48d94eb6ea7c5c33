# RUN: %python %s %muir_tools
#
# Checks the exponents tp-parametrize attaches against the published tables,
# transcribed here row by row from the papers (shared/reference/
# parametrisation-rules.md; the table images are in shared/reference/tables/).
# Each entry cites its table and row. Exponents are of the parameter's own
# width ratio N = m_N, the depth ratio L, batch ratio B and duration ratio D.
import re
import subprocess
import sys
from fractions import Fraction as F

TOOLS = sys.argv[1]
INPUTS = __file__.rsplit("/", 1)[0] + "/../Dialect/TP/Inputs"
INPUT = f"{INPUTS}/roles.mlir"

PARAM_ROLE = {
    "emb": "embedding", "blocks.norm": "norm", "blocks.q": "hidden",
    "blocks.qk_norm": "qk_norm", "blocks.o": "hidden", "blocks.fc": "hidden",
    "blocks.fc_bias": "hidden_bias", "blocks.proj": "hidden",
    "final_norm": "final_norm", "head": "unembedding", "temperature": "scalar",
}


def run(scheme, optimizer="adamw", alpha=None, path=INPUT):
    opts = f"scheme={scheme} optimizer={optimizer}"
    if alpha:
        opts += f" alpha={alpha}"
    out = subprocess.run([f"{TOOLS}/muir-opt", path,
                          f"--tp-parametrize={opts}"],
                         capture_output=True, text=True, check=True).stdout
    params = {}
    for m in re.finditer(r'tp.param "([^"]+)" \w+ \{tp.role = #tp.role<(\w+)>, '
                         r'tp.scaling = #tp.scaling<(.*?)>\}', out):
        scale = {}
        for key, body in re.findall(r'(\w+) = <([^>]*)>', m.group(3)):
            exps = {"N": F(0), "L": F(0), "B": F(0), "D": F(0)}
            if body != "1":
                for axis, e in re.findall(r'(\w) = (-?\d+(?:/\d+)?)', body):
                    exps[axis] = F(e)
            scale[key] = exps
        params[m.group(1)] = (m.group(2), scale)
    residual = re.findall(r'tp.residual .*multiplier = <([^>]*)>', out)
    return params, residual, out


failures = []
checks = 0


def expect(where, param, quantity, N=0, L=0, B=0, D=0):
    global checks
    checks += 1
    role, scale = params[param]
    got = scale.get(quantity)
    want = {"N": F(N), "L": F(L), "B": F(B), "D": F(D)}
    if got != want:
        failures.append(f"{where}: {param} ({role}) {quantity}: want {want}, got {got}")


def by_role(role):
    return [p for p, r in PARAM_ROLE.items() if r == role]


# Roles are derived from dims and uses, never from names.
params, _, _ = run("mup")
for p, role in PARAM_ROLE.items():
    checks += 1
    if params[p][0] != role:
        failures.append(f"role of {p}: want {role}, got {params[p][0]}")

# ---- TP5 Table 3 (muP, general networks), Adam column --------------------
# Input weights & all biases: Init Var 1/fan_in (fan_in finite) -> std N^0,
# Adam LR 1. Hidden: Var 1/fan_in -> std N^-1/2, Adam LR 1/fan_in. Output:
# Var 1/fan_in^2 -> std N^-1, Adam LR 1/fan_in. No multipliers.
W = "TP5 Table 3"
for p in by_role("embedding") + by_role("hidden_bias") + by_role("norm") + by_role("final_norm"):
    expect(f"{W} row 'Init. Var.' input/biases", p, "init_std", N=0)
    expect(f"{W} row 'Adam LR' input/biases", p, "lr", N=0)
    expect(f"{W} (no multipliers)", p, "multiplier")
for p in by_role("hidden"):
    expect(f"{W} row 'Init. Var.' hidden", p, "init_std", N=F(-1, 2))
    expect(f"{W} row 'Adam LR' hidden", p, "lr", N=-1)
    # microsoft/mup MuAdamW: weight_decay *= width_mult (lr*wd invariant).
    expect("mup optim.py MuAdam coupled wd", p, "weight_decay", N=1)
for p in by_role("unembedding"):
    expect(f"{W} row 'Init. Var.' output", p, "init_std", N=-1)
    expect(f"{W} row 'Adam LR' output", p, "lr", N=-1)
    expect(f"{W} (no multipliers)", p, "multiplier")
    # Complete(d)P Table 1 muP column: 'Unemb. weights' WD x m_N.
    expect("CDP Table 1 muP 'Weight decay / Unemb. weights'", p, "weight_decay", N=1)
# Complete(d)P Table 1, muP column, AdamW eps rows.
for p in by_role("hidden") + by_role("hidden_bias") + by_role("norm"):
    expect("CDP Table 1 muP 'AdamW eps / Hidden weights/biases/norms'", p, "eps", N=-1)
for p in by_role("embedding"):
    expect("CDP Table 1 muP 'AdamW eps / Input emb.'", p, "eps", N=-1)
for p in by_role("unembedding") + by_role("final_norm"):
    expect("CDP Table 1 muP 'AdamW eps / Output weights/biases/norms'", p, "eps", N=0)

# SGD column of Table 3: input/biases LR fan_out, hidden 1, output 1/fan_in.
params, _, _ = run("mup", "sgd")
for p in by_role("embedding") + by_role("hidden_bias") + by_role("norm"):
    expect(f"{W} row 'SGD LR' input/biases", p, "lr", N=1)
for p in by_role("hidden"):
    expect(f"{W} row 'SGD LR' hidden", p, "lr", N=0)
for p in by_role("unembedding"):
    expect(f"{W} row 'SGD LR' output", p, "lr", N=-1)
    checks += 1
    if "eps" in params[p][1]:
        failures.append("SGD has no eps")

# ---- TP5 Table 8 (microsoft/mup form) -----------------------------------
W = "TP5 Table 8"
params, _, _ = run("mup-table8")
for p in by_role("unembedding"):
    expect(f"{W} row 'Init. Var.' output (1)", p, "init_std", N=0)
    expect(f"{W} row 'Multiplier' output (1/fan_in)", p, "multiplier", N=-1)
    expect(f"{W} row 'Adam LR' output (1)", p, "lr", N=0)
for p in by_role("hidden"):
    expect(f"{W} row 'Init. Var.' hidden", p, "init_std", N=F(-1, 2))
    expect(f"{W} row 'Adam LR' hidden", p, "lr", N=-1)
for p in by_role("embedding"):
    expect(f"{W} row 'Adam LR' input", p, "lr", N=0)
    expect(f"{W} row 'Multiplier' input", p, "multiplier", N=0)
params, _, _ = run("mup-table8", "sgd")
for p in by_role("unembedding"):
    expect(f"{W} row 'SGD LR' output (fan_in)", p, "lr", N=1)
for p in by_role("embedding"):
    expect(f"{W} row 'SGD LR' input (fan_out)", p, "lr", N=1)

# ---- TP5 Table 9 (TP4 style) ---------------------------------------------
W = "TP5 Table 9"
params, _, _ = run("mup-table9")
for p in by_role("embedding") + by_role("norm") + by_role("hidden_bias"):
    expect(f"{W} row 'Init. Var.' input (1/fan_out)", p, "init_std", N=F(-1, 2))
    expect(f"{W} row 'Multiplier' input (sqrt fan_out)", p, "multiplier", N=F(1, 2))
    expect(f"{W} row 'Adam LR' input (1/sqrt fan_out)", p, "lr", N=F(-1, 2))
for p in by_role("unembedding"):
    expect(f"{W} row 'Init. Var.' output (1/fan_in)", p, "init_std", N=F(-1, 2))
    expect(f"{W} row 'Multiplier' output (1/sqrt fan_in)", p, "multiplier", N=F(-1, 2))
    expect(f"{W} row 'Adam LR' output (1/sqrt fan_in)", p, "lr", N=F(-1, 2))
params, _, _ = run("mup-table9", "sgd")
for p in PARAM_ROLE:
    expect(f"{W} row 'SGD LR' (1 everywhere)", p, "lr", N=0)

# ---- Lemma J.1: the three forms differ by (A theta, B/theta, C/theta) -----
# for Adam (C/theta^2 for SGD), with theta = N^k per role.
for opt, lr_power in (("adam", 1), ("sgd", 2)):
    forms = {s: run(s, opt)[0] for s in ("mup", "mup-table8", "mup-table9")}
    for p in PARAM_ROLE:
        base = forms["mup"][p][1]
        for s in ("mup-table8", "mup-table9"):
            other = forms[s][p][1]
            k = other["multiplier"]["N"] - base["multiplier"]["N"]
            checks += 1
            if (other["init_std"]["N"] - base["init_std"]["N"] != -k or
                    other["lr"]["N"] - base["lr"]["N"] != -lr_power * k):
                failures.append(f"Lemma J.1 ({opt}): {s} vs Table 3 for {p}: "
                                f"multiplier shift {k} not matched by init/lr")

# ---- CompleteP Table 1 (alpha = 1) and Depth-muP (alpha = 1/2) -----------
for scheme, alpha in (("completep", F(1)), ("depth-mup", F(1, 2)),
                      ("completep", F(3, 4))):
    W = f"CompleteP Table 1 (alpha={alpha})"
    params, residual, _ = run(scheme, "adamw", None if scheme == "depth-mup" else str(alpha))
    for p in by_role("hidden"):
        expect(f"{W} 'Hidden Init. Var.' s^2 m_N^-1", p, "init_std", N=F(-1, 2))
        expect(f"{W} 'Hidden LR' m_N^-1 m_L^(a-1)", p, "lr", N=-1, L=alpha - 1)
        expect(f"{W} 'Hidden WD' m_N", p, "weight_decay", N=1)
        expect(f"{W} 'AdamW eps (residual blocks)'", p, "eps", N=-1, L=-alpha)
    for p in by_role("norm"):
        expect(f"{W} 'Pre-LN LR' m_L^(a-1)", p, "lr", L=alpha - 1)
        expect(f"{W} 'Pre-LN Init. Var.'", p, "init_std")
    for p in by_role("hidden_bias"):
        expect(f"{W} 'Hidden Bias LR' m_L^(a-1)", p, "lr", L=alpha - 1)
    for p in by_role("embedding") + by_role("unembedding"):
        # Complete(d)P's correction of CompleteP's input-embedding eps (x1 ->
        # x m_N^-1), extended to the Table 8 readout whose gradient also
        # shrinks like 1/width (docs/Parametrization.md, choice 2).
        expect("CDP Table 1 gray 'AdamW eps / Input emb.' correction", p, "eps", N=-1)
    for p in by_role("embedding"):
        expect(f"{W} 'Embed LR'", p, "lr")
        expect(f"{W} 'Embed Init. Var.'", p, "init_std")
    for p in by_role("final_norm"):
        expect(f"{W} 'Final-LN Init. Var. / LR'", p, "lr")
    for p in by_role("unembedding"):
        expect(f"{W} 'Unembed Fwd' m_N^-1", p, "multiplier", N=-1)
        expect(f"{W} 'Unembed Init. Var. / LR'", p, "lr")
        expect(f"{W} 'Unembed Init. Var. / LR'", p, "init_std")
    checks += 1
    want = f"L = {-alpha.numerator}/{alpha.denominator}" if alpha.denominator != 1 else f"L = {-alpha.numerator}"
    if not residual or any(r != want for r in residual):
        failures.append(f"{W} 'MHA/MLP Residual' m_L^-a: got {residual}")

# ---- Complete(d)P Table 1 (alpha = 1/2), with the SDE column -------------
W = "Complete(d)P Table 1"
params, residual, out = run("completedp", "adamw", "1/2")
S = dict(B=F(1, 2), D=F(-1, 2))
invS = dict(B=F(-1, 2), D=F(1, 2))
for p in by_role("embedding"):
    expect(f"{W} 'LR / Input emb.' x1 x sqrt(m_B/m_D)", p, "lr", **S)
    expect(f"{W} 'AdamW eps / Input emb.' m_N^-1 x sqrt(m_D/m_B)", p, "eps", N=-1, **invS)
    expect(f"{W} 'Weight decay / Rest'", p, "weight_decay", **S)
for p in by_role("hidden"):
    expect(f"{W} 'Init var / Hidden weights' m_N^-1", p, "init_std", N=F(-1, 2))
    expect(f"{W} 'LR / Hidden weights' m_N^-1 m_L^(a-1) S", p, "lr", N=-1, L=F(-1, 2), **S)
    expect(f"{W} 'AdamW eps / Hidden weights' m_N^-1 m_L^-a / S", p, "eps", N=-1, L=F(-1, 2), **invS)
    expect(f"{W} 'Weight decay / Hidden weights' m_N S", p, "weight_decay", N=1, **S)
    expect(f"{W} '(1-beta1)' m_B/m_D", p, "beta1", B=1, D=-1)
    expect(f"{W} '(1-beta2)' m_B/m_D", p, "beta2", B=1, D=-1)
for p in by_role("hidden_bias") + by_role("norm"):
    expect(f"{W} 'LR / Hidden biases/norm' m_L^(a-1) S", p, "lr", L=F(-1, 2), **S)
    expect(f"{W} 'AdamW eps / Hidden weights/biases/norms'", p, "eps", N=-1, L=F(-1, 2), **invS)
for p in by_role("qk_norm"):
    expect(f"{W} 'AdamW eps / QK norms' m_L^-a / S", p, "eps", L=F(-1, 2), **invS)
for p in by_role("final_norm"):
    expect(f"{W} 'LR / Unemb. LN' x1 S", p, "lr", **S)
    expect(f"{W} 'AdamW eps / Output norms' x1 / S", p, "eps", **invS)
for p in by_role("unembedding"):
    expect(f"{W} 'Init var / Unemb. weights' m_N^-2", p, "init_std", N=-1)
    expect(f"{W} 'LR / Unemb. weights' m_N^-1 S", p, "lr", N=-1, **S)
    expect(f"{W} 'Weight decay / Unemb. weights' m_N S", p, "weight_decay", N=1, **S)
    expect(f"{W} 'Unemb. fwd' unaugmented", p, "multiplier")
checks += 1
if "steps = <B = -1, D = 1>" not in out:
    failures.append(f"{W} 'Steps' T proportional to m_D/m_B missing")

# ---- Depth by position: CompleteP Table 1 and Complete(d)P Table 1 -------
# Inputs/positions.mlir has parameters of the same roles before, in and
# after the residual blocks. The tables' depth factors are stated for the
# residual blocks: 'Pre-LN LR' is the LN of X^l + MHA(LN(X^l)), 'Hidden'
# "refers to all linear layers in the transformer backbone", ε is "(residual
# blocks)". Everything else keeps its base value at every depth: 'Embed
# Init. Var. / LR', 'Final-LN Init. Var. / LR', 'Unembed Init. Var. / LR'
# (CompleteP); 'Input Emb.', 'Unemb. LN', 'Unemb. weights' rows
# (Complete(d)P). No table has a depth factor on init or weight decay
# ('Hidden Init. Var.' and 'Hidden WD' are m_N only), nor on a multiplier.
# Width exponents (N) are the table's column for the role (TP5 Tables 3 and
# 8, cited above); the readout differs between the Table 8 form (CompleteP:
# 'Unembed Fwd' m_N^-1) and the Table 3 form (Complete(d)P: 'Unemb.
# weights' Init var m_N^-2, LR m_N^-1, fwd unaugmented).
POSITIONS = f"{INPUTS}/positions.mlir"
# name: (role, where, row cited, {quantity: N exponent} for the Table 8
# form, overrides for the Table 3 form).
BEFORE, IN, AFTER = "before the blocks", "in the blocks", "after the blocks"
VEC = dict(init_std=0, multiplier=0, lr=0, weight_decay=0, eps=-1)
HID = dict(init_std=F(-1, 2), multiplier=0, lr=-1, weight_decay=1, eps=-1)
POSITION_ROWS = {
    "in.weight": ("embedding", BEFORE, "'Embed Init. Var. / LR' (an input layer)", VEC, {}),
    "in.bias": ("hidden_bias", BEFORE, "'Embed LR': the input layer's bias is not in the backbone", VEC, {}),
    "emb": ("embedding", BEFORE, "'Embed Init. Var. / LR'", VEC, {}),
    "pre_norm.weight": ("norm", BEFORE, "'Pre-LN' rows are the blocks' LN(X^l); a norm before them is not", VEC, {}),
    "pre_norm.bias": ("norm", BEFORE, "'Pre-LN' rows are the blocks' LN(X^l); a norm before them is not", VEC, {}),
    "stem.weight": ("hidden", BEFORE, "'Hidden' is the backbone's linears; a stem before it has the width rule only", HID, {}),
    "stem.bias": ("hidden_bias", BEFORE, "'Hidden Bias LR' is the backbone's; a stem bias has none", VEC, {}),
    "blocks.norm.weight": ("norm", IN, "'Pre-LN LR' m_L^(a-1), 'AdamW eps (residual blocks)'", VEC, {}),
    "blocks.norm.bias": ("norm", IN, "'Pre-LN LR' m_L^(a-1), 'AdamW eps (residual blocks)'", VEC, {}),
    "blocks.fc.weight": ("hidden", IN, "'Hidden LR' m_N^-1 m_L^(a-1), 'AdamW eps (residual blocks)'", HID, {}),
    "blocks.fc.bias": ("hidden_bias", IN, "'Hidden Bias LR' m_L^(a-1), 'AdamW eps (residual blocks)'", VEC, {}),
    "final_norm.weight": ("final_norm", AFTER, "'Final-LN Init. Var. / LR'; CDP 'eps / Output norms' x1", dict(VEC, eps=0), {}),
    "final_norm.bias": ("final_norm", AFTER, "'Final-LN Init. Var. / LR'; CDP 'eps / Output norms' x1", dict(VEC, eps=0), {}),
    "pool.weight": ("hidden", AFTER, "'Hidden' is the backbone's linears; a pooler after it has the width rule only", HID, {}),
    "pool.bias": ("hidden_bias", AFTER, "'Hidden Bias LR' is the backbone's; a pooler bias has none", VEC, {}),
    "head.weight": ("unembedding", AFTER, "'Unembed Init. Var. / LR', 'Unembed Fwd' m_N^-1; CDP 'Unemb. weights'",
                    dict(init_std=0, multiplier=-1, lr=0, weight_decay=0, eps=-1),
                    dict(init_std=-1, multiplier=0, lr=-1, weight_decay=1, eps=0)),
    "head.bias": ("scalar", AFTER, "TP5 B.2 scalar-like (fixed width); CDP 'eps / Output biases' x1",
                  dict(VEC, eps=0), {}),
}
for scheme, alpha in (("depth-mup", F(1, 2)), ("completep", F(1)), ("completep", F(3, 4)),
                      ("completedp", F(1)), ("completedp", F(1, 2))):
    table = "Complete(d)P Table 1" if scheme == "completedp" else "CompleteP Table 1"
    params, _, out = run(scheme, "adamw", None if scheme == "depth-mup" else str(alpha),
                         path=POSITIONS)
    sde = scheme == "completedp"
    for name, (role, where, row, table8, table3) in POSITION_ROWS.items():
        checks += 1
        if params[name][0] != role:
            failures.append(f"role of {name} ({where}): want {role}, got {params[name][0]}")
        width = dict(table8, **table3) if sde else table8
        inside = where == IN
        for q, n in width.items():
            depth = 0
            if inside and q == "lr":
                depth = alpha - 1
            if inside and q == "eps":
                depth = -alpha
            b = d = 0
            if sde and q in ("lr", "weight_decay"):
                b, d = F(1, 2), F(-1, 2)
            if sde and q == "eps":
                b, d = F(-1, 2), F(1, 2)
            if role == "scalar" and q != "eps":
                n = 0
            expect(f"{table} (alpha={alpha}, {where}) {row}", name, q, N=n, L=depth, B=b, D=d)

# ---- SP (CompleteP's SP column: every quantity fixed) --------------------
params, residual, _ = run("sp")
for p in PARAM_ROLE:
    for q in ("init_std", "lr", "multiplier", "weight_decay", "eps"):
        expect("CompleteP Table 1 'SP' column", p, q)

# ---- TP5 Table 3's SP (the gray entries): `sp-pytorch` --------------------
# PyTorch's default, the SP of TP5 (not CompleteP's, which is `sp`):
#   Init. Var.  input weights & all biases 1/fan_in, output 1/fan_in,
#               hidden 1/fan_in
#   SGD LR      1 / 1 / 1        Adam LR  1 / 1 / 1
# and no multipliers. In exponents of the parameter's width ratio: an input
# weight's fan_in is finite and a bias's is 1 (Table 3 caption), so their
# std is N^0; hidden and output weights have fan_in = the width, so std
# N^-1/2. Weight decay is width-independent with the LR (TP5 B.3), eps
# unscaled, attention logits 1/sqrt(d_head) (Def. 4.1 is muP's change).
SP_TORCH_STD = {"embedding": 0, "hidden_bias": 0, "norm": 0, "final_norm": 0,
                "qk_norm": 0, "scalar": 0, "hidden": F(-1, 2), "unembedding": F(-1, 2)}
for optimizer in ("adamw", "sgd", "adam"):
    params, residual, out = run("sp-pytorch", optimizer)
    W = f"TP5 Table 3 SP (gray), {optimizer}"
    for p, role in PARAM_ROLE.items():
        expect(f"{W} 'Init. Var.' 1/fan_in ({role})", p, "init_std", N=SP_TORCH_STD[role])
        expect(f"{W} '{'SGD' if optimizer == 'sgd' else 'Adam'} LR' 1", p, "lr")
        expect(f"{W} (no multipliers)", p, "multiplier")
        expect(f"{W} WD independent of width (B.3)", p, "weight_decay")
        if optimizer != "sgd":
            expect(f"{W} eps unscaled", p, "eps")
    checks += 1
    if "scale inv_sqrt_head_dim" not in out or "inv_head_dim" in out.replace("inv_sqrt_head_dim", ""):
        failures.append(f"{W}: attention logits must be 1/sqrt(d_head)")
    checks += 1
    if residual and any(r != "1" for r in residual):
        failures.append(f"{W}: residual branches must be x1, got {residual}")

# ---- unscaled-eps: microsoft/mup's MuAdam leaves eps alone -----------------
# (mup/optim.py scales lr and weight decay, never eps.) Every other quantity
# keeps the scheme's rule.
for scheme in ("mup-table8", "completep", "completedp"):
    ref, _, _ = run(scheme)
    params, _, out = run(f"{scheme} unscaled-eps=true")
    for p in PARAM_ROLE:
        expect(f"microsoft/mup MuAdam: eps not scaled ({scheme})", p, "eps")
        for q in ("init_std", "multiplier", "lr", "weight_decay"):
            checks += 1
            if params[p][1][q] != ref[p][1][q]:
                failures.append(f"unscaled-eps changed {q} of {p} under {scheme}")
    checks += 1
    if "unscaled_eps" not in out:
        failures.append(f"unscaled-eps is not recorded in tp.parametrization ({scheme})")

# ---- The warmup paper's optimizers (docs/Parametrization.md) ----------------
# AdamW without the beta1 correction takes AdamW's rows; LionA and Lion with
# the momentum recipe take Lion's (the Adam column, CHOICE 5), the recipe with
# one beta (beta1, scaled as 1 - beta under the SDE rules) and no beta2.
# LionAR's vectors take Lion's rows; its matrices rotate by
# theta = lr / init_std per step, which REQ's equilibrium sqrt(2 lr wd) turns
# into wd = lr / init_std^2 (angle=lr: the lr row is theta, wd Lion's).
def sub(a, b, k=1):
    return {axis: a[axis] - k * b[axis] for axis in a}


MATRIX = ("embedding", "hidden", "unembedding")
for scheme, alpha in (("mup", None), ("mup-table8", None), ("completep", "1"),
                      ("completep", "3/4"), ("completedp", "1")):
    for same, base in (("adamw:bias-correction1=false", "adamw"), ("lion-a", "lion"),
                       ("lion:recipe", "lion"), ("lion-ar:recipe", "lion"),
                       ("lion-ar", "lion"), ("lion-ar:angle=lr", "lion")):
        ref, _, _ = run(scheme, base, alpha)
        params, _, _ = run(scheme, same, alpha)
        where = f"{same} under {scheme} (alpha {alpha})"
        for p, role in PARAM_ROLE.items():
            want = dict(ref[p][1])
            if same.endswith("recipe"):
                want.pop("beta2")
            if same.startswith("lion-ar") and role in MATRIX:
                if same.endswith("angle=lr"):
                    want["lr"] = sub(want["lr"], want["init_std"])
                else:
                    want["weight_decay"] = sub(want["lr"], want["init_std"], 2)
            got = {q: e for q, e in params[p][1].items()}
            checks += 1
            if got != want:
                failures.append(f"{where}: {p} ({role}): want {want}, got {got}")

for f in failures:
    print("FAIL:", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
