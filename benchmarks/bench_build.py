"""Build speed: the full build (median of several runs, wall and CPU time), where the time goes,
and what it cost before the build computed once.

    .venv/bin/python benchmarks/bench_build.py [--runs 3] [--recompute] [--parallel]

Targets (2-core machine): full build <= 20 s (issue 14; 34 s median before it); per-claim reports
in parallel >= 1.7x faster than one after another (issue 7, ``--parallel``).

Each full build runs as its own process, as a user runs it (the ``evidence-review build`` command
line on the bundled data, all claim reports; ``--recompute`` sets the build's ``COMPUTE_ONCE`` off
first, which imports the build before the command line starts its fork server). CPU time is that of the build and every process it starts (workers, kernels):
this script makes itself their "child subreaper", so processes orphaned when the build exits are
reaped here and their CPU time counted. The machine may be shared: the load average is printed
before and after, and CPU time, unlike wall time, hardly depends on it. ``--recompute`` also times
builds in which every notebook computes the review itself, as before issue 14, under the same
load. Outputs go to a temporary folder; reports/ is not touched.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

from evidence_review import html_export  # noqa: E402
from evidence_review.build import CLAIM_NOTEBOOK, NOTEBOOKS  # noqa: E402
from evidence_review.html_export import export_html  # noqa: E402
from evidence_review.notebook_runner import Job, _kernel_manager, run_jobs  # noqa: E402
from evidence_review.paths import project_root  # noqa: E402
from evidence_review.pipeline import load_review, prepare_review, save_review  # noqa: E402
from evidence_review.review_file import KEY_ENV, new_key  # noqa: E402

_PR_SET_CHILD_SUBREAPER = 36
#: One build, in a fresh interpreter, through the command line exactly as ``evidence-review build``
#: runs it (the console script imports the CLI and calls ``main``).
_BUILD = """
import sys
from evidence_review import cli
if {recompute}:
    from evidence_review import build
    build.COMPUTE_ONCE = False
sys.exit(cli.main(["build", "--output", sys.argv[1]]))
"""
#: The build's own stage timings, as the command line prints them.
_STAGES = re.compile(r"in (?P<total>[\d.]+) s \(validate (?P<validate>[\d.]+) s, results (?P<results>[\d.]+) s, "
                     r"notebooks and HTML (?P<notebooks>[\d.]+) s\)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _reap_orphans(timeout: float = 10.0) -> None:
    """Wait for the build's orphaned descendants (reparented here) so their CPU time is counted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def timed_build(output: Path, once: bool) -> dict:
    """Wall and CPU seconds of one full build run as its own process, and its stage timings."""
    cpu0, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _BUILD.format(recompute=not once), str(output)], cwd=project_root(),
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    _reap_orphans()
    stages = _STAGES.search(done.stdout)
    if done.returncode != 0 or stages is None:
        raise SystemExit(f"build failed:\n{done.stdout[-1000:]}{done.stderr[-3000:]}")
    return {"wall": wall, "cpu": _children_cpu() - cpu0, **{k: float(v) for k, v in stages.groupdict().items()}}


def kernel_costs() -> tuple[float, float]:
    """Seconds to start a kernel, and to run the notebooks' imports in it."""
    t0 = time.perf_counter()
    km = _kernel_manager()
    km.start_kernel()
    kc = km.blocking_client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    kc.execute_interactive("import matplotlib.pyplot as plt\nfrom evidence_review import charts, claims, effects, engine, report\n"
                           "from evidence_review.pipeline import start_notebook", timeout=120, output_hook=lambda m: None)
    imports = time.perf_counter() - t0
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return start, imports


def median_line(label: str, runs: list[dict]) -> str:
    wall = [r["wall"] for r in runs]
    cpu = [r["cpu"] for r in runs]
    return (f"{label}: {statistics.median(wall):6.1f} s wall (runs: {', '.join(f'{w:.1f}' for w in wall)}), "
            f"{statistics.median(cpu):6.1f} s CPU")


def stage_line(runs: list[dict]) -> str:
    stages = [k for k in runs[0] if k not in ("wall", "cpu", "total")]
    return ", ".join(f"{k} {statistics.median(r[k] for r in runs):.2f} s" for k in stages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="full builds to time (median reported)")
    parser.add_argument("--recompute", action="store_true", help="also time builds whose notebooks each compute the review")
    parser.add_argument("--parallel", action="store_true", help="also time claim reports on 1 worker vs 2")
    args = parser.parse_args()
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    print(f"machine: {machine()}")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    review = prepare_review()
    n = len(review.evidence.claims)
    runs, old_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i in range(args.runs):
            runs.append(timed_build(tmp / f"once-{i}", once=True))
            if args.recompute:
                old_runs.append(timed_build(tmp / f"recompute-{i}", once=False))
        print(f"load average after builds: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(median_line(f"full build ({len(NOTEBOOKS)} notebooks + {n} claim reports + HTML), computed once", runs)
              + "   [target <= 20 s]")
        print(f"  build's own stages as the command line prints them (median): {stage_line(runs)}")
        if old_runs:
            print(median_line("full build, every notebook computing the review itself (before issue 14)", old_runs))
            print(f"  build's own stages as the command line prints them (median): {stage_line(old_runs)}")

        start, imports = kernel_costs()
        t0 = time.perf_counter()
        computed = prepare_review()
        computed.synthesis
        compute = time.perf_counter() - t0
        key = new_key()
        t0 = time.perf_counter()
        results = save_review(computed, tmp / "results", key)
        write = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_review(key=key, results_path=str(results))
        read = time.perf_counter() - t0
        notebooks = sorted((tmp / "once-0").glob("0*.ipynb"))
        html_export._notebook_exporter.cache_clear()
        t0 = time.perf_counter()
        export_html(notebooks[0], tmp / "first.html", "first")
        first_html = time.perf_counter() - t0
        html_times = []
        for nb in notebooks:
            t1 = time.perf_counter()
            export_html(nb, tmp / f"{nb.stem}.html", nb.stem)
            html_times.append(time.perf_counter() - t1)
        print(f"  kernel start-up (once per worker):          {start:6.2f} s")
        print(f"  imports in a fresh kernel (once per worker): {imports:6.2f} s")
        print(f"  validate + load + synthesise (once):        {compute:6.2f} s (in-process)")
        print(f"  results file: write once / read per notebook: {write:.3f} s / {read:.3f} s ({results.stat().st_size / 2**20:.1f} MiB)")
        print(f"  HTML export per notebook: {statistics.mean(html_times):.2f} s with a warm exporter "
              f"(mean of {len(html_times)}), {first_html:.2f} s for a cold one (paid once, in the fork server)")

        if args.parallel:
            claim_ids = computed.evidence.claims["claim_id"].tolist()
            source = project_root() / "notebooks" / f"{CLAIM_NOTEBOOK}.ipynb"

            def claim_jobs(folder):
                # As in the build: every report reads the review computed once.
                return [Job(source, tmp / folder / f"{c}.ipynb", {"claim_id": c}, c,
                            private_parameters={"results_path": str(results)}) for c in claim_ids]

            t0 = time.perf_counter()
            run_jobs(claim_jobs("seq"), workers=1, environment={KEY_ENV: key})
            sequential = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_jobs(claim_jobs("par"), workers=2, environment={KEY_ENV: key})
            parallel = time.perf_counter() - t0
            print(f"claim reports one after another (1 worker): {sequential:6.1f} s  ({sequential / n:.2f} s per claim)")
            print(f"claim reports in parallel (2 workers):      {parallel:6.1f} s")
            print(f"parallel speed-up:                          {sequential / parallel:6.2f}x   [target >= 1.7x]")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
