"""Any value of any type given to a setting of xpnet.data's public functions either works
or raises an XpnetError with a message: never a raw TypeError, ValueError, OverflowError,
MemoryError or NumPy warning from inside xpnet, and never a silently wrong result (property
tests, hypothesis; the estimators' settings are tests/test_settings.py's).

Each setting is given values of every kind (None, bools, small, negative and huge integers,
floats with NaN, ±inf and 1e308, text, bytes, lists, dicts, NumPy scalars, dtypes and
arrays, objects) while the others keep working values. What works is checked for sense:
finite X of the asked shape, one class per column of a one-hot array, and so on. Every run
is derandomized, so CI sees the same cases each time.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpnet
from xpnet import data

#: Values of every kind a user might pass by mistake. Integers are small or far beyond
#: memory (never in between: a draw of 10**8 examples would work, slowly).
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40),
    st.sampled_from([-1, -10**12, 10**12, 2**32, 2**63, 2**64, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.2, 0.5, 1.0, -0.5, 1e308, -1e308, 5e-324, float("nan"), float("inf")]),
    st.text(max_size=4), st.binary(max_size=3), st.lists(st.integers(-1, 3), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.sampled_from([np.float32, np.dtype("float64"), np.float64(0.5), np.float32(0.25), np.int64(2),
                     np.uint64(2**64 - 1), np.int8(-1), np.bool_(True), np.array(0.5), np.array([0.1]),
                     np.array([[1, 2]]), object(), len, (64, 64), [8, 8], (0, 3), "float32", "float64",
                     "flower", "moons", "spiral", "blobs", "a\0b", b"\0", "", "float16", "nan"]),
)

#: Arrays of every dtype and a few shapes: 0-d to 3-d, with NaN, ±inf, 1e308, 2**64 − 1.
ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint64, np.int8, np.bool_, np.uint8]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
ARRAY_LIKE = st.one_of(ODD, ARRAYS, st.lists(st.lists(st.floats(), max_size=3), max_size=3))

TRIES = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def works_or_says_so(call, name, check=None):
    """``call()``; an XpnetError with a message is an answer, anything else fails, and so does a
    result ``check`` finds wrong. NumPy's and Pillow's warnings fail too (as errors here)."""
    try:
        with warnings.catch_warnings():  # the test's own thread; xpnet never does this
            warnings.simplefilter("error")
            result = call()
    except xpnet.XpnetError as exc:
        assert str(exc), f"{name}: an empty message"
        return
    except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"{name}: {type(exc).__name__} escaped: {exc}")
    if check is not None:
        check(result)


def a_dataset(ds):
    assert isinstance(ds, data.Dataset)
    for X, Y in ((ds.X_train, ds.Y_train), (ds.X_test, ds.Y_test)):
        assert X.ndim == 2 and X.shape[1] == Y.shape[-1] > 0 and np.isfinite(X).all()
        assert X.dtype in (np.float32, np.float64) and X.flags.f_contiguous
        if Y.dtype == np.int64:
            assert Y.min() >= 0 and (not ds.classes or Y.max() < len(ds.classes))


def a_draw(result):
    X, Y = result
    assert X.shape[0] == 2 and X.shape[1] == Y.shape[1] > 0 and np.isfinite(X).all()
    assert Y.dtype == np.int64 and Y.min() >= 0


# -- files to load, written once ------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def files(tmp_path_factory):
    """An .npz file, an IDX folder, an image folder and a cat folder (where Pillow and h5py are
    installed); the tests run in an empty folder, so text given as a path names nothing."""
    root = tmp_path_factory.mktemp("data_settings")
    np.savez(root / "d.npz", X=np.arange(12.0).reshape(2, 6), Y=np.arange(6) % 2)
    idx = root / "idx"
    idx.mkdir()
    rng = np.random.RandomState(0)
    for name, array in (("train-images-idx3-ubyte", rng.randint(0, 256, (4, 3, 3))),
                        ("train-labels-idx1-ubyte", np.arange(4) % 2),
                        ("t10k-images-idx3-ubyte", rng.randint(0, 256, (2, 3, 3))),
                        ("t10k-labels-idx1-ubyte", np.arange(2) % 2)):
        array = np.asarray(array, dtype=np.uint8)
        header = (0x0800 | array.ndim).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
        (idx / name).write_bytes(header + array.tobytes())
    try:
        from PIL import Image
    except ImportError:
        pass
    else:
        for name in ("cat", "dog"):
            (root / "images" / name).mkdir(parents=True)
            for i in range(2):
                pixels = rng.randint(0, 256, (4, 5, 3)).astype(np.uint8)
                Image.fromarray(pixels).save(root / "images" / name / f"{i}.png")
    try:
        import h5py
    except ImportError:
        pass
    else:
        (root / "cat").mkdir()
        for split in ("train", "test"):
            with h5py.File(root / "cat" / f"{split}_catvnoncat.h5", "w") as f:
                f[f"{split}_set_x"] = rng.randint(0, 256, size=(2, 64, 64, 3)).astype(np.uint8)
                f[f"{split}_set_y"] = np.arange(2)
                f["list_classes"] = np.array([b"non-cat", b"cat"])
    empty = root / "cwd"
    empty.mkdir()
    before = os.getcwd()
    os.chdir(empty)
    FILES.update(root=root)
    yield root
    os.chdir(before)


FILES: dict = {}


def needs(folder):
    if not (FILES["root"] / folder).exists():
        pytest.skip(f"the {folder} folder needs {'Pillow' if folder == 'images' else 'h5py'}")
    return FILES["root"] / folder


# -- the loaders ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["spec", "seed", "test_fraction", "image_size", "dtype"])
@TRIES
@given(value=ODD)
def test_a_load_dataset_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"spec": "moons", name: value}
    works_or_says_so(lambda: data.load_dataset(kwargs.pop("spec"), **kwargs), name, a_dataset)


@pytest.mark.parametrize("name", ["path", "test_fraction", "seed", "max_bytes", "dtype"])
@TRIES
@given(value=ODD)
def test_a_load_npz_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"path": FILES["root"] / "d.npz", name: value}
    works_or_says_so(lambda: data.load_npz(kwargs.pop("path"), **kwargs), name, a_dataset)


@pytest.mark.parametrize("name", ["path", "key", "dtype", "n_x", "max_bytes"])
@TRIES
@given(value=ODD)
def test_a_read_npz_array_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"path": FILES["root"] / "d.npz", name: value}

    def sane(X):
        assert X.shape == (2, 6) and X.flags.f_contiguous and np.isfinite(X).all()

    works_or_says_so(lambda: data.read_npz_array(kwargs.pop("path"), **kwargs), name, sane)


@pytest.mark.parametrize("name", ["path", "dtype", "max_bytes"])
@TRIES
@given(value=ODD)
def test_a_load_idx_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"path": FILES["root"] / "idx", name: value}
    works_or_says_so(lambda: data.load_idx(kwargs.pop("path"), **kwargs), name, a_dataset)


@pytest.mark.parametrize("name", ["path", "size", "test_fraction", "seed", "dtype"])
@TRIES
@given(value=ODD)
def test_a_load_image_folder_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"path": needs("images"), name: value}
    if name == "size" and isinstance(value, int) and 64 < value < 10**5:
        return  # works, and slowly: four images resized to value × value
    works_or_says_so(lambda: data.load_image_folder(kwargs.pop("path"), **kwargs), name, a_dataset)


@pytest.mark.parametrize("name", ["path", "dtype"])
@TRIES
@given(value=ODD)
def test_a_load_catvnoncat_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"path": needs("cat"), name: value}
    if name == "path" and value is None:
        return  # None means $XPNET_DATA
    works_or_says_so(lambda: data.load_catvnoncat(kwargs.pop("path"), **kwargs), name, a_dataset)
    if name == "path":
        works_or_says_so(lambda: data.find_catvnoncat(value), name)


# -- the generated sets ---------------------------------------------------------------

DRAWS = {
    "planar_flower": (data.planar_flower, ["m", "seed", "noise"]),
    "spiral": (data.spiral, ["m", "classes", "seed", "noise"]),
    "moons": (data.moons, ["m", "seed", "noise"]),
    "blobs": (data.blobs, ["m", "classes", "seed", "spread"]),
}


@pytest.mark.parametrize("draw, name", [(d, n) for d, (_, names) in DRAWS.items() for n in names])
@TRIES
@given(value=ODD)
def test_a_generated_set_setting_of_any_value_works_or_is_refused(draw, name, value):
    works_or_says_so(lambda: DRAWS[draw][0](**{name: value}), f"{draw}({name}=)", a_draw)


@pytest.mark.parametrize("name", ["m", "seed", "dtype"])
@TRIES
@given(value=ODD)
def test_a_flower_dataset_setting_of_any_value_works_or_is_refused(name, value):
    works_or_says_so(lambda: data.flower_dataset(**{name: value}), name, a_dataset)


@TRIES
@given(classes=ODD)
def test_blob_centers_of_any_number_of_classes_work_or_are_refused(classes):
    def sane(centers):
        assert centers.shape == (2, classes) and np.isfinite(centers).all()

    works_or_says_so(lambda: data.blob_centers(classes), "classes", sane)


# -- preparing arrays -----------------------------------------------------------------

X10 = np.arange(20.0).reshape(2, 10)
Y10 = np.arange(10) % 2


@pytest.mark.parametrize("name", ["X", "Y", "test_fraction", "seed"])
@TRIES
@given(value=ARRAY_LIKE)
def test_a_train_test_split_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"X": X10, "Y": Y10, name: value}

    def sane(parts):
        X_train, Y_train, X_test, Y_test = parts
        assert X_train.shape[1] == Y_train.shape[-1] > 0 and X_test.shape[1] == Y_test.shape[-1] > 0

    works_or_says_so(lambda: data.train_test_split(kwargs.pop("X"), kwargs.pop("Y"), **kwargs), name, sane)


@pytest.mark.parametrize("name", ["ids", "K"])
@TRIES
@given(value=ARRAY_LIKE)
def test_a_one_hot_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"ids": [0, 2, 1], "K": None, name: value}

    def sane(Y):
        assert Y.dtype == np.float64 and Y.ndim == 2 and (Y.sum(axis=0) == 1).all()

    works_or_says_so(lambda: data.one_hot(kwargs["ids"], kwargs["K"]), name, sane)


@pytest.mark.parametrize("step", ["fit", "transform"])
@TRIES
@given(X=ARRAY_LIKE)
def test_standardizer_given_any_value_works_or_refuses_and_finite_input_gives_finite_output(step, X):
    scaler = data.Standardizer().fit(np.array([[0.0, 1.0, 5.0], [1e300, -1e300, 0.0]]))

    def sane(result):
        Z = result.transform(X) if step == "fit" else result
        assert Z.ndim == 2 and np.isfinite(Z).all()
        assert Z.dtype == (np.float32 if np.asarray(X).dtype == np.float32 else np.float64)

    if step == "fit":
        works_or_says_so(lambda: data.Standardizer().fit(X), "X", sane)
    else:
        works_or_says_so(lambda: scaler.transform(X), "X", sane)


@pytest.mark.parametrize("name", ["images", "dtype"])
@TRIES
@given(value=ARRAY_LIKE)
def test_a_flatten_images_setting_of_any_value_works_or_is_refused(name, value):
    kwargs = {"images": np.zeros((2, 3, 3, 3), np.uint8), name: value}

    def sane(X):
        assert X.ndim == 2 and X.flags.f_contiguous and np.isfinite(X).all() and (0 <= X).all() and (X <= 1).all()

    works_or_says_so(lambda: data.flatten_images(kwargs.pop("images"), **kwargs), name, sane)


@TRIES
@given(value=ODD)
def test_standardize_given_any_value_works_or_is_refused(value):
    works_or_says_so(lambda: data.standardize(value), "data")
