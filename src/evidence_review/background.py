"""Authoritative evidence about the condition itself: guidelines, societies' statements, registries, surveys.

An optional input (``data/background_evidence.csv``). Each row is one statement of one source about
one outcome domain, with the same provenance rules as a study: the page read (``source_url``), the
statement in the curator's own words, numbers only as printed. Rows bear only on ``background``
claims (claims about the condition, not about the intervention); see ``docs/methods.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .claims import slug_column, vocabulary_column
from .tables import read_table, validate_table
from .vocab import DIRECTIONS

__all__ = ["SOURCE_TYPES", "STATEMENT_TYPES", "BACKGROUND_COLUMNS", "background_schema", "load_background", "empty_background"]

#: Kinds of authoritative source a background row may come from.
SOURCE_TYPES = ("guideline", "society_statement", "registry", "survey", "consensus_statement")
#: Sources that state a synthesis of the evidence (rather than report one data set).
STATEMENT_TYPES = ("guideline", "society_statement", "consensus_statement")
BACKGROUND_COLUMNS = (
    "evidence_id", "source_type", "organisation", "authors", "year", "title", "doi", "pmid", "source_url",
    "population", "condition", "outcome_domain", "statement", "direction", "measure", "value", "ci_low",
    "ci_high", "n", "notes",
)
_DOI = r"^10\.\d{4,9}/\S+$"
_PMID = r"^[1-9]\d{0,8}$"
_URL = r"^https?://\S+$"


def _one_of(values, name: str) -> pa.Check:
    return pa.Check.isin(values, error=f"unknown {name}; use one of {', '.join(values)}")


def _text(max_len: int, nullable: bool = True) -> pa.Column:
    return pa.Column(str, pa.Check.str_length(0, max_len, error=f"text longer than {max_len} characters"), nullable=nullable)


def _not_above(low: str, high: str):
    def check(df: pd.DataFrame) -> pd.Series:
        lo, hi = pd.to_numeric(df[low], errors="coerce"), pd.to_numeric(df[high], errors="coerce")
        return lo.isna() | hi.isna() | (lo <= hi)

    return check


def background_schema(domains: set[str], conditions=None, conditions_source: str = "the conditions file") -> pa.DataFrameSchema:
    """Schema of ``background_evidence.csv`` for a given outcome-domain and condition vocabulary.

    Parameters
    ----------
    domains : set of str
        Allowed ``outcome_domain`` codes (one per row).
    conditions : collection of str, optional
        Allowed ``condition`` codes (the review's conditions file); None checks only that the cell is filled in.
    conditions_source : str
        The conditions file, named in the message.

    Returns
    -------
    pandera.pandas.DataFrameSchema
    """
    num = pa.Column("float64", nullable=True)
    return pa.DataFrameSchema(
        {
            "evidence_id": slug_column("evidence_id", "nice2022-spasticity", unique=True),
            "source_type": pa.Column(str, _one_of(SOURCE_TYPES, "source_type")),
            "organisation": _text(300),
            "authors": _text(500),
            "year": pa.Column("Int64", pa.Check.in_range(1900, pd.Timestamp.today().year, error="year must be a 4-digit year, not in the future"), nullable=True),
            "title": _text(500),
            "doi": pa.Column(str, pa.Check.str_matches(_DOI, error="not a DOI (expected 10.NNNN/suffix, no https://doi.org/)"), nullable=True),
            "pmid": pa.Column(str, pa.Check.str_matches(_PMID, error="not a PMID (expected up to 9 digits)"), nullable=True),
            "source_url": pa.Column(str, pa.Check.str_matches(_URL, error="source_url must be the http(s) address of the page read")),
            "population": _text(300, nullable=False),
            "condition": vocabulary_column(conditions, "condition", conditions_source),
            "outcome_domain": pa.Column(str, pa.Check.isin(sorted(domains), error="unknown outcome domain code (one code per row); see data/outcome_domains.csv")),
            "statement": pa.Column(str, pa.Check.str_length(10, 600, error="statement must be 10-600 characters, in your own words")),
            "direction": pa.Column(str, _one_of(DIRECTIONS, "direction")),
            "measure": _text(300),
            "value": num,
            "ci_low": num,
            "ci_high": num,
            "n": pa.Column("Int64", pa.Check.gt(0, error="n must be positive"), nullable=True),
            "notes": _text(1000),
        },
        checks=[
            pa.Check(_not_above("ci_low", "ci_high"), error="ci_low/ci_high: ci_low is above ci_high"),
            pa.Check(lambda df: df["value"].isna() | df["measure"].notna(), error="measure/value: a value needs the measure it belongs to"),
        ],
        strict=True,
        coerce=True,
        name="background_evidence",
    )


def empty_background() -> pd.DataFrame:
    """A background-evidence table with the validated columns and no rows (no such file given).

    Returns
    -------
    pandas.DataFrame
    """
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in BACKGROUND_COLUMNS})
    return frame.astype({"year": "Int64", "value": "float64", "ci_low": "float64", "ci_high": "float64", "n": "Int64"})


def load_background(path: str | Path, domains: set[str], conditions=None,
                    conditions_source: str = "the conditions file") -> pd.DataFrame:
    """Load and validate ``background_evidence.csv``.

    Parameters
    ----------
    path : str or Path
        The file.
    domains : set of str
        Allowed outcome-domain codes.
    conditions : collection of str, optional
        Allowed condition codes (see :func:`background_schema`).
    conditions_source : str
        The conditions file, named in the message.

    Returns
    -------
    pandas.DataFrame
        The validated rows, in file order.

    Raises
    ------
    InputError
        Naming the file, spreadsheet row and column of every problem at once.
    """
    schema = background_schema(set(domains), conditions, conditions_source)
    return validate_table(read_table(path), schema, str(path)).reset_index(drop=True)
