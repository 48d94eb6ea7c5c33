"""Builds the TEST FIXTURE package (fixture_package.c) into a directory, as
lit's %muir_build_fixture: compiles the library and writes
fixture_manifest.json beside it with the ABI version and package hash the
library reports.

    build_fixture.py CC RUNTIME_INCLUDE [--no-manifest] [cc flags] -o DIR/libmuir_kernels.so

-DFIXTURE_ABI=N, -DFIXTURE_HASH='"..."' and -DFIXTURE_BF16 (precision
bf16) reach the manifest too; other flags (the FIXTURE_* variants) go to
the compiler only.
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_HASH = "f16d05ec6b29248d2c61adb1e9263f78e4f7bace1b955014a2d17872cfe4064d"

cc, include, *args = sys.argv[1:]
manifest = "--no-manifest" not in args
args = [a for a in args if a != "--no-manifest"]
abi = None
package_hash = DEFAULT_HASH
for a in args:
    m = re.fullmatch(r"-DFIXTURE_ABI=(\d+)", a)
    if m:
        abi = int(m.group(1))
    m = re.fullmatch(r'-DFIXTURE_HASH="?([^"]*)"?', a)
    if m:
        package_hash = m.group(1)
out = args[args.index("-o") + 1]
subprocess.run([cc, "-std=c11", "-O1", "-shared", "-fPIC", "-Wall", "-Werror",
                "-I" + include, os.path.join(HERE, "fixture_package.c"),
                "-lm"] + args, check=True)
if manifest:
    with open(os.path.join(HERE, "fixture_manifest.json")) as f:
        text = f.read()
    text = text.replace("@FIXTURE_HASH@", package_hash)
    if "-DFIXTURE_BF16" in args:
        text = text.replace('"precision": "fp32"', '"precision": "bf16"')
    if abi is not None:
        text = re.sub(r'"abi_version": \d+', '"abi_version": %d' % abi, text)
    with open(os.path.join(os.path.dirname(out), "manifest.json"), "w") as f:
        f.write(text)
