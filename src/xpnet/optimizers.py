"""Optimizers as (init, update) pairs of pure functions, in the style of optax.

``init(params)`` returns the optimizer's state; ``update(params, grads, state,
xp=xp)`` returns the new parameters and the new state. Nothing is modified in
place, so a step can be replayed, compared or checkpointed.

Parameters and gradients are sequences of (W, b) and (dW, db) pairs.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .errors import ConfigError


class Optimizer(NamedTuple):
    """A pair of pure functions: ``init(params) -> state`` and
    ``update(params, grads, state, *, xp) -> (params, state)``."""

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


def _check_learning_rate(learning_rate: float) -> float:
    lr = float(learning_rate)
    if not (lr > 0.0 and lr < float("inf")):
        raise ConfigError(
            f"learning_rate must be a finite number > 0, got {learning_rate!r}"
        )
    return lr


def gradient_descent(learning_rate: float) -> Optimizer:
    """Plain gradient descent: W := W − α·dW, b := b − α·db. It keeps no state."""
    alpha = _check_learning_rate(learning_rate)

    def init(params):
        return ()

    def update(params, grads, state, *, xp):
        new_params = tuple(
            (W - alpha * dW, b - alpha * db) for (W, b), (dW, db) in zip(params, grads)
        )
        return new_params, state

    return Optimizer(init, update)


_FACTORIES = {"sgd": gradient_descent, "gd": gradient_descent}


def get(name: str | Optimizer, learning_rate: float) -> Optimizer:
    """The optimizer called ``name`` at ``learning_rate`` (an Optimizer is returned as is)."""
    if isinstance(name, Optimizer):
        return name
    if name not in _FACTORIES:
        raise ConfigError(
            f"unknown optimizer {name!r}: choose one of {', '.join(_FACTORIES)}"
        )
    return _FACTORIES[name](learning_rate)
