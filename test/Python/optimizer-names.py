# A package says which optimizer its step kernel implements, the same in the
# table (what the runtime and Python report), manifest.json and the header:
# SGD with Nesterov momentum was once recorded as sgd-momentum.
#
# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t | FileCheck %s
# CHECK: sgd-momentum: code 1, sgd_momentum, 1 state
# CHECK-NEXT: sgd-nesterov: code 7, sgd_nesterov, 1 state
# CHECK-NEXT: lion: code 4, lion, 1 state
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
for optimizer in ["sgd-momentum", "sgd-nesterov", "lion", "lion-a",
                  "lion-ar"]:
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
