"""Data for the transfer experiments, from Debian packages, in an order that
a C trainer reproduces bit for bit.

- ``fashion-mnist``: dataset-fashion-mnist's idx files
  (/usr/share/datasets/fashion-mnist), 784 features standardised as
  (pixel / 255 - 0.2860) / 0.3530 in float32, 10 classes. Training batches
  walk a fresh permutation of the 60000 training images every epoch
  (Fisher-Yates driven by splitmix64, seeded by the run's seed and the
  epoch); evaluation and the coordinate-check probe are the first test
  images.
- ``bytes``: a byte-level corpus (vocab 256), by default every fortune file
  of the fortunes package (/usr/share/games/fortunes) concatenated in name
  order; the last 10% is held out. A batch is `batch` windows of seq_len + 1
  bytes at offsets drawn from splitmix64.

examples/trainers/mlp_trainer.c implements the same splitmix64, shuffle and
standardisation; test/Transfer/c-trainer.py checks the two agree.
"""

import gzip
import os
import struct

import numpy as np

MASK = (1 << 64) - 1
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FORTUNES_DIR = "/usr/share/games/fortunes"
MEAN, STD = np.float32(0.2860), np.float32(0.3530)


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood 2014): the generator the C trainer
    shares."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def permutation(n, seed, epoch):
    """Fisher-Yates over range(n) with splitmix64 seeded by
    (seed << 32) + epoch."""
    rng = SplitMix64(((seed & 0xFFFFFFFF) << 32) + epoch)
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.next() % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64)


class DataError(Exception):
    """A data set is missing or malformed."""


def _read_idx(path, magic, dims):
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(
            "%s: not found (install Debian's dataset-fashion-mnist, or pass "
            "--data-dir)" % path) from None
    except (OSError, EOFError) as e:
        raise DataError("%s: cannot read: %s" % (path, e)) from None
    header = 4 + 4 * dims
    if len(raw) < header or struct.unpack(">I", raw[:4])[0] != magic:
        raise DataError("%s: not an idx file with magic %#x" % (path, magic))
    shape = struct.unpack(">" + "I" * dims, raw[4:header])
    if len(raw) != header + int(np.prod(shape)):
        raise DataError("%s: %d bytes, expected %d for shape %s"
                        % (path, len(raw), header + int(np.prod(shape)),
                           shape))
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def standardise(pixels):
    """uint8 images -> float32 features, as the C trainer computes them."""
    x = pixels.reshape(len(pixels), -1).astype(np.float32)
    return (x / np.float32(255.0) - MEAN) / STD


class FashionMNIST:
    """Training batches, evaluation set and probe batch of Fashion-MNIST."""
    classes = 10
    features = 784

    def __init__(self, directory=None):
        d = directory or FASHION_MNIST_DIR
        self.train_x = _read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"),
                                 0x803, 3)
        self.train_y = _read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"),
                                 0x801, 1).astype(np.int64)
        self.test_x = _read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"),
                                0x803, 3)
        self.test_y = _read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"),
                                0x801, 1).astype(np.int64)
        if len(self.train_x) != len(self.train_y) or \
                len(self.test_x) != len(self.test_y):
            raise DataError("%s: images and labels differ in count" % d)
        self._perm = (None, None)

    def batch(self, seed, index, batch):
        """Training batch `index` (from 0) of a run seeded `seed`."""
        per_epoch = len(self.train_x) // batch
        epoch, pos = divmod(index, per_epoch)
        if self._perm[0] != (seed, epoch):
            self._perm = ((seed, epoch),
                          permutation(len(self.train_x), seed, epoch))
        rows = self._perm[1][pos * batch:(pos + 1) * batch]
        return standardise(self.train_x[rows]), self.train_y[rows]

    def held_out(self, count):
        """The first `count` test examples."""
        count = min(count, len(self.test_x))
        return standardise(self.test_x[:count]), self.test_y[:count]


def read_corpus(path=None):
    """The bytes of `path` (a file, or every regular file of a directory in
    name order, skipping fortune's .dat indexes and symbolic links)."""
    path = path or FORTUNES_DIR
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path)
                       if not n.endswith(".dat")
                       and not os.path.islink(os.path.join(path, n))
                       and os.path.isfile(os.path.join(path, n)))
        data = b"".join(open(os.path.join(path, n), "rb").read()
                        for n in names)
    elif os.path.isfile(path):
        data = open(path, "rb").read()
    else:
        raise DataError("%s: no such corpus (install Debian's fortunes, or "
                        "pass --data-dir FILE_OR_DIR)" % path)
    return np.frombuffer(data, dtype=np.uint8)


class Bytes:
    """Byte-level language modelling on a corpus: windows of seq_len + 1."""
    classes = 256

    def __init__(self, seq_len, path=None):
        data = read_corpus(path)
        split = int(len(data) * 0.9)
        self.seq_len = seq_len
        if split < 4 * (seq_len + 1):
            raise DataError("corpus of %d bytes is too small for seq_len %d"
                            % (len(data), seq_len))
        self.train, self.test = data[:split], data[split:]
        self._rng = (None, None, 0)

    def _windows(self, data, starts):
        idx = starts[:, None] + np.arange(self.seq_len + 1)[None, :]
        w = data[idx].astype(np.int64)
        return w[:, :-1], w[:, 1:]

    def batch(self, seed, index, batch):
        """Training batch `index`: offsets from one splitmix64 stream per
        seed, drawn in order (batches must be asked for in order)."""
        key, rng, next_index = self._rng
        if key != seed or index < next_index:
            rng, next_index = SplitMix64(seed), 0
        span = len(self.train) - self.seq_len - 1
        while next_index <= index:
            starts = np.array([rng.next() % span for _ in range(batch)],
                              dtype=np.int64)
            next_index += 1
        self._rng = (seed, rng, next_index)
        return self._windows(self.train, starts)

    def held_out(self, count):
        """`count` windows spread evenly over the held-out bytes."""
        span = len(self.test) - self.seq_len - 1
        starts = np.linspace(0, span - 1, count).astype(np.int64)
        return self._windows(self.test, starts)


def open_dataset(name, seq_len=None, directory=None):
    if name == "fashion-mnist":
        return FashionMNIST(directory)
    if name == "bytes":
        return Bytes(seq_len, directory)
    raise DataError("unknown dataset %r (have: fashion-mnist, bytes)" % name)
