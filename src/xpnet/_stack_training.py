"""The training loop for a stack of K networks of one shape (a sweep): training.py's one
loop, with a record per network.

Every step is ``training``'s: the stacked parameters (W[l] of shape (K, n[l], n[l-1]))
go through the same forward, backward and update (network.py and optimizers.py take
a stack), on the same batches and the same draws of the random generator. What
differs is the bookkeeping: each network has its own history, its own early
stopping and its own divergence. A network that stops early or diverges leaves
the stack at that record, keeping the parameters its own fit would have ended
with (its best record's, or its last finite ones); the others go on in a smaller
stack, so no update is spent on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from . import _backend, losses, network, optimizers
from .distributed import SingleProcess
from .network import Architecture
from .training import Examples, History, Hooks, Model, Plan, TrainState, _Loop

#: What became of a network of a sweep.
TRAINED, STOPPED_EARLY, DIVERGED = "trained", "stopped early", "diverged"


@dataclass(frozen=True)
class Settings:
    """One network's own settings in a stack: its learning rate (or schedule), L2 strength
    λ, dropout keep probability and the seed of its initial weights."""

    learning_rate: optimizers.LearningRate
    l2: float
    keep_prob: float
    seed: int | None


@dataclass(frozen=True)
class StackModel:
    """What a stack trains: the shared architecture (its l2 and keep_prob are ignored:
    each network has its own, in ``settings``), the optimizer's name and
    hyperparameters (its learning rate is each network's), the namespace ``xp`` and
    the parameters' dtype and device, and whether the in-place route is taken."""

    arch: Architecture
    optimizer: str
    hyperparameters: dict
    settings: tuple[Settings, ...]
    xp: Any
    dtype: Any
    device: Any
    inplace: bool

    def model(self, networks: Sequence[int]) -> Model:
        """The :class:`~xpnet.training.Model` of the stack of ``networks`` (indices into
        ``settings``): λ as a (K, 1, 1) array where any network has one, the keep
        probabilities and learning rates one per network where they differ."""
        chosen = [self.settings[k] for k in networks]
        l2s = [s.l2 for s in chosen]
        l2: Any = 0.0
        if any(l2s):
            l2 = self.xp.reshape(self.xp.asarray(l2s, dtype=self.dtype, device=self.device),
                                 (-1, 1, 1))
        keep_probs = tuple(s.keep_prob for s in chosen)
        keep_prob = keep_probs if min(keep_probs) < 1.0 else 1.0
        rates = [s.learning_rate for s in chosen]
        shared = not any(callable(r) for r in rates) and len(set(rates)) == 1
        optimizer = optimizers.get(self.optimizer, rates[0] if shared else rates,
                                   **self.hyperparameters)
        arch = replace(self.arch, l2=l2, keep_prob=keep_prob)
        return Model(arch, optimizer, self.xp, inplace=self.inplace)


@dataclass
class StackState(TrainState):
    """A stack's :class:`~xpnet.training.TrainState`: ``params`` and ``opt_state`` hold
    the networks still training, in the order of ``networks`` (their indices in the
    sweep); the rest is per network, indexed by those indices.

    ``final`` holds the parameters of each network that has left the stack (its own
    (W, b) pairs), ``outcomes`` what became of it; ``best`` the parameters of each
    network's best record under early stopping. ``final_figures`` holds, for each
    network that trained to the end in iteration mode, the figures of the parameters
    it ended with (its last record, as the course's, describes those before the last
    update). ``group`` is the index of the group of networks training now, where a
    sweep trains its networks in several stacks, one after another.
    """

    networks: list[int] = field(default_factory=list)
    histories: list[History] = field(default_factory=list)
    outcomes: list[str | None] = field(default_factory=list)
    final: dict[int, tuple] = field(default_factory=dict)
    best: dict[int, tuple] = field(default_factory=dict)
    best_val_costs: list[float] = field(default_factory=list)
    since_best: list[int] = field(default_factory=list)
    diverged_at: dict[int, str] = field(default_factory=dict)
    final_figures: dict[int, dict[str, float]] = field(default_factory=dict)
    group: int = 0

    @classmethod
    def empty(cls, K: int) -> "StackState":
        """The state of K networks none of which has started."""
        return cls((), {"count": 0, "slots": {}}, histories=[History() for _ in range(K)],
                   outcomes=[None] * K, best_val_costs=[math.inf] * K, since_best=[0] * K)

    def begin(self, networks: Sequence[int], params: tuple, opt_state: dict) -> None:
        """Start training ``networks`` from ``params`` (their stack) and ``opt_state``."""
        self.networks, self.params, self.opt_state = list(networks), params, opt_state
        self.step = self.epoch = 0
        self.last_finite_params = None


def train_stack(state: StackState, data: Examples, plan: Plan, *, stack: StackModel, random,
                validation: Examples | None = None, hooks: Hooks = Hooks()) -> StackState:
    """Train the stack in ``state`` on ``data`` until ``plan`` is complete, or until every
    network has stopped early or diverged; returns the final state, in which every
    network's parameters are in ``state.final`` and its fate in ``state.outcomes``.

    ``hooks.on_record`` is called with the list of histories after each record.
    """
    loop = _StackLoop(stack, plan, random, validation, hooks)
    return loop.run(state, data)


class _StackLoop(_Loop):
    def __init__(self, stack: StackModel, plan: Plan, random, validation, hooks: Hooks):
        super().__init__(stack.model(range(len(stack.settings))), plan, random, validation,
                         SingleProcess(), hooks)
        self.stack = stack

    def run(self, state: StackState, data: Examples) -> StackState:  # type: ignore[override]
        if not state.networks:
            return state
        self.model, self.data = self.stack.model(state.networks), data
        return super().run(state, data)

    # -- what a record reads back: one figure per network ---------------------------------

    def to_host(self, value) -> np.ndarray | float:
        if isinstance(value, (int, float)):
            return float(value)  # no L2 term: adds to every network's figure alike
        return _backend.to_host(value).astype(np.float64)

    def totals(self, loss, hits, m: int):
        return self.to_host(loss) / m, None if hits is None else _backend.to_host(hits)

    def finite_each(self, params) -> np.ndarray:
        """Whether each network's W and b are all finite: one sum per network, read back."""
        xp = self.xp
        total = sum(xp.sum(W, axis=(-2, -1)) + xp.sum(b, axis=(-2, -1)) for W, b in params)
        finite = np.array(_backend.to_host(xp.isfinite(total)), dtype=bool)
        for position in np.flatnonzero(~finite):  # NaN or inf, or finite entries overflowed
            finite[position] = all(bool(xp.all(xp.isfinite(a[position, ...])))
                                   for pair in params for a in pair)
        return finite

    # -- per network: records, early stopping, divergence ----------------------------------

    def track_best(self, state: StackState, val_cost) -> None:
        for position, k in enumerate(state.networks):
            if val_cost[position] < state.best_val_costs[k]:
                state.best_val_costs[k] = float(val_cost[position])
                state.best[k] = self.network_params(state.params, position)
                state.histories[k].best = len(state.histories[k])
                state.since_best[k] = 0
            else:
                state.since_best[k] += 1
                if state.since_best[k] >= self.plan.patience:
                    state.histories[k].stopped_early = True

    def record(self, state: StackState, J, hits, n_predictions, validation, params, *,
               iteration: int, epoch: int | None = None) -> bool:
        where = f"epoch {epoch}" if epoch is not None else f"iteration {iteration}"
        finite = (self.finite_each(params) if epoch is not None
                  else np.ones(len(state.networks), dtype=bool))
        leaving = {}
        for position, k in enumerate(state.networks):
            if not math.isfinite(J[position]):
                leaving[position] = self.diverge(state, position, f"the cost became "
                                                 f"{J[position]} at {where}")
                continue
            if not finite[position]:  # an epoch's cost is measured before its updates
                leaving[position] = self.diverge(state, position, f"the parameters became "
                                                 f"NaN or inf during {where}")
                continue
            metrics = {name: float(values[position]) for name, values in validation.items()}
            if hits is not None:
                metrics = {"accuracy": int(hits[position]) / n_predictions, **metrics}
            state.histories[k].add(iteration, float(J[position]), epoch, **metrics)
            if self.plan.patience is not None and state.since_best[k] >= self.plan.patience:
                state.final[k] = state.best[k]
                leaving[position] = STOPPED_EARLY
        state.last_finite_params = params
        if self.hooks.on_record is not None:
            self.hooks.on_record(state.histories)
        if leaving:
            self.leave(state, leaving)
        return not state.networks

    def diverge(self, state: StackState, position: int, what: str) -> str:
        """Network ``position`` of the stack diverged: it keeps the parameters of its last
        record whose figures were finite."""
        k = state.networks[position]
        state.final[k] = self.network_params(state.last_finite_params, position)
        state.diverged_at[k] = what
        return DIVERGED

    def leave(self, state: StackState, leaving: dict[int, str]) -> None:
        """Take the networks at the positions ``leaving`` out of the stack, with their fate."""
        for position, outcome in leaving.items():
            state.outcomes[state.networks[position]] = outcome
        keep = [p for p in range(len(state.networks)) if p not in leaving]
        state.networks = [state.networks[p] for p in keep]
        if not keep:
            state.params = state.last_finite_params = ()
            return
        xp = self.xp
        rows = xp.asarray(keep, dtype=xp.int64, device=_backend.device(state.params[0][0]))

        def take(pairs):
            return tuple((xp.take(W, rows, axis=0), xp.take(b, rows, axis=0)) for W, b in pairs)

        state.params = take(state.params)
        state.last_finite_params = take(state.last_finite_params)
        state.opt_state = {**state.opt_state, "slots": {
            slot: list(take(pairs)) for slot, pairs in state.opt_state["slots"].items()}}
        self.use(self.stack.model(state.networks), state.params)

    def finish(self, state: StackState, by_epochs: bool) -> None:
        if not state.networks:
            return
        finite = (self.finite_each(state.params) if not by_epochs and state.step
                  else np.ones(len(state.networks), dtype=bool))
        for position, k in enumerate(state.networks):
            if self.plan.patience is not None and k in state.best:
                state.final[k] = state.best[k]
            elif not finite[position]:
                # Iteration mode records the parameters before an update: those after the
                # last one are checked here, once.
                self.diverge(state, position, "the parameters became NaN or inf in the last "
                                              f"updates (up to iteration {state.step - 1})")
                state.outcomes[k] = DIVERGED
                continue
            else:
                # Views of the stack, which nothing trains any more: no second copy of it.
                state.final[k] = self.network_params(state.params, position, copy=False)
            state.outcomes[k] = STOPPED_EARLY if state.histories[k].stopped_early else TRAINED
        if not by_epochs and self.plan.patience is None:
            self.measure_final(state)
        state.networks, state.params, state.last_finite_params = [], (), ()  # all have left

    def measure_final(self, state: StackState) -> None:
        """The figures of the parameters the networks still training end with (after the
        last update, which no record of iteration mode describes), so that a sweep's
        table ranks the networks it hands back."""
        trained = [(p, k) for p, k in enumerate(state.networks) if state.outcomes[k] == TRAINED]
        if not trained:
            return
        figures = self.figures(state.params, self.data, "")
        if self.validation is not None:
            figures.update(self.figures(state.params, self.validation, "val_"))
        for position, k in trained:
            state.final_figures[k] = {"iteration": state.step, **{
                name: float(values[position]) for name, values in figures.items()}}

    def figures(self, params, examples: Examples, prefix: str) -> dict[str, np.ndarray]:
        """{cost, accuracy} of each network of the stack ``params`` on ``examples`` (a
        block of columns at a time), the L2 term included, as a record reports them."""
        xp, arch = self.xp, self.arch
        J = network.cost(params, examples.X, examples.Y, arch, xp=xp, block=network.PREDICT_BLOCK)
        figures = {f"{prefix}cost": self.to_host(J)}
        if arch.output.classifier:
            A = network.predict_proba(params, examples.X, arch, xp=xp)
            hits = _backend.to_host(losses.correct_count(arch.output.name, A, examples.Y, xp=xp))
            figures[f"{prefix}accuracy"] = hits / losses.prediction_count(arch.output.name,
                                                                          examples.Y)
        return figures

    def network_params(self, params, position: int, *, copy: bool = True) -> tuple:
        """Network ``position``'s own (W, b) pairs out of the stack ``params``: copied (the
        stack goes on training, or is let go), or as views with ``copy=False``."""
        if not copy:
            return tuple((W[position, ...], b[position, ...]) for W, b in params)
        xp = self.xp
        return tuple((xp.asarray(W[position, ...], copy=True), xp.asarray(b[position, ...], copy=True))
                     for W, b in params)
