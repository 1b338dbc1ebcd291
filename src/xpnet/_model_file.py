"""The model file format: a network saved as safetensors, numbers and text, never code.

A model file is a safetensors file (:mod:`xpnet._safetensors` reads and writes
it with care; reading cannot run code, DESIGN.md rule 7). It holds

- tensors ``W1``, ``b1``, ..., ``WL``, ``bL``: W[l] is (n[l], n[l-1]) and b[l]
  is (n[l], 1), in the model's dtype, copied to the host;
- text metadata: ``format`` ("xpnet.model"), ``format_version`` ("1"),
  ``xpnet_version``, ``class`` ("Network" or "LogisticRegression"), ``config``
  (the JSON of ``net.get_config()``) and ``dtype``.

The host-side arrays make a file independent of the backend it was saved from:
a model trained on CuPy loads on NumPy, PyTorch, JAX or array-api-strict.

:func:`write` writes a model (``Network.save`` calls it) and :func:`read`
reads and checks one; :mod:`xpnet.io`, above the estimators, builds the
estimator back from what it read (``xpnet.load``). This module knows no
estimator class. safetensors is an optional extra: ``pip install 'xpnet[save]'``.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

import numpy as np

from . import _backend
from ._checks import is_int
from ._safetensors import read_tensors, write_tensors
from ._version import __version__
from .errors import DataError, DataFileError

#: The ``format`` tag of a model file.
FORMAT = "xpnet.model"
#: The ``format_version`` this xpnet writes.
FORMAT_VERSION = "1"
#: The ``format_version`` values this xpnet reads.
SUPPORTED_FORMAT_VERSIONS = ("1",)
#: The model classes a file can hold.
CLASSES = ("Network", "LogisticRegression")

_DTYPES = ("float32", "float64")


class SavedModel(NamedTuple):
    """What :func:`read` found in a model file, checked."""

    path: str
    class_name: str  # one of CLASSES
    config: dict
    layer_dims: list[int]
    dtype: str
    params: list[tuple[Any, Any]]  # NumPy (W, b) pairs


def write(net, path: str | os.PathLike) -> None:
    """Save ``net`` (a :class:`~xpnet.models.Network` or :class:`~xpnet.models.LogisticRegression`) to ``path``.

    Writes W[l] (n[l], n[l-1]) and b[l] (n[l], 1) as ``W1``, ``b1``, ... in the
    net's dtype, with the architecture as metadata; atomically (see
    :func:`write_tensors`). Works from any backend: the parameters are copied to
    the host. A subclass is saved as the class it derives from.

    Raises :class:`NotFittedError` for a model whose sizes come from data it has
    not seen yet, and :class:`DataError` for NaN or inf parameters (a diverged
    run), which :func:`read` would refuse.
    """
    params = net.params  # NotFittedError where the sizes are not known yet
    config = net.get_config()
    dtype = np.dtype(net.dtype)
    tensors = {}
    for l, (W, b) in enumerate(params, start=1):
        for name, a in ((f"W{l}", W), (f"b{l}", b)):
            a = _backend.to_host(a).astype(dtype, copy=False)
            if not np.isfinite(a).all():
                raise DataError(
                    f"{name} holds NaN or inf (the training diverged: lower the learning rate); "
                    "a model with non-finite parameters cannot be saved"
                )
            tensors[name] = a
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "xpnet_version": __version__,
        "class": net.file_class,  # a subclass saves as the class it derives from
        "config": json.dumps(config),
        "dtype": dtype.name,
    }
    write_tensors(path, tensors, metadata)


def read(path: str | os.PathLike) -> SavedModel:
    """The model file at ``path``, checked: its class name, config, layer_dims and dtype,
    and its parameters as NumPy arrays, W[l] (n[l], n[l-1]) and b[l] (n[l], 1).

    Raises :class:`DataFileError` naming the file and the problem when the file
    is not an xpnet model this version reads, or its tensors disagree with its
    config (missing, wrong shape or dtype, NaN/inf). ``xpnet.load`` builds the
    model from it.
    """
    tensors, metadata = read_tensors(path)
    path = os.fspath(path)

    def bad(problem: str) -> DataFileError:
        return DataFileError(f"{path}: {problem}")

    cls, config, dims, dtype = _check_metadata(metadata, bad)
    # The tensors before the model: building one allocates and draws its parameters,
    # whose sizes must come from the file's own arrays, not from a config's say-so.
    params = []
    for l, (n_prev, n) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        pair = []
        for name, shape in ((f"W{l}", (n, n_prev)), (f"b{l}", (n, 1))):
            a = tensors.get(name)
            if a is None:
                raise bad(f"tensor {name} is missing (layer_dims {dims} need W1, b1, ..., W{len(dims) - 1}, b{len(dims) - 1})")
            if tuple(a.shape) != shape:
                raise bad(f"{name} has shape {tuple(a.shape)}, the config's layer_dims {dims} need {shape}")
            if a.dtype != np.dtype(dtype):
                raise bad(f"{name} is {a.dtype}, the config's dtype is {dtype}")
            if not np.isfinite(a).all():
                raise bad(f"{name} holds NaN or inf")
            pair.append(a)
        params.append(tuple(pair))
    expected = {f"{p}{l}" for l in range(1, len(dims)) for p in "Wb"}
    extra = sorted(set(tensors) - expected)
    if extra:
        raise bad(f"unexpected tensors {', '.join(extra)} for layer_dims {dims}")
    return SavedModel(path, cls, config, dims, dtype, params)


def _check_metadata(metadata: dict[str, str], bad) -> tuple[str, dict, list[int], str]:
    """(class name, config, layer_dims, dtype) from a model file's metadata, or ``bad(problem)`` raised."""
    fmt = metadata.get("format")
    if fmt != FORMAT:
        found = "has no xpnet metadata" if fmt is None else f"has format {fmt!r}"
        raise bad(f"not an xpnet model: it {found}, expected format {FORMAT!r} (save models with xpnet's save)")
    version = metadata.get("format_version")
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise bad(
            f"format_version {version!r} is not one xpnet {__version__} reads "
            f"({', '.join(SUPPORTED_FORMAT_VERSIONS)}); the file was written by xpnet "
            f"{metadata.get('xpnet_version', '(unknown)')}: upgrade xpnet to load it"
        )
    cls = metadata.get("class")
    if cls not in CLASSES:
        raise bad(f"unknown model class {cls!r}: expected one of {', '.join(CLASSES)}")
    try:
        config = json.loads(metadata["config"])
    except KeyError:
        raise bad("the metadata has no config") from None
    except (ValueError, RecursionError) as exc:  # json.JSONDecodeError; nesting too deep
        raise bad(f"the config is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(config, dict):
        raise bad(f"the config is a JSON {type(config).__name__}, expected an object")
    dims = config.get("layer_dims")
    if (
        not isinstance(dims, list)
        or len(dims) < 2
        or not all(is_int(n) and n >= 1 for n in dims)
    ):
        raise bad(f"the config's layer_dims {dims!r} are not a list of at least two positive integers")
    dtype = config.get("dtype")
    if dtype not in _DTYPES:
        raise bad(f"the config's dtype {dtype!r} is not one of {', '.join(_DTYPES)}")
    if metadata.get("dtype") != dtype:
        raise bad(f"the metadata's dtype {metadata.get('dtype')!r} disagrees with the config's {dtype!r}")
    return cls, config, dims, dtype
