"""Exports (JSON, BibTeX, RIS), the article scorecard and the one-page summary."""

import json

import bibtexparser
import pandas as pd
import pytest
import rispy

from evidence_review.exports import studies_bibtex, studies_ris, verdicts_json
from evidence_review.pipeline import prepare_review
from evidence_review.scorecard import load_scorecard, scorecard_summary
from evidence_review.summary import plain_sentence
from evidence_review.tables import InputError


@pytest.fixture(scope="module")
def review():
    return prepare_review()


def test_verdicts_json_round_trips(review):
    data = json.loads(verdicts_json(review.synthesis["verdicts"], review.evidence.claims))["verdicts"]
    assert [d["claim_id"] for d in data] == review.evidence.claims["claim_id"].tolist()
    first = review.synthesis["verdicts"].iloc[0]
    assert data[0]["verdict"] == first["verdict"] and data[0]["trials"] == first["trials"]
    assert any(d["pooled_g"] is None for d in data)  # NaN becomes null, not NaN


def test_bibtex_parses_back_with_every_study(review):
    library = bibtexparser.parse_string(studies_bibtex(review.evidence.studies))
    assert len(library.failed_blocks) == 0
    keys = {e.key for e in library.entries}
    assert keys == set(review.evidence.studies["study_id"])
    hughes = next(e for e in library.entries if e.key == "hughes2009")
    assert hughes["doi"] == "10.1177/1352458509345916"


def test_latex_specials_are_escaped():
    studies = pd.DataFrame([{"study_id": "x2020", "authors": "A B", "title": "Pain & fatigue: 50% better", "journal": None,
                             "year": 2020, "doi": None, "pmid": None, "source_url": "https://example.org/x",
                             "design": "rct", "trial_group": "x2020"}])
    text = studies_bibtex(studies)
    assert r"Pain \& fatigue: 50\% better" in text


def test_ris_parses_back(review):
    text = studies_ris(review.evidence.studies)
    records = rispy.loads(text)
    assert len(records) == len(review.evidence.studies)
    assert not text.lstrip().startswith("1.")
    assert {r["type_of_reference"] for r in records} == {"JOUR"}
    assert all(r["urls"] for r in records)


def test_scorecard_loads_and_rejects_unknown_rating(tmp_path):
    from evidence_review.paths import project_root

    card = load_scorecard(project_root() / "data" / "scorecard.csv")
    assert set(card["rating"]) <= {"satisfactory", "not_satisfactory", "not_applicable"}
    assert scorecard_summary(card).endswith("applicable criteria satisfactory")
    bad = card.copy()
    bad.loc[2, "rating"] = "great"
    bad.to_csv(tmp_path / "card.csv", index=False)
    with pytest.raises(InputError, match=r"row 4, column 'rating': unknown rating"):
        load_scorecard(tmp_path / "card.csv")


@pytest.mark.parametrize("verdict, words", [("supported", "mostly back this (3 of 4)"), ("no_evidence", "No study"),
                                            ("not_testable", "advice or opinion")])
def test_plain_sentence(verdict, words):
    row = pd.Series({"verdict": verdict, "certainty": "low", "basis_trials_agreeing": 3, "basis_trials_disagreeing": 1, "trials": 4})
    assert words in plain_sentence(row)


def test_plain_sentence_background_and_singular():
    row = pd.Series({"verdict": "supported", "certainty": "low", "basis_trials_agreeing": 1, "basis_trials_disagreeing": 0,
                     "trials": 1, "claim_type": "background"})
    assert plain_sentence(row).startswith("Studies of people with MS mostly back this (1 of 1)")
    row["verdict"] = "insufficient"
    assert plain_sentence(row) == "Too little good evidence to say: 1 study, not able to settle it."
