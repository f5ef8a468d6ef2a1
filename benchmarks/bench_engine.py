"""Engine at scale on SYNTHETIC data: match, vote-count, pool, grade and give verdicts.

    .venv/bin/python benchmarks/bench_engine.py [--claims 1000] [--outcomes 1000 100000 1000000]

Each size runs in a fresh process so its peak memory is its own. Targets (issues 7 and 13):
1,000 claims against 100,000 outcome rows in <= 2 s and < 1 GB peak memory; against 1,000,000
rows in <= 8 s and <= 2 GiB. "cpu s" is the process's CPU time, which a busy shared machine
inflates less than the wall-clock "engine s".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def one(n_claims: int, n_outcomes: int) -> dict:
    from _common import peak_rss_mib, synthetic_evidence

    from evidence_review.engine import rationales, synthesise

    claims, studies, outcomes = synthetic_evidence(n_claims, n_outcomes)
    base = peak_rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    result = synthesise(claims, outcomes, studies, rationale=False, target_condition="ms", population_label="people with MS")
    engine_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    engine_peak = peak_rss_mib()
    t0 = time.perf_counter()
    rationales(result.links)
    return {
        "claims": n_claims, "outcome_rows": n_outcomes, "links": len(result.links),
        "engine_s": round(engine_s, 3), "cpu_s": round(cpu_s, 3), "rationale_text_s": round(time.perf_counter() - t0, 3),
        "peak_mib": round(peak_rss_mib(), 1), "peak_engine_mib": round(engine_peak, 1), "peak_before_engine_mib": round(base, 1),
        "verdicts": result.verdicts["verdict"].value_counts().to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--outcomes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.claims, args.outcomes[0])))
        return
    from _common import machine

    print(f"machine: {machine()}")
    print("SYNTHETIC data (generated in memory, 500 outcome domains); engine = link + trial directions + pooling + certainty + verdicts")
    print(f"{'claims':>7} {'outcome rows':>13} {'links':>10} {'engine s':>9} {'cpu s':>7} {'+rationale s':>13} {'peak MiB engine':>16} {'+rationale':>11}")
    for n in args.outcomes:
        out = subprocess.run([sys.executable, __file__, "--one", "--claims", str(args.claims), "--outcomes", str(n)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['claims']:>7} {r['outcome_rows']:>13,} {r['links']:>10,} {r['engine_s']:>9.2f} {r['cpu_s']:>7.2f} {r['rationale_text_s']:>13.2f} {r['peak_engine_mib']:>16.0f} {r['peak_mib']:>11.0f}")


if __name__ == "__main__":
    main()
