import gzip
import re
import sys

import numpy as np
import pytest

import xpnet
from xpnet import data
from xpnet.errors import ConfigError, DataError, DataFileError, NotFittedError, ShapeError


def test_flower_has_the_course_layout():
    X, Y = data.planar_flower()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    assert np.bincount(Y.ravel()).tolist() == [200, 200]


def test_flower_points_follow_the_petal_formula_without_noise():
    X, Y = data.planar_flower(400, seed=0, noise=0.0)
    t = np.linspace(0.0, 3.12, 200)
    r = 4 * np.sin(4 * t)
    np.testing.assert_allclose(X[:, :200], np.stack([r * np.sin(t), r * np.cos(t)]))


def test_flower_is_seeded():
    np.testing.assert_array_equal(data.planar_flower(seed=3)[0], data.planar_flower(seed=3)[0])
    assert not np.array_equal(data.planar_flower(seed=3)[0], data.planar_flower(seed=4)[0])


def test_flower_test_split_is_a_fresh_draw():
    ds = data.flower_dataset()
    assert ds.X_train.shape == ds.X_test.shape == (2, 400)
    assert not np.array_equal(ds.X_train, ds.X_test)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flower_dataset_hands_the_draw_over_in_dtype_one_example_per_contiguous_column(dtype):
    ds = data.flower_dataset(dtype=dtype)
    X, Y = data.planar_flower(seed=1)
    for A in (ds.X_train, ds.X_test):
        assert A.dtype == dtype and A.flags.f_contiguous
    np.testing.assert_array_equal(ds.X_train, X.astype(dtype))  # float64 draws, rounded once
    np.testing.assert_array_equal(ds.Y_train, Y)
    assert ds.Y_train.dtype == np.int64


def test_flatten_images_gives_one_scaled_column_per_image():
    images = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    X = data.flatten_images(images)
    assert X.shape == (12, 2) and X.dtype == np.float32 and X.flags.f_contiguous
    np.testing.assert_array_equal(X[:, 1], (images[1].ravel() / 255.0).astype(np.float32))
    X64 = data.flatten_images(images, dtype="float64")
    assert X64.dtype == np.float64 and X64.flags.f_contiguous
    np.testing.assert_array_equal(X64, images.reshape(2, -1).T / 255.0)  # the course's float64 numbers


def test_float32_pixels_over_255_are_the_float64_quotients_rounded_once():
    # float32(x) / 255 in float32 is correctly rounded, and so is the float64 x / 255.0;
    # rounding that to float32 lands on the same float32 (53 >= 2·24 + 2 bits: no double-rounding error).
    x = np.arange(256, dtype=np.uint8)
    in_float32 = np.divide(x, np.float32(255), dtype=np.float32)
    assert in_float32.dtype == np.float32
    np.testing.assert_array_equal(in_float32, (x / 255.0).astype(np.float32))
    np.testing.assert_array_equal(data.flatten_images(x.reshape(256, 1, 1, 1))[0], in_float32)


@pytest.mark.parametrize("images, error, match", [
    (np.zeros(3), ShapeError, r"images has shape \(3,\); it must be \(m, height, width, channels\)"),
    (np.full((1, 2, 2, 3), 300.0), DataError, r"images holds 300.0 at \(0, 0, 0, 0\); pixel values lie in 0..255"),
    (np.full((1, 2, 2, 3), np.nan), DataError, r"images holds nan at \(0, 0, 0, 0\)"),
    (np.full((1, 2, 2, 3), -1), DataError, r"images holds -1 at"),
    (np.full((1, 2, 2, 3), "a"), DataError, r"images has dtype <U1; flatten_images takes pixel values 0..255"),
    ([[1, 2], [3]], DataError, r"images cannot be made into one NumPy array"),
])
def test_flatten_images_refuses_what_is_no_pixels_instead_of_scaling_it_out_of_0_1(images, error, match):
    with pytest.raises(error, match=match):
        data.flatten_images(images)


def test_flatten_images_takes_pixels_of_any_real_type_within_0_255():
    images = np.arange(12).reshape(1, 2, 2, 3)
    for a in (images, images.astype(np.float32), images.astype(np.uint16)):
        np.testing.assert_array_equal(data.flatten_images(a), data.flatten_images(images.astype(np.uint8)))
    assert data.flatten_images(np.zeros((0, 2, 2, 3), np.uint8)).shape == (12, 0)


def write_cat_files(folder, m_train=4, m_test=2):
    h5py = pytest.importorskip("h5py")
    rng = np.random.RandomState(0)
    for split, m in (("train", m_train), ("test", m_test)):
        with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
            f[f"{split}_set_x"] = rng.randint(0, 256, size=(m, 64, 64, 3)).astype(np.uint8)
            f[f"{split}_set_y"] = np.arange(m) % 2
            f["list_classes"] = np.array([b"non-cat", b"cat"])


def test_cat_loader_prepares_the_files_as_the_course_does(tmp_path):
    write_cat_files(tmp_path)
    ds = data.load_catvnoncat(tmp_path)
    assert ds.X_train.shape == (12288, 4) and ds.X_test.shape == (12288, 2)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float32
    assert ds.X_train.flags.f_contiguous and ds.X_test.flags.f_contiguous
    assert ds.Y_train.tolist() == [[0, 1, 0, 1]] and ds.Y_train.dtype == np.int64
    assert 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    assert ds.classes == ("non-cat", "cat")


def test_cat_loader_in_float64_gives_the_course_numbers(tmp_path):
    h5py = pytest.importorskip("h5py")
    write_cat_files(tmp_path)
    ds, ds32 = data.load_catvnoncat(tmp_path, dtype="float64"), data.load_catvnoncat(tmp_path)
    with h5py.File(tmp_path / "train_catvnoncat.h5") as f:
        x = f["train_set_x"][()]
    assert ds.X_train.dtype == np.float64 and ds.X_train.flags.f_contiguous
    np.testing.assert_array_equal(ds.X_train, x.reshape(4, -1).T / 255.0)
    np.testing.assert_array_equal(ds32.X_train, ds.X_train.astype(np.float32))


def test_cat_loader_reads_the_folder_from_the_environment(tmp_path, monkeypatch):
    write_cat_files(tmp_path)
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.load_catvnoncat().X_train.shape == (12288, 4)


def test_cat_loader_names_the_missing_files(tmp_path):
    with pytest.raises(DataFileError, match="train_catvnoncat.h5"):
        data.load_catvnoncat(tmp_path)


def test_cat_loader_refuses_a_file_that_is_not_hdf5(tmp_path):
    pytest.importorskip("h5py")
    for name in data.CATVNONCAT_FILES:
        (tmp_path / name).write_bytes(b"not an hdf5 file")
    with pytest.raises(DataFileError, match="not a readable cat data file"):
        data.load_catvnoncat(tmp_path)


def test_real_cat_data_has_the_published_shapes(cat_data):
    assert cat_data.X_train.shape == (12288, 209) and cat_data.Y_train.shape == (1, 209)
    assert cat_data.X_test.shape == (12288, 50) and cat_data.Y_test.shape == (1, 50)


# -- generated sets ----------------------------------------------------------------

GENERATED = {
    "spiral": (data.spiral, 3),
    "moons": (data.moons, 2),
    "blobs": (data.blobs, 3),
}


@pytest.mark.parametrize("name", GENERATED)
def test_generated_set_has_the_course_layout(name):
    draw, _ = GENERATED[name]
    X, Y = draw(120)
    assert X.shape == (2, 120) and X.dtype == np.float64
    assert Y.shape == (1, 120) and Y.dtype == np.int64


@pytest.mark.parametrize("name", GENERATED)
def test_generated_set_is_balanced(name):
    draw, K = GENERATED[name]
    assert np.bincount(draw(120)[1].ravel()).tolist() == [120 // K] * K


@pytest.mark.parametrize("name", GENERATED)
def test_generated_set_gives_exactly_m_points_when_m_does_not_divide_evenly(name):
    draw, K = GENERATED[name]
    counts = np.bincount(draw(7 * K + 1)[1].ravel())
    assert counts.sum() == 7 * K + 1 and counts.max() - counts.min() == 1


@pytest.mark.parametrize("name", GENERATED)
def test_generated_set_is_seeded(name):
    draw, _ = GENERATED[name]
    (X1, Y1), (X2, Y2) = draw(seed=5), draw(seed=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_set_differs_across_seeds(name):
    draw, _ = GENERATED[name]
    assert not np.array_equal(draw(seed=5)[0], draw(seed=6)[0])


@pytest.mark.parametrize(
    "name, iterations, learning_rate",
    [("spiral", 2000, 1.0), ("moons", 2000, 0.5), ("blobs", 300, 0.1)],
)
def test_small_network_learns_generated_set(name, iterations, learning_rate):
    draw, K = GENERATED[name]
    X, Y = draw()
    output, n_y = ("softmax", K) if K > 2 else ("sigmoid", 1)
    net = xpnet.Network([2, 16, n_y], hidden="relu", output=output, init="he", seed=0)
    net.fit(X, Y, iterations=iterations, learning_rate=learning_rate)
    assert net.score(X, Y) > 0.9  # chance is 1/K


def test_spiral_arms_follow_the_formula_without_noise():
    X, Y = data.spiral(300, classes=3, noise=0.0)
    r = np.linspace(0.0, 1.0, 100)
    t = np.linspace(4.0, 8.0, 100)  # arm 1
    np.testing.assert_allclose(X[:, 100:200], np.stack([r * np.sin(t), r * np.cos(t)]))
    assert (Y[0, 100:200] == 1).all()


def test_spiral_takes_the_number_of_arms():
    X, Y = data.spiral(100, classes=5)
    assert np.bincount(Y.ravel()).tolist() == [20] * 5


def test_moons_without_noise_lie_on_two_half_circles():
    X, Y = data.moons(200, noise=0.0)
    upper, lower = X[:, Y[0] == 0], X[:, Y[0] == 1]
    np.testing.assert_allclose(np.hypot(upper[0], upper[1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[0] - 1.0, lower[1] - 0.5), 1.0)
    assert (upper[1] >= 0).all() and (lower[1] <= 0.5).all()


def test_blobs_gather_around_well_separated_centers():
    X, Y = data.blobs(3000, classes=4)
    centers = data.blob_centers(4)
    for k in range(4):
        np.testing.assert_allclose(X[:, Y[0] == k].mean(axis=1), centers[:, k], atol=0.15)
    gaps = np.linalg.norm(centers[:, :, None] - centers[:, None, :], axis=0)
    assert gaps[~np.eye(4, dtype=bool)].min() >= 6.0 - 1e-9


def test_blobs_spread_is_the_standard_deviation():
    X, Y = data.blobs(3000, spread=0.5)
    assert X[:, Y[0] == 0].std(axis=1) == pytest.approx([0.5, 0.5], rel=0.1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: data.spiral(classes=1), "classes must be an integer >= 2"),
        (lambda: data.blobs(2, classes=3), r"m must be an integer >= the number of classes \(3\), so each class "
                                           r"gets an example, got 2"),
        (lambda: data.moons(1), r"m must be an integer >= the number of classes \(2\).*got 1"),
        (lambda: data.planar_flower(1), r"m must be an integer >= the number of classes \(2\).*got 1"),
        (lambda: data.moons(noise=-0.1), "noise must be a finite number ≥ 0, got -0.1"),
        (lambda: data.spiral(noise=float("inf")), "noise must be a finite number ≥ 0, got inf"),
        (lambda: data.planar_flower(noise=float("nan")), "noise must be a finite number ≥ 0, got nan"),
        (lambda: data.blobs(spread=-1.0), "spread must be a finite number ≥ 0, got -1.0"),
        (lambda: data.blobs(spread=float("inf")), "spread must be a finite number ≥ 0, got inf"),
        (lambda: data.spiral(noise="0.1"), "noise must be a finite number ≥ 0, got '0.1'"),
        (lambda: data.moons(2.5), "m must be an integer"),
        (lambda: data.spiral(seed=-1), r"seed must be an integer from 0 to 4294967295 .*got -1"),
        (lambda: data.moons(seed=2**32), r"seed must be an integer from 0 to 4294967295 .*got 4294967296"),
        (lambda: data.blobs(seed=1.5), r"seed must be an integer .*got 1.5"),
        (lambda: data.planar_flower(seed=None), r"seed must be an integer .*got None"),
        (lambda: data.flower_dataset(seed=2**32 - 1000),
         r"seed must be an integer from 0 to 4294966295 .*seed \+ 1000"),
        (lambda: data.blob_centers(0), "classes must be an integer >= 2"),
        (lambda: data.spiral(10**7, classes=10**7), r"classes must be at most xpnet.data.MAX_CLASSES"),
    ],
)
def test_generated_set_refuses_bad_settings(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


@pytest.mark.parametrize("draw", [data.planar_flower, data.spiral, data.moons, data.blobs])
def test_generated_set_of_more_examples_than_memory_holds_is_refused_before_allocating(draw):
    with pytest.raises(ConfigError, match=r"^m = 1,000,000,000,000 examples would need 48,000,000,000,000 bytes, "
                                          r"more than this machine's [\d,]+ bytes of memory: ask for fewer examples$"):
        draw(10**12)


@pytest.mark.parametrize("m", [2, 3, 7, 401])
def test_flower_gives_exactly_m_points_the_first_class_taking_the_odd_one(m):
    X, Y = data.planar_flower(m)
    assert X.shape == (2, m) and np.bincount(Y.ravel()).tolist() == [(m + 1) // 2, m // 2]


def test_flower_of_an_even_m_is_the_course_draw():
    rng = np.random.RandomState(1)
    t0 = np.linspace(0.0, 3.12, 200) + rng.randn(200) * 0.2
    r0 = 4.0 * np.sin(4.0 * t0) + rng.randn(200) * 0.2
    X, _ = data.planar_flower(400)
    np.testing.assert_array_equal(X[:, :200], np.stack([r0 * np.sin(t0), r0 * np.cos(t0)]))


@pytest.mark.parametrize("draw, K", [(data.spiral, 3), (data.moons, 2), (data.blobs, 3), (data.planar_flower, 2)])
def test_generated_set_of_as_many_examples_as_classes_gives_one_of_each(draw, K):
    assert np.sort(draw(K)[1].ravel()).tolist() == list(range(K))


# -- train_test_split ---------------------------------------------------------------


def columns_numbered(m, n_x=3):
    """X (n_x, m) whose column j holds j in every row, and Y (1, m) = j: pairings are visible."""
    X = np.tile(np.arange(m, dtype=float), (n_x, 1))
    return X, np.arange(m).reshape(1, -1)


def test_split_sizes_follow_test_fraction():
    X_train, Y_train, X_test, Y_test = data.train_test_split(*columns_numbered(50), test_fraction=0.2)
    assert X_train.shape == (3, 40) and Y_train.shape == (1, 40)
    assert X_test.shape == (3, 10) and Y_test.shape == (1, 10)


def test_split_keeps_each_example_once_and_with_its_label():
    X_train, Y_train, X_test, Y_test = data.train_test_split(*columns_numbered(50))
    assert sorted(np.concatenate([Y_train, Y_test], axis=1).ravel().tolist()) == list(range(50))
    np.testing.assert_array_equal(X_train[0], Y_train[0])
    np.testing.assert_array_equal(X_test[0], Y_test[0])


def test_split_shuffles_the_examples():
    _, Y_train, _, _ = data.train_test_split(*columns_numbered(50))
    assert Y_train.ravel().tolist() != sorted(Y_train.ravel().tolist())


def test_split_is_seeded():
    a = data.train_test_split(*columns_numbered(50), seed=3)
    b = data.train_test_split(*columns_numbered(50), seed=3)
    c = data.train_test_split(*columns_numbered(50), seed=4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[3], c[3])


def test_split_holds_out_at_least_one_example_each_way():
    X_train, _, X_test, _ = data.train_test_split(*columns_numbered(3), test_fraction=0.01)
    assert (X_train.shape[1], X_test.shape[1]) == (2, 1)
    X_train, _, X_test, _ = data.train_test_split(*columns_numbered(3), test_fraction=0.99)
    assert (X_train.shape[1], X_test.shape[1]) == (1, 2)


def test_split_keeps_a_flat_Y_flat():
    X, Y = columns_numbered(10)
    _, Y_train, _, Y_test = data.train_test_split(X, Y.ravel())
    assert Y_train.shape == (8,) and Y_test.shape == (2,)


@pytest.mark.parametrize("test_fraction", [0, 1, -0.1, 1.5, True, "0.2"])
def test_split_refuses_test_fraction_outside_0_1(test_fraction):
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        data.train_test_split(*columns_numbered(10), test_fraction=test_fraction)


def test_split_refuses_X_and_Y_of_different_m_and_suggests_the_transpose():
    X, Y = columns_numbered(10, n_x=4)
    with pytest.raises(ShapeError, match=r"looks like \(m, n_x\): pass X.T"):
        data.train_test_split(X.T, Y)


def test_split_refuses_a_single_example():
    with pytest.raises(DataError, match="at least 2"):
        data.train_test_split(*columns_numbered(1))


@pytest.mark.parametrize("seed", [-1, 2**32, 1.0, "0", None, True, [1, 2]])
def test_split_refuses_a_seed_numpy_cannot_take_naming_it(seed):
    with pytest.raises(ConfigError,
                       match=r"^seed must be an integer from 0 to 4294967295 .*got " + re.escape(repr(seed))):
        data.train_test_split(*columns_numbered(10), seed=seed)


def test_split_refuses_ragged_lists_with_a_data_error():
    with pytest.raises(DataError, match="X cannot be made into one NumPy array"):
        data.train_test_split([[1, 2], [3]], [0, 1])


# -- Standardizer -------------------------------------------------------------------


def test_standardizer_gives_mean_0_std_1_rows_on_the_training_data():
    X = np.random.RandomState(0).randn(5, 200) * [[1], [10], [0.1], [3], [100]] + [[0], [5], [-2], [7], [1e3]]
    Z = data.Standardizer().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=1), 1.0)


def test_standardizer_stores_one_mean_and_std_per_feature_as_columns():
    X = np.array([[1.0, 3.0], [10.0, 30.0], [0.0, 0.0]])
    scaler = data.Standardizer().fit(X)
    assert scaler.mean.shape == scaler.std.shape == (3, 1)
    np.testing.assert_allclose(scaler.mean, [[2.0], [20.0], [0.0]])
    np.testing.assert_allclose(scaler.std, [[1.0], [10.0], [1.0]])


@pytest.mark.parametrize("value", [0.0, 0.1, 1e5 / 3])
def test_standardizer_treats_a_constant_feature_as_std_1(value):
    # np.std of 1000 copies of 0.1 is 1.4e-17, not 0: a naive check would blow the row up.
    X = np.vstack([np.full(1000, value), np.arange(1000.0)])
    Z = data.Standardizer().fit_transform(X)
    assert data.Standardizer().fit(X).std[0, 0] == 1.0
    np.testing.assert_allclose(Z[0], 0.0, atol=1e-15 * max(1.0, value))  # the mean's rounding


def test_standardizer_transforms_new_data_with_the_training_statistics():
    scaler = data.Standardizer().fit(np.array([[0.0, 2.0, 4.0]]))
    np.testing.assert_allclose(scaler.transform(np.array([[2.0, 2.0 + np.sqrt(8 / 3)]])), [[0.0, 1.0]])


def test_standardizer_refuses_transform_before_fit():
    with pytest.raises(NotFittedError, match="call fit"):
        data.Standardizer().transform(np.zeros((2, 3)))


def test_standardizer_refuses_a_different_number_of_features():
    scaler = data.Standardizer().fit(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="fit on 2"):
        scaler.transform(np.zeros((3, 3)))


def test_standardize_scales_a_dataset_by_its_training_set():
    flower = data.flower_dataset(dtype="float64")
    ds = data.standardize(flower)
    np.testing.assert_allclose(ds.X_train.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=1), 1.0)
    expected = data.Standardizer().fit(flower.X_train).transform(flower.X_test)
    np.testing.assert_allclose(ds.X_test, expected)


def test_standardize_keeps_a_float32_dataset_float32_and_its_columns_contiguous():
    flower = data.flower_dataset()
    ds = data.standardize(flower)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float32 and ds.X_train.flags.f_contiguous
    np.testing.assert_allclose(ds.X_train.mean(axis=1), 0.0, atol=1e-6)
    reference = data.standardize(data.flower_dataset(dtype="float64"))
    np.testing.assert_allclose(ds.X_test, reference.X_test, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("step", ["fit", "transform"])
def test_standardizer_refuses_nan_and_inf_naming_where(bad, step):
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    scaler = data.Standardizer().fit(X)
    X[1, 2] = bad
    with pytest.raises(DataError, match=rf"^X holds {bad!r} at row \(feature\) 1, column 2: .*remove or impute"):
        scaler.fit(X) if step == "fit" else scaler.transform(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_standardizer_gives_finite_results_for_finite_values_near_the_dtypes_largest(dtype):
    big = np.finfo(dtype).max
    X = np.array([[big, -big, -big, -big], [big, big, big * 0.5, big], [1e-300, 0, 0, 3e-300]]).astype(dtype)
    scaler = data.Standardizer().fit(X)
    Z = scaler.transform(X)
    assert Z.dtype == dtype and np.isfinite(Z).all() and np.isfinite(scaler.mean).all()
    np.testing.assert_allclose(Z.mean(axis=1), 0.0, atol=1e-6)
    np.testing.assert_allclose(Z[:2].std(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(Z[0], [np.sqrt(3), -1 / np.sqrt(3), -1 / np.sqrt(3), -1 / np.sqrt(3)], rtol=1e-6)


def test_standardizer_statistics_are_those_of_the_plain_formula_bit_for_bit():
    rng = np.random.RandomState(3)
    X = rng.randn(4, 301) * [[1e-3], [1.0], [1e4], [7.0]] + [[0.0], [-3.0], [1e6], [0.1]]
    for A in (X, np.asfortranarray(X)):
        scaler = data.Standardizer().fit(A)
        np.testing.assert_array_equal(scaler.mean, A.mean(axis=1, keepdims=True))
        np.testing.assert_array_equal(scaler.std, A.std(axis=1, keepdims=True))
        np.testing.assert_array_equal(scaler.transform(A), (A - scaler.mean) / scaler.std)
        A32 = A.astype(np.float32)
        scaler32 = data.Standardizer().fit(A32)
        Z32 = scaler32.transform(A32)
        expected = (A32 - scaler32.mean.astype(np.float32)) / scaler32.std.astype(np.float32)
        assert Z32.dtype == np.float32 and Z32.flags.f_contiguous == A.flags.f_contiguous
        np.testing.assert_array_equal(Z32, expected)


def test_standardizer_refuses_a_value_whose_standardized_value_overflows_naming_it():
    scaler = data.Standardizer().fit(np.array([[1.0, 2.0]], dtype=np.float32))
    X = np.array([[1.5, 3e38]], dtype=np.float32)
    with pytest.raises(DataError, match=r"^X holds 3.*e\+38 at row \(feature\) 0, column 1, so far from the training "
                                        r"data \(mean 1.5, std 0.5\) that standardized it overflows float32"):
        scaler.transform(X)
    assert np.isfinite(data.Standardizer().fit(X.astype(np.float64)).transform(X.astype(np.float64))).all()


def test_standardize_refuses_what_is_not_a_dataset():
    with pytest.raises(ConfigError, match="standardize takes a Dataset .*got ndarray"):
        data.standardize(np.zeros((2, 3)))


# -- one_hot ------------------------------------------------------------------------


@pytest.mark.parametrize("ids", [[2, 0, 1, 1], [[2, 0, 1, 1]], np.array([0, 0, 0]), np.arange(7) % 4])
def test_one_hot_round_trips_through_argmax(ids):
    Y = data.one_hot(ids)
    assert Y.dtype == np.float64 and Y.shape[1] == np.size(ids)
    assert (Y.sum(axis=0) == 1).all()
    np.testing.assert_array_equal(Y.argmax(axis=0), np.ravel(ids))


def test_one_hot_takes_K_from_the_largest_id():
    assert data.one_hot([0, 3]).shape == (4, 2)


def test_one_hot_keeps_classes_that_do_not_occur_when_given_K():
    np.testing.assert_array_equal(data.one_hot([1], K=3), [[0.0], [1.0], [0.0]])


@pytest.mark.parametrize("ids, K", [([0, -1], None), ([0, 3], 3)])
def test_one_hot_refuses_ids_outside_0_to_K(ids, K):
    with pytest.raises(DataError, match=r"class ids must lie in \[0, \d\)"):
        data.one_hot(ids, K)


def test_one_hot_refuses_fractional_ids():
    with pytest.raises(DataError, match="whole-number class ids"):
        data.one_hot([0.0, 0.5])


@pytest.mark.parametrize("ids, shown", [
    (np.array([0.0, 1e300, 1.0]), "1e+300"),
    (np.array([0, 2**64 - 1, 1], dtype=np.uint64), "18446744073709551615"),
    ([0, 10**12, 1], "1000000000000"),
])
def test_one_hot_refuses_an_id_that_makes_more_classes_than_memory_holds_naming_id_and_bytes(ids, shown):
    with pytest.raises(DataError, match=rf"^ids holds class id {re.escape(shown)} at column 1, so the one-hot array of "
                                        r".* classes × 3 examples in float64 \(.* bytes\) .*would need .* bytes, "
                                        r"more than this machine's [\d,]+ bytes of memory: "
                                        r"relabel the classes 0..K-1$"):
        data.one_hot(ids)


def test_one_hot_refuses_a_K_too_large_for_memory_naming_it():
    with pytest.raises(ConfigError, match=r"^K = 1000000000000: the one-hot array of 1,000,000,000,000 classes × 2 "
                                          r"examples in float64 \(16,000,000,000,000 bytes\)"):
        data.one_hot([0, 1], K=10**12)


@pytest.mark.parametrize("ids, shown", [(np.array([0, 2**64 - 1], dtype=np.uint64), "18446744073709551615"),
                                        (np.array([0.0, 1e300]), "1e+300"), (np.array([0.0, -1e300]), "-1e+300")])
def test_one_hot_names_an_id_outside_0_to_K_as_it_was_given_never_wrapped(ids, shown):
    with pytest.raises(DataError, match=rf"e.g. {re.escape(shown)} at column 1"):
        data.one_hot(ids, K=3)


@pytest.mark.parametrize("ids", [[0.0, np.nan], [0.0, np.inf], [0.0, 0.5]])
def test_one_hot_names_an_id_that_is_no_whole_number(ids):
    with pytest.raises(DataError, match=rf"ids holds {ids[1]!r} at column 1: relabel"):
        data.one_hot(ids)


def test_one_hot_accepts_whole_number_floats():
    np.testing.assert_array_equal(data.one_hot(np.array([1.0, 0.0])), [[0.0, 1.0], [1.0, 0.0]])


# -- load_npz -----------------------------------------------------------------------


def test_npz_with_train_and_test_loads_as_saved(tmp_path):
    rng = np.random.RandomState(0)
    arrays = dict(X_train=rng.rand(3, 8), Y_train=np.arange(8) % 2, X_test=rng.rand(3, 4), Y_test=np.arange(4) % 2)
    np.savez(tmp_path / "parts.npz", **arrays)
    ds = data.load_npz(tmp_path / "parts.npz", dtype="float64")
    np.testing.assert_array_equal(ds.X_train, arrays["X_train"])
    assert ds.X_train.dtype == np.float64 and ds.X_test.shape == (3, 4)
    assert ds.X_train.flags.f_contiguous and ds.X_test.flags.f_contiguous
    assert ds.Y_train.shape == (1, 8) and ds.Y_train.dtype == np.int64
    assert ds.Y_test.tolist() == [[0, 1, 0, 1]]
    assert ds.classes == ("0", "1") and ds.name == "parts"


def test_npz_with_X_and_Y_is_split_with_the_seed(tmp_path):
    X, Y = columns_numbered(20)
    np.savez(tmp_path / "whole.npz", X=X, Y=Y)
    ds = data.load_npz(tmp_path / "whole.npz", test_fraction=0.25, seed=7)
    expected = data.train_test_split(X, Y, test_fraction=0.25, seed=7)
    for got, want in zip((ds.X_train, ds.Y_train, ds.X_test, ds.Y_test), expected):
        np.testing.assert_array_equal(got, want)
    assert ds.X_test.shape == (3, 5)


def test_npz_float_0_1_labels_become_int64_rows(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 10)), Y=np.arange(10.0) % 2)
    ds = data.load_npz(tmp_path / "d.npz")
    assert ds.Y_train.dtype == np.int64 and ds.Y_train.shape == (1, 8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_npz_regression_values_stay_float_in_dtype_with_no_classes(tmp_path, dtype):
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "r.npz", X=rng.rand(2, 10), Y=rng.rand(2, 10))
    ds = data.load_npz(tmp_path / "r.npz", dtype=dtype)
    assert ds.Y_train.dtype == dtype and ds.Y_train.shape == (2, 8) and ds.X_train.dtype == dtype
    assert ds.classes == ()


def test_npz_classes_array_names_the_classes(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=[0, 1, 2, 0], classes=np.array(["ant", "bee", "cow"]))
    assert data.load_npz(tmp_path / "d.npz").classes == ("ant", "bee", "cow")


def test_npz_names_the_keys_it_needs(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.zeros((2, 4)))
    with pytest.raises(DataFileError, match=r"holds features; xpnet reads X_train, Y_train, X_test, Y_test, or just X and Y"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_names_the_missing_half_of_a_split(tmp_path):
    np.savez(tmp_path / "d.npz", X_train=np.zeros((2, 4)), Y_train=np.zeros(4))
    with pytest.raises(DataFileError, match="holds X_train, Y_train but not X_test, Y_test: save all four"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_object_arrays(tmp_path):
    ragged = np.empty(2, dtype=object)
    ragged[:] = [[1.0], [2.0, 3.0]]
    np.savez(tmp_path / "d.npz", X=ragged, Y=np.zeros(2))
    with pytest.raises(DataFileError, match="X is an array of Python objects.*save X as a numeric array"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_X_and_Y_of_different_m(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 5)), Y=np.zeros(4))
    with pytest.raises(DataFileError, match=r"X has 5 examples \(columns\).*but Y has 4"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_suggests_the_transpose_for_X_saved_as_m_by_n_x(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((6, 2)), Y=np.zeros(6))
    with pytest.raises(DataFileError, match=r"looks like \(m, n_x\): save X.T"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_train_and_test_with_different_features(tmp_path):
    np.savez(tmp_path / "d.npz", X_train=np.zeros((2, 4)), Y_train=np.zeros(4),
             X_test=np.zeros((3, 2)), Y_test=np.zeros(2))
    with pytest.raises(DataFileError, match="X_train has 2 features.*X_test has 3"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_a_flat_X(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros(4), Y=np.zeros(4))
    with pytest.raises(DataFileError, match=r"must be \(n_x, m\).*reshape\(1, -1\)"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_nan(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.array([[0.0, np.nan]]), Y=np.zeros(2))
    with pytest.raises(DataFileError, match="NaN or inf"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_a_file_that_is_not_npz(tmp_path):
    (tmp_path / "d.npz").write_bytes(b"not a zip archive")
    with pytest.raises(DataFileError, match="not a readable .npz file"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_a_single_array_npy_file(tmp_path):
    np.save(tmp_path / "d.npy", np.zeros((2, 2)))
    (tmp_path / "d.npy").rename(tmp_path / "d.npz")
    with pytest.raises(DataFileError, match="single array"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_names_a_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="nowhere.npz does not exist"):
        data.load_npz(tmp_path / "nowhere.npz")


def test_npz_refuses_nan_in_a_later_chunk(tmp_path, monkeypatch):
    X = np.zeros((6, 50))
    X[5, 49] = np.inf
    np.savez(tmp_path / "d.npz", X=X, Y=np.zeros(50))
    monkeypatch.setattr(data, "NPZ_CHUNK_BYTES", 64)
    with pytest.raises(DataFileError, match="X contains NaN or inf"):
        data.load_npz(tmp_path / "d.npz")


@pytest.mark.parametrize("Y, shown", [
    (np.array([0.0, 1.0, 1e300, 0.0]), "1e+300"),
    (np.array([0, 1, 2**64 - 1, 0], dtype=np.uint64), "18446744073709551615"),
    (np.array([0, 1, 10**9, 0]), "1000000000"),
    (np.array([0, 1, 2**63 - 1, 0]), "9223372036854775807"),
])
def test_npz_class_id_beyond_max_classes_is_refused_naming_it_never_wrapped(tmp_path, Y, shown):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=Y)
    with pytest.raises(DataFileError, match=rf"d.npz: Y holds class id {re.escape(shown)} at column 2, beyond the "
                                            r"1,000,000 classes xpnet takes .*relabel the classes 0..K-1"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_class_ids_of_a_split_file_are_named_by_their_array(tmp_path):
    np.savez(tmp_path / "d.npz", X_train=np.zeros((2, 3)), Y_train=[0, 1, 1], X_test=np.zeros((2, 2)),
             Y_test=np.array([1, 2**64 - 1], dtype=np.uint64))
    with pytest.raises(DataFileError, match=r"Y_test holds class id 18446744073709551615 at column 1"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_class_ids_up_to_max_classes_are_read_and_the_limit_can_be_raised(tmp_path, monkeypatch):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=[0, 1, 5.0, 0])
    monkeypatch.setattr(data, "MAX_CLASSES", 5)
    with pytest.raises(DataFileError, match="holds class id 5.0 at column 2, beyond the 5 classes"):
        data.load_npz(tmp_path / "d.npz")
    monkeypatch.setattr(data, "MAX_CLASSES", 6)
    ds = data.load_npz(tmp_path / "d.npz")
    assert ds.classes == ("0", "1", "2", "3", "4", "5") and ds.Y_train.dtype == np.int64
    assert sorted(np.concatenate([ds.Y_train, ds.Y_test], axis=1).ravel().tolist()) == [0, 0, 1, 5]


def test_npz_classes_that_name_fewer_classes_than_the_labels_use_are_refused(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=[0, 1, 2, 0], classes=np.array(["ant", "bee"]))
    with pytest.raises(DataFileError, match=r"classes names 2 classes, but Y holds class id 2: save one name per "
                                            r"class id 0..2"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_classes_may_name_classes_that_do_not_occur(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=[0, 1, 1, 0], classes=np.array(["ant", "bee", "cow"]))
    assert data.load_npz(tmp_path / "d.npz").classes == ("ant", "bee", "cow")


@pytest.mark.parametrize("Y, why", [([0, -1, 1, 0], "it holds -1 at column 1"),
                                    ([0.0, 0.5, 1.0, 0.0], "it holds 0.5 at column 1"),
                                    (np.zeros((2, 4)), "it has 2 rows")])
def test_npz_classes_with_y_that_is_no_class_ids_are_refused(tmp_path, Y, why):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=Y, classes=np.array(["a", "b"]))
    with pytest.raises(DataFileError, match=rf"classes names classes, but Y holds no class ids \({why}\)"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_classes_of_bytes_that_are_no_text_are_refused(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=[0, 1, 1, 0], classes=np.array([b"\xff", b"b"]))
    with pytest.raises(DataFileError, match="classes holds bytes that are no UTF-8 text"):
        data.load_npz(tmp_path / "d.npz")


@pytest.mark.parametrize("seed", [-1, 2**32, 0.5, None])
def test_npz_refuses_a_seed_numpy_cannot_take_before_reading(tmp_path, seed):
    with pytest.raises(ConfigError, match=r"^seed must be an integer from 0 to 4294967295"):
        data.load_npz(tmp_path / "missing.npz", seed=seed)


@pytest.mark.parametrize("key", ["X", "Y"])
def test_npz_values_beyond_float32_are_refused_in_float32_and_read_in_float64(tmp_path, monkeypatch, key):
    arrays = dict(X=np.ones((2, 4)), Y=np.linspace(0.5, 1.5, 4).reshape(1, 4))
    arrays[key][0, 3] = 1e300
    np.savez(tmp_path / "d.npz", **arrays)
    monkeypatch.setattr(data, "NPZ_CHUNK_BYTES", 16)  # X read in several chunks: the last one holds it
    with pytest.raises(DataFileError, match=rf"d.npz: {key} holds 1e\+300, beyond the range of float32 "
                                            r"\(±3.403e\+38\): load it with dtype='float64'"):
        data.load_npz(tmp_path / "d.npz")
    ds = data.load_npz(tmp_path / "d.npz", dtype="float64")
    assert 1e300 in np.concatenate([getattr(ds, f"{key}_train"), getattr(ds, f"{key}_test")], axis=1)


def test_dataset_refuses_class_names_that_do_not_name_every_id():
    X = np.zeros((2, 3))
    with pytest.raises(DataError, match=r"Y_test holds class id 4 but classes names only 2 \('a', 'b'\): give one "
                                        r"name per class id 0..4"):
        data.Dataset(X, np.array([[0, 1, 1]]), X, np.array([[0, 4, 1]]), ("a", "b"), "d")
    with pytest.raises(ConfigError, match="classes must be a tuple of class names"):
        data.Dataset(X, np.array([[0, 1, 1]]), X, np.array([[0, 1, 1]]), ["a", "b"], "d")


def test_npz_refuses_a_single_example_to_split(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 1)), Y=np.zeros(1))
    with pytest.raises(DataFileError, match=r"d.npz: X holds 1 example.*at least 2"):
        data.load_npz(tmp_path / "d.npz")


def test_npz_refuses_X_of_text_from_its_header_without_reading_it(tmp_path, monkeypatch):
    np.savez(tmp_path / "d.npz", X=np.array([["a", "b"]]), Y=np.zeros(2))

    def no_reading(*args, **kwargs):
        raise AssertionError("X's data was read")

    monkeypatch.setattr(data._npz, "npz_X_blocks", no_reading)
    with pytest.raises(DataFileError, match="X has dtype <U1; xpnet needs real numbers"):
        data.load_npz(tmp_path / "d.npz")


# Every dtype the .npy format gives X that xpnet reads, in both byte orders where it has one.
NPZ_X_DTYPES = ["?", "u1", "<i2", ">i2", "<u4", ">i8", "<f2", ">f4", "<f8", ">f8"]


def npz_X(dtype, shape=(5, 37)):
    """X of ``dtype`` whose entries are all different where the dtype allows: a misplaced one shows."""
    values = np.arange(np.prod(shape)).reshape(shape) * 7 % 101 - (0 if dtype[-2:] in ("u1", "u4") else 50)
    if dtype == "?":
        return (values % 3 == 0)
    return (values / 8.0 if dtype[-2] == "f" else values).astype(dtype)


@pytest.mark.parametrize("chunk", [1, 64, 1000, 2**20], ids=["1B", "64B", "1000B", "1MiB"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("file_dtype", NPZ_X_DTYPES)
def test_npz_X_read_in_chunks_is_the_saved_array_in_dtype(tmp_path, monkeypatch, chunk, order, file_dtype):
    # 1 byte: every chunk is one element; 64: pieces of a line; 1000: several lines; 1 MiB: all of X.
    monkeypatch.setattr(data, "NPZ_CHUNK_BYTES", chunk)
    X_train, X_test = npz_X(file_dtype), npz_X(file_dtype, (5, 11))[:, ::-1]
    X_train, X_test = (np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a) for a in (X_train, X_test))
    np.savez(tmp_path / "d.npz", X_train=X_train, Y_train=np.arange(37) % 2, X_test=X_test, Y_test=np.arange(11) % 2)
    for dtype in ("float32", "float64"):
        ds = data.load_npz(tmp_path / "d.npz", dtype=dtype)
        for got, saved in ((ds.X_train, X_train), (ds.X_test, X_test)):
            assert got.dtype == dtype and got.flags.f_contiguous and got.shape == saved.shape
            np.testing.assert_array_equal(got, saved.astype(dtype))


@pytest.mark.parametrize("chunk", [1, 64, 1000, 2**20], ids=["1B", "64B", "1000B", "1MiB"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("file_dtype", ["u1", ">i2", "<f4", ">f8"])
@pytest.mark.parametrize("compress", [np.savez, np.savez_compressed], ids=["stored", "deflated"])
def test_npz_X_split_while_read_is_train_test_split_of_it(tmp_path, monkeypatch, chunk, order, file_dtype, compress):
    monkeypatch.setattr(data, "NPZ_CHUNK_BYTES", chunk)
    X = npz_X(file_dtype, (6, 41))
    X = np.asfortranarray(X) if order == "F" else np.ascontiguousarray(X)
    Y = np.arange(41) % 3
    compress(tmp_path / "d.npz", X=X, Y=Y)
    for seed, test_fraction, dtype in ((0, 0.2, "float32"), (7, 0.5, "float64"), (3, 0.01, "float32")):
        ds = data.load_npz(tmp_path / "d.npz", seed=seed, test_fraction=test_fraction, dtype=dtype)
        expected = data.train_test_split(X.astype(dtype), Y, seed=seed, test_fraction=test_fraction)
        for got, want in zip((ds.X_train, ds.Y_train, ds.X_test, ds.Y_test), expected):
            np.testing.assert_array_equal(got, want.reshape(got.shape))
        assert ds.X_train.dtype == ds.X_test.dtype == dtype
        assert ds.X_train.flags.f_contiguous and ds.X_test.flags.f_contiguous
        assert ds.Y_train.dtype == np.int64


@pytest.fixture(scope="module")
def big_X():
    """X (500, 10_000) float64: 40 MB."""
    return np.random.RandomState(0).rand(500, 10_000)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("form", ["X, Y", "train and test"])
def test_npz_loading_peaks_below_one_and_a_half_times_what_it_returns(tmp_path, big_X, form, order, dtype):
    """numpy reports its allocations to tracemalloc: the peak counts every array made on the way.

    The file holds 40 MB of float64; loaded as float32 the data set is 20 MB, so a float64 copy
    of X (or of X_train) anywhere on the way would break the bound.
    """
    X = np.asfortranarray(big_X) if order == "F" else big_X
    Y = np.arange(X.shape[1]) % 10
    path = tmp_path / "big.npz"
    if form == "X, Y":
        np.savez(path, X=X, Y=Y)
    else:
        np.savez(path, X_train=X[:, :8000], Y_train=Y[:8000], X_test=X[:, 8000:], Y_test=Y[8000:])
    tracemalloc = pytest.importorskip("tracemalloc")
    tracemalloc.start()
    try:
        ds = data.load_npz(path, dtype=dtype)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    returned = sum(a.nbytes for a in (ds.X_train, ds.Y_train, ds.X_test, ds.Y_test))
    assert ds.X_train.shape == (500, 8000) and ds.X_train.dtype == dtype
    print(f"\n{form}, {order}-ordered float64 -> {dtype}: peak {peak / 1e6:.1f} MB for "
          f"{returned / 1e6:.1f} MB returned ({peak / returned:.3f}x)")
    assert peak <= 1.5 * returned, f"peak {peak} bytes for {returned} returned ({peak / returned:.2f}x)"


# -- load_image_folder --------------------------------------------------------------

COLORS = {"cat": (255, 0, 0), "dog": (0, 0, 255), "eel": (0, 255, 0)}


def write_image_folder(folder, counts=None, *, fmt="PNG", size=(10, 6)):
    """One subfolder per class of solid-color images (width × height = ``size``)."""
    Image = pytest.importorskip("PIL.Image")
    counts = counts or {"cat": 5, "dog": 5}
    for name, n in counts.items():
        (folder / name).mkdir(parents=True)
        for i in range(n):
            suffix = "jpg" if fmt == "JPEG" else fmt.lower()
            Image.new("RGB", size, COLORS[name]).save(folder / name / f"{i}.{suffix}", fmt)
    return folder


def test_image_folder_gives_scaled_columns_and_sorted_classes(tmp_path):
    ds = data.load_image_folder(write_image_folder(tmp_path / "pets"), size=(4, 4))
    assert ds.X_train.shape == (48, 8) and ds.X_test.shape == (48, 2)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float32
    assert ds.X_train.flags.f_contiguous and ds.X_test.flags.f_contiguous
    assert 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    assert ds.Y_train.shape == (1, 8) and ds.Y_train.dtype == np.int64
    assert ds.classes == ("cat", "dog") and ds.name == "pets"


def test_image_folder_columns_are_flattened_like_flatten_images(tmp_path):
    ds = data.load_image_folder(write_image_folder(tmp_path), size=(2, 3))
    red = data.flatten_images(np.tile(np.array([255, 0, 0], dtype=np.uint8), (1, 2, 3, 1)))
    cats = ds.X_train[:, ds.Y_train[0] == 0]  # every cat image is solid red
    np.testing.assert_allclose(cats, np.repeat(red, cats.shape[1], axis=1))


def test_image_folder_resizes_to_height_by_width(tmp_path):
    ds = data.load_image_folder(write_image_folder(tmp_path, size=(40, 30)), size=(5, 7))
    assert ds.X_train.shape[0] == 5 * 7 * 3


def test_image_folder_reads_jpeg(tmp_path):
    ds = data.load_image_folder(write_image_folder(tmp_path, fmt="JPEG"), size=(4, 4))
    cat = ds.X_train[:, ds.Y_train[0] == 0]
    np.testing.assert_allclose(cat[0::3], 1.0, atol=0.05)  # red channel, within JPEG's loss


def test_image_folder_converts_grayscale_and_transparent_images_to_rgb(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    write_image_folder(tmp_path)
    Image.new("L", (5, 5), 128).save(tmp_path / "cat" / "gray.png")
    Image.new("RGBA", (5, 5), (0, 0, 255, 100)).save(tmp_path / "dog" / "clear.png")
    ds = data.load_image_folder(tmp_path, size=(4, 4))
    assert ds.X_train.shape[1] + ds.X_test.shape[1] == 12 and ds.X_train.shape[0] == 48


def test_image_folder_split_is_stratified(tmp_path):
    ds = data.load_image_folder(write_image_folder(tmp_path, {"cat": 10, "dog": 20, "eel": 5}), size=(2, 2))
    assert np.bincount(ds.Y_test.ravel()).tolist() == [2, 4, 1]
    assert np.bincount(ds.Y_train.ravel()).tolist() == [8, 16, 4]


def test_image_folder_split_is_seeded(tmp_path):
    write_image_folder(tmp_path, {"cat": 10, "dog": 10})
    a, b, c = (data.load_image_folder(tmp_path, size=(2, 2), seed=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.Y_train, b.Y_train)
    assert not np.array_equal(a.Y_train, c.Y_train)


def test_image_folder_skips_hidden_and_non_image_files(tmp_path):
    write_image_folder(tmp_path)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "cat" / ".DS_Store").write_bytes(b"\0\1")
    (tmp_path / ".thumbnails").mkdir()
    ds = data.load_image_folder(tmp_path, size=(2, 2))
    assert ds.X_train.shape[1] + ds.X_test.shape[1] == 10 and ds.classes == ("cat", "dog")


def test_image_folder_names_an_unreadable_image(tmp_path):
    write_image_folder(tmp_path)
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG but then nothing")
    with pytest.raises(DataFileError, match=r"broken.png is not a readable image"):
        data.load_image_folder(tmp_path)


@pytest.mark.parametrize("counts, found", [({}, "found none"), ({"cat": 2}, "found only 'cat'")])
def test_image_folder_refuses_fewer_than_two_classes(tmp_path, counts, found):
    pytest.importorskip("PIL")
    for name, n in counts.items():
        write_image_folder(tmp_path, {name: n})
    with pytest.raises(DataFileError, match=f"one subfolder per class, at least two.*{found}"):
        data.load_image_folder(tmp_path)


def test_image_folder_refuses_an_empty_class_folder(tmp_path):
    write_image_folder(tmp_path)
    (tmp_path / "eel").mkdir()
    with pytest.raises(DataFileError, match="eel holds no images"):
        data.load_image_folder(tmp_path)


def test_image_folder_refuses_too_few_images_to_hold_out_a_test_set(tmp_path):
    write_image_folder(tmp_path, {"cat": 1, "dog": 1})
    with pytest.raises(DataFileError, match="at least two images in each class"):
        data.load_image_folder(tmp_path)


def test_image_folder_refuses_a_path_that_is_not_a_folder(tmp_path):
    with pytest.raises(DataFileError, match="is not a folder"):
        data.load_image_folder(tmp_path / "missing")


@pytest.mark.parametrize("size", [(0, 4), (4,), "64", (4.0, 4)])
def test_image_folder_refuses_a_bad_size(tmp_path, size):
    with pytest.raises(ConfigError, match=r"size must be \(height, width\)"):
        data.load_image_folder(tmp_path, size=size)


def test_image_folder_without_pillow_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(DataFileError, match=r"pip install 'xpnet\[images\]'"):
        data.load_image_folder(tmp_path)


# -- load_dataset -------------------------------------------------------------------


def test_load_dataset_flower_is_the_flower_set():
    ds = data.load_dataset("flower")
    np.testing.assert_array_equal(ds.X_train, data.flower_dataset().X_train)
    assert ds.name == "flower" and ds.X_train.dtype == np.float32
    ds64 = data.load_dataset("flower", dtype="float64")
    np.testing.assert_array_equal(ds64.X_train, data.planar_flower(seed=1)[0])
    assert ds64.X_train.dtype == np.float64


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_dataset_generates_named_sets_with_a_fresh_test_draw(name, dtype):
    draw, K = GENERATED[name]
    ds = data.load_dataset(name, seed=2, dtype=dtype)
    for X, seed in ((ds.X_train, 2), (ds.X_test, 1002)):
        assert X.dtype == dtype and X.flags.f_contiguous
        np.testing.assert_array_equal(X, draw(seed=seed)[0].astype(dtype))
    assert ds.Y_train.dtype == np.int64
    assert ds.name == name and len(ds.classes) == K


def test_load_dataset_reads_an_npz_file(tmp_path):
    np.savez(tmp_path / "mine.npz", X=np.zeros((2, 10)), Y=np.arange(10) % 2)
    ds = data.load_dataset(str(tmp_path / "mine.npz"), test_fraction=0.3)
    assert ds.name == "mine" and ds.X_test.shape == (2, 3)


def test_load_dataset_reads_a_cat_folder(tmp_path):
    write_cat_files(tmp_path)
    ds = data.load_dataset(tmp_path)
    assert ds.name == "catvnoncat" and ds.X_train.shape == (12288, 4)


def test_load_dataset_names_the_missing_cat_file(tmp_path):
    write_cat_files(tmp_path)
    (tmp_path / "test_catvnoncat.h5").unlink()
    with pytest.raises(DataFileError, match="does not hold test_catvnoncat.h5"):
        data.load_dataset(tmp_path)


def test_load_dataset_reads_an_image_folder(tmp_path):
    write_image_folder(tmp_path / "pets")
    ds = data.load_dataset(tmp_path / "pets", image_size=(3, 3))
    assert ds.name == "pets" and ds.classes == ("cat", "dog") and ds.X_train.shape[0] == 27


@pytest.mark.parametrize("spec", ["nonsense", "data.csv"])
def test_load_dataset_lists_what_it_accepts_for_an_unknown_spec(spec):
    with pytest.raises(DataFileError, match=r"generated set \(flower, spiral, moons, blobs\).*\.npz.*cat.*images"):
        data.load_dataset(spec)


def test_load_dataset_lists_what_it_accepts_for_a_folder_without_data(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(DataFileError, match="no cat h5 files, no IDX files and no class subfolders.*IDX"):
        data.load_dataset(tmp_path)


def test_load_dataset_refuses_a_file_of_another_kind(tmp_path):
    (tmp_path / "data.csv").write_text("1,2\n")
    with pytest.raises(DataFileError, match="a file xpnet does not read"):
        data.load_dataset(tmp_path / "data.csv")


@pytest.mark.parametrize("seed, high", [(-1, 4294967295), (2**32 - 1000, 4294966295), (2.0, 4294967295)])
def test_load_dataset_refuses_a_seed_numpy_cannot_take_including_the_test_draws(seed, high):
    with pytest.raises(ConfigError, match=rf"^seed must be an integer from 0 to {high} .*got {re.escape(repr(seed))}"):
        data.load_dataset("moons", seed=seed)


def test_load_dataset_takes_the_largest_seed_for_files_and_the_largest_less_1000_for_generated_sets(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=[0, 1, 1, 0])
    assert data.load_dataset(tmp_path / "d.npz", seed=2**32 - 1).X_train.shape == (2, 3)
    assert data.load_dataset("spiral", seed=2**32 - 1001).X_train.shape == (2, 300)


@pytest.mark.parametrize("image_size", [0, (64,), (64, -1), "64", None, (2.5, 3)])
def test_load_dataset_checks_image_size_whatever_it_loads(image_size):
    with pytest.raises(ConfigError, match=r"^image_size must be \(height, width\) in pixels"):
        data.load_dataset("moons", image_size=image_size)


# -- paths of every loader ------------------------------------------------------------

PATH_LOADERS = {
    "load_dataset": data.load_dataset, "load_npz": data.load_npz, "load_catvnoncat": data.load_catvnoncat,
    "find_catvnoncat": data.find_catvnoncat, "load_image_folder": data.load_image_folder, "load_idx": data.load_idx,
}


@pytest.mark.parametrize("path, why", [("", "it is empty"), ("a\0b", "it holds a NUL byte"), (3, "a int is no path"),
                                       (2.5, "a float is no path"), ([], "a list is no path"),
                                       (None, "a NoneType is no path")])
@pytest.mark.parametrize("loader", PATH_LOADERS)
def test_loaders_refuse_what_is_no_path_naming_it(loader, path, why):
    if path is None and loader in ("load_catvnoncat", "find_catvnoncat"):
        pytest.skip("None means $XPNET_DATA there")
    with pytest.raises(DataFileError, match=rf"must be the path of a file or folder .*got {re.escape(repr(path))} "
                                            rf"\({why}\): pass the path as text"):
        PATH_LOADERS[loader](path)


def test_find_catvnoncat_names_the_environment_variable_that_is_no_path(monkeypatch):
    monkeypatch.setenv("XPNET_DATA", "")
    with pytest.raises(DataFileError, match=r"^\$XPNET_DATA must be the path of a file or folder"):
        data.find_catvnoncat()


@pytest.mark.parametrize("loader", ["load_npz", "load_catvnoncat", "load_image_folder", "load_idx"])
def test_loaders_name_a_folder_or_file_of_the_wrong_kind(tmp_path, loader):
    target = tmp_path / "x.npz"
    (target.mkdir() if loader == "load_npz" else target.write_bytes(b""))
    with pytest.raises(DataFileError, match=re.escape(str(target)) + r" (is a folder, not an .npz file|is not a folder"
                                            r"|does not hold)"):
        PATH_LOADERS[loader](target)


def test_a_limit_set_to_what_is_no_whole_number_is_refused_naming_it():
    for value in ("8GB", 0, -1, 2.5, None, True):
        with pytest.raises(ConfigError,
                           match=rf"^xpnet.data.MAX_NPZ_BYTES must be an integer ≥ 1, got {re.escape(repr(value))}$"):
            data.MAX_NPZ_BYTES = value
    assert data.MAX_NPZ_BYTES == 8 * 2**30


# -- dtype= of every loader ---------------------------------------------------------

LOADERS = {
    "load_dataset": lambda path, dtype: data.load_dataset("moons", dtype=dtype),
    "flower_dataset": lambda path, dtype: data.flower_dataset(dtype=dtype),
    "flatten_images": lambda path, dtype: data.flatten_images(np.zeros((1, 2, 2, 3), np.uint8), dtype=dtype),
    "load_npz": lambda path, dtype: data.load_npz(path / "d.npz", dtype=dtype),
    "load_catvnoncat": lambda path, dtype: data.load_catvnoncat(path, dtype=dtype),
    "load_image_folder": lambda path, dtype: data.load_image_folder(path, dtype=dtype),
    "load_idx": lambda path, dtype: data.load_idx(path, dtype=dtype),
}


@pytest.mark.parametrize("dtype", ["float16", "int64", np.float32, np.dtype("float64"), None, "Float32"])
@pytest.mark.parametrize("loader", LOADERS)
def test_loaders_refuse_a_dtype_other_than_float32_or_float64_before_reading(tmp_path, loader, dtype):
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 4)), Y=np.zeros(4))
    with pytest.raises(ConfigError, match=r"dtype must be one of 'float32', 'float64'.*got " + re.escape(repr(dtype))):
        LOADERS[loader](tmp_path, dtype)


# -- load_idx (MNIST's IDX format) ---------------------------------------------------


def idx_bytes(array, *, magic=None, shape=None):
    """An IDX file of unsigned bytes: magic number, sizes (big-endian), data."""
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x0800 | array.ndim if magic is None else magic
    shape = array.shape if shape is None else shape
    return magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in shape) + array.tobytes()


IDX_NAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def idx_arrays(m_train=5, m_test=3):
    """A few 4×3 images of unsigned bytes and their labels, train and test."""
    rng = np.random.RandomState(0)
    return dict(train_images=rng.randint(0, 256, size=(m_train, 4, 3)), train_labels=np.arange(m_train) % 4,
                test_images=rng.randint(0, 256, size=(m_test, 4, 3)), test_labels=np.arange(m_test) % 3)


def write_idx_folder(folder, *, gz=False, dotted=False, arrays=None, raw=None):
    """The four IDX files in ``folder``; ``raw`` = {which: bytes} replaces a file's content. Returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = idx_arrays() if arrays is None else arrays
    paths = {}
    for which, name in IDX_NAMES.items():
        name = name.replace("-idx", ".idx") if dotted else name
        content = (raw or {}).get(which, None)
        content = idx_bytes(arrays[which]) if content is None else content
        path = folder / (name + ".gz" if gz else name)
        path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
        paths[which] = path
    return paths


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzipped"])
@pytest.mark.parametrize("dotted", [False, True], ids=["idx3-ubyte", "images.idx3-ubyte"])
def test_idx_folder_gives_flattened_images_over_255_and_label_ids(tmp_path, gz, dotted):
    arrays = idx_arrays()
    write_idx_folder(tmp_path / "mnist", gz=gz, dotted=dotted, arrays=arrays)
    ds = data.load_idx(tmp_path / "mnist")
    assert ds.X_train.shape == (12, 5) and ds.X_test.shape == (12, 3)
    for X, split in ((ds.X_train, "train"), (ds.X_test, "test")):
        images = arrays[f"{split}_images"].astype(np.uint8)
        assert X.dtype == np.float32 and X.flags.f_contiguous
        np.testing.assert_array_equal(X, (images.reshape(len(images), -1).T / 255.0).astype(np.float32))
        np.testing.assert_array_equal(X[:, 1], np.divide(images[1].ravel(), np.float32(255), dtype=np.float32))
    assert ds.Y_train.tolist() == [[0, 1, 2, 3, 0]] and ds.Y_test.tolist() == [[0, 1, 2]]
    assert ds.Y_train.dtype == ds.Y_test.dtype == np.int64
    assert ds.classes == ("0", "1", "2", "3") and ds.name == "mnist"


def test_idx_folder_in_float64(tmp_path):
    arrays = idx_arrays()
    write_idx_folder(tmp_path, arrays=arrays)
    ds = data.load_idx(tmp_path, dtype="float64")
    assert ds.X_test.dtype == np.float64 and ds.X_test.flags.f_contiguous
    np.testing.assert_array_equal(ds.X_test, arrays["test_images"].reshape(3, -1).T / 255.0)


def test_idx_folder_reads_the_raw_file_where_the_gzipped_one_lies_beside_it(tmp_path):
    write_idx_folder(tmp_path, gz=True)
    write_idx_folder(tmp_path, arrays=idx_arrays(m_train=6))  # as torchvision leaves them: both
    assert data.load_idx(tmp_path).X_train.shape == (12, 6)


def test_load_dataset_reads_an_idx_folder_before_taking_it_for_image_classes(tmp_path):
    write_idx_folder(tmp_path / "digits")
    (tmp_path / "digits" / "extracted").mkdir()  # a subfolder: an image folder, were the IDX files not there
    ds = data.load_dataset(tmp_path / "digits", dtype="float64")
    assert ds.name == "digits" and ds.X_train.shape == (12, 5) and ds.X_train.dtype == np.float64


def test_load_dataset_names_the_missing_idx_files(tmp_path):
    paths = write_idx_folder(tmp_path)
    paths["test_labels"].unlink()
    with pytest.raises(DataFileError, match="does not hold t10k-labels-idx1-ubyte"):
        data.load_dataset(tmp_path)


def idx_refused(folder, path, *fragments, **kwargs):
    with pytest.raises(DataFileError) as info:
        data.load_idx(folder, **kwargs)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def damaged(which, content, gz=False):
    """Parameters for a folder whose file ``which`` holds ``content`` (IDX bytes) instead."""
    return pytest.param(which, content, gz, id=f"{which}{'-gz' if gz else ''}")


IMAGES = np.zeros((5, 4, 3))


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzipped"])
@pytest.mark.parametrize(
    "which, content, named, fragments",
    [
        ("train_images", idx_bytes(np.arange(5)), "train_images", ["magic number is 0x00000801", "0x00000803"]),
        ("train_labels", idx_bytes(IMAGES), "train_labels", ["magic number is 0x00000803", "0x00000801"]),
        ("train_images", idx_bytes(IMAGES, magic=0x0D03), "train_images", ["32-bit floats", "0x00000803"]),
        ("train_images", idx_bytes(IMAGES, magic=0x0804), "train_images", ["in 4 dimension(s)"]),
        ("test_images", b"PK\x03\x04" + bytes(40), "test_images", ["not an IDX magic number"]),
        ("test_labels", b"\0\0", "test_labels", ["not even the 4 of the magic number"]),
        ("test_images", idx_bytes(IMAGES)[:10], "test_images", ["ends inside its header"]),
        ("train_labels", idx_bytes(np.arange(4)), "train_images", ["holds 5 images but", "holds 4 labels"]),
        ("test_images", idx_bytes(np.zeros((3, 3, 4))), "train_images", ["4×3 pixels", "3×4", "one size"]),
        ("test_images", idx_bytes(np.zeros((0, 4, 3))), "test_images", ["holds no pixels"]),
    ],
)
def test_damaged_idx_file_is_refused_naming_it(tmp_path, gz, which, content, named, fragments):
    paths = write_idx_folder(tmp_path, gz=gz, raw={which: content})
    message = idx_refused(tmp_path, paths[named], *fragments)
    assert str(paths[which]) in message


@pytest.mark.parametrize("gz, fragments", [
    (False, ["holds 59 bytes after the header", "truncated"]),  # the file's length says so before reading
    (True, ["its data ends after 59 of the 60 bytes its header declares", "truncated"]),
], ids=["raw", "gzipped"])
def test_idx_file_with_less_data_than_its_header_declares_is_refused(tmp_path, gz, fragments):
    paths = write_idx_folder(tmp_path, gz=gz, raw={"train_images": idx_bytes(IMAGES)[:-1]})
    idx_refused(tmp_path, paths["train_images"], *fragments)


def test_raw_idx_file_longer_than_its_header_declares_is_refused(tmp_path):
    paths = write_idx_folder(tmp_path, raw={"train_labels": idx_bytes(np.arange(5)) + b"\1"})
    idx_refused(tmp_path, paths["train_labels"], "holds 6 bytes after the header", "too long")


def test_gzipped_idx_file_that_decompresses_past_its_declared_size_is_refused(tmp_path):
    paths = write_idx_folder(tmp_path, gz=True, raw={"train_labels": idx_bytes(np.arange(5)) + bytes(10**6)})
    idx_refused(tmp_path, paths["train_labels"], "decompresses to more than the 5 bytes its header declares")


def test_gzipped_idx_file_claiming_more_than_gzip_can_hold_is_refused_before_allocating(tmp_path, monkeypatch):
    claim = idx_bytes(IMAGES, shape=(60000, 28, 28))  # 47 MB declared, 60 bytes there
    paths = write_idx_folder(tmp_path, gz=True, raw={"train_images": claim})

    def no_reading(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr(data._idx, "_idx_data", no_reading)
    idx_refused(tmp_path, paths["train_images"], "(60000, 28, 28)", "more than a gzip file of", "1032 to 1")


def test_idx_files_declaring_more_than_max_bytes_are_refused_before_reading(tmp_path, monkeypatch):
    paths = write_idx_folder(tmp_path, gz=True)
    monkeypatch.setattr(data._idx, "_idx_data", lambda *args: pytest.fail("the data was read"))
    idx_refused(tmp_path, paths["train_labels"], "more than the 64 bytes", "max_bytes=", max_bytes=64)
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 100)
    idx_refused(tmp_path, paths["test_images"], "more than the 100 bytes")


def test_truncated_gzipped_idx_file_is_refused(tmp_path):
    paths = write_idx_folder(tmp_path, gz=True)
    path = paths["train_images"]
    path.write_bytes(path.read_bytes()[:-12])
    idx_refused(tmp_path, path, "is not a readable IDX file")


def test_gzipped_idx_file_with_a_wrong_checksum_is_refused(tmp_path):
    paths = write_idx_folder(tmp_path, gz=True)
    path = paths["test_labels"]
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0xFF  # the CRC-32 of the data
    path.write_bytes(bytes(raw))
    idx_refused(tmp_path, path, "cannot be read", "CRC")


def test_idx_file_named_gz_that_is_not_gzip_is_refused(tmp_path):
    paths = write_idx_folder(tmp_path, gz=True)
    paths["train_labels"].write_bytes(idx_bytes(np.arange(5)))
    idx_refused(tmp_path, paths["train_labels"], "cannot be read")


def test_idx_refuses_a_path_that_is_not_a_folder(tmp_path):
    with pytest.raises(DataFileError, match="is not a folder"):
        data.load_idx(tmp_path / "missing")
