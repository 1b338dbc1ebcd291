"""Sweeps (issue 17): K cat networks of one shape trained together, K = 1, 4, 16, 64, of the
two-layer [12288, 7, 1] and the four-layer [12288, 20, 7, 5, 1] network (relu, sigmoid),
each its own learning rate (0.0075 down a decade, log-spaced) and seed (1..K), full-batch
plain gradient descent on the course's images (or random data of their shape;
``extra_info["data"]`` says which). ``xpnet bench``'s sweep workloads and runners:

- ``sweep``: ``xpnet.Sweep(...).fit``, the K networks as one stack, on each backend;
- ``separate``: the same K networks, one ``Network.fit`` after the other, on each backend;
- ``torch-vmap``: ``torch.func.vmap`` of a functional step (``functional_call``,
  ``grad_and_value``), PyTorch's model-ensembling recipe, where torch is installed;
- ``jax-vmap``: ``jax.jit(jax.vmap(step))``, compiled before the timing, where jax is.

The peers run on their default device (their GPU where they have one) and once per
dtype, not once per xpnet backend. Every case of one shape and K, whichever
implementation and backend, lands in one group (``sweep sweep-2layer-16 float32``),
so that ``--benchmark-group-by=group`` lays them side by side.

Each is ITERATIONS full-batch updates per network (the issue's targets are for 2500:
``xpnet bench --workloads sweep-2layer-16 ...`` times those). Quick mode
(``XPNET_BENCH_QUICK=1`` or ``--quick``, what CI runs) times QUICK_ITERATIONS updates of
the QUICK case only (the two-layer network, K = 4), so that every runner runs once per
dtype and cannot rot: the other cases take the same code paths. It leaves out xpnet on
JAX, whose eager operations compile on their first call with each new shape (some 3 s
a case, most of the file's time); the tests run xpnet's sweeps on JAX.
"""

from __future__ import annotations

import functools

import pytest
from devtree import CAT_DATA

from xpnet import _backend, bench

#: Full-batch updates of each network per timed run; in quick mode, QUICK_ITERATIONS.
ITERATIONS = 20
QUICK_ITERATIONS = 2
#: The one case (network, K) that quick mode times.
QUICK = ("2layer", 4)
NETWORKS = tuple(bench.SWEEP_NETWORKS)  # "2layer", "4layer"
#: The peers' sweep runners, by the id of their case.
PEERS = {"torch-vmap": ("torch", "torch.func.vmap of a functional step"),
         "jax-vmap": ("jax", "jax.jit of jax.vmap of a value_and_grad step")}


def _workload(network: str, K: int, quick: bool) -> bench.Workload:
    if quick and (network, K) != QUICK:
        pytest.skip(f"quick mode times the {QUICK[0]} network with K = {QUICK[1]} only: the "
                    "other cases take the same code paths")
    iterations = QUICK_ITERATIONS if quick else ITERATIONS
    return bench.sweep_workloads(iterations, sizes=(K,))[bench.sweep_name(network, K)]


@functools.lru_cache(maxsize=None)
def _data(network):
    return bench.host_data(bench.sweep_workloads(1, sizes=(1,))[bench.sweep_name(network, 1)],
                           cat_dir=CAT_DATA)


def _info(w: bench.Workload, data: bench.HostData, implementation: str) -> dict:
    return dict(flops=w.flops, layers=list(w.layers), m=w.m, networks=w.networks,
                iterations=w.iterations, learning_rates=list(w.learning_rates),
                seeds=list(w.seeds), implementation=implementation, data=data.source)


@pytest.mark.benchmark(group="sweep")
@pytest.mark.parametrize("K", bench.SWEEP_SIZES, ids=lambda K: f"K{K}")
@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("implementation", ["sweep", "separate"])
def test_sweep_xpnet(timed, target, dtype, network, K, implementation, quick):
    if quick and target.backend == "jax":
        pytest.skip("quick mode leaves out xpnet on JAX: each new shape compiles its eager "
                    "operations first (some 3 s a case)")
    w = _workload(network, K, quick)
    data = _data(network)
    make = bench.sweep_runner if implementation == "sweep" else bench.separate_fits_runner
    timed(make(w, data, target, dtype), case=w.name, target=target, dtype=dtype,
          **_info(w, data, f"xpnet {implementation}"))


@pytest.fixture(params=list(PEERS))
def peer(request):
    """(name, Target) of a peer's vmap, on its default device; skips where not installed."""
    library, _ = PEERS[request.param]
    why = bench.backend_unavailable(library)
    if why:
        pytest.skip(why)
    if library == "jax":
        _backend.enable_jax_x64()  # the suite owns its process: float64 on JAX too
    return request.param, bench.resolve_target(library, "auto")


@pytest.mark.benchmark(group="sweep")
@pytest.mark.parametrize("K", bench.SWEEP_SIZES, ids=lambda K: f"K{K}")
@pytest.mark.parametrize("network", NETWORKS)
def test_sweep_peer(timed, peer, dtype, network, K, quick):
    name, target = peer
    library, implementation = PEERS[name]
    w = _workload(network, K, quick)
    data = _data(network)
    runner = bench.SWEEP_PEER_RUNNERS[library](w, data, target.kind, dtype)
    timed(runner, case=w.name, target=target, dtype=dtype, compile_seconds=runner.compile_seconds,
          **_info(w, data, implementation))
