#!/usr/bin/env python3
"""Mutation fuzzer for the muir tools.

Takes valid .mlir seeds (the examples and test/fuzz/Inputs), applies small
seeded mutations (drop/duplicate/swap lines, truncate, swap identifiers,
break punctuation, mangle integers, ...) and runs `muir-opt`, `muirc
summary` and `muir-translate --tp-to-param-table` on every mutant. Each run
is classified as

  OK    the tool exited 0,
  DIAG  the tool exited non-zero with an error message
        (`file:line:col: error: ...` or a `tool: ...` line),
  BAD   anything else: a signal, an assertion, "LLVM ERROR", a stack dump,
        a sanitizer report, a timeout, a non-zero exit without a message,
        or IR that verifies but does not survive a print/parse round trip.

Every BAD mutant is printed and, with --save-dir, saved together with the
command and its output; the script then exits 1. Runs are deterministic:
mutant i depends only on --seed, i and the seed files.

  mutate.py --tool-dir build/bin --count 2000 --seed 7 --save-dir /tmp/bad
  mutate.py --tool-dir build/bin --replay /tmp/bad/*.mlir
  mutate.py --tool-dir build/bin --minimize /tmp/bad/tiny_gpt-m17.mlir

Python 3 standard library only.
"""

import argparse
import concurrent.futures
import glob
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_SEEDS = [os.path.join(REPO, "examples"), os.path.join(REPO, "test", "fuzz", "Inputs")]

# Pass pipelines run on every mutant that verifies (shell-quoted muir-opt
# arguments). Failing with a diagnostic is fine; crashing is not.
DEFAULT_PIPELINES = [
    "--tp-parametrize=scheme=completep --tp-instantiate --tp-print-params",
    "'--tp-parametrize=scheme=mup optimizer=sgd'",
    "--tp-instantiate --tp-print-params",
    # The readers of the annotations (tiny_laid_out.mlir has them all).
    "--tp-print-report --tp-verify-parametrization --convert-tp-to-kernels",
]

# Odd command lines, one of which (picked per mutant) runs on every mutant
# that verifies: unknown options and malformed option values must be
# diagnosed too. "{}" is the mutant's path; the first word names the tool.
HOSTILE_COMMANDS = [
    "muir-opt --no-such-option {}",
    "muir-opt --tp-print-params=1 {}",
    "muir-opt '--tp-parametrize=scheme=' {}",
    "muir-opt '--tp-parametrize=scheme=bogus optimizer=sgd' {}",
    "muir-opt '--tp-parametrize=optimizer=' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=-9223372036854775808/1' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=9223372036854775807/9223372036854775806' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=1/0' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=0/0' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=99999999999999999999' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=9223372036854775807.5' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=-0.5' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=nan' {}",
    "muir-opt '--tp-parametrize=scheme=completep alpha=0.75' {}",
    "muir-opt --tp-parametrize '--tp-instantiate=lr=-1 batch=0' {}",
    "muir-opt --tp-parametrize '--tp-instantiate=lr=nan init-std=inf' {}",
    "muir-opt --tp-parametrize '--tp-instantiate=base-batch=0 base-tokens=0 tokens=0' {}",
    "muir-opt --tp-parametrize '--tp-instantiate=lr=1e308 batch=1e308 tokens=1e-308' {}",
    "muir-opt --tp-parametrize '--tp-instantiate=multipliers=/nonexistent.json' {}",
    "muir-opt --tp-parametrize '--tp-instantiate=multipliers=/dev/null' {}",
    "muir-opt --tp-parametrize '--tp-instantiate=multipliers=/' {}",
    "muir-opt --tp-instantiate=lr= {}",
    "muir-opt -o /nonexistent/dir/out.mlir {}",
    "muir-opt {} {}",
    "muirc summary --print-ir=2 {}",
    "muirc summary {} {}",
    "muirc summary --no-such-option {}",
    "muirc frobnicate {}",
    "muirc report --alpha=-9223372036854775808/1 --scheme=completep {}",
    "muirc report --scheme=bogus {}",
    "muirc report --format=bogus {}",
    "muirc report --lr=-1 --batch=0 --format=json {}",
    "muirc report --tokens=0 --base-tokens=0 --format=csv {}",
    "muirc report --scheme=mup --optimizer=sgd --format=markdown {}",
    "muirc report --card {} {}",
]

# A diagnostic with a location: `path:line:col: error: ...`.
LOCATED_ERROR = re.compile(r"^.*:\d+:\d+: error: .+$", re.MULTILINE)
# Other clear error messages: `muirc: ...`, `error: ...`, cl::opt errors.
OTHER_ERROR = re.compile(r"^(?:[\w./-]*(?:muirc|muir-opt|muir-translate): .+|error: .+)$", re.MULTILINE)
# Anything that says the tool itself went wrong.
CRASH_MARKERS = [
    "Stack dump",
    "Assertion",
    "LLVM ERROR",
    "UNREACHABLE",
    "PLEASE submit a bug report",
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
    "Segmentation fault",
    "terminate called",
    "libc++abi",
]

PUNCT = '<>[](){},:=@%"'
OPS = [
    "model", "dim", "input", "param", "repeat", "yield", "output", "linear",
    "embedding", "add", "mul", "residual", "gelu", "silu", "relu",
    "layer_norm", "rms_norm", "rope", "attention", "cross_entropy",
]
KEYWORDS = [
    "width", "fixed", "depth", "product", "base", "size", "normal",
    "trunc_normal", "uniform", "zeros", "ones", "tied", "head_dim", "causal",
    "scale", "inv_head_dim", "inv_sqrt_head_dim", "epsilon", "theta",
]
TYPES = ["f32", "f16", "bf16", "f64", "i32", "i64", "i1", "index", "none",
         "tensor<4xf32>", "!tp.tensor<[], f32>", "complex<f32>", "f8E4M3FN"]
INTEGERS = ["0", "-1", "1", "2", "3", "9223372036854775808",
            "9223372036854775807", "-9223372036854775808", "4294967296",
            "2147483648", "18446744073709551616",
            "123456789012345678901234567890123456789012345678901234567890",
            "0x10", "1.5", "1e400"]
# Attribute entries that an op's trailing attr-dict can (wrongly) carry.
ATTRS = [
    "factors = [@d_head]", "factors = [@nope, @nope]", "factors = []",
    "base_size = 0 : i64", "base_size = 4 : i64", "size = -3 : i64",
    "size = 1 : i32", "size = \"x\"", "kind = #tp<dim_kind depth>",
    "kind = 7 : i32", "tied = \"wte\"", "tied = \"\"", "init = #tp<init ones>",
    "init = 3", "name = \"\"", "name = 1", "epsilon = 0.0 : f64",
    "epsilon = -1.0 : f32", "theta = 1 : i64", "scale = #tp<attention_scale inv_head_dim>",
    "scale = 1", "causal", "causal = 1", "head_dim = @d_head", "head_dim = \"x\"",
    "depth = @layers", "sym_name = \"x\"", "sym_name = 3",
    "operandSegmentSizes = array<i32: 1, 1, 1>",
    "operandSegmentSizes = array<i32: 1, 0, 1>",
    "operandSegmentSizes = array<i32: 3, 0, 0>",
    "tp.role = #tp.role<hidden>", "tp.role = #tp.role<qk_norm>", "tp.role = 1",
    "tp.scaling = {lr = #tp.scale<N = -9223372036854775808>}",
    "tp.scaling = {lr = #tp.scale<N = 9223372036854775807/9223372036854775806, L = -1/3>}",
    "tp.scaling = {init_std = #tp.scale<N = -1/2>, width_dim = \"nope\"}",
    "tp.scaling = {multiplier = #tp.scale<L = -1/2>, width_dim = 3}",
    "tp.scaling = {lr = 1.0}", "tp.scaling = 3", "tp.bogus",
    "tp.parametrization = {scheme = \"mup\", steps = #tp.scale<B = -1, D = 1>}",
    "tp.parametrization = {scheme = 3, alpha = \"x\", optimizer = \"sgd\"}",
    "tp.parametrization = {}",
    "tp.scaling = #tp.scaling<lr = <N = -9223372036854775808>>",
    "tp.scaling = #tp.scaling<init_std = <N = -1/2>, width_dim = \"nope\">",
    "tp.scaling = #tp.scaling<multiplier = <L = -1/2>, width_dim = \"\">",
    "tp.values = #tp.values<lr = []>", "tp.values = #tp.values<lr = [1e400]>",
    "tp.values = #tp.values<multiplier = [1.0, 2.0, 3.0, 4.0, 5.0]>",
    "tp.parametrization = #tp.parametrization<scheme = mup, optimizer = lion, alpha = 1/0>",
    "tp.parametrization = #tp.parametrization<scheme = mup, optimizer = adamw, alpha = 1, rho = 2.0>",
    "tp.instance = #tp.instance<width = 0.0, depth = 1.0, batch = 1.0, duration = 1.0, base = <>, init_std_rule = fixed, steps_multiplier = 1.0>",
]

TOKEN = re.compile(r"[%@^#!]?[A-Za-z_][\w.$-]*|\d+|\"[^\"\n]*\"|->|\S")
IDENT = re.compile(r"(?<![\w.$-])[A-Za-z_][\w$]*(?![\w$])")
SIGILED = re.compile(r"[%@^][\w.$-]+")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?![\w.])")
STRING = re.compile(r"\"[^\"\n]*\"")
OPNAME = re.compile(r"\btp\.(\w+)")
ATTR_ENTRY = re.compile(r"\b\w+ = (?:#tp<[^>]*>|\[[^\]]*\]|array<[^>]*>|\"[^\"]*\"|[^,}>]+)(?:, )?")


# ----------------------------------------------------------------------------
# Mutations. Each takes (rng, text, seeds) and returns (new_text, description)
# or None when it does not apply.
# ----------------------------------------------------------------------------

def _lines(text):
    return text.splitlines(keepends=True)


def m_delete_line(rng, text, seeds):
    lines = _lines(text)
    if not lines:
        return None
    i = rng.randrange(len(lines))
    return "".join(lines[:i] + lines[i + 1:]), "delete line %d" % (i + 1)


def m_duplicate_line(rng, text, seeds):
    lines = _lines(text)
    if not lines:
        return None
    i = rng.randrange(len(lines))
    j = rng.randrange(len(lines) + 1)
    line = lines[i] if lines[i].endswith("\n") else lines[i] + "\n"
    return "".join(lines[:j] + [line] + lines[j:]), "copy line %d to %d" % (i + 1, j + 1)


def m_swap_lines(rng, text, seeds):
    lines = _lines(text)
    if len(lines) < 2:
        return None
    i, j = rng.sample(range(len(lines)), 2)
    if not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines), "swap lines %d and %d" % (i + 1, j + 1)


def m_move_line(rng, text, seeds):
    lines = _lines(text)
    if len(lines) < 2:
        return None
    if not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    i = rng.randrange(len(lines))
    line = lines.pop(i)
    j = rng.randrange(len(lines) + 1)
    lines.insert(j, line)
    return "".join(lines), "move line %d to %d" % (i + 1, j + 1)


def m_truncate(rng, text, seeds):
    if not text:
        return None
    i = rng.randrange(len(text))
    return text[:i], "truncate at byte %d" % i


def m_integer(rng, text, seeds):
    spots = list(NUMBER.finditer(text))
    if not spots:
        return None
    m = rng.choice(spots)
    new = rng.choice(INTEGERS)
    return text[:m.start()] + new + text[m.end():], "integer %s -> %s" % (m.group(), new)


def _replace_from_pool(rng, text, regex, what):
    spots = list(regex.finditer(text))
    pool = sorted({m.group() for m in spots})
    if len(pool) < 2:
        return None
    m = rng.choice(spots)
    new = rng.choice([p for p in pool if p != m.group()])
    return text[:m.start()] + new + text[m.end():], "%s %s -> %s" % (what, m.group(), new)


def m_identifier(rng, text, seeds):
    return _replace_from_pool(rng, text, IDENT, "identifier")


def m_sigiled(rng, text, seeds):
    # %values, @symbols and ^blocks, swapped for another of the file's names
    # (any sigil, so %x may become @x's text and vice versa).
    spots = list(SIGILED.finditer(text))
    if len(spots) < 2:
        return None
    m = rng.choice(spots)
    other = rng.choice(spots).group()
    if rng.random() < 0.7:
        other = m.group()[0] + other[1:]
    return text[:m.start()] + other + text[m.end():], "name %s -> %s" % (m.group(), other)


def m_string(rng, text, seeds):
    spots = list(STRING.finditer(text))
    if not spots:
        return None
    m = rng.choice(spots)
    pool = [s.group() for s in spots] + ['""', '"\\00"', '"a\\"b"', '"\\ff\\fe"', '"' + "x" * 300 + '"']
    new = rng.choice(pool)
    return text[:m.start()] + new + text[m.end():], "string %s -> %s" % (m.group(), new)


def m_opname(rng, text, seeds):
    spots = list(OPNAME.finditer(text))
    if not spots:
        return None
    m = rng.choice(spots)
    new = rng.choice(OPS + ["bogus", "Model", "dim.x"])
    return text[:m.start(1)] + new + text[m.end(1):], "op tp.%s -> tp.%s" % (m.group(1), new)


def m_swap_opnames(rng, text, seeds):
    spots = list(OPNAME.finditer(text))
    if len(spots) < 2:
        return None
    a, b = sorted(rng.sample(spots, 2), key=lambda m: m.start())
    if a.group(1) == b.group(1):
        return None
    out = (text[:a.start(1)] + b.group(1) + text[a.end(1):b.start(1)] + a.group(1) + text[b.end(1):])
    return out, "swap ops tp.%s and tp.%s" % (a.group(1), b.group(1))


def m_keyword(rng, text, seeds):
    spots = [m for m in IDENT.finditer(text) if m.group() in KEYWORDS]
    if not spots:
        return None
    m = rng.choice(spots)
    new = rng.choice(KEYWORDS + [""])
    return text[:m.start()] + new + text[m.end():], "keyword %s -> %r" % (m.group(), new)


def m_type(rng, text, seeds):
    spots = [m for m in IDENT.finditer(text) if re.fullmatch(r"(?:[fi]\d+|bf16)", m.group())]
    if not spots:
        return None
    m = rng.choice(spots)
    new = rng.choice(TYPES)
    return text[:m.start()] + new + text[m.end():], "type %s -> %s" % (m.group(), new)


def m_delete_punct(rng, text, seeds):
    spots = [i for i, c in enumerate(text) if c in PUNCT]
    if not spots:
        return None
    i = rng.choice(spots)
    return text[:i] + text[i + 1:], "delete %r at %d" % (text[i], i)


def m_insert_punct(rng, text, seeds):
    i = rng.randrange(len(text) + 1)
    c = rng.choice(PUNCT)
    return text[:i] + c + text[i:], "insert %r at %d" % (c, i)


def m_replace_punct(rng, text, seeds):
    spots = [i for i, c in enumerate(text) if c in PUNCT]
    if not spots:
        return None
    i = rng.choice(spots)
    c = rng.choice(PUNCT)
    return text[:i] + c + text[i + 1:], "replace %r at %d by %r" % (text[i], i, c)


def m_delete_token(rng, text, seeds):
    spots = list(TOKEN.finditer(text))
    if not spots:
        return None
    m = rng.choice(spots)
    return text[:m.start()] + text[m.end():], "delete token %r" % m.group()


def m_duplicate_token(rng, text, seeds):
    spots = list(TOKEN.finditer(text))
    if not spots:
        return None
    m = rng.choice(spots)
    sep = rng.choice(["", " ", ", "])
    return text[:m.end()] + sep + m.group() + text[m.end():], "duplicate token %r" % m.group()


def m_move_token(rng, text, seeds):
    spots = list(TOKEN.finditer(text))
    if len(spots) < 2:
        return None
    m = rng.choice(spots)
    rest = text[:m.start()] + text[m.end():]
    j = rng.randrange(len(rest) + 1)
    return rest[:j] + " " + m.group() + " " + rest[j:], "move token %r" % m.group()


def m_byte(rng, text, seeds):
    i = rng.randrange(len(text) + 1)
    c = rng.choice(["\0", "\x7f", "\udcff", "\udc80", "\t", "\r", "\\", "#", "!", "^",
                    "\u00e9", "\U0001f600", "$", "?", ";", "/", "*"])
    return text[:i] + c + text[i:], "insert byte %r at %d" % (c, i)


def m_attr(rng, text, seeds):
    # Give an op a stray attribute: before the ` : ` of its type, or at the
    # end of a line without one.
    lines = _lines(text)
    ops = [i for i, l in enumerate(lines) if "tp." in l]
    if not ops:
        return None
    i = rng.choice(ops)
    line = lines[i]
    entry = rng.choice(ATTRS)
    k = line.find(" : ")
    if k < 0:
        k = len(line.rstrip("\n"))
        if line.rstrip().endswith("{"):
            k = line.rstrip().rfind("{") - 1
    lines[i] = line[:k] + " {" + entry + "}" + line[k:]
    return "".join(lines), "line %d gets {%s}" % (i + 1, entry)


def m_drop_attr(rng, text, seeds):
    spots = [m for m in ATTR_ENTRY.finditer(text)]
    if not spots:
        return None
    m = rng.choice(spots)
    return text[:m.start()] + text[m.end():], "drop attribute %r" % m.group()


def m_splice(rng, text, seeds):
    # Lines from another seed (names and types that this one may lack).
    other = _lines(rng.choice(seeds))
    if not other:
        return None
    a = rng.randrange(len(other))
    chunk = other[a:a + rng.randint(1, 4)]
    lines = _lines(text)
    j = rng.randrange(len(lines) + 1)
    return "".join(lines[:j] + chunk + lines[j:]), "splice %d lines at %d" % (len(chunk), j + 1)


def m_repeat_block(rng, text, seeds):
    # A deeply nested or very long input: nothing may overflow the stack.
    lines = _lines(text)
    if not lines:
        return None
    i = rng.randrange(len(lines))
    n = rng.choice([200, 2000, 20000])
    return "".join(lines[:i] + [lines[i]] * n + lines[i:]), "line %d x %d" % (i + 1, n)


MUTATIONS = [
    (m_delete_line, 4), (m_duplicate_line, 3), (m_swap_lines, 3), (m_move_line, 2),
    (m_truncate, 2), (m_integer, 4), (m_identifier, 5), (m_sigiled, 4),
    (m_string, 2), (m_opname, 2), (m_swap_opnames, 2), (m_keyword, 3),
    (m_type, 2), (m_delete_punct, 4), (m_insert_punct, 3), (m_replace_punct, 2),
    (m_delete_token, 4), (m_duplicate_token, 2), (m_move_token, 1), (m_byte, 1),
    (m_attr, 3), (m_drop_attr, 3), (m_splice, 2), (m_repeat_block, 0.2),
]


def mutate(rng, text, seeds):
    """Applies one to three mutations; returns (text, [descriptions])."""
    funcs = [f for f, _ in MUTATIONS]
    weights = [w for _, w in MUTATIONS]
    steps = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    done = []
    for _ in range(steps):
        for _attempt in range(10):
            f = rng.choices(funcs, weights=weights)[0]
            res = f(rng, text, seeds)
            if res is not None and res[0] != text:
                text = res[0]
                done.append(res[1])
                break
    return text, done


# ----------------------------------------------------------------------------
# Running and classifying
# ----------------------------------------------------------------------------

class Tools:
    def __init__(self, tool_dir, timeout, env, pipelines=()):
        self.opt = os.path.join(tool_dir, "muir-opt")
        self.muirc = os.path.join(tool_dir, "muirc")
        self.translate = os.path.join(tool_dir, "muir-translate")
        for t in (self.opt, self.muirc, self.translate):
            if not os.access(t, os.X_OK):
                sys.exit("mutate.py: no executable %s" % t)
        self.timeout = timeout
        self.env = env
        self.pipelines = [shlex.split(p) for p in pipelines]

    def commands(self, path):
        return [
            [self.opt, path],
            [self.muirc, "summary", path],
            [self.translate, "--tp-to-param-table", path],
        ]

    def run(self, cmd, stdin=None):
        try:
            p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=self.timeout, env=self.env)
            return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            err = (e.stderr or b"").decode("utf-8", "replace")
            return None, "", err + "\n[timed out after %ss]" % self.timeout


def classify(rc, out, err):
    """Returns (verdict, reason) for one tool run."""
    if rc is None:
        return "BAD", "timeout"
    for marker in CRASH_MARKERS:
        if marker in err or marker in out:
            return "BAD", "output has %r" % marker
    if rc < 0 or rc >= 128:
        return "BAD", "exit status %d (signal)" % rc
    if rc == 0:
        return "OK", ""
    if LOCATED_ERROR.search(err):
        return "DIAG", ""
    if OTHER_ERROR.search(err):
        return "DIAG", "no location"
    if err.strip():
        return "DIAG", "unrecognised message"
    return "BAD", "exit status %d without a message" % rc


def check_file(tools, path, hostile=None):
    """Runs every tool on `path` (and, when it verifies, the `hostile`
    command line from HOSTILE_COMMANDS); returns a list of
    (cmd, verdict, reason, rc, out, err)."""
    results = []
    for cmd in tools.commands(path):
        rc, out, err = tools.run(cmd)
        verdict, reason = classify(rc, out, err)
        results.append((cmd, verdict, reason, rc, out, err))
        if cmd[0] == tools.opt and verdict == "OK":
            # What verifies must print to something that parses back, in
            # custom and in generic form, and survive MLIR's own round trip.
            results.extend(check_reparse(tools, path, out))
            # ...and the passes must not crash on it either.
            for pipeline in tools.pipelines:
                pcmd = [tools.opt] + pipeline + [path]
                rc2, out2, err2 = tools.run(pcmd)
                v2, r2 = classify(rc2, out2, err2)
                results.append((pcmd, v2, r2, rc2, "", err2))
            if hostile:
                words = shlex.split(hostile.replace("{}", shlex.quote(path)))
                hcmd = [tools.opt if words[0] == "muir-opt" else tools.muirc] + words[1:]
                rc2, out2, err2 = tools.run(hcmd)
                v2, r2 = classify(rc2, out2, err2)
                results.append((hcmd, v2, r2, rc2, "", err2))
    return results


def check_reparse(tools, path, printed):
    results = []
    rc, generic, err = tools.run([tools.opt, "--mlir-print-op-generic", path])
    checks = [("custom form", printed), ("generic form", generic if rc == 0 else None)]
    for what, text in checks:
        cmd = [tools.opt, "-", "(%s of %s)" % (what, os.path.basename(path))]
        if text is None:
            v, r = classify(rc, "", err)
            results.append((cmd, "BAD", "cannot print the %s: %s" % (what, r), rc, "", err))
            continue
        rc2, out2, err2 = tools.run([tools.opt, "-"], stdin=text.encode())
        v, r = classify(rc2, "", err2)
        if v != "OK":
            v, r = "BAD", "printed %s does not parse back: %s" % (what, r or "error")
        elif what == "custom form" and out2 != text:
            v, r = "BAD", "printing is not stable: the re-parsed IR prints differently"
        results.append((cmd, v, r, rc2, "", err2))
    cmd = [tools.opt, "--verify-roundtrip", path]
    rc3, _, err3 = tools.run(cmd)
    v, r = classify(rc3, "", err3)
    if v != "OK":
        v, r = "BAD", "--verify-roundtrip fails: %s" % (r or "error")
    results.append((cmd, v, r, rc3, "", err3))
    return results


def read_seed(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def write_text(path, text):
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)


def collect_seeds(specs):
    paths = []
    for spec in specs:
        if os.path.isdir(spec):
            paths.extend(sorted(glob.glob(os.path.join(spec, "*.mlir"))))
        else:
            paths.extend(sorted(glob.glob(spec)) or [spec])
    out = []
    for p in paths:
        if os.path.isfile(p) and p not in out:
            out.append(p)
    return out


def generic_seeds(tools, seeds):
    """The generic form of every seed that verifies: mutations of the
    generic syntax reach verifiers with attributes the custom syntax
    never produces."""
    out = []
    for name, text in seeds:
        rc, generic, _ = tools.run([tools.opt, "--mlir-print-op-generic", "-"], stdin=text.encode())
        if rc == 0:
            out.append((name + ".generic", generic))
    return out


def report_bad(mutant, text, bad, save_dir):
    name, desc = mutant
    print("BAD %s [%s]" % (name, "; ".join(desc)))
    for cmd, verdict, reason, rc, out, err in bad:
        print("  %s: %s" % (" ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd)), reason))
        tail = err.strip().splitlines()[-6:]
        for line in tail:
            print("    | " + line[:200])
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
        base = os.path.join(save_dir, name)
        write_text(base + ".mlir", text)
        with open(base + ".txt", "w") as f:
            f.write("mutations: %s\n" % "; ".join(desc))
            for cmd, verdict, reason, rc, out, err in bad:
                f.write("\n$ %s\n# %s (rc=%s)\n%s\n" % (" ".join(cmd), reason, rc, err))


def run_campaign(args, tools):
    seed_paths = collect_seeds(args.seeds)
    if not seed_paths:
        sys.exit("mutate.py: no seed files in %s" % " ".join(args.seeds))
    seeds = [(os.path.splitext(os.path.basename(p))[0], read_seed(p)) for p in seed_paths]
    # Seeds must be valid: a mutant of a broken seed tests nothing.
    for (name, _), path in zip(seeds, seed_paths):
        for cmd, verdict, reason, rc, out, err in check_file(tools, path):
            # A pass may reject a seed (mup with tied embeddings); nothing
            # may crash on one, and muir-opt and muirc must accept it.
            is_pass = any(c.startswith(("--tp-", "--convert-")) for c in cmd)
            if verdict == "BAD" or (verdict != "OK" and not is_pass):
                sys.exit("mutate.py: seed %s is not valid (%s): %s\n%s" % (path, " ".join(cmd), reason, err))
    if args.generic:
        seeds += generic_seeds(tools, seeds)
    texts = [t for _, t in seeds]

    start = time.time()
    counts = {"OK": 0, "DIAG": 0, "BAD": 0}
    noloc = []
    bad_mutants = 0
    work = tempfile.mkdtemp(prefix="muir-fuzz-")

    def one(i):
        rng = random.Random("%d:%d" % (args.seed, i))
        sname, stext = seeds[i % len(seeds)]
        text, desc = mutate(rng, stext, texts)
        hostile = rng.choice(HOSTILE_COMMANDS)
        name = "%s-m%d" % (sname.replace(".", "-"), i)
        path = os.path.join(work, name + ".mlir")
        write_text(path, text)
        results = check_file(tools, path, hostile)
        os.unlink(path)
        return (name, desc), text, results

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for mutant, text, results in pool.map(one, range(args.count)):
                bad = [r for r in results if r[1] == "BAD"]
                for r in results:
                    counts[r[1]] += 1
                    if r[1] == "DIAG" and r[2]:
                        noloc.append((mutant, r))
                if bad:
                    bad_mutants += 1
                    report_bad(mutant, text, bad, args.save_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.verbose:
        for (name, desc), (cmd, _, reason, rc, out, err) in noloc:
            print("note: %s: %s %s: %s" % (name, os.path.basename(cmd[0]), reason, err.strip()[:200]))
    runs = sum(counts.values())
    print("mutate.py: %d mutants of %d seeds (seed %d), %d tool runs: OK %d, DIAG %d "
          "(%d without a location), BAD %d in %d mutants; %.1f s"
          % (args.count, len(seeds), args.seed, runs, counts["OK"], counts["DIAG"], len(noloc),
             counts["BAD"], bad_mutants, time.time() - start))
    return 1 if bad_mutants else 0


def run_replay(args, tools):
    status = 0
    for path in args.replay:
        bad = [r for r in check_file(tools, path) if r[1] == "BAD"]
        if bad:
            status = 1
            report_bad((os.path.basename(path), ["replay"]), read_seed(path), bad, None)
        else:
            print("ok  %s" % path)
    return status


def run_minimize(args, tools):
    """Greedy delta debugging: drops chunks of lines, then of tokens, then
    (for inputs under 500 bytes) characters, while the first failing command keeps
    failing for the same reason. Prints the result to stdout."""
    path = args.minimize[0]
    text = read_seed(path)
    bad = [r for r in check_file(tools, path) if r[1] == "BAD"]
    if not bad:
        sys.exit("mutate.py: %s is not BAD" % path)
    cmd, _, reason, _, _, _ = bad[0]
    work = tempfile.mkdtemp(prefix="muir-min-")
    probe = os.path.join(work, "min.mlir")
    # Re-run just that command (with the probe instead of the file); for a
    # round-trip failure, the whole check of muir-opt.
    is_reparse = cmd[1:2] == ["-"] or "--verify-roundtrip" in cmd
    argv = [probe if c == path else c for c in cmd]
    # Keep the kind of failure, not the exact text (addresses, line numbers).
    kind = re.sub(r"\d+", "N", reason.split(":")[0])
    print("minimising %s: %s: %s" % (path, " ".join(cmd), reason), file=sys.stderr)

    def still_bad(t):
        write_text(probe, t)
        if is_reparse:
            rs = [r for r in check_file(tools, probe) if r[1] == "BAD"]
            return any(re.sub(r"\d+", "N", r[2].split(":")[0]) == kind for r in rs)
        rc, out, err = tools.run(argv)
        v, r = classify(rc, out, err)
        return v == "BAD" and re.sub(r"\d+", "N", r.split(":")[0]) == kind

    for unit in ("lines", "tokens", "chars"):
        if unit == "chars" and len(text) > 500:
            continue
        changed = True
        while changed:
            changed = False
            if unit == "lines":
                parts = _lines(text)
            elif unit == "tokens":
                # A token with the blanks before it: removals keep the
                # layout readable.
                parts = re.findall(r"\s*(?:" + TOKEN.pattern + r")|\s+$", text)
            else:
                parts = list(text)
            chunk = max(1, len(parts) // 2)
            while chunk >= 1:
                i = 0
                while i < len(parts):
                    cand = "".join(parts[:i] + parts[i + chunk:])
                    if cand != text and still_bad(cand):
                        parts = parts[:i] + parts[i + chunk:]
                        text = cand
                        changed = True
                    else:
                        i += chunk
                chunk //= 2
    shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write(text)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tool-dir", required=True, help="directory with muir-opt and muirc")
    ap.add_argument("--seeds", nargs="+", default=DEFAULT_SEEDS,
                    help="seed .mlir files or directories (default: examples/ and test/fuzz/Inputs/)")
    ap.add_argument("--count", type=int, default=300, help="number of mutants (default 300)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--save-dir", help="where to save BAD mutants and their output")
    ap.add_argument("--timeout", type=float, default=10, help="seconds per tool run (default 10)")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="parallel mutants")
    ap.add_argument("--no-generic", dest="generic", action="store_false",
                    help="do not add the generic form of each seed as a seed")
    ap.add_argument("--pipeline", action="append", dest="pipelines", metavar="ARGS",
                    help="muir-opt arguments to run on every mutant that verifies "
                    "(repeatable; default: %s)" % "; ".join(DEFAULT_PIPELINES))
    ap.add_argument("--no-pipelines", action="store_true", help="run no passes")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="also list failures whose message has no location")
    ap.add_argument("--replay", nargs="+", metavar="FILE", help="check these files instead of mutating")
    ap.add_argument("--minimize", nargs=1, metavar="FILE", help="shrink a BAD file, print it to stdout")
    args = ap.parse_args()

    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:allow_user_poisoning=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    # No crash reports or symbolizer delays: a crash is a crash.
    env["LLVM_DISABLE_CRASH_REPORT"] = "1"
    env["LLVM_DISABLE_SYMBOLIZATION"] = "1"
    pipelines = [] if args.no_pipelines else (args.pipelines or DEFAULT_PIPELINES)
    tools = Tools(args.tool_dir, args.timeout, env, pipelines)
    if args.replay:
        return run_replay(args, tools)
    if args.minimize:
        return run_minimize(args, tools)
    return run_campaign(args, tools)


if __name__ == "__main__":
    sys.exit(main())
