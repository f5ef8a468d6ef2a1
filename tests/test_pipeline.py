"""Run parameters: every wrong value stops the run with the valid values listed."""

import datetime as dt

import pytest

from evidence_review.pipeline import apply_filters, prepare_review, validate_parameters
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
