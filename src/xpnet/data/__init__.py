"""Data sets, on the host, in the course's layout: X (n_x, m), Y (1, m).

Loaders return NumPy arrays; the model moves them to the chosen backend once.
They hand X over as training wants it: in the model's dtype (``dtype=``,
float32 by default, float64 for the course's reproductions) and with each
example contiguous (Fortran order), so gathering a mini-batch of columns copies
whole runs of memory. Large X is never staged through a float64 copy.

- generated: :func:`planar_flower`, :func:`spiral`, :func:`moons`, :func:`blobs`
- files: :func:`load_catvnoncat` (the course's h5), :func:`load_npz` (and
  :func:`read_npz_array`, one array of examples to predict on),
  :func:`load_idx` (MNIST's format), :func:`load_image_folder`;
  :func:`load_dataset` picks one from a ``--data`` spec
- preparation: :func:`train_test_split`, :class:`Standardizer`, :func:`one_hot`

The package, one module per source; each imports only those above it::

    _limits.py         the bounds on what the loaders read (MAX_NPZ_BYTES, MAX_CLASSES, ...)
    _inputs.py         what the public functions are given, checked: paths (regular files,
                       unopened otherwise), arrays, class ids below MAX_CLASSES, sizes
    _dataset.py        Dataset, DTYPES, X in the model's dtype with examples contiguous
    _preprocessing.py  flatten_images, train_test_split, Standardizer, standardize, one_hot
    _generated.py      planar_flower, flower_dataset, spiral, moons, blobs, GENERATED
    _catvnoncat.py     the course's cat h5 files: find_catvnoncat, load_catvnoncat
    _npz_archive.py    an .npz as a zip of .npy members, read bounded and without pickle
    _npz.py            load_npz: the data set in an .npz, split while read; read_npz_array
    _images.py         load_image_folder: one subfolder of images per class
    _idx.py            load_idx: MNIST's IDX files
    _spec.py           load_dataset and DATA_SPECS: what ``--data SPEC`` names

Within the package a name without a leading underscore is one another module
imports; what ``xpnet.data`` offers is what this file imports (``__all__``).
The limits (``xpnet.data.MAX_NPZ_BYTES`` and the rest) live in :mod:`._limits`,
where the loaders read them at each call; reading or setting one here
(``xpnet.data.MAX_NPZ_BYTES = 2**40``, or monkeypatching it) reads or sets it there.
"""

from __future__ import annotations

import sys
import types

from .._checks import check_int
from . import _limits
from ._catvnoncat import CATVNONCAT_FILES, DATA_ENV, find_catvnoncat, load_catvnoncat
from ._dataset import DTYPES, Dataset
from ._generated import GENERATED, blob_centers, blobs, flower_dataset, moons, planar_flower, spiral
from ._idx import IDX_FILES, load_idx
from ._images import load_image_folder
from ._npz import NPZ_SPLIT_KEYS, NPZ_WHOLE_KEYS, load_npz, read_npz_array
from ._preprocessing import Standardizer, flatten_images, one_hot, standardize, train_test_split
from ._spec import DATA_SPECS, load_dataset

__all__ = [
    "Dataset", "DTYPES", "DATA_SPECS", "load_dataset",
    "planar_flower", "flower_dataset", "spiral", "moons", "blob_centers", "blobs", "GENERATED",
    "find_catvnoncat", "load_catvnoncat", "DATA_ENV", "CATVNONCAT_FILES",
    "load_npz", "read_npz_array", "NPZ_SPLIT_KEYS", "NPZ_WHOLE_KEYS", "load_idx", "IDX_FILES", "load_image_folder",
    "flatten_images", "train_test_split", "Standardizer", "standardize", "one_hot",
    *_limits.NAMES,
]


def _limit(name: str) -> property:
    """``xpnet.data.NAME``, read from and written to ``_limits.NAME``; what is written must be a
    whole number (≥ 1; ≥ 0 for NPZ_RATIO_MIN_BYTES), or a ConfigError names the limit."""

    def write(module, value) -> None:
        low = 0 if name == "NPZ_RATIO_MIN_BYTES" else 1
        setattr(_limits, name, check_int(value, f"xpnet.data.{name}", low=low, numpy=True))

    return property(lambda module: getattr(_limits, name), write)


class _Package(types.ModuleType):
    """``xpnet.data`` itself, whose limits are properties over those of :mod:`._limits`.

    Properties, not copies: a copy would go stale when one side is set, and
    ``monkeypatch.setattr`` puts back what it changed through the property too.
    """

    def __dir__(self):
        return sorted({*super().__dir__(), *_limits.NAMES})


for _name in _limits.NAMES:
    setattr(_Package, _name, _limit(_name))
sys.modules[__name__].__class__ = _Package
del _name
