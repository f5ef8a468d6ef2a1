"""Build speed: full build wall time, where the time goes, and parallel vs sequential claim reports.

    .venv/bin/python benchmarks/bench_build.py

Targets (issue 7, 2-core machine): full build <= 60 s; per-claim reports in parallel >= 1.7x faster
than one after another. Outputs go to a temporary folder; reports/ is not touched.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

from evidence_review.build import CLAIM_NOTEBOOK, build_review  # noqa: E402
from evidence_review.html_export import export_html  # noqa: E402
from evidence_review.notebook_runner import KERNEL_NAME, Job, run_jobs  # noqa: E402
from evidence_review.paths import project_root  # noqa: E402
from evidence_review.pipeline import prepare_review  # noqa: E402


def kernel_costs() -> tuple[float, float]:
    """Seconds to start a kernel, and to run the notebooks' imports in it."""
    from jupyter_client.manager import KernelManager

    t0 = time.perf_counter()
    km = KernelManager(kernel_name=KERNEL_NAME)
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


def main() -> None:
    print(f"machine: {machine()}")
    start, imports = kernel_costs()
    t0 = time.perf_counter()
    review = prepare_review()
    review.synthesis
    compute = time.perf_counter() - t0
    claim_ids = review.evidence.claims["claim_id"].tolist()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        result = build_review({"output_dir": str(tmp / "reports")})
        wall = time.perf_counter() - t0
        html_times = []
        for nb in sorted((tmp / "reports").glob("0*.ipynb")):
            t1 = time.perf_counter()
            export_html(nb, tmp / f"{nb.stem}.html", nb.stem)
            html_times.append(time.perf_counter() - t1)
        source = project_root() / "notebooks" / f"{CLAIM_NOTEBOOK}.ipynb"

        def claim_jobs(folder):
            return [Job(source, tmp / folder / f"{c}.ipynb", {"claim_id": c}, c) for c in claim_ids]

        t0 = time.perf_counter()
        run_jobs(claim_jobs("seq"), workers=1)
        sequential = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_jobs(claim_jobs("par"), workers=2)
        parallel = time.perf_counter() - t0
    n = len(claim_ids)
    print(f"full build (4 notebooks + {n} claim reports + HTML): {wall:6.1f} s wall   [target <= 60 s]")
    print(f"  build's own stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items()))
    print(f"  kernel start-up (once per worker):   {start:6.2f} s")
    print(f"  imports in a fresh kernel:           {imports:6.2f} s")
    print(f"  computation (load + synthesis):      {compute:6.2f} s (in-process)")
    print(f"  HTML export per notebook:            {sum(html_times) / len(html_times):6.2f} s (mean of {len(html_times)})")
    print(f"claim reports one after another (1 worker): {sequential:6.1f} s  ({sequential / n:.2f} s per claim)")
    print(f"claim reports in parallel (2 workers):      {parallel:6.1f} s")
    print(f"parallel speed-up:                          {sequential / parallel:6.2f}x   [target >= 1.7x]")


if __name__ == "__main__":
    main()
