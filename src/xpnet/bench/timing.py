"""How a benchmark times an implementation: a :class:`Runner` and its timed runs."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

#: Iterations of the warm-up fit that precedes the timed fits of a "fit" workload.
WARMUP_ITERATIONS = 10
#: Every record_every updates xpnet reads its cost back; the peers do likewise.
RECORD_EVERY = 100


@dataclass
class Runner:
    """How to time one implementation of a workload.

    ``run()`` does the workload ``per_run`` times and waits for the device;
    ``setup()`` (untimed) comes before each run; ``warmup()`` once before all.
    ``params()``, where given, returns the parameters the last run trained, on
    the host as xpnet holds them ([(W[l], b[l]), ...], b as (n[l], 1)): to check
    that the implementations compared do the same arithmetic. ``cost()``, where
    given, returns the last cost (loss) the last run read back, a float: the
    cost before the last update of a fit, an epoch's mean.

    A sweep's runner trains K networks: its ``params()`` are stacked as a sweep
    holds them (W[l] (K, n[l], n[l-1]), b[l] (K, n[l], 1)), ``cost()`` is network
    0's and ``costs()`` each network's. ``outcomes()``, where given, says what
    became of each network of the last run ("trained", "diverged", ...).
    ``compile_seconds``: the time spent compiling before the timed runs (JAX's
    ahead-of-time compilation), which no timing includes; None where nothing compiles.
    """

    run: Callable[[], Any]
    setup: Callable[[], Any] = lambda: None
    warmup: Callable[[], Any] | None = None
    per_run: int = 1
    params: Callable[[], list] | None = None
    cost: Callable[[], float] | None = None
    costs: Callable[[], list[float]] | None = None
    outcomes: Callable[[], list[str]] | None = None
    compile_seconds: float | None = None


@dataclass(frozen=True)
class Timing:
    """Seconds of one workload: ``wall`` by ``time.perf_counter``, ``cpu`` by
    ``time.process_time`` (this process's CPU time, all its threads together).

    CPU well below wall: the process waited (for cores other processes held, for
    a GPU). CPU above wall: several threads worked at once."""

    wall: float
    cpu: float

    def __add__(self, other: "Timing") -> "Timing":
        return Timing(self.wall + other.wall, self.cpu + other.cpu)

    def __mul__(self, k: float) -> "Timing":
        return Timing(self.wall * k, self.cpu * k)

    __rmul__ = __mul__


def measure_times(runner: Runner, repeat: int) -> list[Timing]:
    """Wall and CPU seconds per workload of ``repeat`` timed runs after one warm-up."""
    runner.setup()
    (runner.warmup or runner.run)()
    times = []
    for _ in range(repeat):
        runner.setup()
        cpu, start = time.process_time(), time.perf_counter()
        runner.run()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        times.append(Timing(wall / runner.per_run, cpu / runner.per_run))
    return times


def median_timing(times: Sequence[Timing]) -> Timing:
    """The median wall time and the median CPU time (each taken on its own)."""
    return Timing(statistics.median(t.wall for t in times), statistics.median(t.cpu for t in times))


def measure(runner: Runner, repeat: int) -> list[float]:
    """Wall seconds per workload of ``repeat`` timed runs after one warm-up."""
    return [t.wall for t in measure_times(runner, repeat)]


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None where either is missing (a peer that could not run) or b is 0."""
    return a / b if a is not None and b else None
