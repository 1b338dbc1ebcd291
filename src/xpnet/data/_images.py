"""Folders of images, one subfolder per class (needs Pillow), read with bounds on what Pillow decodes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._checks import check_memory, check_seed, is_int
from ..errors import ConfigError, DataFileError
from . import _limits
from ._dataset import Dataset, float_dtype
from ._inputs import FOLDER, OTHER, REGULAR, file_kind, listing, not_regular
from ._inputs import folder as as_folder
from ._preprocessing import check_test_fraction, flatten_images, held_out


def image_shape(size, name: str = "size") -> tuple[int, int]:
    """``size`` as (height, width): two positive integers (one for a square); otherwise a
    ConfigError naming ``name``. (Whether that many pixels per image fit in memory is
    checked once the number of images is known.)"""
    pair = (size, size) if is_int(size, numpy=True) else tuple(size) if isinstance(size, (tuple, list)) else ()
    if len(pair) != 2 or not all(is_int(n, numpy=True) and n > 0 for n in pair):
        raise ConfigError(f"{name} must be (height, width) in pixels, two positive integers, got {size!r}")
    return int(pair[0]), int(pair[1])


def visible_subfolders(folder: Path) -> list[Path]:
    """Subfolders, without hidden ones (.git, .ipynb_checkpoints), sorted by name."""
    return sorted((d for d in listing(folder) if not d.name.startswith(".") and file_kind(d) == FOLDER),
                  key=lambda d: d.name)


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
    check_seed(seed)
    dt = float_dtype(dtype)
    height, width = image_shape(size)
    folder = as_folder(path, "point it at a folder with one subfolder of images per class")
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
        images = sorted(_image_files(class_folder, readable))
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
    check_memory(len(files) * height * width * 3 * (1 + dt.itemsize),
                 f"{len(files):,} images of {height}×{width} pixels (as uint8, then X in {dt})",
                 "pass a smaller size=, or use dtype='float32'")
    pixels = np.empty((len(files), height, width, 3), dtype=np.uint8)
    limit = _pixel_limit(Image)  # read once, never set: Pillow's settings are the process's
    for i, file in enumerate(files):  # in the files' order, so the first bad one is named
        pixels[slot[i]] = _read_image(file, width, height, limit, Image, ImageOps)

    if test.size == 0:
        raise DataFileError(
            f"{folder} has too few images to hold out a test set: put at least two images in each class folder"
        )
    return Dataset(
        flatten_images(pixels[:train.size], dtype=dtype), labels[train].reshape(1, -1),
        flatten_images(pixels[train.size:], dtype=dtype), labels[test].reshape(1, -1),
        tuple(d.name for d in class_folders), folder.resolve().name,
    )


def _image_files(class_folder: Path, readable: set[str]) -> list[Path]:
    """The files of a class folder Pillow can open by their extension, without hidden ones.

    Found by ``os.stat``: a named pipe, socket or device with an image's name is
    refused without being opened (reading a pipe would block).
    """
    files = []
    for p in listing(class_folder):
        if p.name.startswith(".") or p.suffix.lower() not in readable:
            continue
        kind = file_kind(p)
        if kind == OTHER:
            raise not_regular(p, "images")
        if kind == REGULAR:
            files.append(p)
    return files


def _pixel_limit(Image) -> tuple[int, str]:
    """The most pixels an image may have, and the setting that says so.

    xpnet's :data:`MAX_IMAGE_PIXELS`, or Pillow's ``Image.MAX_IMAGE_PIXELS`` where
    the caller set that lower. Pillow's is read, never set: it is the process's,
    and other threads read it too. Pillow warns of a decompression bomb past its
    own limit as it opens an image, and raises past twice that; an image within
    the limit here never makes it do either.
    """
    ours, theirs = _limits.MAX_IMAGE_PIXELS, Image.MAX_IMAGE_PIXELS
    if theirs is not None and theirs < ours:
        return theirs, "PIL.Image.MAX_IMAGE_PIXELS"
    return ours, "xpnet.data.MAX_IMAGE_PIXELS"


def _read_image(file: Path, width: int, height: int, limit: tuple[int, str], Image, ImageOps) -> np.ndarray:
    """One image file as (height, width, 3) uint8, or a DataFileError naming the file.

    ``Image.open`` reads the header only: the size is checked against ``limit``
    before any pixel is decoded. A truncated image is refused as Pillow refuses
    it, unless the caller set ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` for the
    process, which xpnet leaves as it is.
    """
    most, setting = limit
    try:
        with Image.open(file) as image:
            pixels = max(1, image.width) * max(1, image.height)  # as Pillow counts them
            if pixels > most:
                raise DataFileError(
                    f"{file} is {image.width}×{image.height} pixels, more than the {most:,} xpnet reads "
                    f"(a decompression bomb?): shrink it, or raise {setting}"
                )
            # Cameras store the orientation apart from the pixels; apply it so photos stand upright.
            upright = ImageOps.exif_transpose(image).convert("RGB")
            return np.asarray(upright.resize((width, height), Image.Resampling.BILINEAR))
    except DataFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit (or the caller's warnings filter turning its warning into an error).
        raise DataFileError(
            f"{file} is not a readable image: Pillow refuses it as larger than PIL.Image.MAX_IMAGE_PIXELS "
            f"({Image.MAX_IMAGE_PIXELS:,} pixels; a decompression bomb?): {exc}; shrink it, or raise that limit"
        ) from exc
    except MemoryError as exc:
        raise DataFileError(f"{file} is too large to decode in this machine's memory: shrink it") from exc
    except Exception as exc:  # OSError, SyntaxError, EOFError, struct.error, ... from a damaged file
        raise DataFileError(
            f"{file} is not a readable image ({exc}): remove it or replace it with a working copy"
        ) from exc
