"""Exports for other tools: verdicts as JSON, included studies as BibTeX and RIS, CSVs for spreadsheets.

BibTeX is written by bibtexparser and RIS by rispy rather than by hand-made formatting. Whatever a
study's text holds, each study is one record that reads back to the same values:

- line breaks inside a field become single spaces (RIS is one field per line; a blank line inside
  a BibTeX field ends a LaTeX paragraph), everything else is kept, non-ASCII included;
- BibTeX text fields are LaTeX: its special characters are escaped so that LaTeX (and a LaTeX
  decoder) gives back the text; ``doi`` and ``url`` are read verbatim by BibTeX tools, so only the
  characters they cannot hold (``{``, ``}``, ``\\``) are percent-encoded, which names the same address;
- a RIS ``UR`` line may list several addresses separated by ``;``, so a ``;`` inside one address is
  percent-encoded.

CSV files meant for spreadsheets have formula-like text cells neutralised (see :func:`spreadsheet_csv`).
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd

__all__ = ["verdicts_json", "studies_bibtex", "studies_ris", "one_line", "spreadsheet_csv", "FORMULA_TRIGGERS"]

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
#: LaTeX ligatures that would change the text: "--" (dash), "''" and "``" (curly quotes), "?`" and "!`"
#: (inverted marks). An empty group between the two characters keeps them as typed.
_LATEX_LIGATURES = re.compile(r"(?<=-)(?=-)|(?<=')(?=')|(?<=`)(?=`)|(?<=[?!])(?=`)")
#: Characters that a BibTeX verbatim field (doi, url) cannot hold, as RFC 3986 percent-encodings.
_VERBATIM_UNSAFE = {"{": "%7B", "}": "%7D", "\\": "%5C"}
#: Every character Python (and so most readers) treats as a line boundary.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_BIB_TYPES = {"systematic_review": "article", "narrative_review": "article"}
#: OWASP CSV-injection guidance: a cell starting with one of these is read as a formula by spreadsheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number: never a formula, so it is written as it is (``-1.5`` stays ``-1.5``).
_PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


def _clean(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return value


def verdicts_json(verdicts: pd.DataFrame, claims: pd.DataFrame) -> str:
    """Verdicts with each claim's text, as a JSON document (missing numbers are ``null``).

    Parameters
    ----------
    verdicts : pandas.DataFrame
        ``synthesise(...)["verdicts"]``.
    claims : pandas.DataFrame
        The claims table.

    Returns
    -------
    str
        ``{"verdicts": [{...}, ...]}`` in claim order, keys sorted, so equal inputs give equal bytes.
    """
    merged = claims[["claim_id", "order", "section", "claim", "claim_type"]].merge(verdicts, on="claim_id").sort_values("order")
    records = [{k: _clean(v) for k, v in row.items()} for row in merged.to_dict("records")]
    return json.dumps({"verdicts": records}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def one_line(text: str) -> str:
    """Replace every run of line breaks by one space and trim the ends.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        The text on one line (``\\r``, ``\\n``, ``\\u2028`` and the other line boundaries Python knows).
    """
    return _LINE_BREAKS.sub(" ", str(text)).strip()


def _latex(text: str) -> str:
    escaped = "".join(_LATEX_SPECIALS.get(ch, ch) for ch in one_line(text))
    return _LATEX_LIGATURES.sub("{}", escaped)


def _verbatim(text: str) -> str:
    return "".join(_VERBATIM_UNSAFE.get(ch, ch) for ch in one_line(text))


def _bib_name(name: str) -> str:
    """One author for BibTeX: a name that itself contains " and " is braced so it stays one author."""
    text = _latex(name)
    return "{" + text + "}" if re.search(r"\sand\s", text, flags=re.IGNORECASE) else text


def _authors(value) -> list[str]:
    if not isinstance(value, str):
        return []
    names = (one_line(a) for a in value.split(";"))
    return [a for a in names if a and a.lower() != "et al."]


def studies_bibtex(studies: pd.DataFrame) -> str:
    """BibTeX entries for the studies, keyed by ``study_id``.

    Parameters
    ----------
    studies : pandas.DataFrame

    Returns
    -------
    str
    """
    import bibtexparser
    from bibtexparser.model import Entry, Field

    library = bibtexparser.Library()
    for s in studies.sort_values("study_id").to_dict("records"):
        fields = []
        authors = _authors(s.get("authors"))
        if authors:
            fields.append(Field("author", " and ".join(_bib_name(a) for a in authors)))
        for key, column in (("title", "title"), ("journal", "journal"), ("year", "year"), ("doi", "doi"), ("url", "source_url")):
            value = _clean(s.get(column))
            if value is not None:
                fields.append(Field(key, _verbatim(value) if key in ("doi", "url") else _latex(str(value))))
        if _clean(s.get("pmid")) is not None:
            fields.append(Field("pmid", _latex(str(s["pmid"]))))
        fields.append(Field("note", _latex(f"design: {s['design']}; trial group: {s['trial_group']}")))
        library.add(Entry(_BIB_TYPES.get(s["design"], "article"), s["study_id"], fields))
    return bibtexparser.write_string(library)


def studies_ris(studies: pd.DataFrame) -> str:
    """RIS records for the studies (journal articles), readable by Zotero, EndNote and Mendeley.

    Parameters
    ----------
    studies : pandas.DataFrame

    Returns
    -------
    str
    """
    import rispy

    class _Writer(rispy.RisWriter):
        def set_header(self, count: int) -> str:  # rispy numbers records ("1."); reference managers don't need it
            return ""

    records = []
    for s in studies.sort_values("study_id").to_dict("records"):
        rec = {"type_of_reference": "JOUR", "id": one_line(s["study_id"])}
        if _authors(s.get("authors")):
            rec["authors"] = _authors(s["authors"])
        for key, column in (("primary_title", "title"), ("journal_name", "journal"), ("doi", "doi")):
            if _clean(s.get(column)) is not None and one_line(s[column]):
                rec[key] = one_line(s[column])
        if _clean(s.get("year")) is not None:
            rec["year"] = str(int(s["year"]))
        rec["urls"] = [one_line(s["source_url"]).replace(";", "%3B")]
        notes = [one_line(f"design: {s['design']}; trial group: {s['trial_group']}")]
        if _clean(s.get("pmid")) is not None:
            notes.append(one_line(f"PMID: {s['pmid']}"))
        rec["notes"] = notes
        records.append(rec)
    return rispy.dumps(records, implementation=_Writer)


def spreadsheet_csv(frame: pd.DataFrame) -> str:
    """A table as CSV for spreadsheet users, with formula-like text made inert.

    Following the OWASP guidance on CSV injection, a text cell that begins with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return gets a leading ``'`` so that Excel, LibreOffice and Google
    Sheets show it as text instead of running it. Number columns are written as numbers, and a text
    cell that is just a number (``-1.5``) is left alone: it cannot be a formula. A carriage return
    inside a cell is written as a line feed, so that the cell is quoted and stays one cell.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    str
        CSV text (``\\n`` line ends, floats to 6 significant digits).
    """
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
            is_text = values.notna()
        else:  # an object column may mix text and numbers
            is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
        text = values.where(is_text, "").astype(str)
        risky = is_text & text.str[:1].isin(FORMULA_TRIGGERS) & ~text.str.fullmatch(_PLAIN_NUMBER)
        # The csv module quotes a cell holding "\n" but not one holding only "\r", which then splits the row.
        has_cr = is_text & text.str.contains("\r", regex=False)
        if risky.any() or has_cr.any():
            fixed = text.where(~risky, "'" + text).str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
            safe[column] = values.astype(object).where(~(risky | has_cr), fixed)
    return safe.to_csv(index=False, lineterminator="\n", float_format="%.6g")
