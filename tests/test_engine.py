"""The evidence engine: linking, vote counting, GRADE-style certainty and verdict rules."""

import numpy as np
import pandas as pd
import pytest

from evidence_review.engine import decide_verdict, grade_certainty, link_claims, study_label, synthesise, vote_count
from evidence_review.studies import load_evidence
from evidence_review.vocab import CERTAINTY_LEVELS, VERDICTS


def trials(*rows):
    """Build a claim x trial table from (direction, participants, design, comparator, rob, directness, ms)."""
    cols = ["direction", "participants", "design", "comparator", "rob_overall", "directness", "ms_population"]
    frame = pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)
    frame["randomised"] = frame["design"].isin(["rct", "crossover_rct"])
    frame["controlled"] = frame["design"].isin(["rct", "crossover_rct", "non_randomised_controlled", "cohort"])
    frame["trial_group"] = [f"t{i}" for i in range(len(frame))]
    return frame


def rct(direction="benefit", n=300, comparator="sham", rob="low", directness="direct", ms=True):
    return (direction, n, "rct", comparator, rob, directness, ms)


def claim(**kw):
    base = {"claim_id": "c", "testable": True, "claim_type": "benefit", "expected_direction": "benefit"}
    return pd.Series({**base, **kw})


LINK = pd.DataFrame({"x": [1]})


# --- vote counting ---------------------------------------------------------------------------

def test_vote_count_sign_test():
    v = vote_count(["benefit"] * 8 + ["harm"] * 2 + ["no_difference"] * 3 + ["unclear"])
    assert (v["benefit"], v["harm"], v["no_difference"], v["unclear"]) == (8, 2, 3, 1)
    assert v["agree"] == 8 and v["disagree"] == 5
    assert v["sign_test_p"] == pytest.approx(0.109375)  # two-sided binomial, 8 of 10


def test_vote_count_never_counts_significance_only():
    assert np.isnan(vote_count(["no_difference", "unclear"])["sign_test_p"])
    assert vote_count(["harm", "harm"], expected="harm")["agree"] == 2


# --- certainty ---------------------------------------------------------------------------------

def test_certainty_starts_high_for_randomised_and_low_otherwise():
    assert grade_certainty(trials(rct(n=300), rct(n=300)))[0] == "high"
    obs = ("benefit", 600, "cohort", "usual_care", "low", "direct", True)
    assert grade_certainty(trials(obs, obs))[0] == "low"


def test_certainty_risk_of_bias():
    assert grade_certainty(trials(rct(rob="some_concerns"), rct(rob="some_concerns")))[0] == "moderate"
    level, reasons = grade_certainty(trials(rct(rob="high"), rct(rob="high")))
    assert level == "low" and any("Risk of bias: very serious" in r for r in reasons)


def test_certainty_inconsistency():
    level, reasons = grade_certainty(trials(rct("benefit"), rct("no_difference")))
    assert level == "moderate" and any(r.startswith("Inconsistency") for r in reasons)
    assert grade_certainty(trials(rct(), rct()), pooled={"i2": 80.0, "ci_low": 0.2, "ci_high": 0.6})[0] == "moderate"


def test_certainty_indirectness():
    assert grade_certainty(trials(rct(directness="indirect", ms=False), rct(directness="indirect", ms=False)))[0] == "low"
    assert grade_certainty(trials(rct(directness="indirect"), rct(directness="indirect")))[0] == "moderate"


def test_certainty_imprecision():
    assert grade_certainty(trials(rct(n=200), rct(n=200)))[0] == "high"
    assert grade_certainty(trials(rct(n=100), rct(n=100)))[0] == "moderate"  # 200 < 400
    level, reasons = grade_certainty(trials(rct(n=40), rct("no_difference", n=40)))
    assert level == "very_low"  # -2 imprecision (80 < 100), -1 inconsistency
    assert any(r.startswith("Imprecision: very serious (-2)") for r in reasons)
    crossing = {"i2": 0.0, "ci_low": -0.1, "ci_high": 0.5}
    assert grade_certainty(trials(rct(), rct()), pooled=crossing)[0] == "moderate"


def test_certainty_publication_bias_and_floor():
    level, reasons = grade_certainty(trials(*[rct(n=60, rob="high")] * 3))
    assert any(r.startswith("Publication bias") for r in reasons)
    assert level == "very_low"  # 4 -2 (RoB) -1 (imprecision, 180) -1 (publication bias) = floor
    assert grade_certainty(trials())[0] == "very_low"


# --- verdicts ----------------------------------------------------------------------------------

def test_verdict_not_testable_and_no_evidence():
    assert decide_verdict(claim(testable=False), trials(), LINK)[0] == "not_testable"
    assert decide_verdict(claim(), trials(), LINK.iloc[0:0])[0] == "no_evidence"


def test_verdict_insufficient_without_controlled_direct_evidence_or_one_small_trial():
    assert decide_verdict(claim(), trials(), LINK)[0] == "insufficient"
    assert decide_verdict(claim(), trials(rct(n=40)), LINK)[0] == "insufficient"


def test_verdict_supported_mixed_not_supported():
    assert decide_verdict(claim(), trials(rct(), rct(), rct(), rct()), LINK)[0] == "supported"
    assert decide_verdict(claim(), trials(rct(), rct("no_difference")), LINK)[0] == "mixed"
    assert decide_verdict(claim(), trials(rct("no_difference"), rct("no_difference"), rct("harm")), LINK)[0] == "not_supported"


def test_verdict_mixed_when_benefit_only_against_weak_comparators():
    t = trials(*[rct(comparator="usual_care")] * 3, rct("no_difference", comparator="sham"))
    verdict, reasons = decide_verdict(claim(), t, LINK)
    assert verdict == "mixed" and "sham" in reasons[-1]


def test_verdict_uses_expected_direction_for_safety_claims():
    harm_claim = claim(claim_type="safety", expected_direction="harm")
    assert decide_verdict(harm_claim, trials(rct("harm"), rct("harm")), LINK)[0] == "supported"
    assert decide_verdict(harm_claim, trials(rct("no_difference"), rct("no_difference")), LINK)[0] == "not_supported"


# --- linking and end to end --------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    ev = load_evidence()
    return ev, synthesise(ev.claims, ev.outcomes, ev.studies)


def test_background_claims_link_only_to_observational_ms_studies(bundled):
    ev, result = bundled
    links = result["links"]
    kinds = links
    background = kinds["claim_type"] == "background"
    assert (kinds.loc[background, "intervention"] == "no_intervention").all()
    assert (kinds.loc[~background, "intervention"] != "no_intervention").all()
    assert (links["design"] != "systematic_review").all()


def test_proxy_and_other_population_links_are_indirect(bundled):
    links = bundled[1]["links"]
    assert (links.loc[links["proxy_outcome"], "directness"] == "indirect").all()
    assert (links.loc[~links["ms_population"], "directness"] == "indirect").all()
    assert links["rationale"].str.match(r"^\S.*, .*: .+\(.+\)$").all()


def test_every_claim_gets_a_verdict_and_certainty(bundled):
    ev, result = bundled
    v = result["verdicts"]
    assert list(v["claim_id"]) == list(ev.claims["claim_id"])
    assert v["verdict"].isin(VERDICTS).all()
    testable = v["claim_id"].isin(ev.claims.loc[ev.claims["testable"], "claim_id"])
    assert v.loc[testable, "certainty"].isin(CERTAINTY_LEVELS).all()
    assert (v.loc[~testable, "verdict"] == "not_testable").all()
    assert (v.loc[v["verdict"] == "no_evidence", "studies"] == 0).all()


def test_trials_count_papers_of_one_trial_once(bundled):
    trials_ = bundled[1]["trials"]
    assert not trials_.duplicated(["claim_id", "trial_group"]).any()
    fatigue = trials_.loc[trials_["claim_id"] == "fatigue", "trial_group"]
    assert "nazari2015" in set(fatigue)


def test_study_label():
    assert study_label("negahban2013") == "Negahban 2013"
    assert study_label("sajadi2020a") == "Sajadi 2020a"
    assert study_label("anonndb") == "anonndb"
