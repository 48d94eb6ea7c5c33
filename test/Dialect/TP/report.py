# RUN: %python %s %muir_tools %muir_src
#
# The four report formats carry the same data: JSON has the documented
# schema, CSV and markdown have one row per parameter with the JSON's values,
# and the table groups rows by module.
import csv
import io
import json
import subprocess
import sys

TOOLS, SRC = sys.argv[1], sys.argv[2]
failures, checks = [], 0


def check(what, ok):
    global checks
    checks += 1
    if not ok:
        failures.append(what)


def report(example, scheme, fmt):
    return subprocess.run(
        [f"{TOOLS}/muir-opt", f"{SRC}/examples/{example}.mlir",
         f"--tp-parametrize=scheme={scheme}",
         "--tp-instantiate=lr=3e-3 init-std=0.02 weight-decay=0.1 eps=1e-8 "
         "beta1=0.9 beta2=0.95 batch=1024 base-batch=256 tokens=3e10 base-tokens=1e9",
         f"--tp-print-report=format={fmt}", "-o", "/dev/null"],
        capture_output=True, text=True, check=True).stdout


QUANTITIES = ["init_std", "multiplier", "lr", "weight_decay", "eps", "beta1", "beta2"]
for example, scheme in (("gpt2", "completep"), ("llama", "completedp"), ("mlp", "mup")):
    doc = json.loads(report(example, scheme, "json"))
    for key in ("scheme", "optimizer", "alpha", "ratios", "base", "steps_multiplier",
                "forward", "params"):
        check(f"{example}: json key {key}", key in doc)
    check(f"{example}: ratios keys", set(doc["ratios"]) == {"width", "depth", "batch", "duration"})
    check(f"{example}: base keys",
          set(doc["base"]) == {"lr", "init_std", "init_std_rule", "weight_decay", "eps",
                               "eps_rule", "beta1", "beta2"})
    # Each forward multiplier once (issue 8): weights in params[], residual
    # branches and attention scales in forward, with where each applies.
    check(f"{example}: forward keys",
          set(doc["forward"]) == {"applies", "residuals", "attention"})
    check(f"{example}: forward applies",
          set(doc["forward"]["applies"]) == {"weights", "residuals", "attention"})
    for r in doc["forward"]["residuals"]:
        check(f"{example}: residual keys",
              set(r) == {"name", "depth", "index_in_block", "copies", "multiplier",
                         "exponents"})
    for a in doc["forward"]["attention"]:
        check(f"{example}: attention keys",
              set(a) == {"name", "head_dim", "head_dim_size", "rule", "scale"})
    check(f"{example}: scheme", doc["scheme"] == scheme)
    for p in doc["params"]:
        for key in ["name", "module", "role", "shape", "base_shape", "init", "exponents"] + QUANTITIES:
            check(f"{example}: {p.get('name')} has {key}", key in p)
        for q, e in p["exponents"].items():
            check(f"{example}: {p['name']} exponents of {q}",
                  set(e) == {"width", "depth", "batch", "duration"})

    rows = list(csv.DictReader(io.StringIO(report(example, scheme, "csv"))))
    check(f"{example}: csv has one row per parameter", len(rows) == len(doc["params"]))
    for row, p in zip(rows, doc["params"]):
        check(f"{example}: csv name {row['name']}", row["name"] == p["name"])
        for q in QUANTITIES:
            v = p[q]
            if v is None:
                check(f"{example}: csv {p['name']} {q} empty", row[q] == "")
                continue
            values = v if isinstance(v, list) else [v]
            got = [float(x) for x in row[q].split(";")]
            check(f"{example}: csv {p['name']} {q} = json", got == values)
            # Each value in the shortest text that reads back exactly:
            # Python's repr (David Gay's shortest), without its ".0".
            shortest = ";".join(repr(float(v)).removesuffix(".0") for v in values)
            check(f"{example}: csv {p['name']} {q} is {shortest}",
                  row[q] == shortest)

    md = report(example, scheme, "markdown")
    body = [l for l in md.splitlines() if l.startswith("| ") and "---" not in l]
    check(f"{example}: markdown has a header and one row per parameter",
          len(body) == len(doc["params"]) + 1)

    table = report(example, scheme, "table").splitlines()
    check(f"{example}: table header", table[0].startswith(f"model @{example}: scheme {scheme}"))
    modules = {p["module"] for p in doc["params"] if p["module"]}
    for m in modules:
        check(f"{example}: table groups module {m}", m in table)

for f in failures:
    print("FAIL:", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
