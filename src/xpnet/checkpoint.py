"""Checkpoints: everything a fit needs to go on after an interruption.

A checkpoint is a safetensors file (written atomically by :func:`xpnet._safetensors.write_tensors`)
holding

- tensors ``W1``, ``b1``, ... (the parameters), ``opt.{slot}.W{l}``, ``opt.{slot}.b{l}``
  (the optimizer's slots, e.g. Adam's v and s for layer l), and
  ``best.W1``, ... (the best parameters so far, under early stopping);
- text metadata: ``format`` ("xpnet.checkpoint"), ``format_version``, the
  model's ``config``, the ``optimizer`` name, the training ``plan``, the
  ``position`` (updates made, epochs done, the optimizer's count), the
  random generator's ``rng`` state, the ``history`` so far, and the early
  stopping bookkeeping — all JSON.

``fit(..., resume=path)`` with the same data and settings then ends with the
same parameters as an uninterrupted fit, bit for bit on NumPy.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, fields

import numpy as np

from . import _backend, optimizers
from ._checks import is_finite, is_int, is_real
from ._safetensors import read_tensors, write_tensors
from .errors import ConfigError, DataFileError
from .training import History, Plan, TrainState

FORMAT = "xpnet.checkpoint"
FORMAT_VERSION = "1"


def _trajectory(plan: dict) -> dict:
    """The parts of a plan that decide the parameters (how often to checkpoint does not)."""
    return {key: value for key, value in plan.items() if key != "checkpoint_every"}


def _layer_tensors(prefix: str, pairs) -> dict[str, np.ndarray]:
    tensors = {}
    for l, (W, b) in enumerate(pairs, start=1):
        tensors[f"{prefix}W{l}"] = _backend.to_host(W)
        tensors[f"{prefix}b{l}"] = _backend.to_host(b)
    return tensors


def save(path: str | os.PathLike, *, config: dict, optimizer_name: str, plan: Plan,
         state: TrainState, rng_state: dict) -> None:
    """Write ``state`` (and the random generator's state) to ``path``, atomically.

    Copies the parameters and optimizer slots to the host: the only transfer a
    checkpoint makes, and only when it writes.
    """

    tensors = _layer_tensors("", state.params)
    for slot, pairs in state.opt_state["slots"].items():
        tensors.update(_layer_tensors(f"opt.{slot}.", pairs))
    if state.best_params is not None:
        tensors.update(_layer_tensors("best.", state.best_params))
    history = asdict(state.history)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": json.dumps(config),
        "optimizer": optimizer_name,
        "slots": json.dumps(sorted(state.opt_state["slots"])),
        "plan": json.dumps(asdict(plan)),
        "position": json.dumps({"step": state.step, "epoch": state.epoch,
                                "count": state.opt_state["count"]}),
        "rng": json.dumps(rng_state),
        "history": json.dumps(history),
        "early_stopping": json.dumps({
            "best_val_cost": state.best_val_cost if math.isfinite(state.best_val_cost) else None,
            "records_since_best": state.records_since_best,
        }),
    }
    write_tensors(path, tensors, metadata)


def load(path: str | os.PathLike, *, config: dict, optimizer_name: str, plan: Plan,
         xp, device=None) -> tuple[TrainState, dict]:
    """The :class:`TrainState` and random-generator state saved at ``path``, moved to ``xp``/``device``.

    Refuses, with a :class:`ConfigError` that names the difference, a checkpoint
    of another architecture, optimizer or training plan than the fit resuming
    it. Everything else wrong with the file raises :class:`DataFileError`
    naming the file and the problem: not a checkpoint, truncated, metadata
    missing or of the wrong types (position, history, early stopping), a
    random state NumPy's generator does not accept, and tensors (parameters,
    every optimizer slot, best parameters) missing, unexpected, of another
    shape than the config's layer_dims give, of another dtype than its dtype,
    or holding NaN or inf.
    """

    tensors, metadata = read_tensors(path)
    path = os.fspath(path)

    def bad(problem: str) -> DataFileError:
        return DataFileError(f"{path}: {problem}")

    if metadata.get("format") != FORMAT:
        raise DataFileError(f"{path} is not an xpnet checkpoint (format {metadata.get('format')!r})")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise DataFileError(
            f"{path} has checkpoint format version {metadata.get('format_version')!r}; "
            f"this xpnet reads version {FORMAT_VERSION}"
        )
    saved = {}
    for key in ("config", "slots", "plan", "position", "rng", "history", "early_stopping"):
        if key not in metadata:
            raise bad(f"checkpoint metadata is missing or malformed (it has no {key!r})")
        try:
            saved[key] = json.loads(metadata[key])
        except (ValueError, RecursionError) as exc:
            raise bad(f"checkpoint metadata is missing or malformed ({key!r} is not valid JSON: "
                      f"{str(exc)[:200]})") from None
    if "optimizer" not in metadata:
        raise bad("checkpoint metadata is missing or malformed (it has no 'optimizer')")
    for key in ("config", "plan", "position", "history", "early_stopping", "rng"):
        if not isinstance(saved[key], dict):
            raise bad(f"checkpoint metadata is missing or malformed ({key!r} is a JSON "
                      f"{type(saved[key]).__name__}, expected an object)")

    for what, theirs, ours in (("model", saved["config"], config),
                               ("optimizer", metadata["optimizer"], optimizer_name),
                               ("training plan", _trajectory(saved["plan"]), _trajectory(asdict(plan)))):
        if theirs != ours:
            raise ConfigError(
                f"cannot resume from {path}: it was written for another {what} "
                f"({theirs}) than this fit ({ours}); resume with the same settings"
            )

    slots = _check_slots(saved["slots"], optimizer_name, bad)
    position = _check_position(saved["position"], plan, bad)
    history = _check_history(saved["history"], plan, bad)
    best_val_cost, records_since_best = _check_early_stopping(saved["early_stopping"], bad)
    rng = _check_rng(saved["rng"], bad)

    dims = list(config["layer_dims"])
    dtype = np.dtype(config["dtype"]) if config.get("dtype") is not None else None
    groups = [("", "the parameters")] + [(f"opt.{slot}.", f"optimizer slot {slot!r}") for slot in slots]
    has_best = any(name.startswith("best.") for name in tensors)
    if has_best:
        groups.append(("best.", "the best parameters"))
    if has_best != (best_val_cost is not None):
        raise bad(
            "the early stopping bookkeeping disagrees with the tensors: "
            + ("best parameters are saved but no best val_cost" if has_best
               else f"a best val_cost of {best_val_cost} is saved but no best parameters (best.W1, ...)")
        )
    arrays = {}
    for prefix, what in groups:
        for l, (n_prev, n) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            for name, shape in ((f"{prefix}W{l}", (n, n_prev)), (f"{prefix}b{l}", (n, 1))):
                a = tensors.get(name)
                if a is None:
                    raise bad(f"checkpoint lacks tensor {name!r} of {what} (layer_dims {dims})")
                if tuple(a.shape) != shape:
                    raise bad(f"{name} ({what}) has shape {tuple(a.shape)}, the config's layer_dims "
                              f"{dims} need {shape}")
                if dtype is not None and a.dtype != dtype:
                    raise bad(f"{name} ({what}) is {a.dtype}, the config's dtype is {dtype}")
                if a.dtype.kind != "f":
                    raise bad(f"{name} ({what}) is {a.dtype}, not floating point")
                if not np.isfinite(a).all():
                    raise bad(f"{name} ({what}) holds NaN or inf")
                arrays[name] = a
    extra = sorted(set(tensors) - set(arrays))
    if extra:
        raise bad(f"unexpected tensors {', '.join(extra)} for layer_dims {dims} and optimizer "
                  f"slots {slots}")

    L = len(dims) - 1

    def pairs(prefix: str):
        return tuple(
            (_backend.from_host(arrays[f"{prefix}W{l}"], xp, device),
             _backend.from_host(arrays[f"{prefix}b{l}"], xp, device))
            for l in range(1, L + 1)
        )

    state = TrainState(
        params=pairs(""),
        opt_state={"count": position["count"],
                   "slots": {slot: list(pairs(f"opt.{slot}.")) for slot in slots}},
        step=position["step"],
        epoch=position["epoch"],
        history=history,
        best_params=pairs("best.") if has_best else None,
        best_val_cost=float("inf") if best_val_cost is None else best_val_cost,
        records_since_best=records_since_best,
    )
    return state, rng


# -- checks of the metadata ----------------------------------------------------------


def _check_slots(slots, optimizer_name: str, bad) -> list[str]:
    """The optimizer's slot names the checkpoint lists: distinct strings, those the optimizer has."""
    if not isinstance(slots, list) or not all(isinstance(s, str) for s in slots) or len(set(slots)) != len(slots):
        raise bad(f"its optimizer slots {slots!r} are not a list of distinct names")
    expected = _optimizer_slots(optimizer_name)
    if expected is not None and sorted(slots) != expected:
        raise bad(f"it lists optimizer slots {sorted(slots)}, but {optimizer_name} keeps {expected}")
    return slots


def _optimizer_slots(name: str) -> list[str] | None:
    """The slot names of the built-in optimizer ``name`` (None for another one)."""
    slots = optimizers.SLOTS.get(name)
    return None if slots is None else sorted(slots)


def _check_position(position: dict, plan: Plan, bad) -> dict:
    """{"step", "epoch", "count"}: whole numbers >= 0, within the plan."""
    if set(position) != {"step", "epoch", "count"}:
        raise bad(f"its position has the entries {sorted(position)}, expected count, epoch and step")
    for key, value in position.items():
        if not is_int(value) or value < 0:
            raise bad(f"its position's {key} is {value!r}, not a whole number >= 0")
    if plan.iterations is not None and position["step"] > plan.iterations:
        raise bad(f"its position is update {position['step']}, past the plan's {plan.iterations} iterations")
    if plan.epochs is not None and position["epoch"] > plan.epochs:
        raise bad(f"its position is epoch {position['epoch']}, past the plan's {plan.epochs} epochs")
    return position


def _check_history(saved: dict, plan: Plan, bad) -> History:
    """The :class:`History` saved, its series of whole numbers and numbers, all of one length."""
    known = {f.name for f in fields(History)}
    unknown = sorted(set(saved) - known)
    if unknown:
        raise bad(f"its history has entries {unknown} this xpnet does not know")
    missing = sorted({"iterations", "costs", "epochs", "metrics", "best", "stopped_early"} - set(saved))
    if missing:
        raise bad(f"its history lacks {missing}")

    def series(name, values, is_valid, kind):
        if not isinstance(values, list) or not all(is_valid(v) for v in values):
            raise bad(f"its history's {name} is not a list of {kind}")
        return values

    costs = [float(c) for c in series("costs", saved["costs"], is_finite, "finite numbers")]
    m = len(costs)
    iterations = series("iterations", saved["iterations"], lambda v: is_int(v) and v >= 0,
                        "whole numbers >= 0")
    epochs = series("epochs", saved["epochs"], lambda v: is_int(v) and v >= 1, "whole numbers >= 1")
    metrics = saved["metrics"]
    if not isinstance(metrics, dict):
        raise bad(f"its history's metrics are a JSON {type(metrics).__name__}, expected an object")
    metrics = {name: [float(v) for v in series(f"metric {name!r}", values, is_real, "numbers")]
               for name, values in metrics.items()}
    lengths = {"costs": m, "iterations": len(iterations), "epochs": len(epochs),
               **{f"metric {name!r}": len(values) for name, values in metrics.items()}}
    if plan.epochs is None:  # iteration mode records no epochs
        if epochs:
            raise bad(f"its history has {len(epochs)} epochs, but the plan trains by iterations")
        del lengths["epochs"]
    if len(set(lengths.values())) > 1:
        raise bad("its history's series have different lengths ("
                  + ", ".join(f"{name} {n}" for name, n in lengths.items()) + ")")
    best = saved["best"]
    if best is not None and not (is_int(best) and 0 <= best < m):
        raise bad(f"its history's best is {best!r}, not the index of one of its {m} records")
    if not isinstance(saved["stopped_early"], bool):
        raise bad(f"its history's stopped_early is {saved['stopped_early']!r}, not true or false")
    rest = {key: saved[key] for key in known - {"iterations", "costs", "epochs", "metrics", "best",
                                                 "stopped_early"} if key in saved}
    try:
        return History(iterations=iterations, costs=costs, epochs=epochs, metrics=metrics,
                       best=best, stopped_early=saved["stopped_early"], **rest)
    except (TypeError, ValueError) as exc:
        raise bad(f"its history cannot be read: {exc}") from exc


def _check_early_stopping(stopping: dict, bad) -> tuple[float | None, int]:
    """(best_val_cost or None, records_since_best)."""
    if set(stopping) != {"best_val_cost", "records_since_best"}:
        raise bad(f"its early_stopping has the entries {sorted(stopping)}, expected best_val_cost "
                  "and records_since_best")
    best_val_cost, since = stopping["best_val_cost"], stopping["records_since_best"]
    if best_val_cost is not None and not is_finite(best_val_cost):
        raise bad(f"its early_stopping best_val_cost is {best_val_cost!r}, not a finite number or null")
    if not is_int(since) or since < 0:
        raise bad(f"its early_stopping records_since_best is {since!r}, not a whole number >= 0")
    return (None if best_val_cost is None else float(best_val_cost)), since


def _check_rng(rng: dict, bad) -> dict:
    """``rng`` if NumPy's default bit generator takes it as its state and gives it back unchanged.

    Tried on a throwaway generator, so that a bad state fails here, as a
    DataFileError, and not where the fit sets it.
    """
    probe = np.random.default_rng().bit_generator
    try:
        probe.state = rng
        accepted = probe.state == rng
    except Exception as exc:  # TypeError, ValueError, KeyError, OverflowError, ...
        raise bad(f"its random generator state is not one NumPy's {type(probe).__name__} accepts "
                  f"({type(exc).__name__}: {exc})") from None
    if not accepted:
        raise bad(f"its random generator state is not one NumPy's {type(probe).__name__} keeps as "
                  f"given (it reads back as {probe.state})")
    return rng
