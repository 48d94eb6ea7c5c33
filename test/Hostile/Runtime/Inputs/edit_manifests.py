"""Writes broken copies of a package: DST/NAME/ holds SRC's library beside a
manifest.json edited as EDITS[NAME] says (a function of the parsed
manifest, or of its text for edits JSON cannot express)."""

import json
import os
import shutil
import sys

src, dst = sys.argv[1:3]
with open(os.path.join(src, "manifest.json"), "rb") as f:
    TEXT = f.read()


def params(m):
    return m["layout"]["params"]


def setter(f):
    def edit(m):
        f(m)
        return m
    return edit


def literal(m, text):
    """The manifest with layout.params[1].offset written as `text`, which
    json.dumps would not write."""
    params(m)[1]["offset"] = "@OFFSET@"
    return json.dumps(m).replace('"@OFFSET@"', text)


OTHER_HASH = "0" * 63 + "1"
EDITS = {
    # Fields the table repeats, each changed by hand.
    "offset": setter(lambda m: params(m)[1].update(offset=params(m)[1]["offset"] + 16)),
    "stride": setter(lambda m: params(m)[2].update(stride=params(m)[2]["stride"] + 16)),
    "numel": setter(lambda m: params(m)[0].update(numel=7)),
    "copies": setter(lambda m: params(m)[2].update(copies=3)),
    "shape": setter(lambda m: params(m)[0].update(shape=[784, 1024])),
    "name": setter(lambda m: params(m)[3].update(name="hidden.gain")),
    "tied": setter(lambda m: params(m)[5].update(tied_to="readout.weight")),
    "elements": setter(lambda m: m["layout"].update(buffer_elements=m["layout"]["buffer_elements"] + 64)),
    "alignment": setter(lambda m: m["layout"].update(alignment_bytes=128)),
    "states": setter(lambda m: m["layout"].update(num_states=1)),
    "model": setter(lambda m: m.update(model="gpt2")),
    "optimizer": setter(lambda m: m.update(optimizer="sgd")),
    "dropped": setter(lambda m: params(m).pop()),
    "swapped": setter(lambda m: params(m).reverse()),
    "abi-old": setter(lambda m: m.update(abi_version=1)),
    "abi-string": setter(lambda m: m.update(abi_version="2")),
    "abi-missing": setter(lambda m: m.pop("abi_version")),
    "hash-other": setter(lambda m: m.update(package_hash=OTHER_HASH)),
    "hash-upper": setter(lambda m: m.update(package_hash=m["package_hash"].upper())),
    "offset-huge": lambda m: literal(m, "99999999999999999999"),
    "offset-float": lambda m: literal(m, "%d.0" % params(m)[1]["offset"]),
    # Text that is not the strict JSON muirc writes.
    "empty": lambda t: b"",
    "cut": lambda t: t[: len(t) // 2],
    "latin1": lambda t: t.replace(b'"mlp"', b'"ml\xe9"', 1),
    "duplicate": lambda t: t.replace(b'"abi_version": 2', b'"abi_version": 2, "abi_version": 2', 1),
    "deep": lambda t: t.replace(b'"report": {', b'"deep": ' + b"[" * 100 + b"]" * 100 + b', "report": {', 1),
    "nan": lambda t: t.replace(b'"abi_version": 2', b'"abi_version": NaN', 1),
    "comma": lambda t: t.rstrip().rstrip(b"}") + b", }",
    "array": lambda t: b"[" + t + b"]",
    "bom": lambda t: b"\xef\xbb\xbf" + t,
    "surrogate": lambda t: t.replace(b'"mlp"', b'"\\ud800"', 1),
    "control": lambda t: t.replace(b'"mlp"', b'"m\x01lp"', 1),
}

for name, edit in EDITS.items():
    out = os.path.join(dst, name)
    os.makedirs(out)
    shutil.copy(os.path.join(src, "libmuir_kernels.so"), out)
    if edit.__code__.co_varnames[:1] == ("t",):
        data = edit(TEXT)
    else:
        data = edit(json.loads(TEXT))
        if not isinstance(data, str):
            data = json.dumps(data, indent=2)
        data = data.encode()
    with open(os.path.join(out, "manifest.json"), "wb") as f:
        f.write(data)
# Not a file.
for name in ("manifest-dir", "manifest-fifo"):
    out = os.path.join(dst, name)
    os.makedirs(out)
    shutil.copy(os.path.join(src, "libmuir_kernels.so"), out)
os.mkdir(os.path.join(dst, "manifest-dir", "manifest.json"))
os.mkfifo(os.path.join(dst, "manifest-fifo", "manifest.json"))
