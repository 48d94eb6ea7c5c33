# examples/torch/gpt.py (nanoGPT's GPT as its users write it: fused c_attn
# split with .split, `B, T, C = x.size()`, heads by view + transpose, masked
# softmax attention scaled by 1/sqrt(d_head), wte tied to lm_head, blocks in
# an nn.ModuleList) imported at two sizes: target d_model 64, 4 heads, 4
# layers; base d_model 32, 2 heads, 2 layers (d_head 16 in both). The same
# sizes built from a GPT card (muirc import --card: the hand-written
# examples/gpt2.mlir's program, q, k, v unfused) is the independent
# reference: under completep and mup-table8 every parameter, by the user's
# own name, has the role, init, per-copy lr, weight decay, eps, betas, init
# scale and forward multiplier of its counterpart, and the residual
# branches and the attention scale agree. The report names the user's
# parameters.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: dims: f16 w4 w64 w192 w256 transformer.h (depth 2 -> 4)
# CHECK-NEXT: completep: 17 parameters, 2 residuals, 1 attentions agree with the card
# CHECK-NEXT: mup-table8: 17 parameters, 2 residuals, 1 attentions agree with the card
# CHECK-NEXT: attention scale 0.0625 (1/d_head) replaces 1/sqrt(d_head)
# CHECK-NEXT: report: transformer.h.*.attn.c_attn weight hidden
# CHECK-NEXT: forward: bound model = hand-written reference

import json
import os
import re
import subprocess
import sys

import torch
import torch.nn.functional as F

import muir
import muir.torch as mt
from gpt import GPT, GPTConfig

TMP = sys.argv[1]
MUIRC = os.environ["MUIRC"]
torch.manual_seed(0)
torch.set_num_threads(1)

VOCAB, SEQ, BATCH = 64, 16, 2
target_cfg = GPTConfig(block_size=SEQ, vocab_size=VOCAB, n_layer=4, n_head=4,
                       n_embd=64)
base_cfg = GPTConfig(block_size=SEQ, vocab_size=VOCAB, n_layer=2, n_head=2,
                     n_embd=32)
model, base = GPT(target_cfg), GPT(base_cfg)
idx = torch.randint(0, VOCAB, (BATCH, SEQ))
targets = torch.randint(0, VOCAB, (BATCH, SEQ))
imported = mt.import_model(model, base, (idx, targets), loss=lambda o: o[1],
                           name="gpt", workdir=os.path.join(TMP, "imp"))
dims = re.findall(r"tp.dim @(\S+) = (\w+)<(?:base )?(\d+)(?:, size (\d+))?>",
                  imported.mlir)
print("dims:", " ".join(n for n, k, _, _ in dims
                        if k == "width" or n == "f16"),
      " ".join("%s (depth %s -> %s)" % (n, b, s) for n, k, b, s in dims
               if k == "depth"))


def card(d, heads, layers):
    return {"name": "gpt", "family": "gpt", "d_model": d, "n_layer": layers,
            "n_head": heads, "d_ff": 4 * d, "vocab": VOCAB, "seq_len": SEQ,
            "batch": BATCH, "tied_embeddings": True, "bias": True,
            "qk_norm": False}


for name, c in (("target", card(64, 4, 4)), ("base", card(32, 2, 2))):
    json.dump(c, open(os.path.join(TMP, name + ".json"), "w"))

# The user's names -> the card's.
CARD_NAME = {
    "transformer.wte.weight": "wte", "transformer.wpe.weight": "wpe",
    "lm_head.weight": "lm_head", "transformer.ln_f.weight": "ln_f.weight",
    "transformer.ln_f.bias": "ln_f.bias"}
for ours, theirs in (("ln_1", "ln_1"), ("ln_2", "ln_2"),
                     ("attn.c_attn", "attn.q"), ("attn.c_proj", "attn.o"),
                     ("mlp.c_fc", "mlp.fc"), ("mlp.c_proj", "mlp.proj")):
    for kind in ("weight", "bias"):
        CARD_NAME["transformer.h.*.%s.%s" % (ours, kind)] = \
            "blocks.%s.%s" % (theirs, kind)

FLAGS = ["--lr", "3e-3", "--weight-decay", "0.1", "--eps", "1e-6"]
for scheme in ("completep", "mup-table8"):
    ours = mt.package(imported, os.path.join(TMP, "pkg-" + scheme), scheme,
                      extra=FLAGS)
    path = os.path.join(TMP, "card-" + scheme)
    subprocess.run([MUIRC, "package", "--card", os.path.join(TMP, "target.json"),
                    "--base-card", os.path.join(TMP, "base.json"),
                    "--scheme", scheme, "--optimizer", "adamw", "--no-gpu",
                    "-o", path] + FLAGS, check=True, timeout=600,
                   stdout=subprocess.DEVNULL)
    theirs = muir.Package(path)
    assert set(ours.params_info) == set(CARD_NAME), sorted(ours.params_info)
    for name, info in ours.params_info.items():
        other = theirs.params_info[CARD_NAME[name]]
        for field in ("role", "init", "copies", "multiplier"):
            assert getattr(info, field) == getattr(other, field), \
                (scheme, name, field, getattr(info, field),
                 getattr(other, field))
        assert (info.tied_to is None) == (other.tied_to is None), name
        if info.tied_to is None:
            assert ours.tensor_rows[name] == \
                theirs.tensor_rows[CARD_NAME[name]], \
                (scheme, name, ours.tensor_rows[name],
                 theirs.tensor_rows[CARD_NAME[name]])
    assert [r.multiplier for r in ours.residuals] == \
        [r.multiplier for r in theirs.residuals], scheme
    assert [(a.head_dim_size, a.scale) for a in ours.attention] == \
        [(a.head_dim_size, a.scale) for a in theirs.attention], scheme
    print("%s: %d parameters, %d residuals, %d attentions agree with the card"
          % (scheme, len(ours.params_info), len(ours.residuals),
             len(ours.attention)))
print("attention scale %g (1/d_head) replaces 1/sqrt(d_head)"
      % ours.attention[0].scale)

report = subprocess.run([MUIRC, "report", imported.path, "--scheme",
                         "completep"], capture_output=True, text=True,
                        check=True, timeout=600).stdout
lines = report.splitlines()
at = lines.index("transformer.h.*.attn.c_attn")
print("report:", lines[at], " ".join(lines[at + 1].split()[:2]))

# The bound model's forward (mup-table8: readout x 1/m_N, attention 1/d_head,
# no residual multiplier) against the same GPT written out by hand with those
# multipliers, on the bound model's own weights.
package = ours
mt.bind(model, package, imported)
mt.init_(model, seed=1)
P = dict(model.named_parameters())
m_out = package.params_info["lm_head.weight"].multiplier
assert abs(m_out - 0.5) < 1e-15, m_out


def reference(idx, targets):
    cfg = target_cfg
    B, T = idx.shape
    C, nh = cfg.n_embd, cfg.n_head
    x = F.embedding(idx, P["transformer.wte.weight"]) + \
        F.embedding(torch.arange(T), P["transformer.wpe.weight"])
    mask = torch.tril(torch.ones(T, T)) == 0
    for l in range(cfg.n_layer):
        p = lambda n: P["transformer.h.%d.%s" % (l, n)]
        h = F.layer_norm(x, (C,), p("ln_1.weight"), p("ln_1.bias"))
        q, k, v = F.linear(h, p("attn.c_attn.weight"),
                           p("attn.c_attn.bias")).split(C, dim=2)
        q, k, v = (t.view(B, T, nh, C // nh).transpose(1, 2)
                   for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / (C // nh))
        att = F.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + F.linear(y, p("attn.c_proj.weight"), p("attn.c_proj.bias"))
        h = F.layer_norm(x, (C,), p("ln_2.weight"), p("ln_2.bias"))
        h = F.gelu(F.linear(h, p("mlp.c_fc.weight"), p("mlp.c_fc.bias")))
        x = x + F.linear(h, p("mlp.c_proj.weight"), p("mlp.c_proj.bias"))
    x = F.layer_norm(x, (C,), P["transformer.ln_f.weight"],
                     P["transformer.ln_f.bias"])
    logits = F.linear(x, m_out * P["transformer.wte.weight"])  # tied
    return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1),
                           ignore_index=-1)


with torch.no_grad():
    ours_loss = model(idx, targets)[1]
    ref_loss = reference(idx, targets)
assert torch.allclose(ours_loss, ref_loss, rtol=1e-6, atol=0), \
    (ours_loss, ref_loss)
print("forward: bound model = hand-written reference")
