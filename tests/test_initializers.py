import numpy as np
import pytest

from xpnet import initializers
from xpnet.errors import ConfigError

DIMS = [6, 4, 3, 1]


@pytest.mark.parametrize("method", initializers.NAMES)
def test_shapes_are_n_l_by_n_l_minus_1_and_biases_are_zero(method):
    params = initializers.initialize(DIMS, method, seed=0)
    assert [(W.shape, b.shape) for W, b in params] == [((4, 6), (4, 1)), ((3, 4), (3, 1)), ((1, 3), (1, 1))]
    assert all(not b.any() for _, b in params)


def test_draws_follow_the_course_layer_by_layer():
    """np.random.seed(1) then randn per layer, scaled as each initializer says."""
    np.random.seed(1)
    raw = [np.random.randn(n, n_prev) for n_prev, n in zip(DIMS[:-1], DIMS[1:])]
    expected = {
        "normal": [W * 0.01 for W in raw],
        "xavier": [W / np.sqrt(W.shape[1]) for W in raw],
        "he": [W * np.sqrt(2 / W.shape[1]) for W in raw],
        "zeros": [np.zeros_like(W) for W in raw],
    }
    for method, Ws in expected.items():
        got = [W for W, _ in initializers.initialize(DIMS, method, seed=1)]
        for W_got, W_expected in zip(got, Ws):
            np.testing.assert_array_equal(W_got, W_expected)


def test_init_scale_sets_the_normal_spread():
    small = initializers.initialize(DIMS, "normal", seed=0, init_scale=0.01)
    large = initializers.initialize(DIMS, "normal", seed=0, init_scale=1.0)
    np.testing.assert_allclose(small[0][0] * 100, large[0][0])


def test_float32_weights_are_the_rounded_float64_draws():
    w64 = initializers.initialize(DIMS, "he", seed=5, dtype="float64")[0][0]
    w32 = initializers.initialize(DIMS, "he", seed=5, dtype="float32")[0][0]
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_same_seed_same_weights_different_seed_different_weights():
    a = initializers.initialize(DIMS, "xavier", seed=7)[0][0]
    b = initializers.initialize(DIMS, "xavier", seed=7)[0][0]
    c = initializers.initialize(DIMS, "xavier", seed=8)[0][0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_unknown_initializer_names_the_choices():
    with pytest.raises(ConfigError, match="unknown init 'orthogonal'.*he"):
        initializers.initialize(DIMS, "orthogonal")
