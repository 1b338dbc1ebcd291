"""Forward and backward propagation through an L-layer network.

The course's equations, for l = 1..L with A[0] = X (n_x, m):

    Z[l] = W[l]·A[l-1] + b[l]            W[l] (n[l], n[l-1]), b[l] (n[l], 1)
    A[l] = g[l](Z[l])                    g[L] is the output unit

    dZ[L]   = A[L] − Y                   the output unit and its loss, fused
    dW[l]   = dZ[l]·A[l-1]ᵀ / m
    db[l]   = Σ_columns dZ[l] / m
    dZ[l-1] = W[l]ᵀ·dZ[l] * g'[l-1](Z[l-1])

Parameters are a sequence of (W, b) pairs, one per layer; gradients come back
as a list of (dW, db) pairs in the same order. Nothing here imports an array
library: every function takes the namespace ``xp`` as a keyword.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .activations import Activation
from .losses import Output, dZ_output

Params = Sequence[tuple[Any, Any]]


@dataclass(frozen=True)
class Architecture:
    """What the math needs to know about a network besides its parameters.

    ``layer_dims`` is (n[0], ..., n[L]); ``hidden`` holds g[1..L-1], one per
    hidden layer; ``output`` is the output unit fused with its loss.
    """

    layer_dims: tuple[int, ...]
    hidden: tuple[Activation, ...]
    output: Output

    @property
    def L(self) -> int:
        return len(self.layer_dims) - 1


@dataclass(frozen=True)
class Cache:
    """What layer l's backward step needs from its forward step."""

    A_prev: Any  # A[l-1] (n[l-1], m)
    Z: Any  # Z[l] (n[l], m)
    A: Any  # A[l] = g[l](Z[l]) (n[l], m)


def forward(params: Params, X, arch: Architecture, *, xp) -> tuple[Any, list[Cache]]:
    """A[L] (n[L], m) for X (n_x, m), and the per-layer caches for :func:`backward`."""
    L = len(params)
    A = X
    caches = []
    for l, (W, b) in enumerate(params, start=1):
        A_prev = A
        Z = W @ A_prev + b
        g = arch.output.g if l == L else arch.hidden[l - 1].g
        A = g(Z, xp=xp)
        caches.append(Cache(A_prev, Z, A))
    return A, caches


def backward(params: Params, caches: Sequence[Cache], Y, arch: Architecture, *, xp) -> list:
    """[(dW[1], db[1]), ..., (dW[L], db[L])]: the gradients of the cost J.

    ``Y`` is (n[L], m), in the encoding of the output unit (0/1 for sigmoid,
    one-hot for softmax, values for linear).
    """
    L = len(params)
    m = Y.shape[1]
    grads: list = [None] * L
    dZ = dZ_output(caches[-1].A, Y)
    for l in range(L, 0, -1):
        cache = caches[l - 1]
        dW = (dZ @ cache.A_prev.T) / m
        db = xp.sum(dZ, axis=1, keepdims=True) / m
        grads[l - 1] = (dW, db)
        if l > 1:
            # dA[0] would be W[1]ᵀ·dZ[1], the largest product of all, and nothing reads it.
            W = params[l - 1][0]
            below = caches[l - 2]
            dZ = (W.T @ dZ) * arch.hidden[l - 2].g_prime(below.Z, below.A, xp=xp)
    return grads


def cost(params: Params, X, Y, arch: Architecture, *, xp):
    """The cost J (a 0-d array) of ``params`` on (X, Y), computed from Z[L]."""
    _, caches = forward(params, X, arch, xp=xp)
    return arch.output.cost(caches[-1].Z, Y, xp=xp)


def predict_proba(params: Params, X, arch: Architecture, *, xp):
    """A[L] (n[L], m): probabilities for sigmoid and softmax, values for linear."""
    A_L, _ = forward(params, X, arch, xp=xp)
    return A_L
