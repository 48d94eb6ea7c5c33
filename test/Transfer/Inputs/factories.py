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


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, h):
        return h + self.fc(F.relu(h))


class ResidualMLP(nn.Module):
    """784 -> width, depth residual blocks h + W relu(h), -> 10."""

    def __init__(self, width, depth):
        super().__init__()
        self.input = nn.Linear(784, width)
        self.blocks = nn.ModuleList(Block(width) for _ in range(depth))
        self.readout = nn.Linear(width, 10)

    def forward(self, x, y):
        h = self.input(x)
        for block in self.blocks:
            h = block(h)
        return F.cross_entropy(self.readout(F.relu(h)), y)


def rmlp(width, depth):
    return ResidualMLP(width, depth)
