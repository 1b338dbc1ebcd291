"""The one training loop: forward, cost (when recorded), backward, update.

Two ways to count training:

- ``iterations=N``: N updates on the whole batch, the course's form. A record
  is taken every ``record_every`` updates and at the last one; its cost is
  that of the parameters *before* the update, as the course prints it.
- ``epochs=E``: E passes over the data in mini-batches of ``batch_size``
  (the whole batch when None), shuffled afresh each epoch. A record is taken
  at the end of each epoch; its cost is the mean over the epoch's batches.

One step, the course's: dropout masks → forward → backward → the gradients
summed over the processes → the L2 term → the optimizer's update. One loop
around it, the same for both ways of counting: a round of steps (one update,
or an epoch's mini-batches), then, where due, a record, a checkpoint, and a
stop when early stopping says so.

The loop runs entirely in the namespace ``xp`` of the data. It reads values
back to the host only when it records, so a GPU is never made to wait inside a
step. Random numbers (shuffles, dropout masks) come from ``random``, an object
the caller provides (see ``xpnet._random.TrainingRandom``).

Data parallelism (:mod:`xpnet.distributed`) enters through one seam, the
``group`` of processes: it sums the gradients of a step and the measures of a
record. Alone, a process's group is the identity, and its :class:`Examples`
hold every example.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import _backend, losses, network
from ._workspace import Workspace
from .distributed import Shard, SingleProcess
from .errors import DivergenceError
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
    "accuracy" for classifiers, and with validation data "val_cost" and
    "val_accuracy". ``best`` is the index of the record with the lowest
    val_cost when early stopping was on, and ``stopped_early`` says whether
    it ended the run.
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    best: int | None = None
    stopped_early: bool = False

    def __len__(self) -> int:
        return len(self.costs)

    def __getitem__(self, name: str) -> list[float]:
        """``hist["cost"]`` or any metric by name, e.g. ``hist["val_cost"]``."""
        if name == "cost":
            return self.costs
        return self.metrics[name]

    def add(self, iteration: int, cost: float, epoch: int | None = None, **metrics: float) -> None:
        self.iterations.append(iteration)
        self.costs.append(cost)
        if epoch is not None:
            self.epochs.append(epoch)
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append(value)


@dataclass(frozen=True)
class Plan:
    """How long to train and what to do along the way (see the module docstring)."""

    iterations: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    record_every: int = 100
    patience: int | None = None  # early stopping on val_cost, counted in records
    checkpoint_every: int | None = None  # in updates (iterations) or epochs


@dataclass
class TrainState:
    """Everything a run needs to go on from where it is; a checkpoint saves exactly this
    (with the random generator's state)."""

    params: tuple
    opt_state: dict
    step: int = 0  # updates made
    epoch: int = 0  # epochs completed
    history: History = field(default_factory=History)
    best_params: tuple | None = None
    best_val_cost: float = float("inf")
    records_since_best: int = 0
    last_finite_params: tuple | None = None  # those of the last record with a finite cost


@dataclass(frozen=True)
class Examples:
    """Examples to train or validate on, as this process holds them: X (n_x, m_local)
    and Y (n[L], m_local) in the parameters' namespace and dtype, and ``shard``, which
    of the data set's m examples they are (all of them, in order, on one process)."""

    X: Any
    Y: Any
    shard: Shard = None  # type: ignore[assignment]

    def __post_init__(self):
        if self.shard is None:
            object.__setattr__(self, "shard", Shard(self.X.shape[1]))

    @property
    def m(self) -> int:
        """The data set's number of examples, over all processes."""
        return self.shard.m


@dataclass(frozen=True)
class Batch:
    """One step's examples: X and Y as held here, ``m`` over all processes, and ``within``,
    the columns of the batch held here (None: all), for the dropout masks."""

    X: Any
    Y: Any
    m: int
    within: Any = None


@dataclass(frozen=True)
class Model:
    """What is trained and how: the architecture, the optimizer, the namespace ``xp``.

    ``inplace``: take the optimizer's in-place route, the gradients and its
    temporary in a :class:`~xpnet._workspace.Workspace` made once for the run
    (the same numbers, and no parameter-sized array allocated per step). The
    caller must own ``state.params`` then, since they will be overwritten.
    """

    arch: Architecture
    optimizer: Optimizer
    xp: Any
    inplace: bool = False


@dataclass(frozen=True)
class Hooks:
    """Calls out of the loop: ``on_record(history)`` after each record,
    ``on_checkpoint(state)`` every ``plan.checkpoint_every`` updates (iteration
    mode) or epochs (epoch mode), ``on_update(m)`` after every update with the
    number of examples it saw (a Python int: it reads nothing from the device)."""

    on_record: Callable[[History], None] | None = None
    on_checkpoint: Callable[[TrainState], None] | None = None
    on_update: Callable[[int], None] | None = None


def train(state: TrainState, data: Examples, plan: Plan, *, model: Model, random,
          validation: Examples | None = None, group=None, hooks: Hooks = Hooks()) -> TrainState:
    """Train from ``state`` on ``data`` until ``plan`` is complete; returns the final state.

    ``random`` gives shuffles and dropout masks; ``validation``, if given, is
    measured at each record; ``group`` is the processes that train together
    (:mod:`xpnet.distributed`; one by default).

    A non-finite cost is noticed where it is recorded (never by a read-back
    per step): the loop raises :class:`~xpnet.errors.DivergenceError`, whose
    ``state`` holds the parameters of the last record whose cost was finite.

    Mini-batches are gathered with :func:`xpnet._backend.take_examples`: X is
    best held with each example contiguous (``_backend.examples_contiguous``),
    which makes a batch a gather of whole rows of Xᵀ.
    """
    loop = _Loop(model, plan, random, validation, group or SingleProcess(), hooks)
    return loop.run(state, data)


@dataclass
class _Measures:
    """What a record reports, summed over a round's steps as 0-d device arrays (never read
    back per step): the loss summed over the examples, the correct count (None for a
    regression), and the L2 term."""

    loss: Any = 0
    hits: Any = None
    penalty: Any = 0  # of the last step
    penalty_sum: Any = 0  # over the steps, each weighted by its batch's m

    def add(self, loss, hits, penalty, m: int) -> None:
        self.loss = self.loss + loss
        if hits is not None:
            self.hits = hits if self.hits is None else self.hits + hits
        self.penalty = penalty
        self.penalty_sum = self.penalty_sum + penalty * m


class _Loop:
    def __init__(self, model: Model, plan: Plan, random, validation, group, hooks: Hooks):
        self.model, self.plan, self.random = model, plan, random
        self.validation, self.group, self.hooks = validation, group, hooks
        self.xp, self.arch = model.xp, model.arch
        self.workspace = None
        self.update = model.optimizer.update
        self.val_predictions = None  # over all processes, counted at the first validation

    def use(self, model: Model, params) -> None:
        """Train ``model`` from here on: its in-place route (a workspace for ``params``)
        where it has one and asks for it, else its pure update."""
        self.model, self.arch = model, model.arch
        self.workspace, self.update = None, model.optimizer.update
        if model.inplace and model.optimizer.update_inplace:
            self.workspace = Workspace(params, xp=self.xp)
            self.update = functools.partial(model.optimizer.update_inplace, work=self.workspace)

    def run(self, state: TrainState, data: Examples) -> TrainState:
        plan = self.plan
        self.use(self.model, state.params)
        state.last_finite_params = self.snapshot(state.params)
        by_epochs = plan.epochs is not None
        n_predictions = self.prediction_count(data.Y)
        while (state.epoch < plan.epochs) if by_epochs else (state.step < plan.iterations):
            i = state.step
            # Iteration mode records every record_every updates and the last, describing the
            # parameters before the update (as the course does); epoch mode every epoch,
            # describing those after it.
            recording = by_epochs or i % plan.record_every == 0 or i == plan.iterations - 1
            if recording and not by_epochs:
                validation, described = self.validate(state), self.snapshot(state.params)
            measures = _Measures()
            for batch in self.batches(data, by_epochs):
                step_measures = self.step(state, batch, measure=recording)
                if recording:
                    measures.add(*step_measures, batch.m)
            if by_epochs:
                state.epoch += 1
                validation, described = self.validate(state), self.snapshot(state.params)
            if recording:
                J, hits = self.totals(measures.loss, measures.hits, data.m)
                if by_epochs:  # the epoch's mean: each batch's L2 term weighted by its m
                    J, where = J + self.to_host(measures.penalty_sum) / data.m, dict(
                        iteration=state.step, epoch=state.epoch)
                else:
                    J, where = J + self.to_host(measures.penalty), dict(iteration=i)
                if self.record(state, J, hits, n_predictions, validation, described, **where):
                    break
            position = state.epoch if by_epochs else state.step
            if self.hooks.on_checkpoint and position % plan.checkpoint_every == 0:
                self.hooks.on_checkpoint(state)
        self.finish(state, by_epochs)
        return state

    def finish(self, state: TrainState, by_epochs: bool) -> None:
        """The parameters a run ends with: the best record's under early stopping, else the
        last, checked to be finite."""
        plan = self.plan
        if plan.patience is not None and state.best_params is not None:
            state.params = state.best_params
        elif not by_epochs and state.step and not self.finite(state.params):
            # Iteration mode records the parameters before an update: those after the
            # last one are checked here, once.
            self.diverged(state, f"the parameters became NaN or inf in the last updates "
                                 f"(up to iteration {state.step - 1})", state.step - 1)

    def batches(self, data: Examples, by_epochs: bool) -> Iterator[Batch]:
        """A round's batches: the whole set (iteration mode, or an epoch of one batch), or
        an epoch's mini-batches in a fresh shuffle, gathered on the device."""
        xp, m = self.xp, data.m
        batch_size = self.plan.batch_size or m
        if not by_epochs or batch_size >= m:
            yield Batch(data.X, data.Y, m, data.shard.index)
            return
        columns, batches = data.shard.batches(self.random.permutation(m), batch_size, like=data.X)
        for m_batch, start, stop, within in batches:
            batch = columns[start:stop]
            yield Batch(_backend.take_examples(data.X, batch, xp=xp),
                        _backend.take_examples(data.Y, batch, xp=xp), m_batch, within)

    def step(self, state: TrainState, batch: Batch, *, measure: bool):
        """One update on ``batch``: masks → forward → backward → reduce → L2 → update.

        With ``measure``, also returns what the parameters before the update score
        on the batch: the summed loss, the correct count and the L2 term (0-d device
        arrays, not read back); else None.
        """
        xp, arch, work = self.xp, self.arch, self.workspace
        masks = None
        if arch.dropout:
            masks = self.random.dropout_masks(arch.layer_dims[1:-1], batch.m, arch.keep_prob,
                                              step=state.step, columns=batch.within)
        A_L, caches = network.forward(state.params, batch.X, arch, xp=xp, masks=masks, work=work)
        measures = None
        if measure:
            loss, hits = self.local_measures(A_L, caches, batch.Y)
            penalty = (network.l2_penalty(state.params, arch, batch.m, xp=xp, out=work)
                       if arch.regularized else 0.0)
            measures = (loss, hits, penalty)
        # This process's share of the gradients (divided by the batch's global m), summed
        # over the processes, then the L2 term once.
        grads = network.backward(state.params, caches, batch.Y, arch, xp=xp, m=batch.m,
                                 l2=False, out=work)
        grads = self.group.sum_gradients(grads, xp=xp)
        grads = network.add_l2_gradient(grads, state.params, arch, batch.m, out=work)
        state.params, state.opt_state = self.update(state.params, grads, state.opt_state, xp=xp)
        state.step += 1
        if self.hooks.on_update is not None:
            self.hooks.on_update(batch.m)
        return measures

    def local_measures(self, A_L, caches, Y):
        """(Σ of the loss over the columns of Y, correct count or None): the L2 term excluded."""
        xp, output = self.xp, self.arch.output
        m_local = Y.shape[1]
        loss = output.cost(caches[-1].Z, Y, xp=xp) * m_local if m_local else 0.0
        hits = losses.correct_count(output.name, A_L, Y, xp=xp) if output.classifier else None
        return loss, hits

    def to_host(self, value) -> float:
        """A record's 0-d device array (or number) as a Python float."""
        return float(value)

    def totals(self, loss, hits, m: int) -> tuple[float, int | None]:
        """The mean loss over all ``m`` examples and the total correct count: summed over
        the processes and read back to the host (the only read-back of a record)."""
        total, correct = self.group.sum(loss, 0 if hits is None else hits)
        return total / m, None if hits is None else int(correct)

    def prediction_count(self, Y) -> int:
        return int(self.group.sum(losses.prediction_count(self.arch.output.name, Y))[0])

    def snapshot(self, params) -> tuple:
        """``params`` as they are now: a copy where the in-place route will overwrite them."""
        if self.workspace is None:
            return params
        return tuple((self.xp.asarray(W, copy=True), self.xp.asarray(b, copy=True)) for W, b in params)

    def record(self, state: TrainState, J: float, hits: int | None, n_predictions,
               validation, params, *, iteration: int, epoch: int | None = None) -> bool:
        """Record the measures (already on the host); True to stop early.

        ``params`` are those the record describes; kept while their cost is finite.
        """
        where = f"epoch {epoch}" if epoch is not None else f"iteration {iteration}"
        if not math.isfinite(J):
            self.diverged(state, f"the cost became {J} at {where}", iteration)
        if epoch is not None and not self.finite(params):
            # An epoch's cost is measured before its updates: the last may still overflow.
            self.diverged(state, f"the parameters became NaN or inf during {where}", iteration)
        state.last_finite_params = params
        metrics = {}
        if hits is not None:
            metrics["accuracy"] = hits / n_predictions
        metrics.update(validation)
        state.history.add(iteration, J, epoch, **metrics)
        if self.hooks.on_record is not None:
            self.hooks.on_record(state.history)
        return self.plan.patience is not None and state.records_since_best >= self.plan.patience

    def finite(self, params) -> bool:
        """Whether every W and b is finite: one sum, read back once (a NaN or inf makes it
        non-finite; only then, or if finite entries overflowed it, each array is looked at)."""
        xp = self.xp
        total = sum(xp.sum(W) + xp.sum(b) for W, b in params)
        if bool(xp.isfinite(total)):
            return True
        return all(bool(xp.all(xp.isfinite(a))) for pair in params for a in pair)

    def diverged(self, state: TrainState, what: str, iteration: int):
        """Raise DivergenceError, the state back at the last record whose figures were finite."""
        state.params = state.last_finite_params
        raise DivergenceError(
            f"training diverged: {what}. Try a smaller learning rate (or standardize X); "
            "the model keeps the parameters of the last record whose cost was finite",
            iteration=iteration, state=state,
        )

    def validate(self, state: TrainState) -> dict[str, float]:
        """val_cost and val_accuracy of the current parameters (none without validation
        data); under early stopping, keep them if they are the best so far."""
        if self.validation is None:
            return {}
        xp, arch, params = self.xp, self.arch, state.params
        X_val, Y_val, m = self.validation.X, self.validation.Y, self.validation.m
        A_L, caches = network.forward(params, X_val, arch, xp=xp)
        loss, hits = self.local_measures(A_L, caches, Y_val)
        J, hits = self.totals(loss, hits, m)
        if arch.regularized:
            J = J + self.to_host(network.l2_penalty(params, arch, m, xp=xp))
        metrics = {"val_cost": J}
        if hits is not None:
            if self.val_predictions is None:
                self.val_predictions = self.prediction_count(Y_val)
            metrics["val_accuracy"] = hits / self.val_predictions
        if self.plan.patience is not None:
            self.track_best(state, metrics["val_cost"])
        return metrics

    def track_best(self, state: TrainState, val_cost: float) -> None:
        if val_cost < state.best_val_cost:
            state.best_val_cost = val_cost
            state.best_params = self.snapshot(state.params)
            state.history.best = len(state.history)  # the index of the record being made
            state.records_since_best = 0
        else:
            state.records_since_best += 1
            if state.records_since_best >= self.plan.patience:
                state.history.stopped_early = True
