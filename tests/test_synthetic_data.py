"""The benchmarks' SYNTHETIC inputs pass the real loaders, so the scale figures time valid reviews."""

import sys

import pandas as pd

from evidence_review.paths import project_root
from evidence_review.studies import load_evidence

sys.path.insert(0, str(project_root() / "benchmarks"))
from _common import synthetic_evidence, write_synthetic_inputs  # noqa: E402


def test_synthetic_tables_pass_every_loader_check(tmp_path):
    write_synthetic_inputs(tmp_path, n_studies=400, n_outcomes=4000, n_claims=48, n_domains=30, seed=3)
    names = ("claims.csv", "studies.csv", "outcomes.csv", "reviews.csv", "outcome_domains.csv")
    evidence = load_evidence(*(tmp_path / n for n in names), None)
    assert (len(evidence.claims), len(evidence.studies), len(evidence.outcomes)) == (48, 400, 4000)
    assert len(evidence.reviews) > 0 and set(evidence.reviews["review_id"]) <= set(evidence.studies["study_id"])


def test_synthetic_arms_never_hold_more_people_than_the_study():
    _, studies, outcomes = synthetic_evidence(48, 20_000, n_studies=2_000, seed=1)
    size = outcomes["study_id"].map(studies.set_index("study_id")["n_randomised"]).astype(float)
    arms = (outcomes["n_int"] + outcomes["n_ctl"]).astype(float)
    assert (arms <= size).all()
    assert (outcomes[["n_int", "n_ctl"]].astype(float) >= 2).all().all()


def test_synthetic_tables_are_what_the_loader_returns(tmp_path):
    write_synthetic_inputs(tmp_path, n_studies=200, n_outcomes=1000, n_domains=20, seed=5)
    claims, studies, outcomes = synthetic_evidence(48, 1000, 20, seed=5, n_studies=200)
    names = ("claims.csv", "studies.csv", "outcomes.csv", "reviews.csv", "outcome_domains.csv")
    evidence = load_evidence(*(tmp_path / n for n in names), None)
    assert evidence.outcomes["outcome_id"].tolist() == outcomes["outcome_id"].tolist()
    pd.testing.assert_series_equal(evidence.claims["testable"], claims["testable"], check_names=False)
    assert evidence.outcomes["higher_is_better"].tolist() == outcomes["higher_is_better"].tolist()
