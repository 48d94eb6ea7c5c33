"""What the CPU integration tests share: a check counter, the shipped
examples with their dims shrunk (same structure and roles, small sizes), and
ctypes pointers to numpy arrays."""
import ctypes
import os
import re
import shutil
import sys


def start():
    """The lit arguments (tools dir, source root, %t) of a test that runs
    the Python binding: %t emptied (packages of an earlier run), python/ on
    the path and the built runtime library chosen. Returns the three."""
    tools, src, tmp = sys.argv[1:4]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    sys.path.insert(0, os.path.join(src, "python"))
    os.environ.setdefault("MUIR_RUNTIME_LIB", os.path.join(
        os.path.dirname(tools), "lib", "libmuir_runtime.so"))
    return tools, src, tmp


class Checks:
    """Counts checks and keeps the failed ones; `finish()` prints them and
    the summary line and exits with the verdict."""

    def __init__(self):
        self.count, self.failures = 0, []

    def __call__(self, what, ok):
        self.count += 1
        if not ok:
            self.failures.append(what)

    def finish(self):
        for f in self.failures:
            print("FAIL:", f)
        print(f"{self.count - len(self.failures)} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


# GPT-2 and Llama shrunk to sizes whose tensors are not multiples of 4
# elements (the kernels' scalar tails) and span several chunks (dims for
# shrink()).
GPT2_DIMS = {"seq": "fixed<16>", "vocab": "fixed<97>", "d_head": "fixed<8>",
             "d_model": "width<base 18, size 54>", "n_head": "width<base 2, size 6>",
             "d_ff": "width<base 64, size 192>", "layers": "depth<base 2, size 3>"}
LLAMA_DIMS = {"seq": "fixed<16>", "vocab": "fixed<81>", "d_head": "fixed<8>",
              "d_model": "width<base 22, size 66>", "n_head": "width<base 2, size 8>",
              "n_kv_head": "width<base 1, size 4>", "d_ff": "width<base 40, size 160>",
              "layers": "depth<base 1, size 3>"}


def shrink(src, tmp, example, dims, inits=None):
    """examples/<example>.mlir with the `tp.dim`s of `dims` redeclared and
    the init of the parameters in `inits` replaced; returns the new path."""
    text = open(f"{src}/examples/{example}.mlir").read()
    for name, decl in dims.items():
        text, n = re.subn(rf"tp.dim @{name} = [a-z]+<[^>]*>", f"tp.dim @{name} = {decl}", text)
        assert n == 1, name
    for name, init in (inits or {}).items():
        text, n = re.subn(rf'tp.param "{name}" [a-z_]+', f'tp.param "{name}" {init}', text)
        assert n == 1, name
    path = f"{tmp}/{example}-tiny.mlir"
    open(path, "w").write(text)
    return path


def ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)
