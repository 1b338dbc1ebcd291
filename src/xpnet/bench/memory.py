"""The memory of one xpnet update: its peak, next to the bytes it cannot do without."""

from __future__ import annotations

import dataclasses
import functools
import tracemalloc

import numpy as np

from .. import _backend, optimizers
from .._backend import Target
from .hostdata import HostData, host_data, initial_params, to_target
from .runner_xpnet import bench_network, step_workspace, xpnet_step
from .workload import Workload, model_bytes, parameter_count


def step_memory(w: Workload, target: Target, dtype: str, data: HostData | None = None) -> dict:
    """Peak bytes of one xpnet update of ``w`` at its largest batch, and the model bytes.

    The update is the one fit makes, with the workload's optimizer, on the route
    fit takes (in place into a workspace where the backend allows it). NumPy and
    array-api-strict: tracemalloc's peak during the update above what was
    traced before it, plus the bytes of what it starts from (parameters, the
    optimizer's state, X, Y, and the workspace: gradient buffers and scratch);
    PyTorch on CUDA likewise from ``torch.cuda.max_memory_allocated``. Elsewhere
    the peak is None (n/a) and ``method`` says why.
    """
    m = max(w.batch_sizes)
    itemsize = np.dtype(dtype).itemsize
    slots = len(optimizers.SLOTS[w.optimizer])
    inputs = itemsize * ((1 + slots) * parameter_count(w.layers)
                         + (w.layers[0] + w.layers[-1]) * m)
    result = {"batch": m, "model_bytes": model_bytes(w.layers, m, itemsize, slots),
              "peak_bytes": None, "step_allocated_peak_bytes": None, "peak_over_model": None}
    torch_cuda = target.backend == "torch" and target.kind == "gpu"
    if target.backend not in ("numpy", "array_api_strict") and not torch_cuda:
        result["method"] = f"n/a: no allocation tracing for {target.backend} on {target.kind}"
        return result
    if data is None or data.X.shape[1] < m:
        data = host_data(dataclasses.replace(w, data="random"))
    X = to_target(data.X[:, :m], target, dtype)
    Y = to_target(data.Y[:, :m], target, dtype)
    params = tuple((to_target(W, target, dtype), to_target(b, target, dtype))
                   for W, b in initial_params(w, dtype))
    arch = bench_network(w, dtype).architecture
    opt = optimizers.get(w.optimizer, w.learning_rate)
    state = opt.init(params, xp=target.xp)
    workspace = step_workspace(params, xp=target.xp)
    X = _backend.examples_contiguous(X)  # as fit holds it
    step = functools.partial(xpnet_step, params, X, Y, arch, opt, state, xp=target.xp,
                             workspace=workspace)
    step()  # warm: lazy imports, caches
    if torch_cuda:
        import torch

        torch.cuda.synchronize(target.device)
        torch.cuda.reset_peak_memory_stats(target.device)
        base = torch.cuda.memory_allocated(target.device)
        out = step()
        _backend.synchronize(out[0])
        peak = torch.cuda.max_memory_allocated(target.device) - base
        result["method"] = "torch.cuda.max_memory_allocated during one update, + its inputs"
    else:
        tracing = tracemalloc.is_tracing()
        if not tracing:
            tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            out = step()
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            if not tracing:
                tracemalloc.stop()
        result["method"] = "tracemalloc peak during one update, + its inputs"
    del out
    result["workspace_bytes"] = 0 if workspace is None else workspace.nbytes
    result["step_allocated_peak_bytes"] = peak
    result["peak_bytes"] = peak + inputs + result["workspace_bytes"]
    result["peak_over_model"] = result["peak_bytes"] / result["model_bytes"]
    return result
