"""Linking (methods section 1) and one direction per trial (section 2), on constructed rows."""

import pandas as pd
import pytest
from test_engine import make_claims, make_outcomes, make_studies

from evidence_review.background import empty_background
import numpy as np

from evidence_review.directions import (
    DIRECTIONS,
    _describing_rows,
    design_weight,
    domain_directions,
    point_estimate_directions,
    study_directions,
    trial_directions,
)
from evidence_review.linking import agreement, link_background, link_claims, matches, study_label


@pytest.fixture
def tables():
    claims = make_claims(
        ("pain", True, "benefit", "pain;~mood", "benefit", False),
        ("heat", True, "background", "heat", "harm", False),
        ("advice", False, "advice", "pain", "benefit", False),
    )
    studies = make_studies(
        ("a2020", "rct", "ms", "massage", "sham", 60, "low", "direct"),
        ("b2021", "pre_post", "other", "massage", "none", 20, "high", "indirect"),
        ("c2022", "rct", "ms", "reflexology", "sham", 40, "low", "indirect"),
        ("s2019", "cross_sectional", "ms", "no_intervention", "none", 500, "not_assessed", "direct"),
        ("r2023", "systematic_review", "ms", "massage", "usual_care", None, "some_concerns", "direct"),
    )
    outcomes = make_outcomes(
        ("a2020", "pain", "benefit", "between_group", None, False),
        ("a2020", "mood", "benefit", "between_group", None, True),
        ("b2021", "pain", "benefit", "within_group", None, False),
        ("c2022", "pain", "harm", "between_group", None, False),
        ("s2019", "heat", "harm", "within_group", None, None),
        ("s2019", "pain", "harm", "within_group", None, None),
        ("r2023", "pain", "benefit", "between_group", None, False),
    )
    return claims, outcomes, studies


def test_links_respect_claim_kind_reviews_and_testability(tables):
    links = link_claims(*tables, target_condition="ms", population_label="people with MS").set_index(["claim_id", "outcome_id"])
    assert set(links.index) == {("pain", "a2020#1"), ("pain", "a2020#2"), ("pain", "b2021#1"), ("pain", "c2022#1"), ("heat", "s2019#1")}


def test_directness_and_its_reasons(tables):
    links = link_claims(*tables, target_condition="ms", population_label="people with MS").set_index(["claim_id", "outcome_id"])
    assert links.loc[("pain", "a2020#1"), "directness"] == "direct"
    assert links.loc[("pain", "a2020#2"), "indirect_reason"] == "mood is a proxy for the named outcome"
    assert links.loc[("pain", "b2021#1"), "indirect_reason"] == "not people with MS"
    assert links.loc[("pain", "c2022#1"), "indirect_reason"] == "other population"
    assert links.loc[("pain", "a2020#1"), "controlled"] and not links.loc[("pain", "b2021#1"), "controlled"]
    assert (links.loc[links["directness"] == "indirect", "indirect_reason"] != "").all()


def test_rationales_word_background_results_as_associations(tables):
    links = link_claims(*tables, target_condition="ms", population_label="people with MS").set_index(["claim_id", "outcome_id"])
    assert links.loc[("pain", "a2020#1"), "rationale"].startswith("A 2020, RCT, n=60: scale (pain) favoured the intervention (between groups")
    heat = links.loc[("heat", "s2019#1"), "rationale"]
    assert "association in people with the condition agrees with the claim (within the group" in heat
    assert "harm" not in heat and "intervention" not in heat


def test_agreement_rules():
    d = pd.Series(["benefit", "harm", "no_difference", "unclear", "no_difference", "no_difference", "harm"])
    e = pd.Series(["benefit", "benefit", "benefit", "benefit", "no_difference", "harm", "harm"])
    studies = agreement(d, e, pd.Series([False] * 7))
    assert list(studies) == ["agrees", "disagrees", "no direction", "unclear", "agrees", "no direction", "agrees"]
    statements = agreement(d, e, pd.Series([True] * 7))
    assert list(statements) == ["agrees", "disagrees", "disagrees", "unclear", "agrees", "disagrees", "agrees"]


def test_background_sources_link_to_background_claims_by_domain(tables):
    claims = tables[0]
    bg = empty_background()
    for i, (eid, domain, condition, direction) in enumerate([("s-heat", "heat", "ms", "harm"), ("s-other", "heat", "other", "no_difference"),
                                                            ("s-pain", "pain", "ms", "harm")]):
        bg.loc[i] = {"evidence_id": eid, "source_type": "guideline", "organisation": "Org", "year": 2022, "source_url": "https://x.org",
                     "population": "p", "condition": condition, "outcome_domain": domain, "statement": "A statement in own words.",
                     "direction": direction, "n": pd.NA}
    links = link_background(claims, bg, target_condition="ms", population_label="people with MS").set_index("outcome_id")
    assert list(links.index) == ["s-heat", "s-other"] and (links["claim_id"] == "heat").all()
    assert links.loc["s-heat", "directness"] == "direct" and links.loc["s-other", "indirect_reason"] == "not people with MS"
    assert links.loc["s-heat", "agreement"] == "agrees" and links.loc["s-other", "agreement"] == "disagrees"
    assert (links["rob_overall"] == "not_assessed").all() and not links["controlled"].any()
    assert links.loc["s-heat", "rationale"].startswith("Org 2022 (guideline): A statement in own words. [association")
    assert link_background(claims, empty_background(), target_condition="ms", population_label="people with MS").empty


def test_point_estimate_decides_direction_whatever_its_significance():
    rows = make_outcomes(
        ("a", "pain", "no_difference", "between_group", (10, 3.0, 1.0, 10, 4.0, 1.0), False),  # lower pain: benefit
        ("a", "pain", "no_difference", "between_group", (10, 3.0, 1.0, 10, 4.0, 1.0), True),   # lower score worse: harm
        ("a", "pain", "benefit", "between_group", (10, 4.0, 1.0, 10, 4.0, 1.0), True),         # equal means
        ("a", "pain", "no_difference", "within_group", (10, 3.0, 1.0, 10, 4.0, 1.0), True),    # not a between-group estimate
        ("a", "pain", "unclear", "between_group", (10, 3.0, 1.0, 10, 4.0, 1.0), None),         # orientation unknown
        ("a", "pain", "harm", "between_group", None, True),
    )
    assert list(point_estimate_directions(rows)) == ["benefit", "harm", "no_difference", "no_difference", "unclear", "harm"]


def _links(*rows):
    cols = ["trial_group", "basis", "proxy_outcome", "direction", "participants", "randomised", "design", "target_population", "directness"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.assign(claim_id="c", controlled=frame["basis"] == "between_group", comparator="sham", rob_overall="low",
                        study_id=frame["trial_group"] + "-" + frame["design"], evidence_kind="study")


def test_one_direction_per_trial_from_its_best_results():
    t = study_directions(_links(
        ("t1", "between_group", False, "benefit", 40, True, "rct", True, "direct"),
        ("t1", "within_group", False, "harm", 40, True, "rct", True, "direct"),
        ("t1", "within_group", False, "harm", 40, True, "rct", True, "direct"),
        ("t2", "between_group", True, "harm", 30, True, "rct", True, "indirect"),
        ("t2", "between_group", False, "no_difference", 30, True, "rct", True, "direct"),
        ("t3", "between_group", False, "benefit", 20, True, "rct", True, "direct"),
        ("t3", "between_group", False, "harm", 20, True, "rct", True, "direct"),
        ("t4", "between_group", False, "unclear", 10, True, "rct", True, "direct"),
        ("t4", "between_group", False, "unclear", 10, True, "rct", True, "direct"),
        ("t4", "between_group", False, "harm", 10, True, "rct", True, "direct"),
        ("t5", "between_group", False, "harm", 10, True, "rct", True, "direct"),
        ("t5", "between_group", False, "benefit", 10, True, "rct", True, "direct"),
    )).set_index("trial_group")
    assert t.loc["t1", "direction"] == "benefit"        # between-group beats within-group
    assert t.loc["t2", "direction"] == "no_difference"  # the named outcome beats a proxy
    assert t.loc["t3", "direction"] == t.loc["t5", "direction"] == "unclear"  # a tie, whichever comes first
    assert t.loc["t4", "direction"] == "harm"           # unclear results never outvote a direction
    assert t.loc["t2", "directness"] == "direct"


def test_trial_description_prefers_randomised_and_largest_paper():
    t = study_directions(_links(
        ("t1", "between_group", False, "benefit", 80, False, "non_randomised_controlled", True, "direct"),
        ("t1", "between_group", False, "benefit", 50, True, "rct", True, "direct"),
        ("t1", "between_group", False, "benefit", 60, True, "crossover_rct", False, "direct"),
    )).iloc[0]
    assert (t["design"], t["participants"], t["randomised"], t["target_population"]) == ("crossover_rct", 80.0, True, False)


def test_study_label_and_design_weight():
    assert study_label("negahban2013") == "Negahban 2013" and study_label("sajadi2020a") == "Sajadi 2020a"
    assert study_label("anonndb") == "anonndb"
    assert (design_weight("rct"), design_weight("pre_post"), design_weight("unknown")) == (1.0, 0.25, 0.0)
    assert study_directions(_links().iloc[0:0]).empty


def test_fast_path_keys_give_the_same_trials_as_text_keys(tables):
    links = link_claims(*tables, target_condition="ms", population_label="people with MS")
    hidden = [c for c in links.columns if c.startswith("_")]
    assert hidden == ["_claim_rank", "_study_rank", "_trial_rank", "_outcome_row", "_direction_code"]
    fast = study_directions(links)
    slow = study_directions(links.drop(columns=hidden))
    pd.testing.assert_frame_equal(fast, slow)
    assert list(zip(fast["claim_id"], fast["trial_group"])) == sorted(zip(fast["claim_id"], fast["trial_group"]))
    plain = study_directions(links.drop(columns=[*hidden, "evidence_kind", "expected_direction"]))
    assert (plain["evidence_kind"] == "study").all() and plain["expected_direction"].isna().all()


def test_a_trials_flags_come_from_all_its_papers():
    t = study_directions(_links(
        ("t1", "within_group", False, "benefit", 40, False, "before_after", True, "indirect"),
        ("t2", "within_group", False, "benefit", 40, False, "before_after", True, "indirect"),
        ("t2", "between_group", False, "benefit", 40, True, "rct", False, "direct"),
    )).set_index("trial_group")
    flags = ["randomised", "controlled", "target_population", "directness"]
    assert t.loc["t1", flags].tolist() == [False, False, True, "indirect"]
    # Randomised, controlled or direct when any paper is; in the population only when every paper is.
    assert t.loc["t2", flags].tolist() == [True, True, False, "direct"]


def test_a_between_group_proxy_outranks_a_within_group_named_result():
    t = study_directions(_links(
        ("t0", "between_group", False, "benefit", 40, True, "rct", True, "direct"),
        ("t1", "within_group", False, "benefit", 40, True, "rct", True, "direct"),
        ("t1", "within_group", False, "benefit", 40, True, "rct", True, "direct"),
        ("t1", "between_group", True, "harm", 40, True, "rct", True, "indirect"),
    )).set_index("trial_group")
    assert (t.loc["t0", "direction"], t.loc["t1", "direction"]) == ("benefit", "harm")


def test_trial_described_by_a_paper_with_known_size():
    t = study_directions(_links(
        ("t1", "between_group", False, "benefit", np.nan, True, "rct", True, "direct"),
        ("t1", "between_group", False, "benefit", 1, True, "crossover_rct", True, "direct"),
    )).iloc[0]
    assert (t["design"], t["participants"]) == ("crossover_rct", 1.0)


def test_domain_directions_count_each_outcome_once(tables):
    links = link_claims(*tables, target_condition="ms", population_label="people with MS")
    doubled = pd.concat([links, links.assign(claim_id="copy")], ignore_index=True)
    by_domain = domain_directions(doubled).set_index(["outcome_domain", "trial_group"])
    assert by_domain.loc[("pain", "c2022"), "direction"] == "harm"
    assert by_domain.loc[("mood", "a2020"), "direction"] == "benefit"  # a proxy for a claim, the named domain here
    assert len(by_domain) == links["outcome_id"].nunique()


def test_point_estimate_directions_keep_the_row_labels():
    rows = make_outcomes(("a", "pain", "harm", "between_group", (10, 3.0, 1.0, 10, 4.0, 1.0), False))
    rows.index = [7]
    assert point_estimate_directions(rows).to_dict() == {7: "benefit"}


def test_links_share_one_object_per_distinct_text_value_and_keep_missing_values_as_they_are(tables):
    claims, outcomes, studies = tables
    # As read from a file: one string object per row, even where the words are equal.
    outcomes = outcomes.assign(instrument=["".join(["sca", "le"]) for _ in range(len(outcomes))],
                               p_operator=pd.Series([None, np.nan, "=", "=", "<", "=", "="], dtype=object))
    assert outcomes["instrument"].iloc[0] is not outcomes["instrument"].iloc[1]
    links = link_claims(claims, outcomes, studies, target_condition="ms", population_label="people with MS").set_index(["claim_id", "outcome_id"])
    pain = links.loc["pain"]
    assert pain.loc["a2020#1", "instrument"] is pain.loc["b2021#1", "instrument"] == "scale"
    assert pain.loc["a2020#1", "design"] is pain.loc["c2022#1", "design"] == "rct"
    # A column with missing values is copied as it is: None stays None and NaN stays NaN.
    assert pain.loc["a2020#1", "p_operator"] is None and isinstance(pain.loc["a2020#2", "p_operator"], float)
    assert pain.loc["b2021#1", "p_operator"] == "="


def test_matches_compares_text_and_treats_missing_as_no_match():
    assert matches(pd.Series(["direct", "indirect", None, np.nan], dtype=object), "direct").tolist() == [True, False, False, False]
    assert matches(pd.Series(["direct", pd.NA], dtype=object), "direct").tolist() == [True, False]
    assert matches(pd.Series(["direct", None], dtype="string"), "direct").tolist() == [True, False]


def test_trial_directions_give_claim_and_direction_codes_that_match_the_trials():
    links = pd.concat([
        _links(("t1", "between_group", False, "harm", 40, True, "rct", True, "direct")).assign(claim_id="b"),
        _links(("t2", "between_group", False, "benefit", 40, True, "rct", True, "direct"),
               ("t1", "between_group", False, "no_difference", 40, True, "rct", True, "direct")).assign(claim_id="a"),
    ], ignore_index=True)
    t, claim_code, direction_code = trial_directions(links)
    assert list(zip(t["claim_id"], t["trial_group"])) == [("a", "t1"), ("a", "t2"), ("b", "t1")]
    assert claim_code.tolist() == [0, 0, 1]
    assert [DIRECTIONS[c] for c in direction_code] == t["direction"].tolist() == ["no_difference", "benefit", "harm"]
    pd.testing.assert_frame_equal(t, study_directions(links))


def test_each_trial_is_described_by_its_randomised_then_largest_paper():
    inverse = np.array([0, 0, 1, 1, 2, 2, 2, 3])
    starts = np.array([0, 2, 4, 7])
    participants = np.array([10, 50, np.nan, 30, 40, 40, 5, 8], dtype=float)
    randomised = np.array([True, True, True, False, False, True, True, False])
    # Trial 0: the larger paper; 1: the randomised one, whatever its size; 2: randomised, then larger; 3: its only paper.
    assert _describing_rows(inverse, starts, participants, randomised).tolist() == [1, 2, 5, 7]
