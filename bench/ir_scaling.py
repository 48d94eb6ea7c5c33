#!/usr/bin/python3
"""How the compile-time passes grow with the size of the tp program.

    python3 bench/ir_scaling.py [--build build] [--quick] [--sizes 1000,10000]

Generates tp programs of about 1,000, 10,000 and 100,000 ops (a transformer
whose layers are written out one by one at model level, as an importer that
does not fold them into a tp.repeat produces them, plus one tp.repeat block,
a final norm and a tied readout), then times, with MLIR's own pass timing
(`--mlir-timing`, one thread):

  parse        reading the text, without the verifier (our parsers and
               types inside MLIR's parser)
  verify       the verifier after parsing (every op verifier and
               tp.model's), as parse with it minus parse without it
  parametrize  tp-parametrize (role derivation and the scaling rules)
  instantiate  tp-instantiate (the rules at this model's ratios)
  report       tp-print-report in JSON (the parameter table, every value)
  print        printing the verified IR (MLIR's printer verifies first)
  cpu          CPU seconds (user + system) of the whole process that
               parses, verifies, runs the three passes and prints

and prints each time with its growth per 10x ops: 10 means linear, 100
quadratic. The phase times are wall-clock (MLIR's timer); on a shared
machine the fastest of --reps runs counts, and the CPU column is the
check that does not depend on the load.

Each layer declares its own MLP width dim, so the number of
dims grows with the program as well (an importer names every distinct
size). Not a test: CI does not run it; see docs/Performance.md.
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--build", default="build")
ap.add_argument("--sizes", default="1000,10000,100000",
                help="comma-separated target op counts")
ap.add_argument("--quick", action="store_true",
                help="sizes 1000,10000 and one repetition")
ap.add_argument("--reps", type=int, default=3,
                help="repetitions (the fastest counts)")
ap.add_argument("--keep", help="write the generated programs to this folder")
args = ap.parse_args()
sizes = [1000, 10000] if args.quick else [int(s) for s in args.sizes.split(",")]
reps = 1 if args.quick else args.reps
opt = os.path.join(args.build, "bin", "muir-opt")

# Types used by every layer; dims are declared in the model header.
X = "!tp.tensor<[batch, seq, d_model], f32>"
Q = "!tp.tensor<[batch, seq, d_attn], f32>"
VEC = "!tp.tensor<[d_model], f32>"
HEAD = "!tp.tensor<[d_head], f32>"
W_QKV = "!tp.tensor<[d_attn, d_model], f32>"
W_O = "!tp.tensor<[d_model, d_attn], f32>"
OPS_PER_LAYER = 29


def layer(out, i, x):
    """Appends one pre-norm attention + MLP layer reading `x`; returns the
    name of its output. Adds OPS_PER_LAYER ops."""
    ff = f"ff{i}"
    FF = f"!tp.tensor<[batch, seq, {ff}], f32>"
    p = f"layers.{i}"

    def param(name, init, ty):
        out.append(f'  %{name}_{i} = tp.param "{p}.{name}" {init} : {ty}')

    def op(text):
        out.append("  " + text)

    out.append(f"  tp.dim @{ff} = width<base 64, size 256>")
    param("ln1_g", "ones", VEC)
    param("ln1_b", "zeros", VEC)
    op(f"%n1_{i} = tp.layer_norm %{x}, %ln1_g_{i}, %ln1_b_{i} : ({X}, {VEC}, {VEC}) -> {X}")
    for w in ("q", "k", "v"):
        param(f"{w}_w", "normal", W_QKV)
        param(f"{w}_b", "zeros", "!tp.tensor<[d_attn], f32>")
        op(f"%{w}_{i} = tp.linear %n1_{i}, %{w}_w_{i}, %{w}_b_{i} : ({X}, {W_QKV}, !tp.tensor<[d_attn], f32>) -> {Q}")
    param("qn_g", "ones", HEAD)
    op(f"%qn_{i} = tp.rms_norm %q_{i}, %qn_g_{i} : ({Q}, {HEAD}) -> {Q}")
    op(f"%qr_{i} = tp.rope %qn_{i} head_dim @d_head : {Q}")
    op(f"%kr_{i} = tp.rope %k_{i} head_dim @d_head : {Q}")
    op(f"%a_{i} = tp.attention %qr_{i}, %kr_{i}, %v_{i} head_dim @d_head causal : ({Q}, {Q}, {Q}) -> {Q}")
    param("o_w", "normal", W_O)
    op(f"%o_{i} = tp.linear %a_{i}, %o_w_{i} : ({Q}, {W_O}) -> {X}")
    op(f"%r1_{i} = tp.add %{x}, %o_{i} : ({X}, {X}) -> {X}")
    param("ln2_g", "ones", VEC)
    op(f"%n2_{i} = tp.rms_norm %r1_{i}, %ln2_g_{i} : ({X}, {VEC}) -> {X}")
    param("up_w", "normal", f"!tp.tensor<[{ff}, d_model], f32>")
    op(f"%up_{i} = tp.linear %n2_{i}, %up_w_{i} : ({X}, !tp.tensor<[{ff}, d_model], f32>) -> {FF}")
    op(f"%act_{i} = tp.gelu %up_{i} : {FF}")
    param("down_w", "normal", f"!tp.tensor<[d_model, {ff}], f32>")
    op(f"%down_{i} = tp.linear %act_{i}, %down_w_{i} : ({FF}, !tp.tensor<[d_model, {ff}], f32>) -> {X}")
    op(f"%r2_{i} = tp.add %r1_{i}, %down_{i} : ({X}, {X}) -> {X}")
    return f"r2_{i}"


def program(target_ops):
    """A tp program of about `target_ops` ops."""
    layers = max(1, round((target_ops - 40) / OPS_PER_LAYER))
    out = [f"tp.model @gen{target_ops} {{",
           "  tp.dim @batch = fixed<2>",
           "  tp.dim @seq = fixed<16>",
           "  tp.dim @vocab = fixed<512>",
           "  tp.dim @d_model = width<base 64, size 256>",
           "  tp.dim @n_head = width<base 2, size 8>",
           "  tp.dim @d_head = fixed<32>",
           "  tp.dim @d_attn = product<@n_head, @d_head>",
           "  tp.dim @layers = depth<base 2, size 8>",
           '  %tok = tp.input "tokens" : !tp.tensor<[batch, seq], i32>',
           '  %tgt = tp.input "targets" : !tp.tensor<[batch, seq], i32>',
           '  %wte = tp.param "wte" normal : !tp.tensor<[vocab, d_model], f32>',
           '  %wpe = tp.param "wpe" normal : !tp.tensor<[seq, d_model], f32>',
           f"  %e = tp.embedding %tok, %wte : (!tp.tensor<[batch, seq], i32>, "
           f"!tp.tensor<[vocab, d_model], f32>) -> {X}",
           f"  %x = tp.add %e, %wpe : ({X}, !tp.tensor<[seq, d_model], f32>) -> {X}",
           '  %scale = tp.param "logit_scale" ones : !tp.tensor<[], f32>']
    x = "x"
    for i in range(layers):
        x = layer(out, i, x)
    # One repeated block, so that the final norm reads a tp.repeat.
    out += [f"  %y = tp.repeat @layers (%{x}) : ({X}) -> {X} {{",
            f"  ^bb0(%h: {X}):",
            f'    %g = tp.param "blocks.ln.g" ones : {VEC}',
            f"    %hn = tp.rms_norm %h, %g : ({X}, {VEC}) -> {X}",
            '    %w = tp.param "blocks.fc.w" normal : !tp.tensor<[d_model, d_model], f32>',
            f"    %f = tp.linear %hn, %w : ({X}, !tp.tensor<[d_model, d_model], f32>) -> {X}",
            f"    %hr = tp.residual %h, %f : {X}",
            f"    tp.yield %hr : {X}",
            "  }",
            '  %lnf_g = tp.param "ln_f.g" ones : ' + VEC,
            f"  %yn = tp.rms_norm %y, %lnf_g : ({X}, {VEC}) -> {X}",
            '  %head = tp.param "lm_head" tied "wte" : !tp.tensor<[vocab, d_model], f32>',
            f"  %logits = tp.linear %yn, %head : ({X}, !tp.tensor<[vocab, d_model], f32>) "
            "-> !tp.tensor<[batch, seq, vocab], f32>",
            "  %scaled = tp.mul %logits, %scale : (!tp.tensor<[batch, seq, vocab], f32>, "
            "!tp.tensor<[], f32>) -> !tp.tensor<[batch, seq, vocab], f32>",
            "  %loss = tp.cross_entropy %scaled, %tgt : (!tp.tensor<[batch, seq, vocab], f32>, "
            "!tp.tensor<[batch, seq], i32>) -> !tp.tensor<[], f32>",
            "  tp.output %loss : !tp.tensor<[], f32>",
            "}"]
    return "\n".join(out) + "\n"


def count_ops(text):
    """Ops in the program: lines that define or use one (not ^bb0 or })."""
    return sum(1 for line in text.splitlines()
               if re.match(r"\s*(%|tp\.)", line))


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timings(path, passes):
    """Wall seconds of each phase in MLIR's timing report for one run, and
    the CPU seconds of the whole run under "cpu"."""
    cmd = [opt, path, "--mlir-disable-threading", "--mlir-timing",
           "--mlir-timing-display=list", "-o", os.devnull] + passes
    before = cpu_seconds()
    run = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    if run.returncode != 0:
        sys.exit(f"muir-opt failed on {path}:\n{run.stderr[-2000:]}")
    times = {"cpu": cpu_seconds() - before}
    for line in run.stderr.splitlines():
        # "   0.0123 ( 12.3%)  Parser" (wall time first with one thread)
        m = re.match(r"\s*([0-9.]+) \(\s*[0-9.]+%\)\s+(.*\S)\s*$", line)
        if m:
            times[m.group(2)] = times.get(m.group(2), 0.0) + float(m.group(1))
    return times


PIPELINE = ["--verify-each=0",
            "--tp-parametrize=scheme=completep optimizer=adamw",
            "--tp-instantiate", "--tp-print-report=format=json"]
UNVERIFIED = ["--mlir-very-unsafe-disable-verifier-on-parsing"]
PHASES = ["parse", "verify", "parametrize", "instantiate", "report", "print",
          "cpu"]


def measure(path):
    """The time of each phase on the program at `path`: the fastest of the
    repetitions, phase by phase."""
    unverified, verified, piped = [], [], []
    for _ in range(reps):
        unverified.append(timings(path, UNVERIFIED))
        verified.append(timings(path, []))
        piped.append(timings(path, PIPELINE))

    def fastest(runs, key):
        return min(r[key] for r in runs)

    # MLIR times the verifier after parsing as part of "Parser": take it as
    # the difference from a parse without it.
    parse = fastest(unverified, "Parser")
    return {"parse": parse,
            "verify": max(0.0, fastest(verified, "Parser") - parse),
            "parametrize": fastest(piped, "TPParametrize"),
            "instantiate": fastest(piped, "TPInstantiate"),
            "report": fastest(piped, "TPPrintReport"),
            "print": fastest(verified, "Output"),
            "cpu": fastest(piped, "cpu")}


def main():
    tmp = args.keep or tempfile.mkdtemp(prefix="muir-ir-scaling-")
    os.makedirs(tmp, exist_ok=True)
    results = []
    for size in sizes:
        text = program(size)
        path = os.path.join(tmp, f"gen{size}.mlir")
        with open(path, "w") as f:
            f.write(text)
        row = {"ops": count_ops(text), **measure(path)}
        results.append(row)
        print(f"{row['ops']:>8} ops: " +
              ", ".join(f"{p} {row[p]:.3f}s" for p in PHASES), flush=True)

    print()
    header = f"{'ops':>8}  " + "  ".join(f"{p:>18}" for p in PHASES)
    print(header)
    prev = None
    for row in results:
        cells = []
        for p in PHASES:
            growth = ""
            if prev and prev[p] > 0:
                factor = (row["ops"] / prev["ops"]) / 10
                growth = f" (x{row[p] / prev[p] / factor:5.1f})"
            cells.append(f"{row[p]:8.3f}s{growth:>9}")
        print(f"{row['ops']:>8}  " + "  ".join(f"{c:>18}" for c in cells))
        prev = row
    print("\n(xN: growth of the time per 10x ops; 10 is linear, 100 quadratic)")


main()
