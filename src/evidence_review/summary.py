"""The one-page summary a patient or clinician can read in two minutes."""

from __future__ import annotations

import base64
import io

import pandas as pd

__all__ = ["plain_sentence", "figure_png_base64"]

_CERTAINTY_WORDS = {
    "high": "we can be confident in this",
    "moderate": "this is probably right",
    "low": "this may change with better studies",
    "very_low": "this is very uncertain",
}


def plain_sentence(row: pd.Series, population_label: str) -> str:
    """One plain-language sentence for a claim's verdict.

    Parameters
    ----------
    row : pandas.Series
        A row of the verdicts table (``verdict``, ``certainty``, ``basis_trials_agreeing``,
        ``basis_trials_disagreeing``, ``trials``), optionally with the claim's ``claim_type`` and
        ``excluded_studies``: studies bearing on the claim that the inclusion filters excluded.
    population_label : str
        How the sentence names the population under review (the ``population_label`` parameter).

    Returns
    -------
    str
    """
    excluded = int(row.get("excluded_studies", 0) or 0)
    if row["verdict"] == "no_evidence" and excluded:
        from .sof import excluded_sentence

        return excluded_sentence(excluded)
    agree, disagree = int(row["basis_trials_agreeing"]), int(row["basis_trials_disagreeing"])
    total = agree + disagree
    sure = _CERTAINTY_WORDS.get(row["certainty"], "")
    who = f"Studies of {population_label}" if row.get("claim_type") == "background" else f"Controlled studies in {population_label}"
    n = int(row["trials"])
    studies = f"{n} study" if n == 1 else f"{n} studies"
    settle = "not able" if n == 1 else "none of them able"
    text = {
        "supported": f"{who} mostly back this ({agree} of {total}), but {sure}.",
        "mixed": f"{who} disagree ({agree} of {total} back it); {sure}.",
        "not_supported": f"{who} do not back this ({agree} of {total}); {sure}.",
        "insufficient": f"Too little good evidence to say: {studies}, {settle} to settle it.",
        "no_evidence": "No study we found has looked at this.",
        "not_testable": "This is advice or opinion; studies cannot confirm or refute it.",
    }[row["verdict"]]
    return text[0].upper() + text[1:]


def figure_png_base64(fig, dpi: int = 96) -> str:
    """Encode a matplotlib figure as base64 PNG for embedding in HTML.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int
        Pixels per inch; at 96 the charts' smallest text (8.5 pt) is 11 px on screen.

    Returns
    -------
    str
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")
