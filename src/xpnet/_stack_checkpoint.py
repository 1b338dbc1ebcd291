"""Checkpoints of a sweep: everything a stack's training needs to go on after an interruption.

The file is a safetensors file like a fit's checkpoint (:mod:`xpnet.checkpoint`),
written atomically, holding

- tensors ``W1``, ``b1``, ... of the networks still training, stacked (K', n[l],
  n[l-1]) in the order of ``networks``, and ``opt.{slot}.W1``, ... their optimizer
  slots; ``final.{k}.W1``, ... the parameters of each network k that has left the
  stack, and ``best.{k}.W1``, ... each network's best parameters under early
  stopping;
- JSON metadata: the template's ``config``, each network's ``settings``, the
  ``optimizer`` and its hyperparameters, the ``plan``, the ``position``, the
  random generator's ``rng`` state, the ``networks`` still training, and per
  network its history, outcome, divergence and early-stopping bookkeeping.

``Sweep.fit(..., resume=path)`` with the same data and settings ends with the same
networks as an uninterrupted sweep, bit for bit on NumPy.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict

import numpy as np

from . import _backend
from ._checks import is_int
from ._safetensors import read_tensors, write_tensors
from ._stack_training import DIVERGED, STOPPED_EARLY, TRAINED, StackState
from .checkpoint import _check_history, _check_position, _check_rng, _trajectory
from .errors import ConfigError, DataFileError
from .training import Plan

FORMAT = "xpnet.sweep-checkpoint"
FORMAT_VERSION = "1"


def describe_settings(settings) -> list[dict]:
    """Each network's settings as JSON values (a schedule by its name: it is code, not data)."""
    return [{"learning_rate": s.learning_rate if not callable(s.learning_rate)
             else f"schedule {getattr(s.learning_rate, '__qualname__', 'function')}",
             "l2": s.l2, "keep_prob": s.keep_prob, "seed": s.seed} for s in settings]


def save(path: str | os.PathLike, *, config: dict, settings: list[dict], optimizer: dict,
         plan: Plan, state: StackState, rng_state: dict) -> None:
    """Write the stack's ``state`` (and the random generator's state) to ``path``, atomically."""
    tensors = {}

    def add(prefix: str, pairs) -> None:
        for l, (W, b) in enumerate(pairs, start=1):
            tensors[f"{prefix}W{l}"] = _backend.to_host(W)
            tensors[f"{prefix}b{l}"] = _backend.to_host(b)

    if state.networks:
        add("", state.params)
        for slot, pairs in state.opt_state["slots"].items():
            add(f"opt.{slot}.", pairs)
    for k, pairs in state.final.items():
        add(f"final.{k}.", pairs)
    for k, pairs in state.best.items():
        add(f"best.{k}.", pairs)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": json.dumps(config),
        "settings": json.dumps(settings),
        "optimizer": json.dumps(optimizer),
        "plan": json.dumps(asdict(plan)),
        "position": json.dumps({"step": state.step, "epoch": state.epoch,
                                "count": state.opt_state["count"]}),
        "rng": json.dumps(rng_state),
        "networks": json.dumps(state.networks),
        "histories": json.dumps([asdict(h) for h in state.histories]),
        "outcomes": json.dumps(state.outcomes),
        "diverged_at": json.dumps({str(k): why for k, why in state.diverged_at.items()}),
        "best_val_costs": json.dumps([c if math.isfinite(c) else None
                                      for c in state.best_val_costs]),
        "since_best": json.dumps(state.since_best),
        "final_figures": json.dumps({str(k): f for k, f in state.final_figures.items()}),
        "group": json.dumps(state.group),
    }
    write_tensors(path, tensors, metadata)


def load(path: str | os.PathLike, *, config: dict, settings: list[dict], optimizer: dict,
         plan: Plan, xp, device=None) -> tuple[StackState, dict]:
    """The :class:`StackState` and random-generator state saved at ``path``, on ``xp``/``device``.

    Refuses with a :class:`ConfigError` naming the difference a checkpoint of another
    template, other settings, optimizer or plan; anything else wrong with the file
    raises :class:`DataFileError` naming the file and the problem.
    """
    tensors, metadata = read_tensors(path)
    path = os.fspath(path)

    def bad(problem: str) -> DataFileError:
        return DataFileError(f"{path}: {problem}")

    if metadata.get("format") != FORMAT:
        raise DataFileError(f"{path} is not an xpnet sweep checkpoint (format "
                            f"{metadata.get('format')!r})")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise DataFileError(f"{path} has sweep checkpoint format version "
                            f"{metadata.get('format_version')!r}; this xpnet reads version "
                            f"{FORMAT_VERSION}")
    saved = {}
    for key in ("config", "settings", "optimizer", "plan", "position", "rng", "networks",
                "histories", "outcomes", "diverged_at", "best_val_costs", "since_best",
                "final_figures", "group"):
        try:
            saved[key] = json.loads(metadata[key])
        except KeyError:
            raise bad(f"sweep checkpoint metadata has no {key!r}") from None
        except (ValueError, RecursionError):
            raise bad(f"sweep checkpoint metadata {key!r} is not valid JSON") from None
    for what, theirs, ours in (("template", saved["config"], config),
                               ("network settings", saved["settings"], settings),
                               ("optimizer", saved["optimizer"], optimizer),
                               ("training plan", _trajectory(saved["plan"]) if isinstance(
                                   saved["plan"], dict) else saved["plan"],
                                _trajectory(asdict(plan)))):
        if theirs != ours:
            raise ConfigError(f"cannot resume from {path}: it was written for another {what} "
                              f"({theirs}) than this sweep ({ours}); resume with the same "
                              "settings")

    K = len(settings)
    for key in ("position", "rng", "diverged_at", "final_figures"):
        if not isinstance(saved[key], dict):
            raise bad(f"its {key} is not a JSON object")
    position = _check_position(saved["position"], plan, bad)
    rng = _check_rng(saved["rng"], bad)
    networks = saved["networks"]
    if (not isinstance(networks, list) or not all(is_int(k) and 0 <= k < K for k in networks)
            or len(set(networks)) != len(networks)):
        raise bad(f"its networks {networks!r} are not distinct indices of the {K} networks")
    per_network = {}
    for key in ("histories", "outcomes", "best_val_costs", "since_best"):
        if not isinstance(saved[key], list) or len(saved[key]) != K:
            raise bad(f"its {key} is not a list of one entry for each of the {K} networks")
        per_network[key] = saved[key]
    histories = [_check_history(h, plan, bad) if isinstance(h, dict) else None
                 for h in per_network["histories"]]
    if None in histories:
        raise bad("its histories are not JSON objects")
    outcomes = per_network["outcomes"]
    if any(o not in (None, TRAINED, STOPPED_EARLY, DIVERGED) for o in outcomes):
        raise bad(f"its outcomes {outcomes!r} are not those of a sweep")
    best_val_costs = [math.inf if c is None else c for c in per_network["best_val_costs"]]
    if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in best_val_costs):
        raise bad("its best_val_costs are not numbers or null")
    since_best = per_network["since_best"]
    if not all(is_int(n) and n >= 0 for n in since_best):
        raise bad("its since_best are not whole numbers >= 0")

    if not is_int(saved["group"]) or saved["group"] < 0:
        raise bad(f"its group {saved['group']!r} is not a whole number >= 0")
    for key, value in [*saved["diverged_at"].items(), *saved["final_figures"].items()]:
        if not (key.isdigit() and int(key) < K):
            raise bad(f"{key!r} names none of the {K} networks")
    for figures in saved["final_figures"].values():
        if not isinstance(figures, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in figures.values()):
            raise bad("its final_figures are not objects of numbers")
    if any(outcomes[k] is not None for k in networks):
        raise bad("a network still training has an outcome")

    dims = list(config["layer_dims"])
    dtype = np.dtype(config["dtype"])
    left = [k for k in range(K) if outcomes[k] is not None]
    groups = [(f"final.{k}.", None) for k in left]
    groups += [(f"best.{k}.", None) for k in range(K) if f"best.{k}.W1" in tensors]
    if networks:
        groups += [("", len(networks))]
        groups += [(f"opt.{slot}.", len(networks)) for slot in optimizer["slots"]]
    arrays = {}
    for prefix, stacked in groups:
        for l, (n_prev, n) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            for name, shape in ((f"{prefix}W{l}", (n, n_prev)), (f"{prefix}b{l}", (n, 1))):
                shape = shape if stacked is None else (stacked, *shape)
                a = tensors.get(name)
                if a is None:
                    raise bad(f"sweep checkpoint lacks tensor {name!r}")
                if tuple(a.shape) != shape or a.dtype != dtype:
                    raise bad(f"{name} is {a.dtype} {tuple(a.shape)}, the sweep needs {dtype} "
                              f"{shape}")
                if not np.isfinite(a).all():
                    raise bad(f"{name} holds NaN or inf")
                arrays[name] = a
    extra = sorted(set(tensors) - set(arrays))
    if extra:
        raise bad(f"unexpected tensors {', '.join(extra[:5])} in a sweep checkpoint")

    def pairs(prefix: str) -> tuple:
        return tuple((_backend.from_host(arrays[f"{prefix}W{l}"], xp, device),
                      _backend.from_host(arrays[f"{prefix}b{l}"], xp, device))
                     for l in range(1, len(dims)))

    state = StackState(
        params=pairs("") if networks else (),
        opt_state={"count": position["count"], "slots": {
            slot: list(pairs(f"opt.{slot}.")) if networks else [] for slot in optimizer["slots"]}},
        step=position["step"], epoch=position["epoch"],
        networks=list(networks), histories=histories, outcomes=list(outcomes),
        final={k: pairs(f"final.{k}.") for k in left},
        best={k: pairs(f"best.{k}.") for k in range(K) if f"best.{k}.W1" in arrays},
        best_val_costs=best_val_costs, since_best=list(since_best),
        diverged_at={int(k): why for k, why in saved["diverged_at"].items()},
        final_figures={int(k): f for k, f in saved["final_figures"].items()},
        group=saved["group"],
    )
    return state, rng
