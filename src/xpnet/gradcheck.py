"""Gradient checking: the hand-derived backward pass against central differences.

    dJ/dθ ≈ (J(θ + h) − J(θ − h)) / 2h, one parameter entry at a time,

compared by the relative error ‖g − g_num‖ / (‖g‖ + ‖g_num‖). Around 1e-7 or
less in float64 means the backward pass is right; 1e-3 or more means a bug.
Runs on the host in float64 (finite differences need the precision).
"""

from __future__ import annotations

import numpy as np

from . import _backend
from ._checks import check_finite
from .errors import ConfigError


def gradient_check(net, X, Y, *, h: float = 1e-6) -> float:
    """The relative error between ``net.gradients(X, Y)`` and central differences of ``net.cost``.

    ``net`` must be float64; X (n_x, m) and Y are moved to the host. The
    network's parameters are restored afterwards. Costs 2 forward passes per
    parameter entry: use a small network and a few examples. ``h`` is the step,
    a finite number > 0.
    """
    h = check_finite(h, "h", above=0)
    if net.dtype != "float64":
        raise ConfigError("gradient checks need dtype='float64': float32 rounding swamps h")
    X, Y = _backend.to_host(X), _backend.to_host(Y)
    original = net.params
    params = [(_backend.to_host(W).copy(), _backend.to_host(b).copy()) for W, b in original]
    try:
        net.params = params
        analytic = np.concatenate([_backend.to_host(g).ravel()
                                   for pair in net.gradients(X, Y) for g in pair])
        numeric = []
        for pair in params:
            for theta in pair:
                for idx in np.ndindex(theta.shape):
                    saved = theta[idx]
                    theta[idx] = saved + h
                    J_plus = net.cost(X, Y)
                    theta[idx] = saved - h
                    J_minus = net.cost(X, Y)
                    theta[idx] = saved
                    numeric.append((J_plus - J_minus) / (2 * h))
    finally:
        net.params = original
    numeric = np.asarray(numeric)
    denominator = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / denominator) if denominator else 0.0
