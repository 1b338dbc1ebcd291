"""Forward and backward propagation through an L-layer network.

The course's equations, for l = 1..L with A[0] = X (n_x, m):

    Z[l] = W[l]·A[l-1] + b[l]            W[l] (n[l], n[l-1]), b[l] (n[l], 1)
    A[l] = g[l](Z[l])                    g[L] is the output unit

    dZ[L]   = A[L] − Y                   the output unit and its loss, fused
    dW[l]   = dZ[l]·A[l-1]ᵀ / m
    db[l]   = Σ_columns dZ[l] / m
    dZ[l-1] = W[l]ᵀ·dZ[l] * g'[l-1](Z[l-1])

With L2 regularization (λ = ``arch.l2``) the cost gains λ/(2m)·Σ‖W[l]‖² and
dW[l] gains λ/m·W[l]. With inverted dropout a hidden layer's output is
A[l]·D[l], where D[l] is a mask of 0 and 1/keep_prob drawn per step; the same
D[l] multiplies dA[l] on the way back.

In the code the 1/m is applied once, to dZ[L]: every later dZ, dW and db is
linear in it, so they come out already divided, and no dW (the size of W) or
db needs a division of its own.

Parameters are a sequence of (W, b) pairs, one per layer; gradients come back
as a list of (dW, db) pairs in the same order. Nothing here imports an array
library: every function takes the namespace ``xp`` as a keyword.

A stack of K networks of one shape (a sweep, :mod:`xpnet.sweeps`) is the same
math with a leading axis: W[l] (K, n[l], n[l-1]), b[l] (K, n[l], 1), every
A[l], Z[l], dZ[l] (K, n[l], m), and X (n_x, m) and Y (n[L], m) shared. The
functions below serve both: transposes are ``matrix_transpose``, sums over the
examples ``axis=-1``, and a cost or an L2 term is one number per network (a
0-d array for one network, a (K,) array for a stack). λ is then an array
(K, 1, 1), one per network, and dropout's masks are (K, n[l], m).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from . import _backend
from .activations import Activation
from .losses import Output, dZ_output, sum_per_network

Params = Sequence[tuple[Any, Any]]


@dataclass(frozen=True)
class Architecture:
    """What the math needs to know about a network besides its parameters.

    ``layer_dims`` is (n[0], ..., n[L]); ``hidden`` holds g[1..L-1], one per
    hidden layer; ``output`` is the output unit fused with its loss; ``l2``
    is the L2 strength λ; ``keep_prob`` is dropout's keep probability on
    hidden layers (1 = no dropout).

    For a stack of K networks, ``l2`` may be an array (K, 1, 1) of each
    network's λ (in the parameters' namespace and dtype), and ``keep_prob`` a
    tuple of K keep probabilities.
    """

    layer_dims: tuple[int, ...]
    hidden: tuple[Activation, ...]
    output: Output
    l2: Any = 0.0
    keep_prob: float | tuple[float, ...] = 1.0

    @property
    def regularized(self) -> bool:
        """Whether the cost has an L2 term (λ > 0, or λ per network)."""
        return not isinstance(self.l2, (int, float)) or self.l2 != 0

    @property
    def dropout(self) -> bool:
        """Whether training draws dropout masks (some keep probability below 1)."""
        return min(self.keep_prob if isinstance(self.keep_prob, tuple) else (self.keep_prob,)) < 1.0


@dataclass(frozen=True)
class Cache:
    """What layer l's backward step needs from its forward step."""

    A_prev: Any  # the input of layer l: A[l-1]·D[l-1] (n[l-1], m), or X (n_x, m)
    Z: Any  # Z[l] (n[l], m) of the output layer, for the cost; None for a hidden layer,
    # whose g' is computed from A (activations.py): one activation fewer in memory
    A: Any  # A[l] = g[l](Z[l]) (n[l], m), before dropout
    D: Any = None  # layer l's dropout mask (n[l], m) of 0 and 1/keep_prob, or None


def forward(params: Params, X, arch: Architecture, *, xp, masks=None,
            work=None) -> tuple[Any, list[Cache]]:
    """A[L] (n[L], m) for X (n_x, m), and the per-layer caches for :func:`backward`.

    ``masks``, for training with dropout, holds D[1..L-1]: one (n[l], m) array
    of 0 and 1/keep_prob per hidden layer. With ``work`` (the in-place route of
    a fit, :class:`xpnet._workspace.Workspace`) b[l] is added into the product's
    own array, and a hidden g that can (relu) is applied where Z lies: the same
    numbers, fewer arrays the size of a layer's activations.

    For a stack (W[l] of shape (K, n[l], n[l-1])), every A[l] is (K, n[l], m);
    the first layer's K products with the shared X run as one
    (:func:`xpnet._backend.stacked_matmul`).
    """
    L = len(params)
    A_in = X
    caches = []
    for l, (W, b) in enumerate(params, start=1):
        if work is None:
            Z = _matmul(W, A_in, xp=xp) + b
        else:
            Z = _matmul(W, A_in, xp=xp)
            Z += b
        hidden = arch.hidden[l - 1] if l < L else None
        if hidden is not None and work is not None and hidden.g_inplace is not None:
            A = hidden.g_inplace(Z, xp=xp, kernels=work.kernels)  # Z is not kept: A is Z
        else:
            A = (arch.output.g if l == L else hidden.g)(Z, xp=xp)
        D = masks[l - 1] if masks is not None and l < L else None
        caches.append(Cache(A_in, Z if l == L else None, A, D))
        A_in = A if D is None else A * D
    return A, caches


def backward(params: Params, caches: list[Cache], Y, arch: Architecture, *, xp,
             m: int | None = None, l2: bool = True, out=None) -> list:
    """[(dW[1], db[1]), ..., (dW[L], db[L])]: the gradients of the cost J.

    ``Y`` is (n[L], m), in the encoding of the output unit (0/1 for sigmoid,
    one-hot for softmax, values for linear). ``caches`` is emptied as the pass
    goes down the layers, so each layer's activations can be freed as soon as
    they have been used.

    ``m`` is the number of examples J averages over: Y's columns by default.
    Data-parallel training passes the global count, so that each process's
    gradients are its share of the sum, and ``l2=False``: the L2 term depends on
    the parameters alone, so :func:`add_l2_gradient` adds it once, after the
    shares have been summed.

    ``out``, a :class:`xpnet._workspace.Workspace` (the in-place route of a fit),
    receives each dW and db in its buffers instead of new arrays: the same
    numbers, and no parameter-sized array allocated.

    For a stack, each dW[l] is (K, n[l], n[l-1]) and db[l] (K, n[l], 1).
    """
    L = len(params)
    m = Y.shape[-1] if m is None else m
    grads: list = [None] * L
    dZ = dZ_output(caches[-1].A, Y) / m  # (A[L] − Y)/m: the 1/m of every dW and db
    for l in range(L, 0, -1):
        A_prev = caches.pop().A_prev  # layer l's own A is spent (dZ[l] came from it): freed
        W = params[l - 1][0]
        A_prev_T = xp.matrix_transpose(A_prev)
        if out is None:
            dW = _matmul(dZ, A_prev_T, xp=xp)
            db = xp.sum(dZ, axis=-1, keepdims=True)
        else:  # the same two, written into the fit's buffers
            dW = _matmul(dZ, A_prev_T, xp=xp, out=out[l - 1][0], kernels=out.kernels)
            db = out.kernels.sum_columns(dZ, out=out[l - 1][1])
        grads[l - 1] = (dW, db)
        if l > 1:
            # dA[0] would be W[1]ᵀ·dZ[1], the largest product of all, and nothing reads it.
            below = caches[-1]
            dA = xp.matrix_transpose(W) @ dZ
            if below.D is not None:
                dA = dA * below.D
            g = arch.hidden[l - 2]
            if out is not None and g.backward_inplace is not None:
                dZ = g.backward_inplace(dA, None, below.A, xp=xp, kernels=out.kernels)
            else:
                dZ = g.backward(dA, None, below.A, xp=xp)  # dA * g'(Z[l-1]), from A
    if l2:
        grads = add_l2_gradient(grads, params, arch, m, out=out)
    return grads


def add_l2_gradient(grads: list, params: Params, arch: Architecture, m: int, *,
                    out=None) -> list:
    """dW[l] + λ/m·W[l] for each layer: the gradient of the L2 term λ/(2m)·Σ‖W[l]‖².

    With ``out`` (a :class:`xpnet._workspace.Workspace`) each dW is updated where it
    lies, through the workspace's scratch array: the same numbers, no new array
    (for a stack, one network at a time, so the scratch is one network's W).
    """
    if not arch.regularized:
        return grads
    if out is None:
        return [(dW + (arch.l2 / m) * W, db) for (dW, db), (W, _) in zip(grads, params)]
    for (dW, _), (W, _) in zip(grads, params):
        for dW_k, W_k, l2_k in _one_network_at_a_time(dW, W, arch.l2):
            penalty = out.like(W_k)
            penalty[...] = W_k
            penalty *= l2_k / m
            dW_k += penalty
    return grads


def l2_penalty(params: Params, arch: Architecture, m: int, *, xp, out=None):
    """λ/(2m)·Σ_l ‖W[l]‖², the L2 term of the cost (a 0-d array; (K,) for a stack).

    With ``out`` (a :class:`xpnet._workspace.Workspace`) each W·W is formed in its
    scratch array instead of a new one (one network's W at a time): the same numbers.
    """
    if out is None:
        total = sum(sum_per_network(W * W, xp=xp) for W, _ in params)
    else:
        Ws = [W for W, _ in params]
        totals = []
        for Ws_k in _one_network_at_a_time(*Ws):
            total = 0
            for W in Ws_k:
                squares = out.like(W)
                squares[...] = W
                squares *= W
                total = total + xp.sum(squares)
            totals.append(total)
        total = totals[0] if Ws[0].ndim == 2 else xp.stack(totals)
    return (_per_network(arch.l2, xp=xp) / (2 * m)) * total


def cost_from_caches(params: Params, caches: Sequence[Cache], Y, arch: Architecture, *, xp):
    """J for the forward pass that made ``caches``: the output's loss plus the L2 term."""
    J = arch.output.cost(caches[-1].Z, Y, xp=xp)
    if arch.regularized:
        J = J + l2_penalty(params, arch, Y.shape[-1], xp=xp)
    return J


def cost(params: Params, X, Y, arch: Architecture, *, xp, masks=None, block: int | None = None):
    """The cost J (a 0-d array; (K,) for a stack) of ``params`` on (X, Y), from Z[L].

    With ``block``, the examples go through ``block`` columns at a time (no masks),
    so that a large X never has all its activations at once: J is then the
    blocks' losses weighted by their number of examples, plus the L2 term once.
    """
    m = Y.shape[-1]
    if block is None or m <= block:
        _, caches = forward(params, X, arch, xp=xp, masks=masks)
        return cost_from_caches(params, caches, Y, arch, xp=xp)
    total = 0.0
    for i in range(0, m, block):
        j = min(i + block, m)
        _, caches = forward(params, X[:, i:j], arch, xp=xp)
        total = total + arch.output.cost(caches[-1].Z, Y[:, i:j], xp=xp) * (j - i)
    J = total / m
    return J + l2_penalty(params, arch, m, xp=xp) if arch.regularized else J


#: Columns of X that :func:`predict_proba` (and the estimators' cost) send through the
#: network at once.
PREDICT_BLOCK = 4096


def predict_proba(params: Params, X, arch: Architecture, *, xp, block: int = PREDICT_BLOCK):
    """A[L] (n[L], m) ((K, n[L], m) for a stack): probabilities for sigmoid and
    softmax, values for linear.

    The examples go through in blocks of ``block`` columns, so that the hidden
    layers' activations of a large X never exist all at once (each column's
    A[L] depends on that column alone).
    """
    m = X.shape[1]
    if m <= block:
        A_L, _ = forward(params, X, arch, xp=xp)
        return A_L
    return xp.concat([forward(params, X[:, i:min(i + block, m)], arch, xp=xp)[0]
                      for i in range(0, m, block)], axis=-1)


def _matmul(A, B, *, xp, out=None, kernels=None):
    """A @ B, for one network or a stack; into ``out`` (with ``kernels``) if given.

    A stack's products with the shared X (W[1]·X forward, dZ[1]·Xᵀ backward) run
    as one product of K·n[l] rows where the backend gains by it
    (``_backend.stacked_matmul``): the same sums, one large GEMM instead of K
    skinny ones.
    """
    if A.ndim == 3 and B.ndim == 2:
        return _backend.stacked_matmul(A, B, xp=xp, out=out, kernels=kernels)
    if out is None:
        return A @ B
    return kernels.matmul(A, B, out=out)


def _one_network_at_a_time(*arrays):
    """``arrays`` (parameters of one network, or of a stack: λ too, as (K, 1, 1)) as
    tuples of one network's arrays, each in turn; a number (λ of one network) as is."""
    if arrays[0].ndim == 2:
        yield arrays
        return
    for k in range(arrays[0].shape[0]):
        yield tuple(a if isinstance(a, (int, float)) else a[k, ...] for a in arrays)


def _per_network(l2, *, xp):
    """λ as it multiplies a per-network sum: a number, or a stack's (K, 1, 1) λ as (K,)."""
    return l2 if isinstance(l2, (int, float)) else xp.reshape(l2, (-1,))
