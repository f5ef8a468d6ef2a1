"""Tables for people: labels instead of codes, numbers as journals print them, no empty-cell markers.

Every function here is pure: it takes a review table and returns text or a new table. The HTML a
notebook shows comes from :class:`PeopleTable`, which renders through pandas' Styler with every
cell escaped, no row index, and a box that scrolls sideways when the table is wider than the page.
"""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd

from .linking import study_label

__all__ = [
    "CODE_LABELS",
    "COLUMN_LABELS",
    "author_year",
    "label_code",
    "label_codes",
    "column_label",
    "format_p",
    "format_number",
    "format_estimate",
    "cell_text",
    "for_people",
    "PeopleTable",
    "people_table",
    "TABLE_MAX_ROWS",
    "TruncatedTable",
    "long_table",
]

#: Codes of the controlled vocabularies as a reader should see them.
CODE_LABELS = {
    # verdicts and certainty
    "supported": "Supported",
    "mixed": "Mixed",
    "not_supported": "Not supported",
    "insufficient": "Insufficient evidence",
    "no_evidence": "No evidence",
    "not_testable": "Not testable",
    "high": "High",
    "moderate": "Moderate",
    "low": "Low",
    "very_low": "Very low",
    # designs
    "systematic_review": "Systematic review",
    "rct": "Randomised trial",
    "crossover_rct": "Randomised crossover trial",
    "non_randomised_controlled": "Non-randomised controlled study",
    "pre_post": "Before-after study",
    "cohort": "Cohort study",
    "cross_sectional": "Cross-sectional survey",
    "case_series": "Case report or series",
    "narrative_review": "Narrative review",
    # directions and judgements
    "benefit": "Favours the intervention",
    "no_difference": "No difference",
    "harm": "Worse with the intervention",
    "unclear": "Unclear",
    "some_concerns": "Some concerns",
    "not_assessed": "Not assessed",
    "direct": "Direct",
    "indirect": "Indirect",
    "between_group": "Between groups",
    "within_group": "Within group",
    # comparators and the built-in intervention code (the review's own interventions and conditions are data)
    "usual_care": "Usual care",
    "waitlist": "Waiting list",
    "sham": "Sham",
    "active": "Active control",
    "none": "None",
    "no_intervention": "No intervention (observational)",
    # claim vocabularies
    "definitive": "Definitive",
    "hedged": "Hedged",
    "caveated": "Caveated",
    "background": "Background",
    "mechanism": "Mechanism",
    "safety": "Safety",
    "advice": "Advice",
    "framing": "Framing",
    "satisfactory": "Satisfactory",
    "not_satisfactory": "Not satisfactory",
    "not_applicable": "Not applicable",
}

#: Column headings as a reader should see them; unknown columns fall back to a tidied name.
COLUMN_LABELS = {
    "claim_id": "Claim",
    "claim": "Claim",
    "order": "#",
    "section": "Article section",
    "key_phrase": "Article wording",
    "claim_type": "Type",
    "outcome_domains": "Outcomes",
    "outcome_domain": "Outcome",
    "wording_strength": "Wording",
    "testable": "Testable",
    "study_id": "Study",
    "review_id": "Review",
    "review": "Review",
    "year": "Year",
    "design": "Design",
    "population": "Population",
    "n_randomised": "Randomised (n)",
    "n_analysed": "Analysed (n)",
    "intervention": "Intervention",
    "intervention_detail": "Intervention details",
    "comparator": "Comparator",
    "directness": "Directness",
    "rob_overall": "Risk of bias",
    "rob_tool": "Risk-of-bias tool",
    "country": "Country",
    "trial_group": "Trial",
    "title": "Title",
    "verdict": "Verdict",
    "certainty": "Certainty",
    "trials": "Trials",
    "participants": "Participants",
    "controlled_direct_trials": "Controlled trials in the population",
    "n_benefit": "Results favouring the intervention",
    "n_no_difference": "Results with no difference",
    "n_harm": "Results worse with the intervention",
    "n_unclear": "Results unclear",
    "sign_test_p": "Sign test",
    "verdict_reasons": "Why this verdict",
    "certainty_reasons": "Why this certainty",
    "pooling_note": "Pooling",
    "outcome_id": "Result",
    "direction": "Direction",
    "rationale": "What the study found",
    "indirect_reason": "Why indirect",
    "instrument": "Measure",
    "instrument_or_scope": "Measure or scope",
    "effect_measure": "Measure",
    "estimate": "Estimate",
    "i2": "I²",
    "n_studies": "Studies",
    "conclusion": "Authors' conclusion",
    "criterion": "Criterion",
    "rating": "Rating",
    "reason": "Why",
    "scope": "Scope",
    "published_estimate": "Published estimate",
    "this_review": "This review",
    "why_they_differ": "Why they differ",
    "k_effects": "Trials with effect sizes",
    "hedges_g_95_ci": "Hedges' g (95% CI)",
    "pooled_g_95_ci": "Pooled Hedges' g (95% CI)",
    "named_outcome": "Claims naming it",
    "proxy": "Claims using it as a proxy",
    "measure": "Measure",
    "value": "Value",
    "criterion_id": "ID",
    "analysis": "Analysis",
    "k": "Trials",
}

#: Codes whose label depends on the column (a ``benefit`` claim type is not a ``benefit`` direction).
COLUMN_CODE_LABELS = {
    "claim_type": {"benefit": "Benefit"},
    "comparator": {"none": "No comparator"},
    "rob_tool": {"none": "No tool"},
    "expected_direction": {"benefit": "Benefit", "harm": "Harm", "no_difference": "No difference"},
}

_DOMAIN_SEP = re.compile(r"\s*;\s*")


_NO_DATE = re.compile(r"([a-z]+)nd([a-z]?)")


def author_year(study_id: str) -> str:
    """"Author Year" for a study id (``negahban2013`` -> ``Negahban 2013``, ``zidannd`` -> ``Zidan n.d.``).

    Parameters
    ----------
    study_id : str

    Returns
    -------
    str
    """
    label = study_label(str(study_id))
    if label == study_id:
        m = _NO_DATE.fullmatch(str(study_id))
        if m:
            return f"{m.group(1).capitalize()} n.d.{m.group(2)}"
    return label


def label_code(code, labels: dict | None = None) -> str:
    """The reader's label for one vocabulary code (``crossover_rct`` -> ``Randomised crossover trial``).

    Parameters
    ----------
    code : object
        A code; missing values give an empty string.
    labels : dict, optional
        Extra labels (e.g. outcome domains) tried before :data:`CODE_LABELS`.

    Returns
    -------
    str
    """
    if code is None or (isinstance(code, float) and math.isnan(code)) or code is pd.NA:
        return ""
    text = str(code)
    for table in (labels or {}, CODE_LABELS):
        if text in table:
            return table[text]
    return text


def label_codes(codes, labels: dict | None = None) -> str:
    """Labels for a ``;``-separated list of codes; a leading ``~`` (proxy outcome) becomes "(proxy)".

    Parameters
    ----------
    codes : str
    labels : dict, optional

    Returns
    -------
    str
    """
    if not isinstance(codes, str) or not codes.strip():
        return ""
    out = []
    for code in _DOMAIN_SEP.split(codes.strip()):
        proxy = code.startswith("~")
        label = label_code(code.lstrip("~"), labels)
        out.append(f"{label} (proxy)" if proxy else label)
    return "; ".join(out)


def column_label(column: str) -> str:
    """Heading for a column: its label, or the name with underscores as spaces, capitalised.

    Parameters
    ----------
    column : str

    Returns
    -------
    str
    """
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:  # pragma: no cover - exotic scalars
        return False


def format_p(p) -> str:
    """A p-value as journals print it: ``p < 0.001``, ``p = 0.03``, ``p = 0.12``; empty when missing.

    Two significant figures above 0.001, three decimals at most (AMA style); ``p = 1`` is kept.

    Parameters
    ----------
    p : float

    Returns
    -------
    str
    """
    if _missing(p):
        return ""
    p = float(p)
    if p < 0.001:
        return "p < 0.001"
    if p >= 0.995:
        return "p > 0.99"
    decimals = 2 if p >= 0.01 else 3
    return f"p = {p:.{decimals}f}"


def format_number(x, decimals: int = 2) -> str:
    """A number with fixed decimals and a true minus sign; whole numbers without decimals.

    Parameters
    ----------
    x : float
    decimals : int

    Returns
    -------
    str
    """
    if _missing(x):
        return ""
    x = float(x)
    text = f"{x:.0f}" if decimals == 0 else f"{x:.{decimals}f}"
    return text.replace("-", "\u2212")


def format_estimate(estimate, ci_low=None, ci_high=None, measure: str | None = None, decimals: int = 2) -> str:
    """An estimate with its CI as journals print it: ``SMD 1.62 (95% CI 0.83 to 2.40)``.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
    measure : str, optional
        Name of the measure, put in front (``SMD``, ``MD``, ``RR``).
    decimals : int

    Returns
    -------
    str
        Empty when the estimate is missing; without the CI when either bound is missing.
    """
    if _missing(estimate):
        return ""
    head = f"{measure} " if isinstance(measure, str) and measure.strip() else ""
    text = head + format_number(estimate, decimals)
    if not (_missing(ci_low) or _missing(ci_high)):
        text += f" (95% CI {format_number(ci_low, decimals)} to {format_number(ci_high, decimals)})"
    return text


def cell_text(value, column: str = "", labels: dict | None = None) -> str:
    """What a reader sees in one cell: codes labelled, missing values blank, booleans as Yes/No.

    Parameters
    ----------
    value : object
    column : str
        Column name; ``*_p``/``p_value`` columns print as p-values, ``outcome_domains`` as lists.
    labels : dict, optional
        Extra code labels (outcome domains).

    Returns
    -------
    str
    """
    if _missing(value):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "Yes" if value else "No"
    if column.endswith("_p") or column == "p_value":
        return format_p(value)
    if isinstance(value, float):
        if float(value).is_integer() and column not in ("estimate", "g", "i2"):
            return format_number(value, 0)
        return format_number(value, 0 if column == "i2" else 2) + ("%" if column == "i2" else "")
    if isinstance(value, (list, tuple)):
        return "; ".join(cell_text(v, column, labels) for v in value)
    if column in ("outcome_domains",) or (isinstance(value, str) and ";" in value and " " not in value):
        return label_codes(value, labels)
    if isinstance(value, str) and column in ("study_id", "review_id", "trial_group"):
        return author_year(value)
    if isinstance(value, str):
        return label_code(value, {**(labels or {}), **COLUMN_CODE_LABELS.get(column, {})})
    return str(value)


def for_people(frame: pd.DataFrame, labels: dict | None = None, keep_codes: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of ``frame`` with every cell as reader's text and every heading labelled.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any review table; its index is dropped (reset first when named, so it stays a column).
    labels : dict, optional
        Extra code labels (outcome domains).
    keep_codes : tuple of str
        Columns to show as they are (identifiers a reader may search for).

    Returns
    -------
    pandas.DataFrame
        All cells ``str``, index 0..n-1.
    """
    if frame.index.name is not None or any(n is not None for n in frame.index.names):
        frame = frame.reset_index()
    out = pd.DataFrame(index=range(len(frame)))
    for column in frame.columns:
        values = frame[column].tolist()
        if column in keep_codes:
            out[column_label(column)] = ["" if _missing(v) else str(v) for v in values]
        else:
            out[column_label(column)] = [cell_text(v, str(column), labels) for v in values]
    return out


_NUMERIC = re.compile(r"^[\u2212\-+]?[\d.,]+%?$")


class PeopleTable:
    """A table rendered for readers: escaped, no index, prose left, numbers right, scrolls sideways.

    Parameters
    ----------
    frame : pandas.DataFrame
        Already converted with :func:`for_people` (all cells text).
    caption : str, optional
    """

    def __init__(self, frame: pd.DataFrame, caption: str | None = None):
        self.frame = frame
        self.caption = caption

    def _numeric_columns(self) -> list[str]:
        return [c for c in self.frame.columns
                if len(self.frame) and all(v == "" or _NUMERIC.match(v) for v in self.frame[c])]

    def to_html(self) -> str:
        """HTML of the table inside a horizontally scrolling box."""
        # A stable id from the content: several tables on one page must not share one.
        digest = hashlib.sha1(self.frame.to_csv().encode("utf-8") + str(self.caption).encode("utf-8")).hexdigest()[:10]
        styler = self.frame.style.hide(axis="index").format(escape="html")
        styler = styler.set_table_attributes('class="people-table"')
        styler.set_uuid(digest)
        numeric = self._numeric_columns()
        if self.caption:
            styler = styler.set_caption(self.caption)
        styler = styler.set_table_styles([{"selector": "th", "props": "text-align: left; vertical-align: bottom;"},
                                          {"selector": "td", "props": "text-align: left; vertical-align: top;"}])
        columns = {c: [{"selector": "td", "props": "text-align: right; white-space: nowrap;"}] for c in numeric}
        if columns:
            styler = styler.set_table_styles(columns, overwrite=False)
        return f'<div class="table-scroll" style="overflow-x:auto;max-width:100%">{styler.to_html()}</div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        if self.frame.empty:
            return "(no rows)"
        return self.frame.to_string(index=False)


def people_table(frame: pd.DataFrame, labels: dict | None = None, caption: str | None = None,
                 keep_codes: tuple[str, ...] = ()) -> PeopleTable:
    """Shortcut: :func:`for_people` then :class:`PeopleTable`.

    Parameters
    ----------
    frame : pandas.DataFrame
    labels : dict, optional
    caption : str, optional
    keep_codes : tuple of str

    Returns
    -------
    PeopleTable
    """
    return PeopleTable(for_people(frame, labels, keep_codes), caption)


#: Longest table a notebook shows whole (documented in the README, "Large reviews"); a longer one
#: shows its first rows, how many there are, and which file holds them all.
TABLE_MAX_ROWS = 200


class TruncatedTable(PeopleTable):
    """The first rows of a long table, with a line saying how many rows there are and where all of them are.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows shown, already converted with :func:`for_people`.
    total : int
        Rows of the whole table.
    where : str
        What holds every row (e.g. "evidence_links.csv"), in words.
    href : str, optional
        Link to that file, relative to the page.
    """

    def __init__(self, frame: pd.DataFrame, total: int, where: str, href: str | None = None):
        super().__init__(frame)
        self.total, self.where, self.href = total, where, href

    @property
    def note(self) -> str:
        """The line under the table, as plain text."""
        return f"Showing the first {len(self.frame):,} of {self.total:,} rows. All rows: {self.where}."

    def to_html(self) -> str:
        from html import escape

        where = escape(self.where)
        if self.href:
            where = f'<a href="{escape(self.href, quote=True)}">{where}</a>'
        note = f"Showing the first {len(self.frame):,} of {self.total:,} rows. All rows: {where}."
        return f'{super().to_html()}<p class="table-note">{note}</p>'

    def __repr__(self) -> str:
        return f"{super().__repr__()}\n{self.note}"


def long_table(frame: pd.DataFrame, labels: dict | None = None, keep_codes: tuple[str, ...] = (), where: str = "",
               href: str | None = None, max_rows: int = TABLE_MAX_ROWS) -> PeopleTable:
    """:func:`people_table` for a table that may be long: above ``max_rows`` rows only the first are shown.

    Only the rows shown are converted to reader's text, so a table of a million rows costs no more
    than one of ``max_rows``.

    Parameters
    ----------
    frame : pandas.DataFrame
    labels : dict, optional
    keep_codes : tuple of str
    where : str
        What holds every row, in words (e.g. "evidence_links.csv, one row per claim and result").
    href : str, optional
        Link to it, relative to the page the table is on.
    max_rows : int

    Returns
    -------
    PeopleTable
        The whole table, or a :class:`TruncatedTable`.
    """
    if len(frame) <= max_rows:
        return people_table(frame, labels, keep_codes=keep_codes)
    return TruncatedTable(for_people(frame.iloc[:max_rows], labels, keep_codes), len(frame), where, href)
