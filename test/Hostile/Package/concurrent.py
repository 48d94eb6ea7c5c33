# Two `muirc package` runs into the same -o, started together, round after
# round, while this process keeps opening the package: every open succeeds
# and sees one whole package (its table, library and manifest agree, which
# the runtime checks, and match one of the two builds), and after each round
# the directory is exactly one of the two packages, with no staging
# directory left. The last round adds a run killed mid-build, whose staging
# directory the runtime refuses.
#
# RUN: rm -rf %t && %python %s %muir_tools %muir_src %t | FileCheck %s
# CHECK: round 0: {{wide|narrow}} won, {{[0-9]+}} opens, all whole
# CHECK-NEXT: round 1: {{wide|narrow}} won, {{[0-9]+}} opens, all whole
# CHECK-NEXT: round 2 with a killed run: {{wide|narrow}} won, {{[0-9]+}} opens, all whole

import filecmp
import os
import subprocess
import sys

import muir

TOOLS, SRC, TMP = sys.argv[1:4]
os.makedirs(TMP)
BASE = open(os.path.join(SRC, "examples", "mlp.mlir")).read().replace(
    "fixed<784>", "fixed<32>")
VARIANTS = {"wide": "width<base 64, size 256>",
            "narrow": "width<base 64, size 128>"}
FILES = ["manifest.json", "muir_package.h", "package_abi.h", "package_table.c"]


def command(variant, out):
    source = os.path.join(TMP, variant + ".mlir")
    return [os.path.join(TOOLS, "muirc"), "package", source, "--scheme",
            "mup", "--lr", "0.1", "--no-gpu", "-o", out]


for variant, width in VARIANTS.items():
    with open(os.path.join(TMP, variant + ".mlir"), "w") as f:
        f.write(BASE.replace("width<base 64, size 1024>", width))
    subprocess.run(command(variant, os.path.join(TMP, variant)), check=True,
                   stdout=subprocess.DEVNULL)
REFERENCE = {v: muir.Package(os.path.join(TMP, v)) for v in VARIANTS}
HASHES = {p.package_hash: v for v, p in REFERENCE.items()}
assert len(HASHES) == 2

target = os.path.join(TMP, "pkg")
subprocess.run(command("wide", target), check=True, stdout=subprocess.DEVNULL)
killer = dict(os.environ,
              MUIR_PACKAGE_CC=os.path.join(SRC, "test", "Hostile", "Package",
                                           "Inputs", "kill-parent.sh"),
              MUIR_TEST_SIGNAL="KILL")

LAST = 2
for round in range(LAST + 1):
    runs = [subprocess.Popen(command(v, target), stdout=subprocess.DEVNULL)
            for v in VARIANTS]
    if round == LAST:
        runs.append(subprocess.Popen(command("narrow", target), env=killer,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL))
    opens = 0
    while any(r.poll() is None for r in runs) or opens == 0:
        pkg = muir.Package(target)
        variant = HASHES[pkg.package_hash]
        reference = REFERENCE[variant]
        assert pkg.manifest == reference.manifest, variant
        assert pkg.params_info == reference.params_info, variant
        st = pkg.state()
        st.init(seed=round)
        st.step(1)
        opens += 1
    codes = [r.wait() for r in runs]
    assert codes[:2] == [0, 0] and codes[2:] in ([], [-9]), codes
    winner = HASHES[muir.Package(target).package_hash]
    for name in FILES:
        assert filecmp.cmp(os.path.join(target, name),
                           os.path.join(TMP, winner, name), shallow=False), name
    left = [n for n in os.listdir(TMP) if n.startswith("pkg.tmp-")]
    if round < LAST:
        assert not left, left
    else:  # the killed run's staging directory: no manifest, so no package
        assert len(left) == 1 and "manifest.json" not in os.listdir(
            os.path.join(TMP, left[0])), left
        try:
            muir.Package(os.path.join(TMP, left[0]))
            raise AssertionError("a half-built package opened")
        except muir.Error as e:
            assert e.status == muir.Status.ERROR_IO and "no manifest.json" in e.message, e
    print("round %d%s: %s won, %d opens, all whole"
          % (round, " with a killed run" if round == LAST else "", winner,
             opens))
