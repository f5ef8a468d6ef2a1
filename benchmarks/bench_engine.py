"""Engine at scale on SYNTHETIC data: match, vote-count, pool, grade and give verdicts.

    .venv/bin/python benchmarks/bench_engine.py [--claims 1000] [--outcomes 1000 100000 1000000] [--repeat 3]

Each run is a fresh process, so its peak memory is its own; with ``--repeat N`` each size runs N
times and the median of each figure is printed. Targets (issues 7 and 13): 1,000 claims against
100,000 outcome rows in <= 2 s and < 1 GB peak memory; against 1,000,000 rows in <= 8 s and
<= 2 GiB. "cpu s" is the process's CPU time, which a busy shared machine inflates less than the
wall-clock "engine s"; the load average before and after each size is printed beside it.

The stage columns are the CPU seconds spent in each stage's functions as the engine calls them
(timed by wrapping them in the engine's namespace, so the engine itself is unchanged):
linking (point-estimate directions, links to results and to background sources), trial
directions (one direction per claim and trial, agreement), effect sets (effect choice, pooling,
published estimates), verdicts, grading, and the rest (per-claim counts and the verdict table).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

#: The engine's stage functions by stage, as ``evidence_review.engine`` names them (names absent
#: from a version of the engine are skipped).
STAGES = {
    "linking": ("point_estimate_directions", "link_claims", "link_background"),
    "directions": ("trial_directions", "study_directions", "agreement_of_codes", "agreement"),
    "effects": ("trial_effects", "pool_claims", "published_for_claims", "_carriers"),
    "verdicts": ("count_by_claim", "verdicts_from_counts", "verdict_table", "sign_test"),
    "grading": ("grading_inputs_by_code", "certainty_from_inputs", "certainty_table"),
}


def _timed_stages(engine) -> dict:
    """Wrap the engine's stage functions so each adds its CPU time to its stage; returns the totals."""
    totals = {stage: 0.0 for stage in STAGES}
    for stage, names in STAGES.items():
        for name in names:
            if not hasattr(engine, name):
                continue

            def timed(*args, _f=getattr(engine, name), _stage=stage, **kwargs):
                c0 = time.process_time()
                try:
                    return _f(*args, **kwargs)
                finally:
                    totals[_stage] += time.process_time() - c0

            setattr(engine, name, functools.wraps(getattr(engine, name))(timed))
    return totals


def one(n_claims: int, n_outcomes: int) -> dict:
    from _common import peak_rss_mib, synthetic_evidence

    from evidence_review import engine

    claims, studies, outcomes = synthetic_evidence(n_claims, n_outcomes)
    stages = _timed_stages(engine)
    base = peak_rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    result = engine.synthesise(claims, outcomes, studies, rationale=False)
    engine_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    engine_peak = peak_rss_mib()
    t0 = time.perf_counter()
    engine.rationales(result.links)
    stages["rest"] = cpu_s - sum(stages.values())
    return {
        "claims": n_claims, "outcome_rows": n_outcomes, "links": len(result.links),
        "engine_s": round(engine_s, 3), "cpu_s": round(cpu_s, 3), "rationale_text_s": round(time.perf_counter() - t0, 3),
        "peak_mib": round(peak_rss_mib(), 1), "peak_engine_mib": round(engine_peak, 1), "peak_before_engine_mib": round(base, 1),
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "verdicts": result.verdicts["verdict"].value_counts().to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--outcomes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians are printed")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.claims, args.outcomes[0])))
        return
    from _common import machine

    print(f"machine: {machine()}")
    print("SYNTHETIC data (generated in memory, 500 outcome domains); engine = link + trial directions + pooling + certainty + verdicts")
    print(f"median of {args.repeat} run(s) per size; stage figures are CPU seconds")
    stage_names = [*STAGES, "rest"]
    print(f"{'claims':>7} {'outcome rows':>13} {'links':>10} {'engine s':>9} {'cpu s':>7} {'+rationale s':>13} {'peak MiB engine':>16} "
          f"{'+rationale':>11} " + " ".join(f"{s:>10}" for s in stage_names) + "  load avg before/after")
    for n in args.outcomes:
        load_before = os.getloadavg()[0]
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--one", "--claims", str(args.claims), "--outcomes", str(n)],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        load_after = os.getloadavg()[0]

        def median(key: str) -> float:
            return statistics.median(r[key] for r in runs)

        stages = {s: statistics.median(r["stages"][s] for r in runs) for s in stage_names}
        r = runs[0]
        print(f"{r['claims']:>7} {r['outcome_rows']:>13,} {r['links']:>10,} {median('engine_s'):>9.2f} {median('cpu_s'):>7.2f} "
              f"{median('rationale_text_s'):>13.2f} {median('peak_engine_mib'):>16.0f} {median('peak_mib'):>11.0f} "
              + " ".join(f"{stages[s]:>10.2f}" for s in stage_names) + f"  {load_before:.1f}/{load_after:.1f}")


if __name__ == "__main__":
    main()
