"""Verdict rules (docs/methods.md section 7), each pinned on constructed trials."""

import numpy as np
import pandas as pd
import pytest
from engine_helpers import POPULATION, claim, estimate, rct, source, trials

from evidence_review.verdicts import (
    LARGE_SMD,
    claim_counts,
    count_by_claim,
    counts_frame,
    decide_verdict,
    read_interval,
    sign_test,
    verdict_table,
    verdicts_from_counts,
    vote_count,
)


def verdict(c, t, carrier=None, linked=True):
    return decide_verdict(c, t, linked, carrier, population_label=POPULATION)


# --- sign test and vote counting -----------------------------------------------------------------

def test_sign_test_is_exact_two_sided_binomial():
    p = sign_test([8, 5, 6, 0, 3], [2, 0, 0, 0, 3])
    assert p[0] == pytest.approx(0.109375) and p[1] == pytest.approx(0.0625) and p[2] == pytest.approx(0.03125)
    assert np.isnan(p[3]) and p[4] == 1.0


def test_vote_count_counts_direction_not_significance():
    v = vote_count(["benefit"] * 8 + ["harm"] * 2 + ["no_difference"] * 3 + ["unclear"])
    assert (v["benefit"], v["harm"], v["no_difference"], v["unclear"]) == (8, 2, 3, 1)
    assert (v["agree"], v["disagree"]) == (8, 2)  # no_difference is not a vote against
    assert v["sign_test_p"] == pytest.approx(0.109375)
    assert np.isnan(vote_count(["no_difference", "unclear"])["sign_test_p"])
    harm = vote_count(["harm", "harm", "benefit"], expected="harm")
    assert (harm["agree"], harm["disagree"]) == (2, 1)


def test_claim_counts_flags_weak_comparators_and_authorities():
    t = trials(rct(comparator="usual_care"), rct("no_difference", comparator="sham"), rct("harm", comparator="waitlist"),
               expected="benefit", sources=[source("benefit", source_type="society_statement"), source("harm", n=400, source_type="survey"),
                                            source("benefit", n=399, source_type="registry")])
    r = claim_counts(t, ["c", "other"]).loc["c"]
    assert (r["k"], r["benefit"], r["harm"], r["no_difference"]) == (6, 3, 2, 1)
    assert r["weak_benefit"] == 1 and r["strong_not_benefit"] == 1
    assert (r["authority_agree"], r["authority_disagree"]) == (1, 1)  # the registry of 399 is not an authority
    assert claim_counts(t, ["other"]).loc["other"].sum() == 0


# --- the scale -----------------------------------------------------------------------------------

def test_not_testable_and_no_evidence():
    assert verdict(claim(testable=False), trials(rct()))[0] == "not_testable"
    assert verdict(claim(), trials(), linked=False)[0] == "no_evidence"


def test_insufficient_without_basis_evidence():
    v, reasons = verdict(claim(), trials())
    assert v == "insufficient" and "only uncontrolled or indirect" in reasons[0]


def test_supported_only_when_the_sign_test_tells_the_direction_from_chance():
    v, reasons = verdict(claim(), trials(*[rct()] * 5))
    assert v == "insufficient" and reasons == ["5 of 5 trials with a direction point to benefit; too few to rule out chance (sign test p = 0.062)."]
    assert verdict(claim(), trials(*[rct()] * 6))[0] == "supported"
    assert verdict(claim(), trials(rct(n=99)))[0] == verdict(claim(), trials(rct(n=5000)))[0] == "insufficient"


def test_no_difference_results_are_not_votes_against():
    assert verdict(claim(), trials(*[rct()] * 6, *[rct("no_difference")] * 10))[0] == "supported"
    v, reasons = verdict(claim(), trials(*[rct("no_difference")] * 3, rct("unclear")))
    assert v == "insufficient" and reasons[0].startswith("None of the 4 trials reports a direction")


def test_trials_pointing_both_ways_are_insufficient_not_supported():
    v, reasons = verdict(claim(), trials(*[rct()] * 5, rct("harm")))
    assert v == "insufficient" and "point both ways" in reasons[0]


def test_not_supported_when_trials_point_against_the_claim():
    v, reasons = verdict(claim(), trials(*[rct("harm")] * 6))
    assert v == "not_supported" and "6 point the other way" in reasons[0]


def test_safety_claims_expect_harm():
    harm_claim = claim(claim_type="safety", expected_direction="harm")
    assert verdict(harm_claim, trials(*[rct("harm")] * 6, expected="harm"))[0] == "supported"
    assert verdict(harm_claim, trials(*[rct("benefit")] * 6, expected="harm"))[0] == "not_supported"
    assert verdict(harm_claim, trials(*[rct("harm")] * 5, expected="harm"))[0] == "insufficient"


def test_claim_of_no_effect_needs_a_precise_estimate():
    none_claim = claim(claim_type="framing", expected_direction="no_difference")
    many_null = trials(*[rct("no_difference")] * 20, expected="no_difference")
    v, reasons = verdict(none_claim, many_null)
    assert v == "insufficient" and "cannot show that there is no effect" in reasons[0]
    assert verdict(none_claim, trials(*[rct()] * 6, expected="no_difference"))[0] == "not_supported"
    assert verdict(none_claim, trials(*[rct()] * 2, expected="no_difference"))[0] == "insufficient"
    assert verdict(none_claim, many_null, estimate(0.02, -0.15, 0.19))[0] == "supported"
    assert verdict(none_claim, many_null, estimate(0.3, 0.1, 0.5))[0] == "not_supported"
    assert verdict(none_claim, many_null, estimate(0.0, -0.3, 0.3))[0] == "insufficient"
    assert verdict(none_claim, many_null, estimate(0.0, -0.1, 0.1, scale="difference"))[0] == "insufficient"


def test_an_estimate_carries_the_verdict_instead_of_the_votes():
    six = trials(*[rct()] * 6)
    v, reasons = verdict(claim(), six, estimate(0.3, -0.1, 0.7))
    assert v == "insufficient" and reasons[-1] == "The CI includes no effect."
    assert verdict(claim(), trials(rct()), estimate(0.4, 0.2, 0.6))[0] == "supported"
    assert verdict(claim(), six, estimate(-0.4, -0.6, -0.2))[0] == "not_supported"
    assert verdict(claim(), six, estimate(0.05, -0.1, 0.15))[0] == "not_supported"  # rules out all but a trivial benefit
    assert verdict(claim(), six, estimate(0.05, -0.1, 0.15, scale="difference"))[0] == "insufficient"
    assert verdict(claim(), six, estimate(1.0, 0.58, 1.42, scale="difference"))[0] == "supported"


def test_mixed_when_benefit_shows_only_against_weak_comparators():
    weak = trials(*[rct(comparator="usual_care")] * 6, rct("no_difference", comparator="sham"))
    v, reasons = verdict(claim(), weak)
    assert v == "mixed" and "sham" in reasons[-1]
    assert verdict(claim(), weak, estimate(0.4, 0.2, 0.6))[0] == "mixed"
    assert verdict(claim(), trials(*[rct(comparator="usual_care")] * 6, rct("no_difference", comparator="waitlist")))[0] == "supported"
    assert verdict(claim(), trials(*[rct(comparator="usual_care")] * 5, rct(comparator="active"), rct("no_difference")))[0] == "supported"


def test_claim_of_size_needs_an_effect_size_of_matching_magnitude():
    size = claim(claim_of_size=True)
    many = trials(*[rct()] * 12)
    v, reasons = verdict(size, many)
    assert v == "insufficient" and "a count of trials says nothing" in reasons[0]
    assert verdict(size, many, estimate(LARGE_SMD, 0.5, 1.1))[0] == "supported"
    assert verdict(size, many, estimate(0.79, 0.5, 1.1))[0] == "insufficient"
    assert verdict(size, many, estimate(0.5, 0.3, 0.79))[0] == "not_supported"
    assert verdict(size, many, estimate(0.9, -0.1, 1.9))[0] == "insufficient"
    assert verdict(size, many, estimate(3.0, 2.0, 4.0, scale="difference"))[0] == "insufficient"


# --- background claims ---------------------------------------------------------------------------

BACKGROUND = claim(claim_type="background", expected_direction="harm")


def test_background_claim_rests_on_authoritative_sources():
    assert verdict(BACKGROUND, trials(sources=[source("harm")], expected="harm"))[0] == "supported"
    assert verdict(BACKGROUND, trials(sources=[source("no_difference", source_type="society_statement")], expected="harm"))[0] == "not_supported"
    v, reasons = verdict(BACKGROUND, trials(sources=[source("harm"), source("benefit", source_type="consensus_statement")], expected="harm"))
    assert v == "mixed" and "disagree with one another" in reasons[-1]
    assert verdict(BACKGROUND, trials(sources=[source("harm", n=400, source_type="survey")], expected="harm"))[0] == "supported"
    assert verdict(BACKGROUND, trials(sources=[source("harm", n=399, source_type="survey")], expected="harm"))[0] == "insufficient"
    assert verdict(BACKGROUND, trials(sources=[source("unclear")], expected="harm"))[0] == "insufficient"


def test_background_claim_on_studies_alone_needs_the_sign_test():
    obs = ("harm", 50, "cross_sectional", "none", "high", "direct", True)
    v, reasons = verdict(BACKGROUND, trials(*[obs] * 5, expected="harm"))
    assert v == "insufficient" and "associations in people with MS" in reasons[0] and "no authoritative source" in reasons[1]
    assert verdict(BACKGROUND, trials(*[obs] * 6, expected="harm"))[0] == "supported"
    against = ("benefit", 50, "cross_sectional", "none", "high", "direct", True)
    assert verdict(BACKGROUND, trials(*[against] * 6, expected="harm"))[0] == "not_supported"
    assert verdict(BACKGROUND, trials(expected="harm"))[0] == "insufficient"


def test_background_claim_of_no_difference_agrees_with_a_no_difference_statement():
    no_cure = claim(claim_type="background", expected_direction="no_difference")
    assert verdict(no_cure, trials(sources=[source("no_difference")], expected="no_difference"))[0] == "supported"


def test_verdict_table_reports_what_carried_each_verdict():
    claims = pd.DataFrame([claim(claim_id="a"), claim(claim_id="b"), claim(claim_id="c", claim_type="background", expected_direction="harm")])
    basis = pd.concat([trials(*[rct()] * 6, claim_id="a"), trials(rct(), claim_id="b"),
                       trials(sources=[source("harm")], claim_id="c", expected="harm")], ignore_index=True)
    carriers = pd.DataFrame([estimate(0.4, 0.2, 0.6, label="This review's pooled estimate (2 trials)")], index=pd.Index(["b"], name="claim_id"))
    table = verdict_table(claims, basis, {"a", "b", "c"}, carriers, population_label=POPULATION)
    assert list(table["carried_by"]) == ["sign test", "This review's pooled estimate (2 trials)", "authoritative sources"]
    assert table.loc["a", "sign_test_p"] == pytest.approx(0.03125) and np.isnan(table.loc["b", "sign_test_p"])
    assert (table.loc["a", "agree"], table.loc["a", "disagree"]) == (6, 0)


@pytest.mark.parametrize(
    ("low", "high", "scale", "expected", "reading"),
    [
        (0.01, 0.5, "smd", "benefit", "agrees"),
        (0.0, 0.5, "smd", "benefit", "inconclusive"),
        (-0.5, -0.01, "smd", "benefit", "disagrees"),
        (-0.5, -0.01, "smd", "harm", "agrees"),
        (0.01, 0.5, "smd", "harm", "disagrees"),
        (-0.19, 0.19, "smd", "benefit", "disagrees"),
        (-0.2, 0.19, "smd", "benefit", "inconclusive"),
        (-0.19, 0.2, "smd", "no_difference", "inconclusive"),
        (-0.19, 0.19, "smd", "no_difference", "agrees"),
        (-0.19, 0.19, "difference", "no_difference", "inconclusive"),
        (0.3, 0.9, "difference", "no_difference", "disagrees"),
        (-0.9, -0.3, "smd", "no_difference", "disagrees"),
    ],
)
def test_read_interval(low, high, scale, expected, reading):
    assert read_interval(low, high, scale, expected) == reading


def test_vote_count_has_no_votes_for_a_claim_of_no_difference():
    v = vote_count(["no_difference"] * 3 + ["benefit"], expected="no_difference")
    assert (v["agree"], v["disagree"], v["no_difference"]) == (0, 0, 3)


BG_HARM = claim(claim_type="background", expected_direction="harm")
OBS = ("harm", 50, "cross_sectional", "none", "high", "direct", True)


@pytest.mark.parametrize(
    ("c", "t", "carrier", "expected"),
    [
        (claim(), trials(), None, ("insufficient", ["No direct controlled studies in people with MS; only uncontrolled or indirect evidence."])),
        (claim(testable=False), trials(), None, ("not_testable", ["Advice or a statement no study could test as worded."])),
        (claim(), trials(rct("no_difference"), rct("unclear")), None,
         ("insufficient", ["None of the 2 trials reports a direction of effect (1 no difference, 1 unclear)."])),
        (claim(), trials(*[rct()] * 6), None, ("supported", ["6 of 6 trials with a direction point to benefit (sign test p = 0.031)."])),
        (claim(), trials(*[rct("harm")] * 6), None,
         ("not_supported", ["0 of 6 trials with a direction point to benefit; 6 point the other way (sign test p = 0.031)."])),
        (claim(), trials(*[rct(comparator="usual_care")] * 6, rct("no_difference")), None,
         ("mixed", ["6 of 6 trials with a direction point to benefit (sign test p = 0.031).",
                    "The benefit shows only against usual care or waiting list, not against sham or active controls."])),
        (claim(expected_direction="no_difference"), trials(*[rct()] * 6, expected="no_difference"), None,
         ("not_supported", ["6 of 6 trials with a direction point to benefit (sign test p = 0.031): an effect."])),
        (claim(), trials(rct()), estimate(0.4, 0.2, 0.6),
         ("supported", ["pooled: g = 0.40 (95% CI 0.20 to 0.60; positive favours the intervention)."])),
        (claim(), trials(rct()), estimate(-0.4, -0.6, -0.2),
         ("not_supported", ["pooled: g = -0.40 (95% CI -0.60 to -0.20; positive favours the intervention).",
                            "The CI excludes the effect the claim states."])),
        (claim(expected_direction="no_difference"), trials(rct(), expected="no_difference"), estimate(0.0, -0.3, 0.3),
         ("insufficient", ["pooled: g = 0.00 (95% CI -0.30 to 0.30; positive favours the intervention).",
                           "The CI does not rule out an effect, nor show one."])),
        (claim(), trials(rct()), estimate(1.0, 0.58, 1.42, scale="difference"),
         ("supported", ["pooled: MD = 1.00 (95% CI 0.58 to 1.42; positive favours the intervention)."])),
        (claim(claim_of_size=True), trials(rct()), estimate(0.9, 0.5, 1.3),
         ("supported", ["pooled: g = 0.90 (95% CI 0.50 to 1.30).", "A large effect (g >= 0.8)."])),
        (claim(claim_of_size=True), trials(rct()), estimate(0.5, 0.3, 0.7),
         ("not_supported", ["pooled: g = 0.50 (95% CI 0.30 to 0.70).", "The CI rules out a large effect (g >= 0.8)."])),
        (BG_HARM, trials(sources=[source("harm")], expected="harm"), None,
         ("supported", ["1 authoritative source(s) agree with the claim, 0 disagree."])),
        (BG_HARM, trials(sources=[source("harm"), source("benefit")], expected="harm"), None,
         ("mixed", ["1 authoritative source(s) agree with the claim, 1 disagree.", "Authoritative sources disagree with one another."])),
        (BG_HARM, trials(sources=[source("unclear", source_type="survey", n=10)], expected="harm"), None,
         ("insufficient", ["No source finds an association either way, and no authoritative source states it."])),
        (BG_HARM, trials(expected="harm"), None, ("insufficient", ["No direct evidence about people with MS; only indirect evidence."])),
        (BG_HARM, trials(*[OBS] * 6, expected="harm"), None,
         ("supported", ["6 of 6 studies with a direction agree with the claim (associations in people with MS)."])),
    ],
)
def test_each_verdict_says_what_it_rests_on_or_what_is_missing(c, t, carrier, expected):
    assert verdict(c, t, carrier) == expected


def test_no_evidence_text():
    assert verdict(claim(), trials(), linked=False) == ("no_evidence", ["No included study or source addresses this outcome."])


def test_counts_edges_one_trial_unclear_results_and_harm_against_sham():
    assert sign_test([1], [0])[0] == 1.0
    v, reasons = verdict(claim(), trials(*[rct("unclear")] * 3, rct("no_difference")))
    assert reasons == ["None of the 4 trials reports a direction of effect (1 no difference, 3 unclear)."]
    assert verdict(claim(), trials(*[rct(comparator="usual_care")] * 6, rct("harm", comparator="sham"), rct("benefit", comparator="sham"),
                                   rct("benefit", comparator="sham")))[0] == "supported"
    assert verdict(claim(), trials(*[rct(comparator="usual_care")] * 8, rct("harm", comparator="sham")))[0] == "mixed"
    assert verdict(claim(claim_type="safety", expected_direction="harm"), trials(rct("harm"), expected="harm"))[1] == [
        "1 of 1 trials with a direction point to harm; too few to rule out chance (sign test p = 1)."]
    assert read_interval(-0.5, 0.0, "smd", "benefit") == "inconclusive"
    assert claim_counts(trials(rct()), ["c"]).index.name == "claim_id"


def test_counts_on_claim_codes_count_only_the_rows_asked_for():
    a = trials(rct(), rct("harm", comparator="usual_care"), rct("no_difference"), claim_id="a")
    b = trials(rct(comparator="waitlist"), sources=[source("benefit", source_type="guideline")], claim_id="b")
    both = pd.concat([a, b], ignore_index=True)
    rows = np.array([True, False, True, True, True])
    codes = (both["claim_id"] == "b").to_numpy().astype(int)
    counted = counts_frame(count_by_claim(both, codes, 2, rows=rows), ["a", "b"], ["b", "a", "none"])
    pd.testing.assert_frame_equal(counted, claim_counts(both.loc[rows], ["b", "a", "none"]))
    assert (counted.loc["a", "k"], counted.loc["a", "harm"], counted.loc["none", "k"]) == (2, 0, 0)
    # The same verdicts from counts made elsewhere as from the trial rows.
    claims = pd.DataFrame([claim(claim_id="a"), claim(claim_id="b")])
    pd.testing.assert_frame_equal(verdicts_from_counts(claims, counted.loc[["a", "b"]], {"a", "b"}, population_label=POPULATION),
                                  verdict_table(claims, both.loc[rows], {"a", "b"}, population_label=POPULATION))


def test_counts_on_claim_codes_have_a_place_for_every_claim_even_without_rows():
    a = trials(rct(), rct("harm"), claim_id="a")
    counts = count_by_claim(a, np.zeros(len(a), dtype=int), 3)  # claims 1 and 2 have no rows
    assert {len(v) for v in counts.values()} == {3}
    assert counts["k"].tolist() == [2, 0, 0] and counts["harm"].tolist() == [1, 0, 0]
