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
    """The rows of each group in its best (lowest) tier, in row order, and their group's number.

    Parameters
    ----------
    group : numpy.ndarray of int
        Per row: its group key (claim x trial).
    tier : numpy.ndarray of int
        Per row: 0 to 3, lower is better.

    Returns
    -------
    keep : numpy.ndarray of int
        Positions of the kept rows, ascending.
    inverse : numpy.ndarray of int
        Per kept row: the rank of its group among the distinct keys (``numpy.unique``'s inverse).
    n_groups : int
    """
    # One stable sort on a combined key (tier fits in two bits) orders rows by group, then tier,
    # then position, as a lexsort would; the groups' numbers come from the same pass, and the
    # kept rows are put back in row order by marking them, not by sorting again.
    order = np.argsort(group * 4 + tier, kind="stable")
    g_sorted = group[order]
    starts = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    del g_sorted
    t_sorted = tier[order]
    best = t_sorted == t_sorted[np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))]
    del t_sorted
    group_no = np.full(len(group), -1, dtype=np.int64)
    group_no[order[best]] = (np.cumsum(starts) - 1)[best]
    del order
    keep = np.flatnonzero(group_no >= 0)
    return keep, group_no[keep], int(starts.sum())


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
        ``randomised``, ``controlled``, ``target_population``, ``directness``, ``rob_overall``, ``study_id``,
        ``evidence_kind`` and the claim's ``expected_direction`` (None when the links lack it).
    """
    cols = ["claim_id", "trial_group", "direction", "participants", "design", "comparator", "randomised",
            "controlled", "target_population", "directness", "rob_overall", "study_id", "evidence_kind"]
    if "evidence_kind" not in links:
        links = links.assign(evidence_kind="study")
    if "expected_direction" not in links:
        links = links.assign(expected_direction=None)
    if links.empty:
        # Keep the columns' types (``controlled`` stays boolean) so callers need no empty-case branch.
        return links.reindex(columns=cols + ["expected_direction"]).reset_index(drop=True)
    # One integer per (claim, trial): grouping on it is far cheaper than on two string columns.
    trial_codes = _sorted_codes(links, "_trial_rank", "trial_group")
    n_trials = int(trial_codes.max()) + 1
    group = _sorted_codes(links, "_claim_rank", "claim_id") * n_trials + trial_codes
    del trial_codes  # a million-link table makes every such array tens of MiB: free each once used
    tier = ((links["basis"].to_numpy(dtype=object) == "within_group") * np.int8(2)
            + links["proxy_outcome"].to_numpy(dtype=bool)).astype(np.int8)
    keep, inverse, n_groups = _best_tier(group, tier)
    del group, tier
    if "_direction_code" in links and links["_direction_code"].notna().all():
        code = links["_direction_code"].to_numpy(dtype=np.int64)[keep]
    else:
        direction_of = links["direction"].to_numpy(dtype=object)[keep]
        code = np.full(len(keep), -1, dtype=np.int64)
        for j, word in enumerate(DIRECTIONS):
            code[direction_of == word] = j
    signed = (code >= 0) & (code < 3)
    counts = np.bincount(inverse[signed] * 3 + code[signed], minlength=n_groups * 3).reshape(n_groups, 3)
    top = counts.max(axis=1)
    ties = (counts == top[:, None]).sum(axis=1)
    direction = np.where((top > 0) & (ties == 1), np.array(DIRECTIONS[:3], dtype=object)[counts.argmax(axis=1)], "unclear")

    def kept(column: str, dtype=None) -> np.ndarray:
        return links[column].to_numpy(dtype=dtype)[keep]

    participants = kept("participants", "float64")
    randomised = kept("randomised", bool)
    # The row that describes the trial: randomised before not, then the largest.
    describe = np.lexsort((-np.nan_to_num(participants, nan=-1.0), ~randomised, inverse))
    first_rows = keep[describe[np.r_[True, inverse[describe][1:] != inverse[describe][:-1]]]]
    n_max = np.full(n_groups, np.nan)
    np.fmax.at(n_max, inverse, participants)

    def described(column: str) -> np.ndarray:
        return links[column].to_numpy(dtype=object)[first_rows]

    def any_of(values: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=values, minlength=n_groups) > 0

    out = {
        "claim_id": described("claim_id"),
        "trial_group": described("trial_group"),
        "direction": direction.astype(object),
        "participants": n_max,
        "design": described("design"),
        "comparator": described("comparator"),
        "randomised": any_of(randomised),
        "controlled": any_of(kept("controlled", bool)),
        "target_population": ~any_of(~kept("target_population", bool)),
        "directness": np.where(any_of(kept("directness", object) == "direct"), "direct", "indirect").astype(object),
        "rob_overall": described("rob_overall"),
        "study_id": described("study_id"),
        "evidence_kind": described("evidence_kind"),
        "expected_direction": described("expected_direction"),
    }
    # Text stays in object arrays: letting pandas re-infer a string type would copy every value.
    return frame_of({c: out[c] for c in cols + ["expected_direction"]}, n_groups)


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
