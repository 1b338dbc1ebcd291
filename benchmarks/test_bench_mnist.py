"""One epoch of an MNIST-shaped network through ``Network.fit``: [784, 256, 128, 10]
relu/softmax, Adam at learning rate 1e-3, mini-batches of 128, on generated data
(random pixels in [0, 1), random labels, seeded), m = 60,000 examples; m = 7,500
in quick mode (``XPNET_BENCH_QUICK=1`` or ``--quick``, what CI runs).

X comes in two memory layouts: row-major (``np.ascontiguousarray``: each
feature's m values contiguous) and column-major (``np.asfortranarray``: each
example contiguous, what ``images.reshape(m, -1).T`` gives). The column-major
case runs only where the backend's arrays have a layout to choose (NumPy,
torch, CuPy). ``extra_info`` records m, the layout and the batches.
"""

from __future__ import annotations

import functools

import pytest

from xpnet import bench

#: m of the quick mode; the full mode takes bench.MNIST_M (60,000).
QUICK_M = 7500
LAYOUTS = {"mnist-epoch": "C", "mnist-epoch-colmajor": "F"}
#: Backends whose arrays have strides, so that column-major X is another case.
STRIDED = ("numpy", "torch", "cupy")


@functools.lru_cache(maxsize=2)
def _data(m):
    return bench.host_data(bench.workloads(mnist_m=m)["mnist-epoch"])


@pytest.mark.benchmark(group="fit")
@pytest.mark.parametrize("workload", list(LAYOUTS))
def test_mnist_epoch(timed, target, dtype, workload, quick):
    if LAYOUTS[workload] == "F" and target.backend not in STRIDED:
        pytest.skip(f"{target.backend} arrays have no memory layout to choose")
    m = QUICK_M if quick else bench.MNIST_M
    w = bench.workloads(mnist_m=m)[workload]
    data = _data(m)
    timed(bench.xpnet_runner(w, data, target, dtype), case=workload, target=target, dtype=dtype,
          flops=w.flops, layers=list(w.layers), m=w.m, batch_size=w.batch_size,
          updates=w.updates, optimizer=w.optimizer, learning_rate=w.learning_rate,
          layout=bench.LAYOUTS[w.layout], data=data.source)
