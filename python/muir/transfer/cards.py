"""The card families muir.transfer trains, as muirc cards: no torch here, so
the command line answers (and fails) without importing it."""

#: Card families and the prefix of their repeated parameters.
FAMILIES = {"mlp": "hidden.", "rmlp": "hidden.", "gpt": "blocks.",
            "llama": "layers."}


def make_card(model, width, depth, batch, shape):
    """The JSON card of `model` at `width` (d_hidden or d_model), `depth`
    (blocks) and `batch`. `shape` holds the fixed sizes: d_in and classes
    (MLPs); vocab, seq_len, d_head, ff_mult (transformers)."""
    if model in ("mlp", "rmlp"):
        return {"name": model, "family": "mlp", "d_in": shape["d_in"],
                "d_hidden": width, "n_layer": depth,
                "d_out": shape["classes"], "bias": True,
                "residual": model == "rmlp", "batch": batch}
    d_head = shape["d_head"]
    if width % d_head:
        raise ValueError("width %d is not a multiple of d_head %d (width "
                         "grows by adding heads)" % (width, d_head))
    card = {"name": model, "family": model, "d_model": width,
            "n_layer": depth, "n_head": width // d_head,
            "d_ff": int(shape["ff_mult"] * width), "vocab": shape["vocab"],
            "seq_len": shape["seq_len"], "tied_embeddings": False,
            "bias": model == "gpt", "qk_norm": model == "llama",
            "batch": batch}
    if model == "llama":
        card["rope_theta"] = 10000.0
    return card


#: The readout of each family, zeroed after init with zero_readout (TP5
#: App. D.2: the proxy's init-time output then matches a wide model's).
READOUTS = {"mlp": "readout.weight", "rmlp": "readout.weight",
            "gpt": "lm_head.weight", "llama": "lm_head.weight"}
