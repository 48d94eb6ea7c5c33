"""Small PyTorch models the torch tests import, written as their users
write them (nothing here knows about muir)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """x -> Linear -> ReLU -> Linear -> ReLU -> Linear, cross-entropy."""

    def __init__(self, d_in, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x, y):
        h = F.relu(self.fc1(x))
        h = F.relu(self.fc2(h))
        return F.cross_entropy(self.head(h), y)


class ResidualBlock(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc = nn.Linear(hidden, hidden)

    def forward(self, h):
        return h + self.fc(torch.relu(h))


class ResidualMLP(nn.Module):
    """An input layer, residual blocks in an nn.ModuleList, a readout."""

    def __init__(self, d_in, hidden, layers, classes):
        super().__init__()
        self.input = nn.Linear(d_in, hidden)
        self.blocks = nn.ModuleList(ResidualBlock(hidden)
                                    for _ in range(layers))
        self.readout = nn.Linear(hidden, classes)

    def forward(self, x, y):
        h = torch.relu(self.input(x))
        for block in self.blocks:
            h = block(h)
        return F.cross_entropy(self.readout(h), y)
