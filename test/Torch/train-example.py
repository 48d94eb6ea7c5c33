# examples/torch/train.py as a user runs it: the GPT and the Llama, each in
# fp32 and in bf16 (--precision bf16: the module in bfloat16 over muir's
# float32 master weights), and the GPT with Lion, 50 steps each at a small
# size on the GPL-3 text. Each run must learn (the train loss at step 50 at
# least 0.5 below step 1's, which starts near ln 256 = 5.55 for bytes) and
# leave a checkpoint whose module tensors have the precision's dtype (bf16:
# the optimizer's state_dict also holds the float32 master weights: the
# flat buffer, at least one per parameter element). A hostile --optimizer is
# muirc's error on one line and exit status 1, not a traceback.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t %muir_src/examples/torch/train.py | FileCheck %s
# CHECK: gpt fp32 adamw: learns, checkpoint float32
# CHECK-NEXT: gpt bf16 adamw: learns, checkpoint bfloat16 + float32 master
# CHECK-NEXT: llama fp32 adamw: learns, checkpoint float32
# CHECK-NEXT: llama bf16 adamw: learns, checkpoint bfloat16 + float32 master
# CHECK-NEXT: gpt fp32 lion: learns, checkpoint float32
# CHECK-NEXT: --optimizer 'lion;rm -rf /': exit 1, one line: train.py: error: muirc package {{.*}}: --optimizer 'lion;rm -rf /' is unknown; expected {{.*}}

import os
import re
import subprocess
import sys

import torch

out, train = sys.argv[1], sys.argv[2]

for model, precision, optimizer, lr in [("gpt", "fp32", "adamw", 3e-3),
                                        ("gpt", "bf16", "adamw", 3e-3),
                                        ("llama", "fp32", "adamw", 3e-3),
                                        ("llama", "bf16", "adamw", 3e-3),
                                        ("gpt", "fp32", "lion", 1e-3)]:
    work = os.path.join(out, "%s-%s-%s" % (model, precision, optimizer))
    run = subprocess.run(
        [sys.executable, train, "--model", model, "--precision", precision,
         "--optimizer", optimizer, "--lr", str(lr), "--steps", "50",
         "--warmup", "5", "--width", "64", "--layers", "2",
         "--base-width", "32", "--base-layers", "1", "--seq", "32",
         "--batch", "8", "--out", work],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    label = "%s %s %s" % (model, precision, optimizer)
    assert run.returncode == 0, "%s: exit %d\n%s" % (label, run.returncode,
                                                    run.stdout)
    losses = {int(m.group(1)): float(m.group(2)) for m in re.finditer(
        r"^step +(\d+) +train ([0-9.naninf]+) +val", run.stdout, re.M)}
    assert sorted(losses) == [1, 50], (label, run.stdout)
    assert 5.0 < losses[1] < 6.0, (label, losses)
    assert losses[50] < losses[1] - 0.5, (label, losses)
    saved = torch.load(os.path.join(work, "checkpoint.pt"))
    dtypes = {t.dtype for t in saved["model"].values()
              if t.is_floating_point()}
    want = torch.bfloat16 if precision == "bf16" else torch.float32
    assert dtypes == {want}, (label, dtypes)
    kind = str(want).replace("torch.", "")
    if precision == "bf16":
        master = saved["optimizer"]["master"]
        # The parameter count train.py prints (model.parameters(): the
        # state_dict also holds buffers such as the GPT's causal mask).
        elements = int(re.search(r"; (\d+) parameters", run.stdout).group(1))
        assert master.dtype == torch.float32, (label, master.dtype)
        assert master.numel() >= elements, (label, master.numel(), elements)
        kind += " + float32 master"
    print("%s: learns, checkpoint %s" % (label, kind))

bad = "lion;rm -rf /"
run = subprocess.run([sys.executable, train, "--optimizer", bad, "--steps",
                      "1", "--width", "64", "--layers", "2", "--base-width",
                      "32", "--base-layers", "1", "--seq", "32", "--out",
                      os.path.join(out, "bad")],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                     text=True)
assert run.returncode == 1 and "Traceback" not in run.stdout, run.stdout
assert "\n" not in run.stdout.strip(), run.stdout
assert not os.path.exists(os.path.join(out, "bad", "checkpoint.pt"))
print("--optimizer '%s': exit %d, one line: %s"
      % (bad, run.returncode, run.stdout.strip()))
