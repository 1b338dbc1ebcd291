"""One full update — forward, backward, plain gradient descent — with xpnet's core
(``network.forward``/``network.backward`` and ``optimizers.gradient_descent``) on
arrays already on the device: the cat network at m = 209 and the wide network at
m = 512 and m = 4096 (random data of their shapes)."""

from __future__ import annotations

import functools

import pytest

from xpnet import bench

NETWORKS = {
    "cat-m209": bench.Workload("cat-m209", bench.CAT_LAYERS, "step", 209, output="sigmoid",
                               learning_rate=0.0075),
    "wide-m512": bench.Workload("wide-m512", bench.WIDE_LAYERS, "step", 512),
    "wide-m4096": bench.Workload("wide-m4096", bench.WIDE_LAYERS, "step", 4096),
}


@functools.lru_cache(maxsize=None)
def _data(name):
    return bench.host_data(NETWORKS[name])


@pytest.mark.benchmark(group="step")
@pytest.mark.parametrize("network", list(NETWORKS))
def test_step(timed, target, dtype, network):
    w = NETWORKS[network]
    timed(bench.xpnet_runner(w, _data(network), target, dtype), case=network, target=target,
          dtype=dtype, flops=w.flops, layers=list(w.layers), m=w.m,
          shapes=[g.shape for g in bench.step_gemms(w.layers, w.m)])
