"""Random numbers for training, drawn on the host and moved to the device.

The array API standard has no RNG, so shuffles and dropout masks come from one
seeded ``numpy.random.Generator`` per fit. Every backend therefore sees the
same shuffles and masks for the same seed, and the generator's state can be
saved in a checkpoint and restored for a bit-identical resume.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import _backend


class HostRandom:
    """Seeded draws on the host, delivered as arrays of ``xp`` on ``device``."""

    def __init__(self, seed: int | None, *, xp, device=None, dtype: str = "float64"):
        self.generator = np.random.default_rng(seed)
        self.xp, self.device, self.dtype = xp, device, dtype

    def permutation(self, m: int) -> np.ndarray:
        """A shuffled order of the m examples: a NumPy integer array, on the host, where
        the data-parallel bookkeeping (``xpnet.distributed.Shard``) splits it."""
        return self.generator.permutation(m)

    def dropout_masks(self, sizes: Sequence[int], m: int, keep_prob: float,
                      columns: np.ndarray | None = None) -> list:
        """D[l] for each hidden size n[l]: (n[l], m) arrays of 0 and 1/keep_prob (inverted dropout).

        With ``columns``, only those columns of the (n[l], m) draw are delivered: a
        process of data-parallel training draws the masks of the whole batch, as one
        process would, and keeps the columns of the examples it holds.
        """
        masks = []
        for n in sizes:
            keep = self.generator.random((n, m)) < keep_prob
            if columns is not None:
                keep = keep[:, columns]
            masks.append(_backend.from_host((keep / keep_prob).astype(self.dtype), self.xp, self.device))
        return masks

    @property
    def state(self) -> dict:
        """The generator's state, JSON-serializable (for checkpoints)."""
        return self.generator.bit_generator.state

    @state.setter
    def state(self, value: dict) -> None:
        self.generator.bit_generator.state = value
