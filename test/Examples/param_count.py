# RUN: %python %s --self-test
#
# Independent reference for the parameter counts of the models in examples/.
#
# Each count is a closed form over the architecture's hyperparameters,
# written from the architecture (nanoGPT, Llama, an MLP), not from the .mlir
# files or from muir's C++. The tests in this directory print the counts as
# FileCheck directives and check `muirc summary` / `muir-translate
# --tp-to-param-table` against them:
#
#   param_count.py MODEL     print CHECK lines for examples/MODEL.mlir
#   param_count.py --card TARGET.json [--base-card BASE.json]
#                            print CHECK lines for the model a card describes
#                            (examples/cards/, test/Import/), reading the
#                            card's keys here, independently of muirc import
#   param_count.py --self-test
#                            check the closed forms against parameter counts
#                            published for real models (this file's RUN line,
#                            since lit also collects .py files as tests)
#
# A count covers the tensors that own storage: a tied parameter (GPT-2's
# lm_head) shares its storage and adds nothing. Parameters inside a repeated
# block count once per layer.

import json
import sys


def gpt2(vocab, seq, d_model, n_head, d_head, d_ff, layers, bias=True,
         tied=True, qk_norm=False, **_):
    """GPT-2: learned positional embeddings, pre-LN blocks with LayerNorm
    gain and bias, q/k/v/o projections and a GELU MLP, all with biases, a
    final LayerNorm and an unembedding tied to the token embedding.
    Without `bias` the LayerNorms and linears have no bias (nanoGPT's
    bias=False); an untied head is a [vocab, d_model] matrix of its own;
    `qk_norm` adds per-head q and k norm gains of d_head.
    Returns (elements, tensors owning storage, parameter declarations)."""
    d_attn = n_head * d_head
    b = 1 if bias else 0
    embeddings = vocab * d_model + seq * d_model
    block = (
        (1 + b) * d_model                    # ln_1 gain, bias
        + 3 * (d_attn * d_model + b * d_attn)  # q, k, v weights and biases
        + (2 * d_head if qk_norm else 0)     # q_norm, k_norm gains
        + d_model * d_attn + b * d_model     # o weight, bias
        + (1 + b) * d_model                  # ln_2 gain, bias
        + d_ff * d_model + b * d_ff          # fc weight, bias
        + d_model * d_ff + b * d_model       # proj weight, bias
    )
    final = (1 + b) * d_model                # ln_f gain, bias
    head = 0 if tied else vocab * d_model
    elements = embeddings + layers * block + final + head
    per_block = (16 if bias else 8) + (2 if qk_norm else 0)
    n_final = 1 + b
    tensors = 2 + per_block * layers + n_final + (0 if tied else 1)
    declarations = 2 + per_block + n_final + 1  # ... + lm_head (tied or not)
    return elements, tensors, declarations


def llama(vocab, d_model, n_head, n_kv_head, d_head, d_ff, layers,
          qk_norm=True, tied=False, bias=False, **_):
    """Llama: RMSNorm pre-norms (gain only), grouped-query attention without
    biases, optional per-head QK-norm gains of d_head, SwiGLU MLP (gate, up,
    down), a final RMSNorm and an untied (or tied) unembedding. With `bias`
    every linear of a block (q, k, v, o, gate, up, down) has a bias."""
    d_q, d_kv = n_head * d_head, n_kv_head * d_head
    block = (
        2 * d_model                          # input / post-attention norms
        + d_q * d_model                      # q_proj
        + 2 * d_kv * d_model                 # k_proj, v_proj
        + d_model * d_q                      # o_proj
        + (2 * d_head if qk_norm else 0)     # q_norm, k_norm
        + 3 * d_ff * d_model                 # gate, up, down
        + ((d_q + 2 * d_kv + d_model + 2 * d_ff + d_model)
           if bias else 0)                   # their biases
    )
    head = 0 if tied else vocab * d_model
    elements = vocab * d_model + layers * block + d_model + head
    per_block = 9 + (2 if qk_norm else 0) + (7 if bias else 0)
    tensors = 1 + per_block * layers + 1 + (0 if tied else 1)
    declarations = 1 + per_block + 1 + 1
    return elements, tensors, declarations


def mlp(features, hidden, classes, n_hidden, bias=True, **_):
    """An MLP: input layer, n_hidden hidden-to-hidden layers and a readout,
    each a weight and (with `bias`) a bias. Residual hidden layers (h + W
    relu(h) + b) have the same parameters as plain ones."""
    b = 1 if bias else 0
    elements = (
        hidden * features + b * hidden
        + n_hidden * (hidden * hidden + b * hidden)
        + classes * hidden + b * classes
    )
    per_layer = 1 + b
    return (elements, per_layer * (2 + n_hidden), 3 * per_layer)


# The examples' hyperparameters: (base model, target model) where they scale.
EXAMPLES = {
    "gpt2": (gpt2, dict(vocab=50304, seq=1024, d_head=64, d_model=(256, 768),
                        n_head=(4, 12), d_ff=(1024, 3072), layers=(4, 12))),
    "llama": (llama, dict(vocab=32000, d_head=64, d_model=(256, 1024),
                          n_head=(4, 16), n_kv_head=(1, 4), d_ff=(704, 2816),
                          layers=(4, 16))),
    "mlp": (mlp, dict(features=784, classes=10, hidden=(64, 1024),
                      n_hidden=(2, 2))),
    "mlp-residual": (mlp, dict(features=784, classes=10, hidden=(64, 1024),
                               n_hidden=(2, 8))),
}
# The tp.model symbol of each example (a file name may hold a dash).
MODEL_NAMES = {"mlp-residual": "mlp_residual"}


def sizes(hparams, which):
    """Picks the base (0) or target (1) value of every scaling hparam."""
    return {k: v[which] if isinstance(v, tuple) else v
            for k, v in hparams.items()}


def check_lines(name):
    fn, hparams = EXAMPLES[name]
    total, tensors, declarations = fn(**sizes(hparams, 1))
    base = fn(**sizes(hparams, 0))[0]
    return [
        f"CHECK: model @{MODEL_NAMES.get(name, name)}: {declarations} parameters",
        f"CHECK: total: {total} elements in {tensors} tensors "
        f"(base model: {base})",
    ]


def card_hparams(path):
    """Maps a model card's keys to (closed form, its keyword arguments)."""
    with open(path) as f:
        card = json.load(f)
    family = card["family"]
    if family == "mlp":
        return mlp, dict(features=card["d_in"], hidden=card["d_hidden"],
                         classes=card["d_out"], n_hidden=card["n_layer"],
                         bias=card["bias"])
    hparams = dict(vocab=card["vocab"], seq=card["seq_len"],
                   d_model=card["d_model"], n_head=card["n_head"],
                   n_kv_head=card.get("n_kv_head", card["n_head"]),
                   d_head=card["d_model"] // card["n_head"],
                   d_ff=card["d_ff"], layers=card["n_layer"],
                   bias=card["bias"], tied=card["tied_embeddings"],
                   qk_norm=card["qk_norm"])
    return {"gpt": gpt2, "llama": llama}[family], hparams


def card_check_lines(target_path, base_path=None):
    fn, target = card_hparams(target_path)
    base = card_hparams(base_path)[1] if base_path else target
    with open(target_path) as f:
        card = json.load(f)
    name = card.get("name", card["family"])
    total, tensors, declarations = fn(**target)
    return [
        f"CHECK: model @{name}: {declarations} parameters",
        f"CHECK: total: {total} elements in {tensors} tensors "
        f"(base model: {fn(**base)[0]})",
    ]


def self_test():
    # nanoGPT's GPT-2 small (vocab padded to 50304): 124,475,904 in all;
    # nanoGPT prints 123.69M because it subtracts wpe.
    total = gpt2(vocab=50304, seq=1024, d_model=768, n_head=12, d_head=64,
                 d_ff=3072, layers=12)[0]
    assert total == 124_475_904, total
    assert f"{(total - 1024 * 768) / 1e6:.2f}M" == "123.69M"
    # Hugging Face gpt2 (vocab 50257) and gpt2-medium.
    assert gpt2(vocab=50257, seq=1024, d_model=768, n_head=12, d_head=64,
                d_ff=3072, layers=12)[0] == 124_439_808
    assert gpt2(vocab=50257, seq=1024, d_model=1024, n_head=16, d_head=64,
                d_ff=4096, layers=24)[0] == 354_823_168
    # Llama-2-7B: no GQA, no QK-norm, untied.
    assert llama(vocab=32000, d_model=4096, n_head=32, n_kv_head=32,
                 d_head=128, d_ff=11008, layers=32,
                 qk_norm=False)[0] == 6_738_415_616
    # Qwen3-0.6B: GQA 16/8 heads of 128, QK-norm, tied embeddings.
    assert llama(vocab=151936, d_model=1024, n_head=16, n_kv_head=8,
                 d_head=128, d_ff=3072, layers=28,
                 tied=True)[0] == 596_049_920
    # The textbook 784-100-10 MLP.
    assert mlp(features=784, hidden=100, classes=10, n_hidden=0)[0] == 79_510
    # Two 100-wide hidden layers (784-100-100-10): + 100*100 + 100.
    assert mlp(features=784, hidden=100, classes=10, n_hidden=1)[0] == 89_610
    # The switches the model cards add: no biases drops exactly the bias
    # vectors, an untied head adds one [vocab, d_model] matrix, QK-norm two
    # d_head gains per block.
    small = dict(vocab=100, seq=16, d_model=32, n_head=4, d_head=8, d_ff=64,
                 layers=3)
    with_bias, no_bias = gpt2(**small)[0], gpt2(**small, bias=False)[0]
    # Per block: ln_1, o, ln_2, proj biases of d_model, q/k/v of d_attn, fc
    # of d_ff; then ln_f.
    assert with_bias - no_bias == 3 * (4 * 32 + 3 * 32 + 64) + 32
    assert gpt2(**small, tied=False)[0] - with_bias == 100 * 32
    assert gpt2(**small, qk_norm=True)[0] - with_bias == 3 * 2 * 8
    assert gpt2(**small, bias=False, tied=False)[1:] == (2 + 8 * 3 + 2, 12)
    assert mlp(features=784, hidden=100, classes=10, n_hidden=0,
               bias=False)[0] == 78_400 + 1000
    # The example the task pins: muirc must print 124475904 for gpt2.
    assert check_lines("gpt2")[1].startswith("CHECK: total: 124475904 ")


def main(argv):
    if argv == ["--self-test"]:
        self_test()
        return 0
    if len(argv) in (2, 4) and argv[0] == "--card" and (
            len(argv) == 2 or argv[2] == "--base-card"):
        print("\n".join(card_check_lines(argv[1],
                                         argv[3] if len(argv) == 4 else None)))
        return 0
    if len(argv) != 1 or argv[0] not in EXAMPLES:
        print(f"usage: param_count.py {{{','.join(EXAMPLES)}}} | --self-test"
              " | --card TARGET.json [--base-card BASE.json]",
              file=sys.stderr)
        return 2
    print("\n".join(check_lines(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
