"""The curated evidence: studies, their outcomes and the pooled results of published reviews."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .background import empty_background, load_background
from .claims import (
    BOOL_WORDS,
    NO_INTERVENTION,
    conflicting_labels,
    load_claims,
    load_conditions,
    load_interventions,
    load_outcome_domains,
    slug_column,
    vocabulary_column,
)
from .parameters import DEFAULTS, unknown_target_condition
from .paths import resolve_path
from .tables import InputError, Problem, combine_errors, read_table, shown, spreadsheet_row, validate_table
from .vocab import (
    BASES,
    COMPARATORS,
    DESIGNS,
    DIRECTIONS,
    DIRECTNESS,
    P_OPERATORS,
    ROB_DOMAINS,
    ROB_JUDGEMENTS,
    ROB_TOOLS,
    VALUE_TYPES,
)

__all__ = [
    "studies_schema",
    "outcomes_schema",
    "reviews_schema",
    "load_studies",
    "load_outcomes",
    "load_reviews",
    "Evidence",
    "load_evidence",
    "empty_vocabulary",
]

DOI = r"^10\.\d{4,9}/\S+$"
PMID = r"^[1-9]\d{0,8}$"
URL = r"^https?://\S+$"
MAX_TEXT = 1000
#: Plausibility bounds of typed-in numbers (documented in data/README.md). Anything outside them is
#: a typing or unit slip, and non-finite values (``inf``, ``1e999``) are outside by construction.
MAX_MAGNITUDE = 1e9
#: Smallest SD taken as real: below it a standardised effect explodes (g = difference / SD).
MIN_SD = 1e-6
#: Largest number of people in one study or review.
MAX_N = 10_000_000
#: An arm of fewer than two people has no SD.
MIN_ARM_N = 2
#: Largest plausible standardised difference between two arms' means. Clinical effects are well
#: below 3 SDs; a difference of more than 10 SDs almost always means a standard error typed as an SD.
MAX_SMD = 10


def _one_of(values, name):
    return pa.Check.isin(values, error=f"unknown {name}; use one of {', '.join(values)}")


def _text(max_len=MAX_TEXT, nullable=True, required=True):
    return pa.Column(
        str,
        pa.Check.str_length(0, max_len, error=f"text longer than {max_len} characters"),
        nullable=nullable,
        required=required,
    )


def _num(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col, errors="coerce")


def _number(error: str = f"must be a finite number from {-MAX_MAGNITUDE:g} to {MAX_MAGNITUDE:g}") -> pa.Column:
    return pa.Column("float64", pa.Check.in_range(-MAX_MAGNITUDE, MAX_MAGNITUDE, error=error), nullable=True)


def _count(low: int, error: str) -> pa.Column:
    return pa.Column("Int64", pa.Check.in_range(low, MAX_N, error=error), nullable=True)


N_ERROR = f"N must be positive and at most {MAX_N}"


def _not_above(low: str, high: str):
    """Wide check: ``low <= high`` wherever both are present (never errors on bad cells)."""

    def check(df: pd.DataFrame) -> pd.Series:
        lo, hi = _num(df[low]), _num(df[high])
        return lo.isna() | hi.isna() | (lo <= hi)

    return check


def _plausible_difference(df: pd.DataFrame) -> pd.Series:
    """Wide check: the arms' means differ by at most :data:`MAX_SMD` pooled SDs, where all four are given."""
    m1, m2, s1, s2 = (_num(df[c]) for c in ("mean_int", "mean_ctl", "sd_int", "sd_ctl"))
    spread = ((s1**2 + s2**2) / 2) ** 0.5
    return m1.isna() | m2.isna() | s1.isna() | s2.isna() | ~(spread > 0) | ((m1 - m2).abs() <= MAX_SMD * spread)


def _ci_contains(estimate: str, low: str, high: str):
    def check(df: pd.DataFrame) -> pd.Series:
        est, lo, hi = _num(df[estimate]), _num(df[low]), _num(df[high])
        return est.isna() | lo.isna() | hi.isna() | ((lo <= est) & (est <= hi))

    return check


def studies_schema(conditions=None, interventions=None, conditions_source: str = "the conditions file",
                   interventions_source: str = "the interventions file") -> pa.DataFrameSchema:
    """Build the studies-table schema for a review's condition and intervention vocabularies.

    Parameters
    ----------
    conditions, interventions : collection of str, optional
        Allowed ``condition`` and ``intervention`` codes (:data:`~evidence_review.claims.NO_INTERVENTION`
        is always allowed); None checks only that the cell is filled in.
    conditions_source, interventions_source : str
        The vocabulary files, named in the messages.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        Schema for ``studies.csv``.
    """
    if interventions is not None:
        interventions = [*[c for c in interventions if c != NO_INTERVENTION], NO_INTERVENTION]
    return pa.DataFrameSchema(
        {
            "study_id": slug_column("study_id", "negahban2013", unique=True),
            "authors": _text(500),
            "year": pa.Column(
                "Int64",
                pa.Check.in_range(1900, _dt.date.today().year, error="year must be a 4-digit year, not in the future"),
                nullable=True,
            ),
            "title": _text(500),
            "journal": _text(300),
            "doi": pa.Column(str, pa.Check.str_matches(DOI, error="not a DOI (expected 10.NNNN/suffix, no https://doi.org/)"), nullable=True),
            "pmid": pa.Column(str, pa.Check.str_matches(PMID, error="not a PMID (expected up to 9 digits)"), nullable=True),
            "source_url": pa.Column(str, pa.Check.str_matches(URL, error="source_url must be the http(s) address of the page read")),
            "trial_group": slug_column("trial_group", "nazari2015", nullable=True),
            "design": pa.Column(str, _one_of(DESIGNS, "design")),
            "population": _text(300, nullable=False),
            "condition": vocabulary_column(conditions, "condition", conditions_source),
            "n_randomised": _count(1, N_ERROR),
            "n_analysed": _count(1, N_ERROR),
            "intervention": vocabulary_column(interventions, "intervention", interventions_source),
            "intervention_detail": _text(500),
            "comparator": pa.Column(str, _one_of(COMPARATORS, "comparator")),
            "comparator_detail": _text(500),
            "directness": pa.Column(str, _one_of(DIRECTNESS, "directness")),
            "directness_reason": _text(300),
            "rob_tool": pa.Column(str, _one_of(ROB_TOOLS, "rob_tool")),
            **{d: pa.Column(str, _one_of(ROB_JUDGEMENTS, "risk-of-bias judgement")) for d in ROB_DOMAINS},
            "rob_overall": pa.Column(str, _one_of(ROB_JUDGEMENTS, "risk-of-bias judgement")),
            "rob_reason": _text(500),
            "country": _text(100),
            "notes": _text(),
        },
        checks=[
            pa.Check(_not_above("n_analysed", "n_randomised"), error="n_randomised/n_analysed: n_analysed is larger than n_randomised"),
            pa.Check(
                lambda df: (df["directness"] != "indirect") | df["directness_reason"].notna(),
                error="directness/directness_reason: an indirect study needs a directness_reason",
            ),
        ],
        strict=True,
        coerce=True,
        name="studies",
    )


def _bool_words(series: pd.Series) -> pd.Series:
    return series.isna() | series.str.lower().isin(list(BOOL_WORDS))


def _domain_column(domains: set[str]) -> pa.Column:
    return pa.Column(str, pa.Check.isin(sorted(domains), error="unknown outcome domain code; see data/outcome_domains.csv"))


def _ci_and_p_columns() -> dict:
    """Columns shared by every table that reports an estimate: CI level, p-value and its operator."""
    return {
        "ci_level": pa.Column("float64", pa.Check.in_range(50, 99.99, error="ci_level is a percentage such as 95"), nullable=True),
        "p_value": pa.Column("float64", pa.Check.in_range(0, 1, error="p_value must be between 0 and 1"), nullable=True),
        "p_operator": pa.Column(str, _one_of(P_OPERATORS, "p_operator"), nullable=True),
    }


def _ci_checks(estimate: str) -> list[pa.Check]:
    """Row checks of an estimate and its CI: low <= high, and the CI contains the estimate."""
    return [
        pa.Check(_not_above("ci_low", "ci_high"), error="ci_low/ci_high: ci_low is above ci_high"),
        pa.Check(_ci_contains(estimate, "ci_low", "ci_high"), error=f"{estimate}/ci_low/ci_high: the CI does not contain its estimate"),
    ]


def outcomes_schema(domains: set[str]) -> pa.DataFrameSchema:
    """Build the outcomes-table schema for a given outcome-domain vocabulary.

    Parameters
    ----------
    domains : set of str
        Allowed ``outcome_domain`` codes.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        Schema for ``outcomes.csv``.
    """
    n_col = _count(MIN_ARM_N, f"an arm's N must be at least {MIN_ARM_N} (an SD needs two people) and at most {MAX_N}")
    sd_col = pa.Column(
        "float64",
        pa.Check.in_range(MIN_SD, MAX_MAGNITUDE, error=f"SD must be positive, from {MIN_SD:g} to {MAX_MAGNITUDE:g}"),
        nullable=True,
    )
    num = _number()
    return pa.DataFrameSchema(
        {
            "study_id": pa.Column(str),
            "outcome_domain": _domain_column(domains),
            "instrument": _text(200, nullable=False),
            "timepoint": _text(200),
            "comparison": _text(300, nullable=False),
            "basis": pa.Column(str, _one_of(BASES, "basis")),
            "higher_is_better": pa.Column(str, pa.Check(_bool_words, error="expected true or false"), nullable=True),
            "direction": pa.Column(str, _one_of(DIRECTIONS, "direction")),
            "value_type": pa.Column(str, _one_of(VALUE_TYPES, "value_type"), nullable=True),
            "n_int": n_col,
            "mean_int": num,
            "sd_int": sd_col,
            "n_ctl": n_col,
            "mean_ctl": num,
            "sd_ctl": sd_col,
            "effect_measure": _text(40),
            "effect": num,
            "ci_low": num,
            "ci_high": num,
            **_ci_and_p_columns(),
            "source_url": pa.Column(str, pa.Check.str_matches(URL, error="source_url must be an http(s) address"), nullable=True),
            "notes": _text(),
        },
        checks=[
            *_ci_checks("effect"),
            pa.Check(_plausible_difference, error=f"mean_int/mean_ctl/sd_int/sd_ctl: the means differ by more than {MAX_SMD} "
                     "SDs, which no treatment does; check that the SDs are not standard errors"),
        ],
        strict=True,
        coerce=True,
        name="outcomes",
    )


def reviews_schema(domains: set[str]) -> pa.DataFrameSchema:
    """Build the schema of pooled results reported by published reviews.

    Parameters
    ----------
    domains : set of str
        Allowed ``outcome_domain`` codes.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        Schema for ``reviews.csv``.
    """
    num = _number()
    return pa.DataFrameSchema(
        {
            "review_id": pa.Column(str),
            "outcome_domain": _domain_column(domains),
            "instrument_or_scope": _text(300, nullable=False),
            "effect_measure": _text(40),
            "estimate": num,
            "ci_low": num,
            "ci_high": num,
            **_ci_and_p_columns(),
            "i2": pa.Column("float64", pa.Check.in_range(0, 100, error="I^2 is a percentage between 0 and 100"), nullable=True),
            "n_studies": _count(1, f"n_studies must be positive and at most {MAX_N}"),
            "n_participants": _count(1, N_ERROR),
            "included_studies": _text(),
            # Optional: orientation of the published estimate, needed to put it on a "favours the intervention" axis.
            "higher_is_better": pa.Column(str, pa.Check(_bool_words, error="expected true or false"), nullable=True, required=False),
            "conclusion": _text(nullable=False),
            "source_url": pa.Column(str, pa.Check.str_matches(URL, error="source_url must be an http(s) address")),
            "notes": _text(),
        },
        checks=_ci_checks("estimate"),
        strict=True,
        coerce=True,
        name="reviews",
    )


def load_studies(path: str | Path, conditions=None, interventions=None, conditions_source: str = "the conditions file",
                 interventions_source: str = "the interventions file") -> pd.DataFrame:
    """Load and validate ``studies.csv``.

    Parameters
    ----------
    path : str or Path
        The studies file.
    conditions, interventions : collection of str, optional
        The codes of the review's conditions and interventions files (see :func:`studies_schema`).
    conditions_source, interventions_source : str
        Those files, named in the messages.

    Returns
    -------
    pandas.DataFrame
        Validated studies; an empty ``trial_group`` defaults to the study's own id.

    Raises
    ------
    InputError
        Listing every bad row and column at once.
    """
    schema = studies_schema(conditions, interventions, conditions_source, interventions_source)
    studies = validate_table(read_table(path), schema, str(path))
    studies["trial_group"] = studies["trial_group"].fillna(studies["study_id"])
    return studies.sort_values("study_id", kind="stable").reset_index(drop=True)


def _unknown_ids(frame: pd.DataFrame, column: str, known: set[str], what: str) -> list[Problem]:
    return [
        Problem(f"{what} '{shown(value)}' is not in the studies file", spreadsheet_row(i), column)
        for i, value in frame[column].items()
        if isinstance(value, str) and value not in known
    ]


def _arms_within_study_size(frame: pd.DataFrame, studies: pd.DataFrame) -> list[Problem]:
    """Rows whose two arms hold more than twice the study's N (a crossover or before/after row counts
    each person in both arms, so twice N is the most two arms can hold)."""
    if not {"study_id", "n_int", "n_ctl"} <= set(frame.columns):
        return []
    by_id = studies.drop_duplicates("study_id")
    size = by_id["n_randomised"].fillna(by_id["n_analysed"]).astype("float64").to_numpy()
    position = pd.Index(by_id["study_id"]).get_indexer(frame["study_id"])
    study_n = np.where(position >= 0, size[position], np.nan)
    arms = (_num(frame["n_int"]).fillna(0) + _num(frame["n_ctl"]).fillna(0)).to_numpy(dtype="float64")
    # Non-numbers and absurd counts are the schema's to report.
    too_many = (arms >= 0) & (arms <= 2 * MAX_N) & (arms > 2 * study_n)
    return [
        Problem(f"the arms hold {arms[k]:g} people, more than twice the study's N ({study_n[k]:g}) in studies.csv",
                spreadsheet_row(frame.index[k]), "n_int/n_ctl")
        for k in np.flatnonzero(too_many)
    ]


def load_outcomes(
    path: str | Path, domains: set[str], study_ids: set[str] | None = None, studies: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Load and validate ``outcomes.csv``.

    Parameters
    ----------
    path : str or Path
        The outcomes file.
    domains : set of str
        Allowed outcome-domain codes.
    study_ids : set of str, optional
        Known studies; an outcome for any other study is an error.
    studies : pandas.DataFrame, optional
        The studies table: its ids are the known studies, and two arms may not hold more than twice
        a study's N (``n_randomised``, else ``n_analysed``).

    Returns
    -------
    pandas.DataFrame
        Validated outcomes with ``higher_is_better`` as a nullable boolean and an ``outcome_id``
        (``study_id#k``, k counting the study's rows in file order).

    Raises
    ------
    InputError
        Listing every bad row and column at once.
    """
    frame = read_table(path)
    if studies is not None:
        study_ids = set(studies["study_id"])
    extra = _unknown_ids(frame, "study_id", study_ids, "study_id") if study_ids is not None and "study_id" in frame else []
    if studies is not None:
        extra += _arms_within_study_size(frame, studies)
    outcomes = validate_table(frame, outcomes_schema(domains), str(path), extra)
    outcomes["higher_is_better"] = outcomes["higher_is_better"].str.lower().map(BOOL_WORDS).astype("boolean")
    outcomes.insert(
        0, "outcome_id", outcomes["study_id"] + "#" + (outcomes.groupby("study_id").cumcount() + 1).astype(str)
    )
    return outcomes


def load_reviews(path: str | Path, domains: set[str], studies: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load and validate ``reviews.csv`` (pooled results of published reviews).

    Parameters
    ----------
    path : str or Path
        The reviews file.
    domains : set of str
        Allowed outcome-domain codes.
    studies : pandas.DataFrame, optional
        The studies table; each ``review_id`` must be one of its systematic reviews.

    Returns
    -------
    pandas.DataFrame
        Validated pooled results.

    Raises
    ------
    InputError
        Listing every bad row and column at once.
    """
    frame = read_table(path, allow_empty=True)  # a topic may have no published review yet
    extra = []
    if studies is not None and "review_id" in frame:
        known = set(studies.loc[studies["design"] == "systematic_review", "study_id"])
        extra = _unknown_ids(frame, "review_id", known, "systematic review")
    reviews = validate_table(frame, reviews_schema(domains), str(path), extra)
    hib = reviews["higher_is_better"] if "higher_is_better" in reviews else pd.Series(pd.NA, index=reviews.index, dtype=object)
    reviews["higher_is_better"] = hib.str.lower().map(BOOL_WORDS).astype("boolean")
    return reviews


def empty_vocabulary() -> pd.DataFrame:
    """A vocabulary table (``code``, ``label``, ``description``) with no rows.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ("code", "label", "description")})


@dataclass(frozen=True)
class Evidence:
    """Everything one review works from, validated together.

    Attributes
    ----------
    domains, claims, studies, outcomes, reviews : pandas.DataFrame
        The five input tables.
    background : pandas.DataFrame
        Authoritative evidence about the condition itself (empty when no such file is given).
    conditions, interventions : pandas.DataFrame
        The review's condition and intervention vocabularies (``code``, ``label``, ``description``);
        the interventions do not list the built-in ``no_intervention``.
    """

    domains: pd.DataFrame
    claims: pd.DataFrame
    studies: pd.DataFrame
    outcomes: pd.DataFrame
    reviews: pd.DataFrame
    background: pd.DataFrame = field(default_factory=empty_background)
    conditions: pd.DataFrame = field(default_factory=empty_vocabulary)
    interventions: pd.DataFrame = field(default_factory=empty_vocabulary)


def load_evidence(
    claims_path=DEFAULTS["claims_path"],
    studies_path=DEFAULTS["studies_path"],
    outcomes_path=DEFAULTS["outcomes_path"],
    reviews_path=DEFAULTS["reviews_path"],
    domains_path=DEFAULTS["domains_path"],
    background_path=DEFAULTS["background_path"],
    conditions_path=DEFAULTS["conditions_path"],
    interventions_path=DEFAULTS["interventions_path"],
    target_condition: str | None = None,
    parameters_source: str = "parameters",
) -> Evidence:
    """Load and cross-validate all input tables, reporting the problems of every file at once.

    Relative paths are resolved against the project root (see :func:`evidence_review.paths.resolve_path`).

    Parameters
    ----------
    claims_path, studies_path, outcomes_path, reviews_path, domains_path : str or Path
        The input files.
    background_path : str or Path or None
        Optional authoritative background evidence; ``None``, or the default file when it does not
        exist, means none.
    conditions_path, interventions_path : str or Path
        The vocabularies of ``studies.csv``'s ``condition`` and ``intervention`` (and of the
        background evidence's ``condition``).
    target_condition : str, optional
        The ``target_condition`` parameter: when given, it must be a code of the conditions file.
    parameters_source : str
        Where the parameters came from, named in that problem.

    Returns
    -------
    Evidence
        The validated tables.

    Raises
    ------
    InputError
        One error naming each bad file with all of its problems.
    """
    errors: list[InputError] = []

    def attempt(fn, *args):
        try:
            return fn(*args)
        except InputError as exc:
            errors.append(exc)
            return None

    domains_file = resolve_path(domains_path)
    domains = attempt(load_outcome_domains, domains_file)
    conditions_file, interventions_file = resolve_path(conditions_path), resolve_path(interventions_path)
    conditions = attempt(load_conditions, conditions_file)
    interventions = attempt(load_interventions, interventions_file)
    if domains is None:
        # Without the domain codes the files coded with them cannot be checked cell by cell; still say
        # which of them cannot even be read (missing, empty, not UTF-8), so one run lists them all.
        for path, may_be_empty in ((studies_path, False), (claims_path, False), (outcomes_path, False),
                                   (reviews_path, True)):
            attempt(read_table, resolve_path(path), may_be_empty)
        raise combine_errors(errors)
    # A broken vocabulary file is reported on its own; its column is then only checked for being filled in.
    condition_codes = None if conditions is None else conditions["code"].tolist()
    if condition_codes is not None and target_condition is not None:
        problem = unknown_target_condition(target_condition, condition_codes, parameters_source)
        if problem:
            errors.append(problem)
    intervention_codes = None if interventions is None else interventions["code"].tolist()
    errors += conflicting_labels({str(p): frame for p, frame in ((domains_file, domains), (conditions_file, conditions),
                                                                  (interventions_file, interventions)) if frame is not None})
    codes = set(domains["code"])
    claims = attempt(load_claims, resolve_path(claims_path), codes)
    studies = attempt(load_studies, resolve_path(studies_path), condition_codes, intervention_codes,
                      conditions_file.name, interventions_file.name)
    outcomes = attempt(load_outcomes, resolve_path(outcomes_path), codes, None, studies)
    reviews = attempt(load_reviews, resolve_path(reviews_path), codes, studies)
    background = empty_background()
    if background_path is not None:
        path = resolve_path(background_path)
        if path.exists() or path != resolve_path(DEFAULTS["background_path"]):
            background = attempt(load_background, path, codes, condition_codes, conditions_file.name)
    if errors:
        raise combine_errors(errors)
    return Evidence(domains, claims, studies, outcomes, reviews, background, conditions, interventions)
