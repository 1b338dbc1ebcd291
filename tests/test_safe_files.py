"""Reading files is safe: no code runs, and a bad file is refused, never misread.

Each test writes one damaged or hostile file and checks that loading it raises
:class:`xpnet.errors.DataFileError` (an XpnetError and OSError) whose message
names the file and the problem: model files and checkpoints (safetensors),
.npz data, the course's h5 cat files and image folders.
"""

from __future__ import annotations

import json
import zipfile
import numpy as np
import pytest

import xpnet
from xpnet import _backend, checkpoint, data
from xpnet.errors import ConfigError, DataFileError, XpnetError
from xpnet.io import read_tensors, write_tensors
from xpnet.training import Plan


def refused(call, path, *fragments):
    """``call()`` raises a DataFileError naming ``path`` and holding each fragment; its message."""
    with pytest.raises(DataFileError) as info:
        call()
    message = str(info.value)
    assert isinstance(info.value, XpnetError) and isinstance(info.value, OSError)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def rewrite(path, tensors=None, metadata=None):
    """Rewrite a safetensors file with some tensors or metadata entries replaced (None: removed)."""
    old_tensors, old_metadata = read_tensors(path)
    for mapping, changes in ((old_tensors, tensors), (old_metadata, metadata)):
        for name, value in (changes or {}).items():
            if value is None:
                del mapping[name]
            else:
                mapping[name] = value
    write_tensors(path, old_tensors, old_metadata)


def split_safetensors(raw: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def join_safetensors(header, body: bytes) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


# -- model files ------------------------------------------------------------------

pytest.importorskip("safetensors", reason="model files and checkpoints need safetensors (xpnet[save])")


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.safetensors"
    xpnet.Network([2, 3, 1], hidden="tanh", seed=1, dtype="float64").save(path)
    return path


def test_model_with_an_oversized_header_length_is_refused_before_safetensors_reads_it(model_file):
    raw = model_file.read_bytes()
    model_file.write_bytes((200_000_000).to_bytes(8, "little") + raw[8:])
    refused(lambda: xpnet.load(model_file), model_file, "header length of 200000000 bytes", "more than")


def test_model_whose_header_length_is_longer_than_the_file_is_refused(model_file):
    raw = model_file.read_bytes()
    model_file.write_bytes((len(raw)).to_bytes(8, "little") + raw[8:])
    refused(lambda: xpnet.load(model_file), model_file, "longer than the file", "truncated")


def test_model_file_shorter_than_its_header_length_field_is_refused(model_file):
    model_file.write_bytes(b"\x10\x00\x00")
    refused(lambda: xpnet.load(model_file), model_file, "3 bytes", "fewer than the 8")


def test_model_header_with_data_offsets_past_the_end_is_refused(model_file):
    header, body = split_safetensors(model_file.read_bytes())
    header["W1"]["data_offsets"][1] = len(body) + 64
    model_file.write_bytes(join_safetensors(header, body))
    refused(lambda: xpnet.load(model_file), model_file, "'W1'", "past the end")


def test_model_header_naming_a_tensor_twice_is_refused(model_file):
    header, body = split_safetensors(model_file.read_bytes())
    text = json.dumps(header)
    w1 = json.dumps(header["W1"])
    doubled = text.replace('"W1": ' + w1, '"W1": ' + w1 + ', "W1": ' + w1, 1).encode()
    assert doubled != text.encode()
    model_file.write_bytes(join_safetensors(doubled, body))
    refused(lambda: xpnet.load(model_file), model_file, "names 'W1' twice")


def test_model_header_with_overlapping_tensors_is_refused(model_file):
    header, body = split_safetensors(model_file.read_bytes())
    header["b1"]["data_offsets"] = [0, header["b1"]["data_offsets"][1] - header["b1"]["data_offsets"][0]]
    model_file.write_bytes(join_safetensors(header, body))
    refused(lambda: xpnet.load(model_file), model_file, "overlap")


def test_model_header_whose_shape_disagrees_with_its_offsets_is_refused(model_file):
    header, body = split_safetensors(model_file.read_bytes())
    header["W1"]["shape"] = [30, 2]
    model_file.write_bytes(join_safetensors(header, body))
    refused(lambda: xpnet.load(model_file), model_file, "'W1'", "needs 480 bytes")


def test_model_header_that_is_not_json_is_refused(model_file):
    _, body = split_safetensors(model_file.read_bytes())
    model_file.write_bytes(join_safetensors(b'{"W1": {"dtype": "F64", ', body))
    refused(lambda: xpnet.load(model_file), model_file, "header is not valid JSON")


def test_model_tensor_of_a_dtype_numpy_cannot_hold_is_refused(model_file):
    header, body = split_safetensors(model_file.read_bytes())
    header["b2"]["dtype"] = "BF16"
    header["b2"]["shape"] = [1, 4]  # the same 8 bytes
    model_file.write_bytes(join_safetensors(header, body))
    refused(lambda: xpnet.load(model_file), model_file, "'BF16'", "NumPy cannot hold")


def test_model_config_nested_too_deeply_for_json_is_refused(model_file):
    rewrite(model_file, metadata={"config": "[" * 100_000 + "]" * 100_000})
    refused(lambda: xpnet.load(model_file), model_file, "config is not valid JSON")


def test_model_config_with_huge_layer_dims_is_refused_before_building_the_model(model_file):
    _, metadata = read_tensors(model_file)
    config = json.loads(metadata["config"])
    config["layer_dims"] = [2, 10**9, 1]  # building it would draw 2e9 weights
    rewrite(model_file, metadata={"config": json.dumps(config)})
    refused(lambda: xpnet.load(model_file), model_file, "W1 has shape (3, 2)", "(1000000000, 2)")


@pytest.mark.parametrize("setting", [{"hidden": {"tanh": 1}}, {"seed": [1]}, {"init_scale": "big"},
                                     {"keep_prob": None}, {"leaky_slope": {}}])
def test_model_config_with_settings_of_the_wrong_type_is_refused(model_file, setting):
    _, metadata = read_tensors(model_file)
    config = {**json.loads(metadata["config"]), **setting}
    rewrite(model_file, metadata={"config": json.dumps(config)})
    refused(lambda: xpnet.load(model_file), model_file, "cannot build a Network")


def test_model_whose_metadata_dtype_disagrees_with_its_config_is_refused(model_file):
    rewrite(model_file, metadata={"dtype": "float32"})
    refused(lambda: xpnet.load(model_file), model_file, "'float32' disagrees with the config's 'float64'")


def test_model_load_with_an_unknown_backend_is_the_callers_config_error(model_file):
    with pytest.raises(ConfigError):
        xpnet.load(model_file, backend="tensorflow")


# -- checkpoints ------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    """A checkpoint of an Adam fit with early stopping (so it holds best.* tensors too)."""
    path = tmp_path_factory.mktemp("ckpt") / "run.ckpt"
    X, Y = data.planar_flower(100, seed=1)
    X_val, Y_val = data.planar_flower(40, seed=2)
    net = xpnet.Network([2, 4, 1], hidden="tanh", seed=3, dtype="float64")
    net.fit(X, Y, epochs=3, batch_size=50, optimizer="adam", learning_rate=0.01,
            validation_data=(X_val, Y_val), early_stopping=5, checkpoint=path)
    return path.read_bytes()


@pytest.fixture
def ckpt(tmp_path, checkpoint_bytes):
    path = tmp_path / "run.ckpt"
    path.write_bytes(checkpoint_bytes)
    return path


@pytest.fixture(scope="module")
def context(checkpoint_bytes):
    """The config, optimizer name and plan of the fit that wrote the valid checkpoint."""
    metadata = split_safetensors(checkpoint_bytes)[0]["__metadata__"]
    return dict(config=json.loads(metadata["config"]), optimizer_name=metadata["optimizer"],
                plan=Plan(**json.loads(metadata["plan"])))


def load_checkpoint(path, context):
    """checkpoint.load as a fit with the valid checkpoint's settings calls it, on NumPy."""
    return checkpoint.load(path, **context, xp=_backend.namespace_by_name("numpy"))


def rewrite_json(path, key, change):
    """Rewrite the JSON metadata entry ``key`` of a checkpoint after ``change(value)`` changed it in place."""
    _, metadata = read_tensors(path)
    value = json.loads(metadata[key])
    change(value)
    rewrite(path, metadata={key: json.dumps(value)})


def test_valid_checkpoint_loads_with_its_tensors_history_and_rng(ckpt, context):
    state, rng = load_checkpoint(ckpt, context)
    assert state.epoch == 3 and len(state.history) == 3 and state.best_params is not None
    assert set(state.opt_state["slots"]) == {"v", "s"}
    np.random.default_rng().bit_generator.state = rng


def test_truncated_checkpoint_is_refused(ckpt, checkpoint_bytes, context):
    ckpt.write_bytes(checkpoint_bytes[: len(checkpoint_bytes) // 2])
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "not a valid safetensors file")


def test_checkpoint_with_a_wrong_shape_optimizer_slot_is_refused(ckpt, context):
    rewrite(ckpt, tensors={"opt.v.W1": np.zeros((4, 3))})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "opt.v.W1", "optimizer slot 'v'", "(4, 3)", "(4, 2)")


def test_checkpoint_with_a_wrong_shape_best_parameter_is_refused(ckpt, context):
    rewrite(ckpt, tensors={"best.b2": np.zeros((2, 1))})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "best.b2", "best parameters", "(2, 1)", "(1, 1)")


def test_checkpoint_tensor_of_another_dtype_than_its_config_is_refused(ckpt, context):
    tensors, _ = read_tensors(ckpt)
    rewrite(ckpt, tensors={"W2": tensors["W2"].astype(np.float32)})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "W2", "float32", "float64")


def test_checkpoint_with_nan_in_an_optimizer_slot_is_refused(ckpt, context):
    tensors, _ = read_tensors(ckpt)
    s = tensors["opt.s.W1"].copy()
    s[2, 1] = np.nan
    rewrite(ckpt, tensors={"opt.s.W1": s})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "opt.s.W1", "NaN or inf")


def test_checkpoint_missing_an_optimizer_slot_tensor_is_refused(ckpt, context):
    rewrite(ckpt, tensors={"opt.s.b1": None})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "lacks tensor 'opt.s.b1'")


def test_checkpoint_with_an_unexpected_tensor_is_refused(ckpt, context):
    rewrite(ckpt, tensors={"opt.m.W1": np.zeros((4, 2))})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "unexpected tensors opt.m.W1")


def test_checkpoint_listing_slots_its_optimizer_does_not_keep_is_refused(ckpt, context):
    rewrite(ckpt, metadata={"slots": json.dumps(["v"])})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "slots ['v']", "adam keeps ['s', 'v']")


@pytest.mark.parametrize("rng", [
    "PCG64",
    {"bit_generator": "MT19937", "state": {"key": [0] * 624, "pos": 0}},
    {"bit_generator": "PCG64", "state": {"state": "seven", "inc": 1}, "has_uint32": 0, "uinteger": 0},
    {"bit_generator": "PCG64", "state": {"state": -1, "inc": 1}, "has_uint32": 0, "uinteger": 0},
    {"bit_generator": "PCG64", "state": {"state": 1, "inc": 1}},
    {"bit_generator": "PCG64", "state": {"state": 1.5, "inc": 1}, "has_uint32": 0, "uinteger": 0},
], ids=["not-an-object", "another-generator", "text-state", "negative", "missing-keys", "fractional"])
def test_checkpoint_with_a_malformed_rng_state_is_refused(ckpt, rng, context):
    rewrite(ckpt, metadata={"rng": json.dumps(rng)})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "rng" if isinstance(rng, str) else "random generator state")


def test_fit_resuming_from_a_malformed_rng_state_raises_from_the_checkpoint_not_numpy(tmp_path):
    X, Y = data.planar_flower(100, seed=1)
    path = tmp_path / "run.ckpt"
    settings = dict(epochs=2, batch_size=50, optimizer="momentum")
    xpnet.Network([2, 4, 1], seed=3, dtype="float64").fit(X, Y, **settings, checkpoint=path)
    rewrite_json(path, "rng", lambda rng: rng.update(bit_generator="Philox"))
    refused(lambda: xpnet.Network([2, 4, 1], seed=3, dtype="float64").fit(X, Y, **settings, resume=path),
            path, "random generator state", "PCG64")


def test_checkpoint_history_lists_of_unequal_length_are_refused(ckpt, context):
    rewrite_json(ckpt, "history", lambda h: h["costs"].pop())
    refused(lambda: load_checkpoint(ckpt, context), ckpt, "different lengths", "costs 2", "iterations 3")


@pytest.mark.parametrize("change, fragment", [
    (lambda h: h.update(costs=["0.5", 0.4, 0.3]), "costs is not a list of finite numbers"),
    (lambda h: h.update(costs=[float("nan"), 0.4, 0.3]), "costs is not a list of finite numbers"),
    (lambda h: h.update(iterations=[0, -2, 4]), "iterations is not a list of whole numbers"),
    (lambda h: h.update(metrics=[1, 2]), "metrics are a JSON list"),
    (lambda h: h["metrics"].update(val_cost=[0.1, None, 0.3]), "metric 'val_cost' is not a list of numbers"),
    (lambda h: h.update(best=7), "best is 7"),
    (lambda h: h.update(stopped_early="no"), "stopped_early is 'no'"),
    (lambda h: h.update(momentum=1), "entries ['momentum']"),
], ids=["text-cost", "nan-cost", "negative-iteration", "metrics-list", "null-metric", "best-out-of-range",
        "stopped-early-text", "unknown-entry"])
def test_checkpoint_history_of_the_wrong_types_is_refused(ckpt, change, fragment, context):
    rewrite_json(ckpt, "history", change)
    refused(lambda: load_checkpoint(ckpt, context), ckpt, fragment)


@pytest.mark.parametrize("position, fragment", [
    ({"step": -1, "epoch": 3, "count": 6}, "step is -1"),
    ({"step": 6, "epoch": 3.0, "count": 6}, "epoch is 3.0"),
    ({"step": 6, "epoch": True, "count": 6}, "epoch is True"),
    ({"step": 6, "epoch": 3}, "expected count, epoch and step"),
    ({"step": 6, "epoch": 9, "count": 6}, "past the plan's 3 epochs"),
])
def test_checkpoint_position_of_the_wrong_types_is_refused(ckpt, position, fragment, context):
    rewrite(ckpt, metadata={"position": json.dumps(position)})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, fragment)


@pytest.mark.parametrize("stopping, fragment", [
    ({"best_val_cost": "low", "records_since_best": 0}, "best_val_cost is 'low'"),
    ({"best_val_cost": 0.5, "records_since_best": -1}, "records_since_best is -1"),
    ({"best_val_cost": None, "records_since_best": 0}, "best parameters are saved but no best val_cost"),
])
def test_checkpoint_early_stopping_of_the_wrong_types_is_refused(ckpt, stopping, fragment, context):
    rewrite(ckpt, metadata={"early_stopping": json.dumps(stopping)})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, fragment)


@pytest.mark.parametrize("key, value, fragment", [
    ("plan", "[1, 2]", "'plan' is a JSON list"),
    ("history", "{costs: [}", "'history' is not valid JSON"),
    ("position", None, "it has no 'position'"),
    ("optimizer", None, "it has no 'optimizer'"),
    ("slots", '"v"', "slots 'v' are not a list"),
])
def test_checkpoint_with_missing_or_malformed_metadata_is_refused(ckpt, key, value, fragment, context):
    rewrite(ckpt, metadata={key: value})
    refused(lambda: load_checkpoint(ckpt, context), ckpt, fragment)


def test_checkpoint_of_another_optimizer_is_still_a_config_error(ckpt, context):
    with pytest.raises(ConfigError, match="another optimizer"):
        load_checkpoint(ckpt, {**context, "optimizer_name": "rmsprop"})


# -- .npz files -------------------------------------------------------------------


def savez(path, **arrays):
    np.savez_compressed(path, **{"X": np.zeros((2, 10)), "Y": np.arange(10) % 2, **arrays})
    return path


def test_npz_that_expands_past_max_bytes_is_refused_before_decompressing(tmp_path, monkeypatch):
    path = savez(tmp_path / "bomb.npz", X=np.zeros((2, 1000)))  # 16 kB of zeros, a few dozen bytes zipped
    assert path.stat().st_size < 1000

    def no_decompressing(*args, **kwargs):
        raise AssertionError("the archive was decompressed")

    monkeypatch.setattr(np.lib.format, "read_array", no_decompressing)
    refused(lambda: data.load_npz(path, max_bytes=4096), path, "expands to more than 4096 bytes", "max_bytes=")


def test_npz_limit_defaults_to_the_module_constant(tmp_path, monkeypatch):
    path = savez(tmp_path / "bomb.npz")
    monkeypatch.setattr(data, "MAX_NPZ_BYTES", 100)
    refused(lambda: data.load_npz(path), path, "more than 100 bytes")
    assert data.load_npz(path, max_bytes=10**6).X_train.shape[0] == 2


def test_npz_member_compressed_more_than_1000_to_1_is_refused(tmp_path):
    path = savez(tmp_path / "bomb.npz", X=np.zeros((2, 600_000)))  # 9.6 MB of zeros: deflate gets ~1030:1
    refused(lambda: data.load_npz(path), path, "X expands from", "more than 1000 to 1")


def test_corrupted_zip_data_is_refused(tmp_path):
    path = savez(tmp_path / "d.npz", X=np.random.RandomState(0).rand(2, 10))
    raw = bytearray(path.read_bytes())
    start = raw.index(b"X.npy") + 40  # inside X's compressed data
    raw[start:start + 16] = bytes(16)
    path.write_bytes(bytes(raw))
    refused(lambda: data.load_npz(path), path, "X cannot be read", "write the file again")


def test_truncated_zip_is_refused(tmp_path):
    path = savez(tmp_path / "d.npz")
    path.write_bytes(path.read_bytes()[:-30])  # the end of the central directory is gone
    refused(lambda: data.load_npz(path), path, "not a readable .npz file")


class PickleBomb:
    """Unpickling it creates the file ``sentinel``: any sign that it was unpickled."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def test_npz_pickle_bomb_is_refused_without_unpickling(tmp_path):
    sentinel = tmp_path / "the bomb went off"
    path = tmp_path / "bomb.npz"
    np.savez(path, X=np.array([PickleBomb(sentinel), 1.0], dtype=object), Y=np.zeros(2))
    refused(lambda: data.load_npz(path), path, "X is an array of Python objects", "unpickling")
    assert not sentinel.exists()
    # The bomb is live: numpy with pickle allowed sets it off.
    with np.load(path, allow_pickle=True) as archive:
        archive["X"][0].close()  # the file object the unpickling opened
    assert sentinel.exists()


def test_npz_member_compressed_with_another_method_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as archive:
        for key, a in (("X", np.zeros((2, 4))), ("Y", np.zeros(4))):
            with archive.open(f"{key}.npy", "w") as f:
                np.lib.format.write_array(f, a)
    refused(lambda: data.load_npz(path), path, "zip method 12", "stored or deflated")


def test_npz_naming_an_array_twice_is_refused(tmp_path):
    path = savez(tmp_path / "d.npz")
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as archive:
        with archive.open("X.npy", "w") as f:
            np.lib.format.write_array(f, np.ones((2, 10)))
    refused(lambda: data.load_npz(path), path, "holds X twice")


def test_npz_array_whose_header_claims_more_data_than_it_holds_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 100_000)}  # 80 GB
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("X.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, header)
            f.write(bytes(160))
        with archive.open("Y.npy", "w") as f:
            np.lib.format.write_array(f, np.zeros(10))
    refused(lambda: data.load_npz(path), path, "X declares shape (100000, 100000)", "holds 160 bytes")


def test_npz_member_that_is_not_an_npy_array_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", b"1,2,3\n4,5,6\n")
        archive.writestr("Y.npy", b"0,1,0\n")
    refused(lambda: data.load_npz(path), path, "X is not a NumPy array")


# -- the course's h5 cat files ----------------------------------------------------


def write_cat_file(folder, split="train", *, x=None, y=None, classes=None, drop=()):
    h5py = pytest.importorskip("h5py")
    m = 3
    arrays = {
        f"{split}_set_x": np.random.RandomState(0).randint(0, 256, size=(m, 64, 64, 3)).astype(np.uint8)
        if x is None else x,
        f"{split}_set_y": np.arange(m) % 2 if y is None else y,
        "list_classes": np.array([b"non-cat", b"cat"]) if classes is None else classes,
    }
    path = folder / f"{split}_catvnoncat.h5"
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            if key not in drop:
                f[key] = value
    return path


@pytest.fixture
def cat_folder(tmp_path):
    write_cat_file(tmp_path, "train")
    write_cat_file(tmp_path, "test")
    assert data.load_catvnoncat(tmp_path).X_train.shape == (12288, 3)
    return tmp_path


@pytest.mark.parametrize("x, fragment", [
    (np.zeros((3, 32, 32, 3), np.uint8), "train_set_x has shape (3, 32, 32, 3), expected (m, 64, 64, 3)"),
    (np.zeros((3, 64, 64), np.uint8), "expected (m, 64, 64, 3)"),
    (np.zeros((3, 64, 64, 3)), "train_set_x has dtype float64, expected uint8"),
    (np.full((3, 64, 64, 3), 300, np.int16), "values outside 0..255"),
    (np.zeros((0, 64, 64, 3), np.uint8), "holds no images"),
], ids=["small-images", "no-channels", "float-pixels", "pixels-over-255", "empty"])
def test_cat_file_with_images_of_the_wrong_shape_or_dtype_is_refused(cat_folder, x, fragment):
    path = write_cat_file(cat_folder, x=x, y=np.zeros(len(x), np.int64))
    refused(lambda: data.load_catvnoncat(cat_folder), path, fragment)


@pytest.mark.parametrize("y, fragment", [
    (np.array([0, 1, 2]), "labels other than 0 and 1, e.g. 2"),
    (np.array([0.0, 1.0, np.nan]), "labels other than 0 and 1"),
    (np.array([0, 1]), "holds 3 images but train_set_y holds 2 labels"),
    (np.zeros((3, 2)), "train_set_y has shape (3, 2), expected (m,)"),
    (np.array([b"cat", b"dog", b"eel"]), "train_set_y has dtype |S3"),
], ids=["label-2", "nan-label", "fewer-labels", "two-columns", "text-labels"])
def test_cat_file_with_wrong_labels_is_refused(cat_folder, y, fragment):
    path = write_cat_file(cat_folder, y=y)
    refused(lambda: data.load_catvnoncat(cat_folder), path, fragment)


def test_cat_file_missing_an_array_is_refused(cat_folder):
    path = write_cat_file(cat_folder, "test", drop=("test_set_y",))
    refused(lambda: data.load_catvnoncat(cat_folder), path, "no 'test_set_y'")


def test_cat_file_with_a_group_where_an_array_belongs_is_refused(cat_folder):
    h5py = pytest.importorskip("h5py")
    path = write_cat_file(cat_folder, drop=("train_set_x",))
    with h5py.File(path, "a") as f:
        f.create_group("train_set_x")
    refused(lambda: data.load_catvnoncat(cat_folder), path, "'train_set_x' is a group")


def test_cat_file_whose_class_names_are_not_text_is_refused(cat_folder):
    path = write_cat_file(cat_folder, classes=np.array([0, 1]))
    refused(lambda: data.load_catvnoncat(cat_folder), path, "list_classes is not a list of class names")


def test_truncated_cat_file_is_refused(cat_folder):
    path = cat_folder / "train_catvnoncat.h5"
    path.write_bytes(path.read_bytes()[:20_000])
    refused(lambda: data.load_catvnoncat(cat_folder), path, "not a readable cat data file")


# -- image folders ----------------------------------------------------------------


def image_folder(root, *, size=(16, 16)):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.RandomState(0)
    for name in ("cat", "dog"):
        (root / name).mkdir()
        for i in range(2):
            Image.fromarray(rng.randint(0, 256, size=(*size[::-1], 3)).astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def test_truncated_png_is_refused_naming_the_file(tmp_path):
    folder = image_folder(tmp_path)
    path = folder / "dog" / "1.png"
    path.write_bytes(path.read_bytes()[:300])
    refused(lambda: data.load_image_folder(folder), path, "is not a readable image")


def test_image_folder_leaves_pillows_load_truncated_images_as_the_caller_set_it(tmp_path, monkeypatch):
    # ImageFile.LOAD_TRUNCATED_IMAGES is one switch for the whole process, with no scoped
    # form: xpnet neither sets nor resets it (other threads read it too). Where the caller
    # switched it on, Pillow fills a truncated image in, as the caller asked; where not
    # (the default), the truncated image is refused (the test above).
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    folder = image_folder(tmp_path)
    path = folder / "cat" / "0.png"
    path.write_bytes(path.read_bytes()[:300])
    ds = data.load_image_folder(folder, size=(4, 4))
    assert ds.X_train.shape[1] + ds.X_test.shape[1] == 4
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_png_with_damaged_pixel_data_is_refused(tmp_path):
    folder = image_folder(tmp_path)
    path = folder / "cat" / "1.png"
    raw = bytearray(path.read_bytes())
    start = raw.index(b"IDAT") + 20
    raw[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(raw))
    refused(lambda: data.load_image_folder(folder), path, "is not a readable image")


@pytest.mark.parametrize("size", [(12, 12), (40, 40)], ids=["over-the-limit-warning", "over-twice-the-limit-error"])
def test_image_over_the_pixel_limit_is_refused_as_a_decompression_bomb(tmp_path, monkeypatch, size):
    from PIL import Image

    before = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(data, "MAX_IMAGE_PIXELS", 100)  # Pillow warns past 100 pixels, raises past 200
    folder = image_folder(tmp_path, size=size)
    message = refused(lambda: data.load_image_folder(folder), folder / "cat" / "0.png", "100")
    assert "decompression bomb" in message.lower()
    assert Image.MAX_IMAGE_PIXELS == before  # Pillow's setting is put back


def test_image_folder_still_reads_images_within_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_IMAGE_PIXELS", 256)
    assert data.load_image_folder(image_folder(tmp_path), size=(4, 4)).X_train.shape == (48, 2)


def test_xpnets_pixel_limit_is_at_most_pillows_default_so_no_image_within_it_makes_pillow_warn():
    # Pillow warns of a decompression bomb as it opens an image of more than its
    # Image.MAX_IMAGE_PIXELS pixels (89,478,485 by default). xpnet never changes that
    # setting, so its own limit must not lie above it.
    from PIL import Image

    assert data.MAX_IMAGE_PIXELS <= 89_478_485 == Image.MAX_IMAGE_PIXELS


def test_image_folders_loaded_from_four_threads_at_once_leave_pillow_and_the_warnings_filters_alone(tmp_path):
    import threading
    import warnings

    from PIL import Image, ImageFile

    folders = [tmp_path / f"set{i}" for i in range(4)]
    for f in folders:
        f.mkdir()
        image_folder(f, size=(24, 16))
    for f in folders[:2]:  # an image larger than the rest, still far within the limit
        Image.fromarray(np.zeros((300, 200, 3), np.uint8)).save(f / "cat" / "big.png")
    pixels, truncated, filters = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters)
    seen, results, errors = set(), {}, []
    start = threading.Barrier(4)

    def load(i):
        try:
            start.wait()
            for _ in range(5):
                seen.add((Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, len(warnings.filters)))
                results[i] = data.load_image_folder(folders[i], size=(8, 8), seed=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(results) == [0, 1, 2, 3]
    assert all(r.X_train.shape[1] + r.X_test.shape[1] == (5 if i < 2 else 4) for i, r in results.items())
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == (pixels, truncated)
    assert warnings.filters == filters
    assert seen == {(pixels, truncated, len(filters))}


# -- named pipes and other files that are not regular ---------------------------


def refused_unopened(call, fifo, *fragments):
    """``call()`` refuses ``fifo`` (a named pipe) without opening it: a reader that opened it
    would block until a writer came, so one comes after a few seconds to end the wait."""
    import os
    import threading

    outcome = {}

    def run():
        try:
            call()
            outcome["returned"] = True
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome["raised"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():  # blocked opening the pipe: let it through, then fail
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(timeout=20)
        pytest.fail(f"{fifo} was opened for reading (the call blocked)")
    exc = outcome.get("raised")
    assert isinstance(exc, DataFileError), outcome
    message = str(exc)
    assert str(fifo) in message and "not a regular file" in message, message
    for fragment in fragments:
        assert fragment in message, message


fifos = pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes need os.mkfifo")


@fifos
def test_npz_that_is_a_named_pipe_is_refused_unopened(tmp_path):
    import os

    os.mkfifo(tmp_path / "d.npz")
    refused_unopened(lambda: data.load_npz(tmp_path / "d.npz"), tmp_path / "d.npz")
    refused_unopened(lambda: data.load_dataset(str(tmp_path / "d.npz")), tmp_path / "d.npz")


@fifos
def test_load_dataset_refuses_a_named_pipe_unopened(tmp_path):
    import os

    os.mkfifo(tmp_path / "stream")
    refused_unopened(lambda: data.load_dataset(tmp_path / "stream"), tmp_path / "stream")


@fifos
def test_idx_file_that_is_a_named_pipe_is_refused_unopened(tmp_path):
    import os

    os.mkfifo(tmp_path / "train-labels-idx1-ubyte")
    for loader in (data.load_idx, data.load_dataset):
        refused_unopened(lambda: loader(tmp_path), tmp_path / "train-labels-idx1-ubyte")


@fifos
def test_cat_file_that_is_a_named_pipe_is_refused_unopened(tmp_path):
    import os

    (tmp_path / "train_catvnoncat.h5").write_bytes(b"")
    os.mkfifo(tmp_path / "test_catvnoncat.h5")
    for loader in (data.load_catvnoncat, data.load_dataset):
        refused_unopened(lambda: loader(tmp_path), tmp_path / "test_catvnoncat.h5")


@fifos
def test_image_that_is_a_named_pipe_is_refused_unopened(tmp_path):
    import os

    folder = image_folder(tmp_path)
    os.mkfifo(folder / "dog" / "2.png")
    refused_unopened(lambda: data.load_image_folder(folder), folder / "dog" / "2.png", "images")
