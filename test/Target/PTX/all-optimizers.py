# REQUIRES: ptxas
# RUN: %python %s %muir_tools %muir_src %t %ptxas | FileCheck %s
#
# The CUDA kernels of every optimizer on the GPT-2 and Llama example cards
# (full size: GPT-2 small, a 16-layer Llama; CompleteP, muP Table 8 for
# the SGD family), assembled by ptxas -v for
# sm_80 and sm_90: each of muir_init_kernel, muir_step_kernel and
# muir_reduce_kernel and muir_telemetry_kernel (and LionAR's
# muir_reduce_units_kernel, muir_step_units_kernel and
# muir_unit_telemetry_kernel) is there, with no spill store or load and no
# stack frame, and the step kernel keeps its 128-bit loads and stores. The
# bf16 packages of AdamW, Lion with the recipe and LionAR (precision=bf16)
# add muir_step_bf16_kernel and muir_reduce_bf16_kernel, checked the same
# way (the bf16 step's 64-bit gradient loads and copy stores too), in a lit
# test of their own (all-optimizers-bf16.test) so that each stays quick.
# Prints the
# registers of each kernel (docs/Performance.md has the table). The PTX comes
# from muir-opt (tp-lower-to-nvvm), without building the CPU library.
#
# CHECK: gpt2 sgd: sm_80 init {{[0-9]+}} step {{[0-9]+}} reduce {{[0-9]+}} telemetry {{[0-9]+}}, sm_90 init
# CHECK: llama adam-atan2: sm_80
# CHECK: llama lion:recipe: sm_80
# CHECK: llama lion-a: sm_80
# CHECK: llama lion-ar:recipe,units=tensor: sm_80 {{.*}} reduce_units {{[0-9]+}} step_units {{[0-9]+}} unit_telemetry {{[0-9]+}}
# CHECK: 0 spills in 232 kernels
# BF16: gpt2 adamw bf16: sm_80 init {{[0-9]+}} step {{[0-9]+}} reduce {{[0-9]+}} telemetry {{[0-9]+}} step_bf16 {{[0-9]+}} reduce_bf16 {{[0-9]+}}, sm_90
# BF16: llama lion-ar bf16: sm_80
# BF16: 0 spills in 84 kernels
import os
import re
import subprocess
import sys

TOOLS, SRC, TMP, PTXAS = sys.argv[1:5]
PART = sys.argv[5] if len(sys.argv) > 5 else "fp32"
os.makedirs(TMP, exist_ok=True)
OPTIMIZERS = ["sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamw",
              "adamw-decoupled", "lion", "adam-atan2", "adamw:bias-correction1=false",
              "lion:recipe", "lion-a", "lion-ar", "lion-ar:recipe,units=tensor"]
CARDS = {"gpt2": ("gpt2-small.json", "gpt2-base.json"),
         "llama": ("llama-target.json", "llama-base.json")}
KERNELS = ["muir_init_kernel", "muir_step_kernel", "muir_reduce_kernel",
           "muir_telemetry_kernel"]
BF16_KERNELS = ["muir_step_bf16_kernel", "muir_reduce_bf16_kernel"]
VARIANTS = ([(o, "fp32") for o in OPTIMIZERS] if PART == "fp32" else
            [(o, "bf16") for o in ("adamw", "lion:recipe", "lion-ar")])


def kernels_of(optimizer):
    """The kernels of a package with `optimizer`: LionAR's add its units'
    reduction across shards and their per-unit telemetry."""
    return KERNELS + (["muir_reduce_units_kernel", "muir_step_units_kernel",
                       "muir_unit_telemetry_kernel"]
                      if optimizer.startswith("lion-ar") else [])


def ptx_of(mlir):
    """The PTX text of the gpu.binary in muir-opt's output."""
    text = re.search(r'assembly = "((?:[^"\\]|\\.)*)"', mlir).group(1)
    return re.sub(r"\\([0-9A-Fa-f]{2}|.)",
                  lambda m: chr(int(m.group(1), 16)) if len(m.group(1)) == 2
                  else m.group(1), text)


failures, kernels = [], 0
for card, (target, base) in CARDS.items():
    model = f"{TMP}/{card}.mlir"
    subprocess.run([f"{TOOLS}/muirc", "import", "--card", f"{SRC}/examples/cards/{target}",
                    "--base-card", f"{SRC}/examples/cards/{base}", "-o", model], check=True)
    for optimizer, precision in VARIANTS:
        # CompleteP has no SGD rules; muP's Table 8 has (and a tied readout).
        scheme = "mup-table8" if optimizer.startswith("sgd") else "completep"
        pipeline = (f"builtin.module(tp.model(tp-parametrize{{scheme={scheme} optimizer="
                    f"{optimizer}}},tp-instantiate,tp-assign-layout),"
                    f"convert-tp-to-kernels{{gpu=true precision={precision}}},tp-lower-to-nvvm)")
        lowered = subprocess.run([f"{TOOLS}/muir-opt", model, f"--pass-pipeline={pipeline}"],
                                 check=True, capture_output=True, text=True).stdout
        name = optimizer + ("" if precision == "fp32" else " bf16")
        ptx = f"{TMP}/{card}-{re.sub('[:=, ]', '-', name)}.ptx"
        open(ptx, "w").write(ptx_of(lowered))
        text = open(ptx).read()
        step = text.split(".entry muir_step_kernel(")[1].split(".entry")[0]
        if "ld.global.v4" not in step or "st.global.v4" not in step:
            failures.append(f"{card} {name}: the step kernel lost its 128-bit accesses")
        kernel_names = kernels_of(optimizer)
        if precision == "bf16":
            kernel_names += BF16_KERNELS
            step = text.split(".entry muir_step_bf16_kernel(")[1].split(".entry")[0]
            # 4 bf16 gradients in one 64-bit load, the 4 copies in one
            # 64-bit store (two packed words), the f32 buffers 128-bit.
            if any(a not in step for a in ("ld.global.v4.b16", "st.global.v2.b32",
                                           "ld.global.v4.b32", "st.global.v4.b32")):
                failures.append(f"{card} {name}: the bf16 step kernel lost its vector accesses")
        line = []
        for chip in ("sm_80", "sm_90"):
            report = subprocess.run([PTXAS, "-arch", chip, "-v", ptx, "-o", f"{ptx}.{chip}.cubin"],
                                    check=True, capture_output=True, text=True).stderr
            registers = {}
            # Per entry: "Compiling entry function 'K'", then its function
            # properties (stack frame, spills) and "Used N registers".
            for kernel in kernel_names:
                m = re.search(rf"Compiling entry function '{kernel}'.*?"
                              rf"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                              rf"(\d+) bytes spill loads\s+ptxas info\s+: Used (\d+) registers",
                              report, re.S)
                if not m:
                    failures.append(f"{card} {name} {chip}: no report for {kernel}")
                    continue
                kernels += 1
                stack, stores, loads, regs = map(int, m.groups())
                if stack or stores or loads:
                    failures.append(f"{card} {name} {chip} {kernel}: stack {stack}, "
                                    f"spill stores {stores}, loads {loads}")
                registers[kernel] = regs
            if re.search(r"[1-9]\d* bytes spill", report):
                failures.append(f"{card} {name} {chip}: ptxas reports a spill")
            line.append(f"{chip} " + " ".join(
                f"{k[len('muir_'):-len('_kernel')]} {registers.get(k, '?')}"
                for k in kernel_names))
        print(f"{card} {name}: " + ", ".join(line))

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} spills in {kernels} kernels")
sys.exit(1 if failures else 0)
