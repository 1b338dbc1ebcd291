"""Sweeps: many networks of one shape trained in one pass, as a stack.

The course's tuning lecture asks for many runs: learning rates on a log scale,
several seeds, a few L2 strengths. A :class:`Sweep` trains them together. Its K
networks share the shape, activations, optimizer, data and batches; each has its
own learning rate (or schedule), L2 strength λ, dropout keep probability and
initial seed. Their parameters are stacked, W[l] of shape (K, n[l], n[l-1]), and
one forward and backward pass serves all of them (network.py): the first layer's
K products with X run as one product of K·n[1] rows, which keeps a CPU's BLAS or
a GPU busy where one course-sized network leaves it mostly idle.

    net = xpnet.Network([12288, 7, 1], hidden="relu", dtype="float64")
    sweep = xpnet.Sweep.grid(net, learning_rate=[0.001, 0.01, 0.1], seed=[0, 1, 2])
    sweep.fit(X, Y, iterations=2500, validation_data=(X_val, Y_val))
    print(sweep.results())          # one row per network, the best first
    best = sweep.best()             # an ordinary xpnet.Network

Network k of a sweep trains exactly as ``Network(..., seed=seed_k, l2=λ_k,
keep_prob=p_k).fit(X, Y, learning_rate=α_k, shuffle_seed=S, ...)`` would, S
being the sweep's ``shuffle_seed`` (by default the template network's seed):
the same batches, the same dropout draws, and the same parameters up to the
rounding of the products' sums. A network that stops early or diverges leaves
the stack at that record with the parameters its own fit would have ended with;
the others go on.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import os
from typing import Any, Callable, Sequence

import numpy as np

from . import _backend, _fitting, _stack_checkpoint, initializers, optimizers
from ._checks import check_finite, count, is_int, is_real, machine_memory
from ._progress import Progress
from ._random import TrainingRandom
from ._stack_training import DIVERGED, Settings, StackModel, StackState, train_stack
from .distributed import SingleProcess
from .errors import ConfigError, NotFittedError
from .models import Network
from .training import Examples, History, Hooks

#: The settings each network of a sweep may have of its own.
SETTINGS = ("learning_rate", "l2", "keep_prob", "seed")


class Sweep:
    """K networks shaped like ``network``, each with its own settings, trained in one pass.

    Parameters
    ----------
    network
        The template (kept as :attr:`template`): layer sizes, activations, output, initializer, dtype and
        precision are shared by every network of the sweep.
    learning_rate, l2, keep_prob, seed
        Each a single value, shared by every network, or a list with one value per
        network; lists must all have the same length K. ``learning_rate`` is a
        number or a schedule (``xpnet.optimizers.step_decay``, ...); ``l2``,
        ``keep_prob`` and ``seed`` default to the template's. See :meth:`grid`
        for the product of lists.
    """

    def __init__(self, network: Network, *, learning_rate: Any = 0.01, l2: Any = None,
                 keep_prob: Any = None, seed: Any = None):
        if not isinstance(network, Network):
            raise ConfigError(f"a Sweep trains copies of an xpnet.Network (or "
                              f"LogisticRegression), got {network!r}")
        self.template = network
        given = {"learning_rate": learning_rate,
                 "l2": network.l2 if l2 is None else l2,
                 "keep_prob": network.keep_prob if keep_prob is None else keep_prob,
                 "seed": network.seed if seed is None else seed}
        self.settings = _settings(network, given)
        self.histories: list[History] | None = None
        self.outcomes: list[str] | None = None
        self.divergences: dict[int, str] = {}
        self._final: dict[int, tuple] | None = None
        self._figures: dict[int, dict] = {}
        self._where: tuple = (None, None)

    @classmethod
    def grid(cls, network: Network, **lists: Any) -> "Sweep":
        """A sweep of every combination of the lists given (``learning_rate``, ``l2``,
        ``keep_prob``, ``seed``): ``Sweep.grid(net, learning_rate=[0.01, 0.1], seed=[0, 1,
        2])`` trains 6 networks, the seeds varying fastest."""
        unknown = sorted(set(lists) - set(SETTINGS))
        if unknown:
            raise ConfigError(f"a sweep varies {', '.join(SETTINGS)}; not {', '.join(unknown)}")
        names = [name for name in SETTINGS if name in lists]
        values = [_as_list(lists[name]) for name in names]
        for name, options in zip(names, values):
            if not options:
                raise ConfigError(f"{name} is an empty list: give at least one value")
        combos = list(itertools.product(*values))
        return cls(network, **{name: [combo[i] for combo in combos] for i, name in enumerate(names)})

    def __len__(self) -> int:
        return len(self.settings)

    def __repr__(self) -> str:
        return f"Sweep({self.template!r}, {len(self)} networks)"

    # -- training ----------------------------------------------------------------------

    def fit(self, X, Y, *, iterations: int | None = None, epochs: int | None = None,
            batch_size: int | None = None, optimizer: str | optimizers.Optimizer = "sgd",
            record_every: int = 100, validation_data: tuple[Any, Any] | None = None,
            validation_split: float | None = None, early_stopping: int | None = None,
            shuffle_seed: int | None = None, verbose: bool = False,
            on_record: Callable[[list[History]], None] | None = None,
            checkpoint: str | os.PathLike | None = None, checkpoint_every: int | None = None,
            resume: str | os.PathLike | None = None,
            backend: str | None = None, device: str = "auto") -> list[History]:
        """Train every network on X (n_x, m) and Y (n[L], m), where X lives, in one pass.

        The options are :meth:`xpnet.Network.fit`'s (the learning rate is each
        network's own, set on the sweep). ``early_stopping`` watches each
        network's own val_cost. ``on_record`` is called with the list of histories
        after each record. A network whose cost or parameters become NaN or inf is
        marked "diverged" in :attr:`outcomes` (why, in :attr:`divergences`) and keeps
        the parameters of its last finite record; the others go on.
        ``checkpoint`` writes the whole sweep's state there every ``checkpoint_every``
        updates or epochs and at the end, and ``resume`` goes on from such a file
        (with the same data, template, settings and options).

        Returns the histories, one per network, also kept as :attr:`histories`.
        """
        net = self.template
        plan = _fitting.plan(iterations, epochs, batch_size, record_every, early_stopping,
                             validation_data is not None or validation_split is not None,
                             checkpoint, checkpoint_every)
        name, hyperparameters = _optimizer(optimizer)
        described = {"config": net.get_config(),
                     "settings": _stack_checkpoint.describe_settings(self.settings),
                     "optimizer": {"name": name, "hyperparameters": hyperparameters,
                                   "slots": list(optimizers.SLOTS[name])},
                     "plan": plan}
        for s in self.settings:  # each rate checked now, not at its first update
            optimizers.get(name, s.learning_rate, **hyperparameters)
        _fitting.callbacks(on_record, checkpoint, resume)
        seed = _fitting.shuffle_seed(shuffle_seed, default=net.seed)
        group = SingleProcess()
        with _backend.matmul_precision(net.precision):
            if backend is not None:
                _backend.namespace_by_name(backend)
            X, Y, validation_data, xp, device = _fitting.place(
                net, X, Y, validation_data, group, backend=backend, device=device)
            random = TrainingRandom(seed, xp=xp, device=device, dtype=net.dtype,
                                    masks_on_device=_backend.on_accelerator(xp, device))
            data, validation = _fitting.hold_out(Examples(X, Y, group.shard(X.shape[1])),
                                                 validation_data, validation_split, group,
                                                 random)
            dtype = _backend.dtype_by_name(xp, net.dtype)
            stack = StackModel(net.architecture, name, hyperparameters, tuple(self.settings),
                               xp, dtype, device, inplace=_backend.supports_inplace(xp))
            self._check_memory(plan, data, validation, name, stack, xp, device)
            groups = self._groups(plan, data.m, random.masks_on_device)
            after_hold_out = random.state
            if resume is None:
                state = StackState.empty(len(self))
            else:
                state, random.state = _stack_checkpoint.load(resume, **described, xp=xp,
                                                             device=device)
            save = None if checkpoint is None else functools.partial(
                _save_checkpoint, checkpoint, described, random)

            for g in range(state.group, len(groups)):
                if resume is None or g > state.group or not (state.networks or state.step):
                    # Each group starts as its networks' own fits would: the generator
                    # just past the validation split, each its own initial weights.
                    random.state = after_hold_out
                    params = self._initial_params(groups[g], xp, device)
                    state.group = g
                    state.begin(groups[g], params, stack.model(groups[g]).optimizer.init(
                        params, xp=xp))
                progress = Progress(plan, data.m, enabled=verbose,
                                    resumed=(state.step, state.epoch))
                hooks = Hooks(on_record=_fitting.both(on_record, _leading(progress.update)),
                              on_checkpoint=save,
                              on_update=progress.advance if progress.enabled else None)
                try:
                    state = train_stack(state, data, plan, stack=stack, random=random,
                                        validation=validation, hooks=hooks)
                    if save is not None:
                        save(state)
                finally:
                    progress.close()
        self.histories, self.outcomes = state.histories, state.outcomes
        self.divergences = dict(state.diverged_at)
        self._final, self._figures = state.final, dict(state.final_figures)
        self._where = (xp, device)
        return self.histories

    def _groups(self, plan, m: int, masks_on_device: bool) -> list[list[int]]:
        """The networks in the stacks they train in, one stack after another: one stack,
        except where networks with dropout and without it take mini-batches from the
        host's generator. There a fit with dropout draws its masks from the stream its
        shuffles come from, and one without does not, so their own fits see other
        batches: each kind trains in a stack of its own."""
        everyone = list(range(len(self)))
        shuffled = plan.epochs is not None and plan.batch_size is not None and plan.batch_size < m
        dropout = [k for k in everyone if self.settings[k].keep_prob < 1.0]
        if not shuffled or masks_on_device or len(dropout) in (0, len(self)):
            return [everyone]
        return [[k for k in everyone if k not in dropout], dropout]

    def _initial_params(self, networks: Sequence[int], xp, device) -> tuple:
        """The stack's starting weights: each network's drawn with its own seed, as its own
        ``Network`` would draw them, stacked on the host and moved once."""
        net = self.template
        drawn = [initializers.initialize(net.layer_dims, net.init, seed=self.settings[k].seed,
                                         init_scale=net.init_scale, dtype=net.dtype)
                 for k in networks]
        return tuple((_backend.from_host(np.stack([p[l][0] for p in drawn]), xp, device),
                      _backend.from_host(np.stack([p[l][1] for p in drawn]), xp, device))
                     for l in range(len(drawn[0])))

    def _check_memory(self, plan, data: Examples, validation, optimizer_name: str,
                      stack: StackModel, xp, device) -> None:
        """Refuse, before allocating, a stack that cannot fit in the memory it trains in."""
        need = stack_bytes(self.template.layer_dims, len(self), itemsize=_itemsize(stack.dtype),
                           m=min(plan.batch_size or data.m, data.m),
                           m_validation=0 if validation is None else validation.m,
                           slots=len(optimizers.SLOTS[optimizer_name]),
                           dropout=any(s.keep_prob < 1.0 for s in self.settings),
                           early_stopping=plan.patience is not None)
        memory = _backend.device_memory(xp, device)
        where = "this device's" if memory is not None else "this machine's"
        memory = memory if memory is not None else machine_memory()
        if memory is not None and need > memory:
            raise ConfigError(
                f"a stack of {len(self)} networks {list(self.template.layer_dims)} would need "
                f"{count(need)} bytes (parameters, gradients, optimizer state and activations), "
                f"more than {where} {memory:,} bytes of memory: sweep fewer networks at once, "
                "or train on smaller batches")

    # -- results -----------------------------------------------------------------------

    def _fitted(self) -> dict[int, tuple]:
        if self._final is None:
            raise NotFittedError("this sweep has not been trained: call fit(X, Y) first")
        return self._final

    def network(self, k: int) -> Network:
        """Network ``k`` of the sweep as an ordinary :class:`~xpnet.Network` (its settings,
        trained parameters, where they trained, and its history)."""
        final = self._fitted()
        if not (isinstance(k, int) and -len(self) <= k < len(self)):
            raise ConfigError(f"the sweep has networks 0 to {len(self) - 1}, not {k!r}")
        k %= len(self)
        s = self.settings[k]
        net = copy.copy(self.template)
        net.l2, net.keep_prob, net.seed = s.l2, s.keep_prob, s.seed
        net._params = final[k]
        net._xp, net._device = self._where
        net.history = self.histories[k]
        return net

    def results(self) -> "Results":
        """A table of every network: its settings, outcome and the figures of the parameters
        it ended with (its best record's under early stopping, its last finite record's
        if it diverged, else those after its last update), sorted by validation score
        (accuracy, else cost) when there was validation data, else by training cost;
        diverged networks last."""
        self._fitted()
        rows = []
        for k, (s, history, outcome) in enumerate(zip(self.settings, self.histories,
                                                      self.outcomes)):
            row = {"network": k, "learning_rate": _rate_name(s.learning_rate), "l2": s.l2,
                   "keep_prob": s.keep_prob, "seed": s.seed, "outcome": outcome}
            at = history.best if history.best is not None else len(history) - 1
            if k in self._figures:  # the parameters after the last update, in iteration mode
                row.update(self._figures[k])
            elif len(history):
                row["iteration"] = history.iterations[at]
                if history.epochs:
                    row["epoch"] = history.epochs[at]
                row["cost"] = history.costs[at]
                row.update({name: values[at] for name, values in history.metrics.items()})
            rows.append(row)
        return Results(sorted(rows, key=_rank))

    def best(self) -> Network:
        """The network at the top of :meth:`results`, as an ordinary Network."""
        top = self.results().rows[0]
        if top["outcome"] == DIVERGED:
            raise ConfigError("every network of the sweep diverged: try smaller learning rates "
                              "(or standardize X)")
        return self.network(top["network"])

    def plot(self, path: str | os.PathLike | None = None, *, metric: str = "cost",
             title: str | None = None):
        """The learning curves of every network (``metric``: "cost", "val_cost",
        "accuracy", ...) on one axes, labelled by their settings; returns the Figure."""
        from .plotting import plot_curves

        self._fitted()
        labels = [_label(s, self.settings) for s in self.settings]
        return plot_curves(self.histories, labels, path, metric=metric, title=title)


class Results:
    """A sweep's table: ``rows``, one dict per network, best first; ``str()`` lays it out."""

    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __str__(self) -> str:
        columns = [c for c in ("network", "learning_rate", "l2", "keep_prob", "seed",
                               "iteration", "epoch", "cost", "accuracy", "val_cost",
                               "val_accuracy", "outcome")
                   if any(c in row for row in self.rows)]
        table = [columns] + [[_cell(row.get(c)) for c in columns] for row in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
        return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths)).rstrip()
                         for line in table)

    def __repr__(self) -> str:
        return f"Results({len(self.rows)} networks)"


# -- the settings ---------------------------------------------------------------------


def _as_list(value) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return [value]


def _settings(network: Network, given: dict) -> list[Settings]:
    """One :class:`Settings` per network: lists of equal length, single values shared."""
    lists = {name: _as_list(value) for name, value in given.items()
             if isinstance(value, (list, tuple, np.ndarray))}
    for name, values in lists.items():
        if not values:
            raise ConfigError(f"{name} is an empty list: give one value per network (or one "
                              "value for all)")
    lengths = {len(values) for values in lists.values()}
    if len(lengths) > 1:
        said = ", ".join(f"{name} has {len(values)}" for name, values in lists.items())
        raise ConfigError(f"the lists of a sweep give one value per network, so they must "
                          f"have the same length: {said}. Use Sweep.grid(...) for every "
                          "combination of them")
    K = lengths.pop() if lengths else 1
    columns = {name: lists.get(name, [value] * K) for name, value in given.items()}
    settings = []
    for k in range(K):
        l2, keep_prob, seed = (columns[name][k] for name in ("l2", "keep_prob", "seed"))
        rate = columns["learning_rate"][k]
        # Each value checked as a Network and its fit would check it, with the index.
        try:
            optimizers.gradient_descent(rate)
            l2 = check_finite(l2, "l2", at_least=0)
            if not is_real(keep_prob, numpy=True) or not 0.0 < keep_prob <= 1.0:
                raise ConfigError(f"keep_prob must lie in (0, 1], got {keep_prob!r}")
            if seed is not None and not (is_int(seed) and 0 <= seed < 2**32):
                raise ConfigError(f"seed must be None or an integer in [0, 2**32), got {seed!r}")
        except ConfigError as exc:
            raise ConfigError(f"network {k} of the sweep: {exc}") from None
        settings.append(Settings(rate, l2, float(keep_prob), None if seed is None else int(seed)))
    return settings


def _optimizer(optimizer) -> tuple[str, dict]:
    """(name, hyperparameters but the learning rate) of a name or a built-in Optimizer."""
    if isinstance(optimizer, optimizers.Optimizer):
        if optimizer.name not in optimizers.NAMES:
            raise ConfigError(f"a sweep gives each network its own learning rate, so it needs "
                              f"one of the built-in optimizers ({', '.join(optimizers.NAMES)}), "
                              f"not the custom {optimizer.name!r}")
        return optimizer.name, {key: value for key, value in optimizer.hyperparameters.items()
                                if key != "learning_rate"}
    if not isinstance(optimizer, str) or optimizer not in optimizers.NAMES:
        raise ConfigError(f"unknown optimizer {optimizer!r}: choose one of "
                          f"{', '.join(optimizers.NAMES)}")
    return optimizer, {}


def stack_bytes(layer_dims: Sequence[int], K: int, *, itemsize: int, m: int, m_validation: int,
                slots: int, dropout: bool, early_stopping: bool) -> int:
    """An upper bound of the bytes a stack of K networks holds while training: per network,
    its parameters, gradients, optimizer slots, two snapshots (the last record's, which
    a network that diverges falls back to, and the one a record is taking), one more
    copy (a network's own parameters once it leaves the stack), the best parameters
    under early stopping, and its activations on a batch of ``m`` examples (A, dZ and
    dA of each layer, a mask per hidden layer with dropout) and on the validation
    examples."""
    parameters = sum(n * n_prev + n for n_prev, n in zip(layer_dims[:-1], layer_dims[1:]))
    units = sum(layer_dims[1:])
    per_network = parameters * (5 + slots + int(early_stopping))
    per_network += units * m * (3 + int(dropout)) + units * m_validation * 2
    return K * per_network * itemsize


def _itemsize(dtype) -> int:
    return 8 if "64" in str(dtype) else 4


# -- the table ------------------------------------------------------------------------


def _rank(row: dict) -> tuple:
    """Diverged last; then the highest val_accuracy, the lowest val_cost, the lowest cost."""
    def low(name):
        value = row.get(name)
        return math.inf if value is None or not math.isfinite(value) else value

    return (row["outcome"] == DIVERGED, -row.get("val_accuracy", -math.inf),
            low("val_cost"), low("cost"), row["network"])


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _rate_name(rate) -> Any:
    return rate if is_real(rate, numpy=True) else getattr(rate, "__name__", "schedule")


def _label(s: Settings, settings: list[Settings]) -> str:
    """The settings that vary across the sweep, as a curve's label."""
    parts = []
    for name in SETTINGS:
        values = {repr(getattr(other, name)) for other in settings}
        if len(values) > 1:
            value = getattr(s, name)
            parts.append(f"{name}={_rate_name(value) if name == 'learning_rate' else value}")
    return ", ".join(parts) or "network"


def _save_checkpoint(path, described: dict, random, state: StackState) -> None:
    _stack_checkpoint.save(path, **described, state=state, rng_state=random.state)


def _leading(update: Callable[[History], None]) -> Callable[[list[History]], None]:
    """The progress bar's ``update`` fed with the history of the network whose last
    recorded cost is lowest (the bar shows one set of figures)."""

    def on_record(histories: list[History]) -> None:
        recorded = [h for h in histories if len(h)]
        latest = max(len(h) for h in recorded) if recorded else 0
        current = [h for h in recorded if len(h) == latest]
        if current:
            update(min(current, key=lambda h: h.costs[-1]))

    return on_record
