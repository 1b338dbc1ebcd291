"""xpnet itself, timed: ``Network.fit`` for a fit or an epoch, the core's update for a step;
for a sweep, ``xpnet.Sweep`` and the same networks fitted one by one."""

from __future__ import annotations

import numpy as np

from .. import _backend, network, optimizers
from .._backend import Target
from .._workspace import Workspace
from .hostdata import HostData, initial_params, to_target, x_in_layout
from .timing import RECORD_EVERY, WARMUP_ITERATIONS, Runner
from .workload import Workload


def xpnet_step(params, X, Y, arch, opt, opt_state, *, xp, precision: str = "full",
               workspace: Workspace | None = None):
    """One update with xpnet's core: forward, backward, optimizer; returns (params, state).

    Takes the route that ``fit`` takes: in place where the backend allows it
    (``params`` are the benchmark's own), writing the gradients and the update's
    temporary into ``workspace`` (made once, as fit makes it: see
    :func:`step_workspace`), pure elsewhere; and its ``precision`` of the
    products, as fit does (JAX's GPU default is TF32).
    """
    with _backend.matmul_precision(precision):
        _, caches = network.forward(params, X, arch, xp=xp, work=workspace)
        grads = network.backward(params, caches, Y, arch, xp=xp, out=workspace)
        if workspace is None:
            return opt.update(params, grads, opt_state, xp=xp)
        return opt.update_inplace(params, grads, opt_state, xp=xp, work=workspace)


def step_workspace(params, *, xp) -> Workspace | None:
    """The workspace fit keeps for ``params`` where the backend allows in-place work, else None."""
    return Workspace(params, xp=xp) if _backend.supports_inplace(xp) else None


def bench_network(w: Workload, dtype: str, precision: str = "full"):
    """The :class:`xpnet.Network` of workload ``w``: relu hidden layers, xavier, seed 1."""
    from ..models import Network

    return Network(list(w.layers), hidden="relu", output=w.output, init="xavier", seed=1,
                   dtype=dtype, precision=precision)


def xpnet_runner(w: Workload, data: HostData, target: Target, dtype: str,
                 precision: str = "full") -> Runner:
    """xpnet on ``target``: Network.fit for "fit" and "epoch", the core for "step";
    X in the workload's ``layout``."""
    xp = target.xp
    X, Y = x_in_layout(data.X, target, dtype, w.layout), to_target(data.Y, target, dtype)
    init = initial_params(w, dtype)
    net = bench_network(w, dtype, precision)
    if w.kind == "step":
        arch = net.architecture
        params = tuple((to_target(W, target, dtype), to_target(b, target, dtype)) for W, b in init)
        opt = optimizers.gradient_descent(w.learning_rate)
        state = opt.init(params, xp=xp)
        workspace = step_workspace(params, xp=xp)
        X = _backend.examples_contiguous(X)  # as fit holds it

        def run():
            new_params, _ = xpnet_step(params, X, Y, arch, opt, state, xp=xp, precision=precision,
                                       workspace=workspace)
            _backend.synchronize(new_params)

        return Runner(run)

    held: dict = {}

    def setup():  # fresh copies: the timed fit starts from the initial weights every time
        net.params = [(to_target(W, target, dtype), to_target(b, target, dtype)) for W, b in init]

    def fit(iterations=w.iterations):
        if w.kind == "fit":
            held["history"] = net.fit(X, Y, iterations=iterations, learning_rate=w.learning_rate,
                                      optimizer=w.optimizer, record_every=RECORD_EVERY)
        else:
            held["history"] = net.fit(X, Y, epochs=1, batch_size=w.batch_size,
                                      learning_rate=w.learning_rate, optimizer=w.optimizer,
                                      shuffle_seed=0)
        _backend.synchronize(net.params)

    def trained():
        return [(_backend.to_host(W), _backend.to_host(b)) for W, b in net.params]

    def cost():
        return float(held["history"].costs[-1])

    warmup = (lambda: fit(min(w.iterations, WARMUP_ITERATIONS))) if w.kind == "fit" else None
    return Runner(fit, setup=setup, warmup=warmup, params=trained, cost=cost)


def _sweep_data(w: Workload, data: HostData, target: Target, dtype: str):
    return x_in_layout(data.X, target, dtype, w.layout), to_target(data.Y, target, dtype)


def _stacked(params_of_each: list) -> list:
    """The host parameters of K networks, each [(W, b), ...], stacked as a sweep holds them."""
    return [(np.stack([p[l][0] for p in params_of_each]),
             np.stack([p[l][1] for p in params_of_each]))
            for l in range(len(params_of_each[0]))]


def sweep_runner(w: Workload, data: HostData, target: Target, dtype: str,
                 precision: str = "full") -> Runner:
    """xpnet.Sweep on ``target``: the K networks of sweep workload ``w`` (their learning
    rates ``w.learning_rates``, seeds ``w.seeds``) trained as one stack, ``w.iterations``
    full-batch updates, the costs read back every RECORD_EVERY as a fit records them.

    Each run is one ``Sweep(...).fit(X, Y, ...)`` as a user calls it, so it includes
    drawing the K networks' initial weights. ``params()`` gives the stacked parameters
    (W[l] (K, n[l], n[l-1])), ``costs()`` each network's last recorded cost.
    """
    from ..sweeps import Sweep

    X, Y = _sweep_data(w, data, target, dtype)
    template = bench_network(w, dtype, precision)
    held: dict = {}

    def fit(iterations=w.iterations):
        sweep = Sweep(template, learning_rate=list(w.learning_rates), seed=list(w.seeds))
        sweep.fit(X, Y, iterations=iterations, record_every=RECORD_EVERY)
        held["networks"] = [sweep.network(k) for k in range(len(sweep))]
        held["outcomes"] = list(sweep.outcomes)
        _backend.synchronize([net.params for net in held["networks"]])

    def trained():
        return _stacked([[(_backend.to_host(W), _backend.to_host(b)) for W, b in net.params]
                         for net in held["networks"]])

    def costs():
        return [float(net.history.costs[-1]) for net in held["networks"]]

    return Runner(fit, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS)), params=trained,
                  cost=lambda: costs()[0], costs=costs,
                  outcomes=lambda: held["outcomes"])


def separate_fits_runner(w: Workload, data: HostData, target: Target, dtype: str,
                         precision: str = "full", networks: int | None = None) -> Runner:
    """The same K networks as :func:`sweep_runner`, each its own ``Network(..., seed=s_k)``
    and ``.fit(X, Y, learning_rate=α_k, ...)``, one after the other, as a user trains them
    without a sweep; ``networks``: the first that many only (1: one fit).

    Each run makes the networks (drawing their initial weights) and fits them; a
    network that diverges raises, as its fit does (the workloads' rates do not).
    """
    from ..models import Network

    K = w.networks if networks is None else networks
    X, Y = _sweep_data(w, data, target, dtype)
    held: dict = {}

    def fit(iterations=w.iterations, count=K):
        trained = []
        for rate, seed in list(zip(w.learning_rates, w.seeds))[:count]:
            net = Network(list(w.layers), hidden="relu", output=w.output, init="xavier",
                          seed=seed, dtype=dtype, precision=precision)
            net.fit(X, Y, iterations=iterations, learning_rate=rate, record_every=RECORD_EVERY)
            trained.append(net)
        held["networks"] = trained
        _backend.synchronize([net.params for net in trained])

    def params():
        return _stacked([[(_backend.to_host(W), _backend.to_host(b)) for W, b in net.params]
                         for net in held["networks"]])

    def costs():
        return [float(net.history.costs[-1]) for net in held["networks"]]

    # One network warms up: what is cold (imports, caches) is cold once.
    return Runner(fit, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS), 1), params=params,
                  cost=lambda: costs()[0], costs=costs)
