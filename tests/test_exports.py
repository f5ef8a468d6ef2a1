"""Exports (JSON, BibTeX, RIS), the article scorecard and the one-page summary."""

import json

import bibtexparser
import pandas as pd
import pytest
import rispy

from evidence_review.exports import studies_bibtex, studies_ris, verdicts_json
from evidence_review.pipeline import prepare_review
from evidence_review.scorecard import load_scorecard, scorecard_summary
from evidence_review.tables import InputError


@pytest.fixture(scope="module")
def review():
    return prepare_review()


def test_verdicts_json_round_trips(review):
    data = json.loads(verdicts_json(review.synthesis.verdicts, review.evidence.claims))["verdicts"]
    assert [d["claim_id"] for d in data] == review.evidence.claims["claim_id"].tolist()
    first = review.synthesis.verdicts.iloc[0]
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


#: Text that has broken exports: line breaks (an injected RIS record), BibTeX braces and escapes, LaTeX
#: specials and ligatures, quotes, '@' (starts a BibTeX entry), non-ASCII and Unicode line separators.
HOSTILE_TITLES = [
    "Massage\nER  - \nTY  - JOUR\nTI  - injected record",
    "Unbalanced } brace { and \\ backslash \\textbf{x} \\",
    "50% better; 100 % sure & $5 # _ ~ ^ -- --- ''q'' ``r`` ?` !` \"quoted\" 'single'",
    "@article{evil, title={pwned}} @comment{ % not a comment",
    "Über die Massage: 中文 – «ceci» ½ ñ\u00a0nbsp",
    "line\r\nbreaks\u2028and\u2029separators\x85too\x0bvt",
    "Smith and Jones and the trial of {A}",
]
HOSTILE_DOIS = ["10.1234/a}b{c", "10.1002/(SICI)1097-4636(199606)31:2<>3.0.CO;2-O", "10.5555/x\\y@z%25\"q\"é"]
HOSTILE_URLS = ["https://example.org/a}b?q={x}", "https://example.org/p;jsessionid=1?a=b;c", "https://example.org/%7E/\\@é\"x\""]


def hostile_studies():
    rows = []
    for i, title in enumerate(HOSTILE_TITLES):
        rows.append({
            "study_id": f"hostile{i}", "authors": "Smith and Sons Ltd; O'Brien, {K}; Müller\nA; et al.",
            "title": title, "journal": title[::-1], "year": 2000 + i, "doi": HOSTILE_DOIS[i % 3],
            "pmid": "123", "source_url": HOSTILE_URLS[i % 3], "design": "rct", "trial_group": f"hostile{i}",
        })
    return pd.DataFrame(rows)


def same_address(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url)


def latex_decoder():
    """pylatexenc, except that \\textasciicircum is the ASCII caret (pylatexenc maps it to U+02C6)."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    db = get_default_latex_context_db()
    db.add_context_category("ascii-caret", macros=[MacroTextSpec("textasciicircum", "^")], prepend=True)
    return LatexNodes2Text(latex_context=db)


def test_one_line_collapses_every_line_boundary():
    from evidence_review.exports import one_line

    assert one_line("a\r\nb\u2028c\x85d\ve\n\n f ") == "a b c d e  f"
    assert one_line("tabs\tstay") == "tabs\tstay"


def test_ris_round_trips_hostile_text():
    from evidence_review.exports import one_line

    studies = hostile_studies()
    records = rispy.loads(studies_ris(studies))
    assert len(records) == len(studies)  # no injected or merged record
    for rec, study in zip(records, studies.to_dict("records")):
        assert rec["id"] == study["study_id"]
        assert rec["primary_title"] == one_line(study["title"])
        assert rec["journal_name"] == one_line(study["journal"])
        assert rec["doi"] == study["doi"]
        assert rec["urls"] == [study["source_url"].replace(";", "%3B")]  # a ';' would split the address in two
        assert same_address(rec["urls"][0]) == same_address(study["source_url"])
        assert rec["authors"] == ["Smith and Sons Ltd", "O'Brien, {K}", "Müller A"]
        assert rec["year"] == str(study["year"])


def test_bibtex_round_trips_hostile_text():
    from bibtexparser.middlewares import SeparateCoAuthors

    from evidence_review.exports import one_line

    studies = hostile_studies()
    text = studies_bibtex(studies)
    library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors()])
    assert len(library.failed_blocks) == 0 and len(library.entries) == len(studies)
    decode = latex_decoder().latex_to_text
    by_key = {e.key: e for e in library.entries}
    for study in studies.to_dict("records"):
        entry = by_key[study["study_id"]]
        assert decode(entry["title"]) == one_line(study["title"])
        assert decode(entry["journal"]) == one_line(study["journal"])
        assert same_address(entry["doi"]) == same_address(study["doi"])
        assert same_address(entry["url"]) == same_address(study["source_url"])
        assert [decode(a) for a in entry["author"]] == ["Smith and Sons Ltd", "O'Brien, {K}", "Müller A"]
        assert entry["year"] == str(study["year"])


def test_bibtex_verbatim_fields_keep_ordinary_addresses_as_written():
    """Real DOIs and URLs (with '_', '%', '~', '#') are not LaTeX-escaped: BibTeX tools read them verbatim."""
    studies = hostile_studies().head(1).assign(doi="10.1016/j.x_y.2015.05.003", source_url="https://a.org/~me/p%20q#s_1")
    entry = bibtexparser.parse_string(studies_bibtex(studies)).entries[0]
    assert entry["doi"] == "10.1016/j.x_y.2015.05.003" and entry["url"] == "https://a.org/~me/p%20q#s_1"


def test_spreadsheet_csv_neutralises_formulas_and_keeps_numbers():
    import io

    from evidence_review.exports import spreadsheet_csv

    frame = pd.DataFrame({
        "text": ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", "-1.5", "+3", "1e5", None],
        "number": [-1.5, 2.0, -3.25, 0.0, 1.0, -0.5, 4.0, 5.0, 6.0, 7.0, None],
        "count": pd.array([-1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None], dtype="Int64"),
        "mixed": ["=1", 5, -2.5, None, "a\rb", "c\r\nd", "e", "f", "g", "h", "i"],
    })
    text = spreadsheet_csv(frame)
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["text"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tx", "'\nx",
                                     "plain", "-1.5", "+3", "1e5", ""]
    assert back["number"].tolist()[:3] == ["-1.5", "2", "-3.25"]  # numbers stay numbers
    assert back["count"].tolist()[0] == "-1"
    assert back["mixed"].tolist()[:6] == ["'=1", "5", "-2.5", "", "a\nb", "c\nd"]  # a CR no longer splits the row
    assert frame.loc[0, "text"].startswith("=")  # the input is not modified


def test_spreadsheet_csv_changes_nothing_without_formula_text(review):
    from evidence_review.exports import spreadsheet_csv

    verdicts = review.synthesis.verdicts
    assert spreadsheet_csv(verdicts) == verdicts.to_csv(index=False, lineterminator="\n", float_format="%.6g")


def test_build_writes_spreadsheet_safe_csvs(tmp_path, review):
    from evidence_review.result_files import write_results

    claims = review.evidence.claims.copy()
    claims.loc[0, "claim"] = "=cmd|' /C calc'!A0 massage"
    claims.loc[1, "section"] = "@SUM(1+1)"
    hostile = type(review)(review.params, type(review.evidence)(review.evidence.domains, claims, review.evidence.studies,
                                                                review.evidence.outcomes, review.evidence.reviews),
                           scorecard=review.scorecard.assign(reason="-2+3 formula"))
    write_results(hostile, tmp_path)
    claims_csv = pd.read_csv(tmp_path / "claims.csv", dtype=str)
    assert claims_csv.loc[0, "claim"] == "'=cmd|' /C calc'!A0 massage" and claims_csv.loc[1, "section"] == "'@SUM(1+1)"
    assert (pd.read_csv(tmp_path / "scorecard.csv", dtype=str)["reason"] == "'-2+3 formula").all()
    verdicts = hostile.synthesis.verdicts
    assert (tmp_path / "verdicts.csv").read_text() == verdicts.to_csv(index=False, lineterminator="\n", float_format="%.6g")
