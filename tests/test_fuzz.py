"""Fuzzing the loaders: any bytes either load or raise an XpnetError, nothing else.

(a) random bytes given to ``xpnet.load``, ``checkpoint.load`` and ``data.load_npz``;
(b) valid files (a saved model, a checkpoint, .npz files, a cat h5 file, MNIST's
IDX files raw and gzipped), written
once per module, with bytes flipped, set, inserted or deleted, digits changed
(which keeps JSON headers parseable and so reaches the checks behind them) and
tails cut off.

A file that loads must also be sane (finite parameters of the config's shapes,
X and Y of one m, ...): "loaded" never means "silently misread". Every run is
derandomized, so CI sees the same cases each time. How many files each target
was given and how each was answered is printed in pytest's closing summary
(``pytest_terminal_summary`` in conftest.py), not by a test.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpnet
from xpnet import _backend, checkpoint, data
from xpnet.errors import XpnetError
from xpnet.training import Plan

pytest.importorskip("safetensors", reason="model files and checkpoints need safetensors (xpnet[save])")

#: How each fuzzed file was answered, per target: "loaded" or the XpnetError's class name.
OUTCOMES: dict[str, Counter] = {}

RANDOM = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
MUTATED = settings(max_examples=600, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])


def attempt(target: str, load, check=None) -> None:
    """``load()``; an XpnetError is an answer, any other exception fails the test."""
    counts = OUTCOMES.setdefault(target, Counter())
    try:
        result = load()
    except XpnetError as exc:
        counts[type(exc).__name__] += 1
        return
    counts["loaded"] += 1
    if check is not None:
        check(result)


# -- mutations --------------------------------------------------------------------

OPS = ("flip", "set", "insert", "delete", "digit", "truncate")


def mutations(focus: int):
    """Lists of (op, position, value); half the positions fall in the first ``focus`` bytes (the headers)."""
    position = st.one_of(st.integers(0, max(focus - 1, 0)), st.integers(0, 2**24))
    return st.lists(st.tuples(st.sampled_from(OPS), position, st.integers(0, 255)), min_size=1, max_size=4)


def mutate(raw: bytes, ops) -> bytes:
    b = bytearray(raw)
    for op, where, value in ops:
        if not b:
            b = bytearray([value])
            continue
        i = where % len(b)
        if op == "flip":
            b[i] ^= 1 << (value % 8)
        elif op == "set":
            b[i] = value
        elif op == "insert":
            b[i:i] = bytes([value])
        elif op == "delete":
            del b[i]
        elif op == "digit":  # the next digit from i on becomes another: JSON stays JSON
            j = next((k for k in range(i, min(i + 64, len(b))) if 0x30 <= b[k] <= 0x39), None)
            if j is not None:
                b[j] = 0x30 + value % 10
        else:
            del b[i:]
    return bytes(b)


def header_end(raw: bytes) -> int:
    """Where a safetensors file's JSON header ends."""
    return 8 + int.from_bytes(raw[:8], "little")


def canonical(raw: bytes) -> bytes:
    """A safetensors file with its header's names sorted.

    safetensors writes them in a hash map's order, which changes from run to
    run; sorted, the same mutations hit the same bytes in every run.
    """
    header = json.loads(raw[8:header_end(raw)])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + raw[header_end(raw):]


# -- the valid files, and what "loaded" must mean ---------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def model_bytes(folder):
    path = folder / "valid.safetensors"
    net = xpnet.Network([3, 4, 2, 1], hidden="relu", seed=1, dtype="float32")
    net.fit(np.random.RandomState(0).rand(3, 20), np.arange(20).reshape(1, -1) % 2, iterations=3)
    net.save(path)
    raw = canonical(path.read_bytes())
    path.write_bytes(raw)
    xpnet.load(path)  # still valid
    return raw


def sane_model(net) -> None:
    dims = list(net.layer_dims)
    for l, (W, b) in enumerate(net.params, start=1):
        W, b = np.asarray(W), np.asarray(b)
        assert W.shape == (dims[l], dims[l - 1]) and b.shape == (dims[l], 1)
        assert np.isfinite(W).all() and np.isfinite(b).all()


@pytest.fixture(scope="module")
def checkpoint_file(folder):
    """(bytes of a valid checkpoint of an Adam fit with early stopping, the fit's settings)."""
    path = folder / "valid.ckpt"
    X, Y = data.planar_flower(60, seed=1)
    X_val, Y_val = data.planar_flower(20, seed=2)
    net = xpnet.Network([2, 3, 1], hidden="tanh", seed=3, dtype="float64")
    net.fit(X, Y, epochs=2, batch_size=30, optimizer="adam", validation_data=(X_val, Y_val),
            early_stopping=4, checkpoint=path)
    raw = canonical(path.read_bytes())
    path.write_bytes(raw)
    metadata = json.loads(raw[8:header_end(raw)])["__metadata__"]
    context = dict(config=json.loads(metadata["config"]), optimizer_name=metadata["optimizer"],
                   plan=Plan(**json.loads(metadata["plan"])))
    load_checkpoint(path, context)  # still valid
    return raw, context


def load_checkpoint(path, context):
    """checkpoint.load with a fixed config, optimizer and plan (those of the valid checkpoint)."""
    return checkpoint.load(path, **context, xp=_backend.namespace_by_name("numpy"))


def sane_checkpoint(result) -> None:
    state, rng = result
    lengths = {len(state.history.costs), len(state.history.iterations),
               *(len(v) for v in state.history.metrics.values())}
    assert len(lengths) == 1
    np.random.default_rng().bit_generator.state = rng
    for W, b in state.params:
        assert np.isfinite(np.asarray(W)).all() and np.isfinite(np.asarray(b)).all()


@pytest.fixture(scope="module")
def npz_files(folder):
    """Valid .npz files, stored (as numpy.savez writes them) and deflated (numpy.savez_compressed).

    Written member by member as numpy does, but with a fixed timestamp, so the
    bytes (and what the mutations hit) are the same in every run.
    """
    rng = np.random.RandomState(0)
    arrays = dict(X_train=rng.rand(3, 12), Y_train=np.arange(12) % 2, X_test=rng.rand(3, 5),
                  Y_test=np.arange(5) % 2, classes=np.array(["no", "yes"]))
    files = []
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = folder / f"valid_{compression}.npz"
        with zipfile.ZipFile(path, "w") as archive:
            for key, a in arrays.items():
                info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = compression
                with archive.open(info, "w") as f:
                    np.lib.format.write_array(f, a)
        data.load_npz(path)  # valid
        files.append(path.read_bytes())
    return files


def sane_dataset(ds) -> None:
    for X, Y in ((ds.X_train, ds.Y_train), (ds.X_test, ds.Y_test)):
        assert X.ndim == 2 and Y.ndim == 2 and X.shape[1] == Y.shape[1] >= 1
        assert np.isfinite(X).all() and np.isfinite(Y).all()
    assert ds.X_train.shape[0] == ds.X_test.shape[0]
    if ds.Y_train.dtype == np.int64:  # class ids: whole, from 0, each one named
        ids = np.concatenate([ds.Y_train, ds.Y_test], axis=1)
        assert ids.min() >= 0 and ids.max() < len(ds.classes) <= data.MAX_CLASSES


@pytest.fixture(scope="module")
def cat_folder(folder):
    """A folder with valid cat files (4 and 2 images); returns it and the train file's bytes."""
    h5py = pytest.importorskip("h5py")
    cats = folder / "cats"
    cats.mkdir()
    rng = np.random.RandomState(0)
    for split, m in (("train", 4), ("test", 2)):
        with h5py.File(cats / f"{split}_catvnoncat.h5", "w") as f:
            f[f"{split}_set_x"] = rng.randint(0, 256, size=(m, 64, 64, 3)).astype(np.uint8)
            f[f"{split}_set_y"] = np.arange(m) % 2
            f["list_classes"] = np.array([b"non-cat", b"cat"])
    return cats, (cats / "train_catvnoncat.h5").read_bytes()


def sane_cats(ds) -> None:
    sane_dataset(ds)
    assert ds.X_train.shape[0] == 12288 and 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    assert set(np.unique(ds.Y_train)) <= {0, 1}


IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(scope="module")
def idx_folders(folder):
    """Folders of valid IDX files (6 and 3 images of 4×3 pixels), raw and gzipped: [(folder, {name: bytes})]."""
    rng = np.random.RandomState(0)
    arrays = [rng.randint(0, 256, size=(6, 4, 3)), np.arange(6) % 10,
              rng.randint(0, 256, size=(3, 4, 3)), np.arange(3) % 10]
    folders = []
    for gz in (False, True):
        where = folder / ("idx_gz" if gz else "idx")
        where.mkdir()
        files = {}
        for name, a in zip(IDX_NAMES, arrays):
            a = a.astype(np.uint8)
            raw = (0x0800 | a.ndim).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in a.shape) + a.tobytes()
            name += ".gz" if gz else ""
            files[name] = gzip.compress(raw, mtime=0) if gz else raw
            (where / name).write_bytes(files[name])
        data.load_idx(where)  # valid
        folders.append((where, files))
    return folders


def sane_idx(ds) -> None:
    sane_dataset(ds)
    assert ds.X_train.shape[0] == 12 and 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    assert ds.Y_train.dtype == np.int64 and 0 <= ds.Y_train.min() and ds.Y_train.max() < 256


# -- (a) random bytes -------------------------------------------------------------

MAGIC = {"model": b"", "checkpoint": b"", "npz": b"PK\x03\x04"}


def random_files(magic: bytes):
    """Random bytes, and random bytes after the format's magic (so they get past the first check)."""
    return st.one_of(st.binary(max_size=2048), st.binary(max_size=2048).map(lambda tail: magic + tail),
                     st.tuples(st.integers(0, 600), st.binary(max_size=600)).map(
                         lambda t: t[0].to_bytes(8, "little") + t[1]))


@RANDOM
@given(raw=random_files(b"\x40\x00\x00\x00\x00\x00\x00\x00{"))
def test_random_bytes_as_a_model_file_load_or_raise_an_xpnet_error(folder, raw):
    path = folder / "random.safetensors"
    path.write_bytes(raw)
    attempt("model (random bytes)", lambda: xpnet.load(path), sane_model)


@RANDOM
@given(raw=random_files(b"\x40\x00\x00\x00\x00\x00\x00\x00{"))
def test_random_bytes_as_a_checkpoint_load_or_raise_an_xpnet_error(folder, checkpoint_file, raw):
    path = folder / "random.ckpt"
    path.write_bytes(raw)
    attempt("checkpoint (random bytes)", lambda: load_checkpoint(path, checkpoint_file[1]), sane_checkpoint)


@RANDOM
@given(raw=random_files(b"PK\x03\x04"))
def test_random_bytes_as_an_npz_file_load_or_raise_an_xpnet_error(folder, raw):
    path = folder / "random.npz"
    path.write_bytes(raw)
    attempt("npz (random bytes)", lambda: data.load_npz(path), sane_dataset)


LABEL_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.uint64, np.uint32,
                np.uint8, np.bool_]


@RANDOM
@given(Y=st.one_of(hnp.arrays(st.sampled_from(LABEL_DTYPES), 6),
                   hnp.arrays(st.sampled_from(LABEL_DTYPES[:-1]), 6, elements=st.integers(0, 5)),
                   hnp.arrays(np.float64, 6, elements=st.sampled_from([0.0, 1.0, 2.0, 1e300, 2.0**63, -0.0]))),
       names=st.one_of(st.none(), st.lists(st.text(st.characters(exclude_characters="\0"), max_size=3),
                                           max_size=6)))
def test_npz_labels_of_any_dtype_and_value_load_unwrapped_or_raise_an_xpnet_error(folder, Y, names):
    """The ids are the labels as saved, never wrapped by the int64 conversion (1e300, 2**64 - 1),
    and the classes name each of them. (No NUL in the names: NumPy's str arrays drop trailing ones.)"""
    path = folder / "labels.npz"
    arrays = dict(X=np.zeros((2, 6)), Y=Y) | ({} if names is None else {"classes": np.array(names, dtype=str)})
    np.savez(path, **arrays)

    def same_labels(ds):
        sane_dataset(ds)
        if ds.Y_train.dtype == np.int64:
            got = sorted(np.concatenate([ds.Y_train, ds.Y_test], axis=1).ravel().tolist())
            assert got == sorted(int(v) for v in Y.tolist()), (got, Y)
            assert names is None or ds.classes == tuple(names)

    attempt("npz (labels)", lambda: data.load_npz(path), same_labels)


# -- (b) mutated valid files ------------------------------------------------------


@MUTATED
@given(ops=st.data())
def test_mutated_model_file_loads_or_raises_an_xpnet_error(folder, model_bytes, ops):
    path = folder / "mutated.safetensors"
    path.write_bytes(mutate(model_bytes, ops.draw(mutations(header_end(model_bytes)))))
    attempt("model (mutated)", lambda: xpnet.load(path), sane_model)


@MUTATED
@given(ops=st.data())
def test_mutated_checkpoint_loads_or_raises_an_xpnet_error(folder, checkpoint_file, ops):
    raw, context = checkpoint_file
    path = folder / "mutated.ckpt"
    path.write_bytes(mutate(raw, ops.draw(mutations(header_end(raw)))))
    attempt("checkpoint (mutated)", lambda: load_checkpoint(path, context), sane_checkpoint)


@MUTATED
@given(which=st.sampled_from([0, 1]), ops=st.data())
def test_mutated_npz_file_loads_or_raises_an_xpnet_error(folder, npz_files, which, ops):
    raw = npz_files[which]
    path = folder / "mutated.npz"
    path.write_bytes(mutate(raw, ops.draw(mutations(len(raw)))))
    attempt("npz (mutated)", lambda: data.load_npz(path), sane_dataset)


@MUTATED
@given(ops=st.data())
def test_mutated_cat_h5_file_loads_or_raises_an_xpnet_error(cat_folder, ops):
    cats, raw = cat_folder
    path = cats / "train_catvnoncat.h5"
    try:
        path.write_bytes(mutate(raw, ops.draw(mutations(4096))))
        attempt("h5 (mutated)", lambda: data.load_catvnoncat(cats), sane_cats)
    finally:
        path.write_bytes(raw)


@MUTATED
@given(which=st.sampled_from([0, 1]), name=st.sampled_from(IDX_NAMES), ops=st.data())
def test_mutated_idx_file_loads_or_raises_an_xpnet_error(idx_folders, which, name, ops):
    where, files = idx_folders[which]
    name += ".gz" if which else ""
    path, raw = where / name, files[name]
    try:
        path.write_bytes(mutate(raw, ops.draw(mutations(16))))
        attempt("idx (mutated)", lambda: data.load_idx(where), sane_idx)
    finally:
        path.write_bytes(raw)
