# Parameter and model names reach C only escaped (in strings and comments) or
# as macro names, which must be unique: for every hostile name the package
# builds, its header and table compile as C11 and C++ with -Wall -Werror
# (clang and gcc), the compiler decodes the header's MUIR_MODEL and the
# table's names to exactly the original bytes, and the runtime, the manifest
# and the binding agree on them. Names that would make two macros one, and
# names C strings or JSON cannot carry, are errors naming the parameters.
#
# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t | FileCheck %s
#
# CHECK: comment-closers: ok
# CHECK-NEXT: quotes-backslashes: ok
# CHECK-NEXT: control-characters: ok
# CHECK-NEXT: non-ascii: ok
# CHECK-NEXT: trigraphs: ok
# CHECK-NEXT: c-lookalikes: ok
# CHECK-NEXT: long: ok
# CHECK-NEXT: collision-dot: error: parameters 'a.b' and 'a_b' both give the C macro MUIR_PARAM_A_B_INDEX in muir_package.h; rename one of them
# CHECK-NEXT: collision-case: error: parameters 'Hidden.W' and 'hidden.w' both give the C macro MUIR_PARAM_HIDDEN_W_INDEX in muir_package.h; rename one of them
# CHECK-NEXT: collision-utf8: error: parameters 'é' and '__' both give the C macro MUIR_PARAM____INDEX in muir_package.h; rename one of them
# CHECK-NEXT: collision-punctuation: error: parameters 'ø.1' and '__-1' both give the C macro MUIR_PARAM____1_INDEX in muir_package.h; rename one of them
# CHECK-NEXT: not-utf8: error: parameter name 'a{{.*}}b' is not valid UTF-8
# CHECK-NEXT: nul: error: parameter name 'a{{.*}}b' contains a NUL byte
# CHECK-NEXT: model-not-utf8: error: model name 'm{{.*}}' is not valid UTF-8

import os
import re
import subprocess
import sys

import muir

TOOLS, SRC, TMP = sys.argv[1:4]
os.makedirs(TMP)
BASE = open(os.path.join(SRC, "examples", "mlp.mlir")).read()
# Small dims: the names are under test, not the kernels.
BASE = BASE.replace("fixed<784>", "fixed<8>").replace(
    "width<base 64, size 1024>", "width<base 4, size 8>")
ORIGINAL = ["input.weight", "input.bias", "hidden.weight", "hidden.bias",
            "readout.weight", "readout.bias"]


def mlir_string(raw):
    """`raw` (bytes) as an MLIR string literal: \\XX for anything not
    plainly printable."""
    return '"' + "".join(chr(b) if 0x20 <= b < 0x7f and b not in b'"\\'
                         else "\\%02X" % b for b in raw) + '"'


def c_bytes(raw):
    return ", ".join(str(b) for b in raw)


def build(case, names, model=b"mlp"):
    """The package of the MLP with its parameters renamed."""
    text = BASE.replace("tp.model @mlp", "tp.model @" + mlir_string(model))
    for old, new in zip(ORIGINAL, names):
        text = text.replace('"%s"' % old, mlir_string(new), 1)
    source = os.path.join(TMP, case + ".mlir")
    with open(source, "w") as f:
        f.write(text)
    out = os.path.join(TMP, case)
    run = subprocess.run([os.path.join(TOOLS, "muirc"), "package", source,
                          "--scheme", "mup", "--lr", "0.1", "--no-gpu",
                          "-o", out], capture_output=True)
    return out, run


# A program that includes the header next to the table and prints what the
# compiler made of MUIR_MODEL and of every name in the table, as bytes.
PROGRAM = r"""
#include "muir_package.h"
#include <stdio.h>
#include <string.h>
const muir_package_info_t *muir_package_info(void);
static void dump(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p)
    printf("%d ", *p);
  printf("\n");
}
int main(void) {
  dump(MUIR_MODEL);
  for (int i = 0; i < MUIR_NUM_PARAMS; ++i)
    dump(muir_package_info()->params[i].name);
  return (int)sizeof(MUIR_PACKAGE_HASH) == 65 ? 0 : 1;
}
"""


def compile_checks(out, model, names):
    with open(os.path.join(out, "..", "main.c"), "w") as f:
        f.write(PROGRAM)
    main = os.path.join(out, "..", "main.c")
    header = "#include \"muir_package.h\"\nint x = MUIR_NUM_PARAMS;\n"
    for compiler, flags in [("clang-22", ["-x", "c", "-std=c11", "-pedantic"]),
                            ("gcc", ["-x", "c", "-std=c11", "-pedantic"]),
                            ("clang++-22", ["-x", "c++", "-std=c++17"]),
                            ("g++", ["-x", "c++", "-std=c++17"])]:
        for source in (header, open(os.path.join(out, "package_table.c")).read()):
            subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-Werror",
                            "-fsyntax-only", "-I", out, "-"],
                           input=source.encode(), check=True)
    exe = os.path.join(out, "..", os.path.basename(out) + "-main")
    subprocess.run(["clang-22", "-std=c11", "-Wall", "-Werror", "-I", out,
                    main, os.path.join(out, "libmuir_kernels.so"),
                    "-Wl,-rpath," + out, "-o", exe], check=True)
    dumped = subprocess.run([exe], check=True, capture_output=True,
                            text=True).stdout.splitlines()
    decoded = [bytes(int(b) for b in line.split()) for line in dumped]
    assert decoded == [model] + list(names), (decoded, model, names)


def check(case, names, model=b"mlp"):
    out, run = build(case, names, model)
    if run.returncode != 0:
        message = run.stderr.decode("utf-8", "replace")
        error = re.search(r"error: (.*)", message)
        print("%s: error: %s" % (case, error.group(1) if error else message))
        assert not os.path.exists(out), "a failed build left %s" % out
        return
    compile_checks(out, model, names)
    pkg = muir.Package(out)
    want = [n.decode() for n in names]
    assert list(pkg.params_info) == want, (list(pkg.params_info), want)
    assert [p["name"] for p in pkg.manifest["layout"]["params"]] == want
    assert pkg.model == pkg.manifest["model"] == model.decode()
    header = open(os.path.join(out, "muir_package.h")).read()
    assert pkg.package_hash in header
    st = pkg.state()
    st.init(seed=1)
    for name in want:
        st.grads[name] = 1.0
    st.step(1)
    print("%s: ok" % case)


def names(*first):
    return [n.encode() if isinstance(n, str) else n for n in first] + [
        n.encode() for n in ORIGINAL[len(first):]]


check("comment-closers", names("in*/put.weight", "/*nested*/", "*/*/", "a*\\"),
      model=b"m*/x")
check("quotes-backslashes", names('a"b', "c\\d", '\\"', "e\\"),
      model=b'm"o\\del')
check("control-characters", names("line\nbreak", "tab\there", "\x01\x1f\x7f",
                                  "cr\r", "end\\\n"), model=b"m\nl\tp")
check("non-ascii", names("ünïcødé.wéight", "权重", "🙂", "e\u0301"),
      model="modèle".encode())
check("trigraphs", names("??/", "??=x", "??'??(??)", "a???/b"),
      model=b"m??/")
check("c-lookalikes", names("__LINE__", "MUIR_MODEL", "int", "0x1p3",
                            "#define", "%s%n"), model=b"__FILE__")
check("long", names("x" * 2000, "y." * 500), model=b"m" * 1000)
check("collision-dot", names("a.b", "a_b"))
check("collision-case", names("Hidden.W", "hidden.w"))
check("collision-utf8", names("é", "__"))
check("collision-punctuation", names("ø.1", "__-1"))
check("not-utf8", names(b"a\xffb"))
check("nul", names(b"a\x00b"))
check("model-not-utf8", names(), model=b"m\xc3")
