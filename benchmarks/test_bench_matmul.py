"""The matrix products that dominate a step, timed alone with the backend's ``@``.

Operands are allocated beforehand in the layouts xpnet's step uses: W·A,
dZ·A_prevᵀ (a transposed view on the right), Wᵀ·dZ (on the left). Cases:

- the cat network [12288, 20, 7, 5, 1] at m = 209: layer 1's forward product
  W[1]·X and weight gradient dZ[1]·Xᵀ; the course's logistic-regression
  gradient X·dZᵀ; and all the products of one step, in order;
- the wide network [3072, 1024, 1024, 10] at m = 512 and m = 4096: layer 1's
  W[1]·X and dZ[1]·Xᵀ, and all the products of one step.
"""

from __future__ import annotations

import pytest

from xpnet import bench


def _layer1(layers, m):
    gemms = {g.name: g for g in bench.step_gemms(layers, m)}
    return gemms["W[1]·A[0]"], gemms["dZ[1]·A[0]ᵀ"]


def _cases():
    cases = {}
    forward, dW = _layer1(bench.CAT_LAYERS, 209)
    cases["cat-l1-forward"] = [forward]
    cases["cat-l1-dW"] = [dW]
    cases["cat-logreg-X·dZᵀ"] = [bench.Gemm("X·dZᵀ", "dW", 12288, 209, 1)]
    cases["cat-step-gemms"] = bench.step_gemms(bench.CAT_LAYERS, 209)
    for m in (512, 4096):
        forward, dW = _layer1(bench.WIDE_LAYERS, m)
        cases[f"wide-m{m}-l1-forward"] = [forward]
        cases[f"wide-m{m}-l1-dW"] = [dW]
        cases[f"wide-m{m}-step-gemms"] = bench.step_gemms(bench.WIDE_LAYERS, m)
    return cases


CASES = _cases()


@pytest.mark.benchmark(group="matmul")
@pytest.mark.parametrize("case", list(CASES))
def test_matmul(timed, target, dtype, case):
    gemms = CASES[case]
    timed(bench.gemm_runner(gemms, target, dtype), case=case, target=target, dtype=dtype,
          flops=sum(g.flops for g in gemms), shapes=[g.shape for g in gemms],
          products=[g.name for g in gemms])
