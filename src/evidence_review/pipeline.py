"""What every notebook does first: check its parameters, load the data, apply inclusion filters.

A notebook's ``parameters`` cell holds plain values (papermill injects overrides after it); the
first cell after it calls :func:`prepare_review`, which validates everything and stops the run
with one message listing every problem and the valid values.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from .engine import Synthesis, synthesise
from .paths import DEFAULT_PATHS, resolve_path
from .studies import Evidence, load_evidence
from .tables import InputError, Problem
from .vocab import DESIGNS

__all__ = [
    "PARAMETER_NAMES",
    "ReviewParameters",
    "validate_parameters",
    "apply_filters",
    "Review",
    "prepare_review",
    "start_notebook",
]

#: Every parameter a notebook or parameters YAML may set, with its default.
PARAMETER_DEFAULTS = {
    **DEFAULT_PATHS,
    "designs": None,
    "min_year": None,
    "min_n": None,
    "pooling_method": "dl",
    "claim_id": None,
    "title": "Massage for multiple sclerosis",
}
PARAMETER_NAMES = tuple(PARAMETER_DEFAULTS)
POOLING_METHODS = ("dl", "pm")
_INPUTS = ("claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path")


@dataclass(frozen=True)
class ReviewParameters:
    """Validated run parameters (paths absolute)."""

    claims_path: Path
    studies_path: Path
    outcomes_path: Path
    reviews_path: Path
    domains_path: Path
    output_dir: Path
    scorecard_path: Path | None = None
    background_path: Path | None = None
    designs: tuple[str, ...] = DESIGNS
    min_year: int | None = None
    min_n: int | None = None
    pooling_method: str = "dl"
    claim_id: str | None = None
    title: str = "Evidence review"


def _background_file(value) -> Path | None:
    """The background-evidence file to read: ``None`` for null, and for the default file when it is absent."""
    if value is None or not resolve_path(value).is_file():
        return None
    return resolve_path(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_parameters(source: str = "parameters", **params) -> ReviewParameters:
    """Check run parameters, reporting every problem at once with the valid values.

    Parameters
    ----------
    source : str
        Where the parameters came from (a YAML file or ``"notebook parameters"``), for the message.
    **params
        Any of :data:`PARAMETER_NAMES`; missing ones take their defaults.

    Returns
    -------
    ReviewParameters

    Raises
    ------
    InputError
        On an unknown parameter name, a missing data file, an unknown design, a year in the future
        or out of range, a negative minimum sample size or an unknown pooling method.
    """
    problems: list[Problem] = []
    for key in params:
        if key not in PARAMETER_DEFAULTS:
            close = [n for n in PARAMETER_NAMES if n[:4] == key[:4]]
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(Problem(f"unknown parameter{hint}; valid parameters: {', '.join(PARAMETER_NAMES)}", column=key))
    values = {**PARAMETER_DEFAULTS, **{k: v for k, v in params.items() if k in PARAMETER_DEFAULTS}}
    for key in _INPUTS:
        if values[key] is None or not resolve_path(values[key]).is_file():
            problems.append(Problem(f"data file not found: {values[key]}", column=key))
    if values["scorecard_path"] is not None and not resolve_path(values["scorecard_path"]).is_file():
        problems.append(Problem(f"scorecard file not found: {values['scorecard_path']} (use null for none)", column="scorecard_path"))
    background = values["background_path"]
    if background is not None and not resolve_path(background).is_file() and resolve_path(background) != resolve_path(DEFAULT_PATHS["background_path"]):
        problems.append(Problem(f"background evidence file not found: {background} (use null for none)", column="background_path"))
    if not isinstance(values["title"], str) or not values["title"].strip():
        problems.append(Problem("title must be a non-empty text", column="title"))
    designs = values["designs"]
    if designs is None:
        designs = DESIGNS
    elif isinstance(designs, str):
        designs = [d.strip() for d in designs.split(",") if d.strip()]
    unknown = [d for d in designs if d not in DESIGNS]
    if unknown or not designs:
        problems.append(Problem(f"unknown design(s) {unknown or '(none given)'}; valid designs: {', '.join(DESIGNS)}", column="designs"))
    this_year = _dt.date.today().year
    if values["min_year"] is not None and not (_is_int(values["min_year"]) and 1900 <= values["min_year"] <= this_year):
        problems.append(Problem(f"min_year must be a whole year between 1900 and {this_year}, got {values['min_year']!r}", column="min_year"))
    if values["min_n"] is not None and not (_is_int(values["min_n"]) and values["min_n"] >= 0):
        problems.append(Problem(f"min_n must be a whole number >= 0, got {values['min_n']!r}", column="min_n"))
    if values["pooling_method"] not in POOLING_METHODS:
        problems.append(Problem(f"unknown pooling_method {values['pooling_method']!r}; valid: {', '.join(POOLING_METHODS)}", column="pooling_method"))
    if values["output_dir"] in (None, ""):
        problems.append(Problem("output_dir must be a folder path", column="output_dir"))
    if problems:
        raise InputError(source, problems)
    return ReviewParameters(
        **{k: resolve_path(values[k]) for k in (*_INPUTS, "output_dir")},
        designs=tuple(designs),
        min_year=values["min_year"],
        min_n=values["min_n"],
        pooling_method=values["pooling_method"],
        claim_id=values["claim_id"],
        scorecard_path=resolve_path(values["scorecard_path"]) if values["scorecard_path"] is not None else None,
        background_path=_background_file(background),
        title=values["title"],
    )


def apply_filters(evidence: Evidence, designs=DESIGNS, min_year: int | None = None, min_n: int | None = None) -> Evidence:
    """Keep the studies that meet the inclusion filters, and their outcomes and review results.

    Studies whose year (or sample size) was not reported are excluded when a minimum year (or
    minimum N) is set, because they cannot be shown to meet it.

    Parameters
    ----------
    evidence : Evidence
    designs : sequence of str
        Designs to include.
    min_year : int, optional
        Earliest publication year.
    min_n : int, optional
        Minimum number randomised (or analysed when randomised is not reported).

    Returns
    -------
    Evidence
        A filtered copy; the inputs are not modified.
    """
    s = evidence.studies
    keep = s["design"].isin(list(designs))
    if min_year is not None:
        keep &= s["year"].fillna(0) >= min_year
    if min_n is not None:
        keep &= s["n_randomised"].fillna(s["n_analysed"]).fillna(0) >= min_n
    studies = s.loc[keep].reset_index(drop=True)
    ids = set(studies["study_id"])
    return replace(
        evidence,
        studies=studies,
        outcomes=evidence.outcomes.loc[evidence.outcomes["study_id"].isin(ids)].reset_index(drop=True),
        reviews=evidence.reviews.loc[evidence.reviews["review_id"].isin(ids)].reset_index(drop=True),
    )


@dataclass
class Review:
    """One review run: validated parameters, filtered evidence, and (on first use) the synthesis."""

    params: ReviewParameters
    evidence: Evidence
    excluded_studies: int = 0
    scorecard: pd.DataFrame | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @cached_property
    def synthesis(self) -> Synthesis:
        """The engine's output (see :func:`evidence_review.engine.synthesise`)."""
        ev = self.evidence
        return synthesise(ev.claims, ev.outcomes, ev.studies, method=self.params.pooling_method, reviews=ev.reviews,
                          background=ev.background)

    @property
    def claim(self) -> pd.Series:
        """The claim chosen by ``claim_id`` (claim_report)."""
        claims = self.evidence.claims
        return claims.loc[claims["claim_id"] == self.params.claim_id].iloc[0]


def prepare_review(source: str = "notebook parameters", require_claim: bool = False, **params) -> Review:
    """Validate parameters, load and cross-check the data, apply the inclusion filters.

    Parameters
    ----------
    source : str
        Where the parameters came from, for error messages.
    require_claim : bool
        True for the per-claim report: ``claim_id`` must name a claim in the claims file.
    **params
        Notebook parameters (see :data:`PARAMETER_NAMES`).

    Returns
    -------
    Review

    Raises
    ------
    InputError
        Listing every problem in the parameters or the data files.
    """
    p = validate_parameters(source, **params)
    evidence = load_evidence(p.claims_path, p.studies_path, p.outcomes_path, p.reviews_path, p.domains_path, p.background_path)
    if require_claim:
        valid = evidence.claims["claim_id"].tolist()
        if p.claim_id not in valid:
            raise InputError(source, [Problem(f"unknown claim_id {p.claim_id!r}; valid claim_ids: {', '.join(valid)}", column="claim_id")])
    scorecard = None
    if p.scorecard_path is not None:
        from .scorecard import load_scorecard

        scorecard = load_scorecard(p.scorecard_path)
    filtered = apply_filters(evidence, p.designs, p.min_year, p.min_n)
    return Review(p, filtered, excluded_studies=len(evidence.studies) - len(filtered.studies), scorecard=scorecard)


def start_notebook(namespace: dict, require_claim: bool = False) -> Review:
    """First call of every notebook: stable display settings, then :func:`prepare_review`.

    Parameters
    ----------
    namespace : dict
        The notebook's ``globals()``; the values of :data:`PARAMETER_NAMES` found there are used.
    require_claim : bool
        True for the per-claim report.

    Returns
    -------
    Review
    """
    from .report import setup_display

    setup_display()
    params = {k: namespace[k] for k in PARAMETER_NAMES if k in namespace}
    return prepare_review("notebook parameters", require_claim=require_claim, **params)
