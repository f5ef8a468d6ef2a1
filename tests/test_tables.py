"""Reading CSV files: every malformed file gets one clear error naming file, row and column."""

import pytest

from evidence_review.claims import load_claims, load_outcome_domains
from evidence_review.studies import load_evidence, load_studies
from evidence_review.tables import InputError, read_table, spreadsheet_row


def domains(data_copy):
    return load_outcome_domains(data_copy.path("outcome_domains.csv"))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"claim_id,order,section\n", "header but no data rows"),
        ("claim_id,section\nx,Caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_files_are_named(tmp_path, content, message):
    path = tmp_path / "claims.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_table(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def test_bom_and_windows_line_endings_load(data_copy):
    text = data_copy.path("claims.csv").read_text(encoding="utf-8")
    data_copy.path("claims.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    claims = load_claims(data_copy.path("claims.csv"), domains(data_copy))
    assert claims.columns[0] == "claim_id"
    assert not claims["claim"].str.contains("\r").any()


def test_all_problems_listed_at_once_with_spreadsheet_rows(data_copy):
    data_copy.set("studies.csv", 0, "year", "199")  # 3-digit year
    data_copy.set("studies.csv", 2, "n_randomised", "twelve")  # text in N
    data_copy.set("studies.csv", 4, "doi", "doi.org/10.1/x")  # malformed DOI
    with pytest.raises(InputError) as err:
        load_studies(data_copy.path("studies.csv"))
    text = str(err.value)
    assert "3 problems" in text
    assert "row 2, column 'year'" in text
    assert "row 4, column 'n_randomised': expected a whole number (found 'twelve')" in text
    assert "row 6, column 'doi'" in text


def test_missing_and_extra_columns(data_copy):
    frame = data_copy.read("studies.csv").drop(columns=["design"]).assign(desing="rct")
    data_copy.write("studies.csv", frame)
    with pytest.raises(InputError) as err:
        load_studies(data_copy.path("studies.csv"))
    assert "column 'design': required column is missing" in str(err.value)
    assert "column 'desing': unexpected column" in str(err.value)


def test_very_long_field_is_rejected(data_copy):
    data_copy.set("claims.csv", 1, "claim", "x" * 5000)
    with pytest.raises(InputError, match=r"row 3, column 'claim'"):
        load_claims(data_copy.path("claims.csv"), domains(data_copy))


def test_errors_of_several_files_combined(data_copy):
    data_copy.set("claims.csv", 0, "claim_type", "opinion")
    data_copy.set("outcomes.csv", 0, "sd_int", "-1")
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    text = str(err.value)
    assert "claims.csv: row 2, column 'claim_type'" in text
    assert "outcomes.csv: row 2, column 'sd_int': SD must be positive" in text


def test_spreadsheet_row_counts_header():
    assert spreadsheet_row(0) == 2
