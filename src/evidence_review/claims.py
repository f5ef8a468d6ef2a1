"""The article's claims table and the vocabularies of a review: outcome domains (which link claims to
evidence), conditions and interventions (which make the topic data, not code)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .tables import InputError, Problem, read_table, shown, spreadsheet_row, validate_table
from .vocab import CLAIM_TYPES, EXPECTED_DIRECTIONS, WORDING_STRENGTHS

__all__ = [
    "MAX_ID_LENGTH",
    "slug_column",
    "DOMAINS_SCHEMA",
    "CONDITIONS_SCHEMA",
    "INTERVENTIONS_SCHEMA",
    "NO_INTERVENTION",
    "vocabulary_schema",
    "vocabulary_column",
    "load_conditions",
    "load_interventions",
    "claims_schema",
    "load_outcome_domains",
    "conflicting_labels",
    "load_claims",
    "split_codes",
    "explode_domains",
]

SLUG = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
#: Marks an outcome domain that is only a proxy for what the claim names, e.g. ``headache;~pain``.
PROXY_MARK = "~"
BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
#: "A dozen words at most" of the article's own wording.
MAX_KEY_PHRASE_WORDS = 12
MAX_TEXT = 400
#: Ids become file names (``claims/<claim_id>.html``) and labels: long enough for any readable slug,
#: far below the 255-byte file-name limit of common file systems.
MAX_ID_LENGTH = 80


def slug_column(name: str, example: str, nullable: bool = False, unique: bool = False) -> pa.Column:
    """A column of ids: lower-case slugs of at most :data:`MAX_ID_LENGTH` characters.

    Parameters
    ----------
    name : str
        The column, for the message.
    example : str
        A valid id shown in the message.
    nullable, unique : bool
        As for :class:`pandera.pandas.Column`.

    Returns
    -------
    pandera.pandas.Column
    """
    return pa.Column(
        str,
        [
            pa.Check.str_length(1, MAX_ID_LENGTH, error=f"{name} must be at most {MAX_ID_LENGTH} characters"),
            pa.Check.str_matches(SLUG, error=f"{name} must be a lower-case slug such as '{example}'"),
        ],
        nullable=nullable,
        unique=unique,
    )


def vocabulary_schema(name: str, reserved: tuple[str, ...] = ()) -> pa.DataFrameSchema:
    """The schema every vocabulary file shares: ``code`` (unique lower_snake_case), ``label``, ``description``.

    Parameters
    ----------
    name : str
        The vocabulary, e.g. ``outcome_domains``.
    reserved : tuple of str
        Codes the toolkit defines itself, which the file may not list again (``no_intervention``).

    Returns
    -------
    pandera.pandas.DataFrameSchema
    """
    code_checks = [
        pa.Check.str_length(1, MAX_ID_LENGTH, error=f"code must be at most {MAX_ID_LENGTH} characters"),
        pa.Check.str_matches(r"^[a-z][a-z0-9_]*$", error="code must be lower_snake_case"),
    ]
    if reserved:
        code_checks.append(pa.Check(lambda codes: ~codes.isin(reserved),
                                    error=f"code {', '.join(reserved)} is built in; remove this row"))
    return pa.DataFrameSchema(
        {
            "code": pa.Column(str, code_checks, unique=True),
            "label": pa.Column(str, pa.Check.str_length(1, 80, error="label must be 1-80 characters")),
            "description": pa.Column(str, nullable=True, required=False),
        },
        strict=True,
        coerce=True,
        name=name,
    )


def vocabulary_column(codes, name: str, source: str) -> pa.Column:
    """A column whose values are the codes of a vocabulary file.

    Parameters
    ----------
    codes : collection of str or None
        The valid codes; None when the vocabulary file itself is invalid (its errors are reported
        on their own, and the column is then only checked for being filled in).
    name : str
        The column, for the message.
    source : str
        The vocabulary file, named in the message.

    Returns
    -------
    pandera.pandas.Column
    """
    if codes is None:
        return pa.Column(str)
    codes = list(codes)
    return pa.Column(str, pa.Check.isin(codes, error=f"unknown {name}; use one of {', '.join(codes)} (the codes of {source})"))


DOMAINS_SCHEMA = vocabulary_schema("outcome_domains")
#: The code of observational studies of the condition itself: built in, because the engine links
#: background claims to these studies whatever the topic.
NO_INTERVENTION = "no_intervention"
CONDITIONS_SCHEMA = vocabulary_schema("conditions")
INTERVENTIONS_SCHEMA = vocabulary_schema("interventions", reserved=(NO_INTERVENTION,))


def load_outcome_domains(path: str | Path) -> pd.DataFrame:
    """Load the outcome-domain vocabulary.

    Parameters
    ----------
    path : str or Path
        CSV with columns ``code``, ``label`` and optionally ``description``.

    Returns
    -------
    pandas.DataFrame
        The validated vocabulary.

    Raises
    ------
    InputError
        On a missing file, duplicate code or malformed code.
    """
    return validate_table(read_table(path), DOMAINS_SCHEMA, str(path))


def load_conditions(path: str | Path) -> pd.DataFrame:
    """Load the condition vocabulary (the codes of ``studies.csv``'s ``condition``).

    Parameters
    ----------
    path : str or Path
        CSV with columns ``code``, ``label`` and optionally ``description``.

    Returns
    -------
    pandas.DataFrame
        The validated vocabulary.

    Raises
    ------
    InputError
        On a missing file, a duplicate, empty or malformed code, or an empty label.
    """
    return validate_table(read_table(path), CONDITIONS_SCHEMA, str(path))


def load_interventions(path: str | Path) -> pd.DataFrame:
    """Load the intervention vocabulary (the codes of ``studies.csv``'s ``intervention``).

    :data:`NO_INTERVENTION` (observational studies of the condition itself) is built in and added
    to every vocabulary; the file may not list it.

    Parameters
    ----------
    path : str or Path
        CSV with columns ``code``, ``label`` and optionally ``description``.

    Returns
    -------
    pandas.DataFrame
        The validated vocabulary.

    Raises
    ------
    InputError
        On a missing file, a duplicate, empty, malformed or built-in code, or an empty label.
    """
    return validate_table(read_table(path), INTERVENTIONS_SCHEMA, str(path))


def conflicting_labels(vocabularies: dict) -> list[InputError]:
    """Codes that two vocabulary files label differently.

    The pages label a code wherever it appears from one table of every vocabulary's labels (a
    cell does not say which vocabulary its code comes from), so a code must mean one thing in all of
    them: the same code in two files needs the same label.

    Parameters
    ----------
    vocabularies : dict
        File name as messages show it -> its validated vocabulary (``code``, ``label``), first the
        one whose labels win; a later file's row is the one reported, naming the earlier file.

    Returns
    -------
    list of InputError
        One per file with a conflicting code, each conflict at its spreadsheet row, column ``code``.
    """
    first: dict = {}
    errors = []
    for source, frame in vocabularies.items():
        problems = []
        for index, code, label in zip(frame.index, frame["code"], frame["label"]):
            if code in first and first[code][2] != label:
                where, row, earlier = first[code]
                problems.append(Problem(
                    f"code '{shown(code)}' is also in {where} (row {row}) with the label '{shown(earlier)}'; a code "
                    f"means one thing in every vocabulary file: give it the same label in both or use another code",
                    spreadsheet_row(index), "code"))
            first.setdefault(code, (source, spreadsheet_row(index), label))
        if problems:
            errors.append(InputError(source, problems))
    return errors


def _domain_entries(value: object) -> list[tuple[str, bool]]:
    """Parse a ``;``-separated domains cell into ``(code, is_proxy)`` pairs, dropping blanks."""
    if not isinstance(value, str):
        return []
    entries = []
    for raw in value.split(";"):
        raw = raw.strip()
        code = raw.lstrip(PROXY_MARK).strip()
        if code:
            entries.append((code, raw.startswith(PROXY_MARK)))
    return entries


def split_codes(value: object) -> list[str]:
    """Split a ``;``-separated list of codes, dropping blanks.

    Parameters
    ----------
    value : object
        A cell such as ``"pain; ~fatigue"`` or a missing value.

    Returns
    -------
    list of str
        The codes, stripped of spaces and of the proxy mark ``~``, in order.
    """
    return [code for code, _ in _domain_entries(value)]


def _codes_known(domains: set[str]):
    def check(series: pd.Series) -> pd.Series:
        return series.map(lambda v: all(c in domains for c in split_codes(v)))

    return check


def _max_words(n: int):
    return lambda s: s.map(lambda v: len(str(v).split()) <= n)


def claims_schema(domains: set[str]) -> pa.DataFrameSchema:
    """Build the claims-table schema for a given outcome-domain vocabulary.

    Parameters
    ----------
    domains : set of str
        The allowed outcome-domain codes.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        Schema for ``claims.csv``.
    """
    bool_check = pa.Check(lambda s: s.str.lower().isin(list(BOOL_WORDS)), error="expected true or false")
    return pa.DataFrameSchema(
        {
            "claim_id": slug_column("claim_id", "pain-relief", unique=True),
            "order": pa.Column("Int64", pa.Check.gt(0, error="order must be a positive number"), unique=True),
            "section": pa.Column(str, pa.Check.str_length(1, 120, error="section must be 1-120 characters")),
            "claim": pa.Column(str, pa.Check.str_length(10, MAX_TEXT, error=f"claim must be 10-{MAX_TEXT} characters")),
            "key_phrase": pa.Column(
                str,
                [
                    pa.Check(_max_words(MAX_KEY_PHRASE_WORDS), element_wise=False,
                             error=f"key_phrase must be at most {MAX_KEY_PHRASE_WORDS} words of the article"),
                ],
                nullable=True,
            ),
            "claim_type": pa.Column(str, pa.Check.isin(CLAIM_TYPES, error=f"unknown claim_type; use one of {', '.join(CLAIM_TYPES)}")),
            "outcome_domains": pa.Column(
                str,
                pa.Check(_codes_known(domains), element_wise=False,
                         error="unknown outcome domain code; see data/outcome_domains.csv"),
                nullable=True,
            ),
            "expected_direction": pa.Column(
                str,
                pa.Check.isin(EXPECTED_DIRECTIONS, error=f"unknown expected_direction; use one of {', '.join(EXPECTED_DIRECTIONS)}"),
            ),
            "wording_strength": pa.Column(
                str, pa.Check.isin(WORDING_STRENGTHS, error=f"unknown wording_strength; use one of {', '.join(WORDING_STRENGTHS)}")
            ),
            "wording_reason": pa.Column(str, pa.Check.str_length(1, MAX_TEXT, error=f"wording_reason must be 1-{MAX_TEXT} characters")),
            "testable": pa.Column(str, bool_check),
            # Optional: the claim is about how large an effect is ("tremendously", "dramatically", "cures").
            "claim_of_size": pa.Column(str, bool_check, nullable=True, required=False),
            "notes": pa.Column(str, pa.Check.str_length(0, 1000, error="notes must be at most 1000 characters"), nullable=True, required=False),
        },
        strict=True,
        coerce=True,
        name="claims",
    )


def _cross_checks(claims: pd.DataFrame) -> list[Problem]:
    problems = []
    for idx, row in claims.iterrows():
        if row["testable"] and not split_codes(row["outcome_domains"]):
            problems.append(Problem("a testable claim needs at least one outcome domain", spreadsheet_row(idx), "outcome_domains"))
        if row["claim_type"] == "advice" and row["testable"]:
            problems.append(Problem("advice is not testable; set testable to false", spreadsheet_row(idx), "testable"))
    return problems


def load_claims(path: str | Path, domains: set[str] | pd.DataFrame) -> pd.DataFrame:
    """Load and validate the claims table.

    Parameters
    ----------
    path : str or Path
        ``claims.csv``.
    domains : set of str or pandas.DataFrame
        The outcome-domain vocabulary (codes, or the table from :func:`load_outcome_domains`).

    Returns
    -------
    pandas.DataFrame
        Claims sorted by ``order``, ``testable`` and ``claim_of_size`` (default false) as bool and
        ``outcome_domains`` kept as text.

    Raises
    ------
    InputError
        Listing every bad row and column at once.
    """
    codes = set(domains["code"]) if isinstance(domains, pd.DataFrame) else set(domains)
    frame = read_table(path)
    claims = validate_table(frame, claims_schema(codes), str(path))
    claims["testable"] = claims["testable"].str.lower().map(BOOL_WORDS).astype(bool)
    size = claims["claim_of_size"] if "claim_of_size" in claims else pd.Series(pd.NA, index=claims.index, dtype=object)
    claims["claim_of_size"] = size.str.lower().map(BOOL_WORDS).fillna(False).astype(bool)
    problems = _cross_checks(claims)
    if problems:
        raise InputError(str(path), problems)
    if "notes" not in claims:
        claims["notes"] = pd.NA
    return claims.sort_values("order", kind="stable").reset_index(drop=True)


def explode_domains(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per claim and outcome domain, flagging proxy domains (marked ``~`` in the claims file).

    Parameters
    ----------
    claims : pandas.DataFrame
        Output of :func:`load_claims`.

    Returns
    -------
    pandas.DataFrame
        Columns ``claim_id``, ``outcome_domain`` and ``proxy_outcome`` (True where the domain
        only stands in for the outcome the claim names).
    """
    rows = [
        {"claim_id": cid, "outcome_domain": code, "proxy_outcome": proxy}
        for cid, value in zip(claims["claim_id"], claims["outcome_domains"])
        for code, proxy in _domain_entries(value)
    ]
    return pd.DataFrame(rows, columns=["claim_id", "outcome_domain", "proxy_outcome"])
