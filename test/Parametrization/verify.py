# RUN: %python %s %muir_tools %muir_src
#
# tp-verify-parametrization must be silent on what tp-parametrize writes:
# for every scheme x optimizer (and alpha = 1/2 where it is settable), on
# the role test model and on every example, the checks find nothing, exit
# 0 and leave the IR unchanged. A finding here means either a check or a
# rule in lib/Parametrization/Rules.cpp is wrong.
#
# One known disagreement is pinned below instead of hidden: see KNOWN.
import glob
import re
import subprocess
import sys

TOOLS, SRC = sys.argv[1], sys.argv[2]
OPT = f"{TOOLS}/muir-opt"
INPUTS = [f"{SRC}/test/Dialect/TP/Inputs/roles.mlir",
          f"{SRC}/test/Dialect/TP/Inputs/positions.mlir"] + sorted(
    glob.glob(f"{SRC}/examples/*.mlir"))
SCHEMES = ["sp", "sp-pytorch", "mup", "mup-table8", "mup-table9", "depth-mup", "completep",
           "completedp"]
OPTIMIZERS = ["sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamw",
              "adamw-decoupled", "lion", "adam-atan2"]
# The warmup paper's optimizers and options (docs/Optimizers.md), on the two
# role inputs only (they hold every role and placement; the suite's time).
WARMUP_OPTIMIZERS = ["adamw:bias-correction1=false", "lion:recipe", "lion-a", "lion-ar",
                     "lion-ar:angle=lr"]
DEPTH_SCHEMES = {"depth-mup", "completep", "completedp"}
EPS_OPTIMIZERS = {"adam", "adamw", "adamw-decoupled"}

# CompleteP Table 1 scales Adam eps only inside the residual blocks, and
# Rules.cpp (CHOICE 2) follows the table, so under completep and depth-mup
# the embeddings keep a constant eps, and so does the readout, whose Table 8
# multiplier 1/fan_in makes its gradient 1/fan_in. TP5 App. B.3 asks eps to
# track the gradient "for all parameters", and Complete^(d)P corrects the
# embedding eps to m_N^-1, so the check flags them. Drop this entry when the
# rule changes.
def known(scheme, optimizer, roles):
    # Empty since Rules.cpp scales the CompleteP embedding/readout eps with
    # their gradients (docs/Parametrization.md, choice 2).
    return set()


def expected_parametrize_failure(scheme, optimizer, text):
    if scheme in DEPTH_SCHEMES and optimizer.startswith("sgd"):
        return "has no SGD rules" in text
    # A tied readout under the Table 3 form (and its SP, whose readout init
    # is 1/fan_in but the embedding's is not) needs a second rule.
    if scheme in ("mup", "completedp", "sp-pytorch"):
        return "shares storage with" in text
    return False


def run(args, stdin=None):
    return subprocess.run([OPT] + args, input=stdin, capture_output=True,
                          text=True)


failures = []
runs = 0
for path in INPUTS:
    name = path.rsplit("/", 1)[-1]
    for scheme in SCHEMES:
        alphas = [None, "1/2"] if scheme in ("completep", "completedp") else [None]
        for optimizer in OPTIMIZERS + (WARMUP_OPTIMIZERS if "Inputs" in path else []):
            for alpha in alphas:
                opts = f"scheme={scheme} optimizer={optimizer}"
                if alpha:
                    opts += f" alpha={alpha}"
                where = f"{name} {opts}"
                p = run([path, f"--tp-parametrize={opts}"])
                if p.returncode != 0:
                    if not expected_parametrize_failure(scheme, optimizer,
                                                        p.stderr):
                        failures.append(f"{where}: tp-parametrize failed:\n"
                                        f"{p.stderr}")
                    continue
                roles = dict(re.findall(
                    r'tp.param "([^"]+)" [^{]*\{tp.role = #tp.role<(\w+)>',
                    p.stdout))
                want = known(scheme, optimizer, roles)
                # Also after tp-instantiate (tp.values), on the small inputs.
                extras = [[]]
                if name in ("roles.mlir", "mlp.mlir"):
                    extras.append(["--tp-instantiate"])
                for extra in extras:
                    runs += 1
                    v = run(["-", *extra, "--tp-verify-parametrization"],
                            p.stdout)
                    got = set(re.findall(r"warning: eps of '([^']+)' ", v.stderr))
                    others = [l for l in v.stderr.splitlines()
                              if re.search(r"(error|warning|remark):", l)
                              and not re.search(r"warning: eps of '", l)]
                    if v.returncode != 0 or others or got != want:
                        failures.append(f"{where} {' '.join(extra)}: expected "
                                        f"eps findings {sorted(want)}, got:\n"
                                        f"{v.stderr}")
                    if not extra and v.stdout != p.stdout:
                        failures.append(f"{where}: the IR changed")
                    if want and not extra:
                        s = run(["-", "--tp-verify-parametrization=strict=true"],
                                p.stdout)
                        if s.returncode == 0:
                            failures.append(f"{where}: strict did not fail")

for f in failures:
    print(f)
print(f"{runs} runs, {len(failures)} failures")
sys.exit(1 if failures or runs < 100 else 0)
