"""The one training loop: forward, cost (when recorded), backward, update.

Two ways to count training:

- ``iterations=N``: N updates on the whole batch, the course's form. A record
  is taken every ``record_every`` updates and at the last one; its cost is
  that of the parameters *before* the update, as the course prints it.
- ``epochs=E``: E passes over the data in mini-batches of ``batch_size``
  (the whole batch when None), shuffled afresh each epoch. A record is taken
  at the end of each epoch; its cost is the mean over the epoch's batches.

The loop runs entirely in the namespace ``xp`` of the data. It reads values
back to the host only when it records, so a GPU is never made to wait inside a
step. Random numbers (shuffles, dropout masks) come from ``random``, an object
the caller provides (see ``xpnet._random.TrainingRandom``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from . import _backend, losses, network
from ._workspace import Workspace
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


def train(
    state: TrainState,
    X,
    Y,
    *,
    arch: Architecture,
    optimizer: Optimizer,
    plan: Plan,
    xp,
    random=None,
    validation: tuple[Any, Any] | None = None,
    on_record: Callable[[History], None] | None = None,
    on_checkpoint: Callable[[TrainState], None] | None = None,
    on_update: Callable[[int], None] | None = None,
    inplace: bool = False,
    group=None,
    shard=None,
    validation_shard=None,
) -> TrainState:
    """Train from ``state`` until ``plan`` is complete; returns the final state.

    X is (n_x, m) and Y (n[L], m), validated and in the namespace and dtype of
    the parameters; ``validation`` is (X_val, Y_val) likewise. ``random``
    gives shuffles and dropout masks. ``on_record(history)`` is called after
    each record, ``on_checkpoint(state)`` every ``plan.checkpoint_every``
    updates (iteration mode) or epochs (epoch mode). ``on_update(m)`` is called
    after every update with the number of examples it saw (a Python int: it
    reads nothing back from the device), for a progress display.

    A non-finite cost is noticed where it is recorded (never by a read-back
    per step): the loop raises :class:`~xpnet.errors.DivergenceError`, whose
    ``state`` holds the parameters of the last record whose cost was finite.

    With ``inplace`` the optimizer's in-place route updates the parameters and
    its slots where they lie, and the gradients and the update's temporary go
    into a :class:`~xpnet._workspace.Workspace` made once for the run: the same
    numbers, and no parameter-sized array allocated per step. The caller must
    own ``state.params`` then, since they will be overwritten.

    Mini-batches are gathered with :func:`xpnet._backend.take_examples`: X is
    best held with each example contiguous (``_backend.examples_contiguous``),
    which makes a batch a gather of whole rows of Xᵀ.

    Data-parallel training (see :mod:`xpnet.distributed`) passes the ``group``
    of processes, and the ``shard`` (and ``validation_shard``) saying which of
    the examples X (and X_val) holds; by default one process holds them all.
    """
    from .distributed import Shard, SingleProcess  # host-side bookkeeping, no array math

    workspace = None
    update = optimizer.update
    if inplace and optimizer.update_inplace:
        workspace = Workspace(state.params, xp=xp)
        update = functools.partial(optimizer.update_inplace, work=workspace)
    group = group or SingleProcess()
    loop = _Loop(arch, update, plan, xp, random, validation, on_record, on_checkpoint,
                 on_update, workspace, copy_best=workspace is not None, group=group,
                 shard=shard or Shard(X.shape[1]),
                 validation_shard=validation_shard or (
                     Shard(validation[1].shape[1]) if validation is not None else None))
    state.last_finite_params = loop.snapshot(state.params)
    if plan.epochs is None:
        return loop.by_iterations(state, X, Y)
    return loop.by_epochs(state, X, Y)


@dataclass
class _Loop:
    arch: Architecture
    update: Callable
    plan: Plan
    xp: Any
    random: Any
    validation: tuple | None
    on_record: Callable | None
    on_checkpoint: Callable | None
    on_update: Callable | None
    workspace: Workspace | None  # the in-place route's buffers; None on the pure route
    copy_best: bool  # snapshots (best, last finite) must be copies: the in-place route overwrites params
    group: Any  # the processes that train together (xpnet.distributed); one by default
    shard: Any  # which training examples this process holds
    validation_shard: Any
    val_predictions: int | None = None  # over all processes, counted at the first validation

    def step(self, state: TrainState, X, Y, *, m: int, within, measure: bool):
        """One update on a batch of ``m`` examples, of which (X, Y) are the ones held here;
        ``within`` are their columns in the batch (None: all of them).

        With ``measure``, also returns what the parameters before the update score
        on (X, Y): the summed loss, the correct count and the L2 term (0-d device
        arrays, not read back); else (None, None, None).
        """
        xp, arch = self.xp, self.arch
        masks = None
        if arch.keep_prob < 1.0:
            masks = self.random.dropout_masks(arch.layer_dims[1:-1], m, arch.keep_prob,
                                              step=state.step, columns=within)
        A_L, caches = network.forward(state.params, X, arch, xp=xp, masks=masks,
                                      work=self.workspace)
        loss = hits = penalty = None
        if measure:
            loss, hits = self.local_measures(A_L, caches, Y)
            penalty = (network.l2_penalty(state.params, arch, m, xp=xp, out=self.workspace)
                       if arch.l2 else 0.0)
        # The gradients of this process's examples, divided by the batch's global m;
        # summed over the processes, then the L2 term once.
        grads = network.backward(state.params, caches, Y, arch, xp=xp, m=m, l2=False,
                                 out=self.workspace)
        grads = self.group.sum_gradients(grads, xp=xp)
        grads = network.add_l2_gradient(grads, state.params, arch, m, out=self.workspace)
        state.params, state.opt_state = self.update(state.params, grads, state.opt_state, xp=xp)
        state.step += 1
        if self.on_update is not None:
            self.on_update(m)
        return loss, hits, penalty

    def local_measures(self, A_L, caches, Y):
        """(Σ of the loss over the columns of Y, correct count or None): the L2 term excluded."""
        xp, output = self.xp, self.arch.output
        m_local = Y.shape[1]
        loss = output.cost(caches[-1].Z, Y, xp=xp) * m_local if m_local else 0.0
        hits = losses.correct_count(output.name, A_L, Y, xp=xp) if output.classifier else None
        return loss, hits

    def totals(self, loss, hits, m: int) -> tuple[float, int | None]:
        """The mean loss over all ``m`` examples and the total correct count: summed over
        the processes and read back to the host (the only read-back of a record)."""
        total, correct = self.group.sum(loss, 0 if hits is None else hits)
        return total / m, None if hits is None else int(correct)

    def prediction_count(self, Y) -> int:
        return int(self.group.sum(losses.prediction_count(self.arch.output.name, Y))[0])

    def by_iterations(self, state: TrainState, X, Y) -> TrainState:
        plan, m = self.plan, self.shard.m
        n_predictions = self.prediction_count(Y)
        while state.step < plan.iterations:
            i = state.step
            recording = i % plan.record_every == 0 or i == plan.iterations - 1
            # A record describes the parameters before this update, as the course's does.
            validation = self.validate(state) if recording else {}
            before = self.snapshot(state.params) if recording else None
            loss, hits, penalty = self.step(state, X, Y, m=m, within=self.shard.index,
                                            measure=recording)
            if recording:
                J, hits = self.totals(loss, hits, m)
                if self.record(state, i, J + float(penalty), hits, n_predictions, validation, before):
                    break
            if self.on_checkpoint and state.step % plan.checkpoint_every == 0:
                self.on_checkpoint(state)
        return self.finish(state)

    def by_epochs(self, state: TrainState, X, Y) -> TrainState:
        xp, plan, shard = self.xp, self.plan, self.shard
        m = shard.m
        batch_size = plan.batch_size or m
        n_predictions = self.prediction_count(Y)
        while state.epoch < plan.epochs:
            if batch_size < m:
                columns, batches = shard.batches(self.random.permutation(m), batch_size, like=X)
            else:
                columns, batches = None, [(m, None, None, shard.index)]
            loss_sum = hits_sum = penalty_sum = 0
            for m_batch, start, stop, within in batches:
                if columns is None:
                    X_batch, Y_batch = X, Y
                else:
                    batch = columns[start:stop]
                    X_batch = _backend.take_examples(X, batch, xp=xp)
                    Y_batch = _backend.take_examples(Y, batch, xp=xp)
                loss, hits, penalty = self.step(state, X_batch, Y_batch, m=m_batch, within=within,
                                                measure=True)
                loss_sum = loss_sum + loss
                penalty_sum = penalty_sum + penalty * m_batch
                if hits is not None:
                    hits_sum = hits_sum + hits
            state.epoch += 1
            J, hits = self.totals(loss_sum, hits_sum if self.arch.output.classifier else None, m)
            if self.record(state, state.step, J + float(penalty_sum) / m, hits, n_predictions,
                           self.validate(state), self.snapshot(state.params), epoch=state.epoch):
                break
            if self.on_checkpoint and state.epoch % plan.checkpoint_every == 0:
                self.on_checkpoint(state)
        return self.finish(state)

    def snapshot(self, params) -> tuple:
        """``params`` as they are now: a copy where the in-place route will overwrite them."""
        if not self.copy_best:
            return params
        return tuple((self.xp.asarray(W, copy=True), self.xp.asarray(b, copy=True)) for W, b in params)

    def record(self, state: TrainState, iteration, J: float, hits: int | None, n_predictions,
               validation, params, epoch=None) -> bool:
        """Record the measures (already on the host); True to stop early.

        ``params`` are those the record describes; kept while their cost is finite.
        """
        if not math.isfinite(J):
            state.params = state.last_finite_params
            where = f"epoch {epoch}" if epoch is not None else f"iteration {iteration}"
            raise DivergenceError(
                f"training diverged: the cost became {J} at {where}. Try a smaller "
                "learning rate (or standardize X); the model keeps the parameters of the "
                "last record whose cost was finite",
                iteration=iteration, state=state,
            )
        state.last_finite_params = params
        metrics = {}
        if hits is not None:
            metrics["accuracy"] = hits / n_predictions
        metrics.update(validation)
        state.history.add(iteration, J, epoch, **metrics)
        if self.on_record is not None:
            self.on_record(state.history)
        return self.plan.patience is not None and state.records_since_best >= self.plan.patience

    def validate(self, state: TrainState) -> dict[str, float]:
        """val_cost and val_accuracy of the current parameters (none without validation
        data); under early stopping, keep them if they are the best so far."""
        if self.validation is None:
            return {}
        xp, arch, params = self.xp, self.arch, state.params
        X_val, Y_val = self.validation
        m = self.validation_shard.m
        A_L, caches = network.forward(params, X_val, arch, xp=xp)
        loss, hits = self.local_measures(A_L, caches, Y_val)
        J, hits = self.totals(loss, hits, m)
        if arch.l2:
            J += float(network.l2_penalty(params, arch, m, xp=xp))
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

    def finish(self, state: TrainState) -> TrainState:
        if self.plan.patience is not None and state.best_params is not None:
            state.params = state.best_params
        return state
