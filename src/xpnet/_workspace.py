"""Arrays that live as long as a fit, so that a training step allocates no parameter-sized array.

The pure route of a step (``network.backward``, the optimizers' ``update``)
returns new arrays: each step allocates every dW and db afresh, and an Adam
update half a dozen temporaries the size of each W. On backends whose arrays
can be written (:func:`xpnet._backend.supports_inplace`), the fit instead
keeps a :class:`Workspace`:

- ``grads``: one (dW, db) pair of buffers per layer, which ``network.backward``
  writes into (``out=``) and the in-place optimizer rules then consume;
- one scratch array, lent out as a view shaped like the block of a
  parameter at hand, for the one temporary an update needs (updates go
  block by block of rows, so it stays small);
- the :class:`~xpnet._backend.Kernels` that write into an existing array
  (matmul, column sums, square roots: the standard has no ``out=``).

Every number comes out the same, bit for bit, as on the pure route; the tests
compare the two, and count what a step allocates (DESIGN.md rule 3).
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

from . import _backend


#: The most entries an in-place update works on at once (a block of rows of a W): its one
#: temporary is this small, whatever the size of the layers (and stays in cache).
BLOCK = 1 << 16


class Scratch:
    """One flat scratch buffer and the kernels that write into arrays, for the in-place rules.

    The buffer is made at its first use, as large as that use needs, and grows
    only if a later use needs more (the L2 term's W·W takes a whole W; the
    optimizers' rules a block of :data:`BLOCK` entries): after the first step
    nothing is allocated.
    """

    def __init__(self, params: Sequence[tuple[Any, Any]], *, xp):
        W = params[0][0]
        self.xp = xp
        self.kernels = _backend.Kernels(xp)
        self._dtype, self._device = W.dtype, _backend.device(W)
        self._flat = None
        self._views: dict[tuple, Any] = {}

    def like(self, theta) -> Any:
        """A scratch array of ``theta``'s shape (a view of the one buffer: its contents are
        whatever the last user left, and the next user overwrites them)."""
        shape = tuple(theta.shape)
        view = self._views.get(shape)
        if view is None:
            size = math.prod(shape)
            if self._flat is None or self._flat.shape[0] < size:
                self._flat = self.xp.empty((size,), dtype=self._dtype, device=self._device)
                self._views.clear()
            view = self.xp.reshape(self._flat[:size], shape)
            self._views[shape] = view
        return view

    def row_blocks(self, *arrays, rate=None) -> Iterator[tuple[tuple, Any]]:
        """``arrays`` of one shape, as views of the same blocks of whole rows, each of at
        most :data:`BLOCK` entries (at least one row), with the learning rate ``rate``
        of the block: an elementwise rule applied block by block gives the same bits
        as applied to the whole.

        For a stack (K, n, k) a block is whole networks, or rows of one network, and
        ``rate``, if an array (K, 1, 1) of one α per network, is cut to match; a number
        goes with every block as it is.
        """
        first = arrays[0]
        if first.ndim == 3:
            yield from self._network_blocks(arrays, rate)
            return
        n = first.shape[0]
        rows = max(1, BLOCK // max(1, math.prod(first.shape[1:])))
        if rows >= n:
            yield arrays, rate
            return
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            yield tuple(a[start:stop, ...] for a in arrays), rate

    def _network_blocks(self, arrays, rate) -> Iterator[tuple[tuple, Any]]:
        K = arrays[0].shape[0]
        per_network = math.prod(arrays[0].shape[1:])
        shared = rate is None or isinstance(rate, (int, float))
        if per_network <= BLOCK:
            networks = max(1, BLOCK // per_network)
            for start in range(0, K, networks):
                stop = min(start + networks, K)
                yield (tuple(a[start:stop, ...] for a in arrays),
                       rate if shared else rate[start:stop, ...])
            return
        for k in range(K):
            yield from self.row_blocks(*(a[k, ...] for a in arrays),
                                       rate=rate if shared else rate[k, ...])

class Workspace(Scratch):
    """A :class:`Scratch` and the gradient buffers: ``workspace[l - 1]`` is layer l's
    (dW, db) pair, shaped like (W[l], b[l])."""

    def __init__(self, params: Sequence[tuple[Any, Any]], *, xp):
        super().__init__(params, xp=xp)
        self.grads = [(xp.empty_like(W), xp.empty_like(b)) for W, b in params]

    @property
    def nbytes(self) -> int:
        """The bytes it holds: the gradient buffers and the scratch buffer as it is now."""
        arrays = [a for pair in self.grads for a in pair]
        if self._flat is not None:
            arrays.append(self._flat)
        return sum(math.prod(a.shape) * _itemsize(a) for a in arrays)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.grads[index]

    def __len__(self) -> int:
        return len(self.grads)


def _itemsize(a) -> int:
    return a.itemsize if hasattr(a, "itemsize") else a.element_size() if hasattr(
        a, "element_size") else a.dtype.itemsize
