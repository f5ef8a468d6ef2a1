"""Exports for other tools: verdicts as JSON, included studies as BibTeX and RIS.

BibTeX is written by bibtexparser and RIS by rispy rather than by hand-made formatting.
"""

from __future__ import annotations

import json
import math

import pandas as pd

__all__ = ["verdicts_json", "studies_bibtex", "studies_ris"]

_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}"}
_BIB_TYPES = {"systematic_review": "article", "narrative_review": "article"}


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


def _latex(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def _authors(value) -> list[str]:
    if not isinstance(value, str):
        return []
    return [a.strip() for a in value.split(";") if a.strip() and a.strip().lower() != "et al."]


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
            fields.append(Field("author", " and ".join(_latex(a) for a in authors)))
        for key, column in (("title", "title"), ("journal", "journal"), ("year", "year"), ("doi", "doi"), ("url", "source_url")):
            value = _clean(s.get(column))
            if value is not None:
                fields.append(Field(key, str(value) if key in ("doi", "url", "year") else _latex(str(value))))
        if _clean(s.get("pmid")) is not None:
            fields.append(Field("pmid", str(s["pmid"])))
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
        rec = {"type_of_reference": "JOUR", "id": s["study_id"]}
        if _authors(s.get("authors")):
            rec["authors"] = _authors(s["authors"])
        for key, column in (("primary_title", "title"), ("journal_name", "journal"), ("doi", "doi")):
            if _clean(s.get(column)) is not None:
                rec[key] = str(s[column])
        if _clean(s.get("year")) is not None:
            rec["year"] = str(int(s["year"]))
        rec["urls"] = [s["source_url"]]
        notes = [f"design: {s['design']}; trial group: {s['trial_group']}"]
        if _clean(s.get("pmid")) is not None:
            notes.append(f"PMID: {s['pmid']}")
        rec["notes"] = notes
        records.append(rec)
    return rispy.dumps(records, implementation=_Writer)
