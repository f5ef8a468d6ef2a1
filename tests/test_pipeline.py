"""Run parameters: every wrong value stops the run with the valid values listed."""

import datetime as dt

import pytest

from evidence_review.parameters import validate_parameters
from evidence_review.pipeline import apply_filters, prepare_review
from evidence_review.studies import load_evidence
from evidence_review.tables import InputError
from evidence_review.vocab import DESIGNS


def test_defaults_point_at_the_bundled_data():
    p = validate_parameters()
    assert p.claims_path.is_file() and p.designs == DESIGNS and p.pooling_method == "dl"


def test_every_problem_listed_with_valid_values(tmp_path):
    with pytest.raises(InputError) as err:
        validate_parameters(
            "params.yaml",
            studies_path=str(tmp_path / "missing.csv"),
            designs=["rct", "anecdote"],
            min_year=dt.date.today().year + 1,
            min_n=-5,
            pooling_metod="dl",
        )
    text = str(err.value)
    assert text.startswith("Invalid input 'params.yaml' (5 problems)")
    assert "column 'studies_path': data file not found" in text
    assert "unknown design(s) ['anecdote']; valid designs: systematic_review, rct" in text
    assert "column 'min_year': min_year must be a whole year" in text
    assert "column 'min_n'" in text
    assert "column 'pooling_metod': unknown parameter (did you mean pooling_method?)" in text


def test_unknown_claim_id_lists_valid_ids():
    with pytest.raises(InputError) as err:
        prepare_review(require_claim=True, claim_id="cures-ms")
    assert "unknown claim_id 'cures-ms'; valid claim_ids: course-not-changed" in str(err.value)


def test_filters_keep_matching_studies_and_their_outcomes():
    ev = load_evidence()
    f = apply_filters(ev, designs=("rct",), min_year=2010, min_n=30)
    assert set(f.studies["design"]) == {"rct"}
    assert (f.studies["year"] >= 2010).all()
    assert (f.studies["n_randomised"].fillna(f.studies["n_analysed"]) >= 30).all()
    assert set(f.outcomes["study_id"]) <= set(f.studies["study_id"])
    assert len(ev.studies) > len(f.studies)  # the input is not modified


def test_a_review_keeps_what_meets_the_filters_and_remembers_the_rest():
    ev = load_evidence()
    review = prepare_review(designs=["rct"], min_year=2010)
    kept, gone = review.evidence, review.excluded
    assert sorted([*kept.studies["study_id"], *gone.studies["study_id"]]) == sorted(ev.studies["study_id"])
    assert len(kept.outcomes) + len(gone.outcomes) == len(ev.outcomes)
    assert set(gone.outcomes["study_id"]) <= set(gone.studies["study_id"]) and review.excluded_studies == len(gone.studies)
    assert not gone.studies["design"].eq("rct").all() or (gone.studies["year"].fillna(0) < 2010).any()
    assert prepare_review().excluded is None and prepare_review().excluded_studies == 0


@pytest.mark.parametrize("value, shown", [(5, "int 5"), (["a", "b"], "list ['a', 'b']"), ({"x": 1}, "dict {'x': 1}"),
                                          (True, "bool True"), (None, "NoneType None"), (3.5, "float 3.5")])
def test_path_parameters_of_the_wrong_type(value, shown):
    with pytest.raises(InputError) as err:
        validate_parameters("params.yaml", studies_path=value)
    assert str(err.value).endswith(f"(1 problem):\n  - column 'studies_path': studies_path must be a path written as text, got {shown}")


def test_every_wrong_type_reported_at_once():
    with pytest.raises(InputError) as err:
        validate_parameters("params.yaml", claims_path=1, scorecard_path=[], output_dir={}, title=["t"], designs=7,
                            pooling_method=["dl"], claim_id=3)
    text = str(err.value)
    assert "(7 problems)" in text
    for column in ("claims_path", "scorecard_path", "output_dir", "title", "designs", "pooling_method", "claim_id"):
        assert f"column '{column}'" in text
    assert "scorecard_path must be a path or null written as text, got list []" in text


def test_scorecard_may_be_null():
    assert validate_parameters(scorecard_path=None).scorecard_path is None


@pytest.mark.parametrize("value", ["data/\0claims.csv", "x" * 5000])
def test_unusable_path_text_is_a_clean_error(value):
    with pytest.raises(InputError, match="claims_path is not a usable path"):
        validate_parameters(claims_path=value)


def test_overlong_file_name_is_not_found_not_a_crash():
    with pytest.raises(InputError, match="data file not found: /tmp/xxxxx"):
        validate_parameters(claims_path="/tmp/" + "x" * 1000)


def test_huge_values_are_quoted_briefly():
    huge = [["y" * 100_000] * 1000] * 1000
    with pytest.raises(InputError) as err:
        validate_parameters(min_year=huge, min_n="z" * 1_000_000, designs=["q" * 1_000_000], title={"t": huge})
    text = str(err.value)
    assert "(4 problems)" in text and len(text) < 3000


def test_unknown_parameter_hint_uses_the_closest_name():
    with pytest.raises(InputError, match=r"column 'min_yaer': unknown parameter \(did you mean min_year\?\)"):
        validate_parameters(min_yaer=2030)
    with pytest.raises(InputError) as err:
        validate_parameters(colour="red")
    assert "did you mean" not in str(err.value) and "valid parameters: claims_path" in str(err.value)


def test_unknown_notebook_names_are_the_injected_plain_values():
    import math

    namespace = {
        "__name__": "__main__", "_i1": "code", "In": ["", "x"], "Out": {}, "exit": object(), "get_ipython": print,
        "math": math, "prepare_review": prepare_review, "InputError": InputError,  # imports: never parameters
        "min_year": 2010, "claims_path": "data/claims.csv",  # declared parameters
        "min_yaer": 2030, "colour": "red", "flags": [1], "nothing": None,  # injected typos and extras
    }
    from evidence_review.pipeline import unknown_notebook_names

    assert unknown_notebook_names(namespace) == ["colour", "flags", "min_yaer", "nothing"]


def test_start_notebook_stops_on_an_injected_typo():
    from evidence_review.pipeline import start_notebook

    with pytest.raises(InputError) as err:
        start_notebook({"min_year": None, "min_yaer": 2030})
    assert "column 'min_yaer': unknown parameter (did you mean min_year?); valid parameters:" in str(err.value)


@pytest.mark.parametrize("filters, says", [
    ({"min_n": 100000}, "No study met the inclusion filters (at least 100000 participants): all "),
    ({"designs": ["systematic_review"]}, "No study that met the inclusion filters (designs systematic_review) bears on a claim"),
])
def test_filters_that_leave_no_evidence_give_a_review_that_says_so(filters, says):
    from evidence_review import charts
    from evidence_review.pipeline import empty_review_note

    review = prepare_review(**filters)
    assert review.excluded_studies > 0
    syn = review.synthesis
    # Authoritative background sources are not studies, so only claims about the intervention lose all evidence.
    about_intervention = review.evidence.claims.loc[review.evidence.claims["claim_type"] != "background", "claim_id"]
    assert set(syn.verdicts.loc[syn.verdicts["claim_id"].isin(about_intervention), "verdict"]) <= {"no_evidence", "not_testable"}
    study_trials = syn.trials.loc[syn.trials["evidence_kind"] == "study"]
    assert study_trials.empty and syn.trials["controlled"].dtype == bool  # typed even when empty
    assert charts.evidence_column(study_trials, "MS").empty
    assert empty_review_note(review).startswith(says)


def test_no_note_when_studies_remain():
    from evidence_review.pipeline import empty_review_note

    assert empty_review_note(prepare_review(min_n=20)) is None


def test_notebooks_with_their_own_parameters_check_them_too():
    from evidence_review.pipeline import check_notebook_names

    check_notebook_names({"article_path": "a.txt", "In": []}, ["article_path", "draft_output"])
    with pytest.raises(InputError) as err:
        check_notebook_names({"article_path": "a.txt", "draft_ouput": "x.csv"}, ["article_path", "draft_output"])
    assert str(err.value).endswith("column 'draft_ouput': unknown parameter (did you mean draft_output?); "
                                   "valid parameters: article_path, draft_output")


def test_claims_whose_studies_the_filters_excluded_say_so_not_that_no_study_looked():
    from evidence_review import site
    from evidence_review.sof import summary_of_findings

    review = prepare_review(designs=["systematic_review"])
    excluded = review.excluded_by_claim
    unfiltered = prepare_review().synthesis.verdicts.set_index("claim_id")
    # Every claim with study evidence before the filters has excluded studies counted now.
    had_studies = unfiltered.index[unfiltered["trials"] > 0]
    assert (excluded.reindex(had_studies) > 0).any()
    sof = summary_of_findings(review.evidence.claims, review.synthesis, {}, "massage", excluded).set_index("claim_id")
    claim = next(c for c in had_studies if sof.loc[c, "verdict"] == "no_evidence" and excluded[c] > 0)
    k = int(excluded[claim])
    assert sof.loc[claim, "statement"] == (
        f"The inclusion filters of this review excluded {'the one study' if k == 1 else f'all {k} studies'} we found on this, "
        "so the review has no evidence on it.")
    assert sof.loc[claim, "evidence_shows"] == f"No included studies; the inclusion filters excluded {k}"
    page = site.summary_page(review)
    no_evidence = sof.loc[sof["verdict"] == "no_evidence"].index
    assert page.count("The inclusion filters of this review excluded") == int((excluded[no_evidence] > 0).sum())
    # Claims no study bore on even before the filters keep their wording.
    assert page.count("No study we found") == int((excluded[no_evidence] == 0).sum())


def test_excluded_per_claim_counts_distinct_excluded_studies_on_the_claims_domains():
    import pandas as pd

    from evidence_review.pipeline import excluded_per_claim

    claims = pd.DataFrame({"claim_id": ["pain-claim", "sleep-claim", "advice"], "order": [1, 2, 3],
                           "claim_type": ["benefit", "benefit", "advice"], "outcome_domains": ["pain", "sleep", None],
                           "expected_direction": ["benefit"] * 3, "testable": [True, True, False]})
    studies = pd.DataFrame({"study_id": ["a2001", "b2002"], "design": ["rct", "pre_post"], "condition": ["ms", "ms"],
                            "intervention": ["massage", "massage"], "comparator": ["sham", "none"],
                            "trial_group": ["a2001", "b2002"], "rob_overall": ["low", "high"],
                            "n_randomised": pd.array([20, 10], dtype="Int64"), "n_analysed": pd.array([20, 10], dtype="Int64"),
                            "directness": ["direct", "direct"], "directness_reason": [None, None]})
    outcomes = pd.DataFrame({"outcome_id": ["a2001#1", "a2001#2", "b2002#1"], "study_id": ["a2001", "a2001", "b2002"],
                             "outcome_domain": ["pain", "pain", "pain"], "basis": ["between_group"] * 3,
                             "direction": ["benefit", "harm", "benefit"], "higher_is_better": pd.array([True] * 3, dtype="boolean"),
                             "instrument": ["x"] * 3, "comparison": ["x"] * 3, "p_value": [0.01] * 3})
    population = {"target_condition": "ms", "population_label": "people with MS"}
    counts = excluded_per_claim(claims, outcomes, studies, **population)
    assert counts.to_dict() == {"pain-claim": 2, "sleep-claim": 0, "advice": 0}
    assert excluded_per_claim(claims, outcomes.iloc[:0], studies.iloc[:0], **population).to_dict() == {"pain-claim": 0, "sleep-claim": 0, "advice": 0}


def test_no_evidence_sentences_name_the_filters_only_when_they_excluded_something():
    from evidence_review.sof import grade_statement

    assert grade_statement("no_evidence", None, "benefit", "benefit", "massage", "pain").startswith("No study we found")
    assert grade_statement("no_evidence", None, "benefit", "benefit", "massage", "pain", excluded=3) == (
        "The inclusion filters of this review excluded all 3 studies we found on this, so the review has no evidence on it.")
    assert grade_statement("no_evidence", None, "benefit", "benefit", "massage", "pain", excluded=1) == (
        "The inclusion filters of this review excluded the one study we found on this, so the review has no evidence on it.")
    # Only a claim without evidence changes its wording.
    assert grade_statement("insufficient", "low", "benefit", "benefit", "massage", "pain", excluded=4) == (
        grade_statement("insufficient", "low", "benefit", "benefit", "massage", "pain"))


def test_the_results_file_carries_the_studies_the_filters_excluded_per_claim(tmp_path):
    from evidence_review.pipeline import load_review, save_review
    from evidence_review.review_file import new_key

    review = prepare_review(designs=["systematic_review"])
    key = new_key()
    path = save_review(review, tmp_path / "results", key)
    loaded = load_review(key=key, results_path=str(path), designs=["systematic_review"])
    assert loaded.excluded is None  # the excluded studies themselves are not in the file
    assert loaded.excluded_by_claim.to_dict() == review.excluded_by_claim.to_dict()
    assert loaded.excluded_by_claim.sum() > 0
