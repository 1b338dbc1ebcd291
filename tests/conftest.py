"""Shared fixtures: one ``xp`` fixture runs a test on every installed backend."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import array_api_compat
import numpy as np
import pytest

from xpnet import _backend

# The course's cat files: ../shared/data/catvnoncat beside the project, unless
# XPNET_DATA points elsewhere (as on a machine where shared/ is not beside it).
CAT_DATA = Path(
    os.environ.get("XPNET_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "catvnoncat"
)


def _cuda_available() -> bool:
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _torch_cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


#: Backend ids of the ``xp`` fixture: the namespace, the device its arrays go to
#: (None: the library's default), and whether it can run here (and why not).
BACKENDS = {
    "numpy": ("numpy", None),
    "array_api_strict": ("array_api_strict", None),
    "torch": ("torch", None),
    "jax": ("jax", None),  # its default device: the GPU where JAX has one
    "cupy": ("cupy", None),
    "torch_cuda": ("torch", "cuda"),  # xpnet's code on torch tensors on a CUDA device
    # A stand-in for a GPU that CI has: array-api-strict's second device refuses to mix
    # with the default one and to turn into NumPy, as a GPU's arrays would.
    "strict_device1": ("array_api_strict", "device1"),
}


def _backend_params():
    for name, (module, _) in BACKENDS.items():
        if name == "cupy":
            installed = _cuda_available()
            why = "cupy needs an installed cupy and a CUDA device"
        elif name == "torch_cuda":
            installed = _torch_cuda_available()
            why = "torch_cuda needs torch with a CUDA device"
        else:
            installed = importlib.util.find_spec(module) is not None
            why = f"{name} is not installed"
        marks = () if installed else (pytest.mark.skip(reason=why),)
        yield pytest.param(name, id=name, marks=marks)


_current_device = {}  # namespace -> device, for the test running now


@pytest.fixture(params=list(_backend_params()))
def xp(request):
    """The array-API namespace of one backend (jax with float64 enabled); the test's arrays
    made with :func:`asarray` go to that backend's device (CUDA for torch_cuda)."""
    module, device = BACKENDS[request.param]
    namespace = _backend.namespace_by_name(module)
    if module == "jax":
        _backend.enable_jax_x64()  # the tests' process: float64 runs on JAX too
    if device is not None:
        device = _device_by_name(namespace, device)
        _current_device[namespace] = device
    yield namespace
    _current_device.pop(namespace, None)


def _device_by_name(xp, name):
    if array_api_compat.is_torch_namespace(xp):
        import torch

        return torch.device(name)
    return xp.Device(name)


def asarray(a, xp):
    """A NumPy (or nested list) value as an array of ``xp`` on the test's device."""
    return _backend.from_host(np.asarray(a), xp, _current_device.get(xp))


def to_numpy(x) -> np.ndarray:
    return np.asarray(_backend.to_host(x))


def assert_in_namespace(x, xp, device=None) -> None:
    """``x`` is an array of namespace ``xp`` (and on ``device``), not silently NumPy."""
    assert array_api_compat.array_namespace(x) is xp, (
        f"result is a {type(x).__module__}.{type(x).__name__}, expected an array of {xp.__name__}"
    )
    if device is not None:
        assert array_api_compat.device(x) == device


@pytest.fixture(scope="session")
def cat_data():
    """The course's cat data, or a skip that says where it was looked for."""
    if not all((CAT_DATA / f).is_file() for f in ("train_catvnoncat.h5", "test_catvnoncat.h5")):
        pytest.skip(f"cat data not found at {CAT_DATA} (the course's h5 files live in ../shared/data)")
    pytest.importorskip("h5py", reason="reading the cat data needs h5py")
    from xpnet.data import load_catvnoncat

    return load_catvnoncat(CAT_DATA)


def pytest_terminal_summary(terminalreporter):
    """After the run: how many files the fuzz tests (test_fuzz.py) gave each loader, and how
    each was answered; nothing when they did not run."""
    fuzz = sys.modules.get("test_fuzz")
    outcomes = getattr(fuzz, "OUTCOMES", None)
    if not outcomes:
        return
    total = sum(sum(counts.values()) for counts in outcomes.values())
    terminalreporter.write_sep("-", f"fuzzed files: {total}")
    for target, counts in outcomes.items():
        answers = ", ".join(f"{name} {n}" for name, n in counts.most_common())
        terminalreporter.write_line(f"{target}: {sum(counts.values())} ({answers})")
