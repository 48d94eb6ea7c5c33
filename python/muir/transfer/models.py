"""The models of muir's cards, as torch forward passes over a package's
flat buffers.

muir compiles init and the optimizer step; the forward and backward pass are
the trainer's. Each family here is the tp program that `muirc import` builds
from a card (lib/Import/ModelCard.cpp, examples/*.mlir), written in torch op
for op, with every forward multiplier the package states applied once
(docs/Parametrization.md, "Applying the forward multipliers in a trainer"):

- a parameter's own multiplier at every use (W = multiplier * w),
- residual branch k of block l as stream + residuals[k].multiplier[l] * f,
- attention logits as scale * q.k with the package's scale.

A forward takes ``weights`` (a Weights: name -> torch tensor with the
multiplier applied, copies along a leading dim for the parameters in the
blocks) and may report named activations through ``record(name, tensor)``
for coordinate checks. The names are stable across widths and depths:
"input"/"embed" (the first activation), "block<l>" (the residual stream or
hidden activation after block l), "last" (the last block's output), "logits".
"""

import math

import torch
import torch.nn.functional as F

from .cards import FAMILIES

class Weights:
    """Leaf tensors over a muir State's params, and each use's effective
    weight multiplier * w.

    ``leaves`` maps every untied name to a leaf tensor that shares memory
    with the state's params view (no copy); a tied name reads its owner's
    leaf. ``w(name)`` is the whole parameter times its multiplier (a
    repeated one with copies along dim 0, even with one copy), ``w(name,
    l)`` copy l. grads_to(state) writes dL/dw of every leaf into the state's
    grads.
    """

    def __init__(self, package, state, block_prefix):
        self.info = package.params_info
        self.leaves = {}
        self._repeated = set()
        self._mult = {}
        for name, p in self.info.items():
            inside = name.startswith(block_prefix)
            mult = p.multiplier if isinstance(p.multiplier, tuple) \
                else (p.multiplier,) * p.copies
            self._mult[name] = torch.tensor(mult, dtype=torch.float32)
            if inside:
                self._repeated.add(name)
            if p.tied_to:
                continue
            t = torch.from_numpy(state.params[name])
            if inside and p.copies == 1:
                t = t.unsqueeze(0)
            self.leaves[name] = t.requires_grad_()

    def w(self, name, copy=None):
        p = self.info[name]
        leaf = self.leaves[p.tied_to or name]
        mult = self._mult[name]
        if name not in self._repeated:
            return leaf * float(mult[0])
        if copy is None:
            return leaf * mult.view((-1,) + (1,) * (leaf.dim() - 1))
        return leaf[copy] * float(mult[copy])

    def copies(self, name):
        """Blocks of a repeated parameter."""
        return self.info[name].copies

    def has(self, name):
        return name in self.info

    def grads_to(self, state):
        for name, leaf in self.leaves.items():
            g = leaf.grad
            view = state.grads[name]
            view[...] = (g.numpy() if g is not None else 0.0).reshape(
                view.shape)

    def zero_grads(self):
        for leaf in self.leaves.values():
            leaf.grad = None


def _noop(name, value):
    pass


def mlp_forward(W, residuals, attention, x, y, record=_noop, residual=False):
    """examples/mlp.mlir and examples/mlp-residual.mlir: relu(W0 x + b0),
    then per block relu(W h + b) (plain) or h + r[l] (W relu(h) + b)
    (residual), readout, mean cross-entropy."""
    def lin(h, name, l=None):
        out = h @ W.w(name + ".weight", l).T
        if W.has(name + ".bias"):
            out = out + W.w(name + ".bias", l)
        return out
    h = torch.relu(lin(x, "input"))
    record("input", h)
    depth = W.copies("hidden.weight")
    for l in range(depth):
        if residual:
            h = h + residuals[0].multiplier[l] * lin(torch.relu(h), "hidden", l)
        else:
            h = torch.relu(lin(h, "hidden", l))
        record("block%d" % l, h)
    record("last", h)
    logits = lin(h, "readout")
    record("logits", logits)
    return F.cross_entropy(logits, y)


def _heads(t, d_head):
    b, s, d = t.shape
    return t.view(b, s, d // d_head, d_head).transpose(1, 2)


def _attend(q, k, v, scale):
    """Causal softmax(scale q.k) v over (batch, heads, seq, d_head); k and v
    may have fewer heads (grouped-query attention)."""
    if k.shape[1] != q.shape[1]:
        group = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
    s = q.shape[2]
    scores = (q @ k.transpose(-1, -2)) * scale
    mask = torch.ones(s, s, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(mask, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    b, h, _, d = out.shape
    return out.transpose(1, 2).reshape(b, s, h * d)


def _rms_norm(x, gain, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * gain


def _rope(t, theta):
    """Rotates feature pairs (i, i + d/2) of every head (HF's rotate_half)."""
    s, d = t.shape[-2], t.shape[-1]
    inv = theta ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
    angles = torch.arange(s, dtype=torch.float32)[:, None] * inv[None, :]
    cos = torch.cat([angles.cos(), angles.cos()], -1)
    sin = torch.cat([angles.sin(), angles.sin()], -1)
    half = torch.cat([-t[..., d // 2:], t[..., :d // 2]], -1)
    return t * cos + half * sin


def gpt_forward(W, residuals, attention, tokens, targets, record=_noop):
    """examples/gpt2.mlir (untied): wte[tokens] + wpe, pre-LN blocks with
    causal attention and a GELU (tanh) MLP, final LayerNorm, lm_head, mean
    cross-entropy."""
    scale = attention[0].scale
    d_head = attention[0].head_dim_size
    x = W.w("wte")[tokens] + W.w("wpe")[: tokens.shape[1]]
    record("embed", x)
    d = x.shape[-1]
    depth = W.copies("blocks.ln_1.weight")

    def lin(h, name, l):
        return h @ W.w(name + ".weight", l).T + W.w(name + ".bias", l)

    def ln(h, name, l=None):
        return F.layer_norm(h, (d,), W.w(name + ".weight", l),
                            W.w(name + ".bias", l), 1e-5)
    for l in range(depth):
        a = ln(x, "blocks.ln_1", l)
        q, k, v = (_heads(lin(a, "blocks.attn.%s" % n, l), d_head)
                   for n in "qkv")
        att = _attend(q, k, v, scale)
        x = x + residuals[0].multiplier[l] * lin(att, "blocks.attn.o", l)
        m = ln(x, "blocks.ln_2", l)
        f = F.gelu(lin(m, "blocks.mlp.fc", l), approximate="tanh")
        x = x + residuals[1].multiplier[l] * lin(f, "blocks.mlp.proj", l)
        record("block%d" % l, x)
    record("last", x)
    logits = ln(x, "ln_f") @ W.w("lm_head.weight").T
    record("logits", logits)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                           targets.reshape(-1))


def llama_forward(W, residuals, attention, tokens, targets, record=_noop,
                  theta=10000.0):
    """examples/llama.mlir (untied, QK-norm, no biases): RMSNorm (eps 1e-6),
    RoPE, grouped-query attention, SwiGLU, final RMSNorm, lm_head."""
    scale = attention[0].scale
    d_head = attention[0].head_dim_size
    x = W.w("embed_tokens.weight")[tokens]
    record("embed", x)
    depth = W.copies("layers.input_layernorm.weight")

    def lin(h, name, l):
        return h @ W.w(name + ".weight", l).T
    for l in range(depth):
        a = _rms_norm(x, W.w("layers.input_layernorm.weight", l), 1e-6)
        q = _heads(lin(a, "layers.self_attn.q_proj", l), d_head)
        k = _heads(lin(a, "layers.self_attn.k_proj", l), d_head)
        v = _heads(lin(a, "layers.self_attn.v_proj", l), d_head)
        if W.has("layers.self_attn.q_norm.weight"):
            q = _rms_norm(q, W.w("layers.self_attn.q_norm.weight", l), 1e-6)
            k = _rms_norm(k, W.w("layers.self_attn.k_norm.weight", l), 1e-6)
        q, k = _rope(q, theta), _rope(k, theta)
        att = _attend(q, k, v, scale)
        x = x + residuals[0].multiplier[l] * lin(att, "layers.self_attn.o_proj",
                                                 l)
        m = _rms_norm(x, W.w("layers.post_attention_layernorm.weight", l), 1e-6)
        g = F.silu(lin(m, "layers.mlp.gate_proj", l)) * lin(
            m, "layers.mlp.up_proj", l)
        x = x + residuals[1].multiplier[l] * lin(g, "layers.mlp.down_proj", l)
        record("block%d" % l, x)
    record("last", x)
    logits = _rms_norm(x, W.w("norm.weight"), 1e-6) @ W.w("lm_head.weight").T
    record("logits", logits)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                           targets.reshape(-1))


def forward_for(model):
    """The forward function of `model`: (W, residuals, attention, inputs,
    targets, record) -> loss."""
    if model == "mlp":
        return mlp_forward
    if model == "rmlp":
        return lambda *a, **k: mlp_forward(*a, residual=True, **k)
    if model == "gpt":
        return gpt_forward
    if model == "llama":
        return llama_forward
    raise ValueError("unknown model %r (have: %s)"
                     % (model, ", ".join(FAMILIES)))


class CardModel:
    """A card family's forward over a package's State: what the trainer
    calls (factory.Bound is the same for a user's module)."""

    def __init__(self, model, package, state):
        from .cards import READOUTS
        self.package, self.state = package, state
        self.weights = Weights(package, state, FAMILIES[model])
        self.forward = forward_for(model)
        self.readout = READOUTS[model]

    def zero_readout(self):
        self.state.params[self.readout][...] = 0.0

    def zero_grads(self):
        self.weights.zero_grads()

    def loss(self, inputs, targets, record=None):
        return self.forward(self.weights, self.package.residuals,
                            self.package.attention, inputs, targets,
                            record or _noop)

    def grads_to_state(self):
        self.weights.grads_to(self.state)


def rms(t):
    """Root mean square of a tensor's entries (a coordinate's typical size)."""
    return math.sqrt(float(t.detach().double().pow(2).mean()))
