"""The ``--data SPEC`` of the command line: a generated set's name, an .npz file, or a folder."""

from __future__ import annotations

import os

from .._checks import check_seed
from ..errors import DataFileError
from ._catvnoncat import CATVNONCAT_FILES, load_catvnoncat
from ._dataset import Dataset, as_columns, float_dtype
from ._generated import GENERATED, TEST_SEED_OFFSET, flower_dataset
from ._idx import IDX_FILES, is_idx_folder, load_idx
from ._images import image_shape, load_image_folder, visible_subfolders
from ._inputs import FOLDER, MISSING, OTHER, as_path, file_kind, not_regular
from ._npz import load_npz
from ._preprocessing import check_test_fraction

DATA_SPECS = (
    "a generated set (flower, spiral, moons, blobs); a .npz file holding X_train, Y_train, X_test, "
    f"Y_test (or X and Y); a folder holding {' and '.join(CATVNONCAT_FILES)}; a folder holding "
    f"MNIST's IDX files ({', '.join(name for pair in IDX_FILES.values() for name in pair)}, raw or .gz); "
    "or a folder with one subfolder of images per class"
)


def load_dataset(
    spec: str | os.PathLike, *, seed: int = 1, test_fraction: float = 0.2, image_size=(64, 64),
    dtype: str = "float32",
) -> Dataset:
    """The data set a ``--data SPEC`` names, X in ``dtype`` ("float32" or "float64").

    - ``flower``, ``spiral``, ``moons``, ``blobs``: generated, trained on the
      draw ``seed`` and tested on the draw ``seed + 1000``, as the flower set is
      (so ``seed`` is at most 2**32 − 1001 for them).
      The points are drawn in float64 and handed over in ``dtype``.
      The names win over a folder of the same name; write ``./spiral`` for that.
    - a path ending in ``.npz``: :func:`load_npz` (``test_fraction``, ``seed``).
    - a folder holding the course's cat h5 files: :func:`load_catvnoncat`.
    - a folder holding MNIST's IDX files: :func:`load_idx`.
    - a folder of class subfolders of images: :func:`load_image_folder`
      (``image_size`` = (height, width), ``test_fraction``, ``seed``).

    Whichever it is, X (n_x, m) comes back in ``dtype`` with each example
    contiguous (Fortran order). ``Dataset.name`` says which: the set's name,
    ``catvnoncat``, or the file's or folder's name.
    """
    dt = float_dtype(dtype)
    check_test_fraction(test_fraction)
    check_seed(seed)
    image_size = image_shape(image_size, "image_size")  # checked whatever spec is, so a bad one never passes unseen
    if isinstance(spec, str) and (spec == "flower" or spec in GENERATED):
        check_seed(seed, offset=TEST_SEED_OFFSET)
    if isinstance(spec, str) and spec == "flower":
        return flower_dataset(seed=seed, dtype=dtype)
    if isinstance(spec, str) and spec in GENERATED:
        draw, classes = GENERATED[spec]
        X_train, Y_train = draw(seed=seed)
        X_test, Y_test = draw(seed=seed + TEST_SEED_OFFSET)
        return Dataset(as_columns(X_train, dt), Y_train, as_columns(X_test, dt), Y_test, classes, spec)
    try:
        path = as_path(spec, "--data")
    except DataFileError as exc:
        raise DataFileError(f"{exc}; --data takes {DATA_SPECS}") from None
    if path.suffix.lower() == ".npz":
        return load_npz(path, test_fraction=test_fraction, seed=seed, dtype=dtype)
    kind = file_kind(path)
    if kind == FOLDER:
        if any(file_kind(path / f) != MISSING for f in CATVNONCAT_FILES):
            return load_catvnoncat(path, dtype=dtype)  # which says what is missing if only one file is there
        if is_idx_folder(path):
            return load_idx(path, dtype=dtype)  # which says what is missing if not all four are there
        if visible_subfolders(path):
            return load_image_folder(path, size=image_size, test_fraction=test_fraction, seed=seed, dtype=dtype)
        raise DataFileError(
            f"{path} holds no cat h5 files, no IDX files and no class subfolders; --data takes {DATA_SPECS}"
        )
    if kind == MISSING:
        raise DataFileError(f"{spec} is no known data set name and no existing path; --data takes {DATA_SPECS}")
    if kind == OTHER:
        raise not_regular(path, "data")
    raise DataFileError(f"{path} is a file xpnet does not read; --data takes {DATA_SPECS}")
