"""Full build at scale on SYNTHETIC inputs: wall time, CPU time, peak memory of the whole process tree.

    .venv/bin/python benchmarks/bench_scale.py                 # 10k studies / 100k rows, then 100k / 1M
    .venv/bin/python benchmarks/bench_scale.py --size small    # 10k / 100k only (a quick check)
    .venv/bin/python benchmarks/bench_scale.py --studies 50000 --outcomes 500000 --claim-reports 5

Target (issue 12, requirement 6; 2-core machine): 100,000 studies and 1,000,000 outcome rows, claims
as many as the bundled review (48), per-claim reports for a sample of claims, build in <= 5 minutes
and <= 4 GiB peak memory.

The inputs are generated into a temporary folder (``_common.write_synthetic_inputs``; never into
data/), then the real command runs there, as a user would run it:

    evidence-review build --params params.yaml --output reports --claims <sample>

While it runs, a sampler reads /proc every 0.25 s and sums the memory of the build and every
process below it (workers, the fork server, Jupyter kernels): resident memory (RSS, which counts
pages shared between forked processes once per process) and proportional memory (PSS, shared
pages split among their users, so the sum is the tree's real footprint). CPU time is the sum of
every process's user + system time as last sampled from ``/proc/<pid>/stat``. The stages are the
build's own timings (validate and load, CSV results, results file, site pages, notebooks), and
each notebook's finishing time is when its ``.html`` appears in the build's staging folder.
Figures print as they are measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_synthetic_inputs  # noqa: E402

SIZES = {"small": (10_000, 100_000), "full": (100_000, 1_000_000)}
#: Target of issue 12 at the full size.
TARGET_SECONDS = 300
TARGET_BYTES = 4 * 2**30


_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far) of every process."""
    stats = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces or brackets: the fields after its closing ')' are fixed.
        fields = stat[stat.rfind(b")") + 2:].split()
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    return stats


def process_tree(root: int) -> dict[int, float]:
    """``root`` and every process below it, now, with the CPU seconds each has used.

    Parameters
    ----------
    root : int
        A process id.

    Returns
    -------
    dict
        pid -> CPU seconds (user + system).
    """
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            tree[pid] = stats[pid][1]
        todo.extend(children.get(pid, []))
    return tree


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; (0, 0) if it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss = pss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except OSError:
            pass
    return rss, pss


class TreeSampler(threading.Thread):
    """Samples the memory of a process tree and when files appear in a folder, until stopped."""

    def __init__(self, root: int, output: Path, interval: float = 0.25):
        super().__init__(daemon=True)
        self.root, self.output, self.interval = root, output, interval
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0
        self.peak_one = 0
        self.cpu: dict[int, float] = {}
        self.seen: dict[str, float] = {}
        self.t0 = time.perf_counter()
        self._finished = threading.Event()

    def run(self) -> None:
        while not self._finished.is_set():
            tree = process_tree(self.root)
            self.cpu.update(tree)
            totals = [_memory_kib(pid) for pid in tree]
            self.peak_one = max([self.peak_one, *(r for r, _ in totals)])
            self.peak_rss = max(self.peak_rss, sum(r for r, _ in totals))
            self.peak_pss = max(self.peak_pss, sum(p for _, p in totals))
            self.peak_processes = max(self.peak_processes, len(tree))
            now = time.perf_counter() - self.t0
            for staging in self.output.glob(".staging-*"):
                for path in staging.rglob("*"):
                    if path.suffix in (".ipynb", ".html", ".csv"):
                        self.seen.setdefault(str(path.relative_to(staging)), now)
            self._finished.wait(self.interval)

    def stop(self) -> None:
        self._finished.set()
        self.join()


def run_build(folder: Path, params: Path, claim_ids: list[str], jobs: int | None, timeout: float) -> dict:
    """Run the real build command in ``folder`` and measure it.

    Returns
    -------
    dict
        ``wall_s``, ``cpu_s``, ``peak_rss_mib``, ``peak_pss_mib``, ``max_process_mib``, ``stdout``,
        ``stderr``, ``returncode``, ``seen`` (file -> seconds after the start when it appeared).
    """
    output = folder / "reports"
    command = [sys.executable, "-m", "evidence_review.cli", "build", "--params", str(params), "--output", str(output)]
    command += ["--claims", ",".join(claim_ids)] if claim_ids else ["--no-claim-reports"]
    if jobs:
        command += ["--jobs", str(jobs)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    sampler = TreeSampler(proc.pid, output)
    sampler.t0 = t0
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        err = f"[stopped by the benchmark after {timeout:.0f} s]\n{err}"
    wall = time.perf_counter() - t0
    sampler.stop()
    # Each process's CPU time as last sampled (a process that lived less than one interval is missed).
    cpu = sum(sampler.cpu.values())
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": sampler.peak_rss / 1024, "peak_pss_mib": sampler.peak_pss / 1024,
            "max_process_mib": sampler.peak_one / 1024, "processes": sampler.peak_processes, "stdout": out, "stderr": err,
            "returncode": proc.returncode, "seen": sampler.seen, "output": output}


def _stages(seen: dict[str, float]) -> list[tuple[str, float]]:
    """(name, seconds after the start) when each notebook's HTML appeared, in that order."""
    return [(name[:-len(".html")], at) for name, at in sorted(seen.items(), key=lambda kv: kv[1]) if name.endswith(".html")
            and name[:-len(".html")] + ".ipynb" in seen]


def _largest_files(output: Path, n: int = 5) -> list[tuple[str, int]]:
    files = [(str(p.relative_to(output)), p.stat().st_size) for p in output.rglob("*") if p.is_file()]
    return sorted(files, key=lambda f: -f[1])[:n]


def one_size(n_studies: int, n_outcomes: int, n_claims: int, n_domains: int, reports: int, jobs: int | None,
             timeout: float, keep: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="evidence-review-scale-"))
    try:
        t0 = time.perf_counter()
        params = write_synthetic_inputs(folder, n_studies, n_outcomes, n_claims=n_claims, n_domains=n_domains)
        made = time.perf_counter() - t0
        size_mib = sum(p.stat().st_size for p in folder.glob("*.csv")) / 2**20
        # A spread of claims: the sample's reports cover small and large claims alike.
        step = max(1, n_claims // max(reports, 1))
        claim_ids = [f"synthetic-claim-{i}" for i in range(0, n_claims, step)][:reports]
        print(f"\n== {n_studies:,} studies, {n_outcomes:,} outcome rows, {n_claims} claims, {n_domains} outcome domains; "
              f"claim reports for {', '.join(claim_ids) or 'none'}")
        print(f"  inputs: {size_mib:.0f} MiB of CSV written in {made:.1f} s (not part of the build)")
        r = run_build(folder, params, claim_ids, jobs, timeout)
        status = "ok" if r["returncode"] == 0 else f"FAILED (exit {r['returncode']})"
        print(f"  build {status}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU (all processes), "
              f"peak memory of the process tree {r['peak_pss_mib']:,.0f} MiB PSS / {r['peak_rss_mib']:,.0f} MiB RSS "
              f"(largest single process {r['max_process_mib']:,.0f} MiB; up to {r['processes']} processes)")
        for line in r["stdout"].strip().splitlines()[-1:]:
            print(f"  build says: {line}")
        if r["returncode"] != 0:
            print("  " + "\n  ".join(r["stderr"].strip().splitlines()[-8:]))
        # Workers start their kernels while the build computes, and papermill writes a notebook
        # only when it is done: what the staging folder shows is when each notebook finished.
        for name, at in _stages(r["seen"]):
            print(f"    {name:<40} done at {at:7.1f} s")
        if r["returncode"] == 0 and r["output"].exists():
            total = sum(p.stat().st_size for p in r["output"].rglob("*") if p.is_file()) / 2**20
            print(f"  output: {total:.1f} MiB; largest files: "
                  + ", ".join(f"{n} {s / 2**20:.1f} MiB" for n, s in _largest_files(r["output"])))
        r["folder"] = folder
        return r
    finally:
        if keep:
            print(f"  kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=["small", "full", "both"], default="both")
    parser.add_argument("--studies", type=int, help="number of studies (with --outcomes, instead of --size)")
    parser.add_argument("--outcomes", type=int, help="number of outcome rows")
    parser.add_argument("--claims", type=int, default=48, help="claims (default 48, as in the bundled review)")
    parser.add_argument("--domains", type=int, default=500, help="outcome domains the outcomes spread over (default 500)")
    parser.add_argument("--claim-reports", type=int, default=3, help="claims that get a report (default 3)")
    parser.add_argument("--jobs", type=int, help="passed to the build's --jobs")
    parser.add_argument("--timeout", type=float, default=1800, help="stop a build after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.studies and args.outcomes:
        sizes = [(args.studies, args.outcomes)]
    else:
        sizes = [SIZES["small"], SIZES["full"]] if args.size == "both" else [SIZES[args.size]]
    for n_studies, n_outcomes in sizes:
        r = one_size(n_studies, n_outcomes, args.claims, args.domains, args.claim_reports, args.jobs, args.timeout, args.keep)
        if (n_studies, n_outcomes) == SIZES["full"]:
            met = r["returncode"] == 0 and r["wall_s"] <= TARGET_SECONDS and r["peak_pss_mib"] * 2**20 <= TARGET_BYTES
            print(f"  target (<= {TARGET_SECONDS} s, <= {TARGET_BYTES / 2**30:.0f} GiB): {'met' if met else 'NOT met'}")
        print(f"  load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
