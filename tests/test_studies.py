"""The studies, outcomes and reviews tables: provenance and the numeric sanity rules."""

import pandas as pd
import pytest

from evidence_review.studies import load_evidence
from evidence_review.tables import InputError


def test_bundled_evidence_loads_and_is_provenanced(data_copy):
    ev = load_evidence(**data_copy.params)
    assert len(ev.studies) >= 25
    assert ev.studies["source_url"].str.match(r"^https?://").all()
    ms_primary = ev.studies.query("condition == 'ms' and intervention != 'no_intervention' and design != 'systematic_review'")
    assert len(ms_primary) >= 25
    assert set(ev.outcomes["study_id"]) <= set(ev.studies["study_id"])
    assert ev.outcomes["source_url"].notna().all() and ev.reviews["source_url"].notna().all()
    indirect = ev.studies.loc[ev.studies["directness"] == "indirect"]
    assert indirect["directness_reason"].notna().all()


def _broken(data_copy, name, row, column, value):
    data_copy.set(name, row, column, value)
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    return str(err.value)


@pytest.mark.parametrize(
    "name, column, value, message",
    [
        ("studies.csv", "doi", "10.12/abc", "not a DOI"),
        ("studies.csv", "pmid", "PMID123", "not a PMID"),
        ("studies.csv", "design", "anecdote", "unknown design"),
        ("studies.csv", "intervention", "reiki", "unknown intervention"),
        ("studies.csv", "rob_d1", "fine", "unknown risk-of-bias judgement"),
        ("studies.csv", "n_randomised", "0", "N must be positive"),
        ("studies.csv", "source_url", "pubmed 123", "source_url must be"),
        ("outcomes.csv", "outcome_domain", "happiness", "unknown outcome domain"),
        ("outcomes.csv", "direction", "great", "unknown direction"),
        ("outcomes.csv", "sd_ctl", "0", "SD must be positive"),
        ("outcomes.csv", "n_int", "-3", "N must be positive"),
        ("outcomes.csv", "p_value", "1.5", "p_value must be between 0 and 1"),
    ],
)
def test_cell_rules(data_copy, name, column, value, message):
    text = _broken(data_copy, name, 0, column, value)
    assert text.startswith(f"Invalid input '{data_copy.path(name)}'")
    assert f"row 2, column '{column}'" in text
    assert message in text


def test_duplicate_study_id(data_copy):
    frame = data_copy.read("studies.csv")
    frame.loc[1, "study_id"] = frame.loc[0, "study_id"]
    data_copy.write("studies.csv", frame)
    with pytest.raises(InputError, match=r"row 3, column 'study_id': duplicate value"):
        load_evidence(**data_copy.params)


def test_outcome_for_unknown_study(data_copy):
    text = _broken(data_copy, "outcomes.csv", 3, "study_id", "ghost2020")
    assert "row 5, column 'study_id': study_id 'ghost2020' is not in the studies file" in text


def test_ci_must_contain_estimate(data_copy):
    frame = data_copy.read("outcomes.csv")
    frame.loc[0, ["effect", "ci_low", "ci_high"]] = ["2.0", "-1.0", "1.0"]
    data_copy.write("outcomes.csv", frame)
    with pytest.raises(InputError, match=r"\(1 problem\):\n  - row 2, columns 'effect/ci_low/ci_high': the CI does not contain its estimate$"):
        load_evidence(**data_copy.params)


def test_n_analysed_not_above_randomised(data_copy):
    frame = data_copy.read("studies.csv")
    frame.loc[0, ["n_randomised", "n_analysed"]] = ["20", "25"]
    data_copy.write("studies.csv", frame)
    with pytest.raises(InputError, match=r"\(1 problem\):\n  - row 2, columns 'n_randomised/n_analysed': n_analysed is larger than n_randomised$"):
        load_evidence(**data_copy.params)


def test_review_must_be_a_systematic_review(data_copy):
    text = _broken(data_copy, "reviews.csv", 0, "review_id", "negahban2013")
    assert "reviews.csv" in text and "row 2, column 'review_id': systematic review 'negahban2013'" in text


def test_papers_of_one_trial_share_a_group(data_copy):
    ev = load_evidence(**data_copy.params)
    groups = ev.studies.groupby("trial_group")["study_id"].apply(set)
    assert {"nazari2015", "nazari2016", "soheili2017"} in groups.tolist()
