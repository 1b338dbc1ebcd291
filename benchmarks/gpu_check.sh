#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and no network, run the test
# suite with the cupy backend and time the cat fit on GPU and CPU; write a
# Markdown report.
#
#   benchmarks/gpu_check.sh WHEELS_DIR REPORT_DIR
#
# WHEELS_DIR holds wheels for what the machine lacks (array-api-compat,
# array-api-strict, h5py), made on a networked machine with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 -d WHEELS_DIR \
#       array-api-compat array-api-strict h5py
# XPNET_DATA, if set, names the folder with the course's cat h5 files.
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
report="$out/gpu-report.md"
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

# TESTS_K narrows the fast suite to a pytest -k expression (e.g. "cupy or jax", the
# GPU backends) where device time is short; by default every test runs.
echo "== tests, fast suite (every backend, cupy included${TESTS_K:+; -k $TESTS_K})"
python3 -m pytest -q -p no:cacheprovider -m "not slow" ${TESTS_K:+-k "$TESTS_K"} 2>&1 | tee "$out/pytest-fast.log"
fast=$(tail -n 1 "$out/pytest-fast.log")
echo "== tests, the course's cat runs on cupy"
python3 -m pytest -q -p no:cacheprovider tests/test_course_figures.py -k "cupy or reproduces" 2>&1 \
  | tee "$out/pytest-course.log"
course=$(tail -n 1 "$out/pytest-course.log")
echo "== cupy test count"
cupy_tests=$(python3 -m pytest -q -p no:cacheprovider -m "not slow" -k cupy 2>&1 | tail -n 1)
{
  echo "## Tests"
  echo
  echo "- fast suite${TESTS_K:+ (-k $TESTS_K)}: \`$fast\`"
  echo "- cupy-parametrized tests alone: \`$cupy_tests\`"
  echo "- course reproductions (numpy reference and cupy, float64): \`$course\`"
  echo
} >> "$report"

echo "== cat fit timings"
{
  echo "## Four-layer cat fit, ${ITERATIONS:-2500} iterations"
  echo
  for dtype in float32 float64; do
    python3 benchmarks/cat_fit.py --iterations "${ITERATIONS:-2500}" --dtype "$dtype" \
      --xpnet ${XPNET_BACKENDS:-numpy cupy torch} --torch ${TORCH_DEVICES:-cpu cuda} 2>&1
    echo
  done
  echo "(\`xpnet on torch\` runs on torch's default device, the CPU.)"
} | tee -a "$report"
echo "report: $report"
