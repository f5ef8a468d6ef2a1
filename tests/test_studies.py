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
        ("outcomes.csv", "n_int", "-3", "an arm's N must be at least 2"),
        ("outcomes.csv", "n_ctl", "1", "an arm's N must be at least 2"),
        ("outcomes.csv", "n_int", "20000000", "at most 10000000"),
        ("outcomes.csv", "sd_int", "1e-300", "SD must be positive, from 1e-06 to 1e+09"),
        ("outcomes.csv", "sd_ctl", "inf", "SD must be positive"),
        ("outcomes.csv", "sd_int", "2e9", "SD must be positive, from 1e-06 to 1e+09"),
        ("outcomes.csv", "mean_int", "1e308", "must be a finite number from -1e+09 to 1e+09 (found '1e308')"),
        ("outcomes.csv", "mean_ctl", "-inf", "must be a finite number"),
        ("outcomes.csv", "effect", "1e999", "must be a finite number"),
        ("outcomes.csv", "mean_int", "nan", "not a number (found 'nan'); leave the cell empty"),
        ("outcomes.csv", "ci_level", "NaN", "not a number (found 'NaN')"),
        ("reviews.csv", "estimate", "Infinity", "must be a finite number"),
        ("reviews.csv", "i2", "inf", "I^2 is a percentage"),
        ("reviews.csv", "n_participants", "1e308", "expected a whole number"),
        ("studies.csv", "n_randomised", "20000000", "N must be positive and at most 10000000"),
        ("studies.csv", "study_id", "a" * 81, "study_id must be at most 80 characters"),
        ("studies.csv", "trial_group", "b" * 300, "trial_group must be at most 80 characters (found 'bbbb"),
        ("outcomes.csv", "p_value", "1.5", "p_value must be between 0 and 1"),
    ],
)
def test_cell_rules(data_copy, name, column, value, message):
    text = _broken(data_copy, name, 0, column, value)
    assert text.startswith(f"Invalid input '{data_copy.path(name)}'")
    assert f"row 2, column '{column}'" in text
    assert message in text


def test_bounds_hold_at_their_edges(data_copy):
    """The documented bounds themselves are valid values: 80-character ids, SD 1e-6, |mean| 1e9, arms of 2."""
    frame = data_copy.read("outcomes.csv")
    frame.loc[0, ["n_int", "n_ctl", "sd_int", "mean_int"]] = ["2", "2", "1e-6", "-1e9"]
    data_copy.write("outcomes.csv", frame)
    studies = data_copy.read("studies.csv")
    old_id = studies.loc[0, "study_id"]
    new_id = "a" * 80
    studies.loc[0, ["study_id", "trial_group"]] = [new_id, new_id]
    data_copy.write("studies.csv", studies)
    for name in ("outcomes.csv", "reviews.csv"):
        table = data_copy.read(name)
        key = "study_id" if name == "outcomes.csv" else "review_id"
        table[key] = table[key].replace(old_id, new_id)
        data_copy.write(name, table)
    ev = load_evidence(**data_copy.params)
    assert new_id in set(ev.studies["study_id"])
    assert ev.outcomes.loc[0, "sd_int"] == 1e-6 and ev.outcomes.loc[0, "mean_int"] == -1e9


def test_nan_text_is_one_problem_even_in_a_required_column(data_copy):
    frame = data_copy.read("outcomes.csv")
    frame.loc[0, "mean_int"] = "nan"
    frame.loc[1, "effect"] = "-NaN"
    data_copy.write("outcomes.csv", frame)
    text = _broken(data_copy, "outcomes.csv", 2, "sd_ctl", "inf")
    assert "(3 problems)" in text
    assert "row 2, column 'mean_int': not a number (found 'nan')" in text
    assert "row 3, column 'effect': not a number (found '-NaN')" in text
    assert "row 4, column 'sd_ctl': SD must be positive" in text


def _outcome_row_of(data_copy, study_id):
    frame = data_copy.read("outcomes.csv")
    return frame, frame.index[frame["study_id"] == study_id][0]


def test_arms_may_not_exceed_twice_the_study_n(data_copy):
    studies = data_copy.read("studies.csv").set_index("study_id")
    study_id = studies.index[studies["n_randomised"].ne("") & studies["n_analysed"].eq("")][0]
    n = int(studies.loc[study_id, "n_randomised"])
    frame, row = _outcome_row_of(data_copy, study_id)
    frame.loc[row, ["n_int", "n_ctl"]] = [str(n), str(n)]  # each person in both arms (crossover, before/after): valid
    data_copy.write("outcomes.csv", frame)
    load_evidence(**data_copy.params)
    frame.loc[row, ["n_int", "n_ctl"]] = [str(n), str(n + 1)]
    data_copy.write("outcomes.csv", frame)
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    assert (f"row {row + 2}, columns 'n_int/n_ctl': the arms hold {2 * n + 1} people, more than twice the study's N ({n})"
            in str(err.value))


def test_arms_checked_against_n_analysed_when_n_randomised_is_empty(data_copy):
    studies = data_copy.read("studies.csv")
    study_id = studies.loc[0, "study_id"]
    studies.loc[0, ["n_randomised", "n_analysed"]] = ["", "5"]
    data_copy.write("studies.csv", studies)
    frame = data_copy.read("outcomes.csv")
    frame.loc[0, ["study_id", "n_int", "n_ctl"]] = [study_id, "6", "5"]
    data_copy.write("outcomes.csv", frame)
    with pytest.raises(InputError, match=r"row 2, columns 'n_int/n_ctl': the arms hold 11 people, more than twice the study's N \(5\)"):
        load_evidence(**data_copy.params)


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


def test_means_more_than_ten_sds_apart_are_implausible(data_copy):
    frame = data_copy.read("outcomes.csv")
    frame.loc[0, ["mean_int", "mean_ctl", "sd_int", "sd_ctl"]] = ["30", "10", "2", "2"]  # exactly 10 SDs: allowed
    data_copy.write("outcomes.csv", frame)
    load_evidence(**data_copy.params)
    frame.loc[0, "mean_int"] = "30.1"
    data_copy.write("outcomes.csv", frame)
    with pytest.raises(InputError, match=r"\(1 problem\):\n  - row 2, columns 'mean_int/mean_ctl/sd_int/sd_ctl': the means "
                                         r"differ by more than 10 SDs, which no treatment does; check that the SDs are not standard errors$"):
        load_evidence(**data_copy.params)
