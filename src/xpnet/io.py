"""Saving and loading models: safetensors files, numbers and text, never code.

    net.save("model.safetensors")           # or xpnet.io.save(net, path)
    net = xpnet.load("model.safetensors", backend="torch")

:func:`save` and :func:`load` sit above the estimators; the file format
itself (what a model file holds, and its checks) is :mod:`xpnet._model_file`,
and the careful reading and writing of safetensors files is
:mod:`xpnet._safetensors`, whose :func:`read_tensors` and
:func:`write_tensors` are here too.
"""

from __future__ import annotations

import os
from typing import Any

from . import _backend, _model_file
from ._model_file import SavedModel
from ._safetensors import read_tensors, write_tensors
from .errors import DataFileError, XpnetError
from .models import LogisticRegression, Network

__all__ = ["save", "load", "read_tensors", "write_tensors", "SavedModel"]


def save(net: Network, path: str | os.PathLike) -> None:
    """Save ``net`` to ``path``: see :func:`xpnet._model_file.write`."""
    _model_file.write(net, path)


def load(path: str | os.PathLike, *, backend: str | None = None, device: Any = None) -> Network:
    """The model saved at ``path`` (:func:`save`), its parameters in ``backend`` on ``device``.

    ``backend`` is a name from :data:`xpnet._backend.BACKENDS` (default
    "numpy"); ``device`` is that library's device (default: its default one).
    The same class comes back, with W[l] (n[l], n[l-1]) and b[l] (n[l], 1) in
    the saved dtype. Raises :class:`DataFileError` naming the file and the
    problem when the file is not an xpnet model this version reads, or its
    tensors disagree with its config (missing, wrong shape or dtype, NaN/inf).
    """
    # The arguments first: a wrong backend name is the caller's error, not the file's.
    xp = _backend.namespace_by_name("numpy" if backend is None else backend)
    saved = _model_file.read(path)

    def bad(problem: str) -> DataFileError:
        return DataFileError(f"{saved.path}: {problem}")

    cls = {"Network": Network, "LogisticRegression": LogisticRegression}[saved.class_name]
    # The tensors were checked before the model is built: building one allocates and
    # draws its parameters, whose sizes come from the file's own arrays.
    net = _build(cls, saved.config, saved.layer_dims, bad)
    net.params = [(_backend.from_host(W, xp, device), _backend.from_host(b, xp, device))
                  for W, b in saved.params]
    return net


def _build(cls: type, config: dict, dims: list[int], bad) -> Network:
    """A fresh ``cls`` with the architecture of ``config`` (its parameters are set after)."""
    try:
        if cls is LogisticRegression:
            rest = {k: v for k, v in config.items() if k not in ("layer_dims", "hidden")}
            if config.get("hidden") or len(dims) != 2:
                raise bad(f"a LogisticRegression has no hidden layer, the config has layer_dims {dims}")
            net = LogisticRegression(n_x=dims[0], **rest)
            if net.layer_dims[-1] is None:
                # softmax learns its number of classes from Y; here it is the file's.
                net.layer_dims = tuple(dims)
        else:
            net = Network(**config)
    except DataFileError:
        raise
    except (XpnetError, TypeError, ValueError) as exc:
        # TypeError: a setting this xpnet does not know (written by a newer one?).
        raise bad(f"its config cannot build a {cls.__name__}: {exc}") from None
    except Exception as exc:  # a setting of a type the constructor does not expect
        raise bad(f"its config cannot build a {cls.__name__}: {type(exc).__name__}: {exc}") from exc
    if list(net.layer_dims) != dims:
        raise bad(f"the config's layer_dims {dims} give a {cls.__name__} of layer_dims {list(net.layer_dims)}")
    return net
