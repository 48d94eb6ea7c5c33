# docs/Architecture.md's library graph holds for the build
# (scripts/check-layering.py): every library and tool in its table, every
# link as documented, none upward. Then the check on copies of the build
# files with one thing broken each: an upward edge (the dialect linking the
# package writer; a production library linking the test passes), an edge
# the table does not list, a library it does not list, a listed edge the
# build does not have.
#
# RUN: %python %s %muir_src

import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1])
SCRIPT = ROOT / "scripts" / "check-layering.py"
DOC = "docs/Architecture.md"
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("PASS" if ok else "FAIL") + ": " + name + ("" if ok else "\n" + detail))
    failures += 0 if ok else 1


def run(tree):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tree)],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def copy_tree(into):
    for scope in ["lib", "tools", "test/lib", "runtime"]:
        for path in (ROOT / scope).rglob("CMakeLists.txt"):
            target = into / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    (into / "docs").mkdir()
    shutil.copy(ROOT / DOC, into / DOC)


rc, out = run(ROOT)
check("the build matches docs/Architecture.md", rc == 0 and out.startswith("ok: "), out)

CASES = [
    ("an upward edge: the dialect links the package writer",
     "lib/Dialect/TP/IR/CMakeLists.txt",
     lambda s: s + "\ntarget_link_libraries(MuirTPDialect PUBLIC MuirPackage)\n",
     ["lib/Dialect/TP/IR/CMakeLists.txt: upward dependency: MuirTPDialect (IR) "
      "links MuirPackage (target)",
      "lib/Dialect/TP/IR/CMakeLists.txt: MuirTPDialect links MuirPackage, which "
      "docs/Architecture.md's table does not list"]),
    ("an upward edge: muirc's libraries link the test-only passes",
     "lib/InitAll/CMakeLists.txt",
     lambda s: s.replace("  MuirTPToKernels\n", "  MuirTPToKernels\n  MuirTestPasses\n"),
     ["lib/InitAll/CMakeLists.txt: upward dependency: MuirInitAll (init) links "
      "MuirTestPasses (test)"]),
    ("a library the table does not list",
     "lib/Support/CMakeLists.txt",
     lambda s: s + "\nadd_mlir_library(MuirNew New.cpp LINK_LIBS PUBLIC MuirSupport)\n",
     ["lib/Support/CMakeLists.txt: MuirNew is not in docs/Architecture.md's "
      "table (add it with its layer)"]),
    ("a listed edge the build does not have",
     "lib/Dialect/TP/Analysis/CMakeLists.txt",
     lambda s: s.replace("  MuirTPDialect\n", ""),
     ["docs/Architecture.md: MuirTPAnalysis is listed as depending on "
      "MuirTPDialect, which lib/Dialect/TP/Analysis/CMakeLists.txt does not "
      "link"]),
    ("a layer the doc does not define",
     DOC,
     lambda s: s.replace("| `MuirSupport` | support |", "| `MuirSupport` | basement |"),
     ["docs/Architecture.md: MuirSupport's layer 'basement' is not one of"]),
]

for name, path, edit, expected in CASES:
    with tempfile.TemporaryDirectory() as tmp:
        tree = pathlib.Path(tmp)
        copy_tree(tree)
        file = tree / path
        before = file.read_text()
        file.write_text(edit(before))
        check(f"{name}: the edit applies", file.read_text() != before)
        rc, out = run(tree)
        check(f"{name}: fails", rc == 1, out)
        for line in expected:
            check(f"{name}: says '{line}'", line in out, out)

sys.exit(1 if failures else 0)
