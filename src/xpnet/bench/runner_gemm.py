"""The bare GEMMs: the matrix products of xpnet's update, timed alone with the backend's ``@``."""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from .. import _backend
from .._backend import Target
from .hostdata import to_target
from .timing import Runner, Timing, measure, measure_times, median_timing
from .workload import Gemm, Workload, step_gemms

#: A timing of the bare GEMMs repeats them until it lasts about this long (seconds).
GEMM_MIN_SECONDS = 0.05


def gemm_operands(gemms: Sequence[Gemm], target: Target, dtype: str, seed: int = 0) -> list:
    """(left, right) operands for each product, in the layouts xpnet uses (transposed views)."""
    rng = np.random.RandomState(seed)
    put = lambda *shape: to_target(rng.randn(*shape), target, dtype)  # noqa: E731
    pairs = []
    for g in gemms:
        if g.kind == "forward":  # W (rows, inner) · A (inner, cols)
            pairs.append((put(g.rows, g.inner), put(g.inner, g.cols)))
        elif g.kind == "dW":  # dZ (rows, inner) · A_prev (cols, inner)ᵀ
            pairs.append((put(g.rows, g.inner), put(g.cols, g.inner).T))
        else:  # W (inner, rows)ᵀ · dZ (inner, cols)
            pairs.append((put(g.inner, g.rows).T, put(g.inner, g.cols)))
    return pairs


def gemm_runner(gemms: Sequence[Gemm], target: Target, dtype: str, number: int = 1,
                cast: Callable | None = None) -> Runner:
    """All ``gemms`` in order, ``number`` times, then a wait for the device; ``cast``, if
    given, turns each operand into another type first (e.g. bfloat16 tensors)."""
    pairs = gemm_operands(gemms, target, dtype)
    if cast is not None:
        pairs = [(cast(left), cast(right)) for left, right in pairs]

    def run():
        out = None
        for _ in range(number):
            for left, right in pairs:
                out = left @ right
        _backend.synchronize(out)

    return Runner(run, per_run=number)


def step_gemms_timing(layers: Sequence[int], m: int, target: Target, dtype: str,
                      repeat: int, cast: Callable | None = None) -> Timing:
    """Median wall and CPU seconds of the GEMMs of one update on m examples, repeated
    to last GEMM_MIN_SECONDS."""
    gemms = step_gemms(layers, m)
    once = min(measure(gemm_runner(gemms, target, dtype, cast=cast), 1))
    number = max(1, min(1000, math.ceil(GEMM_MIN_SECONDS / max(once, 1e-9))))
    return median_timing(measure_times(gemm_runner(gemms, target, dtype, number, cast), repeat))


def time_step_gemms(layers: Sequence[int], m: int, target: Target, dtype: str,
                    repeat: int, cast: Callable | None = None) -> float:
    """Median seconds of the GEMMs of one update on m examples, repeated to last GEMM_MIN_SECONDS."""
    return step_gemms_timing(layers, m, target, dtype, repeat, cast).wall


def time_workload_gemms(w: Workload, target: Target, dtype: str, repeat: int) -> Timing:
    """The bare GEMM time of the whole workload: each batch size's step GEMMs × its count."""
    total = Timing(0.0, 0.0)
    for m, count in Counter(w.batch_sizes).items():
        total = total + count * step_gemms_timing(w.layers, m, target, dtype, repeat)
    return total
