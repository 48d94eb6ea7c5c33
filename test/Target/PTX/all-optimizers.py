# REQUIRES: ptxas
# RUN: %python %s %muir_tools %muir_src %t %ptxas | FileCheck %s
#
# The CUDA kernels of every optimizer on the GPT-2 and Llama example cards
# (full size: GPT-2 small, a 16-layer Llama; CompleteP, muP Table 8 for
# the SGD family), assembled by ptxas -v for
# sm_80 and sm_90: each of muir_init_kernel, muir_step_kernel and
# muir_reduce_kernel and muir_telemetry_kernel is there, with no spill store
# or load and no stack
# frame, and the step kernel keeps its 128-bit loads and stores. Prints the
# registers of each kernel (docs/Performance.md has the table). The PTX comes
# from muir-opt (tp-lower-to-nvvm), without building the CPU library.
#
# CHECK: gpt2 sgd: sm_80 init {{[0-9]+}} step {{[0-9]+}} reduce {{[0-9]+}} telemetry {{[0-9]+}}, sm_90 init
# CHECK: llama adam-atan2: sm_80
# CHECK: llama lion:recipe: sm_80
# CHECK: llama lion-a: sm_80
# CHECK: llama lion-ar:recipe,units=tensor: sm_80
# CHECK: 0 spills in 208 kernels
import os
import re
import subprocess
import sys

TOOLS, SRC, TMP, PTXAS = sys.argv[1:5]
os.makedirs(TMP, exist_ok=True)
OPTIMIZERS = ["sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamw",
              "adamw-decoupled", "lion", "adam-atan2", "adamw:bias-correction1=false",
              "lion:recipe", "lion-a", "lion-ar", "lion-ar:recipe,units=tensor"]
CARDS = {"gpt2": ("gpt2-small.json", "gpt2-base.json"),
         "llama": ("llama-target.json", "llama-base.json")}
KERNELS = ["muir_init_kernel", "muir_step_kernel", "muir_reduce_kernel",
           "muir_telemetry_kernel"]


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
    for optimizer in OPTIMIZERS:
        # CompleteP has no SGD rules; muP's Table 8 has (and a tied readout).
        scheme = "mup-table8" if optimizer.startswith("sgd") else "completep"
        pipeline = (f"builtin.module(tp.model(tp-parametrize{{scheme={scheme} optimizer="
                    f"{optimizer}}},tp-instantiate,tp-assign-layout),"
                    "convert-tp-to-kernels{gpu=true},tp-lower-to-nvvm)")
        lowered = subprocess.run([f"{TOOLS}/muir-opt", model, f"--pass-pipeline={pipeline}"],
                                 check=True, capture_output=True, text=True).stdout
        ptx = f"{TMP}/{card}-{optimizer.replace(':', '-').replace('=', '-').replace(',', '-')}.ptx"
        open(ptx, "w").write(ptx_of(lowered))
        step = open(ptx).read().split(".entry muir_step_kernel")[1].split(".entry")[0]
        if "ld.global.v4" not in step or "st.global.v4" not in step:
            failures.append(f"{card} {optimizer}: the step kernel lost its 128-bit accesses")
        line = []
        for chip in ("sm_80", "sm_90"):
            report = subprocess.run([PTXAS, "-arch", chip, "-v", ptx, "-o", f"{ptx}.{chip}.cubin"],
                                    check=True, capture_output=True, text=True).stderr
            registers = {}
            # Per entry: "Compiling entry function 'K'", then its function
            # properties (stack frame, spills) and "Used N registers".
            for kernel in KERNELS:
                m = re.search(rf"Compiling entry function '{kernel}'.*?"
                              rf"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                              rf"(\d+) bytes spill loads\s+ptxas info\s+: Used (\d+) registers",
                              report, re.S)
                if not m:
                    failures.append(f"{card} {optimizer} {chip}: no report for {kernel}")
                    continue
                kernels += 1
                stack, stores, loads, regs = map(int, m.groups())
                if stack or stores or loads:
                    failures.append(f"{card} {optimizer} {chip} {kernel}: stack {stack}, "
                                    f"spill stores {stores}, loads {loads}")
                registers[kernel] = regs
            if re.search(r"[1-9]\d* bytes spill", report):
                failures.append(f"{card} {optimizer} {chip}: ptxas reports a spill")
            line.append(f"{chip} " + " ".join(f"{k.split('_')[1]} {registers.get(k, '?')}"
                                               for k in KERNELS))
        print(f"{card} {optimizer}: " + ", ".join(line))

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} spills in {kernels} kernels")
sys.exit(1 if failures else 0)
