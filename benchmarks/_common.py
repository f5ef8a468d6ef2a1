"""Shared helpers for the benchmarks: machine description and SYNTHETIC evidence tables.

Synthetic tables are generated in memory for timing only; they are never written to data/.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path

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


#: Designs of the synthetic primary studies and how often each is drawn.
_DESIGNS = {"rct": 0.5, "crossover_rct": 0.1, "non_randomised_controlled": 0.1, "pre_post": 0.2, "cross_sectional": 0.1}
_INTERVENTIONS = ("massage", "reflexology", "myofascial_release", "self_massage", "other_manual")
_ROB = ("low", "some_concerns", "high")


def synthetic_evidence(n_claims: int, n_outcomes: int, n_domains: int = 500, seed: int = 0, n_studies: int | None = None,
                       n_reviews: int = 20):
    """SYNTHETIC claims, studies and outcomes with the validated tables' columns and types.

    Every claim names one or two of ``n_domains`` domains (the second a proxy half the time);
    studies have ``n_outcomes / n_studies`` outcome rows on average (five by default), a tenth of
    them are indirect, a fifth are before-after studies. The tables obey every rule of the
    loaders, including the cross-table ones: each arm holds at most half the study's N, so two
    arms never hold more than the study's N (the loader allows at most twice it). The last
    ``n_reviews`` studies are systematic reviews, as :func:`synthetic_reviews` needs.

    Returns
    -------
    claims, studies, outcomes : pandas.DataFrame
        As :func:`evidence_review.studies.load_evidence` returns them (``testable`` and
        ``higher_is_better`` typed, ``outcome_id`` numbered as the loader numbers it).
    """
    rng = np.random.default_rng(seed)
    domains = np.array([f"domain_{i:04d}" for i in range(n_domains)])
    first = rng.choice(domains, n_claims)
    second = np.where(rng.random(n_claims) < 0.5, "~", "") + rng.choice(domains, n_claims)
    two = rng.random(n_claims) < 0.5
    claim_type = rng.choice(["benefit", "mechanism", "safety", "background"], n_claims, p=[0.6, 0.2, 0.1, 0.1])
    claims = pd.DataFrame({
        "claim_id": [f"synthetic-claim-{i}" for i in range(n_claims)],
        "order": pd.array(np.arange(1, n_claims + 1), dtype="Int64"),
        "section": [f"Synthetic section {i // 8 + 1}" for i in range(n_claims)],
        "claim": [f"Synthetic claim number {i} for timing only." for i in range(n_claims)],
        "key_phrase": pd.NA,
        "claim_type": claim_type,
        "outcome_domains": np.where(two, pd.Series(first) + ";" + second, first),
        "expected_direction": rng.choice(["benefit", "harm", "no_difference"], n_claims, p=[0.8, 0.1, 0.1]),
        "wording_strength": rng.choice(["definitive", "hedged", "caveated"], n_claims),
        "wording_reason": "synthetic",
        "testable": rng.random(n_claims) < 0.9,
        "claim_of_size": False,
        "notes": "SYNTHETIC",
    })
    n_studies = max(1 + n_reviews, n_outcomes // 5 if n_studies is None else n_studies)
    n_primary = n_studies - n_reviews
    design = np.concatenate([rng.choice(list(_DESIGNS), n_primary, p=list(_DESIGNS.values())),
                             np.full(n_reviews, "systematic_review")])
    randomised = np.isin(design, ["rct", "crossover_rct"])
    ids = np.array([f"synthetic{i}" for i in range(n_studies)], dtype=object)
    n_randomised = rng.integers(8, 400, n_studies)
    indirect = rng.random(n_studies) < 0.1
    studies = pd.DataFrame({
        "study_id": ids,
        "authors": "Synthetic A; Synthetic B",
        "year": pd.array(rng.integers(1990, 2025, n_studies), dtype="Int64"),
        "title": [f"SYNTHETIC study {i}" for i in range(n_studies)],
        "journal": "Journal of Synthetic Data",
        "doi": pd.NA,
        "pmid": pd.NA,
        "source_url": [f"https://example.org/synthetic/{i}" for i in range(n_studies)],
        "trial_group": [f"synthetic{i // 2 if i % 7 == 0 else i}" for i in range(n_studies)],
        "design": design,
        "population": "synthetic participants",
        "condition": np.where(rng.random(n_studies) < 0.9, "ms", "other"),
        "n_randomised": pd.array(n_randomised, dtype="Int64"),
        "n_analysed": pd.array([pd.NA] * n_studies, dtype="Int64"),
        "intervention": np.where(design == "cross_sectional", "no_intervention",
                                 rng.choice(_INTERVENTIONS, n_studies)),
        "intervention_detail": pd.NA,
        "comparator": rng.choice(["usual_care", "waitlist", "sham", "active", "none"], n_studies),
        "comparator_detail": pd.NA,
        "directness": np.where(indirect, "indirect", "direct"),
        "directness_reason": "synthetic",
        "rob_tool": np.where(randomised, "RoB2", np.where(design == "systematic_review", "AMSTAR2-lite", "ROBINS-I-lite")),
        **{f"rob_d{k}": rng.choice(_ROB, n_studies) for k in range(1, 6)},
        "rob_overall": rng.choice(_ROB, n_studies),
        "rob_reason": "synthetic judgement",
        "country": rng.choice(["Nowhere", "Elsewhere", "Somewhere", "Anywhere"], n_studies),
        "notes": "SYNTHETIC",
    })
    # Outcomes belong to primary studies only; sorted by study so each study's rows are together.
    sid = np.sort(rng.integers(0, n_primary, n_outcomes))
    study_n = n_randomised[sid]
    mean_ctl = rng.normal(50, 10, n_outcomes)
    outcome_study = ids[sid]
    numbering = pd.Series(outcome_study).groupby(outcome_study).cumcount().to_numpy() + 1
    outcomes = pd.DataFrame({
        "outcome_id": [f"{s}#{k}" for s, k in zip(outcome_study, numbering)],
        "study_id": outcome_study,
        "outcome_domain": rng.choice(domains, n_outcomes),
        "instrument": "synthetic scale",
        "timepoint": pd.NA,
        "comparison": "synthetic arms",
        "basis": np.where(rng.random(n_outcomes) < 0.8, "between_group", "within_group"),
        "higher_is_better": pd.array(rng.random(n_outcomes) < 0.5, dtype="boolean"),
        "direction": rng.choice(["benefit", "no_difference", "harm", "unclear"], n_outcomes, p=[0.5, 0.3, 0.1, 0.1]),
        "value_type": "post",
        # Each arm holds 2 to half the study's N people.
        "n_int": pd.array(rng.integers(2, study_n // 2 + 1), dtype="Int64"),
        "mean_int": mean_ctl + rng.normal(2, 5, n_outcomes),
        "sd_int": rng.uniform(5, 15, n_outcomes),
        "n_ctl": pd.array(rng.integers(2, study_n // 2 + 1), dtype="Int64"),
        "mean_ctl": mean_ctl,
        "sd_ctl": rng.uniform(5, 15, n_outcomes),
        "effect_measure": pd.NA,
        "effect": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "ci_level": np.nan,
        "p_value": rng.uniform(0.0001, 0.9, n_outcomes),
        "p_operator": "=",
        "source_url": pd.NA,
        "notes": pd.NA,
    })
    return claims, studies, outcomes


def synthetic_domains(n_domains: int = 500) -> pd.DataFrame:
    """The SYNTHETIC outcome-domain vocabulary :func:`synthetic_evidence` draws from."""
    codes = [f"domain_{i:04d}" for i in range(n_domains)]
    return pd.DataFrame({"code": codes, "label": [c.replace("_", " ").capitalize() for c in codes],
                         "description": "SYNTHETIC"})


def synthetic_reviews(studies: pd.DataFrame, claims: pd.DataFrame, per_review: int = 2, seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC published pooled results: ``per_review`` rows for each systematic review in ``studies``,
    on the claims' first domains."""
    rng = np.random.default_rng(seed)
    ids = studies.loc[studies["design"] == "systematic_review", "study_id"].to_numpy()
    n = len(ids) * per_review
    domains = claims["outcome_domains"].str.split(";").str[0].to_numpy()
    estimate = rng.normal(0.3, 0.3, n)
    half = rng.uniform(0.1, 0.5, n)
    return pd.DataFrame({
        "review_id": np.repeat(ids, per_review),
        "outcome_domain": rng.choice(domains, n),
        "instrument_or_scope": "synthetic scales",
        "effect_measure": "SMD",
        "estimate": estimate.round(2),
        "ci_low": (estimate - half).round(2),
        "ci_high": (estimate + half).round(2),
        "ci_level": 95.0,
        "i2": rng.uniform(0, 90, n).round(0),
        "n_studies": pd.array(rng.integers(2, 30, n), dtype="Int64"),
        "n_participants": pd.array(rng.integers(50, 3000, n), dtype="Int64"),
        "p_value": np.nan,
        "p_operator": pd.NA,
        "included_studies": pd.NA,
        "conclusion": "Synthetic conclusion.",
        "source_url": [f"https://example.org/synthetic/review/{i}" for i in range(n)],
        "notes": "SYNTHETIC",
    })


def _csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A typed table as the text a curator would type: true/false for booleans, empty for missing."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == bool or str(out[col].dtype) == "boolean":
            out[col] = out[col].map({True: "true", False: "false"}, na_action="ignore")
    return out


def write_synthetic_inputs(folder: Path, n_studies: int, n_outcomes: int, n_claims: int = 48, n_domains: int = 500,
                           seed: int = 0) -> Path:
    """Write a complete SYNTHETIC review's input files and a parameters file into ``folder``.

    Parameters
    ----------
    folder : Path
        Created if needed.
    n_studies, n_outcomes, n_claims, n_domains : int
        Sizes; 48 claims is the bundled review's size.
    seed : int

    Returns
    -------
    Path
        The parameters file (``params.yaml``; paths relative to ``folder``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    claims, studies, outcomes = synthetic_evidence(n_claims, n_outcomes, n_domains, seed, n_studies=n_studies)
    tables = {"claims.csv": claims, "studies.csv": studies, "outcomes.csv": outcomes.drop(columns="outcome_id"),
              "outcome_domains.csv": synthetic_domains(n_domains), "reviews.csv": synthetic_reviews(studies, claims, seed=seed)}
    for name, frame in tables.items():
        _csv_text(frame).to_csv(folder / name, index=False, lineterminator="\n")
    params = folder / "params.yaml"
    params.write_text(
        "# SYNTHETIC inputs for timing only (benchmarks/_common.py); paths relative to this folder.\n"
        "title: \"Synthetic intervention for a synthetic condition\"\n"
        "claims_path: claims.csv\nstudies_path: studies.csv\noutcomes_path: outcomes.csv\nreviews_path: reviews.csv\n"
        "domains_path: outcome_domains.csv\nscorecard_path: null\nbackground_path: null\n", encoding="utf-8")
    return params
