"""Training through the public API, ``Network.fit``:

- 100 full-batch iterations of the four-layer cat network [12288, 20, 7, 5, 1]
  (the course's images from $XPNET_DATA, else ../shared/data/catvnoncat beside
  the checkout (devtree.py), where present, else random data of their shape;
  ``extra_info["data"]`` says which);
- one epoch of mini-batches of 64 of [64, 64, 10] relu/softmax on scikit-learn's
  digits, standardized (1797 examples: 29 updates).
"""

from __future__ import annotations

import functools

import pytest
from devtree import CAT_DATA

from xpnet import bench

WORKLOADS = {
    "cat-fit-100": bench.Workload("cat-fit-100", bench.CAT_LAYERS, "fit", 209, output="sigmoid",
                                  learning_rate=0.0075, iterations=100, data="cat"),
    "digits-epoch": bench.workloads()["digits-epoch"],
}


@functools.lru_cache(maxsize=None)
def _data(name):
    return bench.host_data(WORKLOADS[name], cat_dir=CAT_DATA)


@pytest.mark.benchmark(group="fit")
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_fit(timed, target, dtype, workload):
    if workload == "digits-epoch":
        pytest.importorskip("sklearn", reason="the digits come from scikit-learn")
    w = WORKLOADS[workload]
    data = _data(workload)
    timed(bench.xpnet_runner(w, data, target, dtype), case=workload, target=target, dtype=dtype,
          flops=w.flops, layers=list(w.layers), m=w.m, batch_size=w.batch_size,
          updates=w.updates, data=data.source)
