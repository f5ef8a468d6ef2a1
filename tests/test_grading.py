"""GRADE certainty rules (docs/methods.md section 6), each pinned on constructed trials."""

import numpy as np
import pandas as pd
from engine_helpers import POPULATION, estimate, rct, source, trials

from evidence_review.grading import DOMAINS, certainty_table, grade_certainty, grading_inputs, grading_inputs_by_code


def domains_of(t, carrier=None, background=False, statement_carried=False):
    claims = pd.DataFrame({"claim_id": ["c"], "claim_type": ["background" if background else "benefit"]})
    carriers = pd.DataFrame([carrier], index=pd.Index(["c"], name="claim_id")) if carrier else None
    table, tidy = certainty_table(t, claims, carriers, {"c"} if statement_carried else set(), population_label=POPULATION)
    return table.loc["c", "certainty"], tidy.set_index("domain")


def change(t, domain, **kw):
    return int(domains_of(t, **kw)[1].loc[domain, "change"])


def test_tidy_domains_one_row_per_domain_with_integer_changes():
    level, tidy = domains_of(trials(rct(), rct()))
    assert level == "high"
    assert list(tidy.index) == list(DOMAINS)
    assert tidy["change"].dtype == "int64" and tidy.loc["start", "change"] == 0
    assert tidy.loc["start", "reason"].startswith("High")


def test_no_body_of_evidence_no_certainty():
    assert grade_certainty(trials(), population_label=POPULATION) == (None, [])
    table, tidy = certainty_table(trials(rct(), claim_id="a"), pd.DataFrame({"claim_id": ["a", "b"], "claim_type": ["benefit"] * 2}), population_label=POPULATION)
    assert list(table.index) == ["a"] and set(tidy["claim_id"]) == {"a"}


def test_start_follows_the_design_carrying_most_participants():
    cohort = ("benefit", 301, "cohort", "usual_care", "low", "direct", True)
    assert domains_of(trials(rct(n=300), cohort))[1].loc["start", "reason"].startswith("Low")
    assert domains_of(trials(rct(n=301), ("benefit", 300, "cohort", "usual_care", "low", "direct", True)))[1].loc["start", "reason"].startswith("High")
    assert grade_certainty(trials(cohort, cohort), population_label=POPULATION)[0] == "low"


def test_background_evidence_starts_high_as_for_prognosis_questions():
    obs = ("harm", 600, "cross_sectional", "none", "low", "direct", True)
    level, tidy = domains_of(trials(obs, obs, expected="harm"), background=True)
    assert level == "high" and "prevalence and prognosis" in tidy.loc["start", "reason"]


def test_risk_of_bias_thresholds_and_not_assessed_as_some_concerns():
    assert change(trials(rct(rob="high"), rct(rob="low")), "risk_of_bias") == -2  # 50% high
    assert change(trials(rct(rob="high", n=299), rct(rob="some_concerns", n=2), rct(rob="low", n=299)), "risk_of_bias") == -1
    assert change(trials(rct(rob="some_concerns"), rct(rob="low")), "risk_of_bias") == -1
    assert change(trials(rct(rob="not_assessed"), rct(rob="low")), "risk_of_bias") == -1
    assert change(trials(rct(rob="not_assessed", n=299), rct(rob="low", n=301)), "risk_of_bias") == 0


def test_inconsistency_uses_pooled_i2_when_there_is_one():
    both_ways = trials(rct("benefit"), rct("harm"))
    assert change(both_ways, "inconsistency") == -1
    assert change(both_ways, "inconsistency", carrier=estimate(0.3, 0.1, 0.5, i2=49.9)) == 0
    assert change(trials(rct(), rct()), "inconsistency", carrier=estimate(0.3, 0.1, 0.5, i2=50.0)) == -1


def test_no_difference_is_not_a_direction_for_inconsistency():
    assert change(trials(rct("benefit"), rct("no_difference"), rct("unclear")), "inconsistency") == 0


def test_background_inconsistency_counts_agreement():
    obs_for = ("harm", 600, "cross_sectional", "none", "low", "direct", True)
    obs_against = ("benefit", 600, "cross_sectional", "none", "low", "direct", True)
    assert change(trials(obs_for, obs_against, expected="harm"), "inconsistency", background=True) == -1


def test_indirectness():
    assert change(trials(rct(directness="indirect", ms=False), rct(directness="indirect", ms=False)), "indirectness") == -2
    assert change(trials(rct(directness="indirect"), rct(n=299)), "indirectness") == -1
    assert change(trials(rct(directness="indirect", n=300), rct(n=300)), "indirectness") == 0


def test_imprecision():
    assert change(trials(rct(n=49), rct(n=50)), "imprecision") == -2
    assert change(trials(rct(n=50), rct(n=50)), "imprecision") == -1
    assert change(trials(rct(n=199), rct(n=200)), "imprecision") == -1
    assert change(trials(rct(n=200), rct(n=200)), "imprecision") == 0
    assert change(trials(rct(), rct()), "imprecision", carrier=estimate(0.2, -0.1, 0.5)) == -1
    assert change(trials(sources=[source()], expected="harm"), "imprecision", background=True, statement_carried=True) == 0
    assert change(trials(sources=[source()], expected="harm"), "imprecision", background=True) == -2


def test_publication_bias_only_small_favourable_trials():
    assert change(trials(rct(n=99), rct(n=99)), "publication_bias") == -1
    assert change(trials(rct(n=99), rct(n=100)), "publication_bias") == 0
    assert change(trials(rct(n=99), rct("no_difference", n=99)), "publication_bias") == 0
    assert change(trials(rct(n=99)), "publication_bias") == 0


def test_large_effect_rates_up_clean_non_randomised_evidence_only():
    cohort = ("benefit", 300, "cohort", "usual_care", "low", "direct", True)
    big = estimate(0.8, 0.5, 1.1)
    assert change(trials(cohort, cohort), "large_effect", carrier=big) == 1
    assert domains_of(trials(cohort, cohort), carrier=big)[0] == "moderate"
    assert change(trials(cohort, cohort), "large_effect", carrier=estimate(0.79, 0.5, 1.1)) == 0
    assert change(trials(cohort, cohort), "large_effect", carrier=estimate(0.9, -0.1, 1.9)) == 0
    biased = ("benefit", 300, "cohort", "usual_care", "high", "direct", True)
    assert change(trials(biased, biased), "large_effect", carrier=big) == 0
    assert change(trials(rct(), rct()), "large_effect", carrier=big) == 0
    assert change(trials(rct(), rct()), "dose_response") == 0


def test_levels_add_up_and_stop_at_very_low():
    assert grade_certainty(trials(rct(rob="some_concerns"), rct(rob="some_concerns")), population_label=POPULATION)[0] == "moderate"
    level, reasons = grade_certainty(trials(rct(rob="high"), rct(rob="high")), population_label=POPULATION)
    assert level == "low" and any(r.startswith("Risk of bias (-2)") for r in reasons)
    assert grade_certainty(trials(*[rct(n=30, rob="high", ms=False, directness="indirect")] * 3), population_label=POPULATION)[0] == "very_low"


def test_every_domain_reason_is_pinned_for_a_typical_body_of_trials():
    _, tidy = domains_of(trials(rct(n=60, rob="some_concerns"), rct("harm", n=50, rob="low")))
    assert tidy[["change", "reason"]].to_records().tolist() == [
        ("start", 0, "High: randomised trials carry 100% of participants."),
        ("risk_of_bias", -1, "Serious: 55% of participants in studies with some concerns, high risk or no assessment."),
        ("inconsistency", -1, "Serious: results point both ways (1 one way, 1 the other)."),
        ("indirectness", 0, "Not serious: 100% of participants from direct evidence."),
        ("imprecision", -1, "Serious: 110 participants, below the optimal information size of 400."),
        ("publication_bias", 0, "Not suspected (cannot be tested formally with fewer than 10 studies)."),
        ("large_effect", 0, "Not rated up: no large effect in non-randomised evidence free of other concerns."),
        ("dose_response", 0, "Not assessed: doses are not recorded in the data."),
    ]


def test_reasons_for_background_statements_and_pooled_estimates():
    level, tidy = domains_of(trials(sources=[source()], expected="harm"), background=True, statement_carried=True)
    assert level == "moderate"
    assert tidy.loc["start", ["change", "reason"]].tolist() == [0, "High: evidence about the condition itself; for prevalence and prognosis questions GRADE starts observational evidence high."]
    assert tidy.loc["imprecision", ["change", "reason"]].tolist() == [0, "Not rated: the verdict rests on statements of authoritative bodies, not on a sample."]
    assert tidy.loc["inconsistency", ["change", "reason"]].tolist() == [0, "Not serious: no result points the other way."]
    _, tidy = domains_of(trials(rct(), rct()), carrier=estimate(0.2, -0.1, 0.5, i2=10.0))
    assert tidy.loc["inconsistency", ["change", "reason"]].tolist() == [0, "Not serious: pooled I^2 = 10%."]
    assert tidy.loc["imprecision", ["change", "reason"]].tolist() == [-1, "Serious: the CI of the estimate includes no effect."]
    _, tidy = domains_of(trials(rct(), rct()), carrier=estimate(0.2, 0.1, 0.5, i2=60.0))
    assert tidy.loc["inconsistency", ["change", "reason"]].tolist() == [-1, "Serious: pooled I^2 = 60%."]
    _, tidy = domains_of(trials(rct(ms=False, directness="indirect")))
    assert tidy.loc["indirectness", ["change", "reason"]].tolist() == [-2, "Very serious: no study in people with MS."]
    assert tidy.loc["risk_of_bias", ["change", "reason"]].tolist() == [0, "Not serious: most participants in studies at low risk of bias."]


def test_boundaries_of_start_weights_and_intervals():
    cohort = ("benefit", 300, "cohort", "usual_care", "low", "direct", True)
    assert domains_of(trials(rct(n=300), cohort))[1].loc["start", "reason"].startswith("High")  # exactly half randomised
    unknown_n = rct(n=None, rob="high")
    assert change(trials(unknown_n, rct(n=2)), "risk_of_bias") == 0  # a trial of unknown size weighs 1
    assert change(trials(rct(), rct()), "imprecision", carrier=estimate(0.2, 0.0, 0.5)) == 0
    assert change(trials(rct(), rct()), "imprecision", carrier=estimate(-0.2, -0.5, 0.0)) == 0
    clean = ("benefit", 300, "cohort", "usual_care", "low", "direct", True)
    assert change(trials(clean, clean), "large_effect", carrier=estimate(0.9, 0.0, 1.8)) == 0
    assert change(trials(clean, clean), "large_effect", carrier=estimate(-0.9, -1.8, -0.1)) == 1
    assert change(trials(clean, clean), "large_effect", carrier=estimate(-0.9, -1.8, 0.5)) == 0


def test_inconsistency_counts_directions_not_agreement_for_intervention_claims():
    assert change(trials(rct("benefit"), rct("harm"), expected="no_difference"), "inconsistency") == -1
    obs = ("harm", 600, "cross_sectional", "none", "low", "direct", True)
    assert change(trials(obs, obs, expected="harm"), "inconsistency", background=True) == 0


def test_grade_certainty_passes_carrier_and_background_on():
    obs = ("harm", 600, "cross_sectional", "none", "low", "direct", True)
    assert grade_certainty(trials(obs, obs, expected="harm"), background=True, population_label=POPULATION)[0] == "high"
    assert grade_certainty(trials(obs, obs, expected="harm"), population_label=POPULATION)[0] == "low"
    assert grade_certainty(trials(rct(), rct()), carrier=estimate(0.3, 0.1, 0.5, i2=70.0), population_label=POPULATION)[0] == "moderate"


def test_grading_inputs_on_claim_codes_use_only_the_rows_asked_for():
    a = trials(rct(n=50, rob="high"), rct("harm", n=500, directness="indirect"), rct(n=None, design="cohort"), claim_id="a")
    b = trials(rct(n=20, ms=False), claim_id="b")
    both = pd.concat([a, b], ignore_index=True)
    rows = np.array([True, False, True, True])
    codes = (both["claim_id"] == "b").to_numpy().astype(int)
    coded = grading_inputs_by_code(both, codes, ["a", "b", "unused"], rows=rows)
    pd.testing.assert_frame_equal(coded, grading_inputs(both.loc[rows], ["a", "b"]))
    assert coded.loc["a", "k"] == 2 and coded.loc["a", "share_high"] == 50 / 51  # the trial of unknown size weighs 1
    assert not coded.loc["b", "in_population"] and coded.loc["b", "all_small"]


def test_inputs_leave_out_claims_without_trials():
    a = trials(rct(), rct(), claim_id="a")
    coded = grading_inputs_by_code(a, np.zeros(len(a), dtype=int), ["a", "b", "c"])  # b and c have no trials
    assert coded.index.tolist() == ["a"] and coded.loc["a", "k"] == 2
    named = grading_inputs(a, ["a", "b"])
    assert named.index.tolist() == ["a", "b"] and named.loc["b"].isna().all()


def test_background_studies_that_all_disagree_are_consistent():
    obs_against = ("benefit", 600, "cross_sectional", "none", "low", "direct", True)
    assert change(trials(obs_against, obs_against, expected="harm"), "inconsistency", background=True) == 0
