"""xpnet.bench.hostdata: a workload's data, from where it is asked for and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CAT_DATA

from xpnet import bench

CAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")


def _cat_workload():
    return bench.workloads(iterations=1)["cat-fit"]


def test_pixel_data_is_seeded_float32_in_the_unit_interval():
    w = bench.workloads(mnist_m=300)["mnist-epoch"]
    data = bench.host_data(w)
    assert data.X.shape == (784, 300) and data.X.dtype == np.float32
    assert data.X.min() >= 0 and data.X.max() < 1
    assert data.labels.shape == (300,) and set(np.unique(data.labels)) <= set(range(10))
    assert data.Y.shape == (10, 300) and (data.Y.sum(axis=0) == 1).all()
    np.testing.assert_array_equal(bench.host_data(w).X, data.X)
    assert "random pixels" in data.source


def test_x_layouts_on_numpy_and_torch():
    X = np.arange(12.0).reshape(3, 4)
    numpy = bench.resolve_target("numpy")
    row = bench.x_in_layout(X, numpy, "float32", "C")
    col = bench.x_in_layout(X, numpy, "float32", "F")
    assert row.flags["C_CONTIGUOUS"] and col.flags["F_CONTIGUOUS"] and not col.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(col, X)
    pytest.importorskip("torch")
    col = bench.x_in_layout(X, bench.resolve_target("torch", "cpu"), "float32", "F")
    assert tuple(col.shape) == (3, 4) and col.stride() == (1, 3)  # each example contiguous
    np.testing.assert_array_equal(col.numpy(), X)


def test_without_a_folder_the_cat_workload_runs_on_random_data_and_says_why(monkeypatch):
    monkeypatch.delenv("XPNET_DATA", raising=False)
    data = bench.host_data(_cat_workload())
    assert data.X.shape == (12288, 209) and data.labels.shape == (209,)
    assert data.source.startswith("random") and "XPNET_DATA" in data.source


def _cat_folder_beside(tmp_path):
    """A checkout-like tree: tmp/main, with tmp/shared/data/catvnoncat holding the cat files."""
    if not all((CAT_DATA / f).is_file() for f in CAT_FILES):
        pytest.skip(f"the course's cat files are not in {CAT_DATA}")
    pytest.importorskip("h5py")
    folder = tmp_path / "shared" / "data" / "catvnoncat"
    folder.mkdir(parents=True)
    for f in CAT_FILES:
        (folder / f).symlink_to(CAT_DATA / f)
    (tmp_path / "main").mkdir()
    return folder


def test_the_cat_images_come_from_the_folder_asked_for_or_xpnet_data(tmp_path, monkeypatch):
    folder = _cat_folder_beside(tmp_path)
    monkeypatch.delenv("XPNET_DATA", raising=False)
    data = bench.host_data(_cat_workload(), cat_dir=folder)
    assert data.source == f"the course's cat images ({folder})"
    assert data.X.shape == (12288, 209) and set(np.unique(data.labels)) == {0, 1}
    monkeypatch.setenv("XPNET_DATA", str(folder))
    from_env = bench.host_data(_cat_workload())
    assert from_env.source == data.source
    np.testing.assert_array_equal(from_env.X, data.X)


def test_no_development_tree_is_guessed(tmp_path, monkeypatch):
    # Installed code looks only where it is told: not in ../shared beside the current
    # directory, nor beside the package's own files (this checkout's ../shared).
    _cat_folder_beside(tmp_path)
    monkeypatch.delenv("XPNET_DATA", raising=False)
    monkeypatch.chdir(tmp_path / "main")
    assert bench.host_data(_cat_workload()).source.startswith("random")
