"""The training loop: forward, cost (when recorded), backward, update.

The loop runs entirely in the namespace ``xp`` of the data. It reads a value
back to the host only when it records the cost (every ``record_every``
iterations and at the last one), so a GPU is never made to wait inside a step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from . import network
from .network import Architecture
from .optimizers import Optimizer


@dataclass
class History:
    """What was recorded while training; entry k of every list belongs to one record.

    ``iterations[k]`` is the update step of the record and ``costs[k]`` the
    training cost J there: the cost of the parameters *before* that step, as
    the course prints it (iteration 0 is the initial cost). In epoch mode a
    record is taken at the end of each epoch, ``costs[k]`` is the mean cost of
    that epoch's mini-batches and ``epochs[k]`` the epoch (1-based).
    ``metrics`` holds further series of the same length, by name:
    "accuracy" (or "r2"), and with validation data "val_cost",
    "val_accuracy" (or "val_r2").
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.costs)

    def __getitem__(self, name: str) -> list[float]:
        """``hist["cost"]`` or any metric by name, e.g. ``hist["val_cost"]``."""
        if name == "cost":
            return self.costs
        return self.metrics[name]


def train(
    params: network.Params,
    X,
    Y,
    *,
    arch: Architecture,
    optimizer: Optimizer,
    iterations: int,
    record_every: int = 100,
    on_record: Callable[[int, float], None] | None = None,
    xp,
) -> tuple[tuple[tuple[Any, Any], ...], History]:
    """Run ``iterations`` steps of ``optimizer`` over the whole batch (X, Y).

    X is (n_x, m), Y is (n[L], m), both already validated and in the dtype and
    namespace of ``params``. ``on_record(i, J)`` is called with each recorded
    cost. Returns the final parameters and the history.
    """
    params = tuple(params)
    state = optimizer.init(params)
    history = History()
    for i in range(iterations):
        _, caches = network.forward(params, X, arch, xp=xp)
        recording = i % record_every == 0 or i == iterations - 1
        if recording:
            J = arch.output.cost(caches[-1].Z, Y, xp=xp)
        grads = network.backward(params, caches, Y, arch, xp=xp)
        params, state = optimizer.update(params, grads, state, xp=xp)
        if recording:
            # The one read-back to the host, every record_every iterations.
            history.iterations.append(i)
            history.costs.append(float(J))
            if on_record is not None:
                on_record(i, history.costs[-1])
    return params, history
