"""The GPU path's targets, measured in one run: a Markdown table for the GPU report.

    python benchmarks/gpu_targets.py                    # on a machine with an NVIDIA GPU
    python benchmarks/gpu_targets.py --small --backend numpy --json out.json   # a dry run on a CPU

The cat fit reads the course's files from ``--data`` (default: $XPNET_DATA, else
../shared/data/catvnoncat beside the checkout), else runs on random data of their
shape and skips the TF32 accuracy table.

Workloads, float32 (each time the median of ``--repeat`` after a warm-up):

- the wide network [12288, 4096, 4096, 1], one full-batch step on m = 4096,
  with float32 and with TF32 products: xpnet on CuPy (array-API route, and
  fused kernels with XPNET_FUSED=1), xpnet's same code on torch CUDA tensors,
  PyTorch autograd eager, and the bare cuBLAS GEMMs of the step's products;
- the course's four-layer cat network, 2500 full-batch iterations: xpnet on
  the GPU against xpnet on NumPy on the same machine's CPU;
- the GEMMs' throughput in TFLOP/s, next to the card's datasheet peak;
- the same GEMMs with bfloat16 operands and float32 accumulation (PyTorch on
  CUDA): what products in bfloat16 could gain over TF32, before deciding to
  offer them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
from pathlib import Path

from devtree import CAT_DATA

from xpnet import _backend, bench
from xpnet.bench import format_ratio, ratio

WIDE = (12288, 4096, 4096, 1)
SMALL_WIDE = (512, 256, 256, 1)  # --small: the same measurements, CPU-sized

#: Datasheet peaks, dense (no sparsity), TFLOP/s: (FP32 on CUDA cores, TF32 on tensor cores).
PEAKS = {
    "H100 SXM": (67.0, 494.7),
    "H100 PCIe": (51.2, 378.0),
    "H100 NVL": (60.0, 417.5),
    "H200": (67.0, 494.7),
    "A100": (19.5, 156.0),
}


def peak(device_name: str) -> tuple[float, float] | None:
    for key, value in PEAKS.items():
        if all(part in device_name for part in key.split()):
            return value
    if "H100" in device_name:  # an H100 the name does not tell the form of: the SXM figures
        return PEAKS["H100 SXM"]
    return None


@contextlib.contextmanager
def fused(on: bool):
    previous = os.environ.get("XPNET_FUSED")
    os.environ["XPNET_FUSED"] = "1" if on else "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("XPNET_FUSED")
        else:
            os.environ["XPNET_FUSED"] = previous


def median(runner, repeat):
    return statistics.median(bench.measure(runner, repeat))


def wide_step(layers, m, target, torch_target, repeat) -> dict:
    """Seconds of one step of the wide network, by implementation and precision."""
    w = bench.Workload("wide-step", layers, "step", m, title="wide network, one step")
    data = bench.host_data(w)
    results = {"layers": list(layers), "m": m, "flops": bench.step_flops(layers, m)}
    for precision in ("full", "tf32"):
        row = {}
        with _backend.matmul_precision(precision):
            with fused(False):
                row["xpnet"] = median(bench.xpnet_runner(w, data, target, "float32", precision), repeat)
            if target.backend == "cupy":
                with fused(True):
                    row["xpnet fused"] = median(
                        bench.xpnet_runner(w, data, target, "float32", precision), repeat)
            if torch_target is not None:
                row["xpnet on torch"] = median(
                    bench.xpnet_runner(w, data, torch_target, "float32", precision), repeat)
            try:
                row["torch"] = median(bench.torch_runner(w, data, target.kind, "float32"), repeat)
            except bench.Unavailable as exc:
                row["torch"] = None
                results.setdefault("notes", []).append(f"torch: {exc}")
            row["gemm"] = bench.time_step_gemms(layers, m, target, "float32", repeat)
        results[precision] = row
    results["gemm bf16"] = bf16_gemms(layers, m, torch_target, repeat)
    return results


def bf16_gemms(layers, m, torch_target, repeat) -> float | None:
    """Seconds of the step's bare GEMMs with bfloat16 operands (float32 accumulation, as
    cuBLAS does for bfloat16), on torch's device; None without torch on a GPU."""
    if torch_target is None:
        return None
    import torch

    return bench.time_step_gemms(layers, m, torch_target, "float32", repeat,
                                 cast=lambda a: a.to(torch.bfloat16))


def cat_fit(iterations, target, repeat, cat_dir=None) -> dict:
    w = bench.workloads(iterations)["cat-fit"]
    data = bench.host_data(w, cat_dir=cat_dir)
    cpu = bench.resolve_target("numpy")
    out = {"iterations": iterations, "data": data.source}
    with fused(False):
        out["numpy (CPU)"] = median(bench.xpnet_runner(w, data, cpu, "float32"), repeat)
        if target.kind == "gpu":
            out["xpnet on the GPU"] = median(bench.xpnet_runner(w, data, target, "float32"), repeat)
    if target.backend == "cupy":
        with fused(True):
            out["xpnet fused"] = median(bench.xpnet_runner(w, data, target, "float32"), repeat)
    return out


def tf32_accuracy(iterations, target, cat_dir=None) -> dict | None:
    """The course's four-layer cat network trained with float32 and with TF32 products:
    final cost and accuracies of each (None without the cat data)."""
    from xpnet.data import find_catvnoncat, load_catvnoncat
    from xpnet.errors import DataFileError

    try:
        folder = find_catvnoncat(cat_dir)
    except DataFileError:
        return None
    data = load_catvnoncat(folder)
    put = lambda a: _backend.from_host(a.astype("float32"), target.xp, target.device)  # noqa: E731
    X, Y, X_test, Y_test = (put(a) for a in (data.X_train, data.Y_train, data.X_test, data.Y_test))
    w = bench.workloads(iterations)["cat-fit"]
    out = {}
    for precision in ("full", "tf32"):
        net = bench.bench_network(w, "float32", precision)
        history = net.fit(X, Y, iterations=iterations, learning_rate=w.learning_rate,
                          record_every=500)
        out[precision] = {"cost": history.costs[-1], "train": net.score(X, Y),
                          "test": net.score(X_test, Y_test)}
    return out


def measure_all(args) -> dict:
    target = bench.resolve_target(args.backend, "auto")
    torch_target = None
    if target.kind == "gpu" and bench.backend_unavailable("torch") is None:
        with contextlib.suppress(Exception):
            torch_target = bench.resolve_target("torch", "gpu")
    layers = SMALL_WIDE if args.small else WIDE
    m = 256 if args.small else 4096
    return {
        "device": target.label,
        "backend": args.backend,
        "peak": peak(target.label),
        "wide": wide_step(layers, m, target, torch_target, args.repeat),
        "cat": cat_fit(args.iterations, target, args.repeat, args.data),
        "tf32_accuracy": tf32_accuracy(args.iterations, target, args.data),
    }


def _s(x):
    return bench.format_seconds(x, " s")


def _met(ok):
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def markdown(r: dict) -> str:
    wide, cat, peak_ = r["wide"], r["cat"], r["peak"]
    full, tf32 = wide["full"], wide["tf32"]
    best = min(v for v in (full["xpnet"], full.get("xpnet fused")) if v is not None)
    best_tf32 = min(v for v in (tf32["xpnet"], tf32.get("xpnet fused")) if v is not None)
    lines = [f"Device: {r['device']}; xpnet on {r['backend']}; float32 storage.", "",
             f"Wide network {wide['layers']}, one step on m = {wide['m']} "
             f"({wide['flops'] / 1e12:.2f} TFLOP of GEMMs):", "",
             "| implementation | float32 products | TF32 products | TF32 speed-up |",
             "| --- | ---: | ---: | ---: |"]
    for name in ("xpnet", "xpnet fused", "xpnet on torch", "torch", "gemm"):
        if name not in full:
            continue
        label = {"torch": "PyTorch autograd, eager", "gemm": "bare cuBLAS GEMMs of the step",
                 "xpnet on torch": "xpnet on torch CUDA tensors",
                 "xpnet fused": "xpnet, fused kernels (XPNET_FUSED=1)"}.get(name, "xpnet")
        lines.append(f"| {label} | {_s(full[name])} | {_s(tf32[name])} "
                     f"| {format_ratio(ratio(full[name], tf32[name]))} |")
    gemm_tflops = wide["flops"] / full["gemm"] / 1e12
    gemm_tflops_tf32 = wide["flops"] / tf32["gemm"] / 1e12
    on_gpu = cat.get("xpnet on the GPU")
    cat_best = min(v for v in (on_gpu, cat.get("xpnet fused")) if v is not None) if on_gpu else None
    vs_gemm, vs_torch, tf32_gain = (ratio(best, full["gemm"]), ratio(best, full["torch"]),
                                    ratio(best, best_tf32))
    lines += ["", "| target | measured | met? |", "| --- | --- | --- |",
              f"| wide step ≤ 1.15× bare GEMMs (float32) | {format_ratio(vs_gemm)} "
              f"| {_met(vs_gemm <= 1.15)} |",
              f"| wide step ≤ 1.0× PyTorch eager (float32) | {format_ratio(vs_torch)} "
              f"| {_met(None if full['torch'] is None else best <= full['torch'])} |",
              f"| wide step with TF32 ≥ 3× faster than float32 | {format_ratio(tf32_gain)} "
              f"| {_met(tf32_gain >= 3)} |",
              f"| cat fit ({cat['iterations']} its) faster than NumPy on this machine's CPU "
              f"| {_s(cat_best)} against {_s(cat['numpy (CPU)'])} "
              f"| {_met(None if cat_best is None else cat_best < cat['numpy (CPU)'])} |"]
    peak_text = ("datasheet peak unknown for this device" if peak_ is None else
                 f"{gemm_tflops / peak_[0]:.0%} of the FP32 peak {peak_[0]} and "
                 f"{gemm_tflops_tf32 / peak_[1]:.0%} of the dense TF32 peak {peak_[1]}")
    lines += ["", f"GEMM throughput of the wide step's products: {gemm_tflops:.1f} TFLOP/s in "
              f"float32, {gemm_tflops_tf32:.1f} TFLOP/s in TF32 ({peak_text}).", ""]
    bf16 = wide.get("gemm bf16")
    if bf16 is not None:
        lines += [f"The same GEMMs with bfloat16 operands (float32 accumulation, PyTorch): "
                  f"{_s(bf16)}, {wide['flops'] / bf16 / 1e12:.1f} TFLOP/s, "
                  f"{format_ratio(ratio(tf32['gemm'], bf16))} the speed of the TF32 GEMMs (before "
                  "any conversion to bfloat16).", ""]
    lines.append(f"Cat fit, {cat['iterations']} iterations ({cat['data']} data): " + ", ".join(
        f"{name} {_s(value)}" for name, value in cat.items() if name not in ("iterations", "data")))
    accuracy = r.get("tf32_accuracy")
    if accuracy:
        lines += ["", f"TF32's effect on the cat fit ({cat['iterations']} iterations, seed 1, "
                  "float32 storage):", "",
                  "| products | final cost | train accuracy | test accuracy |",
                  "| --- | ---: | ---: | ---: |"]
        for precision, label in (("full", "float32"), ("tf32", "TF32")):
            a = accuracy[precision]
            lines.append(f"| {label} | {a['cost']:.6f} | {a['train']:.2%} | {a['test']:.2%} |")
    for note in wide.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="cupy", choices=("cupy", "torch", "jax", "numpy"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=2500, help="of the cat fit")
    parser.add_argument("--small", action="store_true", help="CPU-sized shapes, for a dry run")
    parser.add_argument("--data", metavar="DIR", default=str(CAT_DATA),
                        help=f"folder with the course's cat h5 files (default: {CAT_DATA})")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--markdown", metavar="PATH")
    args = parser.parse_args(argv)
    results = measure_all(args)
    text = markdown(results)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
