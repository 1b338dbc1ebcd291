"""_backend's capability routes: the data's memory layout, the gather of a batch, and the
kernels that write into existing arrays; each equal to the standard's plain expression."""

from __future__ import annotations

import numpy as np
import pytest

from xpnet import _backend

from conftest import asarray, assert_in_namespace, to_numpy


def test_examples_contiguous_lays_each_example_contiguous_in_one_copy():
    X = np.arange(12.0).reshape(3, 4)  # C-ordered: each feature's m values contiguous
    held = _backend.examples_contiguous(X, np.float32)
    assert held.flags.f_contiguous and held.dtype == np.float32
    np.testing.assert_array_equal(held, X.astype(np.float32))
    assert X.flags.c_contiguous and X.dtype == np.float64  # the caller's array untouched


def test_examples_contiguous_returns_an_array_already_so_as_it_is():
    X = np.asfortranarray(np.ones((5, 7), dtype=np.float32))
    assert _backend.examples_contiguous(X, np.float32) is X
    assert _backend.examples_contiguous(X) is X


def test_examples_contiguous_on_torch_holds_the_rows_of_X_transposed():
    torch = pytest.importorskip("torch")
    X = torch.arange(12.0, dtype=torch.float64).reshape(3, 4)
    held = _backend.examples_contiguous(X, torch.float32)
    assert held.T.is_contiguous() and held.dtype == torch.float32
    np.testing.assert_array_equal(held.numpy(), X.numpy().astype(np.float32))
    assert _backend.examples_contiguous(held) is held


def test_examples_contiguous_keeps_the_namespace_and_values(xp):
    X = asarray(np.arange(12.0).reshape(3, 4), xp)
    held = _backend.examples_contiguous(X, xp.float32)
    assert_in_namespace(held, xp, _backend.device(X))
    assert held.dtype == xp.float32
    np.testing.assert_array_equal(to_numpy(held), np.arange(12.0).reshape(3, 4))


@pytest.mark.parametrize("layout", ["as given", "examples contiguous"])
def test_take_examples_equals_indexing_the_columns(xp, layout):
    X_host = np.random.RandomState(0).randn(6, 50)
    X = asarray(X_host, xp)
    if layout == "examples contiguous":
        X = _backend.examples_contiguous(X)
    columns = np.array([7, 3, 49, 0, 3])
    batch = _backend.take_examples(X, asarray(columns, xp), xp=xp)
    assert_in_namespace(batch, xp, _backend.device(X))
    np.testing.assert_array_equal(to_numpy(batch), X_host[:, columns])


def test_a_batch_of_an_example_contiguous_X_is_laid_the_same_way():
    X = np.asfortranarray(np.random.RandomState(0).randn(6, 50))
    xp = _backend.namespace(X)
    batch = _backend.take_examples(X, np.array([4, 1, 2]), xp=xp)
    assert batch.flags.f_contiguous


def test_take_examples_does_not_copy_the_whole_of_X():
    import tracemalloc

    X = np.asfortranarray(np.zeros((500, 20_000), dtype=np.float32))  # 40 MB
    xp = _backend.namespace(X)
    columns = np.random.RandomState(0).permutation(20_000)[:128]
    tracemalloc.start()
    try:
        _backend.take_examples(X, columns, xp=xp)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 500 * 128 * 4 + 100_000  # the batch, not X


def test_kernels_write_the_bits_of_the_plain_expressions(xp):
    if not _backend.supports_inplace(xp):
        pytest.skip("jax arrays are immutable: the in-place route does not run there")
    rng = np.random.RandomState(2)
    a, b = asarray(rng.randn(4, 6), xp), asarray(rng.randn(6, 5), xp)
    kernels = _backend.Kernels(xp)
    out = xp.zeros((4, 5), dtype=a.dtype, device=_backend.device(a))
    assert kernels.matmul(a, b, out=out) is out
    np.testing.assert_array_equal(to_numpy(out), to_numpy(a @ b))
    sums = xp.zeros((4, 1), dtype=a.dtype, device=_backend.device(a))
    kernels.sum_columns(a, out=sums)
    np.testing.assert_array_equal(to_numpy(sums), to_numpy(xp.sum(a, axis=1, keepdims=True)))
    s = xp.abs(a)
    expected = to_numpy(xp.sqrt(s))
    kernels.sqrt(s, out=s)
    np.testing.assert_array_equal(to_numpy(s), expected)
