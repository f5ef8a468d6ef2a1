"""The article rated against the HealthNewsReview.org criteria, kept as data (``data/scorecard.csv``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .claims import SLUG
from .tables import read_table, validate_table

__all__ = ["RATINGS", "SCORECARD_SCHEMA", "load_scorecard", "scorecard_summary"]

RATINGS = ("satisfactory", "not_satisfactory", "not_applicable")

SCORECARD_SCHEMA = pa.DataFrameSchema(
    {
        "criterion_id": pa.Column(str, pa.Check.str_matches(SLUG, error="criterion_id must be a lower-case slug"), unique=True),
        "criterion": pa.Column(str, pa.Check.str_length(5, 300, error="criterion must be 5-300 characters")),
        "rating": pa.Column(str, pa.Check.isin(RATINGS, error=f"unknown rating; use one of {', '.join(RATINGS)}")),
        "reason": pa.Column(str, pa.Check.str_length(5, 500, error="reason must be 5-500 characters")),
    },
    strict=True,
    coerce=True,
    name="scorecard",
)


def load_scorecard(path: str | Path) -> pd.DataFrame:
    """Load and validate an article scorecard.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    evidence_review.tables.InputError
    """
    return validate_table(read_table(path), SCORECARD_SCHEMA, str(path))


def scorecard_summary(scorecard: pd.DataFrame) -> str:
    """One line such as "3 of 8 applicable criteria satisfactory".

    Parameters
    ----------
    scorecard : pandas.DataFrame

    Returns
    -------
    str
    """
    applicable = scorecard.loc[scorecard["rating"] != "not_applicable"]
    ok = int((applicable["rating"] == "satisfactory").sum())
    return f"{ok} of {len(applicable)} applicable criteria satisfactory"
