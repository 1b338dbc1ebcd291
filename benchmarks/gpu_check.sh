#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and no network, run the test
# suite with the GPU backends (cupy, torch_cuda, jax on its GPU, the fused
# kernels), the benchmark suite on the GPU, the GPU path's targets
# (benchmarks/gpu_targets.py) and the cat-fit timings; write a Markdown report,
# REPORT_DIR/gpu-<device>.md (e.g. gpu-h100.md), to commit under benchmarks/reports/.
#
#   benchmarks/gpu_check.sh WHEELS_DIR REPORT_DIR
#
# WHEELS_DIR holds wheels for what the machine lacks (array-api-compat,
# array-api-strict, h5py), made on a networked machine with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 -d WHEELS_DIR \
#       array-api-compat array-api-strict h5py
# XPNET_DATA, if set, names the folder with the course's cat h5 files.
#
# Knobs for a short device budget: TESTS_K (a pytest -k expression for the fast
# suite, e.g. "cupy or torch_cuda or jax or on_gpu"), BENCH_K (the benchmark
# suite's, default "cupy or torch or jax"), REPEAT (timings per figure of the
# targets, default 3), ITERATIONS (of the cat fits and sweeps, default 2500),
# SWEEP_WORKLOADS (the sweeps timed on the GPU, issue 17's target: 64 networks
# in at most 2× one fit's time; default "sweep-2layer-64 sweep-4layer-64"). A run with
#   XPNET_DATA=$PWD/.gpudata TESTS_K="cupy or torch_cuda or jax or on_gpu" \
#       bash benchmarks/gpu_check.sh .whl $OUT
# carries the wheels in .whl and the cat files in .gpudata.
set -uo pipefail
wheels=${1:?usage: gpu_check.sh WHEELS_DIR REPORT_DIR}
out=${2:?usage: gpu_check.sh WHEELS_DIR REPORT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
deps=$(mktemp -d)
python3 -m pip install --quiet --no-index --no-deps --target "$deps" "$wheels"/*.whl || exit 1
export PYTHONPATH="$root/src:$deps${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# JAX would otherwise take 75 % of the GPU memory the cupy tests share.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
cd "$root"

gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)
slug=$(python3 -c 'import re, sys; name = sys.argv[1].split(",")[0]; m = re.search(r"\b([A-Z]\d{2,4})\b", name); print((m.group(1) if m else re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")).lower())' "$gpu")
report="$out/gpu-$slug.md"
{
  echo "# xpnet GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- GPU: $gpu"
  echo "- CPU: $(nproc) cores, $(python3 -c 'import platform; print(platform.processor() or platform.machine())')"
  python3 - <<'PY'
import importlib, sys
versions = [f"python {sys.version.split()[0]}"]
for name in ("numpy", "cupy", "torch", "jax", "array_api_compat"):
    try:
        versions.append(f"{name} {importlib.import_module(name).__version__}")
    except Exception as exc:
        versions.append(f"{name} missing ({type(exc).__name__})")
print("- " + ", ".join(versions))
PY
  echo
} > "$report"

# TESTS_K narrows the fast suite to a pytest -k expression, e.g. "cupy or torch_cuda or
# jax or on_gpu" (the GPU backends and the fused kernels), where device time is short;
# by default every test runs.
echo "== tests, fast suite (every backend, cupy included${TESTS_K:+; -k $TESTS_K})"
python3 -m pytest -q -p no:cacheprovider -m "not slow" ${TESTS_K:+-k "$TESTS_K"} \
  --junitxml "$out/pytest-fast.xml" 2>&1 | tee "$out/pytest-fast.log"
fast=$(tail -n 1 "$out/pytest-fast.log")
echo "== tests, the course's cat runs on cupy"
python3 -m pytest -q -p no:cacheprovider tests/test_course_figures.py -k "cupy or reproduces" 2>&1 \
  | tee "$out/pytest-course.log"
course=$(tail -n 1 "$out/pytest-course.log")
{
  echo "## Tests"
  echo
  echo "- fast suite${TESTS_K:+ (-k $TESTS_K)}: \`$fast\`"
  # Counted from the fast suite's own results, not by running those tests again:
  # device time is short.
  python3 - "$out/pytest-fast.xml" <<'PY'
import collections, sys
import xml.etree.ElementTree as ET

OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}  # junit tag: pytest's word

def outcome(case):
    return next((OUTCOMES[child.tag] for child in case if child.tag in OUTCOMES), "passed")

def counts(cases):
    tally = collections.Counter(outcome(case) for case in cases)
    return ", ".join(f"{n} {what}" for what, n in sorted(tally.items())) or "none selected"

cases = list(ET.parse(sys.argv[1]).iter("testcase"))
def parametrized_on(backend):
    return [c for c in cases if f"[{backend}" in c.get("name", "") or f"-{backend}" in c.get("name", "")]

print(f"- of which cupy-parametrized: `{counts(parametrized_on('cupy'))}`")
print(f"- of which torch_cuda-parametrized (xpnet on torch CUDA tensors): `{counts(parametrized_on('torch_cuda'))}`")
fused = [c for c in cases if c.get("classname", "").endswith("test_fused")]
print(f"- of which fused kernels against the array-API route (tests/test_fused.py): `{counts(fused)}`")
PY
  echo "- course reproductions (numpy reference and cupy, float64): \`$course\`"
  echo
} >> "$report"

echo "== the GPU path's targets"
{
  echo "## Targets"
  echo
  # DRY_RUN=1: CPU-sized shapes on NumPy, to try this script on a machine without a GPU.
  python3 benchmarks/gpu_targets.py --iterations "${ITERATIONS:-2500}" --repeat "${REPEAT:-3}" \
    ${DRY_RUN:+--backend numpy --small} --json "$out/gpu-targets.json" 2>&1
  echo
} | tee -a "$report"

echo "== benchmark suite on the GPU (quick mode)"
XPNET_BENCH_QUICK=1 python3 -m pytest -q -p no:cacheprovider benchmarks -k "${BENCH_K:-cupy or torch or jax}" \
  --benchmark-json "$out/benchmarks.json" --benchmark-columns=min,mean,rounds 2>&1 | tee "$out/benchmarks.log"
{
  echo "## Benchmark suite (quick mode, GPU backends)"
  echo
  echo "\`$(tail -n 1 "$out/benchmarks.log")\`; full results in benchmarks.json. GEMM throughput:"
  echo
  python3 - "$out/benchmarks.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["benchmarks"]
print("| benchmark | backend | dtype | mean | TFLOP/s |")
print("| --- | --- | --- | ---: | ---: |")
for b in rows:
    info = b.get("extra_info", {})
    if "matmul" in b["name"] and info.get("gflops_per_s"):
        # pytest writes the ids' non-ASCII characters (X·dZᵀ) as escapes: show them as they are.
        name = b["name"].encode("ascii", "backslashreplace").decode("unicode_escape")
        print(f"| {name} | {info.get('backend')} | {info.get('dtype')} "
              f"| {b['stats']['mean'] * 1e3:.3f} ms | {info['gflops_per_s'] / 1e3:.2f} |")
PY
  echo
} >> "$report"

echo "== cat fit timings"
gpu_backends="cupy torch:gpu torch:cpu" gpu_torch="cuda"
if [ -n "${DRY_RUN:-}" ]; then gpu_backends="" gpu_torch=""; fi
{
  echo "## Four-layer cat fit, ${ITERATIONS:-2500} iterations"
  echo
  for dtype in float32 float64; do
    python3 benchmarks/cat_fit.py --iterations "${ITERATIONS:-2500}" --dtype "$dtype" \
      --xpnet ${XPNET_BACKENDS:-numpy $gpu_backends} --torch ${TORCH_DEVICES:-cpu $gpu_torch} 2>&1
    echo
  done
} | tee -a "$report"
echo "== sweeps on the GPU"
if [ -z "${DRY_RUN:-}" ]; then
  {
    echo "## Sweeps on the GPU (cupy), ${ITERATIONS:-2500} iterations"
    echo
    python3 -m xpnet.bench --backend cupy --workloads ${SWEEP_WORKLOADS:-sweep-2layer-64 sweep-4layer-64} \
      --iterations "${ITERATIONS:-2500}" --repeat 1 --no-separate --no-memory \
      --json "$out/sweeps.json" 2>&1
    echo
  } | tee -a "$report"
fi
echo "report: $report"
