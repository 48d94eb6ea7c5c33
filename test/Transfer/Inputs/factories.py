"""Model factories as a user writes them for python3 -m muir.transfer
--model-factory FILE.py:FUNCTION: FUNCTION(width, depth) -> nn.Module with
forward(inputs, targets) -> loss. Nothing here knows about muir."""

import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """784 -> width -> (depth x width -> width) -> 10, ReLU, cross-entropy."""

    def __init__(self, width, depth):
        super().__init__()
        self.input = nn.Linear(784, width)
        self.hidden = nn.ModuleList(nn.Linear(width, width)
                                    for _ in range(depth))
        self.readout = nn.Linear(width, 10)

    def forward(self, x, y):
        h = F.relu(self.input(x))
        for layer in self.hidden:
            h = F.relu(layer(h))
        logits = self.readout(h)
        return logits, F.cross_entropy(logits, y)


def mlp(width, depth):
    return MLP(width, depth)


def not_a_module(width, depth):
    return width * depth


class Logits(MLP):
    def forward(self, x, y):
        return super().forward(x, y)[0]


def no_loss(width, depth):
    """Its forward returns the logits, not a loss."""
    return Logits(width, depth)


def raises(width, depth):
    raise ValueError("no model at width %d" % width)
