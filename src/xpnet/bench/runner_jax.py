"""The same network in JAX: ``jax.jit`` of one ``value_and_grad`` step, timed; a sweep's
networks with ``jax.vmap`` of that step, under one ``jax.jit``."""

from __future__ import annotations

import time

import numpy as np

from .. import _backend
from .available import Unavailable, optional
from .hostdata import HostData, initial_params, sweep_initial_params
from .timing import RECORD_EVERY, WARMUP_ITERATIONS, Runner
from .workload import ADAM, Workload


def _jax_on(kind: str, dtype: str):
    """(jax, jax.numpy, the device, ``put``: a host array to that device in ``dtype``), or
    :class:`Unavailable` where JAX is missing, has no such device, or float64 is off."""
    jax = optional("jax")
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise Unavailable("jax's 64-bit types are off (JAX_ENABLE_X64=1 switches them on)")
    import jax.numpy as jnp

    devices = _backend.jax_devices(kind)
    if not devices:
        raise Unavailable(f"jax sees no {kind.upper()}")
    dev = devices[0]
    return jax, jnp, dev, lambda a: jax.device_put(np.asarray(a, dtype=dtype), dev)


def jax_runner(w: Workload, data: HostData, kind: str, dtype: str) -> Runner:
    """jax.jit of one value_and_grad step of plain gradient descent or Adam on the CPU or
    the GPU (``kind``), same weights, course layout.

    float64 needs JAX's 64-bit types, a switch of the whole process that only a
    program owning its process turns on (``xpnet bench`` does, for --dtype
    float64); where it is off, JAX is :class:`Unavailable`, not run in float32.
    """
    jax, jnp, dev, put = _jax_on(kind, dtype)
    init = [(put(W), put(b)) for W, b in initial_params(w, dtype)]
    X, Y = put(data.X), put(data.Y)
    lr, sigmoid = w.learning_rate, w.output == "sigmoid"

    def cost(params, X, Y):
        A = X
        for W, b in params[:-1]:
            A = jax.nn.relu(W @ A + b)
        W, b = params[-1]
        Z = W @ A + b
        if sigmoid:  # binary cross-entropy from the logits
            return jnp.mean(jnp.sum(jax.nn.softplus(Z) - Y * Z, axis=0))
        return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(Z, axis=0), axis=0))

    tree_map = jax.tree_util.tree_map
    if w.optimizer == "adam":
        beta1, beta2, epsilon = ADAM["beta1"], ADAM["beta2"], ADAM["epsilon"]
        zeros = tree_map(jnp.zeros_like, init)
        start_state = (init, zeros, zeros, jnp.zeros((), dtype=dtype))

        @jax.jit
        def step(state, X, Y):
            params, v, s, t = state
            J, grads = jax.value_and_grad(cost)(params, X, Y)
            t = t + 1
            v = tree_map(lambda v, g: beta1 * v + (1 - beta1) * g, v, grads)
            s = tree_map(lambda s, g: beta2 * s + (1 - beta2) * g * g, s, grads)
            params = tree_map(lambda p, v, s: p - lr * (v / (1 - beta1**t))
                              / (jnp.sqrt(s / (1 - beta2**t)) + epsilon), params, v, s)
            return (params, v, s, t), J
    else:
        start_state = init

        @jax.jit
        def step(params, X, Y):
            J, grads = jax.value_and_grad(cost)(params, X, Y)
            return tree_map(lambda p, g: p - lr * g, params, grads), J

    held = {"state": start_state}

    def fit(iterations=w.iterations):
        state = start_state
        for i in range(iterations):
            state, J = step(state, X, Y)
            if i % RECORD_EVERY == 0 or i == iterations - 1:
                held["cost"] = float(J)
        held["state"] = jax.block_until_ready(state)

    def epoch():
        state, total = start_state, 0.0
        order = np.random.default_rng(0).permutation(w.m)
        for start in range(0, w.m, w.batch_size):
            batch = jax.device_put(order[start:start + w.batch_size], dev)
            state, J = step(state, jnp.take(X, batch, axis=1), jnp.take(Y, batch, axis=1))
            total = total + J * batch.shape[0]
        held["cost"] = float(total / w.m)
        held["state"] = jax.block_until_ready(state)

    def one_step():
        held["state"] = jax.block_until_ready(step(start_state, X, Y))[0]

    def trained():
        params = held["state"][0] if w.optimizer == "adam" else held["state"]
        return [(np.asarray(W), np.asarray(b)) for W, b in params]

    def last_cost():
        return held["cost"]

    if w.kind == "fit":
        return Runner(fit, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS)),
                      params=trained, cost=last_cost)
    if w.kind == "epoch":
        return Runner(epoch, params=trained, cost=last_cost)
    return Runner(one_step, params=trained)


def jax_vmap_runner(w: Workload, data: HostData, kind: str, dtype: str) -> Runner:
    """A sweep's K networks in JAX: one network's ``value_and_grad`` step of plain gradient
    descent, ``jax.vmap``-ped over the stacked parameters and the learning rates (X and
    Y shared), under one ``jax.jit``, from xpnet's initial weights of each seed.

    The step is compiled ahead of time, when the runner is made
    (``jit(...).lower(...).compile()``); ``compile_seconds`` says how long that
    took, and no timing includes it. The costs (one per network) are read back every
    RECORD_EVERY steps, as xpnet reads its costs. float64 as :func:`jax_runner`.
    """
    jax, jnp, dev, put = _jax_on(kind, dtype)
    start = [(put(W), put(b)) for W, b in sweep_initial_params(w, dtype)]
    rates = put(w.learning_rates)  # (K,)
    X, Y = put(data.X), put(data.Y)
    tree_map = jax.tree_util.tree_map

    def cost(params, X, Y):
        A = X
        for W, b in params[:-1]:
            A = jax.nn.relu(W @ A + b)
        W, b = params[-1]
        Z = W @ A + b  # binary cross-entropy from the logits
        return jnp.mean(jnp.sum(jax.nn.softplus(Z) - Y * Z, axis=0))

    def step(params, lr, X, Y):
        J, grads = jax.value_and_grad(cost)(params, X, Y)
        return tree_map(lambda p, g: p - lr * g, params, grads), J

    began = time.perf_counter()
    sweep_step = jax.jit(jax.vmap(step, in_axes=(0, 0, None, None))).lower(
        start, rates, X, Y).compile()
    compile_seconds = time.perf_counter() - began
    held: dict = {}

    def fit(iterations=w.iterations):
        params = start
        for i in range(iterations):
            params, J = sweep_step(params, rates, X, Y)
            if i % RECORD_EVERY == 0 or i == iterations - 1:
                held["costs"] = np.asarray(J).tolist()
        held["params"] = jax.block_until_ready(params)

    def trained():
        return [(np.asarray(W), np.asarray(b)) for W, b in held["params"]]

    def costs():
        return [float(J) for J in held["costs"]]

    return Runner(fit, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS)), params=trained,
                  cost=lambda: costs()[0], costs=costs, compile_seconds=compile_seconds)
