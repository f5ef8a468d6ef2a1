"""Tables for people and the summary of findings, on constructed inputs."""

import math

import numpy as np
import pandas as pd
import pytest

from evidence_review import present, sof


@pytest.mark.parametrize("p, text", [(6.104e-05, "p < 0.001"), (0.001, "p = 0.001"), (0.0312, "p = 0.03"),
                                     (0.049, "p = 0.05"), (0.0049, "p = 0.005"), (0.5, "p = 0.50"), (1.0, "p > 0.99"),
                                     (float("nan"), ""), (None, "")])
def test_p_values_print_as_journals_print_them(p, text):
    assert present.format_p(p) == text


def test_estimate_with_ci_as_journals_print_it():
    assert present.format_estimate(1.6234, 0.83, 2.4) == "1.62 (95% CI 0.83 to 2.40)"
    assert present.format_estimate(-1.62, -2.4, -0.83, "MD") == "MD −1.62 (95% CI −2.40 to −0.83)"
    assert present.format_estimate(0.5, np.nan, 1.0) == "0.50"
    assert present.format_estimate(np.nan, 1, 2) == ""


def test_codes_become_labels_and_proxies_are_marked():
    assert present.label_code("crossover_rct") == "Randomised crossover trial"
    assert present.label_codes("mobility;~balance", {"mobility": "Mobility", "balance": "Balance"}) == "Mobility; Balance (proxy)"
    assert present.label_code(float("nan")) == ""


def test_for_people_leaves_no_codes_or_missing_markers():
    frame = pd.DataFrame({
        "study_id": ["negahban2013", "smith2020"], "design": ["rct", "pre_post"], "testable": [True, False],
        "n_randomised": [48.0, np.nan], "sign_test_p": [6.1e-05, pd.NA], "verdict": ["not_supported", None],
        "outcome_domains": ["pain;~balance", ""],
    }).set_index("study_id")
    out = present.for_people(frame)
    assert list(out.columns) == ["Study", "Design", "Testable", "Randomised (n)", "Sign test", "Verdict", "Outcomes"]
    assert out.iloc[0].tolist() == ["Negahban 2013", "Randomised trial", "Yes", "48", "p < 0.001", "Not supported",
                                    "pain; balance (proxy)"]
    text = out.to_string()
    for marker in ("NaN", "None", "<NA>", "True", "False", "nan"):
        assert marker not in text
    assert out.index.tolist() == [0, 1]


def test_people_table_html_has_no_index_escapes_and_scrolls():
    table = present.people_table(pd.DataFrame({"claim": ["<b>x</b>"], "trials": [3]}))
    html = table._repr_html_()
    assert html.startswith('<div class="table-scroll" style="overflow-x:auto;max-width:100%">')
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "row_heading" not in html and "blank level0" not in html
    assert "text-align: right" in html and "text-align: left" in html
    assert "…" not in html and "..." not in html
    assert repr(table).splitlines()[0].split() == ["Claim", "Trials"]


def test_long_text_is_never_truncated():
    long = "word " * 200
    html = present.people_table(pd.DataFrame({"rationale": [long]})).to_html()
    assert long.strip() in html


@pytest.mark.parametrize("certainty, symbols", [("high", "⊕⊕⊕⊕ High"), ("moderate", "⊕⊕⊕◯ Moderate"),
                                                ("low", "⊕⊕◯◯ Low"), ("very_low", "⊕◯◯◯ Very low"), (None, "–"), ("", "–")])
def test_certainty_symbols(certainty, symbols):
    assert sof.certainty_symbols(certainty) == symbols


@pytest.mark.parametrize("certainty, verdict, expected, statement", [
    ("high", "supported", "benefit", "Massage improves pain."),
    ("moderate", "supported", "benefit", "Massage probably improves pain."),
    ("low", "supported", "benefit", "Massage may improve pain."),
    ("very_low", "supported", "benefit", "The evidence is very uncertain about the effect of massage on pain."),
    ("low", "not_supported", "benefit", "Massage may result in little to no difference in pain."),
    ("moderate", "supported", "harm", "Massage probably increases pain."),
    ("low", "insufficient", "benefit", "The evidence is very uncertain about the effect of massage on pain."),
])
def test_grade_statements_use_the_standard_wording(certainty, verdict, expected, statement):
    assert sof.grade_statement(verdict, certainty, expected, "benefit", "massage", "pain") == statement


def test_background_claims_are_worded_about_the_claim():
    assert sof.grade_statement("supported", "moderate", "benefit", "background", "massage", "x") == "This is probably true."
    assert sof.grade_statement("no_evidence", None, "benefit", "background", "massage", "x") == "No study we found looked at this."


def test_intervention_name_from_title():
    assert sof.intervention_name("Massage for multiple sclerosis") == "massage"
    assert sof.intervention_name("Evidence review") == "the intervention"


def _synthesis(reasons: str, certainty="low", verdict="supported"):
    verdicts = pd.DataFrame([{
        "claim_id": "c1", "verdict": verdict, "certainty": certainty, "trials": 3, "participants": 120,
        "n_benefit": 2, "n_no_difference": 1, "n_harm": 0, "n_unclear": 0, "basis_trials_agreeing": 2,
        "basis_trials_disagreeing": 1, "sign_test_p": 0.5, "pooled_g": np.nan, "pooled_ci_low": np.nan,
        "pooled_ci_high": np.nan, "pooled_k": 0, "pooled_i2": np.nan, "verdict_reasons": "x", "certainty_reasons": reasons,
    }])
    trials = pd.DataFrame({"claim_id": ["c1"] * 3, "trial_group": ["a", "b", "c"], "participants": [40, 50, 30],
                           "basis_for_verdict": [True, True, False]})
    return {"verdicts": verdicts, "trials": trials}


def _engine_output(syn: dict):
    """The engine's ``Synthesis`` holding the test's tables (no downgrade unless given)."""
    from evidence_review.engine import Synthesis

    domains = syn.get("certainty_domains", pd.DataFrame(columns=["claim_id", "domain", "change", "reason"]))
    return Synthesis(links=pd.DataFrame(), trials=syn["trials"], pooled=pd.DataFrame(), verdicts=syn["verdicts"],
                     certainty_domains=domains)


CLAIMS = pd.DataFrame([{"claim_id": "c1", "order": 1, "section": "Pain", "claim": "Massage eases pain.",
                        "claim_type": "benefit", "outcome_domains": "pain", "expected_direction": "benefit"}])


def test_footnote_per_downgrade_in_domain_order():
    syn = _synthesis("")
    syn["certainty_domains"] = pd.DataFrame({
        "claim_id": ["c1"] * 4, "domain": ["start", "imprecision", "risk_of_bias", "inconsistency"],
        "change": [0, -2, -1, 0], "reason": ["Starts high.", "90 participants in all.",
                                            "60% of participants in studies with some concerns or high risk.", "Consistent."]})
    table = sof.summary_of_findings(CLAIMS, _engine_output(syn), {"pain": "Pain"}, "massage")
    row = table.iloc[0]
    assert row["footnotes"] == [
        "Risk of bias, rated down one level: 60% of participants in studies with some concerns or high risk.",
        "Imprecision, rated down 2 levels: 90 participants in all.",
    ]
    assert row["participants_studies"] == "90 (2 studies)"  # the basis trials the certainty rests on
    assert row["certainty_display"] == "⊕⊕◯◯ Low"
    assert row["statement"] == "Massage may improve pain."
    assert row["evidence_shows"].startswith("2 of 3 controlled trials")
    assert "p = 0.50" in row["evidence_shows"]


def test_footnotes_from_tidy_certainty_domains():
    syn = _synthesis("")
    syn["certainty_domains"] = pd.DataFrame({"claim_id": ["c1", "c1", "c1"], "domain": ["start", "indirectness", "large_effect"],
                                             "change": [0, -1, 1], "reason": ["x", "Only 30% direct.", "y"]})
    table = sof.summary_of_findings(CLAIMS, _engine_output(syn), {"pain": "Pain"})
    assert table.iloc[0]["footnotes"] == ["Indirectness, rated down one level: Only 30% direct."]


def test_pooled_claims_show_the_estimate():
    syn = _synthesis("")
    syn["verdicts"].loc[0, ["pooled_g", "pooled_ci_low", "pooled_ci_high", "pooled_k", "pooled_i2"]] = [0.5, 0.1, 0.9, 3, 12.0]
    text = sof.summary_of_findings(CLAIMS, _engine_output(syn))["evidence_shows"].iloc[0]
    assert text.startswith("Pooled SMD 0.50 (95% CI 0.10 to 0.90), 3 trials; I² = 12%")


def test_a_verdict_carried_by_sources_or_a_published_estimate_is_described_by_them():
    syn = _synthesis("")
    syn["verdicts"].loc[0, ["carried_by", "verdict_reasons"]] = ["Published meta-analysis X 2020 (pain)",
                                                                 "Published meta-analysis X 2020 (pain): MD = 1.00."]
    text = sof.summary_of_findings(CLAIMS, _engine_output(syn))["evidence_shows"].iloc[0]
    assert text.startswith("Published meta-analysis X 2020 (pain): MD = 1.00. All 3 linked results")
    assert "sign test" not in text
    syn["verdicts"].loc[0, ["carried_by", "verdict_reasons"]] = ["authoritative sources", "2 sources agree."]
    syn["trials"]["participants"] = 0  # statements of authoritative bodies have no sample
    row = sof.summary_of_findings(CLAIMS, _engine_output(syn)).iloc[0]
    assert row["evidence_shows"].startswith("2 sources agree. All 3 linked results")
    assert row["participants_studies"] == "2 sources, no sample size"
    syn["verdicts"].loc[0, "carried_by"] = "sign test"
    assert "sign test p = 0.50" in sof.summary_of_findings(CLAIMS, _engine_output(syn))["evidence_shows"].iloc[0]


def test_no_studies_and_not_testable_have_no_certainty():
    syn = _synthesis("", certainty="very_low", verdict="no_evidence")
    syn["trials"] = syn["trials"].iloc[0:0]
    syn["verdicts"].loc[0, "trials"] = 0
    row = sof.summary_of_findings(CLAIMS, _engine_output(syn)).iloc[0]
    assert row["certainty_display"] == "–" and row["evidence_shows"] == "No studies" and row["participants_studies"] == "–"
    assert math.isnan(row["participants"])


def test_shared_footnotes_are_numbered_once():
    table = pd.DataFrame({"footnotes": [["a", "b"], ["b"], []]})
    numbers, notes = sof.footnote_list(table)
    assert numbers == [[1, 2], [2], []] and notes == ["a", "b"]


def test_author_year_labels():
    assert present.author_year("negahban2013") == "Negahban 2013"
    assert present.author_year("zidannd") == "Zidan n.d."
    assert present.cell_text("zidannd", "study_id") == "Zidan n.d."


def test_claim_type_benefit_is_not_a_direction():
    assert present.cell_text("benefit", "claim_type") == "Benefit"
    assert present.cell_text("benefit", "direction") == "Favours the intervention"
    assert present.author_year("anonnda") == "Anon n.d.a"


def test_people_table_html_is_deterministic_across_hash_seeds():
    import subprocess
    import sys

    code = ("import pandas as pd; from evidence_review.present import people_table; "
            "print(people_table(pd.DataFrame({'a': [1], 'b': [2], 'c': [3], 'd': ['x']})).to_html())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2", "3")}
    assert len(outs) == 1 and "td.col0" in outs.pop()


def test_summary_of_findings_reads_the_synthesis_dataclass_and_missing_certainty():
    from evidence_review.engine import Synthesis

    syn = _synthesis("")
    verdicts = syn["verdicts"].astype({"certainty": object})
    verdicts.loc[0, "certainty"] = pd.NA
    domains = pd.DataFrame({"claim_id": ["c1"], "domain": ["imprecision"], "change": [-2], "reason": ["Few."]})
    row = sof.summary_of_findings(CLAIMS, Synthesis(pd.DataFrame(), syn["trials"], pd.DataFrame(), verdicts, domains)).iloc[0]
    assert row["certainty_display"] == "–" and row["footnotes"] == []
    verdicts.loc[0, "certainty"] = "very_low"
    row = sof.summary_of_findings(CLAIMS, Synthesis(pd.DataFrame(), syn["trials"], pd.DataFrame(), verdicts, domains)).iloc[0]
    assert row["footnotes"] == ["Imprecision, rated down 2 levels: Few."]


def test_sensitivity_table_names_studies_and_prints_cis():
    from evidence_review.report import sensitivity_table

    sens = pd.DataFrame({"claim_id": ["c"], "analysis": ["without alpha2020"], "k": [2], "estimate": [0.27],
                         "ci_low": [-0.09], "ci_high": [0.63], "i2": [0.0]})
    out = present.for_people(sensitivity_table(sens))
    assert out.iloc[0].tolist() == ["c", "without Alpha 2020", "2", "0.27 (95% CI −0.09 to 0.63)", "0%"]


def test_background_claims_count_direct_studies_not_trials():
    syn = _synthesis("")
    background = CLAIMS.assign(claim_type="background")
    text = sof.summary_of_findings(background, _engine_output(syn))["evidence_shows"].iloc[0]
    assert text.startswith("2 of 3 direct studies of the population with a direction agree")


def test_none_is_labelled_by_its_column():
    assert present.cell_text("none", "comparator") == "No comparator"
    assert present.cell_text("none", "rob_tool") == "No tool"
