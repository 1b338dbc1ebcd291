"""Data sets from NumPy's .npz files: X_train, Y_train, X_test, Y_test, or X and Y to split.

X is converted into its destination chunk by chunk (split into train and
test as it is read, where the file holds X and Y), never through a full-size
copy; :mod:`._npz_archive` reads the file itself.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from .._checks import check_int, check_memory, check_seed
from ..errors import ConfigError, DataFileError
from . import _limits
from ._dataset import Dataset, as_columns, float_dtype
from ._inputs import as_path, check_class_ids
from ._npz_archive import NpyMember, npz_archive, npz_headers, npz_read, npz_X_blocks
from ._preprocessing import check_test_fraction, held_out

#: The arrays of a file split in advance, and of one for xpnet to split.
NPZ_SPLIT_KEYS = ("X_train", "Y_train", "X_test", "Y_test")
NPZ_WHOLE_KEYS = ("X", "Y")
#: The names whose arrays :func:`load_npz` uses.
_NPZ_USED_KEYS = frozenset(NPZ_SPLIT_KEYS + NPZ_WHOLE_KEYS + ("classes",))


def _npz_check_kind(path: Path, key: str, dtype: np.dtype) -> None:
    if dtype.kind not in "biuf":
        raise DataFileError(f"{path}: {key} has dtype {dtype}; xpnet needs real numbers (bool, integer or float)")


def _npz_numeric(path: Path, key: str, a: np.ndarray) -> np.ndarray:
    _npz_check_kind(path, key, a.dtype)
    if a.size and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise _npz_not_finite(path, key)
    return a


def _npz_not_finite(path: Path, key: str) -> DataFileError:
    return DataFileError(f"{path}: {key} contains NaN or inf: remove or impute them before saving")


def _npz_check_X(path: Path, member: NpyMember) -> None:
    """X's header: real numbers of shape (n_x, m), m > 0 (its values are checked as they are read)."""
    key, shape = member.key, member.shape
    _npz_check_kind(path, key, member.dtype)
    if len(shape) != 2:
        raise DataFileError(
            f"{path}: {key} has shape {shape}; it must be (n_x, m), one example per column "
            f"(for a single feature save {key}.reshape(1, -1))"
        )
    if shape[1] == 0:
        raise DataFileError(f"{path}: {key} has no examples (m = 0)")


def _npz_Y(path: Path, key: str, a: np.ndarray) -> np.ndarray:
    a = _npz_numeric(path, key, a)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise DataFileError(f"{path}: {key} has shape {a.shape}; it must be (m,), (1, m) or (n_y, m)")
    return a


def _empty_columns(path: Path, key: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """An uninitialized (n_x, m) array of ``dtype`` in Fortran order, or a DataFileError if it does not fit:
    refused before allocating beyond this machine's memory, and where the allocation fails."""
    smaller = "load it with dtype='float32', " if dtype == np.float64 else ""
    need = math.prod(shape) * dtype.itemsize
    check_memory(need, f"{path}: {key} of shape {shape} as {dtype}",
                 f"{smaller}use a machine with more memory", error=DataFileError)
    try:
        return np.empty(shape, dtype=dtype, order="F")
    except MemoryError as exc:
        raise DataFileError(
            f"{path}: {key} of shape {shape} needs {need} bytes as {dtype}, "
            f"more than this machine can allocate: {smaller}free memory, or use a machine with more"
        ) from exc


def _npz_read_X(
    path: Path, archive: zipfile.ZipFile, member: NpyMember, dtype: np.dtype, split=None
) -> list[np.ndarray]:
    """X converted to ``dtype`` chunk by chunk, straight into Fortran-ordered destinations.

    ``split`` None gives [X]; ``split`` = (order, n_test) gives [X_train,
    X_test] as :func:`train_test_split` makes them from the permutation
    ``order``: X_test[:, p] = X[:, order[p]], X_train[:, p] = X[:, order[n_test + p]].
    No full-size copy of X exists on the way, in the file's dtype or any other.
    NaN and inf are refused chunk by chunk.
    """
    n_x, m = member.shape
    if split is None:
        X = _empty_columns(path, member.key, (n_x, m), dtype)
        outputs = [X]

        def put(rows, columns, block):
            X[rows, columns] = block
    else:
        order, n_test = split
        place = np.empty(m, dtype=np.intp)  # X[:, j] goes to column place[j] of test, then train
        place[order] = np.arange(m, dtype=np.intp)
        X_train = _empty_columns(path, "X_train", (n_x, m - n_test), dtype)
        X_test = _empty_columns(path, "X_test", (n_x, n_test), dtype)
        outputs = [X_train, X_test]

        def put(rows, columns, block):
            at = place[columns]
            to_test = at < n_test
            X_test[rows, at[to_test]] = block[:, to_test]
            to_train = ~to_test
            X_train[rows, at[to_train] - n_test] = block[:, to_train]

    finite = member.dtype.kind == "f"
    narrowing = finite and member.dtype.itemsize > dtype.itemsize  # float64 (or wider) into float32
    for rows, columns, block in npz_X_blocks(path, archive, member):
        if finite and not np.isfinite(block).all():
            raise _npz_not_finite(path, member.key)
        if narrowing:
            block = _narrowed(path, member.key, block, dtype)
        put(rows, columns, block)
    return outputs


def _narrowed(path: Path, key: str, a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Finite ``a`` in the narrower float ``dtype``, or a DataFileError where a value lies beyond
    its range (1e300 would become inf in float32)."""
    with np.errstate(over="ignore"):  # refused below, with a message; errstate holds for this thread only
        narrow = a.astype(dtype)
    if not np.isfinite(narrow).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(narrow))[0])
        raise DataFileError(
            f"{path}: {key} holds {a[index].item()!r}, beyond the range of {dtype} (±{np.finfo(dtype).max:.4g}): "
            f"load it with dtype='float64', or rescale {key} before saving"
        )
    return narrow


def _is_labels(Y: np.ndarray) -> bool:
    """One row of whole numbers >= 0: class ids, not regression values."""
    if Y.shape[0] != 1:
        return False
    if Y.dtype.kind in "bu":
        return True
    return bool(np.all(Y == np.round(Y)) and Y.min() >= 0)


def _not_labels(Y: np.ndarray) -> str:
    """Why Y (finite numbers) is no row of class ids, for a message."""
    if Y.shape[0] != 1:
        return f"it has {Y.shape[0]} rows"
    fractional = Y != np.round(Y)
    if fractional.any():
        j = int(np.flatnonzero(fractional[0])[0])
        return f"it holds {Y[0, j].item()!r} at column {j}"
    j = int(np.argmin(Y[0]))
    return f"it holds {Y[0, j].item()!r} at column {j}"


def _class_names(path: Path, names: np.ndarray) -> tuple[str, ...]:
    """The ``classes`` array's strings, or a DataFileError where bytes are no UTF-8 text."""
    try:
        return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{path}: classes holds bytes that are no UTF-8 text ({exc}): save the names as str"
        ) from exc


def _npz_classes(path: Path, archive, headers: dict, y_keys, Ys: list[np.ndarray]) -> tuple[bool, tuple[str, ...]]:
    """Whether the Ys (as saved) are class ids, and the class names: ``classes`` or "0".."K-1".

    The Ys decide together, so train and test get one dtype. Class ids are checked
    here, before anything converts them to int64 (1e300 or a uint64 2**64 - 1 would
    wrap to a negative id) and before a name is made for each class; a ``classes``
    array must name every id, and comes only with class ids.
    """
    names = npz_read(path, archive, headers["classes"]) if "classes" in headers else None
    if names is not None and (names.ndim != 1 or names.dtype.kind not in "US"):
        raise DataFileError(
            f"{path}: classes must be a 1-D array of strings, got dtype {names.dtype}, shape {names.shape}"
        )
    if not all(_is_labels(Y) for Y in Ys):
        if names is not None:
            key, Y = next((k, Y) for k, Y in zip(y_keys, Ys) if not _is_labels(Y))
            raise DataFileError(
                f"{path}: classes names classes, but {key} holds no class ids ({_not_labels(Y)}): class ids "
                "are whole numbers 0..K-1 in one row; relabel them, or save no classes for regression targets"
            )
        return False, ()
    for key, Y in zip(y_keys, Ys):
        check_class_ids(Y, f"{path}: {key}", error=DataFileError)
    tops = [int(Y.max()) for Y in Ys]
    K = max(tops) + 1
    if names is None:
        return True, tuple(str(k) for k in range(K))
    classes = _class_names(path, names)
    if len(classes) < K:
        raise DataFileError(
            f"{path}: classes names {len(classes)} classes, but {y_keys[tops.index(K - 1)]} holds class id "
            f"{K - 1}: save one name per class id 0..{K - 1}"
        )
    return True, classes


def _check_same_m(path: Path, x_key: str, x_shape: tuple, y_key: str, y_shape: tuple) -> None:
    if x_shape[1] != y_shape[1]:
        hint = (
            f" ({x_key} looks like (m, n_x): save {x_key}.T)" if x_shape[0] == y_shape[1]
            else f": each column of {x_key} is one example and needs one column of {y_key}"
        )
        raise DataFileError(
            f"{path}: {x_key} has {x_shape[1]} examples (columns), shape {x_shape}, but {y_key} has "
            f"{y_shape[1]}, shape {y_shape}{hint}"
        )


def load_npz(
    path: str | os.PathLike, *, test_fraction: float = 0.2, seed: int = 0, max_bytes: int | None = None,
    dtype: str = "float32",
) -> Dataset:
    """A data set from a NumPy ``.npz`` file, read without pickle.

    The file holds either ``X_train, Y_train, X_test, Y_test`` or just ``X, Y``,
    which are then split as :func:`train_test_split` splits them
    (``test_fraction``, ``seed``). Each X is (n_x, m): one example per column,
    as everywhere in xpnet, of bool, integers or floats; it comes back in
    ``dtype`` ("float32" or "float64"), each example contiguous (Fortran
    order). Each Y is (m,) or (1, m) of class ids 0..K-1 (0/1 for two
    classes), which become int64, or (n_y, m) of values (regression), which
    come back in ``dtype``. Class ids must lie below :data:`MAX_CLASSES`
    (checked before they are converted: 1e300 would wrap to a negative id). An
    optional ``classes`` array of strings names the classes, one name per id
    0..K-1 at least (with it, Y must be class ids). The data set's name is the
    file's stem.

    Reading never unpickles and is bounded: a file that would expand to more
    than ``max_bytes`` (default :data:`MAX_NPZ_BYTES`) uncompressed, or a member
    compressed suspiciously well, is refused before it is decompressed. Every
    header is checked before any data is read. X is read in chunks of
    :data:`NPZ_CHUNK_BYTES` straight into the arrays returned (X_train and
    X_test directly, when the file is split here), so the peak memory is the
    returned arrays plus a few chunks, whatever the file's dtype and order.
    Any problem raises :class:`DataFileError` naming the file.
    """
    dt = float_dtype(dtype)
    if max_bytes is None:
        max_bytes = _limits.MAX_NPZ_BYTES
    max_bytes = check_int(max_bytes, "max_bytes", numpy=True, must="a positive whole number of bytes")
    check_test_fraction(test_fraction)
    check_seed(seed)
    path = as_path(path)
    with npz_archive(path) as archive:
        headers = npz_headers(path, archive, max_bytes, _NPZ_USED_KEYS)
        split_present = [k for k in NPZ_SPLIT_KEYS if k in headers]
        if split_present and len(split_present) < len(NPZ_SPLIT_KEYS):
            missing = [k for k in NPZ_SPLIT_KEYS if k not in headers]
            raise DataFileError(
                f"{path} holds {', '.join(split_present)} but not {', '.join(missing)}: save all four, or "
                "just X and Y for xpnet to split"
            )
        if not split_present and not all(k in headers for k in NPZ_WHOLE_KEYS):
            raise DataFileError(
                f"{path} holds {', '.join(headers) or 'no arrays'}; xpnet reads X_train, Y_train, X_test, "
                "Y_test, or just X and Y: save them with numpy.savez(path, X=X, Y=Y), X of shape (n_x, m)"
            )
        keys = NPZ_SPLIT_KEYS if split_present else NPZ_WHOLE_KEYS
        x_members = [headers[k] for k in keys[0::2]]
        for member in x_members:
            _npz_check_X(path, member)
        Ys = [_npz_Y(path, k, npz_read(path, archive, headers[k])) for k in keys[1::2]]
        for member, y_key, Y in zip(x_members, keys[1::2], Ys):
            _check_same_m(path, member.key, member.shape, y_key, Y.shape)
        labels, classes = _npz_classes(path, archive, headers, keys[1::2], Ys)
        if split_present:
            (train_shape, test_shape), (Y_train, Y_test) = (x.shape for x in x_members), Ys
            if train_shape[0] != test_shape[0]:
                raise DataFileError(
                    f"{path}: X_train has {train_shape[0]} features (rows) but X_test has {test_shape[0]}: "
                    "both must be (n_x, m) with the same n_x"
                )
            if Y_train.shape[0] != Y_test.shape[0]:
                raise DataFileError(
                    f"{path}: Y_train has {Y_train.shape[0]} rows but Y_test has {Y_test.shape[0]}: "
                    "both must be (n_y, m) with the same n_y"
                )
        else:
            m = x_members[0].shape[1]
            if m < 2:
                raise DataFileError(
                    f"{path}: X holds {m} example: xpnet cannot split it into a train and a test set; "
                    "save at least 2 examples"
                )
            # The permutation train_test_split draws, applied as X is read.
            order = np.random.RandomState(seed).permutation(m)
            n_test = held_out(m, test_fraction)
            Y_train, Y_test = Ys[0][..., order[n_test:]], Ys[0][..., order[:n_test]]
        del Ys

        if labels:
            Y_train, Y_test = Y_train.astype(np.int64, copy=False), Y_test.astype(np.int64, copy=False)
        else:
            y_keys = keys[1::2] if split_present else ("Y", "Y")
            Y_train, Y_test = (as_columns(_narrowed(path, key, Y, dt) if Y.dtype.kind == "f" else Y, dt)
                               for Y, key in zip((Y_train, Y_test), y_keys))

        if split_present:
            (X_train,), (X_test,) = (_npz_read_X(path, archive, member, dt) for member in x_members)
        else:
            X_train, X_test = _npz_read_X(path, archive, x_members[0], dt, split=(order, n_test))
            del order

    return Dataset(X_train, Y_train, X_test, Y_test, classes, path.stem)


def read_npz_array(
    path: str | os.PathLike, key: str = "X", *, dtype: str = "float32", n_x: int | None = None,
    max_bytes: int | None = None,
) -> np.ndarray:
    """One array of examples, ``key`` (X by default), from a NumPy ``.npz`` file: new
    examples to predict on, say.

    Read as :func:`load_npz` reads X: without pickle, bounded by ``max_bytes``
    (default :data:`MAX_NPZ_BYTES`) before anything is decompressed, every
    header checked before any data is read, converted chunk by chunk straight
    into ``dtype`` ("float32" or "float64"), each example contiguous (Fortran
    order), NaN and inf refused. The array must be (n_x, m), one example per
    column, of real numbers; with ``n_x`` its number of rows is checked from
    the header, before its data is read. Any problem raises
    :class:`DataFileError` naming the file.
    """
    dt = float_dtype(dtype)
    if max_bytes is None:
        max_bytes = _limits.MAX_NPZ_BYTES
    max_bytes = check_int(max_bytes, "max_bytes", numpy=True, must="a positive whole number of bytes")
    if not isinstance(key, str) or not key:
        raise ConfigError(f"key must be the name of the array in the .npz file (a str such as 'X'), got {key!r}")
    if n_x is not None:
        n_x = check_int(n_x, "n_x", numpy=True, must="None or a positive integer (the rows X must have)")
    path = as_path(path)
    with npz_archive(path) as archive:
        headers = npz_headers(path, archive, max_bytes, frozenset({key}))
        if key not in headers:
            raise DataFileError(
                f"{path} holds {', '.join(headers) or 'no arrays'} but no {key}: save it with "
                f"numpy.savez(path, {key}={key}), {key} of shape (n_x, m), one example per column"
            )
        member = headers[key]
        _npz_check_X(path, member)
        if n_x is not None and member.shape[0] != n_x:
            hint = (f" ({key} looks like (m, n_x): save {key}.T)" if member.shape[1] == n_x
                    else "")
            raise DataFileError(
                f"{path}: {key} has {member.shape[0]} features (rows), shape {member.shape}, "
                f"where {n_x} are expected{hint}"
            )
        (X,) = _npz_read_X(path, archive, member, dt)
    return X
