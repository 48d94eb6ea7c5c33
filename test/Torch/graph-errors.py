# muirc import --torch reads the torch graph strictly: every field of a file
# a user (or a bug) may have edited is checked, and an error names the place
# in the JSON. A valid graph of Inputs/models.py's MLP is mutated one field
# at a time.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: valid: ok
# CHECK-NEXT: format: {{.*}}graph.json:1:{{[0-9]+}}: $.format: expected "muir-torch-graph", got "other"
# CHECK-NEXT: version: {{.*}}: $.version: this muirc reads version 1, the file has version 2; trace the model again with the muir.torch beside this muirc
# CHECK-NEXT: unknown key: {{.*}}: $.extra: unknown key
# CHECK-NEXT: no base: {{.*}}: $.base: missing trace
# CHECK-NEXT: tensor out of range: {{.*}}: $.target.calls[4].args[0].tensor: expected a tensor index
# CHECK-NEXT: used before computed: {{.*}}: $.target.calls[2].args[0].tensor: tensor 5 is used before the call that computes it
# CHECK-NEXT: computed twice: {{.*}}: $.target.calls[4]: tensor 0 is computed twice, by calls 0 and 4
# CHECK-NEXT: huge size: {{.*}}: $.target.tensors[0]: every size must be an integer in [1, 2^40]
# CHECK-NEXT: bad kind: {{.*}}: $.target.calls[4]: kind must be opaque, elementwise or reshape
# CHECK-NEXT: bad pseudo: {{.*}}: $.target.calls[0]: a call without an ordinal brings a value in: op must be input, param, buffer or constant, got 'system'
# CHECK-NEXT: loss not scalar: {{.*}}models.py:[[#]]: in module 'fc1', call 'linear': computes the loss, which must be a scalar computed at model level
# CHECK-NEXT: unknown dtype: {{.*}}: in module '<model>', input 'x': has a result of type 'float8', which muir does not know
# CHECK-NEXT: truncated: {{.*}}graph.json:1:{{[0-9]+}}: invalid JSON: Unexpected EOF
# CHECK-NEXT: not a file: {{.*}}nonexistent.json: cannot read torch graph{{.*}}

import copy
import json
import os
import subprocess
import sys

import torch

import muir.torch as mt
from models import MLP

TMP = sys.argv[1]
MUIRC = os.environ["MUIRC"]
torch.manual_seed(0)
x, y = torch.randn(4, 6), torch.randint(0, 3, (4,))
valid = mt.export_graph(MLP(6, 16, 3), MLP(6, 8, 3), (x, y), name="mlp")
calls = valid["target"]["calls"]
assert [c["op"] for c in calls[:5]] == ["input", "input", "param", "param",
                                        "linear"], [c["op"] for c in calls]


def run(title, doc=None, text=None, path=None):
    if path is None:
        path = os.path.join(TMP, "graph.json")
        with open(path, "w") as f:
            f.write(text if text is not None else json.dumps(doc))
    done = subprocess.run([MUIRC, "import", "--torch", path, "-o",
                           os.path.join(TMP, "out.mlir")],
                          capture_output=True, text=True, timeout=120)
    message = done.stderr.strip().replace("muirc: ", "", 1)
    print("%s: %s" % (title, "ok" if done.returncode == 0 else message))
    assert (done.returncode == 0) == (title == "valid"), title


def mutated(change):
    doc = copy.deepcopy(valid)
    change(doc)
    return doc


run("valid", valid)
run("format", mutated(lambda d: d.update(format="other")))
run("version", mutated(lambda d: d.update(version=2)))
run("unknown key", mutated(lambda d: d.update(extra=1)))
run("no base", mutated(lambda d: d.pop("base")))
run("tensor out of range", mutated(
    lambda d: d["target"]["calls"][4]["args"][0].update(tensor=10 ** 6)))
run("used before computed", mutated(
    lambda d: d["target"]["calls"][2]["args"].append({"tensor": 5})))
run("computed twice", mutated(
    lambda d: d["target"]["calls"][4].update(results=[0])))
run("huge size", mutated(
    lambda d: d["target"]["tensors"][0].update(shape=[2 ** 41])))
run("bad kind", mutated(lambda d: d["target"]["calls"][4].update(kind="x")))
run("bad pseudo", mutated(lambda d: d["target"]["calls"][0].update(op="system")))
run("loss not scalar", mutated(
    lambda d: d["target"].update(loss=d["target"]["calls"][4]["results"][0])))
run("unknown dtype", mutated(
    lambda d: [d[w]["tensors"][0].update(dtype="float8")
               for w in ("target", "base")]))
# Cut right after the first '[' of the target's calls: outside any string,
# whatever the source paths recorded in the graph (they vary by checkout).
TEXT = json.dumps(valid)
run("truncated", text=TEXT[:TEXT.index('"calls": [') + len('"calls": [')])
run("not a file", path=os.path.join(TMP, "nonexistent.json"))
