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
For a stack of K networks (W of shape (K, n, n_prev), :mod:`xpnet.sweeps`) it
may also be a list of K of them, one per network: the update then scales each
network's step by its own α, an array (K, 1, 1) made on the device only when
the rates change.

| name     | update of each parameter θ with gradient dθ                           |
|----------|------------------------------------------------------------------------|
| sgd      | θ −= α·dθ                                                              |
| momentum | v = β·v + (1 − β)·dθ;  θ −= α·v                                       |
| rmsprop  | s = β·s + (1 − β)·dθ²;  θ −= α·dθ / (√s + ε)                          |
| adam     | v, s as above (β1, β2);  v̂ = v/(1 − β1ᵗ), ŝ = s/(1 − β2ᵗ);  θ −= α·v̂ / (√ŝ + ε) |
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Union

from . import _backend
from ._checks import check_finite, is_finite, is_real
from ._workspace import Scratch
from .errors import ConfigError

Schedule = Callable[[int], float]
LearningRate = Union[float, Schedule]


class Optimizer(NamedTuple):
    """A pair of pure functions: ``init(params, *, xp) -> state`` and
    ``update(params, grads, state, *, xp) -> (params, state)``. ``name`` and
    ``hyperparameters`` describe it (for saving and printing).
    ``update_inplace``, where given, computes the same update but writes it
    into ``params``, the state's slots and ``grads`` (see below)."""

    init: Callable[..., dict]
    update: Callable[..., tuple[Any, dict]]
    name: str = "custom"
    hyperparameters: dict = {}
    update_inplace: Callable[..., tuple[Any, dict]] | None = None


# -- learning rates -------------------------------------------------------------


def _check_positive(value: float, what: str) -> float:
    return check_finite(value, what, above=0)


def _as_schedule(learning_rate: LearningRate) -> Schedule:
    if isinstance(learning_rate, (list, tuple)):
        if not learning_rate:
            raise ConfigError("learning_rate per network is an empty list: give one rate (or "
                              "schedule) for each network of the stack")
        return _PerNetwork(tuple(_as_schedule(rate) for rate in learning_rate))
    if callable(learning_rate):
        schedule = learning_rate

        def checked(t: int) -> float:
            # On the host, a Python number a step: checking it costs no device sync.
            try:
                alpha = schedule(t)
            except Exception as exc:  # a function that cannot take the update count
                raise ConfigError(f"the learning-rate schedule {schedule!r} failed for update "
                                  f"{t}: {type(exc).__name__}: {exc}") from exc
            if not is_finite(alpha, numpy=True) or alpha < 0:
                raise ConfigError(f"the learning-rate schedule gave {alpha!r} for update {t}: "
                                  "it must return a finite number ≥ 0")
            return alpha

        return checked
    if not is_real(learning_rate, numpy=True):
        raise ConfigError(f"learning_rate must be a number > 0 or a schedule (a function of "
                          f"the update count), got {learning_rate!r}")
    alpha = _check_positive(learning_rate, "learning_rate")
    return lambda t: alpha


class _PerNetwork:
    """The learning rates of a stack's networks: ``rates(t)`` is a tuple of K numbers, and
    ``rates.array(values, like)`` those as a (K, 1, 1) array of ``like``'s namespace,
    dtype and device (made afresh only when the values change: a schedule's step, or
    networks leaving the stack)."""

    def __init__(self, schedules: tuple[Schedule, ...]):
        self.schedules = schedules
        self._made: tuple = (None, None, None)  # (values, like's dtype, the array)

    def __call__(self, t: int) -> tuple[float, ...]:
        return tuple(schedule(t) for schedule in self.schedules)

    def array(self, values: tuple[float, ...], like, *, xp):
        made_values, made_dtype, made = self._made
        if like.ndim != 3:
            raise ConfigError("a list of learning rates gives one per network of a stack "
                              "(xpnet.Sweep): a single network takes one learning_rate")
        if made_values != values or made_dtype != like.dtype or made.shape[0] != like.shape[0]:
            if len(values) != like.shape[0]:
                raise ConfigError(f"{len(values)} learning rates for a stack of "
                                  f"{like.shape[0]} networks: give one per network")
            made = xp.reshape(xp.asarray(values, dtype=like.dtype, device=_backend.device(like)),
                              (-1, 1, 1))
            self._made = (values, like.dtype, made)
        return made


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
#
# Each optimizer is a rule for one array θ (a W or a b) with its gradient dθ,
# the learning rate α of this step, the step number t (counted from 1) and the
# optimizer's slots for θ (momentum's v, ...). The rule comes twice, side by
# side: the pure one returns new arrays; the in-place one updates θ and its
# slots where they lie, and overwrites dθ (this step's own gradient). Its one
# temporary is ``work.like(θ)``, a view of a scratch array that the fit keeps
# (xpnet._workspace), so a step allocates no parameter-sized array; the
# updater hands it θ a block of rows at a time, so that temporary stays small. Both do the
# same floating-point operations in the same order (x·c written as x *= c,
# a/b as a /= b, √ through ``work.kernels.sqrt``), so their results are equal
# bit for bit (the tests check it); the training loop takes the in-place rule
# only where the backend allows it (``_backend.supports_inplace``) and the
# arrays are its own.


def _optimizer(name: str, hyperparameters: dict, slot_names: tuple[str, ...],
               rule: Callable, rule_inplace: Callable, learning_rate: LearningRate) -> Optimizer:
    """An Optimizer that applies ``rule`` (or ``rule_inplace``) to every W and b."""
    alpha = _as_schedule(learning_rate)

    def init(params, *, xp):
        slots = {slot: [(xp.zeros_like(W), xp.zeros_like(b)) for W, b in params]
                 for slot in slot_names}
        return {"count": 0, "slots": slots}

    return Optimizer(init, _updater(rule, slot_names, alpha), name,
                     {"learning_rate": learning_rate, **hyperparameters},
                     _updater(rule_inplace, slot_names, alpha, inplace=True))


def _updater(apply: Callable, slot_names: tuple[str, ...], alpha: Schedule, *,
             inplace: bool = False, blocks: bool = True) -> Callable:
    """``update(params, grads, state, *, xp)`` applying the rule ``apply`` to each W and b.

    An in-place updater also takes ``work``, the fit's :class:`~xpnet._workspace.Scratch`
    (made for the call when not given), and hands it to the rule, which it applies
    to each parameter a block of rows at a time (``blocks``) or whole.
    """

    def update(params, grads, state, *, xp, work: Scratch | None = None):
        a, t = alpha(state["count"]), state["count"] + 1
        if isinstance(a, tuple):  # one α per network of a stack
            a = alpha.array(a, params[0][0], xp=xp)
        if inplace and work is None:
            work = Scratch(params, xp=xp)
        new_params = []
        new_slots = {slot: [] for slot in slot_names}
        for l, ((W, b), (dW, db)) in enumerate(zip(params, grads)):
            pair = []
            for k, (theta, d) in enumerate(((W, dW), (b, db))):
                slots = [state["slots"][s][l][k] for s in slot_names]
                if not inplace:
                    theta, *slots = apply(theta, d, *slots, a=a, t=t, xp=xp)
                elif blocks:
                    # Elementwise, so block by block gives the whole's bits; the one
                    # temporary is a block's size, not a W's.
                    for views, a_block in work.row_blocks(theta, d, *slots, rate=a):
                        apply(*views, a=a_block, t=t, xp=xp, work=work)
                else:
                    theta, *slots = apply(theta, d, *slots, a=a, t=t, xp=xp, work=work)
                pair.append((theta, slots))
            (W, W_slots), (b, b_slots) = pair
            new_params.append((W, b))
            for slot, for_W, for_b in zip(slot_names, W_slots, b_slots):
                new_slots[slot].append((for_W, for_b))
        return tuple(new_params), {"count": t, "slots": new_slots}

    return update


def with_inplace_rule(optimizer: Optimizer, rule_inplace: Callable) -> Optimizer:
    """``optimizer`` with another in-place rule for each W and b (a fused kernel, say),
    called as ``rule_inplace(theta, d, *slots, a=α, t=t, xp=xp, work=scratch)``: same
    state, same numbers."""
    alpha = _as_schedule(optimizer.hyperparameters["learning_rate"])
    return optimizer._replace(update_inplace=_updater(rule_inplace, SLOTS[optimizer.name], alpha,
                                                      inplace=True, blocks=False))


def gradient_descent(learning_rate: LearningRate) -> Optimizer:
    """Plain gradient descent: θ := θ − α·dθ. Its state holds only the count."""

    def rule(theta, d, *, a, t, xp):
        return (theta - a * d,)

    def rule_inplace(theta, d, *, a, t, xp, work):
        d *= a  # d is this step's own gradient: scaling it in place costs no memory
        theta -= d
        return (theta,)

    return _optimizer("sgd", {}, (), rule, rule_inplace, learning_rate)


def momentum(learning_rate: LearningRate, *, beta: float = 0.9) -> Optimizer:
    """Gradient descent with momentum (the course's form): v = β·v + (1 − β)·dθ, θ −= α·v."""
    _check_beta(beta, "beta")

    def rule(theta, d, v, *, a, t, xp):
        v = beta * v + (1.0 - beta) * d
        return theta - a * v, v

    def rule_inplace(theta, d, v, *, a, t, xp, work):
        v *= beta
        d *= 1.0 - beta
        v += d
        d[...] = v  # dθ is spent: it holds α·v now
        d *= a
        theta -= d
        return theta, v

    return _optimizer("momentum", {"beta": beta}, ("v",), rule, rule_inplace, learning_rate)


def rmsprop(learning_rate: LearningRate, *, beta: float = 0.9, epsilon: float = 1e-8) -> Optimizer:
    """RMSprop: s = β·s + (1 − β)·dθ², θ −= α·dθ / (√s + ε)."""
    _check_beta(beta, "beta")

    def rule(theta, d, s, *, a, t, xp):
        s = beta * s + (1.0 - beta) * (d * d)
        return theta - a * d / (xp.sqrt(s) + epsilon), s

    def rule_inplace(theta, d, s, *, a, t, xp, work):
        tmp = work.like(theta)
        tmp[...] = d
        tmp *= d
        tmp *= 1.0 - beta
        s *= beta
        s += tmp  # s = β·s + (1 − β)·dθ²
        work.kernels.sqrt(s, out=tmp)
        tmp += epsilon  # √s + ε
        d *= a
        d /= tmp
        theta -= d
        return theta, s

    return _optimizer("rmsprop", {"beta": beta, "epsilon": epsilon}, ("s",), rule, rule_inplace,
                      learning_rate)


def adam(learning_rate: LearningRate, *, beta1: float = 0.9, beta2: float = 0.999,
         epsilon: float = 1e-8) -> Optimizer:
    """Adam with bias correction (the course's form), t counted from 1."""
    _check_beta(beta1, "beta1")
    _check_beta(beta2, "beta2")

    def rule(theta, d, v, s, *, a, t, xp):
        v = beta1 * v + (1.0 - beta1) * d
        s = beta2 * s + (1.0 - beta2) * (d * d)
        v_hat, s_hat = v / (1.0 - beta1**t), s / (1.0 - beta2**t)
        return theta - a * v_hat / (xp.sqrt(s_hat) + epsilon), v, s

    def rule_inplace(theta, d, v, s, *, a, t, xp, work):
        tmp = work.like(theta)
        tmp[...] = d
        tmp *= 1.0 - beta1
        v *= beta1
        v += tmp  # v = β1·v + (1 − β1)·dθ
        tmp[...] = d
        tmp *= d
        tmp *= 1.0 - beta2
        s *= beta2
        s += tmp  # s = β2·s + (1 − β2)·dθ²
        tmp[...] = s
        tmp /= 1.0 - beta2**t
        work.kernels.sqrt(tmp, out=tmp)
        tmp += epsilon  # √ŝ + ε
        d[...] = v  # dθ is spent: it holds α·v̂ now
        d /= 1.0 - beta1**t
        d *= a
        d /= tmp
        theta -= d
        return theta, v, s

    return _optimizer("adam", {"beta1": beta1, "beta2": beta2, "epsilon": epsilon}, ("v", "s"),
                      rule, rule_inplace, learning_rate)


def _check_beta(beta: float, name: str) -> None:
    if not is_real(beta, numpy=True) or not 0.0 <= beta < 1.0:
        raise ConfigError(f"{name} must lie in [0, 1), got {beta!r}")


_FACTORIES = {
    "sgd": gradient_descent,
    "momentum": momentum,
    "rmsprop": rmsprop,
    "adam": adam,
}

#: The names ``optimizer=`` accepts.
NAMES = tuple(_FACTORIES)

#: Each optimizer's slots, in the order its rules take them.
SLOTS = {"sgd": (), "momentum": ("v",), "rmsprop": ("s",), "adam": ("v", "s")}


def get(name: str | Optimizer, learning_rate: LearningRate, **hyperparameters) -> Optimizer:
    """The optimizer called ``name`` at ``learning_rate`` (an Optimizer is returned as is)."""
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str) or name not in _FACTORIES:
        raise ConfigError(f"unknown optimizer {name!r}: choose one of {', '.join(NAMES)}")
    return _FACTORIES[name](learning_rate, **hyperparameters)
