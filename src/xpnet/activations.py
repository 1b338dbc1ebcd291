"""Hidden-layer activations: each g next to its derivative g'.

Every function takes the pre-activation Z (n[l], m) and returns an array of
the same shape and dtype, in the namespace ``xp`` it is given. The derivative
also receives A = g(Z) from the forward pass, because for sigmoid and tanh
g'(Z) is cheapest written in terms of A.

The backward pass needs dZ[l] = dA[l] * g'(Z[l]); each activation also has
that product as one function, ``*_backward(dA, Z, A)``, written to make as
few passes over the arrays as it can, and from A alone: Z > 0 exactly where
A > 0 for relu and leaky_relu, and sigmoid's and tanh's g' are functions of
A. So the forward pass keeps no hidden layer's Z (``network.Cache``), one
activation fewer per layer in memory; ``*_backward`` is given Z=None there.
Tests check it equals dA * g'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from .errors import ConfigError

# -- sigmoid ------------------------------------------------------------------


def sigmoid(Z, *, xp):
    """g(Z) = 1 / (1 + e^(−Z)), computed from e^(−|Z|) so it never overflows."""
    e = xp.exp(-xp.abs(Z))
    r = 1.0 / (1.0 + e)
    return xp.where(Z >= 0, r, e * r)


def sigmoid_prime(Z, A, *, xp):
    """g'(Z) = A (1 − A)."""
    return A * (1.0 - A)


def sigmoid_backward(dA, Z, A, *, xp):
    """dZ = dA · A (1 − A)."""
    return dA * (A * (1.0 - A))


# -- tanh ---------------------------------------------------------------------


def tanh(Z, *, xp):
    """g(Z) = tanh(Z)."""
    return xp.tanh(Z)


def tanh_prime(Z, A, *, xp):
    """g'(Z) = 1 − A²."""
    return 1.0 - A * A


def tanh_backward(dA, Z, A, *, xp):
    """dZ = dA · (1 − A²)."""
    return dA * (1.0 - A * A)


# -- relu ---------------------------------------------------------------------


def relu(Z, *, xp):
    """g(Z) = max(Z, 0)."""
    return xp.maximum(Z, 0.0)


def relu_prime(Z, A, *, xp):
    """g'(Z) = 1 where Z > 0, else 0 (the course's choice at Z = 0)."""
    return xp.astype(Z > 0, Z.dtype)


def relu_backward(dA, Z, A, *, xp):
    """dZ = dA where Z > 0 (where A > 0: the same units), else 0."""
    # A multiply by the 0/1 mask, not where(): NumPy's where branches per element and
    # runs several times slower on the random signs of a hidden layer.
    return dA * xp.astype(A > 0, dA.dtype)


def relu_inplace(Z, *, xp, kernels):
    """g(Z) written over Z (the in-place route: Z is the step's own array)."""
    return kernels.relu(Z)


def relu_backward_inplace(dA, Z, A, *, xp, kernels):
    """dZ = dA where A > 0, else 0, written over dA."""
    return kernels.mask(dA, A > 0)


# -- leaky relu ---------------------------------------------------------------


def leaky_relu(Z, *, xp, slope=0.01):
    """g(Z) = Z where Z > 0, else slope·Z, written max(Z, slope·Z) (0 ≤ slope < 1)."""
    return xp.maximum(Z, slope * Z)


def leaky_relu_prime(Z, A, *, xp, slope=0.01):
    """g'(Z) = 1 where Z > 0, else slope."""
    return slope + (1.0 - slope) * xp.astype(Z > 0, Z.dtype)


def leaky_relu_backward(dA, Z, A, *, xp, slope=0.01):
    """dZ = dA where Z > 0, else slope · dA; Z > 0 exactly where A = max(Z, slope·Z) > 0."""
    return dA * (slope + (1.0 - slope) * xp.astype(A > 0, A.dtype))


# -- linear -------------------------------------------------------------------


def linear(Z, *, xp):
    """g(Z) = Z."""
    return Z


def linear_prime(Z, A, *, xp):
    """g'(Z) = 1."""
    return xp.ones_like(Z)


def linear_backward(dA, Z, A, *, xp):
    """dZ = dA."""
    return dA


# -- the registry -------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """One hidden activation: ``g(Z, xp=xp)``, ``g_prime(Z, A, xp=xp)`` and
    ``backward(dA, Z, A, xp=xp)`` = dA · g'(Z).

    ``name`` is what the user wrote and what a saved model records;
    ``slope`` is leaky_relu's slope for Z ≤ 0 (``None`` for the others).
    ``g_inplace(Z, xp=xp, kernels=k)`` and ``backward_inplace(dA, Z, A, xp=xp,
    kernels=k)``, where given, compute the same as ``g`` and ``backward`` written
    over their first argument (``_backend.Kernels``), for the in-place route of
    a training step (network.forward and backward with a workspace).
    """

    name: str
    g: Callable[..., Any] = field(repr=False, compare=False)
    g_prime: Callable[..., Any] = field(repr=False, compare=False)
    backward: Callable[..., Any] = field(repr=False, compare=False)
    slope: float | None = None
    g_inplace: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    backward_inplace: Callable[..., Any] | None = field(default=None, repr=False, compare=False)


_FUNCTIONS = {
    "sigmoid": (sigmoid, sigmoid_prime, sigmoid_backward),
    "tanh": (tanh, tanh_prime, tanh_backward),
    "relu": (relu, relu_prime, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_prime, leaky_relu_backward),
    "linear": (linear, linear_prime, linear_backward),
}

#: The names ``hidden=`` accepts.
NAMES = tuple(_FUNCTIONS)


def get(spec: str | Activation, *, slope: float = 0.01) -> Activation:
    """The :class:`Activation` for a name (or an Activation, returned as is).

    ``slope`` applies to ``"leaky_relu"`` only.
    """
    if isinstance(spec, Activation):
        return spec
    if spec not in _FUNCTIONS:
        raise ConfigError(
            f"unknown activation {spec!r}: choose one of {', '.join(NAMES)}"
        )
    functions = _FUNCTIONS[spec]
    if spec == "relu":
        return Activation(spec, *functions, g_inplace=relu_inplace,
                          backward_inplace=relu_backward_inplace)
    if spec != "leaky_relu":
        return Activation(spec, *functions)
    if not 0.0 <= slope < 1.0:
        raise ConfigError(f"leaky_relu slope must lie in [0, 1), got {slope!r}")
    return Activation(spec, *(partial(f, slope=slope) for f in functions), slope=slope)
