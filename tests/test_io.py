"""Saving and loading models: safetensors files, no pickle, any backend to any backend."""

import json
import os

import numpy as np
import pytest

import xpnet
from xpnet import _backend
from xpnet.data import planar_flower
from xpnet.errors import DataError, DataFileError, NotFittedError
from xpnet.io import load, read_tensors, save, write_tensors

from conftest import asarray, assert_in_namespace, to_numpy

pytest.importorskip("safetensors", reason="saving models needs safetensors (xpnet[save])")


@pytest.fixture(scope="module")
def flower():
    return planar_flower(400, seed=1)


@pytest.fixture(scope="module")
def trained(flower):
    """A two-hidden-layer float64 network trained a little on NumPy."""
    net = xpnet.Network([2, 5, 3, 1], hidden=["tanh", "leaky_relu"], output="sigmoid",
                        init="he", seed=3, dtype="float64", leaky_slope=0.05)
    net.fit(*flower, iterations=50, learning_rate=0.5)
    return net


@pytest.fixture
def saved(tmp_path, trained):
    path = tmp_path / "model.safetensors"
    save(trained, path)
    return path


def rewrite(path, tensors=None, metadata=None):
    """Rewrite a saved model with some tensors or metadata entries replaced (None: removed)."""
    old_tensors, old_metadata = read_tensors(path)
    for name, value in (tensors or {}).items():
        if value is None:
            del old_tensors[name]
        else:
            old_tensors[name] = value
    for key, value in (metadata or {}).items():
        if value is None:
            del old_metadata[key]
        else:
            old_metadata[key] = value
    write_tensors(path, old_tensors, old_metadata)


def assert_refused(path, *words):
    with pytest.raises(DataFileError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


# -- round trips ------------------------------------------------------------------


def test_round_trip_on_numpy_gives_bit_identical_params_and_identical_predictions(saved, trained, flower):
    loaded = xpnet.load(saved)
    assert type(loaded) is xpnet.Network
    for (W0, b0), (W1, b1) in zip(trained.params, loaded.params):
        assert W1.dtype == W0.dtype and b1.dtype == b0.dtype
        assert W1.tobytes() == W0.tobytes() and b1.tobytes() == b0.tobytes()
    X = flower[0]
    np.testing.assert_array_equal(loaded.predict_proba(X), trained.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), trained.predict(X))


def test_network_trained_on_each_backend_saves_and_loads_on_numpy_with_equal_params(xp, tmp_path, flower):
    X, Y = (asarray(a, xp) for a in flower)
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(X, Y, iterations=20, learning_rate=1.2)
    save(net, tmp_path / "net.safetensors")
    loaded = load(tmp_path / "net.safetensors")
    for (W0, b0), (W1, b1) in zip(net.params, loaded.params):
        assert isinstance(W1, np.ndarray) and W1.dtype == np.float32
        np.testing.assert_array_equal(W1, to_numpy(W0))
        np.testing.assert_array_equal(b1, to_numpy(b0))


def test_numpy_saved_model_loads_into_each_backend(xp, saved, trained):
    name = _backend.backend_name(xp)
    loaded = load(saved, backend=name)
    for (W0, b0), (W1, b1) in zip(trained.params, loaded.params):
        assert_in_namespace(W1, xp)
        assert_in_namespace(b1, xp)
        assert _backend.backend_name(_backend.namespace(W1)) == name
        np.testing.assert_array_equal(to_numpy(W1), W0)
        np.testing.assert_array_equal(to_numpy(b1), b0)


def test_logistic_regression_round_trip_keeps_its_class(tmp_path, flower):
    X, Y = flower
    lr = xpnet.LogisticRegression(dtype="float64")
    lr.fit(X, Y, iterations=30, learning_rate=0.1)
    save(lr, tmp_path / "lr.safetensors")
    loaded = load(tmp_path / "lr.safetensors")
    assert type(loaded) is xpnet.LogisticRegression
    assert loaded.get_config() == lr.get_config()
    np.testing.assert_array_equal(loaded.predict_proba(X), lr.predict_proba(X))


def test_softmax_logistic_regression_round_trip_keeps_its_number_of_classes(tmp_path):
    rng = np.random.RandomState(0)
    X, Y = rng.randn(2, 60), rng.randint(0, 3, size=(1, 60))
    lr = xpnet.LogisticRegression(output="softmax")
    lr.fit(X, Y, iterations=10, learning_rate=0.1)
    save(lr, tmp_path / "softmax.safetensors")
    loaded = load(tmp_path / "softmax.safetensors")
    assert type(loaded) is xpnet.LogisticRegression
    assert tuple(loaded.layer_dims) == (2, 3)
    np.testing.assert_array_equal(loaded.predict(X), lr.predict(X))


def test_metadata_holds_architecture_activations_dtype_and_versions(saved):
    tensors, metadata = read_tensors(saved)
    assert sorted(tensors) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert metadata["format"] == "xpnet.model"
    assert metadata["format_version"] == "1"
    assert metadata["xpnet_version"] == xpnet.__version__
    assert metadata["class"] == "Network"
    assert metadata["dtype"] == "float64"
    config = json.loads(metadata["config"])
    assert config["layer_dims"] == [2, 5, 3, 1]
    assert config["hidden"] == ["tanh", "leaky_relu"]
    assert config["output"] == "sigmoid"
    assert config["leaky_slope"] == 0.05
    assert config["dtype"] == "float64"


# -- the write ------------------------------------------------------------------------


def test_write_is_atomic_when_the_replace_fails(monkeypatch, tmp_path, saved, trained):
    before = saved.read_bytes()
    other = xpnet.Network([2, 3, 1], seed=0)

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        save(other, saved)
    assert saved.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [saved.name]


def test_write_tensors_writes_strided_views_as_their_values(tmp_path):
    # safetensors copies raw memory: a transposed view must be made contiguous first.
    a = np.arange(6.0).reshape(2, 3)
    write_tensors(tmp_path / "t.safetensors", {"aT": a.T, "scalar": np.float64(7.0)}, {})
    tensors, metadata = read_tensors(tmp_path / "t.safetensors")
    np.testing.assert_array_equal(tensors["aT"], a.T)
    assert tensors["scalar"].shape == () and tensors["scalar"] == 7.0
    assert metadata == {}


def test_saved_file_gets_the_permissions_of_a_new_file(tmp_path, trained):
    if os.name != "posix":
        pytest.skip("permission bits are POSIX")
    umask = os.umask(0o022)
    os.umask(umask)
    save(trained, tmp_path / "model.safetensors")
    assert (tmp_path / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_before_the_sizes_are_known_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        save(xpnet.LogisticRegression(), tmp_path / "lr.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_non_finite_params(tmp_path):
    net = xpnet.Network([2, 3, 1], seed=0)
    (W1, b1), (W2, b2) = net.params
    W2 = W2.copy()
    W2[0, 1] = np.inf
    net.params = [(W1, b1), (W2, b2)]
    with pytest.raises(DataError, match="W2"):
        save(net, tmp_path / "net.safetensors")


# -- files refused --------------------------------------------------------------------


def test_missing_file_is_refused(tmp_path):
    assert_refused(tmp_path / "nothing.safetensors", "no such file")


def test_save_into_a_missing_folder_is_refused(tmp_path, trained):
    with pytest.raises(DataFileError, match="does not exist"):
        save(trained, tmp_path / "no" / "model.safetensors")


def test_random_bytes_file_is_refused(tmp_path):
    path = tmp_path / "random.safetensors"
    path.write_bytes(np.random.RandomState(0).bytes(4096))
    assert_refused(path, "not a valid safetensors file")


def test_truncated_file_is_refused(saved):
    saved.write_bytes(saved.read_bytes()[:-10])
    assert_refused(saved, "not a valid safetensors file")


def test_plain_safetensors_file_without_xpnet_metadata_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"W1": np.zeros((1, 2), np.float32), "b1": np.zeros((1, 1), np.float32)}, str(path))
    assert_refused(path, "not an xpnet model", "no xpnet metadata")


def test_wrong_shape_tensor_is_refused(saved):
    rewrite(saved, tensors={"b2": np.zeros((3, 2))})
    assert_refused(saved, "b2", "(3, 2)", "(3, 1)")


def test_wrong_dtype_tensor_is_refused(saved, trained):
    rewrite(saved, tensors={"W1": trained.params[0][0].astype(np.float32)})
    assert_refused(saved, "W1", "float32", "float64")


def test_nan_weight_is_refused(saved, trained):
    W = trained.params[1][0].copy()
    W[1, 2] = np.nan
    rewrite(saved, tensors={"W2": W})
    assert_refused(saved, "W2", "NaN")


def test_missing_tensor_is_refused(saved):
    rewrite(saved, tensors={"b3": None})
    assert_refused(saved, "b3", "missing")


def test_extra_tensor_is_refused(saved):
    rewrite(saved, tensors={"W4": np.zeros((1, 1))})
    assert_refused(saved, "unexpected", "W4")


def test_config_whose_layer_dims_disagree_with_the_tensors_is_refused(saved):
    _, metadata = read_tensors(saved)
    config = json.loads(metadata["config"])
    config["layer_dims"] = [2, 6, 3, 1]
    rewrite(saved, metadata={"config": json.dumps(config)})
    assert_refused(saved, "W1", "(5, 2)", "(6, 2)")


def test_unknown_format_version_is_refused(saved):
    rewrite(saved, metadata={"format_version": "2"})
    assert_refused(saved, "format_version '2'", "upgrade xpnet")


def test_unknown_class_is_refused(saved):
    rewrite(saved, metadata={"class": "Transformer"})
    assert_refused(saved, "unknown model class 'Transformer'")


def test_unparseable_config_is_refused(saved):
    rewrite(saved, metadata={"config": "{layer_dims: [2"})
    assert_refused(saved, "config is not valid JSON")


def test_config_with_an_unknown_activation_is_refused(saved):
    _, metadata = read_tensors(saved)
    config = json.loads(metadata["config"])
    config["hidden"] = ["tanh", "swish"]
    rewrite(saved, metadata={"config": json.dumps(config)})
    assert_refused(saved, "cannot build a Network", "swish")


def test_loading_a_named_pipe_is_refused_without_waiting_on_it(tmp_path):
    import os

    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(DataFileError, match="not a regular file"):
        load(fifo)


@pytest.mark.parametrize("path", [None, 5, "mo\0del.safetensors"])
def test_a_path_that_is_no_file_name_is_refused(path):
    with pytest.raises(DataFileError, match="path|NUL"):
        load(path)
