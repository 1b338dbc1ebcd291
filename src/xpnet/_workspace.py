"""Arrays that live as long as a fit, so that a training step allocates no parameter-sized array.

The pure route of a step (``network.backward``, the optimizers' ``update``)
returns new arrays: each step allocates every dW and db afresh, and an Adam
update half a dozen temporaries the size of each W. On backends whose arrays
can be written (:func:`xpnet._backend.supports_inplace`), the fit instead
keeps a :class:`Workspace`:

- ``grads``: one (dW, db) pair of buffers per layer, which ``network.backward``
  writes into (``out=``) and the in-place optimizer rules then consume;
- one scratch array, as large as the largest W, lent out as a view shaped
  like the parameter at hand, for the one temporary an update needs;
- the :class:`~xpnet._backend.Kernels` that write into an existing array
  (matmul, column sums, square roots: the standard has no ``out=``).

Every number comes out the same, bit for bit, as on the pure route; the tests
compare the two, and count what a step allocates (DESIGN.md rule 3).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from . import _backend


class Scratch:
    """One flat buffer, as large as the largest parameter of ``params``, and the kernels
    that write into arrays, for the in-place optimizer rules."""

    def __init__(self, params: Sequence[tuple[Any, Any]], *, xp):
        W = params[0][0]
        size = max(math.prod(a.shape) for pair in params for a in pair)
        self.xp = xp
        self.kernels = _backend.Kernels(xp)
        self._flat = xp.empty((size,), dtype=W.dtype, device=_backend.device(W))
        self._views: dict[tuple, Any] = {}

    def like(self, theta) -> Any:
        """A scratch array of ``theta``'s shape (a view of the one buffer: its contents are
        whatever the last user left, and the next user overwrites them)."""
        shape = tuple(theta.shape)
        view = self._views.get(shape)
        if view is None:
            view = self.xp.reshape(self._flat[: math.prod(shape)], shape)
            self._views[shape] = view
        return view


class Workspace(Scratch):
    """A :class:`Scratch` and the gradient buffers: ``workspace[l - 1]`` is layer l's
    (dW, db) pair, shaped like (W[l], b[l])."""

    def __init__(self, params: Sequence[tuple[Any, Any]], *, xp):
        super().__init__(params, xp=xp)
        self.grads = [(xp.empty_like(W), xp.empty_like(b)) for W, b in params]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.grads[index]

    def __len__(self) -> int:
        return len(self.grads)
