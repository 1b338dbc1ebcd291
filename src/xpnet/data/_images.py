"""Folders of images, one subfolder per class (needs Pillow), read with bounds on what Pillow decodes."""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import numpy as np

from .._checks import is_int
from ..errors import ConfigError, DataFileError
from . import _limits
from ._dataset import Dataset, float_dtype
from ._preprocessing import check_test_fraction, flatten_images, held_out


def _image_size(size) -> tuple[int, int]:
    pair = (size, size) if is_int(size, numpy=True) else tuple(size) if isinstance(size, (tuple, list)) else ()
    if len(pair) != 2 or not all(is_int(n, numpy=True) and n > 0 for n in pair):
        raise ConfigError(f"size must be (height, width) in pixels, two positive integers, got {size!r}")
    return int(pair[0]), int(pair[1])


def visible_subfolders(folder: Path) -> list[Path]:
    """Subfolders, without hidden ones (.git, .ipynb_checkpoints), sorted by name."""
    return sorted((d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name)


def _stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): each class with 2+ examples gives about test_fraction of them to test."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for k in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == k))
        n_test = held_out(members.size, test_fraction) if members.size >= 2 else 0
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_image_folder(
    path: str | os.PathLike, *, size=(64, 64), test_fraction: float = 0.2, seed: int = 0,
    dtype: str = "float32",
) -> Dataset:
    """Images sorted into one subfolder per class, as a data set; needs Pillow.

    The classes are the subfolders' names in sorted order, ids 0..K-1. Every
    file Pillow can open by its extension is converted to RGB, resized to
    ``size`` = (height, width) (an int means square), and flattened as
    :func:`flatten_images` does: X (height·width·3, m) in [0, 1] in ``dtype``,
    each example contiguous (Fortran order); Y (1, m) int64. Each class gives
    about ``test_fraction`` of its images to the test set (seeded). Hidden
    files and folders are skipped, as are files of other types.
    """
    check_test_fraction(test_fraction)
    float_dtype(dtype)
    height, width = _image_size(size)
    folder = Path(path)
    if not folder.is_dir():
        raise DataFileError(f"{folder} is not a folder: point it at a folder with one subfolder of images per class")
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise DataFileError("reading a folder of images needs Pillow: pip install 'xpnet[images]'") from exc
    class_folders = visible_subfolders(folder)
    if len(class_folders) < 2:
        found = f"only {class_folders[0].name!r}" if class_folders else "none"
        raise DataFileError(
            f"{folder} needs one subfolder per class, at least two (e.g. {folder}/cat and {folder}/dog), "
            f"found {found}"
        )
    readable = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}
    files, ids = [], []
    for k, class_folder in enumerate(class_folders):
        images = sorted(
            p for p in class_folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in readable
        )
        if not images:
            raise DataFileError(
                f"class folder {class_folder} holds no images (.png, .jpg, ...): add some, or remove the folder"
            )
        files += images
        ids += [k] * len(images)

    labels = np.asarray(ids, dtype=np.int64)
    train, test = _stratified_split(labels, test_fraction, seed)
    # Each image goes straight to its place in the split, train first: X_train and
    # X_test are flattened from two slices of one array of pixels, not gathered from X.
    slot = np.empty(len(files), dtype=np.intp)
    slot[np.concatenate([train, test])] = np.arange(len(files))
    pixels = np.empty((len(files), height, width, 3), dtype=np.uint8)
    with _bounded_pillow(Image):
        for i, file in enumerate(files):  # in the files' order, so the first bad one is named
            pixels[slot[i]] = _read_image(file, width, height, Image, ImageOps)

    if test.size == 0:
        raise DataFileError(
            f"{folder} has too few images to hold out a test set: put at least two images in each class folder"
        )
    return Dataset(
        flatten_images(pixels[:train.size], dtype=dtype), labels[train].reshape(1, -1),
        flatten_images(pixels[train.size:], dtype=dtype), labels[test].reshape(1, -1),
        tuple(d.name for d in class_folders), folder.resolve().name,
    )


@contextlib.contextmanager
def _bounded_pillow(Image):
    """Pillow set to refuse what it would otherwise read silently wrong or without bound.

    For the duration: decompression bombs (more than :data:`MAX_IMAGE_PIXELS`,
    or Pillow's own limit if lower) raise instead of warning, and truncated
    images raise even where ``ImageFile.LOAD_TRUNCATED_IMAGES`` was switched on.
    """
    from PIL import ImageFile

    saved_pixels, saved_truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    limit = _limits.MAX_IMAGE_PIXELS if saved_pixels is None else min(_limits.MAX_IMAGE_PIXELS, saved_pixels)
    try:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = limit, False
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved_pixels, saved_truncated


def _read_image(file: Path, width: int, height: int, Image, ImageOps) -> np.ndarray:
    """One image file as (height, width, 3) uint8, or a DataFileError naming the file."""
    try:
        with Image.open(file) as image:
            if image.width * image.height > Image.MAX_IMAGE_PIXELS:  # formats Pillow does not check
                raise DataFileError(
                    f"{file} is {image.width}×{image.height} pixels, more than the {Image.MAX_IMAGE_PIXELS} "
                    "xpnet reads (a decompression bomb?): shrink it, or raise xpnet.data.MAX_IMAGE_PIXELS"
                )
            # Cameras store the orientation apart from the pixels; apply it so photos stand upright.
            upright = ImageOps.exif_transpose(image).convert("RGB")
            return np.asarray(upright.resize((width, height), Image.Resampling.BILINEAR))
    except DataFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataFileError(
            f"{file} is not a readable image: it is larger than the {Image.MAX_IMAGE_PIXELS} pixels xpnet "
            f"reads (a decompression bomb?): {exc}"
        ) from exc
    except Exception as exc:  # OSError, SyntaxError, EOFError, struct.error, ... from a damaged file
        raise DataFileError(
            f"{file} is not a readable image ({exc}): remove it or replace it with a working copy"
        ) from exc
