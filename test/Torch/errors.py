# What muir.torch cannot derive is an error naming the module, the call and
# the user's source line, never a silent default.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import muir.torch as mt
from models import MLP

TMP = sys.argv[1]
torch.manual_seed(0)
x = torch.randn(4, 6)
y = torch.randint(0, 3, (4,))
counter = [0]


def attempt(title, model, base, args=(x, y), **kwargs):
    counter[0] += 1
    try:
        mt.import_model(model, base, args,
                        workdir=os.path.join(TMP, str(counter[0])), **kwargs)
    except mt.ImportError_ as e:
        print("%s: %s" % (title, str(e).replace("\n", " | ")))
        return
    print("%s: imported" % title)


class Raw(nn.Module):
    """A parameter used by a matmul, which says nothing about its role."""

    def __init__(self, h):
        super().__init__()
        self.w = nn.Parameter(torch.randn(6, h))
        self.head = nn.Linear(h, 3)

    def forward(self, x, y):
        return F.cross_entropy(self.head(x @ self.w), y)


# CHECK: unsupported use: {{.*}}errors.py:[[#]]: in module '<model>', call 'matmul': uses parameter 'w' in a call that says nothing about its role; muir derives a parameter's role from a use by F.linear
attempt("unsupported use", Raw(16), Raw(8))


class Deeper(MLP):
    def __init__(self, d_in, hidden, classes, extra):
        super().__init__(d_in, hidden, classes)
        self.extra = nn.Linear(hidden, hidden) if extra else None

    def forward(self, x, y):
        h = F.relu(self.fc1(x))
        if self.extra is not None:
            h = self.extra(h)
        h = F.relu(self.fc2(h))
        return F.cross_entropy(self.head(h), y)


# CHECK: another architecture: {{.*}}errors.py:[[#]]: in module 'extra', param 'extra.weight': the base model makes another call here: param 'fc2.weight' in module 'fc2' ({{.*}}errors.py:[[#]]); muir compares two sizes of one architecture
attempt("another architecture", Deeper(6, 16, 3, True), Deeper(6, 8, 3, False))

# CHECK: no width: {{.*}}: no tensor has another size in the base model than in the target
attempt("no width", MLP(6, 8, 3), MLP(6, 8, 3))

# CHECK: one module: the target and the base are one module
m = MLP(6, 8, 3)
attempt("one module", m, m)


class Attention(nn.Module):
    def __init__(self, d, scale):
        super().__init__()
        self.qkv = nn.Linear(6, 3 * d)
        self.head = nn.Linear(d, 3)
        self.d, self.scale = d, scale

    def forward(self, x, y):
        q, k, v = self.qkv(x).unsqueeze(0).split(self.d, dim=2)
        att = q @ k.transpose(-2, -1)
        if self.scale is not None:
            att = att * self.scale
        att = F.softmax(att, dim=-1)
        return F.cross_entropy(self.head((att @ v)[0]), y)


# CHECK: odd attention scale: {{.*}}in module '<model>', call 'mul': scales the attention logits by 0.3 in the target model, where the head dim (the last dim of the query) is 16: neither 1/sqrt(d_head) = 0.25 nor 1/d_head = 0.0625
attempt("odd attention scale", Attention(16, 0.3), Attention(8, 0.3))
# CHECK: unscaled attention: {{.*}}in module '<model>', call 'matmul': computes attention logits that are never multiplied by a constant before the softmax
attempt("unscaled attention", Attention(16, None), Attention(8, None))


class Unused(MLP):
    def __init__(self, *a):
        super().__init__(*a)
        self.spare = nn.Linear(4, 4)


# CHECK: unused parameter: {{.*}}: parameter 'spare.weight' is not used by the forward pass, so muir cannot derive its role
attempt("unused parameter", Unused(6, 16, 3), Unused(6, 8, 3))


class Aux(MLP):
    def __init__(self, *a):
        super().__init__(*a)
        self.aux = nn.Linear(a[1], 1)

    def forward(self, x, y):
        h = F.relu(self.fc1(x))
        self.aux(h)  # computed, never used
        h = F.relu(self.fc2(h))
        return F.cross_entropy(self.head(h), y)


# CHECK: off the loss: {{.*}}: parameter 'aux.weight' (first used in module 'aux') does not reach the loss
attempt("off the loss", Aux(6, 16, 3), Aux(6, 8, 3))


class TwoLosses(MLP):
    def forward(self, x, y):
        loss = super().forward(x, y)
        return loss, loss * 2


# CHECK: two scalars: TwoLosses.forward returned 2 scalar tensors; muir needs the loss
attempt("two scalars", TwoLosses(6, 16, 3), TwoLosses(6, 8, 3))
# CHECK: loss picked: imported
attempt("loss picked", TwoLosses(6, 16, 3), TwoLosses(6, 8, 3),
        loss=lambda o: o[0])


class InPlaceView(MLP):
    def forward(self, x, y):
        h = F.relu(self.fc1(x))
        h[:, :2].mul_(2.0)
        return F.cross_entropy(self.head(F.relu(self.fc2(h))), y)


# CHECK: in place on a view: {{.*}}errors.py:[[#]]: in module '<model>': in-place 'mul' on a view of another tensor
attempt("in place on a view", InPlaceView(6, 16, 3), InPlaceView(6, 8, 3))


class Uneven(nn.Module):
    """Blocks of different widths in one ModuleList cannot be folded."""

    def __init__(self, h):
        super().__init__()
        self.inp = nn.Linear(6, h)
        self.blocks = nn.ModuleList([nn.Linear(h, h), nn.Linear(h, 2 * h),
                                     nn.Linear(2 * h, h)])
        self.head = nn.Linear(h, 3)

    def forward(self, x, y):
        h = self.inp(x)
        for b in self.blocks:
            h = b(h)
        return F.cross_entropy(self.head(h), y)


# CHECK: uneven blocks: {{.*}}in module 'blocks.1', param 'blocks.1.weight': result #0 has another shape or type in block 1 of 'blocks' than in block 0
attempt("uneven blocks", Uneven(16), Uneven(8))


class WrongInputs(MLP):
    pass


# CHECK: wrong inputs: the example inputs do not fit WrongInputs.forward
attempt("wrong inputs", WrongInputs(6, 16, 3), WrongInputs(6, 8, 3),
        args=(x,))
