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
from .runner_jax import jax_runner, jax_vmap_runner
from .runner_sklearn import sklearn_runner
from .runner_torch import torch_runner, torch_vmap_runner
from .runner_xpnet import separate_fits_runner, sweep_runner, xpnet_runner
from .timing import Timing, measure_times, median_timing, ratio
from .workload import LAYOUTS, Workload, step_flops, step_gemms, workloads

#: Each peer's runner: (workload, host data, device kind, dtype) -> Runner.
PEER_RUNNERS = {"torch": torch_runner, "jax": jax_runner, "sklearn": sklearn_runner}
#: The module each peer needs, imported before a thread limit applies (threadpoolctl
#: limits only the libraries loaded when it starts: scikit-learn brings SciPy's BLAS).
PEER_MODULES = {"torch": "torch", "jax": "jax", "sklearn": "sklearn.neural_network"}
#: What a sweep is timed as: xpnet.Sweep, one Network.fit, K of them one after the other,
#: and the peers' vmap of a step (keys of a sweep row's ``seconds``).
SWEEP_IMPLEMENTATIONS = ("sweep", "one_fit", "separate_fits", "torch_vmap", "jax_vmap")
#: Each peer's sweep runner, by the peer's name in ``peers``: (workload, host data,
#: device kind, dtype) -> Runner; and the key its time has in a sweep row.
SWEEP_PEER_RUNNERS = {"torch": torch_vmap_runner, "jax": jax_vmap_runner}
SWEEP_PEER_KEYS = {"torch": "torch_vmap", "jax": "jax_vmap"}


def compare(w: Workload, target: Target, dtype: str, *, repeat: int = 3,
            peers: Sequence[str] = PEERS, memory: bool = True, precision: str = "full",
            cat_dir: str | os.PathLike | None = None, separate: bool = True,
            progress: Callable[[str], None] | None = None) -> dict:
    """Time xpnet, the peers and the bare GEMMs on workload ``w``; one row of the report.

    Everything runs with float32 products at ``precision`` ("tf32": on TF32
    tensor cores, where the GPU has them). ``seconds`` holds the median wall
    times, ``cpu_seconds`` the median CPU times of the same runs. ``cat_dir``:
    where the course's cat images are (else $XPNET_DATA; see :func:`host_data`).
    A sweep's row is :func:`compare_sweep`'s (``separate``, ``progress``: see there)."""
    if w.kind == "sweep":
        return compare_sweep(w, target, dtype, repeat=repeat, peers=peers, precision=precision,
                             cat_dir=cat_dir, separate=separate, progress=progress)
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


def compare_sweep(w: Workload, target: Target, dtype: str, *, repeat: int = 3,
                  peers: Sequence[str] = PEERS, precision: str = "full",
                  cat_dir: str | os.PathLike | None = None, separate: bool = True,
                  progress: Callable[[str], None] | None = None) -> dict:
    """Time a sweep workload ``w`` (K = ``w.networks`` networks); one row of the report.

    ``seconds`` (median wall) and ``cpu_seconds`` hold, for all K networks unless said:
    "sweep", xpnet.Sweep training them as one stack; "one_fit", network 0 alone with
    ``Network.fit``; "separate_fits", the K fits one after the other (None with
    ``separate`` False; for K = 1, the one fit); "torch_vmap" and "jax_vmap", the
    peers' vmap of a step (:data:`SWEEP_PEER_RUNNERS`) where ``peers`` names them.
    ``ratios`` divides the sweep's time by each; ``compile_seconds`` holds JAX's
    compilation, outside every timing. xpnet's runs are the calls a user makes, so
    they include drawing the initial weights, which the peers are given.
    """
    K = w.networks
    say = progress or (lambda text: None)
    data = host_data(w, cat_dir=cat_dir)
    timings: dict[str, Timing | None] = {}
    notes: dict[str, str] = {"data": data.source}
    compile_seconds: dict[str, float] = {}
    with _backend.matmul_precision(precision):
        say(f"  xpnet sweep of {K} ...")
        sweep = sweep_runner(w, data, target, dtype, precision)
        timings["sweep"] = median_timing(measure_times(sweep, repeat))
        outcomes = sweep.outcomes()
        if any(outcome != "trained" for outcome in outcomes):
            notes["sweep"] = (f"networks {[k for k, o in enumerate(outcomes) if o != 'trained']} "
                              "left the stack early (diverged or stopped): the sweep did less work")
        say("  xpnet one fit ...")
        timings["one_fit"] = median_timing(measure_times(
            separate_fits_runner(w, data, target, dtype, precision, networks=1), repeat))
        if K == 1:
            timings["separate_fits"] = timings["one_fit"]
        elif separate:
            say(f"  xpnet {K} separate fits ...")
            timings["separate_fits"] = median_timing(measure_times(
                separate_fits_runner(w, data, target, dtype, precision), repeat))
        else:
            timings["separate_fits"], notes["separate_fits"] = None, "not asked for (--no-separate)"
        for peer, key in SWEEP_PEER_KEYS.items():
            if peer not in peers:
                timings[key], notes[key] = None, "not asked for"
                continue
            try:
                say(f"  {key.replace('_', ' ')} ...")
                runner = SWEEP_PEER_RUNNERS[peer](w, data, target.kind, dtype)
                timings[key] = median_timing(measure_times(runner, repeat))
            except Unavailable as exc:
                timings[key], notes[key] = None, str(exc)
                continue
            if runner.compile_seconds is not None:
                compile_seconds[key] = runner.compile_seconds
    times = {name: None if t is None else t.wall for name, t in timings.items()}
    return {
        "workload": w.name,
        "title": w.title,
        "layers": list(w.layers),
        "kind": w.kind,
        "networks": K,
        "m": w.m,
        "updates": w.updates,
        "output": w.output,
        "optimizer": w.optimizer,
        "learning_rates": list(w.learning_rates),
        "seeds": list(w.seeds),
        "outcomes": outcomes,
        "flops": w.flops,
        "seconds": times,
        "cpu_seconds": {name: None if t is None else t.cpu for name, t in timings.items()},
        "compile_seconds": compile_seconds,
        "ratios": {f"sweep/{name}": ratio(times["sweep"], times[name])
                   for name in SWEEP_IMPLEMENTATIONS[1:]},
        "gflops_per_s": w.flops / times["sweep"] / 1e9,
        "notes": notes,
        "memory": None,
    }


def run(names: Sequence[str] = WORKLOAD_NAMES, *, backend: str = "numpy", device: str = "auto",
        dtype: str = "float32", iterations: int = ITERATIONS, repeat: int = 3,
        peers: Sequence[str] = PEERS, memory: bool = True,
        extra: Sequence[Workload] = (), progress: Callable[[str], None] | None = None,
        precision: str = "full", threads: int | None = None, mnist_m: int = MNIST_M,
        cat_dir: str | os.PathLike | None = None, separate: bool = True) -> dict:
    """The whole comparison: {"environment": {...}, "workloads": [row, ...]}.

    ``names`` picks standard workloads (:data:`ALL_WORKLOADS`; the default is
    :data:`WORKLOAD_NAMES`); ``extra`` adds custom :class:`Workload` objects after
    them. ``threads``: NumPy's BLAS and torch run with that many threads for the
    whole comparison (:func:`xpnet._threads.limit_threads`), restored after.
    ``mnist_m``: the examples of the MNIST-shaped epochs. ``cat_dir``: the folder
    of the course's cat files (``--data``), refused unless it holds them; without
    it, $XPNET_DATA's, else random data of their shape. ``separate``: whether the
    sweeps time their K separate fits too (:func:`compare_sweep`).
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
                                               cat_dir=cat_dir, separate=separate,
                                               progress=progress))
    report["environment"]["load_average_end"] = load_average()
    return report


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer ≥ 1, got {value!r}")
