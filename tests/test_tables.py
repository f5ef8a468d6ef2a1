"""Reading CSV files: every malformed file gets one clear error naming file, row and column."""

import pandas as pd
import pytest

from evidence_review.claims import load_claims, load_outcome_domains
from evidence_review.studies import load_evidence, load_studies
from evidence_review.tables import InputError, read_table, shown, shown_value, spreadsheet_row


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


def test_semicolon_separated_file_gets_a_delimiter_hint(data_copy):
    path = data_copy.path("claims.csv")
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_claims(path, domains(data_copy))
    text = str(err.value)
    assert "(1 problem)" in text
    assert "row 1: the header row separates its columns with semicolons, not commas" in text


def test_tab_separated_file_gets_a_delimiter_hint(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("claim_id\torder\nx\t1\n", encoding="utf-8")
    with pytest.raises(InputError, match="separates its columns with tabs"):
        read_table(path)


def test_semicolons_inside_a_comma_separated_file_are_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,label\npain,Pain; aches\n", encoding="utf-8")
    assert read_table(path).loc[0, "label"] == "Pain; aches"


def test_trailing_empty_spreadsheet_rows_are_ignored(data_copy):
    path = data_copy.path("claims.csv")
    rows = len(data_copy.read("claims.csv"))
    width = len(data_copy.read("claims.csv").columns)
    path.write_text(path.read_text(encoding="utf-8") + ("," * (width - 1) + "\n") * 3 + "\n", encoding="utf-8")
    claims = load_claims(path, domains(data_copy))
    assert len(claims) == rows


def test_empty_row_between_data_rows_is_one_problem(data_copy):
    frame = data_copy.read("studies.csv")
    frame.loc[3] = ""
    data_copy.write("studies.csv", frame)
    with pytest.raises(InputError) as err:
        load_studies(data_copy.path("studies.csv"))
    assert str(err.value).endswith("(1 problem):\n  - row 5: the row is empty; delete it or fill it in")


def test_a_table_that_may_be_empty_is_read_as_its_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,label\n,\n", encoding="utf-8")
    frame = read_table(path, allow_empty=True)
    assert frame.empty and list(frame.columns) == ["code", "label"]
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="the file is empty"):  # still needs its header
        read_table(path, allow_empty=True)


def test_only_empty_rows_is_no_data(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,label\n,\n,\n", encoding="utf-8")
    with pytest.raises(InputError, match="header but no data rows"):
        read_table(path)


def test_claim_id_length_is_capped_at_load_time(data_copy):
    data_copy.set("claims.csv", 0, "claim_id", "c" * 300)
    with pytest.raises(InputError) as err:
        load_claims(data_copy.path("claims.csv"), domains(data_copy))
    text = str(err.value)
    assert "row 2, column 'claim_id': claim_id must be at most 80 characters (found 'ccc" in text
    assert "c" * 61 not in text  # the value is cut in the message


def test_shown_bounds_and_escapes_text():
    assert shown("short") == "short"
    assert shown("x" * 1000) == "x" * 57 + "..."
    assert shown("a\nb\x1b[31mred") == "a\\nb\\x1b[31mred"
    assert shown("café ±") == "café ±"


def test_shown_value_is_bounded_for_huge_and_deep_values():
    huge = [["x" * 10_000] * 10_000] * 10_000  # 10^12 characters if printed in full
    deep = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    assert len(shown_value(huge)) <= 240
    assert shown_value(deep).startswith("{'a': {'b': {")
    assert shown_value(2030) == "2030" and shown_value("reports") == "'reports'"


def test_too_many_values_in_the_first_row_is_an_error_not_an_index(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,label\npain,Pain,extra,more\nmood,Mood\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2: more values than the header has column names"):
        read_table(path)


def test_too_many_values_in_a_later_row_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,label\npain,Pain\nmood,Mood,extra\n", encoding="utf-8")
    with pytest.raises(InputError, match="Expected 2 fields in line 3, saw 3"):
        read_table(path)


def test_empty_unnamed_columns_right_of_the_data_are_ignored(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,label,,\npain,Pain,,\nmood,Mood,,\n", encoding="utf-8")
    assert list(read_table(path).columns) == ["code", "label"]
    path.write_text("code,label,\npain,Pain,oops\n", encoding="utf-8")
    assert "Unnamed: 2" in read_table(path).columns  # a value under no header is kept, then reported by the schema


def test_huge_header_and_ids_are_quoted_briefly(data_copy):
    frame = data_copy.read("outcomes.csv")
    frame.loc[0, "study_id"] = "z" * 100_000
    frame["h" * 100_000] = ""
    data_copy.write("outcomes.csv", frame)
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    text = str(err.value)
    assert "column 'hhhh" in text and "study_id 'zzzz" in text
    assert len(text) < 2000


def test_duplicate_header_name_is_named_as_such(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,label,label, code\npain,Pain,P,x\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_table(path)
    assert str(err.value).endswith("(2 problems):\n  - row 1, column 'code': the header names this column more than once\n"
                                   "  - row 1, column 'label': the header names this column more than once")


def test_unreadable_file_is_a_clean_error(tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "t.csv"
    path.write_text("code,label\n", encoding="utf-8")

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(InputError, match=r"the file cannot be read \(Permission denied\)"):
        read_table(path)


@pytest.mark.parametrize("text, cells", [
    ("a,b\n1,2\n", ["1", "2"]),
    ("a,b\n 1,2\n", ["1", "2"]),
    ("a,b\n1 ,2\n", ["1", "2"]),
    ("a,b\n1,2 \n", ["1", "2"]),
    ("a,b\n1,2\t", ["1", "2"]),
    ("a,b\r\n1,\" two \"\r\n", ["1", "two"]),
    ("a,b\n1,\"two\n\"\n", ["1", "two"]),
    ("a,b\n1,\u00a0two\u3000\n", ["1", "two"]),
    ("a,b\n1,\"x, y\"\n", ["1", "x, y"]),
    ("a,b\n1, \n", ["1", None]),
])
def test_cells_lose_white_space_around_them_whether_or_not_the_file_needs_stripping(tmp_path, text, cells):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    row = read_table(path).iloc[0].tolist()
    assert [None if pd.isna(v) else v for v in row] == cells


def test_a_file_without_white_space_at_any_cell_edge_skips_stripping():
    from evidence_review.tables import _MAY_NEED_STRIP

    assert _MAY_NEED_STRIP.search("a,b\r\n1,two words\r\n2,x\r\n") is None
    for edge in (" 1,2", "1 ,2", "1, 2", "1,2 ", "1,\"2 \"", "1,\" 2\"", "1,\"2\n\""):
        assert _MAY_NEED_STRIP.search(f"a,b\n{edge}\n") is not None, edge
