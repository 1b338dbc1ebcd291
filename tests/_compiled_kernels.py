"""xpnet's ``cupy.ElementwiseKernel`` definitions, compiled without CuPy or a GPU.

A kernel definition is CUDA C++: parameter lists and an operation per element.
CuPy wraps it in a ``__global__`` function (``typedef float T;``, each input a
const element, each output a reference to one) and compiles it with NVRTC on
first call, on a GPU. Here the same definitions go into a wrapper of that shape
and are compiled two ways:

- :func:`host_kernels`: by the host's C++ compiler into a shared library, loaded
  with ctypes; :class:`HostKernel` calls it as CuPy would call the kernel, on
  NumPy arrays. C++ float and double arithmetic is IEEE 754 on both sides, and
  ``-ffp-contract=off`` keeps the host from fusing a·b + c, as ``--fmad=false``
  keeps the GPU; so the host's bits are the bits the GPU must give.
- :func:`ptx_for_gpu`: by nvcc, with the kernels' own options, for a GPU
  architecture: the text must be CUDA C++ that builds, before a GPU run spends
  device time on it, and its instructions show how the GPU will round.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: CuPy's names of the explicit types xpnet's kernels use, as C++ and NumPy types.
_EXPLICIT = {"int64": ("long long", np.int64), "float32": ("float", np.float32),
             "float64": ("double", np.float64)}
#: What the type placeholder T stands for in each compiled instance.
_T_TYPES = {"float": np.float32, "double": np.float64}

_PRELUDE = """
#ifdef __CUDACC__
#define XPNET_KERNEL extern "C" __global__
#define XPNET_FOR_EACH(i, n) \\
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; \\
         i += (long long)blockDim.x * gridDim.x)
#else
#include <cmath>
using std::sqrt;  // sqrt(float) in float, as CUDA's overload computes it
#define XPNET_KERNEL extern "C"
#define XPNET_FOR_EACH(i, n) for (long long i = 0; i < n; ++i)
#endif
"""


@dataclass(frozen=True)
class Parameter:
    type: str  # "T" or one of _EXPLICIT
    name: str


@dataclass(frozen=True)
class Definition:
    """One ``cupy.ElementwiseKernel(inputs, outputs, operation, name, options=)``."""
    inputs: tuple[Parameter, ...]
    outputs: tuple[Parameter, ...]
    operation: str
    name: str
    options: tuple[str, ...]

    @classmethod
    def parse(cls, inputs: str, outputs: str, operation: str, name: str, options=()):
        def parameters(text):
            return tuple(Parameter(*p.split()) for p in text.split(","))

        return cls(parameters(inputs), parameters(outputs), operation, name, tuple(options))

    def symbol(self, T: str) -> str:
        return f"{self.name}_{T}"

    def source(self, T: str) -> str:
        """The kernel as one extern "C" function over flat arrays of n elements."""
        def ctype(p):
            return T if p.type == "T" else _EXPLICIT[p.type][0]

        pointers = [f"const {ctype(p)}* {p.name}_" for p in self.inputs]
        pointers += [f"{ctype(p)}* {p.name}_" for p in self.outputs]
        elements = [f"const {ctype(p)} {p.name} = {p.name}_[i];" for p in self.inputs]
        elements += [f"{ctype(p)}& {p.name} = {p.name}_[i];" for p in self.outputs]
        body = "\n        ".join(elements)
        return (f"XPNET_KERNEL void {self.symbol(T)}({', '.join(pointers)}, long long n) {{\n"
                f"    typedef {T} T;\n"
                f"    XPNET_FOR_EACH(i, n) {{\n        {body}\n        {self.operation};\n    }}\n}}\n")


def source(definitions) -> str:
    """Every definition, for every type T stands for, in one translation unit."""
    return _PRELUDE + "\n".join(d.source(T) for d in definitions for T in _T_TYPES)


class HostKernel:
    """A kernel compiled for the host, called as CuPy calls an ElementwiseKernel:
    inputs then outputs, arrays broadcast together, outputs written in place
    (or allocated, and returned)."""

    def __init__(self, library: ctypes.CDLL, definition: Definition):
        self.definition = definition
        self.functions = {dtype: getattr(library, definition.symbol(T))
                          for T, dtype in _T_TYPES.items()}

    def __call__(self, *args):
        d = self.definition
        inputs, outputs = list(args[:len(d.inputs)]), list(args[len(d.inputs):])
        T = self._placeholder_type(inputs + outputs)
        inputs = [self._typed(p, a, T) for p, a in zip(d.inputs, inputs)]
        shape = np.broadcast_shapes(*(np.shape(a) for a in inputs + outputs))
        if not outputs:
            outputs = [np.empty(shape, dtype=T if p.type == "T" else _EXPLICIT[p.type][1])
                       for p in d.outputs]
        for p, out in zip(d.outputs, outputs):
            assert out.shape == shape, f"{d.name}: output {p.name} is {out.shape}, not {shape}"
            assert out.dtype == (T if p.type == "T" else _EXPLICIT[p.type][1]), p.name
        flat_in = [np.ascontiguousarray(np.broadcast_to(a, shape)) for a in inputs]
        flat_out = [np.ascontiguousarray(o) for o in outputs]  # a copy only if o is strided
        pointers = [a.ctypes.data_as(ctypes.c_void_p) for a in flat_in + flat_out]
        self.functions[np.dtype(T).type](*pointers, ctypes.c_longlong(int(np.prod(shape))))
        for out, flat in zip(outputs, flat_out):
            if flat is not out:
                out[...] = flat
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _placeholder_type(self, args):
        """T, from the arguments declared T, which must agree (CuPy refuses otherwise)."""
        params = self.definition.inputs + self.definition.outputs
        dtypes = {np.asarray(a).dtype for p, a in zip(params, args) if p.type == "T"}
        assert len(dtypes) == 1, f"{self.definition.name}: T is {dtypes}"
        return dtypes.pop().type

    @staticmethod
    def _typed(p: Parameter, a, T):
        """An input as its declared type: an array must have it, a Python scalar takes it."""
        want = T if p.type == "T" else _EXPLICIT[p.type][1]
        if type(a) in (int, float):  # not np.float64, a float subclass with a dtype
            assert p.type != "T", f"{p.name}: a Python scalar for T, whose type CuPy would guess"
            return np.asarray(a, dtype=want)
        assert np.asarray(a).dtype == want, f"{p.name}: {np.asarray(a).dtype}, declared {p.type}"
        return np.asarray(a)


def host_compiler() -> str | None:
    return shutil.which("c++") or shutil.which("g++")


def host_kernels(build, directory: Path) -> dict:
    """``build``'s kernels compiled for the host, by name: a dict like ``build``'s own."""
    definitions = build(Definition.parse)
    (directory / "kernels.cpp").write_text(source(definitions.values()))
    library = directory / "kernels.so"
    subprocess.run([host_compiler(), "-O2", "-shared", "-fPIC", "-ffp-contract=off",
                    "-o", str(library), str(directory / "kernels.cpp")],
                   check=True, capture_output=True, text=True)
    loaded = ctypes.CDLL(str(library))
    return {key: HostKernel(loaded, d) for key, d in definitions.items()}


def ptx_for_gpu(build, directory: Path, arch: str) -> str:
    """nvcc's PTX of ``build``'s kernels for ``arch``, compiled with their own options."""
    definitions = list(build(Definition.parse).values())
    options = sorted({o for d in definitions for o in d.options})
    (directory / "kernels.cu").write_text(source(definitions))
    done = subprocess.run(["nvcc", f"-arch={arch}", *options, "-ptx", "-o", str(directory / "kernels.ptx"),
                           str(directory / "kernels.cu")], capture_output=True, text=True)
    assert done.returncode == 0, f"nvcc could not build the kernels:\n{done.stderr}"
    return (directory / "kernels.ptx").read_text()
