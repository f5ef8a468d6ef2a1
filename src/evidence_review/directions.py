"""Stage 2, trial directions: one direction of effect per result, then one per claim and trial.

Rules in ``docs/methods.md`` section 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .linking import frame_of

__all__ = [
    "DIRECTIONS",
    "DESIGN_WEIGHTS",
    "design_weight",
    "point_estimate_directions",
    "study_directions",
    "trial_directions",
    "domain_directions",
]

DIRECTIONS = ["benefit", "no_difference", "harm", "unclear"]
#: Relative weight of a result by design in the direction (harvest) charts (randomised = 1).
DESIGN_WEIGHTS = {
    "rct": 1.0,
    "crossover_rct": 1.0,
    "non_randomised_controlled": 0.5,
    "cohort": 0.5,
    "pre_post": 0.25,
    "case_series": 0.1,
    "cross_sectional": 0.25,
    "narrative_review": 0.1,
    "systematic_review": 0.0,
}


def design_weight(design: str) -> float:
    """Weight of one result in the weighted direction summary, by study design.

    Parameters
    ----------
    design : str
        A design code.

    Returns
    -------
    float
        1 for randomised trials down to 0 for systematic reviews (whose studies are counted themselves).
    """
    return DESIGN_WEIGHTS.get(design, 0.0)


def point_estimate_directions(outcomes: pd.DataFrame) -> pd.Series:
    """Direction of each result, taken from its point estimate wherever the row reports one.

    A between-group row with both arms' means and a known ``higher_is_better`` has a point
    estimate: its sign decides the direction whatever its significance (Cochrane Handbook
    12.2.2.3), so a curator's "no difference" for a non-significant result becomes the direction
    its means point to. Equal means stay ``no_difference``. Other rows keep the curated direction.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        The outcomes table.

    Returns
    -------
    pandas.Series
        ``benefit``, ``no_difference``, ``harm`` or ``unclear`` per row.
    """
    mean_int = outcomes["mean_int"].astype("float64").to_numpy()
    mean_ctl = outcomes["mean_ctl"].astype("float64").to_numpy()
    hib = outcomes["higher_is_better"].astype("boolean")
    known = (
        (outcomes["basis"] == "between_group").to_numpy()
        & ~np.isnan(mean_int) & ~np.isnan(mean_ctl) & hib.notna().to_numpy()
    )
    sign = np.where(hib.fillna(True).to_numpy(dtype=bool), 1.0, -1.0)
    favours = np.nan_to_num(mean_int - mean_ctl) * sign
    # Picking from three shared words (not np.where on text) makes no fixed-width copy and no
    # new string per row; at a million rows either costs about 50 MiB.
    from_estimate = np.array(["no_difference", "benefit", "harm"], dtype=object)[(favours > 0) + 2 * (favours < 0)]
    return pd.Series(np.where(known, from_estimate, outcomes["direction"].to_numpy(dtype=object)), index=outcomes.index)


def _sorted_codes(frame: pd.DataFrame, rank: str, column: str) -> np.ndarray:
    """Integer codes in sorted order of ``column``: the precomputed ``rank`` column when present."""
    if rank in frame and frame[rank].notna().all():
        return frame[rank].to_numpy(dtype=np.int64)
    return pd.factorize(frame[column], sort=True)[0].astype(np.int64)


def _best_tier(group: np.ndarray, tier: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows of each group in its best (lowest) tier, grouped, and their group's number.

    Parameters
    ----------
    group : numpy.ndarray of int
        Per row: its group key (claim x trial).
    tier : numpy.ndarray of int
        Per row: 0 to 3, lower is better.

    Returns
    -------
    keep : numpy.ndarray of int
        Positions of the kept rows, by group (ascending key), then row order within a group.
    inverse : numpy.ndarray of int
        Per kept row: the rank of its group among the distinct keys (non-decreasing).
    n_groups : int
    """
    # One stable sort on a combined key (tier fits in two bits) orders rows by group, then tier,
    # then position, as a lexsort would; the groups' numbers come from the same pass.
    order = np.argsort(group * 4 + tier, kind="stable")
    g_sorted = group[order]
    starts = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    del g_sorted
    t_sorted = tier[order]
    best = t_sorted == t_sorted[np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))]
    del t_sorted
    inverse = (np.cumsum(starts) - 1)[best]
    return order[best], inverse, int(starts.sum())


def _describing_rows(inverse: np.ndarray, starts: np.ndarray, participants: np.ndarray, randomised: np.ndarray) -> np.ndarray:
    """Per group, the position of the row that describes its trial: randomised before not, then the
    largest, then the first.

    Parameters
    ----------
    inverse : numpy.ndarray of int
        Per row: its group number, non-decreasing.
    starts : numpy.ndarray of int
        Position of each group's first row.
    participants : numpy.ndarray of float
    randomised : numpy.ndarray of bool

    Returns
    -------
    numpy.ndarray of int
        One position per group.
    """
    chosen = starts.copy()
    sizes = np.diff(np.append(starts, len(inverse)))
    # Most groups hold one row, which describes itself; only the others are sorted.
    several = np.flatnonzero(sizes[inverse] > 1)
    if len(several):
        ranked = several[np.lexsort((-np.nan_to_num(participants[several], nan=-1.0), ~randomised[several], inverse[several]))]
        first = ranked[np.r_[True, inverse[ranked][1:] != inverse[ranked][:-1]]]
        chosen[inverse[first]] = first
    return chosen


def study_directions(links: pd.DataFrame) -> pd.DataFrame:
    """One direction of effect per claim and trial (papers of one trial counted once).

    Within a trial the best available results decide: between-group before within-group, the
    named outcome before proxies. Among those, the most frequent direction with a sign wins; a tie
    between different directions is ``unclear``; ``unclear`` results never outvote others.

    Parameters
    ----------
    links : pandas.DataFrame
        Output of :func:`evidence_review.linking.link_claims` (possibly filtered).

    Returns
    -------
    pandas.DataFrame
        ``claim_id``, ``trial_group``, ``direction``, ``participants``, ``design``, ``comparator``,
        ``randomised``, ``controlled``, ``ms_population``, ``directness``, ``rob_overall``, ``study_id``,
        ``evidence_kind`` and the claim's ``expected_direction`` (None when the links lack it).
    """
    return trial_directions(links)[0]


def trial_directions(links: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`study_directions`, with each row's claim and direction as integer codes for later counting.

    Parameters
    ----------
    links : pandas.DataFrame
        As for :func:`study_directions`.

    Returns
    -------
    trials : pandas.DataFrame
        :func:`study_directions` output.
    claim_code : numpy.ndarray of int
        Per row: a code of its ``claim_id``, ascending as the claim ids sort.
    direction_code : numpy.ndarray of int
        Per row: the position of its ``direction`` in :data:`DIRECTIONS`.
    """
    cols = ["claim_id", "trial_group", "direction", "participants", "design", "comparator", "randomised",
            "controlled", "ms_population", "directness", "rob_overall", "study_id", "evidence_kind"]
    if "evidence_kind" not in links:
        links = links.assign(evidence_kind="study")
    if "expected_direction" not in links:
        links = links.assign(expected_direction=None)
    if links.empty:
        # Keep the columns' types (``controlled`` stays boolean) so callers need no empty-case branch.
        empty = np.array([], dtype=np.int64)
        return links.reindex(columns=cols + ["expected_direction"]).reset_index(drop=True), empty, empty
    # One integer per (claim, trial): grouping on it is far cheaper than on two string columns.
    trial_codes = _sorted_codes(links, "_trial_rank", "trial_group")
    n_trials = int(trial_codes.max()) + 1
    group = _sorted_codes(links, "_claim_rank", "claim_id") * n_trials + trial_codes
    del trial_codes  # a million-link table makes every such array tens of MiB: free each once used
    tier = ((links["basis"].to_numpy(dtype=object) == "within_group") * np.int8(2)
            + links["proxy_outcome"].to_numpy(dtype=bool)).astype(np.int8)
    keep, inverse, n_groups = _best_tier(group, tier)
    del tier
    starts = np.flatnonzero(np.r_[True, inverse[1:] != inverse[:-1]])
    claim_code = group[keep[starts]] // n_trials
    del group
    if "_direction_code" in links and links["_direction_code"].notna().all():
        code = links["_direction_code"].to_numpy(dtype=np.int64)[keep]
    else:
        direction_of = links["direction"].to_numpy(dtype=object)[keep]
        code = np.full(len(keep), -1, dtype=np.int64)
        for j, word in enumerate(DIRECTIONS):
            code[direction_of == word] = j
    # Per group, results in each signed direction (benefit, no difference, harm) ...
    benefit, no_difference, harm = (np.bincount(inverse[code == j], minlength=n_groups) for j in range(3))
    top = np.maximum(np.maximum(benefit, no_difference), harm)
    ties = (benefit == top).astype(np.int8) + (no_difference == top) + (harm == top)
    # ... and the one most frequent, unless none has a sign or two share the top count.
    most = np.where(benefit == top, 0, np.where(no_difference == top, 1, 2))
    del benefit, no_difference, harm
    direction_code = np.where((top > 0) & (ties == 1), most, DIRECTIONS.index("unclear"))
    direction = np.array(DIRECTIONS, dtype=object)[direction_code]

    def kept(column: str, dtype=None) -> np.ndarray:
        return links[column].to_numpy(dtype=dtype)[keep]

    participants = kept("participants", "float64")
    randomised = kept("randomised", bool)
    first_rows = keep[_describing_rows(inverse, starts, participants, randomised)]
    n_max = np.fmax.reduceat(participants, starts)

    def described(column: str) -> np.ndarray:
        return links[column].to_numpy(dtype=object)[first_rows]

    def any_of(values: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=values, minlength=n_groups) > 0

    out = {
        "claim_id": described("claim_id"),
        "trial_group": described("trial_group"),
        "direction": direction,
        "participants": n_max,
        "design": described("design"),
        "comparator": described("comparator"),
        "randomised": any_of(randomised),
        "controlled": any_of(kept("controlled", bool)),
        "ms_population": ~any_of(~kept("ms_population", bool)),
        # Two shared words, not a new string per row.
        "directness": np.array(["indirect", "direct"], dtype=object)[any_of(kept("directness", object) == "direct").astype(np.int8)],
        "rob_overall": described("rob_overall"),
        "study_id": described("study_id"),
        "evidence_kind": described("evidence_kind"),
        "expected_direction": described("expected_direction"),
    }
    # Text stays in object arrays: letting pandas re-infer a string type would copy every value.
    return frame_of({c: out[c] for c in cols + ["expected_direction"]}, n_groups), claim_code, direction_code


def domain_directions(links: pd.DataFrame) -> pd.DataFrame:
    """One direction per outcome domain and trial, for effect-direction (harvest) plots by domain.

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`evidence_review.linking.link_claims` output; each outcome row counts once whatever
        claims it is linked to.

    Returns
    -------
    pandas.DataFrame
        :func:`study_directions` columns with ``outcome_domain`` in place of ``claim_id``.
    """
    # The claim's sort key would group by claim, not by domain.
    by_domain = links.drop_duplicates("outcome_id").drop(columns=["_claim_rank"], errors="ignore")
    by_domain = by_domain.assign(claim_id=by_domain["outcome_domain"], proxy_outcome=False)
    return study_directions(by_domain).rename(columns={"claim_id": "outcome_domain"})
