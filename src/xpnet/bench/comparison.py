"""The comparison: every implementation on every workload asked for, one report."""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Sequence

import numpy as np

from .. import _backend
from .._backend import Target, resolve_target
from .._threads import check_threads, limit_threads
from ..errors import ConfigError
from .available import Unavailable, optional
from .hostdata import host_data
from .machine import environment, load_average
from .memory import step_memory
from .options import ALL_WORKLOADS, ITERATIONS, MNIST_M, PEERS, WORKLOAD_NAMES
from .runner_gemm import time_workload_gemms
from .runner_jax import jax_runner
from .runner_sklearn import sklearn_runner
from .runner_torch import torch_runner
from .runner_xpnet import xpnet_runner
from .timing import Timing, measure_times, median_timing, ratio
from .workload import LAYOUTS, Workload, step_flops, step_gemms, workloads

#: Each peer's runner: (workload, host data, device kind, dtype) -> Runner.
PEER_RUNNERS = {"torch": torch_runner, "jax": jax_runner, "sklearn": sklearn_runner}
#: The module each peer needs, imported before a thread limit applies (threadpoolctl
#: limits only the libraries loaded when it starts: scikit-learn brings SciPy's BLAS).
PEER_MODULES = {"torch": "torch", "jax": "jax", "sklearn": "sklearn.neural_network"}


def compare(w: Workload, target: Target, dtype: str, *, repeat: int = 3,
            peers: Sequence[str] = PEERS, memory: bool = True, precision: str = "full",
            cat_dir: str | os.PathLike | None = None) -> dict:
    """Time xpnet, the peers and the bare GEMMs on workload ``w``; one row of the report.

    Everything runs with float32 products at ``precision`` ("tf32": on TF32
    tensor cores, where the GPU has them). ``seconds`` holds the median wall
    times, ``cpu_seconds`` the median CPU times of the same runs. ``cat_dir``:
    where the course's cat images are (else $XPNET_DATA; see :func:`host_data`)."""
    data = host_data(w, cat_dir=cat_dir)
    timings: dict[str, Timing | None] = {}
    notes: dict[str, str] = {"data": data.source}
    with _backend.matmul_precision(precision):
        timings["xpnet"] = median_timing(
            measure_times(xpnet_runner(w, data, target, dtype, precision), repeat))
        for peer in PEERS:
            if peer not in peers:
                timings[peer], notes[peer] = None, "not asked for"
                continue
            try:
                timings[peer] = median_timing(
                    measure_times(PEER_RUNNERS[peer](w, data, target.kind, dtype), repeat))
            except Unavailable as exc:
                timings[peer], notes[peer] = None, str(exc)
        timings["gemm"] = time_workload_gemms(w, target, dtype, repeat)
    times = {name: None if t is None else t.wall for name, t in timings.items()}
    row = {
        "workload": w.name,
        "title": w.title,
        "layers": list(w.layers),
        "kind": w.kind,
        "m": w.m,
        "batch_size": w.batch_size,
        "updates": w.updates,
        "output": w.output,
        "learning_rate": w.learning_rate,
        "optimizer": w.optimizer,
        "layout": LAYOUTS[w.layout],
        "gemms_per_update": [dataclasses.asdict(g) | {"shape": g.shape}
                             for g in step_gemms(w.layers, max(w.batch_sizes))],
        "flops_per_update": step_flops(w.layers, max(w.batch_sizes)),
        "flops": w.flops,
        "seconds": times,
        "cpu_seconds": {name: None if t is None else t.cpu for name, t in timings.items()},
        "ratios": {
            "xpnet/torch": ratio(times["xpnet"], times["torch"]),
            "xpnet/jax": ratio(times["xpnet"], times["jax"]),
            "xpnet/sklearn": ratio(times["xpnet"], times["sklearn"]),
            "xpnet/gemm": ratio(times["xpnet"], times["gemm"]),
        },
        "gemm_fraction": ratio(times["gemm"], times["xpnet"]),
        "gflops_per_s": w.flops / times["xpnet"] / 1e9,
        "notes": notes,
    }
    row["memory"] = step_memory(w, target, dtype, data) if memory else None
    return row


def run(names: Sequence[str] = WORKLOAD_NAMES, *, backend: str = "numpy", device: str = "auto",
        dtype: str = "float32", iterations: int = ITERATIONS, repeat: int = 3,
        peers: Sequence[str] = PEERS, memory: bool = True,
        extra: Sequence[Workload] = (), progress: Callable[[str], None] | None = None,
        precision: str = "full", threads: int | None = None, mnist_m: int = MNIST_M,
        cat_dir: str | os.PathLike | None = None) -> dict:
    """The whole comparison: {"environment": {...}, "workloads": [row, ...]}.

    ``names`` picks standard workloads (:data:`ALL_WORKLOADS`; the default is
    :data:`WORKLOAD_NAMES`); ``extra`` adds custom :class:`Workload` objects after
    them. ``threads``: NumPy's BLAS and torch run with that many threads for the
    whole comparison (:func:`xpnet._threads.limit_threads`), restored after.
    ``mnist_m``: the examples of the MNIST-shaped epochs. ``cat_dir``: the folder
    of the course's cat files (``--data``), refused unless it holds them; without
    it, $XPNET_DATA's, else random data of their shape.
    """
    _positive(repeat, "repeat")
    _positive(iterations, "iterations")
    _positive(mnist_m, "mnist_m")
    check_threads(threads)
    _backend.dtype_by_name(np, dtype)
    if precision not in _backend.PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(_backend.PRECISIONS)}, got {precision!r}")
    if precision == "tf32" and dtype != "float32":
        raise ConfigError("precision tf32 is for float32 products: use --dtype float32")
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise ConfigError(f"unknown peers {unknown}: choose from {', '.join(PEERS)}")
    if cat_dir is not None:
        from ..data import find_catvnoncat

        find_catvnoncat(cat_dir)  # a folder asked for must hold the files: refused here, not n/a
    standard = workloads(iterations, mnist_m)
    chosen = []
    for name in names:
        if name not in standard:
            raise ConfigError(f"unknown workload {name!r}: choose from {', '.join(ALL_WORKLOADS)}")
        chosen.append(standard[name])
    chosen += list(extra)
    target = resolve_target(backend, device)
    if threads is not None:  # the header imports them all (their versions): load them first
        for module in PEER_MODULES.values():
            try:
                optional(module)
            except Unavailable:
                pass  # its cells will say why
    with limit_threads(threads, torch=True):
        report = {"environment": environment(target, dtype, repeat, threads)
                  | {"precision": precision}, "workloads": []}
        for w in chosen:
            if progress:
                progress(f"{w.name}: {w.title or w.kind} ...")
            report["workloads"].append(compare(w, target, dtype, repeat=repeat, peers=peers,
                                               memory=memory, precision=precision,
                                               cat_dir=cat_dir))
    report["environment"]["load_average_end"] = load_average()
    return report


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer ≥ 1, got {value!r}")
