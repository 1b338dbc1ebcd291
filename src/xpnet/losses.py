"""Output units and their losses, each pair fused so that dZ[L] = A[L] − Y.

| output  | A[L] = g(Z[L])        | loss                     | cost J                                   |
|---------|-----------------------|--------------------------|------------------------------------------|
| sigmoid | 1 / (1 + e^(−Z))      | binary cross-entropy     | −(1/m) Σ [Y log A + (1 − Y) log(1 − A)]  |
| softmax | e^Z / Σ_k e^Z_k       | categorical cross-entropy| −(1/m) Σ Y log A                         |
| linear  | Z                     | mean squared error       | (1/(2m)) Σ (A − Y)²                      |

For each pair the derivative of J with respect to Z[L] is (A[L] − Y) / m. The
course writes the 1/m in dW and db; network.backward applies it once, to
dZ[L], so every later dZ, dW and db comes out already divided (the same
numbers, and no division the size of W). The costs are computed
from Z[L], not from A[L], so they stay finite where A[L] saturates to 0 or 1.

Shapes: Z, A and Y are (n[L], m); a cost is a 0-d array in the namespace of Z
(reading it back to the host is the caller's choice, and a sync). For a stack of
K networks (network.py) Z and A are (K, n[L], m), Y stays (n[L], m), and a cost
or a count is a (K,) array, one per network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import activations
from .errors import ConfigError


def sum_per_network(x, *, xp):
    """Σ of all entries of x (n, m) as a 0-d array; of each network's entries for a
    stack (K, n, m), as a (K,) array."""
    return xp.sum(x, axis=(-2, -1))


def softmax(Z, *, xp):
    """A = e^(Z − max Z) / Σ_k e^(Z_k − max Z), column by column."""
    e = xp.exp(Z - xp.max(Z, axis=-2, keepdims=True))
    return e / xp.sum(e, axis=-2, keepdims=True)


def log_softmax(Z, *, xp):
    """log A for the softmax, as Z − logsumexp(Z) column by column."""
    # Floored at the dtype's lowest finite value: a spread max Z − Z_k past the
    # dtype's range would give −inf, and the cost's Y·log A would be 0·(−inf) = NaN.
    Z_shift = xp.maximum(Z - xp.max(Z, axis=-2, keepdims=True), xp.finfo(Z.dtype).min)
    return Z_shift - xp.log(xp.sum(xp.exp(Z_shift), axis=-2, keepdims=True))


def binary_cross_entropy(Z, Y, *, xp):
    """J = −(1/m) Σ [Y log σ(Z) + (1 − Y) log(1 − σ(Z))].

    Written as (1/m) Σ [max(Z, 0) − Z·Y + log(1 + e^(−|Z|))], the same value
    without log(0) or overflow.
    """
    m = Z.shape[-1]
    losses = xp.maximum(Z, 0.0) - Z * Y + xp.log1p(xp.exp(-xp.abs(Z)))
    return sum_per_network(losses, xp=xp) / m


def categorical_cross_entropy(Z, Y, *, xp):
    """J = −(1/m) Σ Y log softmax(Z)."""
    m = Z.shape[-1]
    return -sum_per_network(Y * log_softmax(Z, xp=xp), xp=xp) / m


def mean_squared_error(Z, Y, *, xp):
    """J = (1/(2m)) Σ (Z − Y)²; the ½ makes dJ/dZ = (A − Y)/m."""
    m = Z.shape[-1]
    D = Z - Y
    return sum_per_network(D * D, xp=xp) / (2 * m)


def dZ_output(A, Y):
    """dZ[L] = A[L] − Y, the same for every pair in this module."""
    return A - Y


def correct_count(name: str, A, Y, *, xp):
    """How many predictions in A[L] match Y (a 0-d integer array; (K,) for a stack), for
    classifier outputs.

    sigmoid: each entry of A > 0.5 against Y's 0/1 (n[L]·m predictions);
    softmax: the argmax of each column against Y's one-hot (m predictions).
    """
    if name == "sigmoid":
        return xp.count_nonzero((A > 0.5) == (Y > 0.5), axis=(-2, -1))
    return xp.count_nonzero(xp.argmax(A, axis=-2) == xp.argmax(Y, axis=-2), axis=-1)


def prediction_count(name: str, Y) -> int:
    """How many predictions :func:`correct_count` counts for labels Y (n[L], m)."""
    return Y.shape[0] * Y.shape[1] if name == "sigmoid" else Y.shape[1]


@dataclass(frozen=True)
class Output:
    """An output unit fused with its loss.

    ``g(Z, xp=xp)`` gives A[L]; ``cost(Z, Y, xp=xp)`` gives J from Z[L].
    ``classifier`` says whether predictions are labels (scored by accuracy)
    or real values (scored by R²).
    """

    name: str
    loss: str
    g: Callable[..., Any]
    cost: Callable[..., Any]
    classifier: bool


OUTPUTS = {
    "sigmoid": Output("sigmoid", "binary_cross_entropy", activations.sigmoid,
                      binary_cross_entropy, classifier=True),
    "softmax": Output("softmax", "categorical_cross_entropy", softmax,
                      categorical_cross_entropy, classifier=True),
    "linear": Output("linear", "mean_squared_error", activations.linear,
                     mean_squared_error, classifier=False),
}


def get(spec: str | Output) -> Output:
    """The :class:`Output` for a name (or an Output, returned as is)."""
    if isinstance(spec, Output):
        return spec
    if spec not in OUTPUTS:
        raise ConfigError(
            f"unknown output {spec!r}: choose one of {', '.join(OUTPUTS)}"
        )
    return OUTPUTS[spec]
