"""What every notebook does first: check its parameters, load the data, apply inclusion filters.

A notebook's ``parameters`` cell holds plain values (papermill injects overrides after it); the
first cell after it calls :func:`prepare_review`, which validates everything and stops the run
with one message listing every problem and the valid values.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from .claims import load_conditions, target_condition_problem
from .engine import Synthesis, synthesise
from .paths import DEFAULT_PATHS, resolve_path
from .studies import Evidence, load_evidence
from .tables import InputError, Problem, shown, shown_value
from .vocab import DESIGNS

__all__ = [
    "PARAMETER_NAMES",
    "ReviewParameters",
    "validate_parameters",
    "unknown_notebook_names",
    "check_notebook_names",
    "apply_filters",
    "Review",
    "prepare_review",
    "start_notebook",
    "empty_review_note",
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
    # Who the review is about: a code of the conditions file, and how the pages name that population.
    "target_condition": "ms",
    "population_label": "people with MS",
}
PARAMETER_NAMES = tuple(PARAMETER_DEFAULTS)
POOLING_METHODS = ("dl", "pm")
_INPUTS = ("claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path", "conditions_path",
           "interventions_path")
#: Names IPython puts in every notebook's namespace; never parameters.
_NOTEBOOK_BUILTINS = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open"})
#: The types papermill can inject as parameters (YAML and JSON values).
_PARAMETER_TYPES = (str, int, float, bool, list, dict, tuple, type(None))


@dataclass(frozen=True)
class ReviewParameters:
    """Validated run parameters (paths absolute)."""

    claims_path: Path
    studies_path: Path
    outcomes_path: Path
    reviews_path: Path
    domains_path: Path
    conditions_path: Path
    interventions_path: Path
    output_dir: Path
    target_condition: str
    population_label: str
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


def _unknown_parameter(name, known) -> Problem:
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return Problem(f"unknown parameter{hint}; valid parameters: {', '.join(known)}", column=shown(name))


#: Longest path a parameter may hold (Linux's PATH_MAX); longer text is a slip, not a path.
MAX_PATH_LENGTH = 4096


def _path_type_problem(key: str, value, may_be_none: bool = False) -> Problem | None:
    """A path parameter must be text (or a path object); YAML happily gives numbers, lists or mappings."""
    if value is None and may_be_none:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        what = "a path or null" if may_be_none else "a path"
        return Problem(f"{key} must be {what} written as text, got {type(value).__name__} {shown_value(value)}", column=key)
    if "\0" in value or len(value) > MAX_PATH_LENGTH:
        return Problem(f"{key} is not a usable path (a NUL character or longer than {MAX_PATH_LENGTH} characters): "
                       f"{shown_value(value)}", column=key)
    return None


def _is_file(path) -> bool:
    try:
        return resolve_path(path).is_file()
    except (OSError, ValueError):  # e.g. a name longer than the file system allows
        return False


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
        On an unknown parameter name (with the closest valid one), a path that is not text (a number,
        list or mapping from YAML), a missing data file, an unknown design, a year in the future or
        out of range, a negative minimum sample size, an unknown pooling method or a value of the
        wrong type. Values are quoted briefly (:func:`evidence_review.tables.shown_value`), however large.
    """
    problems: list[Problem] = []
    problems += [_unknown_parameter(key, PARAMETER_NAMES) for key in params if key not in PARAMETER_DEFAULTS]
    values = {**PARAMETER_DEFAULTS, **{k: v for k, v in params.items() if k in PARAMETER_DEFAULTS}}
    for key in (*_INPUTS, "scorecard_path", "output_dir"):
        problem = _path_type_problem(key, values[key], may_be_none=key == "scorecard_path")
        if problem:
            problems.append(problem)
            values[key] = PARAMETER_DEFAULTS[key] if key != "output_dir" else None
    for key in _INPUTS:
        if values[key] is not None and not _is_file(values[key]) and not any(p.column == key for p in problems):
            problems.append(Problem(f"data file not found: {shown(values[key], 200)}", column=key))
    scorecard = values["scorecard_path"]
    if scorecard is not None and not _is_file(scorecard) and not any(p.column == "scorecard_path" for p in problems):
        problems.append(Problem(f"scorecard file not found: {shown(scorecard, 200)} (use null for none)", column="scorecard_path"))
    background = values["background_path"]
    if background is not None and not _is_file(background) and resolve_path(background) != resolve_path(DEFAULT_PATHS["background_path"]):
        problems.append(Problem(f"background evidence file not found: {shown(background, 200)} (use null for none)", column="background_path"))
    for key in ("title", "population_label"):
        if not isinstance(values[key], str) or not values[key].strip():
            problems.append(Problem(f"{key} must be a non-empty text, got {shown_value(values[key])}", column=key))
    conditions_file = values["conditions_path"]
    if not any(p.column == "conditions_path" for p in problems):
        try:
            conditions = load_conditions(resolve_path(conditions_file))
        except InputError:
            pass  # the file's own problems are reported when the data are loaded
        else:
            problem = target_condition_problem(values["target_condition"], conditions, Path(conditions_file).name)
            if problem:
                problems.append(problem)
    designs = values["designs"]
    if designs is None:
        designs = DESIGNS
    elif isinstance(designs, str):
        designs = [d.strip() for d in designs.split(",") if d.strip()]
    if not isinstance(designs, (list, tuple)):
        problems.append(Problem(f"designs must be a list such as [rct, crossover_rct], got {shown_value(designs)}; "
                                f"valid designs: {', '.join(DESIGNS)}", column="designs"))
        designs = DESIGNS
    unknown = [d for d in designs if not isinstance(d, str) or d not in DESIGNS]
    if unknown or not designs:
        problems.append(Problem(f"unknown design(s) {shown_value(unknown) if unknown else '(none given)'}; "
                                f"valid designs: {', '.join(DESIGNS)}", column="designs"))
    this_year = _dt.date.today().year
    if values["min_year"] is not None and not (_is_int(values["min_year"]) and 1900 <= values["min_year"] <= this_year):
        problems.append(Problem(f"min_year must be a whole year between 1900 and {this_year}, got {shown_value(values['min_year'])}",
                                column="min_year"))
    if values["min_n"] is not None and not (_is_int(values["min_n"]) and values["min_n"] >= 0):
        problems.append(Problem(f"min_n must be a whole number >= 0, got {shown_value(values['min_n'])}", column="min_n"))
    if not isinstance(values["pooling_method"], str) or values["pooling_method"] not in POOLING_METHODS:
        problems.append(Problem(f"unknown pooling_method {shown_value(values['pooling_method'])}; valid: {', '.join(POOLING_METHODS)}",
                                column="pooling_method"))
    if values["claim_id"] is not None and not isinstance(values["claim_id"], str):
        problems.append(Problem(f"claim_id must be a text, got {shown_value(values['claim_id'])}", column="claim_id"))
    if values["output_dir"] in (None, "") and not any(p.column == "output_dir" for p in problems):
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
        target_condition=values["target_condition"],
        population_label=values["population_label"],
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
                          background=ev.background, target_condition=self.params.target_condition,
                          population_label=self.params.population_label)

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
    evidence = load_evidence(p.claims_path, p.studies_path, p.outcomes_path, p.reviews_path, p.domains_path, p.background_path,
                             p.conditions_path, p.interventions_path)
    if require_claim:
        valid = evidence.claims["claim_id"].tolist()
        if p.claim_id not in valid:
            raise InputError(source, [Problem(f"unknown claim_id {shown_value(p.claim_id)}; valid claim_ids: {', '.join(valid)}",
                                              column="claim_id")])
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
    # papermill only warns about a parameter the notebook does not declare (a typo such as
    # ``-p min_yaer 2030``) and runs on with the default: name it as an error instead.
    params.update({k: namespace[k] for k in unknown_notebook_names(namespace)})
    review = prepare_review("notebook parameters", require_claim=require_claim, **params)
    note = empty_review_note(review)
    if note:
        from IPython.display import Markdown, display

        display(Markdown(f"**{note}**"))
    return review


def empty_review_note(review: Review) -> str | None:
    """The sentence a review shows when its inclusion filters left no evidence on any claim, else None.

    Parameters
    ----------
    review : Review

    Returns
    -------
    str or None
        Names the filters that were set, so the reader sees why every claim has no evidence.
    """
    trials = review.synthesis.trials
    # Authoritative background sources are not studies: the filters do not apply to them.
    if review.excluded_studies == 0 or not trials.loc[trials["evidence_kind"] == "study"].empty:
        return None
    p = review.params
    filters = []
    if set(p.designs) != set(DESIGNS):
        filters.append(f"designs {', '.join(p.designs)}")
    if p.min_year is not None:
        filters.append(f"published in {p.min_year} or later")
    if p.min_n is not None:
        filters.append(f"at least {p.min_n} participants")
    kept = len(review.evidence.studies)
    if kept == 0:
        return (f"No study met the inclusion filters ({'; '.join(filters)}): all {review.excluded_studies} studies "
                "were excluded, so no claim has evidence in this review.")
    return (f"No study that met the inclusion filters ({'; '.join(filters)}) bears on a claim: {review.excluded_studies} "
            f"studies were excluded and the {kept} kept report no result linked to a claim, so no claim has evidence "
            "in this review.")


def check_notebook_names(namespace: dict, known) -> None:
    """Stop a notebook that was given a parameter it does not have (for notebooks outside the review,
    such as ``00_draft_claims``, whose parameters are not :data:`PARAMETER_NAMES`).

    Parameters
    ----------
    namespace : dict
        The notebook's ``globals()``, in the first cell after ``parameters``.
    known : sequence of str
        The notebook's parameters.

    Raises
    ------
    InputError
        Naming each unknown parameter, the closest valid one and all valid ones.
    """
    unknown = unknown_notebook_names(namespace, known)
    if unknown:
        raise InputError("notebook parameters", [_unknown_parameter(name, tuple(known)) for name in unknown])


def unknown_notebook_names(namespace: dict, known=PARAMETER_NAMES) -> list[str]:
    """Names a notebook was given that are not parameters (papermill injects any name it is passed).

    Called by the first cell after ``parameters``, when the namespace holds only the parameters, the
    injected values and that cell's imports; imports are modules, classes and functions, never plain
    values, so every plain value whose name is not a parameter was injected.

    Parameters
    ----------
    namespace : dict
        The notebook's ``globals()``.
    known : sequence of str
        The notebook's parameters (default: the review's).

    Returns
    -------
    list of str
        The unknown names, sorted.
    """
    known = set(known)
    return sorted(
        name for name, value in namespace.items()
        if not name.startswith("_") and name not in known and name not in _NOTEBOOK_BUILTINS
        and type(value) in _PARAMETER_TYPES
    )
