"""The optional background-evidence input: schema, loader, and the background_path parameter."""

import pytest

from evidence_review.background import BACKGROUND_COLUMNS, load_background
from evidence_review.parameters import validate_parameters
from evidence_review.studies import load_evidence
from evidence_review.tables import InputError

HEADER = ",".join(BACKGROUND_COLUMNS)
GOOD = ("nice-spasticity,guideline,NICE,,2022,MS in adults,,,https://www.nice.org.uk/guidance/ng220,adults with MS,ms,spasticity,"
        "Spasticity is a common symptom to be managed.,harm,,,,,,")
DOMAINS = {"spasticity", "heat_sensitivity"}


def write(tmp_path, *rows, header=HEADER):
    path = tmp_path / "background_evidence.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_loads_a_valid_file(tmp_path):
    frame = load_background(write(tmp_path, GOOD), DOMAINS)
    assert list(frame.columns) == list(BACKGROUND_COLUMNS)
    assert frame.loc[0, "year"] == 2022 and frame.loc[0, "direction"] == "harm"


def test_every_problem_reported_with_row_and_column(tmp_path):
    bad = ("Bad Id,leaflet,,,2999,,doi:10.1/x,abc,www.example.org,,ms,two;domains,short,better,,80,9,1,-5,")
    with pytest.raises(InputError) as err:
        load_background(write(tmp_path, GOOD, GOOD, bad), DOMAINS)
    text = str(err.value)
    assert "background_evidence.csv" in text
    for column in ("evidence_id", "source_type", "year", "doi", "pmid", "source_url", "population", "outcome_domain",
                   "statement", "direction", "n"):
        assert f"row 4, column '{column}'" in text, column
    assert "row 3, column 'evidence_id': duplicate value" in text
    assert "row 4, columns 'ci_low/ci_high'" in text and "row 4, columns 'measure/value'" in text


def test_unknown_column_is_reported(tmp_path):
    with pytest.raises(InputError, match="unexpected column"):
        load_background(write(tmp_path, GOOD + ",x", header=HEADER + ",extra"), DOMAINS)


def test_background_path_parameter(tmp_path, data_copy):
    params = {**data_copy.params, "output_dir": str(tmp_path / "out")}
    assert validate_parameters(**params, background_path=None).background_path is None
    with pytest.raises(InputError, match="background evidence file not found"):
        validate_parameters(**params, background_path=str(tmp_path / "missing.csv"))
    path = write(tmp_path, GOOD)
    assert validate_parameters(**params, background_path=str(path)).background_path == path
    ev = load_evidence(*(params[k] for k in ("claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path")),
                       background_path=str(path))
    assert list(ev.background["evidence_id"]) == ["nice-spasticity"]
    assert load_evidence(*(params[k] for k in ("claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path")),
                         background_path=None).background.empty
