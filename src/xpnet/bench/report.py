"""A comparison's report as text: the header and the Markdown tables, and the cells'
formats, which the scripts in benchmarks/ share."""

from __future__ import annotations

from .runner_sklearn import SKLEARN_SOLVER


def format_seconds(x: float | None, unit: str = "") -> str:
    """Seconds as a table shows them: "1.234" (``unit`` after it) from 0.1 s up, else
    "12.34 ms"; None is "n/a"."""
    if x is None:
        return "n/a"
    return f"{x:.3f}{unit}" if x >= 0.1 else f"{x * 1e3:.2f} ms"


def format_seconds_cpu(wall: float | None, cpu: float | None) -> str:
    """A wall time and, beside it, the CPU time of the same runs: "1.230 (CPU 1.190)"."""
    if wall is None:
        return "n/a"
    return format_seconds(wall) if cpu is None else f"{format_seconds(wall)} (CPU {format_seconds(cpu)})"


def format_load(values) -> str:
    """A load average (1, 5, 15 minutes) as "0.52 0.61 0.70"; None is "n/a"."""
    return "n/a" if not values else " ".join(f"{x:.2f}" for x in values)


def format_ratio(x: float | None) -> str:
    """A ratio as "1.23×"; None is "n/a"."""
    return "n/a" if x is None else f"{x:.2f}×"


def _mib(x):
    return "n/a" if x is None else f"{x / 2**20:.1f}"


def header_lines(env: dict) -> list[str]:
    """The lines above a report's tables: where and how it ran, versions, threads, load."""
    torch = "n/a" if env.get("torch") is None else (
        f"{env['torch']} ({env.get('torch_threads')} threads)")
    lines = [
        f"backend {env['backend']} on {env['device']}, {env['dtype']}"
        f"{'' if env.get('precision', 'full') == 'full' else ' with ' + env['precision'].upper() + ' products'}"
        f"; torch and jax on the "
        f"{env['peer_device'].upper()}; median of {env['repeat']} after a warm-up",
        f"python {env['python']}, {env['cpus']} CPUs, {env['platform']}",
        f"numpy {env['numpy']} (BLAS: {env['numpy_blas']}); torch {torch}; "
        f"jax {env.get('jax') or 'n/a'}; scikit-learn {env.get('sklearn') or 'n/a'}",
        f"scikit-learn: {SKLEARN_SOLVER}, on the CPU",
        threads_line(env),
        f"load average (1, 5, 15 min): {format_load(env.get('load_average_start'))} at the start, "
        f"{format_load(env.get('load_average_end'))} at the end",
    ]
    if env.get("thread_env"):
        lines.append("environment: " + ", ".join(f"{k}={v}" for k, v in env["thread_env"].items()))
    return lines


def threads_line(env: dict) -> str:
    """The thread counts in force during the run, as the header shows them."""
    asked = ("the libraries' defaults" if env.get("threads") is None
             else f"--threads {env['threads']}")
    blas = env.get("blas")
    if blas is None:
        in_force = "BLAS n/a (threadpoolctl not installed)"
    else:
        in_force = "; ".join(f"{b['library']}'s {b['internal_api']} {b['num_threads']}"
                             for b in blas) or "no BLAS found by threadpoolctl"
        in_force = f"BLAS {in_force}"
    torch = env.get("torch_threads")
    return (f"threads: {asked}; in force: {in_force}; torch {'n/a' if torch is None else torch}"
            f"; jax its own (not limited)")


#: The sweep table's time columns: (heading, key of a sweep row's ``seconds``).
SWEEP_COLUMNS = (("xpnet sweep", "sweep"), ("one fit", "one_fit"),
                 ("K separate fits", "separate_fits"), ("torch vmap", "torch_vmap"),
                 ("jax vmap", "jax_vmap"))


def tables(report: dict) -> str:
    """The report as Markdown: a header, the times and ratios, the memory, the sweeps, the
    notes. A table without rows is left out."""
    everything = report["workloads"]
    rows = [r for r in everything if r.get("kind") != "sweep"]
    sweeps = [r for r in everything if r.get("kind") == "sweep"]
    out = [f"- {line}" for line in header_lines(report["environment"])]
    if rows:
        out += _time_and_memory_tables(rows)
    if sweeps:
        out += sweep_table(sweeps)
    notes: dict[tuple[str, str], list[str]] = {}  # (what, text) -> workloads
    for r in everything:
        items = list(r["notes"].items())
        if r["memory"] and r["memory"].get("method"):
            items.append(("memory", r["memory"]["method"]))
        for key, text in items:
            notes.setdefault((key, text), []).append(r["workload"])
    if notes:
        out += ["", "Notes:", ""]
        for (key, text), names in notes.items():
            where = ("all workloads" if len(names) == len(everything) > 1
                     else ", ".join(names))
            out.append(f"- {key} ({where}): {text}")
    return "\n".join(out)


def sweep_table(rows: list[dict]) -> list[str]:
    """The lines of the sweeps' table: each implementation's time for all K networks, the
    ratios of the sweep's to each, and JAX's compile time (outside its timing)."""
    out = ["", "Sweeps: K networks of one shape (each its own learning rate and seed), the same "
           "full-batch updates each. Seconds for all K networks (one fit: network 0 alone), "
           "wall and CPU; xpnet's include drawing the initial weights, which the peers are "
           "given, and JAX compiles before its timing.", "",
           "| workload | K | " + " | ".join(name for name, _ in SWEEP_COLUMNS)
           + " | sweep/one fit | sweep/separate | sweep/torch vmap | sweep/jax vmap "
             "| jax compile | sweep GFLOP/s |",
           "| --- | ---: | " + " | ".join("---:" for _ in SWEEP_COLUMNS)
           + " | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        s, c, q = r["seconds"], r.get("cpu_seconds") or {}, r["ratios"]
        times = " | ".join(format_seconds_cpu(s[key], c.get(key)) for _, key in SWEEP_COLUMNS)
        ratios = " | ".join(format_ratio(q[f"sweep/{key}"]) for _, key in SWEEP_COLUMNS[1:])
        compiled = format_seconds(r["compile_seconds"].get("jax_vmap"))
        out.append(f"| {r['workload']} | {r['networks']} | {times} | {ratios} | {compiled} "
                   f"| {r['gflops_per_s']:.1f} |")
    return out


def _time_and_memory_tables(rows: list[dict]) -> list[str]:
    out = ["", "Times in seconds for the whole workload (a fit, an epoch, one step): wall "
            "(perf_counter), and the process's CPU time (process_time) of the same runs.", "",
            "| workload | xpnet | torch | jax | sklearn | GEMM | xpnet/torch | xpnet/jax "
            "| xpnet/sklearn | xpnet/GEMM | GEMM share | xpnet GFLOP/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        s, q = r["seconds"], r["ratios"]
        c = r.get("cpu_seconds") or {}
        t = {name: format_seconds_cpu(s[name], c.get(name)) for name in s}
        share = "n/a" if r["gemm_fraction"] is None else f"{100 * r['gemm_fraction']:.0f} %"
        out.append(
            f"| {r['workload']} | {t['xpnet']} | {t['torch']} "
            f"| {t['jax']} | {t['sklearn']} | {t['gemm']} "
            f"| {format_ratio(q['xpnet/torch'])} | {format_ratio(q['xpnet/jax'])} "
            f"| {format_ratio(q['xpnet/sklearn'])} "
            f"| {format_ratio(q['xpnet/gemm'])} | {share} | {r['gflops_per_s']:.1f} |")
    out += ["", "One update: GEMM work and memory (MiB).", "",
            "| workload | network | training | batch | updates | GFLOP / update | step peak "
            "| model bytes | peak / model |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        mem = r["memory"] or {}
        peak_over_model = mem.get("peak_over_model")
        training = f"{r.get('optimizer', 'sgd')}, m = {r['m']}, X {r.get('layout', 'row-major')}"
        out.append(
            f"| {r['workload']} | {r['layers']} {r['output']} | {training} "
            f"| {mem.get('batch', max_batch(r))} "
            f"| {r['updates']} | {r['flops_per_update'] / 1e9:.3f} | {_mib(mem.get('peak_bytes'))} "
            f"| {_mib(mem.get('model_bytes'))} "
            f"| {'n/a' if peak_over_model is None else f'{peak_over_model:.2f}'} |")
    return out


def max_batch(row: dict) -> int:
    """The largest batch of a report's row."""
    return row["batch_size"] or row["m"]
