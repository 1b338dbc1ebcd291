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

from .._checks import check_int
from ..errors import DataFileError
from . import _limits
from ._dataset import Dataset, as_columns, float_dtype
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
    """An uninitialized (n_x, m) array of ``dtype`` in Fortran order, or a DataFileError if it does not fit."""
    try:
        return np.empty(shape, dtype=dtype, order="F")
    except MemoryError as exc:
        smaller = "load it with dtype='float32', " if dtype == np.float64 else ""
        raise DataFileError(
            f"{path}: {key} of shape {shape} needs {math.prod(shape) * dtype.itemsize} bytes as {dtype}, "
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
    for rows, columns, block in npz_X_blocks(path, archive, member):
        if finite and not np.isfinite(block).all():
            raise _npz_not_finite(path, member.key)
        put(rows, columns, block)
    return outputs


def _is_labels(Y: np.ndarray) -> bool:
    """One row of whole numbers >= 0: class ids, not regression values."""
    if Y.shape[0] != 1:
        return False
    if Y.dtype.kind in "bu":
        return True
    return bool(np.all(Y == np.round(Y)) and Y.min() >= 0)


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
    come back in ``dtype``. An optional ``classes`` array of strings names the
    classes. The data set's name is the file's stem.

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
    path = Path(path)
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

        names = npz_read(path, archive, headers["classes"]) if "classes" in headers else None
        if names is not None and (names.ndim != 1 or names.dtype.kind not in "US"):
            raise DataFileError(
                f"{path}: classes must be a 1-D array of strings, got dtype {names.dtype}, shape {names.shape}"
            )

        if split_present:
            (X_train,), (X_test,) = (_npz_read_X(path, archive, member, dt) for member in x_members)
        else:
            X_train, X_test = _npz_read_X(path, archive, x_members[0], dt, split=(order, n_test))
            del order

    classes: tuple[str, ...] = ()
    # Train and test decide together, so both Ys get the same dtype.
    if _is_labels(Y_train) and _is_labels(Y_test):
        Y_train, Y_test = Y_train.astype(np.int64, copy=False), Y_test.astype(np.int64, copy=False)
        K = int(max(Y_train.max(), Y_test.max())) + 1
        classes = tuple(str(k) for k in range(K))
    else:
        Y_train, Y_test = as_columns(Y_train, dt), as_columns(Y_test, dt)
    if names is not None:
        classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
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
    path = Path(path)
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
