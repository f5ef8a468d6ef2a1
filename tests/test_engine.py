"""The engine end to end: the Synthesis it returns, and its structure (stages, no import loops)."""

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence_review.background import empty_background
from evidence_review.engine import VERDICT_COLUMNS, Synthesis, synthesise
from evidence_review.grading import DOMAINS
from evidence_review.studies import load_evidence
from evidence_review.vocab import CERTAINTY_LEVELS, VERDICTS

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "evidence_review"


# --- constructed tables ------------------------------------------------------------------------

def make_claims(*rows):
    cols = ["claim_id", "order", "testable", "claim_type", "outcome_domains", "expected_direction", "claim_of_size"]
    frame = pd.DataFrame(rows, columns=cols[:1] + cols[2:])
    frame.insert(1, "order", range(1, len(frame) + 1))
    return frame


def make_studies(*rows):
    """(study_id, design, condition, intervention, comparator, n, rob, directness)."""
    frame = pd.DataFrame(rows, columns=["study_id", "design", "condition", "intervention", "comparator", "n_randomised", "rob_overall", "directness"])
    frame["n_randomised"] = frame["n_randomised"].astype("Int64")
    frame["n_analysed"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame["trial_group"] = frame["study_id"]
    frame["directness_reason"] = np.where(frame["directness"] == "indirect", "other population", None)
    return frame


def make_outcomes(*rows):
    """(study_id, domain, direction, basis, means as (n, mean, sd, n, mean, sd) or None, higher_is_better)."""
    records = []
    for i, (study, domain, direction, basis, numbers, hib) in enumerate(rows):
        n_int, m_int, s_int, n_ctl, m_ctl, s_ctl = numbers or (None,) * 6
        records.append({
            "study_id": study, "outcome_domain": domain, "instrument": "scale", "timepoint": "post-intervention",
            "comparison": "a vs b", "basis": basis, "higher_is_better": hib, "direction": direction, "value_type": "post",
            "n_int": n_int, "mean_int": m_int, "sd_int": s_int, "n_ctl": n_ctl, "mean_ctl": m_ctl, "sd_ctl": s_ctl,
            "p_value": np.nan, "p_operator": None,
        })
    frame = pd.DataFrame(records)
    frame["higher_is_better"] = frame["higher_is_better"].astype("boolean")
    for col in ("n_int", "n_ctl"):
        frame[col] = frame[col].astype("Int64")
    for col in ("mean_int", "sd_int", "mean_ctl", "sd_ctl"):
        frame[col] = frame[col].astype("float64")
    frame.insert(0, "outcome_id", frame["study_id"] + "#" + (frame.groupby("study_id").cumcount() + 1).astype(str))
    return frame


@pytest.fixture(scope="module")
def small():
    claims = make_claims(
        ("pain", True, "benefit", "pain", "benefit", False),
        ("big", True, "benefit", "pain", "benefit", True),
        ("fatigue", True, "benefit", "fatigue", "benefit", False),
        ("heat", True, "background", "heat", "harm", False),
        ("sleep", True, "benefit", "sleep", "benefit", False),
        ("advice", False, "advice", None, "benefit", False),
    )
    studies = make_studies(
        ("a2020", "rct", "ms", "massage", "sham", 60, "low", "direct"),
        ("b2021", "rct", "ms", "massage", "sham", 60, "some_concerns", "direct"),
        ("c2022", "rct", "ms", "massage", "sham", 60, "high", "direct"),
        ("s2019", "cross_sectional", "ms", "no_intervention", "none", 500, "not_assessed", "direct"),
        ("r2023", "systematic_review", "ms", "massage", "usual_care", None, "some_concerns", "direct"),
    )
    outcomes = make_outcomes(
        ("a2020", "pain", "benefit", "between_group", (30, 3.0, 2.0, 30, 5.0, 2.0), False),
        ("b2021", "pain", "no_difference", "between_group", (30, 4.0, 2.0, 30, 5.0, 2.0), False),
        ("c2022", "pain", "benefit", "between_group", (30, 3.5, 2.0, 30, 5.0, 2.0), False),
        ("a2020", "fatigue", "benefit", "between_group", None, False),
        ("s2019", "heat", "harm", "within_group", None, None),
    )
    reviews = pd.DataFrame({
        "review_id": ["r2023"], "outcome_domain": ["fatigue"], "instrument_or_scope": ["FSS"], "effect_measure": ["MD"],
        "higher_is_better": pd.array([False], dtype="boolean"), "estimate": [-1.0], "ci_low": [-1.42], "ci_high": [-0.58],
        "i2": [np.nan], "n_studies": pd.array([3], dtype="Int64"),
    })
    background = empty_background()
    background.loc[0] = {"evidence_id": "soc-heat", "source_type": "society_statement", "organisation": "A society", "authors": None,
                         "year": 2020, "title": "t", "doi": None, "pmid": None, "source_url": "https://example.org",
                         "population": "adults with MS", "condition": "ms", "outcome_domain": "heat",
                         "statement": "Heat can make symptoms worse for a while.", "direction": "harm", "measure": None,
                         "value": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": pd.NA, "notes": None}
    return synthesise(claims, outcomes, studies, reviews=reviews, background=background, target_condition="ms", population_label="people with MS")


def test_synthesis_is_frozen_with_the_promised_tables(small):
    assert isinstance(small, Synthesis)
    assert [f.name for f in dataclasses.fields(Synthesis)] == ["links", "trials", "pooled", "verdicts", "certainty_domains"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        small.verdicts = None
    assert tuple(small.verdicts.columns) == VERDICT_COLUMNS
    assert list(small.certainty_domains.columns) == ["claim_id", "domain", "change", "reason"]


def test_end_to_end_verdicts_on_constructed_data(small):
    v = small.verdicts.set_index("claim_id")
    # Three trials pool (b2021's "no difference" has means pointing to benefit): the pooled g carries the verdict.
    assert v.loc["pain", "verdict"] == "supported" and v.loc["pain", "carried_by"].startswith("This review's pooled estimate (3 trials)")
    assert v.loc["pain", "n_no_difference"] == 0 and v.loc["pain", "pooled_k"] == 3
    # The same trials back a claim of size only if the pooled g is large: here it is 0.74 and its CI spans 0.8.
    assert 0.5 < v.loc["big", "pooled_g"] < 0.8 and v.loc["big", "verdict"] == "insufficient"
    assert "cannot tell whether the effect is large" in v.loc["big", "verdict_reasons"]
    # One trial votes, but the published meta-analysis of the same outcome carries the verdict instead.
    assert v.loc["fatigue", "verdict"] == "supported" and v.loc["fatigue", "carried_by"].startswith("Published meta-analysis R 2023 (FSS)")
    assert v.loc["heat", "verdict"] == "supported" and v.loc["heat", "carried_by"] == "authoritative sources"
    assert (v.loc["sleep", "verdict"], v.loc["advice", "verdict"]) == ("no_evidence", "not_testable")


def test_no_certainty_without_a_body_of_evidence(small):
    v = small.verdicts.set_index("claim_id")
    assert v.loc[["sleep", "advice"], "certainty"].isna().all()
    assert v.loc[["pain", "fatigue", "heat"], "certainty"].isin(CERTAINTY_LEVELS).all()
    graded = small.certainty_domains
    assert set(graded["claim_id"]) == {"pain", "big", "fatigue", "heat"}
    assert (graded.groupby("claim_id")["domain"].apply(tuple) == DOMAINS).all()


def test_background_evidence_is_linked_and_worded_as_association(small):
    heat = small.links.loc[small.links["claim_id"] == "heat"].set_index("outcome_id")
    assert heat.loc["soc-heat", "evidence_kind"] == "background_evidence"
    assert "agrees with the claim" in heat.loc["s2019#1", "rationale"]
    assert "intervention" not in " ".join(heat["rationale"])
    start = small.certainty_domains.query("claim_id == 'heat' and domain == 'start'")["reason"].iloc[0]
    assert start.startswith("High")


# --- the bundled review ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    ev = load_evidence()
    return ev, synthesise(ev.claims, ev.outcomes, ev.studies, reviews=ev.reviews, background=ev.background, target_condition="ms", population_label="people with MS")


def test_background_claims_link_only_to_observational_studies_or_sources(bundled):
    ev, result = bundled
    links = result.links
    study = links["evidence_kind"] == "study"
    background = links["claim_type"] == "background"
    assert (links.loc[background & study, "intervention"] == "no_intervention").all()
    assert (links.loc[~background, "intervention"] != "no_intervention").all()
    assert (links.loc[~background, "evidence_kind"] == "study").all()
    assert (links["design"] != "systematic_review").all()


def test_every_claim_gets_a_verdict(bundled):
    ev, result = bundled
    v = result.verdicts
    assert list(v["claim_id"]) == list(ev.claims["claim_id"])
    assert v["verdict"].isin(VERDICTS).all()
    assert (v.loc[~ev.claims["testable"].to_numpy(), "verdict"] == "not_testable").all()
    assert v.loc[v["verdict"].isin(["no_evidence", "not_testable"]), "certainty"].isna().all()


def test_helps_tremendously_is_a_claim_of_size_not_supported_by_a_count(bundled):
    v = bundled[1].verdicts.set_index("claim_id")
    assert v.loc["helps-tremendously", "verdict"] != "supported" or v.loc["helps-tremendously", "pooled_g"] >= 0.8


# --- structure -----------------------------------------------------------------------------------

STAGES = ["linking", "directions", "effect_sets", "grading", "verdicts", "effects", "background", "engine"]


def _imports(module: str) -> tuple[set[str], bool]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found, nested = set(), False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add(node.module)
            if node not in tree.body:
                nested = True
    return found, nested


def test_stage_modules_import_at_the_top_and_never_charts():
    for module in STAGES:
        found, nested = _imports(module)
        assert not nested, f"{module} imports inside a function"
        assert not found & {"charts", "report", "summary", "build", "pipeline"}, module


def test_no_import_loops_in_the_package():
    graph = {p.stem: _imports(p.stem)[0] for p in PACKAGE.glob("*.py") if p.stem != "__init__"}

    def reaches(start, target, seen=()):
        return any(n == target or (n not in seen and n in graph and reaches(n, target, (*seen, n))) for n in graph.get(start, ()))

    loops = [m for m in graph if reaches(m, m)]
    assert not loops, loops
