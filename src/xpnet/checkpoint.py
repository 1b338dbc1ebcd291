"""Checkpoints: everything a fit needs to go on after an interruption.

A checkpoint is a safetensors file (written atomically by :func:`xpnet.io.write_tensors`)
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
from dataclasses import asdict

import numpy as np

from . import _backend
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
    from .io import write_tensors

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

    Refuses, with an error that names the difference, a checkpoint of another
    architecture, optimizer or training plan than the fit resuming it.
    """
    from .io import read_tensors

    tensors, metadata = read_tensors(path)
    if metadata.get("format") != FORMAT:
        raise DataFileError(f"{path} is not an xpnet checkpoint (format {metadata.get('format')!r})")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise DataFileError(
            f"{path} has checkpoint format version {metadata.get('format_version')!r}; "
            f"this xpnet reads version {FORMAT_VERSION}"
        )
    try:
        saved = {key: json.loads(metadata[key]) for key in
                 ("config", "slots", "plan", "position", "rng", "history", "early_stopping")}
    except (KeyError, json.JSONDecodeError) as exc:
        raise DataFileError(f"{path}: checkpoint metadata is missing or malformed ({exc})") from exc

    for what, theirs, ours in (("model", saved["config"], config),
                               ("optimizer", metadata.get("optimizer"), optimizer_name),
                               ("training plan", _trajectory(saved["plan"]), _trajectory(asdict(plan)))):
        if theirs != ours:
            raise ConfigError(
                f"cannot resume from {path}: it was written for another {what} "
                f"({theirs}) than this fit ({ours}); resume with the same settings"
            )

    L = len(config["layer_dims"]) - 1

    def pairs(prefix: str):
        try:
            return tuple(
                (_backend.from_host(tensors[f"{prefix}W{l}"], xp, device),
                 _backend.from_host(tensors[f"{prefix}b{l}"], xp, device))
                for l in range(1, L + 1)
            )
        except KeyError as exc:
            raise DataFileError(f"{path}: checkpoint lacks tensor {exc}") from exc

    position = saved["position"]
    stopping = saved["early_stopping"]
    state = TrainState(
        params=pairs(""),
        opt_state={"count": position["count"],
                   "slots": {slot: list(pairs(f"opt.{slot}.")) for slot in saved["slots"]}},
        step=position["step"],
        epoch=position["epoch"],
        history=History(**saved["history"]),
        best_params=pairs("best.") if "best.W1" in tensors else None,
        best_val_cost=(float("inf") if stopping["best_val_cost"] is None
                       else stopping["best_val_cost"]),
        records_since_best=stopping["records_since_best"],
    )
    return state, saved["rng"]
