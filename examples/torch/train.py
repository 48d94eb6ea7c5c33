"""Trains examples/torch's nanoGPT-style GPT or Llama-style model with muir
on the CPU, on the bytes of a text from a Debian package (the GPL-3 in
/usr/share/common-licenses, from base-files).

    python3 examples/torch/train.py --model gpt --scheme mup --steps 300

The lines that make the user's model μP (or CompleteP, ...) are marked
"muir:"; everything else is an ordinary PyTorch training loop.
"""

import argparse
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import muir  # noqa: E402
import muir.torch as mt  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402
from llama import Llama, LlamaConfig  # noqa: E402

CORPUS = "/usr/share/common-licenses/GPL-3"


def models(kind, width, layers, base_width, base_layers, seq):
    if kind == "gpt":
        def make(d, n):
            return GPT(GPTConfig(block_size=seq, vocab_size=256, n_layer=n,
                                 n_head=d // 32, n_embd=d, dropout=0.0))
    else:
        def make(d, n):
            return Llama(LlamaConfig(vocab_size=256, block_size=seq,
                                     n_layer=n, n_head=d // 32,
                                     n_kv_head=max(1, d // 64), n_embd=d,
                                     ffn_hidden=8 * d // 3 // 32 * 32))
    return make(width, layers), make(base_width, base_layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["gpt", "llama"], default="gpt")
    ap.add_argument("--scheme", default="mup-table8")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--base-width", type=int, default=64)
    ap.add_argument("--base-layers", type=int, default=2)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--optimizer", default="adamw",
                    help="muirc --optimizer (adamw, lion, lion-ar, ...)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: the model runs in bfloat16 (parameters and "
                         "gradients) over float32 master weights and moments "
                         "that muir's step keeps, rounding stochastically")
    ap.add_argument("--muirc", default=None)
    ap.add_argument("--out", default=None, help="work directory")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    data = torch.from_numpy(np.fromfile(CORPUS, dtype=np.uint8).astype(np.int64))
    n_train = int(0.9 * len(data))

    def batch(split, generator):
        source = data[:n_train] if split == "train" else data[n_train:]
        start = torch.randint(0, len(source) - args.seq - 1, (args.batch,),
                              generator=generator)
        x = torch.stack([source[s:s + args.seq] for s in start])
        y = torch.stack([source[s + 1:s + 1 + args.seq] for s in start])
        return x, y

    out = args.out or tempfile.mkdtemp(prefix="muir-torch-train-")
    model, base = models(args.model, args.width, args.layers,
                         args.base_width, args.base_layers, args.seq)
    if args.precision == "bf16":
        # The whole module in bfloat16, buffers included (the Llama's
        # rotary tables); muir keeps the float32 master weights.
        model, base = model.to(torch.bfloat16), base.to(torch.bfloat16)
    x, y = batch("train", torch.Generator().manual_seed(0))
    loss_of = (lambda o: o[1]) if args.model == "gpt" else None

    started = time.time()
    # muir: import the model at its size and the base size (roles from the
    # dataflow), package it under a scheme, bind the module, init, optimize.
    imported = mt.import_model(model, base, (x, y), loss=loss_of,
                               muirc=args.muirc, workdir=out)
    package = mt.package(imported, os.path.join(out, "pkg"), args.scheme,
                         optimizer=args.optimizer, muirc=args.muirc,
                         lr=args.lr, weight_decay=args.weight_decay,
                         precision=args.precision)
    mt.bind(model, package, imported)
    mt.init_(model, seed=args.seed)
    opt = mt.Optimizer(model)
    print("import + package: %.1f s; %d parameters, %s under %s, %s, %s"
          % (time.time() - started,
             sum(p.numel() for p in model.parameters()), args.model,
             args.scheme, args.optimizer, args.precision))

    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / args.warmup) * 0.5 *
        (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    generator = torch.Generator().manual_seed(args.seed + 1)
    started = time.time()
    for step in range(1, args.steps + 1):
        x, y = batch("train", generator)
        output = model(x, y)
        loss = output[1] if args.model == "gpt" else output
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == 1:
            with torch.no_grad():
                vx, vy = batch("val", torch.Generator().manual_seed(7))
                vout = model(vx, vy)
                val = (vout[1] if args.model == "gpt" else vout).item()
            print("step %4d  train %.3f  val %.3f  (%.0f ms/step)"
                  % (step, loss.item(), val,
                     1000 * (time.time() - started) / step))
    # Written whole or not at all: two runs sharing --out leave one of them.
    checkpoint = os.path.join(out, "checkpoint.pt")
    partial = "%s.%d.tmp" % (checkpoint, os.getpid())
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()},
               partial)
    os.replace(partial, checkpoint)
    print("checkpoint:", checkpoint)


if __name__ == "__main__":
    try:
        main()
    except (mt.ImportError_, muir.Error) as e:
        # muirc's and the runtime's messages name the problem: no traceback.
        sys.exit("%s: error: %s" % (os.path.basename(sys.argv[0]), e))
