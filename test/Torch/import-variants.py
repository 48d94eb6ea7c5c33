# More models imported by muir.torch against independently built programs
# of the same sizes (muirc import --card; the cards are checked against the
# hand-written examples and the published tables in test/Import and
# test/Parametrization): every parameter, by the user's own name, gets the
# role, init, per-copy lr, weight decay, eps, betas, init scale and forward
# multiplier of its counterpart under completep (alpha 1), and the residual
# branches and attention scales agree.
#   - an MLP without blocks (fc1, fc2, head) against the mlp card;
#   - examples/torch/llama.py (RMSNorm as x * rsqrt(mean(x^2)) * weight,
#     rotary embeddings by cat/chunk, grouped-query attention by
#     repeat_interleave, SwiGLU, untied output, a 1/sqrt(d_head) written
#     as a division) against the llama card with n_kv_head;
#   - nanoGPT's GPT with its embeddings untied against the untied gpt card;
#   - an MLP with an auxiliary head added to the loss: both heads are
#     readouts with the main head's constants (closed form: TP5's output
#     weights).
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: mlp: 6 parameters agree with the card
# CHECK-NEXT: llama: 12 parameters, 2 residuals, 1 attentions agree with the card
# CHECK-NEXT: gpt untied: 17 parameters, 2 residuals, 1 attentions agree with the card
# CHECK-NEXT: auxiliary head: aux.weight unembedding = head.weight unembedding

import json
import os
import subprocess
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import muir
import muir.torch as mt
from gpt import GPT, GPTConfig
from llama import Llama, LlamaConfig
from models import MLP

TMP = sys.argv[1]
MUIRC = os.environ["MUIRC"]
torch.manual_seed(0)
torch.set_num_threads(1)
FLAGS = ["--lr", "3e-3", "--weight-decay", "0.1", "--eps", "1e-6"]


def card_package(name, target, base):
    for which, c in (("target", target), ("base", base)):
        json.dump(c, open(os.path.join(TMP, "%s-%s.json" % (name, which)), "w"))
    path = os.path.join(TMP, name + "-card")
    subprocess.run([MUIRC, "package", "--card",
                    os.path.join(TMP, name + "-target.json"), "--base-card",
                    os.path.join(TMP, name + "-base.json"), "--scheme",
                    "completep", "--no-gpu", "-o", path] + FLAGS, check=True,
                   timeout=600, stdout=subprocess.DEVNULL)
    return muir.Package(path)


def compare(title, ours, theirs, names, fused=()):
    """`fused`: parameters whose shapes differ (nanoGPT's c_attn is q, k and
    v of the card in one [3 d, d] weight)."""
    assert set(ours.params_info) == set(names), sorted(ours.params_info)
    for name, info in ours.params_info.items():
        other = theirs.params_info[names[name]]
        for field in ("role", "init", "copies", "multiplier", "copy_shape"):
            if field == "copy_shape" and name in fused:
                continue
            assert getattr(info, field) == getattr(other, field), \
                (title, name, field, getattr(info, field),
                 getattr(other, field))
        if info.tied_to is None:
            assert ours.tensor_rows[name] == theirs.tensor_rows[names[name]], \
                (title, name, ours.tensor_rows[name],
                 theirs.tensor_rows[names[name]])
    assert [r.multiplier for r in ours.residuals] == \
        [r.multiplier for r in theirs.residuals], title
    assert [(a.head_dim_size, a.scale) for a in ours.attention] == \
        [(a.head_dim_size, a.scale) for a in theirs.attention], title
    extra = ""
    if ours.residuals or ours.attention:
        extra = ", %d residuals, %d attentions" % (len(ours.residuals),
                                                   len(ours.attention))
    print("%s: %d parameters%s agree with the card"
          % (title, len(ours.params_info), extra))


def zero_biases(*models):
    """Biases initialised to zero, as the cards do (muir reads a tensor of
    zeros as init zeros, anything else as the scheme's normal)."""
    for m in models:
        for n, p in m.named_parameters():
            if n.endswith("bias"):
                torch.nn.init.zeros_(p)
    return models


def imported_package(name, model, base, args, **kwargs):
    zero_biases(model, base)
    imported = mt.import_model(model, base, args, name=name,
                               workdir=os.path.join(TMP, name), **kwargs)
    return mt.package(imported, os.path.join(TMP, name + "-pkg"), "completep",
                      extra=FLAGS)


# ---- MLP --------------------------------------------------------------------
x, y = torch.randn(8, 12), torch.randint(0, 5, (8,))
ours = imported_package("mlp", MLP(12, 64, 5), MLP(12, 16, 5), (x, y))


def mlp_card(hidden):
    return {"name": "mlp", "family": "mlp", "d_in": 12, "d_hidden": hidden,
            "n_layer": 1, "d_out": 5, "bias": True, "batch": 8}


theirs = card_package("mlp", mlp_card(64), mlp_card(16))
compare("mlp", ours, theirs, {
    "fc1.weight": "input.weight", "fc1.bias": "input.bias",
    "fc2.weight": "hidden.weight", "fc2.bias": "hidden.bias",
    "head.weight": "readout.weight", "head.bias": "readout.bias"})

# ---- Llama with grouped-query attention --------------------------------------
VOCAB, SEQ = 64, 16


def llama(d, layers):
    return Llama(LlamaConfig(vocab_size=VOCAB, block_size=SEQ, n_layer=layers,
                             n_head=d // 32, n_kv_head=d // 64, n_embd=d,
                             ffn_hidden=3 * d))


def llama_card(d, layers):
    return {"name": "llama", "family": "llama", "d_model": d,
            "n_layer": layers, "n_head": d // 32, "n_kv_head": d // 64,
            "d_ff": 3 * d, "vocab": VOCAB, "seq_len": SEQ, "batch": 2,
            "tied_embeddings": False, "bias": False, "qk_norm": False}


tokens = torch.randint(0, VOCAB, (2, SEQ))
ours = imported_package("llama", llama(128, 4), llama(64, 2), (tokens, tokens))
theirs = card_package("llama", llama_card(128, 4), llama_card(64, 2))
names = {"tok_embeddings.weight": "embed_tokens.weight",
         "norm.weight": "norm.weight", "output.weight": "lm_head.weight"}
for mine, card in (("attention_norm", "input_layernorm"),
                   ("attention.wq", "self_attn.q_proj"),
                   ("attention.wk", "self_attn.k_proj"),
                   ("attention.wv", "self_attn.v_proj"),
                   ("attention.wo", "self_attn.o_proj"),
                   ("ffn_norm", "post_attention_layernorm"),
                   ("feed_forward.w1", "mlp.gate_proj"),
                   ("feed_forward.w3", "mlp.up_proj"),
                   ("feed_forward.w2", "mlp.down_proj")):
    names["layers.*.%s.weight" % mine] = "layers.%s.weight" % card
compare("llama", ours, theirs, names)

# ---- GPT with untied embeddings ------------------------------------------------


class UntiedGPT(GPT):
    def __init__(self, config):
        super().__init__(config)
        self.lm_head.weight = nn.Parameter(self.lm_head.weight.detach().clone())


def gpt(d, heads, layers):
    return UntiedGPT(GPTConfig(block_size=SEQ, vocab_size=VOCAB,
                               n_layer=layers, n_head=heads, n_embd=d))


def gpt_card(d, heads, layers):
    return {"name": "gpt", "family": "gpt", "d_model": d, "n_layer": layers,
            "n_head": heads, "d_ff": 4 * d, "vocab": VOCAB, "seq_len": SEQ,
            "batch": 2, "tied_embeddings": False, "bias": True,
            "qk_norm": False}


ours = imported_package("gpt", gpt(64, 4, 4), gpt(32, 2, 2), (tokens, tokens),
                        loss=lambda o: o[1])
theirs = card_package("gpt", gpt_card(64, 4, 4), gpt_card(32, 2, 2))
names = {"transformer.wte.weight": "wte", "transformer.wpe.weight": "wpe",
         "lm_head.weight": "lm_head.weight",
         "transformer.ln_f.weight": "ln_f.weight",
         "transformer.ln_f.bias": "ln_f.bias"}
for mine, card in (("ln_1", "ln_1"), ("ln_2", "ln_2"),
                   ("attn.c_attn", "attn.q"), ("attn.c_proj", "attn.o"),
                   ("mlp.c_fc", "mlp.fc"), ("mlp.c_proj", "mlp.proj")):
    for kind in ("weight", "bias"):
        names["transformer.h.*.%s.%s" % (mine, kind)] = \
            "blocks.%s.%s" % (card, kind)
compare("gpt untied", ours, theirs, names,
        fused=("transformer.h.*.attn.c_attn.weight",
               "transformer.h.*.attn.c_attn.bias"))

# ---- An auxiliary head ---------------------------------------------------------


class AuxMLP(MLP):
    def __init__(self, d_in, hidden, classes):
        super().__init__(d_in, hidden, classes)
        self.aux = nn.Linear(hidden, classes)

    def forward(self, x, y):
        h = F.relu(self.fc2(F.relu(self.fc1(x))))
        return F.cross_entropy(self.head(h), y) + \
            0.1 * F.cross_entropy(self.aux(h), y)


ours = imported_package("aux", AuxMLP(12, 64, 5), AuxMLP(12, 16, 5), (x, y))
head, aux = ours.params_info["head.weight"], ours.params_info["aux.weight"]
assert aux.role == head.role == "unembedding", (aux.role, head.role)
assert aux.multiplier == head.multiplier
assert ours.tensor_rows["aux.weight"] == ours.tensor_rows["head.weight"]
assert ours.tensor_rows["aux.bias"] == ours.tensor_rows["head.bias"]
print("auxiliary head: aux.weight %s = head.weight %s" % (aux.role, head.role))
