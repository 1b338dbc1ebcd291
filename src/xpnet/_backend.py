"""The one place that knows about array libraries.

Everything else in xpnet receives an array-API namespace ``xp`` and never
imports NumPy, CuPy, PyTorch or JAX for the math. This module resolves that
namespace and the device from the user's arrays, names backends, and moves
arrays between the host (NumPy) and the device; it holds the capability routes
that depend on a library (the data's layout and gathers, the kernels that
write into arrays, matrix-product precision, array kinds refused at the
boundary, a stack's products with shared data as one GEMM). It runs to about 570
lines because every line of xpnet that knows a particular array library is
here, by design.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

from .errors import BackendError, ConfigError, DataError

#: Backend names accepted by ``backend=`` and ``--backend``.
BACKENDS = ("numpy", "cupy", "torch", "jax", "array_api_strict")

_COMPAT_MODULES = {
    "numpy": "array_api_compat.numpy",
    "cupy": "array_api_compat.cupy",
    "torch": "array_api_compat.torch",
    "jax": "jax.numpy",
    "array_api_strict": "array_api_strict",
}

_INSTALL_HINTS = {
    "cupy": "pip install 'xpnet[cuda12]' or 'xpnet[cuda13]' (needs an NVIDIA GPU)",
    "torch": "pip install torch",
    "jax": "pip install 'jax[cpu]'",
    "array_api_strict": "pip install array-api-strict",
}


def namespace(*arrays: Any) -> ModuleType:
    """The array-API namespace shared by ``arrays`` (NumPy is wrapped by array-api-compat)."""
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError as exc:
        kinds = sorted({type(a).__module__ + "." + type(a).__qualname__ for a in arrays})
        raise BackendError(
            f"cannot train on a mix of array types {kinds}: pass X and Y from the same "
            "library (NumPy, CuPy, PyTorch, JAX or array-api-strict) and on the same device"
        ) from exc


def plain_array(x: Any, name: str) -> Any:
    """``x`` as an array the math can take, or a :class:`DataError` that says what to pass.

    - ``numpy.matrix``: its plain ndarray (``*`` would be a matrix product on it);
    - a PyTorch tensor that carries an autograd graph: detached (training through it
      would grow the graph with every step); a sparse or ``meta`` tensor: refused;
    - a NumPy masked array or a SciPy sparse matrix: refused (the math would use the
      masked entries, or cannot take the format);
    - a JAX tracer (a call inside ``jax.jit``, ``grad`` or ``vmap``): refused.
    """
    if isinstance(x, np.ma.MaskedArray):
        raise DataError(f"{name} is a masked array, whose masked entries xpnet would train on: "
                        f"fill them (numpy.ma.filled) or drop those examples first")
    if isinstance(x, np.matrix):
        return np.asarray(x)
    module = type(x).__module__
    if module.startswith("scipy.sparse"):
        raise DataError(f"{name} is a SciPy sparse {type(x).__name__}: xpnet trains on dense "
                        f"arrays; pass {name}.toarray()")
    if array_api_compat.is_torch_array(x):
        torch = sys.modules["torch"]
        if x.layout != torch.strided:
            raise DataError(f"{name} is a sparse tensor ({x.layout}): pass {name}.to_dense()")
        if x.device.type == "meta":
            raise DataError(f"{name} is a tensor on the 'meta' device, which holds no values")
        if x.requires_grad:
            return x.detach()
    if module.startswith("jax") and "Tracer" in type(x).__name__:
        raise DataError(f"{name} is a JAX tracer: xpnet's fit and predictions run eagerly, "
                        "outside jax.jit, grad or vmap; call them on concrete arrays")
    return x


def device(x: Any) -> Any:
    """The device ``x`` lives on."""
    return array_api_compat.device(x)


def namespace_by_name(name: str) -> ModuleType:
    """The array-API namespace of a backend named in :data:`BACKENDS`."""
    if not isinstance(name, str) or name not in _COMPAT_MODULES:
        raise ConfigError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    try:
        return importlib.import_module(_COMPAT_MODULES[name])
    except ImportError as exc:
        raise BackendError(
            f"backend {name!r} is not installed: {_INSTALL_HINTS.get(name, 'install it')}"
        ) from exc


def backend_name(xp: ModuleType) -> str:
    """The short name (as in :data:`BACKENDS`) of namespace ``xp``."""
    if array_api_compat.is_numpy_namespace(xp):
        return "numpy"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    if array_api_compat.is_torch_namespace(xp):
        return "torch"
    if array_api_compat.is_jax_namespace(xp):
        return "jax"
    if array_api_compat.is_array_api_strict_namespace(xp):
        return "array_api_strict"
    return getattr(xp, "__name__", repr(xp))


#: Where ``device=`` (``--device``) puts a backend's arrays: "auto" (its GPU where it has
#: one, else the CPU), "cpu" or "gpu".
DEVICES = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class Target:
    """Where xpnet runs: a backend's namespace, the device to create arrays on, and its kind."""

    backend: str
    xp: ModuleType
    device: Any  # passed to from_host; None for the library's default
    kind: str  # "cpu" or "gpu"
    label: str  # for people: "cpu", "cuda:0 (NVIDIA H100 80GB HBM3)", ...

    def put(self, a: Any) -> Any:
        """Array ``a`` (of any library, or a nested list) moved here; as it is if it is here."""
        return move(a, self.xp, self.device)


def resolve_target(backend: str = "numpy", device: str = "auto", *, local_rank: int = 0) -> Target:
    """The :class:`Target` of ``backend`` on ``device`` (one of :data:`DEVICES`).

    On a node with several GPUs, process ``local_rank`` of the node takes GPU
    ``local_rank % count``, so that the processes of data-parallel training
    share the node's GPUs out; CuPy's is made its current device.
    """
    if not isinstance(device, str) or device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    xp = namespace_by_name(backend)
    if backend in ("numpy", "array_api_strict"):
        if device == "gpu":
            raise ConfigError(f"{backend} runs on the CPU only: for a GPU, train on cupy, torch or jax")
        return Target(backend, xp, None, "cpu", "cpu")
    if backend == "cupy":
        import cupy

        if device == "cpu":
            raise ConfigError("cupy runs on the GPU only: ask for device 'gpu' or 'auto'")
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no driver, or no CUDA device at all
            raise BackendError(f"backend 'cupy' cannot run here: cupy sees no CUDA device "
                               f"({type(exc).__name__})") from None
        if count < 1:
            raise BackendError("backend 'cupy' cannot run here: cupy sees no CUDA device")
        gpu = cupy.cuda.Device(local_rank % count)
        gpu.use()  # CuPy creates arrays and runs kernels on its current device
        name = cupy.cuda.runtime.getDeviceProperties(gpu.id)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        return Target(backend, xp, None, "gpu", f"cuda:{gpu.id} ({name})")
    if backend == "torch":
        import torch

        if device != "cpu" and torch.cuda.is_available():
            index = local_rank % torch.cuda.device_count()
            return Target(backend, xp, torch.device("cuda", index), "gpu",
                          f"cuda:{index} ({torch.cuda.get_device_name(index)})")
        if device == "gpu":
            raise BackendError("torch sees no CUDA device: ask for device 'cpu' or 'auto'")
        return Target(backend, xp, torch.device("cpu"), "cpu", "cpu")
    if backend == "jax":
        gpus = jax_devices("gpu")
        if device != "cpu" and gpus:
            gpu = gpus[local_rank % len(gpus)]
            return Target(backend, xp, gpu, "gpu", str(gpu))
        if device == "gpu":
            raise BackendError("jax sees no GPU: ask for device 'cpu' or 'auto'")
        return Target(backend, xp, jax_devices("cpu")[0], "cpu", "cpu")
    raise ConfigError(f"unknown backend {backend!r}")  # pragma: no cover


def jax_devices(kind: str) -> list:
    """JAX's devices of ``kind`` ("cpu", "gpu"); none where it has no such backend."""
    import jax

    try:
        return jax.devices(kind)
    except RuntimeError:
        return []


def dtype_by_name(xp: ModuleType, name: str) -> Any:
    """``xp.float32`` or ``xp.float64`` from its name; float64 on JAX only where its
    64-bit types are on (xpnet does not switch them on for the whole process)."""
    if name not in ("float32", "float64"):
        raise ConfigError(f"unknown dtype {name!r}: choose 'float32' or 'float64'")
    if name == "float64" and array_api_compat.is_jax_namespace(xp):
        import jax

        if not jax.config.jax_enable_x64:
            raise ConfigError(
                "dtype='float64' on JAX needs its 64-bit types, which are off: JAX would "
                "train in float32. Call jax.config.update('jax_enable_x64', True) at the "
                "start of your program (or set JAX_ENABLE_X64=1), or use dtype='float32'"
            )
    return getattr(xp, name)


def enable_jax_x64() -> None:
    """Switch on JAX's 64-bit types for the whole process: for programs that own their
    process (xpnet's command line, its benchmarks), never called by the library."""
    import jax

    jax.config.update("jax_enable_x64", True)


#: What ``precision=`` accepts: "full" (products at their dtype's precision) or "tf32"
#: (float32 storage, products on TF32 tensor cores: GPUs of compute capability 8.0 and up).
PRECISIONS = ("full", "tf32")


@contextlib.contextmanager
def matmul_precision(precision: str = "full"):
    """A context in which float32 matrix products run at ``precision``, on every library
    already imported; each library's own setting comes back afterwards.

    "full": float32 means float32. JAX on an Ampere-or-newer GPU would run float32
    products in TF32 by default (a 10-bit mantissa; seen on an H200 as 3e-4
    relative error in predictions), and CuPy does where CUPY_TF32=1.
    "tf32": JAX, PyTorch (CUDA) and CuPy run them on TF32 tensor cores, the
    explicit opt-in. CPUs have no TF32: there both are the same.

    PyTorch and CuPy offer only process-wide switches: xpnet sets them while any
    fit asks for TF32 and puts them back after the last (counted across
    threads); a "full" fit on another thread meanwhile shares that setting.
    JAX's is scoped to the thread.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    tf32 = precision == "tf32"
    with contextlib.ExitStack() as stack:
        jax = sys.modules.get("jax")
        if jax is not None:
            stack.enter_context(jax.default_matmul_precision("tensorfloat32" if tf32 else "highest"))
        torch = sys.modules.get("torch")
        if torch is not None and tf32:
            # PyTorch has only a process-wide switch (off by default, so "full" leaves it
            # alone): it is on while any fit asks for TF32, and back as it was after the last.
            stack.enter_context(_torch_tf32(torch))
        cupy = sys.modules.get("cupy")
        if cupy is not None and cupy.cuda.is_available():
            # CuPy keeps one compute type per dtype for its cuBLAS products (2-D operands:
            # all of xpnet's); a change applies from the next product on.
            linalg = importlib.import_module("cupy._core._routines_linalg")
            if tf32:  # counted across threads, as PyTorch's switch
                stack.enter_context(_CUPY_TF32.held(
                    lambda: linalg.get_compute_type(np.float32),
                    lambda v: linalg.set_compute_type(np.float32, v), linalg.COMPUTE_TYPE_TF32))
            elif linalg.get_compute_type(np.float32) != linalg.COMPUTE_TYPE_DEFAULT \
                    and _CUPY_TF32.users == 0:
                # TF32 by the user's CUPY_TF32=1, not by a fit: full precision for this one.
                # (A fit asking for "full" while another thread's asks for TF32 shares the
                # one process-wide setting: it runs in TF32 then, the one case not kept apart.)
                previous = linalg.get_compute_type(np.float32)
                stack.callback(linalg.set_compute_type, np.float32, previous)
                linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_DEFAULT)
        yield


class _CountedSwitch:
    """A library's process-wide setting (PyTorch's TF32 flag, CuPy's compute type) set while
    any fit asks for it and put back by the last one: fits on several threads leave it as
    the first one found it. ``read()`` gives the setting, ``write(v)`` sets it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0
        self.before = None

    @contextlib.contextmanager
    def held(self, read, write, value):
        with self.lock:
            if self.users == 0:
                self.before = read()
                write(value)
            self.users += 1
        try:
            yield
        finally:
            with self.lock:
                self.users -= 1
                if self.users == 0:
                    write(self.before)


_TORCH_TF32 = _CountedSwitch()
_CUPY_TF32 = _CountedSwitch()


def _torch_tf32(torch):
    """PyTorch's TF32 switch on for the context (counted across threads)."""
    matmul = torch.backends.cuda.matmul
    return _TORCH_TF32.held(lambda: matmul.allow_tf32,
                            lambda v: setattr(matmul, "allow_tf32", v), True)


def supports_inplace(xp: ModuleType) -> bool:
    """Whether arrays of ``xp`` can be updated in place (``x -= y``): every backend but JAX,
    whose arrays are immutable."""
    return not array_api_compat.is_jax_namespace(xp)


def on_accelerator(xp: ModuleType, device: Any) -> bool:
    """Whether arrays of ``xp`` on ``device`` live on a GPU (or another accelerator), where
    every host transfer inside a step would make the device wait."""
    if array_api_compat.is_cupy_namespace(xp):
        return True
    return device is not None and "cpu" not in str(device).lower()


def device_memory(xp: ModuleType, device: Any) -> int | None:
    """The bytes of memory of ``device`` when it is a GPU (CuPy, PyTorch), or None: arrays
    on a CPU live in the machine's memory (``_checks.machine_memory``)."""
    if array_api_compat.is_cupy_namespace(xp):
        cupy = importlib.import_module("cupy")
        with cupy.cuda.Device(getattr(device, "id", device)):
            return int(cupy.cuda.runtime.memGetInfo()[1])
    if array_api_compat.is_torch_namespace(xp) and on_accelerator(xp, device):
        torch = importlib.import_module("torch")
        if str(device).startswith("cuda"):
            return int(torch.cuda.mem_get_info(device)[1])
    return None


def to_host(x: Any) -> np.ndarray:
    """A NumPy copy (or view, where free) of array ``x`` from any backend or device."""
    if isinstance(x, np.ndarray):
        return x
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_jax_array(x):
        return np.asarray(x)  # DLPack refuses a GPU buffer here; __array__ copies from any device
    return np.from_dlpack(x) if hasattr(x, "__dlpack__") else np.asarray(x)


def from_host(a: np.ndarray, xp: ModuleType, device: Any = None) -> Any:
    """Array ``a`` (NumPy, on the host) moved into namespace ``xp`` on ``device``."""
    if device is None:
        return xp.asarray(a)
    return xp.asarray(a, device=device)


def move(x: Any, xp: ModuleType, device: Any = None) -> Any:
    """Array ``x`` from any backend (or a nested list) moved into namespace ``xp`` on ``device``."""
    if not array_api_compat.is_array_api_obj(x):
        x = np.asarray(x)
    if namespace(x) is xp and (device is None or array_api_compat.device(x) == device):
        return x
    host = to_host(x)
    if not (host.flags.c_contiguous or host.flags.f_contiguous):
        host = np.ascontiguousarray(host)  # a contiguous block; either order moves as it is
    return from_host(host, xp, device)


def synchronize(x: Any) -> Any:
    """Wait until the device holding ``x`` has finished the work queued for it; returns ``x``.

    ``x`` is an array or a (nested) tuple or list of arrays, such as a network's
    parameters. CuPy: the current stream; PyTorch: the CUDA device of a CUDA
    tensor; JAX: ``block_until_ready`` on each array. NumPy and array-api-strict
    compute eagerly on the CPU, so there is nothing to wait for. For timing
    only: the training loop never calls it.
    """
    if isinstance(x, (tuple, list)):
        for item in x:
            synchronize(item)
    elif array_api_compat.is_cupy_array(x):
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    elif array_api_compat.is_torch_array(x):
        if x.device.type == "cuda":
            import torch

            torch.cuda.synchronize(x.device)
    elif array_api_compat.is_jax_array(x):
        x.block_until_ready()
    return x


# -- memory layout of the data ------------------------------------------------------
#
# The standard cannot name memory order, yet it decides how fast a mini-batch is
# gathered: NumPy's take along axis 1 copies the whole of X first when X is not
# C-ordered (an epoch quadratic in m), and even on a C-ordered X a gather of
# scattered columns touches every feature's row. Held with each example's n_x
# values contiguous (column-major, as PyTorch holds its rows), a batch is a gather
# of whole rows of Xᵀ, and the products take the transposed operand as it is.


def chooses_memory_order(xp: ModuleType) -> bool:
    """Whether arrays of ``xp`` can be laid out in a memory order xpnet chooses:
    NumPy, CuPy and PyTorch (JAX and array-api-strict decide for themselves)."""
    return (array_api_compat.is_numpy_namespace(xp) or array_api_compat.is_cupy_namespace(xp)
            or array_api_compat.is_torch_namespace(xp))


def _examples_contiguous(X: Any) -> bool:
    if array_api_compat.is_torch_array(X):
        return X.T.is_contiguous()
    return bool(X.flags.f_contiguous)


def examples_contiguous(X: Any, dtype: Any = None) -> Any:
    """X (n_x, m) in ``dtype`` (its own when None), held with each example contiguous where
    the backend lets xpnet choose (:func:`chooses_memory_order`); at most one copy, none
    when X is already so. Elsewhere X cast to ``dtype``, as it lies."""
    xp = namespace(X)
    dtype = X.dtype if dtype is None else dtype
    if not chooses_memory_order(xp):
        return X if X.dtype == dtype else xp.astype(X, dtype)
    if X.dtype == dtype and _examples_contiguous(X):
        return X
    if array_api_compat.is_torch_array(X):
        rows = X.new_empty((X.shape[1], X.shape[0]), dtype=dtype)  # one copy, cast on the way
        return rows.copy_(X.T).T
    lib = sys.modules["cupy" if array_api_compat.is_cupy_array(X) else "numpy"]
    return lib.asarray(X, dtype=dtype, order="F")


def take_examples(X: Any, columns: Any, *, xp: ModuleType) -> Any:
    """X[:, columns] (n_x, len(columns)) for X (n_x, m) and an integer array ``columns`` of
    ``xp``: gathered as whole rows of Xᵀ where each example is contiguous (the batch comes
    out laid the same way), else along axis 1."""
    if chooses_memory_order(xp) and _examples_contiguous(X):
        return xp.take(X.T, columns, axis=0).T
    return xp.take(X, columns, axis=1)


# -- a stack's products with shared data ------------------------------------------------
#
# A sweep (xpnet.sweeps) trains K networks of one shape on the same X: W[1]·X for a stack
# W[1] (K, n, n_x) is K products with one right operand. Broadcast ``@`` runs them as K
# GEMMs of n rows (NumPy loops over the stack); laid end to end they are one GEMM of
# K·n rows, which a BLAS runs near its peak where n = 7 rows ran at a third of it.


def folds_stacked_products(xp: ModuleType) -> bool:
    """Whether a stack's products with a shared operand run as one GEMM of K·n rows on
    ``xp``: every backend but array-api-strict, which keeps the broadcast ``@`` (the
    reference the tests compare the folded product with)."""
    return not array_api_compat.is_array_api_strict_namespace(xp)


def _c_contiguous(x: Any) -> bool:
    if array_api_compat.is_torch_array(x):
        return x.is_contiguous()
    if array_api_compat.is_jax_array(x):
        return True  # no views: a reshape is XLA's to lay out
    flags = getattr(x, "flags", None)
    return bool(flags is not None and flags.c_contiguous)


def stacked_matmul(A: Any, B: Any, *, xp: ModuleType, out: Any = None, kernels: Any = None,
                   fold: bool | None = None) -> Any:
    """A @ B for a stack A (K, n, k) and a shared B (k, m): (K, n, m), into ``out`` if
    given (through ``kernels``, a :class:`Kernels`).

    Folded (``fold``, by default :func:`folds_stacked_products`, and where A and
    ``out`` are laid row-major so that the reshapes are views): one product
    (K·n, k)·(k, m). Else the broadcast ``@``, the reference.
    """
    K, n, k = A.shape
    if fold is None:
        fold = folds_stacked_products(xp)
    fold = fold and _c_contiguous(A) and (out is None or _c_contiguous(out))
    if not fold:
        return A @ B if out is None else kernels.matmul(A, B, out=out)
    A_rows = xp.reshape(A, (K * n, k))
    if out is None:
        return xp.reshape(A_rows @ B, (K, n, B.shape[-1]))
    kernels.matmul(A_rows, B, out=xp.reshape(out, (K * n, B.shape[-1])))
    return out


# -- writing into arrays that exist -----------------------------------------------------


class Kernels:
    """The few operations the in-place route of a step writes into an existing array
    ``out`` (the standard has no ``out=``): the library's own ``out=`` where it has one
    (NumPy, CuPy, PyTorch), else the standard's result copied into ``out``. Either way
    the same bits as the pure expression beside each."""

    def __init__(self, xp: ModuleType):
        self.xp = xp
        self.lib = None
        if array_api_compat.is_numpy_namespace(xp):
            self.lib = np
        elif array_api_compat.is_cupy_namespace(xp):
            self.lib = importlib.import_module("cupy")
        elif array_api_compat.is_torch_namespace(xp):
            self.lib = importlib.import_module("torch")
        self.torch = array_api_compat.is_torch_namespace(xp)

    def matmul(self, a: Any, b: Any, *, out: Any) -> Any:
        """out = a @ b."""
        if self.lib is None:
            out[...] = a @ b
        else:
            self.lib.matmul(a, b, out=out)
        return out

    def sum_columns(self, a: Any, *, out: Any) -> Any:
        """out = xp.sum(a, axis=-1, keepdims=True), for a (n, m) and out (n, 1), or a stack
        a (K, n, m) and out (K, n, 1)."""
        if self.lib is None:
            out[...] = self.xp.sum(a, axis=-1, keepdims=True)
        elif self.torch:
            self.lib.sum(a, dim=-1, keepdim=True, out=out)
        else:
            self.lib.sum(a, axis=-1, keepdims=True, out=out)
        return out

    def relu(self, Z: Any) -> Any:
        """Z = xp.maximum(Z, 0.0), written over Z."""
        if self.lib is None:
            Z[...] = self.xp.maximum(Z, 0.0)
        elif self.torch:
            self.lib.maximum(Z, Z.new_zeros(()), out=Z)
        else:
            self.lib.maximum(Z, 0.0, out=Z)
        return Z

    def mask(self, dA: Any, keep: Any) -> Any:
        """dA = dA * xp.astype(keep, dA.dtype) for a boolean ``keep``, written over dA
        (with no float copy of the mask)."""
        if self.lib is None:
            dA[...] = dA * self.xp.astype(keep, dA.dtype)
        elif self.torch:
            dA.mul_(keep)
        else:
            self.lib.multiply(dA, keep, out=dA)
        return dA

    def sqrt(self, a: Any, *, out: Any) -> Any:
        """out = xp.sqrt(a); ``out`` may be ``a``."""
        if self.lib is None:
            out[...] = self.xp.sqrt(a)
        else:
            self.lib.sqrt(a, out=out)
        return out
