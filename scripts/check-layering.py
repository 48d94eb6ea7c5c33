#!/usr/bin/env python3
"""Checks the library graph of docs/Architecture.md against the build.

docs/Architecture.md names muir's layers, bottom up, in one line

    Layers, from the bottom up: `runtime`, `support`, ..., `tools`.

and lists every library and tool in a table

    | library | layer | directory | depends on |

whose last column names the muir libraries it links. This script reads
every target the CMakeLists.txt files under lib/, tools/, test/lib/ and
runtime/ define (add_mlir_*library, add_llvm_executable, add_library) and
what each links (LINK_LIBS, target_link_libraries), and fails when

  - a target is missing from the table, or the table names one that the
    build does not define;
  - a target links other muir libraries than the table says;
  - a dependency runs upward: a library links one of a higher layer.

Dependencies on MLIR, LLVM and system libraries are not muir's and are
ignored. Usage: check-layering.py [SOURCE_ROOT]; prints one line per
problem and exits 1 if there is one.
"""

import pathlib
import re
import sys

DOC = "docs/Architecture.md"
SCOPES = ["lib", "tools", "test/lib", "runtime"]
LIBRARY_COMMANDS = {"add_mlir_library", "add_mlir_dialect_library",
                    "add_mlir_conversion_library", "add_library",
                    "add_llvm_executable", "add_executable"}
# Keywords of add_mlir_library that end the LINK_LIBS list.
KEYWORDS = {"ADDITIONAL_HEADER_DIRS", "DEPENDS", "LINK_COMPONENTS",
            "LINK_LIBS", "PARTIAL_SOURCES_INTENDED", "EXCLUDE_FROM_LIBMLIR",
            "DISABLE_INSTALL", "ENABLE_AGGREGATION", "OBJECT", "SHARED",
            "STATIC", "MODULE"}
VISIBILITY = {"PUBLIC", "PRIVATE", "INTERFACE"}


def read_doc(root):
    """The layers (bottom up) and the table: name -> (layer, deps)."""
    text = (root / DOC).read_text()
    match = re.search(r"^Layers, from the bottom up: (.+)$", text, re.M)
    if not match:
        sys.exit(f"{DOC}: no line 'Layers, from the bottom up: ...'")
    layers = re.findall(r"`([^`]+)`", match.group(1))
    table = {}
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \| ([^|]*) \|$",
                      text, re.M)
    if not rows:
        sys.exit(f"{DOC}: no '| library | layer | directory | depends on |' "
                 "table")
    for name, layer, _, deps in rows:
        table[name] = (layer.strip(), set(re.findall(r"`([^`]+)`", deps)))
    return layers, table


def cmake_commands(path):
    """(command, [arguments]) of every command in a CMakeLists.txt."""
    text = re.sub(r"#[^\n]*", "", path.read_text())
    for command, args in re.findall(r"(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)",
                                    text):
        yield command, args.split()


def read_build(root):
    """name -> (CMakeLists.txt, set of linked names) for every target."""
    targets, links = {}, []
    for scope in SCOPES:
        for path in sorted((root / scope).rglob("CMakeLists.txt")):
            where = str(path.relative_to(root))
            for command, args in cmake_commands(path):
                if command in LIBRARY_COMMANDS and args:
                    targets[args[0]] = where
                    if "LINK_LIBS" in args:
                        rest = args[args.index("LINK_LIBS") + 1:]
                        for arg in rest:
                            if arg in KEYWORDS:
                                break
                            links.append((args[0], arg, where))
                elif command == "target_link_libraries" and args:
                    links += [(args[0], arg, where) for arg in args[1:]]
    deps = {name: set() for name in targets}
    for source, target, where in links:
        if target in VISIBILITY:
            continue
        if source not in deps:
            deps[source] = set()
        deps[source].add(target)
    return targets, deps


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                        pathlib.Path(__file__).resolve().parent.parent)
    layers, table = read_doc(root)
    targets, deps = read_build(root)
    problems = []
    for name, (layer, _) in sorted(table.items()):
        if layer not in layers:
            problems.append(f"{DOC}: {name}'s layer '{layer}' is not one of "
                            f"{', '.join(layers)}")
        if name not in targets:
            problems.append(f"{DOC} lists {name}, which no CMakeLists.txt "
                            "under " + ", ".join(SCOPES) + " defines")
    for name in sorted(targets):
        if name not in table:
            problems.append(f"{targets[name]}: {name} is not in {DOC}'s "
                            "table (add it with its layer)")
    for name in sorted(targets):
        if name not in table:
            continue
        layer, documented = table[name]
        actual = {d for d in deps.get(name, ()) if d in targets}
        for extra in sorted(actual - documented):
            problems.append(f"{targets[name]}: {name} links {extra}, which "
                            f"{DOC}'s table does not list")
        for missing in sorted(documented - actual):
            problems.append(f"{DOC}: {name} is listed as depending on "
                            f"{missing}, which {targets[name]} does not link")
        if layer not in layers:
            continue
        for dep in sorted(actual):
            dep_layer = table.get(dep, (None,))[0]
            if dep_layer in layers and \
                    layers.index(dep_layer) > layers.index(layer):
                problems.append(f"{targets[name]}: upward dependency: {name} "
                                f"({layer}) links {dep} ({dep_layer})")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"ok: {len(targets)} targets in {len(layers)} layers, every "
          "dependency as documented and none upward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
