import numpy as np
import pytest

from xpnet import data
from xpnet.errors import DataFileError


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


def test_flatten_images_gives_one_scaled_column_per_image():
    images = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    X = data.flatten_images(images)
    assert X.shape == (12, 2)
    np.testing.assert_array_equal(X[:, 1], images[1].ravel() / 255.0)


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
    assert ds.Y_train.tolist() == [[0, 1, 0, 1]]
    assert 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    assert ds.classes == ("non-cat", "cat")


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
