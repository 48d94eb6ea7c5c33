"""muir.transfer: coordinate checks and learning-rate sweeps across width,
depth, batch size and duration, trained through muir packages.

``python3 -m muir.transfer --help`` explains the command line; docs/Transfer.md
shows what it found. The pieces:

- models: the card families (mlp, rmlp, gpt, llama) as torch forward passes
  over a package's flat buffers, with the package's forward multipliers;
- data: Fashion-MNIST and byte-level corpora from Debian packages, in an
  order the C trainer (examples/trainers) reproduces;
- runner: packages per shape and scheme, runs in parallel processes,
  results.jsonl (resumable);
- analysis and plots: optima, quadratic-fit drift, coordinate-check slopes,
  TP5-style figures.
"""
