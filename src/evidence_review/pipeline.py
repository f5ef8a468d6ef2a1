"""What every notebook does first: check its parameters, load the data, apply inclusion filters.

A notebook's ``parameters`` cell holds plain values (papermill injects overrides after it); the
first cell after it calls :func:`start_notebook`, which validates everything and stops the run
with one message listing every problem and the valid values. The parameters themselves are
declared in :mod:`evidence_review.parameters`.

In a build, the data is validated, loaded and synthesised once (:func:`prepare_review`,
:func:`save_review`) and every notebook reads that result from the file its ``results_path``
parameter names (:func:`load_review`); a notebook opened on its own (``results_path`` None)
computes everything itself.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from functools import cached_property

import pandas as pd

from .engine import Synthesis, synthesise
from .parameters import PARAMETER_NAMES, ReviewParameters, unknown_parameter, validate_parameters
from .review_file import KEY_ENV, ResultsFileError, read_signed, write_signed
from .studies import Evidence, load_evidence
from .tables import InputError, Problem, shown_value
from .vocab import DESIGNS

__all__ = [
    "unknown_notebook_names",
    "check_notebook_names",
    "apply_filters",
    "meets_filters",
    "evidence_of",
    "excluded_per_claim",
    "Review",
    "prepare_review",
    "save_review",
    "load_review",
    "start_notebook",
    "empty_review_note",
]

#: Names IPython puts in every notebook's namespace; never parameters.
_NOTEBOOK_BUILTINS = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open"})
#: The types papermill can inject as parameters (YAML and JSON values).
_PARAMETER_TYPES = (str, int, float, bool, list, dict, tuple, type(None))


def meets_filters(studies: pd.DataFrame, designs=DESIGNS, min_year: int | None = None, min_n: int | None = None) -> pd.Series:
    """Which studies meet the inclusion filters.

    Studies whose year (or sample size) was not reported do not meet a minimum year (or minimum
    N), because they cannot be shown to.

    Parameters
    ----------
    studies : pandas.DataFrame
    designs : sequence of str
        Designs to include.
    min_year : int, optional
        Earliest publication year.
    min_n : int, optional
        Minimum number randomised (or analysed when randomised is not reported).

    Returns
    -------
    pandas.Series of bool
        One per study, aligned with ``studies``.
    """
    keep = studies["design"].isin(list(designs))
    if min_year is not None:
        keep &= studies["year"].fillna(0) >= min_year
    if min_n is not None:
        keep &= studies["n_randomised"].fillna(studies["n_analysed"]).fillna(0) >= min_n
    return keep


def evidence_of(evidence: Evidence, chosen: pd.Series) -> Evidence:
    """The chosen studies with their outcomes and review results.

    Parameters
    ----------
    evidence : Evidence
    chosen : pandas.Series of bool
        One per study (e.g. from :func:`meets_filters`, or its negation for the excluded ones).

    Returns
    -------
    Evidence
        A copy; the inputs are not modified.
    """
    studies = evidence.studies.loc[chosen].reset_index(drop=True)
    ids = set(studies["study_id"])
    return replace(
        evidence,
        studies=studies,
        outcomes=evidence.outcomes.loc[evidence.outcomes["study_id"].isin(ids)].reset_index(drop=True),
        reviews=evidence.reviews.loc[evidence.reviews["review_id"].isin(ids)].reset_index(drop=True),
    )


def apply_filters(evidence: Evidence, designs=DESIGNS, min_year: int | None = None, min_n: int | None = None) -> Evidence:
    """Keep the studies that meet the inclusion filters (:func:`meets_filters`), and their outcomes
    and review results.

    Parameters
    ----------
    evidence : Evidence
    designs : sequence of str
    min_year : int, optional
    min_n : int, optional

    Returns
    -------
    Evidence
        A filtered copy; the inputs are not modified.
    """
    return evidence_of(evidence, meets_filters(evidence.studies, designs, min_year, min_n))


def excluded_per_claim(claims: pd.DataFrame, outcomes: pd.DataFrame, studies: pd.DataFrame, *,
                       target_condition: str, population_label: str) -> pd.Series:
    """How many of the studies the inclusion filters excluded have a result that bears on each claim.

    A claim with no evidence in the review may have had some before the filters: its summary then
    says the filters excluded it, not that no study looked at it.

    Parameters
    ----------
    claims : pandas.DataFrame
        The claims table.
    outcomes, studies : pandas.DataFrame
        The outcomes and studies the filters excluded (validated tables).
    target_condition, population_label : str
        The review's population (parameters of the same names), as the linking needs them.

    Returns
    -------
    pandas.Series
        Number of excluded studies per ``claim_id`` (0 for a claim none of them bears on).
    """
    from .linking import link_claims

    counts = pd.Series(0, index=pd.Index(claims["claim_id"], name="claim_id"), dtype="int64")
    if outcomes.empty or studies.empty:
        return counts
    links = link_claims(claims, outcomes, studies, rationale=False, target_condition=target_condition,
                        population_label=population_label)
    found = links.groupby("claim_id")["study_id"].nunique()
    return counts.add(found, fill_value=0).astype("int64")


@dataclass
class Review:
    """One review run: validated parameters, filtered evidence, and (on first use) the synthesis."""

    params: ReviewParameters
    evidence: Evidence
    excluded_studies: int = 0
    scorecard: pd.DataFrame | None = None
    #: What the inclusion filters removed (studies and their outcomes), or None when nothing was.
    excluded: Evidence | None = None

    @cached_property
    def excluded_by_claim(self) -> pd.Series:
        """Per claim, how many excluded studies bear on it (see :func:`excluded_per_claim`)."""
        claims = self.evidence.claims
        if self.excluded is None:
            return pd.Series(0, index=pd.Index(claims["claim_id"], name="claim_id"), dtype="int64")
        return excluded_per_claim(claims, self.excluded.outcomes, self.excluded.studies,
                                  target_condition=self.params.target_condition,
                                  population_label=self.params.population_label)

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
        Notebook parameters (see :mod:`evidence_review.parameters`).

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
                             conditions_path=p.conditions_path, interventions_path=p.interventions_path,
                             target_condition=p.target_condition, parameters_source=source)
    if require_claim:
        _check_claim(p.claim_id, evidence.claims, source)
    scorecard = None
    if p.scorecard_path is not None:
        from .scorecard import load_scorecard

        scorecard = load_scorecard(p.scorecard_path)
    kept = meets_filters(evidence.studies, p.designs, p.min_year, p.min_n)
    excluded = None if kept.all() else evidence_of(evidence, ~kept)
    return Review(p, evidence_of(evidence, kept), excluded_studies=int((~kept).sum()), scorecard=scorecard,
                  excluded=excluded)


#: Parameters that do not change what is computed: the claim a report shows, where the build writes,
#: and where the computed review was read from.
_NOT_COMPUTED_FROM = ("claim_id", "output_dir", "results_path")


def computed_from(params: ReviewParameters) -> dict:
    """The parameters a computed review depends on, with paths as real paths (symlinks resolved).

    Two runs whose values here are equal compute the same review, whichever folder their relative
    paths were taken from.

    Parameters
    ----------
    params : ReviewParameters

    Returns
    -------
    dict
    """
    values = {k: v for k, v in asdict(params).items() if k not in _NOT_COMPUTED_FROM}
    return {k: os.path.realpath(v) if isinstance(v, Path) else v for k, v in values.items()}


def save_review(review: Review, path: str | os.PathLike, key: str) -> Path:
    """Write a computed review (parameters, filtered evidence, scorecard, synthesis) for the notebooks.

    The synthesis is computed here if it was not yet. See :mod:`evidence_review.review_file` for
    the format and why it is safe to offer as a parameter.

    Parameters
    ----------
    review : Review
    path : str or os.PathLike
        The results file (the build puts it in its staging folder).
    key : str
        The build's key (:func:`evidence_review.review_file.new_key`).

    Returns
    -------
    pathlib.Path
    """
    contents = {"params": review.params, "evidence": review.evidence, "excluded_studies": review.excluded_studies,
                "scorecard": review.scorecard, "synthesis": review.synthesis, "excluded_by_claim": review.excluded_by_claim}
    return write_signed(contents, path, key)


def load_review(source: str = "notebook parameters", require_claim: bool = False, key: str | None = None,
                **params) -> Review:
    """The review a build computed, read from the file ``results_path`` names instead of computed again.

    The notebook's own parameters are still checked (cheap: no data file is read), and must be
    those the review was computed with, so a notebook never shows results of other inputs.

    Parameters
    ----------
    source : str
        Where the parameters came from, for error messages.
    require_claim : bool
        True for the per-claim report: ``claim_id`` must name a claim in the claims file.
    key : str, optional
        The key the file was signed with (default: the environment variable
        :data:`evidence_review.review_file.KEY_ENV`, which the build sets in its kernels).
    **params
        The notebook's parameters (see :data:`PARAMETER_NAMES`), ``results_path`` among them.

    Returns
    -------
    Review
        With its synthesis already in place.

    Raises
    ------
    InputError
        Bad parameters (a missing results file among them); a results file that is not the running
        build's own (see :func:`evidence_review.review_file.read_signed`) or was computed with other
        parameters; an unknown ``claim_id``.
    """
    p = validate_parameters(source, **params)
    if p.results_path is None:
        raise InputError(source, [Problem("no results file given; use prepare_review to compute the review", column="results_path")])
    try:
        computed = read_signed(p.results_path, key if key is not None else os.environ.get(KEY_ENV))
    except ResultsFileError as exc:
        raise InputError(source, [Problem(f"{exc}; use null to compute the review in this notebook",
                                          column="results_path")]) from None
    wanted, used = computed_from(p), computed_from(computed["params"])
    if used != wanted:
        differ = sorted(k for k in wanted.keys() | used.keys() if wanted.get(k) != used.get(k))
        raise InputError(source, [Problem(f"the results file was computed with other values of {', '.join(differ)}; "
                                          "use null to compute the review in this notebook", column="results_path")])
    evidence = computed["evidence"]
    if require_claim:
        _check_claim(p.claim_id, evidence.claims, source)
    review = Review(p, evidence, excluded_studies=computed["excluded_studies"], scorecard=computed["scorecard"])
    review.synthesis = computed["synthesis"]  # fills the cached property: nothing is recomputed
    if computed.get("excluded_by_claim") is not None:
        review.excluded_by_claim = computed["excluded_by_claim"]  # the excluded studies are not in the file
    return review


def _check_claim(claim_id, claims: pd.DataFrame, source: str) -> None:
    valid = claims["claim_id"].tolist()
    if claim_id not in valid:
        raise InputError(source, [Problem(f"unknown claim_id {shown_value(claim_id)}; valid claim_ids: {', '.join(valid)}",
                                          column="claim_id")])


def start_notebook(namespace: dict, require_claim: bool = False) -> Review:
    """First call of every notebook: stable display settings, then the review.

    The review is read from the build's results file when ``results_path`` is set
    (:func:`load_review`), else computed here (:func:`prepare_review`); the pages are the same.

    Parameters
    ----------
    namespace : dict
        The notebook's ``globals()``; the values of :data:`evidence_review.parameters.PARAMETER_NAMES` found there are used.
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
    if params.get("results_path") is None:
        review = prepare_review("notebook parameters", require_claim=require_claim, **params)
    else:
        review = load_review("notebook parameters", require_claim=require_claim, **params)
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
        raise InputError("notebook parameters", [unknown_parameter(name, tuple(known)) for name in unknown])


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
