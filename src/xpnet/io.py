"""Saving and loading models as safetensors files: numbers and text, never code.

A model file is a safetensors file (https://github.com/huggingface/safetensors):
a JSON header, then raw little-endian arrays. Reading one cannot run code, unlike
pickle (DESIGN.md rule 7). It holds

- tensors ``W1``, ``b1``, ..., ``WL``, ``bL``: W[l] is (n[l], n[l-1]) and b[l]
  is (n[l], 1), in the model's dtype, copied to the host;
- text metadata: ``format`` ("xpnet.model"), ``format_version`` ("1"),
  ``xpnet_version``, ``class`` ("Network" or "LogisticRegression"), ``config``
  (the JSON of ``net.get_config()``) and ``dtype``.

The host-side arrays make a file independent of the backend it was saved from:
a model trained on CuPy loads on NumPy, PyTorch, JAX or array-api-strict.

:func:`write_tensors` and :func:`read_tensors` are the generic primitives
(atomic write; read that turns every failure into a :class:`DataFileError`);
:func:`save` and :func:`load` give them the model format. safetensors is an
optional extra: ``pip install 'xpnet[save]'``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import tempfile
from typing import Any, Mapping

import numpy as np

from . import _backend
from .errors import DataError, DataFileError, XpnetError
from .models import LogisticRegression, Network

#: The ``format`` tag of a model file.
FORMAT = "xpnet.model"
#: The ``format_version`` this xpnet writes.
FORMAT_VERSION = "1"
#: The ``format_version`` values this xpnet reads.
SUPPORTED_FORMAT_VERSIONS = ("1",)

_CLASSES = {"Network": Network, "LogisticRegression": LogisticRegression}
_DTYPES = ("float32", "float64")

#: The longest safetensors header xpnet reads, in bytes (safetensors' own limit). The
#: first 8 bytes of a file give the header's length: a corrupt one must not be trusted.
MAX_HEADER_BYTES = 100_000_000

#: safetensors dtypes NumPy can hold, and their sizes in bytes.
_ITEMSIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "U16": 2, "I16": 2, "F16": 2, "U32": 4, "I32": 4, "F32": 4,
    "U64": 8, "I64": 8, "F64": 8, "C64": 8,
}


def _safetensors():
    """The safetensors module, or a DataFileError that says how to install it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as exc:
        raise DataFileError(
            "saving and loading models needs safetensors, which is not installed: "
            "pip install 'xpnet[save]'"
        ) from exc
    return safetensors


# -- the generic primitives ----------------------------------------------------------


def write_tensors(
    path: str | os.PathLike, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]
) -> None:
    """Write NumPy arrays ``tensors`` (any shapes) and text ``metadata`` to a safetensors file.

    Atomic: the bytes go to a temporary file in the same folder, reach the disk
    (fsync), and only then replace ``path`` in one rename. A crash or an error
    leaves either the old file or the new one, never half of one. An exception
    leaves no temporary file behind; a killed process (SIGKILL, power loss) may
    leave one ``.NAME.*.tmp``, which nothing reads. Raises :class:`DataFileError` when the file cannot
    be written (missing folder, no permission, full disk).
    """
    st = _safetensors()
    path = os.fspath(path)
    # safetensors copies each array's memory from its data pointer as it lies:
    # a strided view (a transposed W) would be written as the wrong numbers.
    arrays = {name: _c_contiguous(a) for name, a in tensors.items()}
    try:
        data = st.numpy.save(arrays, metadata=dict(metadata))
    except (TypeError, ValueError, st.SafetensorError) as exc:
        raise DataFileError(f"cannot write {path}: the tensors or metadata cannot be serialized: {exc}") from exc

    # The same folder, so that os.replace is a rename within one file system.
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DataFileError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise DataFileError(f"cannot write {path}: {_reason(exc)}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file readable by its owner only; give it the
        # permissions the file had, or those a newly created file gets.
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:  # KeyboardInterrupt too: never leave the temporary file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise DataFileError(f"cannot write {path}: {_reason(exc)}") from exc
        raise
    _fsync_folder(folder)


def read_tensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The NumPy arrays and the text metadata of a safetensors file.

    Returns ``(tensors, metadata)``; ``metadata`` is ``{}`` where the file has
    none. Reads data only, never runs code. Any failure (missing file, not a
    safetensors file, truncated, garbage header) raises :class:`DataFileError`
    naming the file and what is wrong.

    The header is checked before safetensors reads the file: its length (at
    most :data:`MAX_HEADER_BYTES`, and within the file), its JSON (an object,
    no name twice), and each tensor's dtype, shape and data offsets (inside the
    file, the size the dtype and shape need, no two tensors overlapping).
    """
    st = _safetensors()
    path = os.fspath(path)
    if os.path.isdir(path):
        raise DataFileError(f"{path} is a folder, not a safetensors file")
    try:
        _check_header(path)
        with st.safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except DataFileError:
        raise
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: no such file") from exc
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {_reason(exc)}") from exc
    except Exception as exc:  # SafetensorError, MemoryError, whatever a broken file leads to
        raise DataFileError(f"{path} is not a valid safetensors file (truncated or corrupt?): {exc}") from exc
    return tensors, dict(metadata)


class _DuplicateName(ValueError):
    pass


def _no_duplicates(pairs: list) -> dict:
    """A JSON object as a dict, refusing a name given twice (json keeps the last one silently)."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateName(key)
        result[key] = value
    return result


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_header(path: str) -> None:
    """Refuse a safetensors file whose header is absurd, before safetensors trusts it.

    Raises :class:`DataFileError` (or the OSError of opening the file).
    """

    def bad(problem: str) -> DataFileError:
        return DataFileError(f"{path} is not a valid safetensors file: {problem}")

    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        prefix = f.read(8)
        if len(prefix) < 8:
            raise bad(f"it holds {size} bytes, fewer than the 8 that give the header's length (empty or truncated?)")
        n = int.from_bytes(prefix, "little")
        if n > MAX_HEADER_BYTES:
            raise bad(
                f"its first 8 bytes give a header length of {n} bytes, more than the "
                f"{MAX_HEADER_BYTES} xpnet reads (corrupt, or not a safetensors file)"
            )
        if n > size - 8:
            raise bad(
                f"its first 8 bytes give a header length of {n} bytes, longer than the file "
                f"({size - 8} bytes follow them; truncated?)"
            )
        raw = f.read(n)
    data_size = size - 8 - n
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _DuplicateName as exc:
        raise bad(f"its header names {str(exc)!r} twice") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad(f"its header is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(header, dict):
        raise bad(f"its header is a JSON {type(header).__name__}, not an object")
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise bad("its __metadata__ is not an object of text values")
            continue
        if not isinstance(info, dict):
            raise bad(f"tensor {name!r} is described by a JSON {type(info).__name__}, not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in _ITEMSIZES:
            raise bad(f"tensor {name!r} has dtype {dtype!r}, which NumPy cannot hold")
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise bad(f"tensor {name!r} has shape {shape!r}, not a list of sizes >= 0")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)
                and offsets[0] <= offsets[1]):
            raise bad(f"tensor {name!r} has data_offsets {offsets!r}, not [begin, end] with begin <= end")
        begin, end = offsets
        if end > data_size:
            raise bad(
                f"tensor {name!r} has data_offsets [{begin}, {end}], past the end of the "
                f"{data_size} bytes of data the file holds (truncated?)"
            )
        nbytes = math.prod(shape) * _ITEMSIZES[dtype]
        if end - begin != nbytes:
            raise bad(
                f"tensor {name!r} of shape {shape} and dtype {dtype} needs {nbytes} bytes, "
                f"its data_offsets [{begin}, {end}] give {end - begin}"
            )
        spans.append((begin, end, name))
    spans.sort()
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            raise bad(f"tensors {first!r} and {second!r} overlap in the file's data")


# -- models --------------------------------------------------------------------------


def save(net: Network, path: str | os.PathLike) -> None:
    """Save ``net`` (a :class:`Network` or :class:`LogisticRegression`) to ``path``.

    Writes W[l] (n[l], n[l-1]) and b[l] (n[l], 1) as ``W1``, ``b1``, ... in the
    net's dtype, with the architecture as metadata; atomically (see
    :func:`write_tensors`). Works from any backend: the parameters are copied to
    the host. A subclass is saved as the class it derives from.

    Raises :class:`NotFittedError` for a model whose sizes come from data it has
    not seen yet, and :class:`DataError` for NaN or inf parameters (a diverged
    run), which :func:`load` would refuse.
    """
    from . import __version__  # here: xpnet/__init__ imports this module

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
        "class": "LogisticRegression" if isinstance(net, LogisticRegression) else "Network",
        "config": json.dumps(config),
        "dtype": dtype.name,
    }
    write_tensors(path, tensors, metadata)


def load(
    path: str | os.PathLike, *, backend: str | None = None, device: Any = None
) -> Network | LogisticRegression:
    """The model saved at ``path``, its parameters in ``backend`` on ``device``.

    ``backend`` is a name from :data:`xpnet._backend.BACKENDS` (default
    "numpy"); ``device`` is that library's device (default: its default one).
    The same class comes back, with W[l] (n[l], n[l-1]) and b[l] (n[l], 1) in
    the saved dtype. Raises :class:`DataFileError` naming the file and the
    problem when the file is not an xpnet model this version reads, or its
    tensors disagree with its config (missing, wrong shape or dtype, NaN/inf).
    """
    # The arguments first: a wrong backend name is the caller's error, not the file's.
    xp = _backend.namespace_by_name("numpy" if backend is None else backend)
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
    net = _build(cls, config, dims, bad)

    net.params = [(_backend.from_host(W, xp, device), _backend.from_host(b, xp, device)) for W, b in params]
    return net


def _check_metadata(metadata: dict[str, str], bad) -> tuple[type, dict, list[int], str]:
    """(class, config, layer_dims, dtype) from a model file's metadata, or ``bad(problem)`` raised."""
    from . import __version__

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
    cls = _CLASSES.get(metadata.get("class"))
    if cls is None:
        raise bad(f"unknown model class {metadata.get('class')!r}: expected one of {', '.join(_CLASSES)}")
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
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in dims)
    ):
        raise bad(f"the config's layer_dims {dims!r} are not a list of at least two positive integers")
    dtype = config.get("dtype")
    if dtype not in _DTYPES:
        raise bad(f"the config's dtype {dtype!r} is not one of {', '.join(_DTYPES)}")
    if metadata.get("dtype") != dtype:
        raise bad(f"the metadata's dtype {metadata.get('dtype')!r} disagrees with the config's {dtype!r}")
    return cls, config, dims, dtype


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


# -- helpers -------------------------------------------------------------------------


def _c_contiguous(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a if a.flags.c_contiguous else np.array(a, order="C")  # keeps 0-d arrays 0-d


def _file_mode(path: str) -> int:
    """The permission bits for ``path``: those of the file it replaces, or 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    # The one portable way to read the umask is to set it and put it back.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable, where the OS lets a folder be opened (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
