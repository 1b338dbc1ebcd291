"""Optimizers as (init, update) pairs of pure functions, in the style of optax.

``init(params, xp=xp)`` returns the optimizer's state; ``update(params, grads,
state, xp=xp)`` returns the new parameters and the new state. Nothing is
modified in place, so a step can be replayed, compared or checkpointed.

Parameters and gradients are sequences of (W, b) and (dW, db) pairs. A state
is a dict: ``{"count": t, "slots": {name: [(for W, for b), ...]}}`` where t is
the number of updates made (a Python int, so reading it never syncs a device)
and each slot holds one array per parameter (momentum's v, RMSprop's s, ...).

The learning rate α is a number or a schedule: a function of the update count
t = 0, 1, 2, ... returning α (see :func:`step_decay`, :func:`exponential_decay`).

| name     | update of each parameter θ with gradient dθ                           |
|----------|------------------------------------------------------------------------|
| sgd      | θ −= α·dθ                                                              |
| momentum | v = β·v + (1 − β)·dθ;  θ −= α·v                                       |
| rmsprop  | s = β·s + (1 − β)·dθ²;  θ −= α·dθ / (√s + ε)                          |
| adam     | v, s as above (β1, β2);  v̂ = v/(1 − β1ᵗ), ŝ = s/(1 − β2ᵗ);  θ −= α·v̂ / (√ŝ + ε) |
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Union

from .errors import ConfigError

Schedule = Callable[[int], float]
LearningRate = Union[float, Schedule]


class Optimizer(NamedTuple):
    """A pair of pure functions: ``init(params, *, xp) -> state`` and
    ``update(params, grads, state, *, xp) -> (params, state)``. ``name`` and
    ``hyperparameters`` describe it (for saving and printing)."""

    init: Callable[..., dict]
    update: Callable[..., tuple[Any, dict]]
    name: str = "custom"
    hyperparameters: dict = {}


# -- learning rates -------------------------------------------------------------


def _check_positive(value: float, what: str) -> float:
    number = float(value)
    if not (number > 0.0 and math.isfinite(number)):
        raise ConfigError(f"{what} must be a finite number > 0, got {value!r}")
    return number


def _as_schedule(learning_rate: LearningRate) -> Schedule:
    if callable(learning_rate):
        return learning_rate
    alpha = _check_positive(learning_rate, "learning_rate")
    return lambda t: alpha


def step_decay(initial: float, *, factor: float = 0.5, every: int = 1000) -> Schedule:
    """α(t) = initial · factor^⌊t / every⌋: drop by ``factor`` every ``every`` updates."""
    initial = _check_positive(initial, "initial learning rate")
    if not 0.0 < factor <= 1.0 or every < 1:
        raise ConfigError("step_decay needs 0 < factor ≤ 1 and every ≥ 1")
    return lambda t: initial * factor ** (t // every)


def exponential_decay(initial: float, *, rate: float = 0.96, every: int = 1000) -> Schedule:
    """α(t) = initial · rate^(t / every): smooth decay, by ``rate`` every ``every`` updates."""
    initial = _check_positive(initial, "initial learning rate")
    if not 0.0 < rate <= 1.0 or every < 1:
        raise ConfigError("exponential_decay needs 0 < rate ≤ 1 and every ≥ 1")
    return lambda t: initial * rate ** (t / every)


# -- the optimizers -------------------------------------------------------------


def _zeros_like_params(params, *, xp) -> list:
    return [(xp.zeros_like(W), xp.zeros_like(b)) for W, b in params]


def gradient_descent(learning_rate: LearningRate) -> Optimizer:
    """Plain gradient descent: θ := θ − α·dθ. Its state holds only the count."""
    alpha = _as_schedule(learning_rate)

    def init(params, *, xp):
        return {"count": 0, "slots": {}}

    def update(params, grads, state, *, xp):
        a = alpha(state["count"])
        new_params = tuple(
            (W - a * dW, b - a * db) for (W, b), (dW, db) in zip(params, grads)
        )
        return new_params, {"count": state["count"] + 1, "slots": {}}

    return Optimizer(init, update, "sgd", {"learning_rate": learning_rate})


def momentum(learning_rate: LearningRate, *, beta: float = 0.9) -> Optimizer:
    """Gradient descent with momentum (the course's form): v = β·v + (1 − β)·dθ, θ −= α·v."""
    alpha = _as_schedule(learning_rate)
    _check_beta(beta, "beta")

    def init(params, *, xp):
        return {"count": 0, "slots": {"v": _zeros_like_params(params, xp=xp)}}

    def update(params, grads, state, *, xp):
        a = alpha(state["count"])
        new_params, new_v = [], []
        for (W, b), (dW, db), (vW, vb) in zip(params, grads, state["slots"]["v"]):
            vW = beta * vW + (1.0 - beta) * dW
            vb = beta * vb + (1.0 - beta) * db
            new_params.append((W - a * vW, b - a * vb))
            new_v.append((vW, vb))
        return tuple(new_params), {"count": state["count"] + 1, "slots": {"v": new_v}}

    return Optimizer(init, update, "momentum", {"learning_rate": learning_rate, "beta": beta})


def rmsprop(learning_rate: LearningRate, *, beta: float = 0.9, epsilon: float = 1e-8) -> Optimizer:
    """RMSprop: s = β·s + (1 − β)·dθ², θ −= α·dθ / (√s + ε)."""
    alpha = _as_schedule(learning_rate)
    _check_beta(beta, "beta")

    def init(params, *, xp):
        return {"count": 0, "slots": {"s": _zeros_like_params(params, xp=xp)}}

    def update(params, grads, state, *, xp):
        a = alpha(state["count"])
        new_params, new_s = [], []
        for (W, b), (dW, db), (sW, sb) in zip(params, grads, state["slots"]["s"]):
            sW = beta * sW + (1.0 - beta) * (dW * dW)
            sb = beta * sb + (1.0 - beta) * (db * db)
            new_params.append((W - a * dW / (xp.sqrt(sW) + epsilon),
                               b - a * db / (xp.sqrt(sb) + epsilon)))
            new_s.append((sW, sb))
        return tuple(new_params), {"count": state["count"] + 1, "slots": {"s": new_s}}

    return Optimizer(init, update, "rmsprop",
                     {"learning_rate": learning_rate, "beta": beta, "epsilon": epsilon})


def adam(learning_rate: LearningRate, *, beta1: float = 0.9, beta2: float = 0.999,
         epsilon: float = 1e-8) -> Optimizer:
    """Adam with bias correction (the course's form), t counted from 1."""
    alpha = _as_schedule(learning_rate)
    _check_beta(beta1, "beta1")
    _check_beta(beta2, "beta2")

    def init(params, *, xp):
        zeros = _zeros_like_params(params, xp=xp)
        return {"count": 0, "slots": {"v": zeros, "s": _zeros_like_params(params, xp=xp)}}

    def update(params, grads, state, *, xp):
        a = alpha(state["count"])
        t = state["count"] + 1
        v_correction = 1.0 - beta1**t
        s_correction = 1.0 - beta2**t
        new_params, new_v, new_s = [], [], []
        for (W, b), (dW, db), (vW, vb), (sW, sb) in zip(
            params, grads, state["slots"]["v"], state["slots"]["s"]
        ):
            vW = beta1 * vW + (1.0 - beta1) * dW
            vb = beta1 * vb + (1.0 - beta1) * db
            sW = beta2 * sW + (1.0 - beta2) * (dW * dW)
            sb = beta2 * sb + (1.0 - beta2) * (db * db)
            new_params.append((
                W - a * (vW / v_correction) / (xp.sqrt(sW / s_correction) + epsilon),
                b - a * (vb / v_correction) / (xp.sqrt(sb / s_correction) + epsilon),
            ))
            new_v.append((vW, vb))
            new_s.append((sW, sb))
        return tuple(new_params), {"count": t, "slots": {"v": new_v, "s": new_s}}

    return Optimizer(init, update, "adam", {"learning_rate": learning_rate, "beta1": beta1,
                                            "beta2": beta2, "epsilon": epsilon})


def _check_beta(beta: float, name: str) -> None:
    if not 0.0 <= beta < 1.0:
        raise ConfigError(f"{name} must lie in [0, 1), got {beta!r}")


_FACTORIES = {
    "sgd": gradient_descent,
    "momentum": momentum,
    "rmsprop": rmsprop,
    "adam": adam,
}

#: The names ``optimizer=`` accepts.
NAMES = tuple(_FACTORIES)


def get(name: str | Optimizer, learning_rate: LearningRate, **hyperparameters) -> Optimizer:
    """The optimizer called ``name`` at ``learning_rate`` (an Optimizer is returned as is)."""
    if isinstance(name, Optimizer):
        return name
    if name not in _FACTORIES:
        raise ConfigError(f"unknown optimizer {name!r}: choose one of {', '.join(NAMES)}")
    return _FACTORIES[name](learning_rate, **hyperparameters)
