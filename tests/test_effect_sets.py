"""Effect sets (methods sections 4-5): the effect chosen per trial, pooling sets, published estimates."""

import numpy as np
import pandas as pd
import pytest
from test_engine import make_claims, make_outcomes, make_studies

from evidence_review.effect_sets import (
    orient_published,
    pool_claims,
    pooled_results,
    published_for_claims,
    sensitivity_analyses,
    timepoint_rank,
    trial_effects,
)
from evidence_review.linking import link_claims

NUMS = (20, 3.0, 2.0, 20, 4.0, 2.0)


def _with(outcomes, **columns):
    out = outcomes.copy()
    for col, values in columns.items():
        out[col] = values
    return out


@pytest.fixture
def chosen():
    claims = make_claims(("pain", True, "benefit", "pain", "benefit", False))
    studies = make_studies(
        ("a2020", "rct", "ms", "massage", "sham", 40, "low", "direct"),
        ("b2021", "rct", "ms", "massage", "sham", 40, "low", "direct"),
        ("c2022", "non_randomised_controlled", "ms", "massage", "sham", 40, "low", "direct"),
    )
    outcomes = make_outcomes(
        ("a2020", "pain", "benefit", "between_group", NUMS, False),                   # a#1 other instrument
        ("a2020", "pain", "benefit", "between_group", (20, 3.5, 2.0, 20, 4.0, 2.0), False),  # a#2 common instrument, follow-up
        ("a2020", "pain", "benefit", "between_group", (20, 2.0, 2.0, 20, 4.0, 2.0), False),  # a#3 common, end of treatment
        ("b2021", "pain", "benefit", "between_group", (10, 3.0, 2.0, 10, 4.0, 2.0), False),  # b#1 common, smaller
        ("b2021", "pain", "benefit", "between_group", (30, 3.0, 2.0, 30, 4.0, 2.0), False),  # b#2 common, larger
        ("b2021", "pain", "benefit", "between_group", (30, 1.0, 2.0, 30, 4.0, 2.0), False),  # b#3 common, larger, later in file
        ("c2022", "pain", "benefit", "between_group", (1, 3.0, 2.0, 30, 4.0, 2.0), False),   # c#1 arm of 1: no g
        ("c2022", "pain", "benefit", "between_group", (20, 3.0, 2.0, 20, 4.0, 2.0), False),  # c#2
    )
    outcomes = _with(outcomes, instrument=["VAS", "NRS", "NRS", "NRS", "NRS", "NRS", "NRS", "NRS"],
                     timepoint=["post", "8-wk follow-up", "post-intervention", "post", "post", "post", "post", "post"])
    links = link_claims(claims, outcomes, studies, target_condition="ms", population_label="people with MS")
    return links, outcomes, trial_effects(links, outcomes).set_index("trial_group")


def test_effect_priority_instrument_timepoint_size_file_order(chosen):
    effects = chosen[2]
    assert effects.loc["a2020", "outcome_id"] == "a2020#3"   # the common instrument, at the end of treatment
    assert effects.loc["b2021", "outcome_id"] == "b2021#2"   # the larger N, then the first in the file
    assert effects.loc["c2022", "outcome_id"] == "c2022#2"   # an arm of 1 has no g


def test_change_scores_indirect_and_uncontrolled_rows_are_not_pooled(chosen):
    links, outcomes, _ = chosen
    assert trial_effects(links, _with(outcomes, value_type="change")).empty
    assert trial_effects(links.assign(directness="indirect"), outcomes).empty
    assert trial_effects(links.assign(controlled=False), outcomes).empty


def test_timepoint_rank():
    ranks = timepoint_rank(pd.Series(["post-intervention (6 wk)", "8-wk follow-up", "2 months after intervention", "mid-treatment", None]))
    assert list(ranks) == [0, 1, 1, 1, 0]


def test_pool_claims_notes_and_sensitivity_randomised_only(chosen):
    links, outcomes, effects = chosen
    pooled = pool_claims(effects.reset_index(), ["pain", "none"]).set_index("claim_id")
    assert pooled.loc["pain", "k_effects"] == 3 and pooled.loc["pain", "pooling_note"].startswith("pooled: random effects (DL)")
    assert pooled.loc["none", "k_effects"] == 0 and pooled.loc["none", "pooling_note"].startswith("not pooled: no controlled trial")
    one = pool_claims(effects.reset_index().iloc[:1], ["pain"]).set_index("claim_id")
    assert one.loc["pain", "pooling_note"] == "not pooled: only one controlled trial reports means, SDs and Ns"
    sens = sensitivity_analyses(links, outcomes).set_index("analysis")
    assert sens.loc["all trials", "k"] == 3 and sens.loc["randomised only", "k"] == 2
    assert {"without a2020", "without b2021", "without c2022"} <= set(sens.index)
    assert list(pooled_results(links, outcomes)["pain"].labels) == ["A 2020", "B 2021", "C 2022"]


def test_orient_published_only_where_the_measure_allows():
    reviews = pd.DataFrame({
        "review_id": ["r", "r", "r", "r", "r"], "outcome_domain": ["pain"] * 5,
        "effect_measure": ["MD", "SMD", "RR", None, "MD"],
        "higher_is_better": pd.array([False, True, False, False, pd.NA], dtype="boolean"),
        "estimate": [-0.9, 0.4, 0.6, -1.6, -2.0], "ci_low": [-1.37, 0.1, 0.3, -2.4, -3.0], "ci_high": [-0.43, 0.7, 1.2, -0.8, -1.0],
    })
    o = orient_published(reviews)
    assert (o.loc[0, "favours_estimate"], o.loc[0, "favours_ci_low"], o.loc[0, "favours_ci_high"]) == (0.9, 0.43, 1.37)
    assert (o.loc[1, "favours_estimate"], o.loc[1, "scale"]) == (0.4, "smd")
    assert np.isnan(o.loc[2, "favours_estimate"]) and o.loc[2, "null_value"] == 1.0 and o.loc[2, "scale"] == "ratio"
    assert np.isnan(o.loc[3, "favours_estimate"]) and o.loc[3, "conversion_note"] == "not converted: measure not named"
    assert np.isnan(o.loc[4, "favours_estimate"]) and o.loc[4, "conversion_note"].startswith("not converted: which way")


def test_published_meta_analysis_for_single_outcome_claims_in_ms_only():
    claims = make_claims(
        ("pain", True, "benefit", "pain", "benefit", False),
        ("general", True, "benefit", "pain;fatigue", "benefit", False),
        ("proxy", True, "benefit", "~pain", "benefit", False),
    )
    studies = make_studies(
        ("ms1", "systematic_review", "ms", "massage", "sham", None, "low", "direct"),
        ("ms2", "systematic_review", "ms", "massage", "sham", None, "low", "direct"),
        ("other", "systematic_review", "other", "massage", "sham", None, "low", "indirect"),
    )
    reviews = pd.DataFrame({
        "review_id": ["other", "ms1", "ms2"], "outcome_domain": ["pain"] * 3, "instrument_or_scope": ["x"] * 3,
        "effect_measure": ["SMD"] * 3, "higher_is_better": pd.array([True] * 3, dtype="boolean"),
        "estimate": [0.9, 0.3, 0.5], "ci_low": [0.5, 0.1, 0.2], "ci_high": [1.3, 0.5, 0.8], "i2": [np.nan] * 3,
        "n_studies": pd.array([20, 4, 6], dtype="Int64"),
    })
    chosen = published_for_claims(claims, reviews, studies, target_condition="ms")
    assert list(chosen["claim_id"]) == ["pain"] and chosen.loc[0, "review_id"] == "ms2"  # most studies among MS reviews


def test_background_links_are_skipped_when_choosing_effects(chosen):
    links, outcomes, effects = chosen
    source = links.iloc[:1].assign(outcome_id="guideline-x", evidence_kind="background_evidence", _outcome_row=np.nan,
                                   _claim_rank=np.nan, _study_rank=np.nan, _trial_rank=np.nan, trial_group="guideline-x")
    mixed = pd.concat([links.assign(evidence_kind="study"), source], ignore_index=True)
    assert list(trial_effects(mixed, outcomes)["outcome_id"]) == list(effects["outcome_id"])
