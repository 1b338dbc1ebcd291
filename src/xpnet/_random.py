"""Random numbers for training: shuffles and dropout masks, seeded, the same on every backend.

The array API standard has no RNG. Two sources, both a function of the seed alone:

- Shuffles come from one seeded ``numpy.random.Generator`` on the host: one
  permutation an epoch, moved to the device in one transfer. Its state goes
  into checkpoints, for a bit-identical resume.
- Dropout masks, a fresh (n[l], m) array per hidden layer and step, come from
  that generator too on the CPU. On a GPU that would be a host draw and a
  transfer every step, which makes the device wait: there the masks are
  computed on the device instead, by :func:`counter_masks`, a hash of
  (seed, step, layer, row, column) written with the standard's integer
  operations (the capability route of DESIGN.md rule 3). Its masks are
  bit-identical on every backend, so the tests check it on the CPU.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from . import _backend, _fused
from ._hash import MASK31 as _MASK31
from ._hash import mix as _mix

def counter_masks(key: int, step: int, sizes: Sequence[int], m: int, keep_prob: float, *,
                  xp, device=None, dtype, columns=None) -> list:
    """D[l] for each hidden size n[l], for update ``step`` of a batch of ``m`` examples:
    (n[l], m) arrays of 0 and 1/keep_prob, computed on ``device`` from counters alone.

    Entry (i, k) of layer l keeps its unit when hash(key, step, l, i, k) < keep_prob·2**31.
    ``columns`` (an integer array of ``xp`` on ``device``) gives only those
    columns k of the batch: a process of data-parallel training keeps its own; the
    masks are made on the device of ``columns`` then, unless ``device`` says otherwise.

    ``keep_prob`` may be a tuple, one per network of a stack: the masks are then
    (K, n[l], m), network k's thresholding the same hash at its own keep_prob, so
    each network gets the masks its own fit would.
    """
    if device is None and columns is not None:
        device = _backend.device(columns)
    if columns is None:
        columns = xp.arange(m, dtype=xp.int64, device=device)
    columns = xp.reshape(columns, (1, -1))
    if isinstance(keep_prob, StackThresholds):  # a stack's, already on the device
        threshold, keep_prob = keep_prob
    elif isinstance(keep_prob, tuple):
        threshold, keep_prob = stack_thresholds(keep_prob, xp=xp, device=device, dtype=dtype)
    else:
        threshold = int(keep_prob * 2**31)
    step_stream = _mix((_mix(key & _MASK31) + (step & _MASK31)) & _MASK31)
    masks = []
    for l, n in enumerate(sizes, start=1):
        layer_stream = _mix((step_stream + l) & _MASK31)
        rows = xp.reshape(xp.arange(n, dtype=xp.int64, device=device), (-1, 1))
        if _fused.enabled(xp) and isinstance(threshold, int):
            masks.append(_fused.counter_mask(rows, columns, layer_stream, threshold, keep_prob,
                                             xp=xp, dtype=dtype))
            continue
        h = _mix((_mix((rows + layer_stream) & _MASK31) + columns) & _MASK31)
        masks.append(xp.astype(h < threshold, dtype) / keep_prob)
    return masks


class StackThresholds(NamedTuple):
    """A stack's keep probabilities as arrays (K, 1, 1) on the device: the hash thresholds
    keep_prob·2**31 and the keep probabilities themselves (made once, not every step)."""

    threshold: Any
    keep_prob: Any


def stack_thresholds(keep_prob: tuple, *, xp, device, dtype) -> StackThresholds:
    return StackThresholds(
        xp.reshape(xp.asarray([int(p * 2**31) for p in keep_prob], dtype=xp.int64,
                              device=device), (-1, 1, 1)),
        xp.reshape(xp.asarray(keep_prob, dtype=dtype, device=device), (-1, 1, 1)))


class TrainingRandom:
    """A fit's seeded randomness, delivered as arrays of ``xp`` on ``device``.

    ``masks_on_device`` picks :func:`counter_masks` for dropout (what ``fit``
    does on a GPU) over draws from the host generator.
    """

    def __init__(self, seed: int | None, *, xp, device=None, dtype: str = "float64",
                 masks_on_device: bool = False):
        self.generator = np.random.default_rng(seed)
        # The masks' key: from the seed alone, so it takes nothing from the generator's
        # stream, and a resumed fit (same seed) has it again.
        self.key = int(np.random.SeedSequence(seed).generate_state(1)[0]) & _MASK31
        self.xp, self.device, self.dtype = xp, device, dtype
        self.masks_on_device = masks_on_device
        self._columns: tuple = (None, None)  # the last columns asked for, on the host and the device
        self._thresholds: tuple = (None, None)  # a stack's keep probabilities, as StackThresholds

    def permutation(self, m: int) -> np.ndarray:
        """A shuffled order of the m examples: a NumPy integer array, on the host, where
        the data-parallel bookkeeping (``xpnet.distributed.Shard``) splits it."""
        return self.generator.permutation(m)

    def dropout_masks(self, sizes: Sequence[int], m: int, keep_prob: float | tuple, *, step: int,
                      columns: np.ndarray | None = None) -> list:
        """D[l] for each hidden size n[l]: (n[l], m) arrays of 0 and 1/keep_prob (inverted
        dropout) for update ``step`` of a batch of m examples.

        With ``columns`` (a NumPy integer array), only those columns of the batch
        are delivered: a process of data-parallel training draws the masks of the
        whole batch, as one process would, and keeps the columns of its examples.
        """
        if self.masks_on_device:
            if columns is not None:
                # Full-batch steps pass the same columns every time: move them once.
                if columns is not self._columns[0]:
                    self._columns = (columns, _backend.from_host(columns.astype(np.int64),
                                                                 self.xp, self.device))
                columns = self._columns[1]
            if isinstance(keep_prob, tuple):
                # A stack's keep probabilities: moved to the device once, not every step.
                if keep_prob != self._thresholds[0]:
                    self._thresholds = (keep_prob, stack_thresholds(
                        keep_prob, xp=self.xp, device=self.device,
                        dtype=_backend.dtype_by_name(self.xp, self.dtype)))
                keep_prob = self._thresholds[1]
            return counter_masks(self.key, step, sizes, m, keep_prob, xp=self.xp,
                                 device=self.device, columns=columns,
                                 dtype=_backend.dtype_by_name(self.xp, self.dtype))
        if isinstance(keep_prob, tuple):  # one per network of a stack: (K, n, m) masks
            keep_prob = np.reshape(keep_prob, (-1, 1, 1))
        masks = []
        for n in sizes:
            # The same draws whatever the keep probabilities: each network of a stack
            # thresholds them at its own, as its own fit would.
            keep = self.generator.random((n, m)) < keep_prob
            if columns is not None:
                keep = keep[..., columns]
            masks.append(_backend.from_host((keep / keep_prob).astype(self.dtype), self.xp, self.device))
        return masks

    @property
    def state(self) -> dict[str, Any]:
        """The generator's state, JSON-serializable (for checkpoints)."""
        return self.generator.bit_generator.state

    @state.setter
    def state(self, value: dict) -> None:
        self.generator.bit_generator.state = value
