"""The benchmark suite (pytest-benchmark): quick mode, the backend × dtype parameters, timing.

    python -m pytest benchmarks                        # calibrated rounds (pytest-benchmark's defaults)
    XPNET_BENCH_QUICK=1 python -m pytest benchmarks    # or --quick: a warm-up and QUICK_ROUNDS rounds each

Not part of the default ``python -m pytest`` (its testpaths is tests/). Every
benchmark runs on each installed backend (numpy, torch, jax; cupy where a CUDA
device exists; torch and jax on their GPU where they have one) in float32 and
float64, times a function that ends by waiting for the device
(``xpnet._backend.synchronize``), and records in ``extra_info`` the backend,
device, dtype, shapes and GEMM FLOPs (2·m·n·k per product), and
``gflops_per_s`` from the mean time.
"""

from __future__ import annotations

import os

import pytest

from xpnet import _backend, bench

#: Timed rounds per benchmark in quick mode, after one warm-up run.
QUICK_ROUNDS = 2
BACKENDS = ("numpy", "torch", "jax", "cupy")
DTYPES = ("float32", "float64")


def pytest_addoption(parser):
    parser.addoption(
        "--quick", action="store_true", default=False,
        help=f"xpnet benchmarks: one warm-up and {QUICK_ROUNDS} timed rounds each, so the suite "
             "runs in minutes (also XPNET_BENCH_QUICK=1)")


def quick_mode(config) -> bool:
    value = os.environ.get("XPNET_BENCH_QUICK", "").strip().lower()
    return bool(config.getoption("--quick")) or value not in ("", "0", "false", "no")


def pytest_report_header(config):
    mode = f"quick ({QUICK_ROUNDS} rounds after a warm-up)" if quick_mode(config) else "full"
    return f"xpnet benchmarks: {mode} mode"


def _backend_params():
    for name in BACKENDS:
        why = bench.backend_unavailable(name)
        yield pytest.param(name, id=name, marks=[pytest.mark.skip(reason=why)] if why else [])


@pytest.fixture
def quick(request) -> bool:
    """Whether this is a quick run (``--quick`` or XPNET_BENCH_QUICK): for sizes that
    a benchmark shrinks to stay fast in CI."""
    return quick_mode(request.config)


@pytest.fixture(scope="session", params=list(_backend_params()))
def target(request) -> bench.Target:
    """Where xpnet runs: a backend on its default device (the GPU where it has one).
    The suite owns its process: JAX's 64-bit types go on, so float64 runs on JAX too."""
    if request.param == "jax":
        _backend.enable_jax_x64()
    return bench.resolve_target(request.param, "auto")


@pytest.fixture(params=DTYPES)
def dtype(request) -> str:
    return request.param


@pytest.fixture
def timed(benchmark, request):
    """``timed(runner, case=..., flops=..., **info)``: benchmark ``runner.run`` (a
    :class:`xpnet.bench.Runner`) after its setup and one warm-up, in the marker's
    group refined by case and dtype, with the FLOPs and GFLOP/s in extra_info."""
    quick = quick_mode(request.config)

    def run(runner: bench.Runner, *, case: str, target: bench.Target, dtype: str, flops: int,
            **info):
        benchmark.group = f"{benchmark.group or 'xpnet'} {case} {dtype}"
        benchmark.extra_info.update(
            backend=target.backend, device=target.label, dtype=dtype, case=case, flops=flops,
            quick=quick, **info)
        runner.setup()
        (runner.warmup or runner.run)()
        # Later rounds go on from the weights the earlier ones left: the same work each time.
        if quick:
            benchmark.pedantic(runner.run, rounds=QUICK_ROUNDS, iterations=1)
        else:
            benchmark(runner.run)
        stats = benchmark.stats
        if stats is not None and stats.stats.mean > 0:
            seconds = stats.stats.mean / runner.per_run
            benchmark.extra_info["gflops_per_s"] = flops / seconds / 1e9

    return run
