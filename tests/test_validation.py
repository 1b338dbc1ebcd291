"""Bad input is refused at the boundary with a message that names the problem and the fix."""

import numpy as np
import pytest

import xpnet
from xpnet import ConfigError, DataError, ShapeError

from conftest import asarray

rng = np.random.RandomState(0)
X_GOOD = rng.randn(3, 10)
Y_GOOD = rng.randint(0, 2, size=(1, 10))


def net(**kwargs):
    return xpnet.Network([3, 4, 1], seed=0, **kwargs)


def test_X_given_as_m_by_n_x_is_refused_with_a_transpose_hint(xp):
    with pytest.raises(ShapeError, match=r"looks like \(m, n_x\).*Pass X\.T"):
        net().fit(asarray(X_GOOD.T, xp), asarray(Y_GOOD, xp), iterations=1)


def test_nan_in_X_is_refused(xp):
    X = X_GOOD.copy()
    X[1, 2] = np.nan
    with pytest.raises(DataError, match="NaN or inf"):
        net().fit(asarray(X, xp), asarray(Y_GOOD, xp), iterations=1)


def test_inf_in_X_is_refused(xp):
    X = X_GOOD.copy()
    X[0, 0] = np.inf
    with pytest.raises(DataError, match=r"NaN or inf \(1 entries\)"):
        net().predict(asarray(X, xp))


def test_labels_outside_0_1_for_sigmoid_are_refused(xp):
    Y = Y_GOOD.copy()
    Y[0, 3] = 2
    with pytest.raises(DataError, match="must be 0 or 1.*softmax"):
        net().fit(asarray(X_GOOD, xp), asarray(Y, xp), iterations=1)


def test_X_and_Y_with_different_m_are_refused(xp):
    with pytest.raises(ShapeError, match="m = 10 examples.*Y has 9"):
        net().fit(asarray(X_GOOD, xp), asarray(Y_GOOD[:, :9], xp), iterations=1)


def test_Y_given_as_a_column_is_refused_with_a_transpose_hint():
    with pytest.raises(ShapeError, match=r"looks like \(m, 1\).*Y\.T"):
        net().fit(X_GOOD, Y_GOOD.T, iterations=1)


def test_n_x_that_does_not_match_the_first_layer_is_refused(xp):
    with pytest.raises(ShapeError, match="5 features.*expects n_x = 3"):
        net().fit(asarray(rng.randn(5, 10), xp), asarray(Y_GOOD, xp), iterations=1)


def test_one_dimensional_X_is_refused_with_a_reshape_hint():
    with pytest.raises(ShapeError, match=r"2-D.*reshape"):
        net().predict(np.zeros(3))


def test_class_ids_out_of_range_for_softmax_are_refused(xp):
    network = xpnet.Network([3, 4, 3], output="softmax", seed=0)
    with pytest.raises(DataError, match=r"integers in \[0, 3\)"):
        network.fit(asarray(X_GOOD, xp), asarray(np.full((1, 10), 3), xp), iterations=1)


def test_one_hot_columns_must_hold_exactly_one_one():
    network = xpnet.Network([3, 4, 3], output="softmax", seed=0)
    with pytest.raises(DataError, match="exactly one 1 per column"):
        network.fit(X_GOOD, np.zeros((3, 10)), iterations=1)


def test_string_X_is_refused():
    with pytest.raises(DataError, match="real numbers"):
        net().predict(np.array([["a"] * 10] * 3))


def test_unknown_activation_is_refused():
    with pytest.raises(ConfigError, match="unknown activation 'sigmoidal'"):
        xpnet.Network([3, 4, 1], hidden="sigmoidal")


def test_unknown_init_is_refused():
    with pytest.raises(ConfigError, match="unknown init 'glorot'.*xavier"):
        xpnet.Network([3, 4, 1], init="glorot")


def test_unknown_output_is_refused():
    with pytest.raises(ConfigError, match="unknown output"):
        xpnet.Network([3, 4, 1], output="relu")


def test_unknown_dtype_is_refused():
    with pytest.raises(ConfigError, match="float32"):
        xpnet.Network([3, 4, 1], dtype="float16")


def test_wrong_number_of_hidden_activations_is_refused():
    with pytest.raises(ConfigError, match="one per hidden layer"):
        xpnet.Network([3, 4, 4, 1], hidden=["relu"])


@pytest.mark.parametrize("dims", [[3], [3, 0, 1], [3, 2.5, 1]])
def test_nonsense_layer_dims_are_refused(dims):
    with pytest.raises(ConfigError, match="layer_dims"):
        xpnet.Network(dims)


@pytest.mark.parametrize("learning_rate", [0.0, -1.0, float("nan"), float("inf")])
def test_nonsense_learning_rate_is_refused(learning_rate):
    with pytest.raises(ConfigError, match="learning_rate"):
        net().fit(X_GOOD, Y_GOOD, iterations=1, learning_rate=learning_rate)


def test_X_and_Y_from_different_libraries_are_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(xpnet.BackendError, match="same library"):
        net().fit(torch.asarray(X_GOOD), Y_GOOD, iterations=1)


def test_unknown_backend_name_is_refused():
    from xpnet import _backend

    with pytest.raises(ConfigError, match="unknown backend 'tensorflow'"):
        _backend.namespace_by_name("tensorflow")


def test_every_error_is_an_xpnet_error_and_a_value_error():
    for cls in (ShapeError, DataError, ConfigError):
        assert issubclass(cls, xpnet.XpnetError) and issubclass(cls, ValueError)


@pytest.mark.parametrize("X", [
    np.array([[1, None]] * 3, dtype=object),
    np.zeros((3, 10), dtype=complex),
], ids=["object", "complex"])
def test_object_and_complex_X_are_refused(X):
    with pytest.raises(DataError, match="real numbers"):
        net().predict(X)


def test_integer_images_are_accepted_and_converted():
    X = np.random.RandomState(0).randint(0, 256, size=(3, 10)).astype(np.uint8)
    network = net()
    network.fit(X, Y_GOOD, iterations=2)
    assert network.params[0][0].dtype == np.float32
    assert network.predict_proba(X).dtype == np.float32


def test_empty_X_is_refused():
    with pytest.raises(ShapeError, match="no examples"):
        net().fit(np.zeros((3, 0)), np.zeros((1, 0)), iterations=1)


def test_nan_in_Y_is_refused():
    with pytest.raises(DataError, match="Y contains NaN"):
        xpnet.Network([3, 4, 1], output="linear").fit(X_GOOD, np.full((1, 10), np.nan), iterations=1)


def test_validation_data_with_another_n_x_is_refused():
    with pytest.raises(ShapeError, match="expects n_x = 3"):
        net().fit(X_GOOD, Y_GOOD, iterations=1, validation_data=(np.zeros((4, 5)), np.zeros((1, 5))))


def test_validation_data_from_another_library_is_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(xpnet.BackendError, match="same library"):
        net().fit(X_GOOD, Y_GOOD, iterations=1,
                  validation_data=(torch.asarray(X_GOOD), torch.asarray(Y_GOOD)))


def test_loaded_model_refuses_X_of_another_n_x(tmp_path):
    pytest.importorskip("safetensors")
    network = net()
    network.save(tmp_path / "m.safetensors")
    with pytest.raises(ShapeError, match="expects n_x = 3"):
        xpnet.load(tmp_path / "m.safetensors").predict(np.zeros((5, 2)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
    (dict(init_scale=0.0), "init_scale"),
    (dict(init_scale=float("inf")), "init_scale"),
    (dict(l2=-0.1), "l2"),
    (dict(l2=float("nan")), "l2"),
    (dict(keep_prob=0.0), "keep_prob"),
    (dict(leaky_slope=1.5, hidden="leaky_relu"), "slope"),
    (dict(hidden=5), "hidden must be"),
])
def test_nonsense_model_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        xpnet.Network([3, 4, 1], **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(iterations=-1), "iterations"),
    (dict(iterations=2.5), "iterations"),
    (dict(record_every=0), "record_every"),
    (dict(epochs=1, batch_size=0), "batch_size"),
    (dict(epochs=1, batch_size=-5), "batch_size"),
    (dict(epochs=1, early_stopping=0, validation_split=0.2), "early_stopping"),
    (dict(optimizer="lbfgs"), "unknown optimizer"),
    (dict(shuffle_seed=-3), "shuffle_seed"),
    (dict(validation_split=0.0), "validation_split"),
    (dict(validation_data=(X_GOOD,)), "pair"),
])
def test_nonsense_fit_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        net().fit(X_GOOD, Y_GOOD, **kwargs)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_a_numpy_matrix_trains_as_its_plain_array():
    X, Y = np.random.RandomState(0).randn(2, 30), (np.arange(30) % 2).reshape(1, -1)
    plain, matrix = (xpnet.Network([2, 3, 1], seed=1, dtype="float64") for _ in range(2))
    plain.fit(X, Y, iterations=5)
    matrix.fit(np.asmatrix(X), Y, iterations=5)
    for (W, _), (W_m, _) in zip(plain.params, matrix.params):
        np.testing.assert_array_equal(W, W_m)


def test_a_masked_array_is_refused():
    X = np.ma.masked_array(np.ones((2, 4)), mask=[[0, 1, 0, 0], [0, 0, 0, 0]])
    with pytest.raises(DataError, match="masked"):
        xpnet.Network([2, 3, 1]).predict(X)


def test_a_scipy_sparse_matrix_is_refused_with_toarray_as_the_fix():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(DataError, match="toarray"):
        xpnet.Network([2, 3, 1]).predict(sparse.csr_matrix(np.ones((2, 4))))


def test_a_torch_tensor_with_a_graph_trains_detached_so_no_graph_grows():
    torch = pytest.importorskip("torch")
    X = torch.randn(2, 30, requires_grad=True)
    Y = torch.from_numpy((np.arange(30) % 2).reshape(1, -1))
    net = xpnet.Network([2, 3, 1], seed=1)
    net.fit(X, Y, iterations=20)
    assert all(W.grad_fn is None and not W.requires_grad for W, _ in net.params)


@pytest.mark.parametrize("kind", ["sparse", "meta"])
def test_sparse_and_meta_tensors_are_refused(kind):
    torch = pytest.importorskip("torch")
    X = torch.ones(2, 4).to_sparse() if kind == "sparse" else torch.ones(2, 4, device="meta")
    with pytest.raises(DataError, match="to_dense" if kind == "sparse" else "meta"):
        xpnet.Network([2, 3, 1]).predict(X)


def test_a_call_inside_jax_jit_is_refused():
    jax = pytest.importorskip("jax")
    net = xpnet.Network([2, 3, 1])
    with pytest.raises(DataError, match="tracer"):
        jax.jit(lambda X: net.predict_proba(X))(jax.numpy.ones((2, 4)))
