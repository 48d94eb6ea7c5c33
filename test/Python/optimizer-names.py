# A package says which optimizer its step kernel implements, the same in the
# table (what the runtime and Python report), manifest.json and the header:
# SGD with Nesterov momentum was once recorded as sgd-momentum. Every
# optimizer of package_abi.h's MUIR_OPTIMIZERS (which StepRules.cpp ties to
# the Optimizer enum by a static check) is packaged under its own name, and
# Python's list of them (muir._OPTIMIZERS, by code) is that list.
#
# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t | FileCheck %s
# CHECK: Python's optimizers are package_abi.h's: 10
# CHECK-NEXT: sgd: code 0, sgd, 0 state
# CHECK-NEXT: sgd-momentum: code 1, sgd_momentum, 1 state
# CHECK-NEXT: sgd-nesterov: code 7, sgd_nesterov, 1 state
# CHECK-NEXT: adam: code 2, adam, 2 state
# CHECK-NEXT: adamw: code 3, adamw, 2 state
# CHECK-NEXT: adamw-decoupled: code 6, adamw_decoupled, 2 state
# CHECK-NEXT: lion: code 4, lion, 1 state
# CHECK-NEXT: adam-atan2: code 5, adam_atan2, 2 state
# CHECK-NEXT: lion-a: code 8, lion_a, 1 state
# CHECK-NEXT: lion-ar: code 9, lion_ar, 2 state

import ctypes
import os
import re
import subprocess
import sys

import muir

TOOLS, SRC, TMP = sys.argv[1:4]
os.makedirs(TMP)
model = os.path.join(TMP, "mlp.mlir")
with open(model, "w") as f:
    f.write(open(os.path.join(SRC, "examples", "mlp.mlir")).read()
            .replace("fixed<784>", "fixed<8>")
            .replace("width<base 64, size 1024>", "width<base 4, size 8>"))
abi = open(os.path.join(SRC, "runtime", "include", "muir", "package_abi.h")).read()
listed = re.findall(r'X\((\w+), (\d+), "([\w-]+)", (\d+)\)', abi)
by_code = {int(code): name for _, code, name, _ in listed}
assert muir._OPTIMIZERS == [by_code[c].replace("-", "_")
                            for c in range(len(by_code))], (muir._OPTIMIZERS,
                                                             by_code)
print("Python's optimizers are package_abi.h's: %d" % len(listed))
for optimizer in [name for _, _, name, _ in listed]:
    out = os.path.join(TMP, optimizer)
    subprocess.run([os.path.join(TOOLS, "muirc"), "package", model,
                    "--scheme", "mup", "--optimizer", optimizer, "--lr",
                    "0.1", "--no-gpu", "-o", out], check=True,
                   stdout=subprocess.DEVNULL)
    pkg = muir.Package(out)
    info = ctypes.POINTER(muir._ffi.PackageInfo)()
    muir._ffi.lib().muir_package_get_info(pkg._handle, ctypes.byref(info))
    header = open(os.path.join(out, "muir_package.h")).read()
    assert pkg.manifest["optimizer"] == optimizer
    assert re.search(r'#define MUIR_OPTIMIZER "%s"' % optimizer, header)
    # The spec with every option starts with the same name.
    assert re.search(r'#define MUIR_OPTIMIZER_SPEC "%s[:"]' % optimizer, header)
    assert pkg.optimizer_spec.split(":")[0] == optimizer
    assert info.contents.optimizer_spec.decode() == pkg.manifest["optimizer_spec"]
    assert pkg.optimizer == optimizer.replace("-", "_")
    print("%s: code %d, %s, %d state" % (optimizer, info.contents.optimizer,
                                         pkg.optimizer, pkg.num_states))
