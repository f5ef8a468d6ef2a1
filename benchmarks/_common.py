"""Shared helpers for the benchmarks: machine description and SYNTHETIC evidence tables.

Synthetic tables are generated in memory for timing only; they are never written to data/.
"""

from __future__ import annotations

import os
import platform
import resource
import sys

import numpy as np
import pandas as pd


def machine() -> str:
    """One line describing where the figures were measured."""
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({model}), {mem:.0f} GiB, Python {sys.version.split()[0]}"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_evidence(n_claims: int, n_outcomes: int, n_domains: int = 500, seed: int = 0):
    """SYNTHETIC claims, studies and outcomes with the validated tables' columns and types.

    Every claim names one or two of ``n_domains`` domains (the second a proxy half the time);
    studies have five outcome rows on average, a tenth of them are indirect, a fifth are
    before-after studies.
    """
    rng = np.random.default_rng(seed)
    domains = np.array([f"domain_{i:04d}" for i in range(n_domains)])
    first = rng.choice(domains, n_claims)
    second = np.where(rng.random(n_claims) < 0.5, "~", "") + rng.choice(domains, n_claims)
    two = rng.random(n_claims) < 0.5
    claims = pd.DataFrame({
        "claim_id": [f"synthetic-claim-{i}" for i in range(n_claims)],
        "order": np.arange(1, n_claims + 1),
        "claim_type": rng.choice(["benefit", "mechanism", "safety", "background"], n_claims, p=[0.6, 0.2, 0.1, 0.1]),
        "outcome_domains": np.where(two, pd.Series(first) + ";" + second, first),
        "expected_direction": rng.choice(["benefit", "harm", "no_difference"], n_claims, p=[0.8, 0.1, 0.1]),
        "testable": rng.random(n_claims) < 0.9,
    })
    n_studies = max(1, n_outcomes // 5)
    design = rng.choice(["rct", "crossover_rct", "non_randomised_controlled", "pre_post", "cross_sectional"], n_studies,
                        p=[0.5, 0.1, 0.1, 0.2, 0.1])
    studies = pd.DataFrame({
        "study_id": [f"synthetic{i}" for i in range(n_studies)],
        "design": design,
        "condition": np.where(rng.random(n_studies) < 0.9, "ms", "other"),
        "intervention": np.where(design == "cross_sectional", "no_intervention", "massage"),
        "comparator": rng.choice(["usual_care", "waitlist", "sham", "active", "none"], n_studies),
        "n_randomised": pd.array(rng.integers(8, 400, n_studies), dtype="Int64"),
        "n_analysed": pd.array([pd.NA] * n_studies, dtype="Int64"),
        "trial_group": [f"synthetic{i // 2 if i % 7 == 0 else i}" for i in range(n_studies)],
        "rob_overall": rng.choice(["low", "some_concerns", "high"], n_studies),
        "directness": np.where(rng.random(n_studies) < 0.1, "indirect", "direct"),
        "directness_reason": "synthetic",
    })
    sid = rng.integers(0, n_studies, n_outcomes)
    mean_ctl = rng.normal(50, 10, n_outcomes)
    outcomes = pd.DataFrame({
        "outcome_id": [f"synthetic{s}#{i}" for i, s in enumerate(sid)],
        "study_id": studies["study_id"].to_numpy()[sid],
        "outcome_domain": rng.choice(domains, n_outcomes),
        "instrument": "synthetic scale",
        "comparison": "synthetic arms",
        "basis": np.where(rng.random(n_outcomes) < 0.8, "between_group", "within_group"),
        "higher_is_better": pd.array(rng.random(n_outcomes) < 0.5, dtype="boolean"),
        "direction": rng.choice(["benefit", "no_difference", "harm", "unclear"], n_outcomes, p=[0.5, 0.3, 0.1, 0.1]),
        "value_type": "post",
        "n_int": pd.array(rng.integers(5, 200, n_outcomes), dtype="Int64"),
        "mean_int": mean_ctl + rng.normal(2, 5, n_outcomes),
        "sd_int": rng.uniform(5, 15, n_outcomes),
        "n_ctl": pd.array(rng.integers(5, 200, n_outcomes), dtype="Int64"),
        "mean_ctl": mean_ctl,
        "sd_ctl": rng.uniform(5, 15, n_outcomes),
        "p_value": rng.uniform(0.0001, 0.9, n_outcomes),
        "p_operator": "=",
    })
    return claims, studies, outcomes
