"""Stage 3, effect sets: which effect per trial is pooled, the pooled analyses, sensitivity analyses,
forest-plot sets, and published estimates put on a "favours the intervention" axis.

Rules in ``docs/methods.md`` section 4 and 5. Statistics come from :mod:`evidence_review.effects`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .claims import explode_domains
from .effects import leave_one_out, pool_groups, pool_random_effects, smd_from_outcomes
from .linking import distinct, matches, study_label

__all__ = [
    "DIFFERENCE_MEASURES",
    "RATIO_MEASURES",
    "SMD_MEASURES",
    "timepoint_rank",
    "trial_effects",
    "pool_claims",
    "sensitivity_analyses",
    "pooled_results",
    "orient_published",
    "published_for_claims",
]

#: Measures on a difference scale (null 0): their sign can be turned to favour the intervention.
DIFFERENCE_MEASURES = ("md", "wmd", "smd", "hedges g", "hedges' g", "cohen's d", "mean difference", "standardised mean difference",
                       "standardized mean difference", "g", "d")
#: Difference measures in standard-deviation units, comparable with this review's Hedges' g.
SMD_MEASURES = ("smd", "hedges g", "hedges' g", "cohen's d", "standardised mean difference", "standardized mean difference", "g", "d")
#: Ratio measures (null 1): kept on their own scale; which way favours the intervention depends on the event.
RATIO_MEASURES = ("rr", "or", "hr", "risk ratio", "odds ratio", "hazard ratio", "relative risk")
#: Timepoint wording that marks a result taken after the end of treatment or part-way through it.
_LATER = re.compile(r"follow-?up|months? after|weeks? after|wk after|\bmid\b|mid-|during", re.IGNORECASE)


def _sort_key(frame: pd.DataFrame, rank: str, column: str, at: np.ndarray) -> np.ndarray:
    """Integer codes in sorted order of ``column`` at rows ``at``: the precomputed ``rank`` column when present."""
    # Rows are picked before widening to int64, so no full-length int64 copy is made.
    if rank in frame and frame[rank].notna().all():
        return frame[rank].to_numpy()[at].astype(np.int64)
    return pd.factorize(frame[column], sort=True)[0][at].astype(np.int64)


def timepoint_rank(timepoint: pd.Series) -> pd.Series:
    """0 for a result at the end of treatment, 1 for one taken later or part-way through.

    Parameters
    ----------
    timepoint : pandas.Series
        Free-text timepoints (``"post-intervention (6 wk)"``, ``"8-wk follow-up"``).

    Returns
    -------
    pandas.Series of int
    """
    return timepoint.fillna("").astype(str).str.contains(_LATER).astype(int)


def trial_effects(links: pd.DataFrame, outcomes: pd.DataFrame, columns: list[str] | None = None,
                  linked_from_outcomes: bool = False) -> pd.DataFrame:
    """One Hedges' g per claim and trial, chosen by a fixed priority (methods section 4).

    Candidates are direct, controlled, between-group rows with end-of-treatment values (``post``)
    and both arms' means, SDs and Ns (at least 2 per arm). Among a trial's candidates for one claim:

    1. the instrument used by the most trials of that claim (so pooled trials measure alike);
    2. the timepoint at the end of treatment before later or mid-treatment ones;
    3. the larger number analysed (both arms);
    4. the row that comes first in the outcomes file.

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`evidence_review.linking.link_claims` output.
    outcomes : pandas.DataFrame
        Outcomes table (for the numbers behind g and the timepoint).
    columns : list of str, optional
        The link columns to return; all when omitted. Pooling needs only ``claim_id``, and
        copying every column of the chosen rows costs hundreds of MiB at a million links.
    linked_from_outcomes : bool
        The links were made from this very ``outcomes`` table, so their ``_outcome_row`` numbers
        point into it; otherwise each link's row is checked against its ``outcome_id`` (and found
        by id where it does not match), which at millions of links costs a string comparison each.

    Returns
    -------
    pandas.DataFrame
        The chosen link rows (their ``columns``) with ``g``, ``var_g``, ``se_g``, ``ci_low_g``, ``ci_high_g``,
        ``instrument_rank`` and ``timepoint_rank``.
    """
    if "evidence_kind" in links:
        # Authoritative background statements have no effect size. Filtering copies every column,
        # so it is done only when there is something to drop.
        study = matches(links["evidence_kind"], "study")
        links = links if study.all() else links.loc[study]
    is_post = outcomes["value_type"].eq("post").fillna(False).to_numpy(dtype=bool)
    post = outcomes if is_post.all() else outcomes.loc[is_post]
    g = smd_from_outcomes(post).dropna(subset=["g", "var_g"])
    if g.empty or links.empty:
        return (links if columns is None else links[columns]).iloc[0:0].assign(g=np.nan, var_g=np.nan, se_g=np.nan, ci_low_g=np.nan, ci_high_g=np.nan)
    # Every per-outcome number is laid out by the outcome's row, so links find theirs without hashing ids.
    rows = outcomes.index.get_indexer(g.index)
    n_rows = len(outcomes)
    by_row = {col: np.full(n_rows, np.nan) for col in ("g", "var_g", "se_g", "ci_low_g", "ci_high_g")}
    for col in by_row:
        by_row[col][rows] = g[col].to_numpy()
    timepoint = outcomes["timepoint"] if "timepoint" in outcomes else pd.Series(None, index=outcomes.index, dtype=object)
    codes, uniques = pd.factorize(timepoint)
    # The wording is checked once per distinct timepoint (-1: not reported, ranked as end of treatment).
    timepoint_of = np.append(timepoint_rank(pd.Series(uniques, dtype=object)).to_numpy(), 0)[codes]
    n_of = (outcomes["n_int"].astype("float64") + outcomes["n_ctl"].astype("float64")).to_numpy()
    instrument_of = pd.factorize(outcomes["instrument"])[0].astype(np.int64)
    ids = outcomes["outcome_id"].to_numpy(dtype=object)
    link_row = links["_outcome_row"].to_numpy(dtype=np.int64) if "_outcome_row" in links and links["_outcome_row"].notna().all() else None
    if link_row is None or (link_row >= n_rows).any() or not (
            linked_from_outcomes or (ids[np.minimum(link_row, n_rows - 1)] == links["outcome_id"].to_numpy(dtype=object)).all()):
        # Links made from another outcomes table: find each row by its id.
        link_row = pd.Index(ids).get_indexer(links["outcome_id"])
    mask = ((links["directness"].to_numpy(dtype=object) == "direct") & links["controlled"].to_numpy(dtype=bool)
            & (link_row >= 0))
    mask[mask] = ~np.isnan(by_row["g"][link_row[mask]])
    at = np.flatnonzero(mask)
    if not len(at):
        return (links if columns is None else links[columns]).iloc[0:0].assign(g=np.nan, var_g=np.nan, se_g=np.nan, ci_low_g=np.nan, ci_high_g=np.nan)
    row = link_row[at]
    claim_code = _sort_key(links, "_claim_rank", "claim_id", at)
    trial_code = _sort_key(links, "_trial_rank", "trial_group", at)
    instrument_code = instrument_of[row]
    # How many trials of the same claim use each instrument (more is preferred).
    n_trials = int(trial_code.max()) + 1
    claim_instrument = claim_code * (int(instrument_code.max()) + 1) + instrument_code
    del instrument_code
    used_by = distinct(claim_instrument * n_trials + trial_code) // n_trials
    keys, users = np.unique(used_by, return_counts=True)
    instrument_rank = -users[np.searchsorted(keys, claim_instrument)]
    del claim_instrument, used_by
    # One key per claim x trial sorts exactly as claim then trial (trial codes are below n_trials).
    pair = claim_code * n_trials + trial_code
    del claim_code, trial_code
    first = _first_by_priority(pair, lambda sub: (row[sub], _sort_key(links, "_study_rank", "study_id", at[sub]),
                                                  -np.nan_to_num(n_of[row[sub]]), timepoint_of[row[sub]], instrument_rank[sub]))
    out = (links if columns is None else links[columns]).iloc[at[first]].reset_index(drop=True)
    for col, values in by_row.items():
        out[col] = values[row[first]]
    out["timepoint_rank"] = timepoint_of[row[first]]
    out["instrument_rank"] = instrument_rank[first]
    return out


def _first_by_priority(pair: np.ndarray, priority) -> np.ndarray:
    """Per distinct ``pair`` key (ascending), the position of its first row by ``priority``.

    Parameters
    ----------
    pair : numpy.ndarray of int
        Per row: its group key.
    priority : callable
        Given positions, the sort keys at those positions for :func:`numpy.lexsort` (last key
        first in importance); ties keep position order.

    Returns
    -------
    numpy.ndarray of int
    """
    order = np.argsort(pair, kind="stable")
    p = pair[order]
    starts = np.r_[True, p[1:] != p[:-1]]
    first = order[starts]
    sizes = np.diff(np.append(np.flatnonzero(starts), len(p)))
    group = np.cumsum(starts) - 1
    # Most keys have one candidate, which is their first; only the others are ranked.
    several = np.sort(order[sizes[group] > 1])
    if len(several):
        ranked = several[np.lexsort((*priority(several), pair[several]))]
        q = pair[ranked]
        winners = ranked[np.r_[True, q[1:] != q[:-1]]]
        first[np.searchsorted(p[starts], pair[winners])] = winners
    return first


def pool_claims(effects: pd.DataFrame, claim_ids, method: str = "dl") -> pd.DataFrame:
    """Random-effects pooling of the chosen Hedges' g per claim, where two or more trials allow it.

    Parameters
    ----------
    effects : pandas.DataFrame
        :func:`trial_effects` output.
    claim_ids : sequence of str
        Claims to report on (each gets a row).
    method : {"dl", "pm"}
        tau^2 estimator.

    Returns
    -------
    pandas.DataFrame
        One row per claim: ``claim_id``, ``k_effects`` (trials with a computable g), pooled columns
        where ``k_effects >= 2`` and ``pooling_note`` saying why not otherwise.
    """
    cols = ["claim_id", "k", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q"]
    pooled = pool_groups(effects, "claim_id", method=method) if len(effects) else pd.DataFrame(columns=cols)
    k_eff = effects.groupby("claim_id").size().rename("k_effects") if len(effects) else pd.Series(dtype=int, name="k_effects")
    out = pd.DataFrame({"claim_id": sorted(set(claim_ids))})
    out = out.merge(k_eff.reset_index(), on="claim_id", how="left") if len(k_eff) else out.assign(k_effects=0)
    out["k_effects"] = out["k_effects"].fillna(0).astype(int)
    out = out.merge(pooled, on="claim_id", how="left")
    out["pooling_note"] = np.where(
        out["k_effects"] >= 2,
        "pooled: random effects (" + method.upper() + "), Hedges' g, positive favours the intervention",
        np.where(
            out["k_effects"] == 1,
            "not pooled: only one controlled trial reports means, SDs and Ns",
            "not pooled: no controlled trial reports means, SDs and Ns for both arms",
        ),
    )
    return out


def sensitivity_analyses(links: pd.DataFrame, outcomes: pd.DataFrame, method: str = "dl") -> pd.DataFrame:
    """Sensitivity analyses for every claim that can be pooled: all trials, randomised only, leave-one-out.

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`evidence_review.linking.link_claims` output.
    outcomes : pandas.DataFrame
        Outcomes table.
    method : {"dl", "pm"}
        tau^2 estimator.

    Returns
    -------
    pandas.DataFrame
        ``claim_id``, ``analysis``, ``k``, ``estimate``, ``ci_low``, ``ci_high``, ``i2``; empty
        when no claim has two or more trials with effect sizes.
    """
    cols = ["claim_id", "analysis", "k", "estimate", "ci_low", "ci_high", "i2"]
    rows = []
    for claim_id, grp in trial_effects(links, outcomes).groupby("claim_id", sort=True):
        subsets = {"all trials": grp, "randomised only": grp.loc[grp["randomised"].to_numpy(dtype=bool)]}
        for name, sub in subsets.items():
            if len(sub) >= 2:
                r = pool_random_effects(sub["g"].to_numpy(), sub["var_g"].to_numpy(), sub["study_id"].tolist(), method=method)
                rows.append([claim_id, name, r.k, r.estimate, r.ci_low, r.ci_high, r.i2])
                if name == "all trials":
                    for loo in leave_one_out(r).itertuples():
                        rows.append([claim_id, f"without {loo.omitted}", r.k - 1, loo.estimate, loo.ci_low, loo.ci_high, loo.i2])
    return pd.DataFrame(rows, columns=cols)


def pooled_results(links: pd.DataFrame, outcomes: pd.DataFrame, method: str = "dl") -> dict:
    """Every pooled analysis as a :class:`~evidence_review.effects.PoolResult` (for forest plots).

    Parameters
    ----------
    links : pandas.DataFrame
    outcomes : pandas.DataFrame
    method : {"dl", "pm"}

    Returns
    -------
    dict
        ``claim_id`` -> PoolResult, for claims with two or more trials with effect sizes.
    """
    out = {}
    for claim_id, grp in trial_effects(links, outcomes).groupby("claim_id", sort=True):
        if len(grp) >= 2:
            out[claim_id] = pool_random_effects(grp["g"].to_numpy(), grp["var_g"].to_numpy(),
                                                [study_label(s) for s in grp["study_id"]], method=method)
    return out


def _measure_kind(measure: pd.Series) -> pd.Series:
    m = measure.fillna("").astype(str).str.strip().str.lower()
    return pd.Series(np.select([m.isin(SMD_MEASURES), m.isin(DIFFERENCE_MEASURES), m.isin(RATIO_MEASURES)],
                               ["smd", "difference", "ratio"], "unknown"), index=measure.index)


def orient_published(reviews: pd.DataFrame) -> pd.DataFrame:
    """Published pooled estimates on a "positive favours the intervention" axis where the measure allows.

    A difference measure (MD, SMD, ...) with a known ``higher_is_better`` is turned so that a
    positive value favours the intervention (sign flipped where lower scores are better). A ratio
    measure (RR, OR, HR) is kept on its own scale with its null at 1, since whether a ratio above 1
    favours the intervention depends on the event counted. An unnamed measure, or a difference
    without its orientation, is not converted.

    Parameters
    ----------
    reviews : pandas.DataFrame
        The reviews table (optional column ``higher_is_better``).

    Returns
    -------
    pandas.DataFrame
        The rows with an estimate, plus ``scale`` (``smd``, ``difference``, ``ratio``, ``unknown``),
        ``null_value``, ``favours_estimate``, ``favours_ci_low``, ``favours_ci_high`` (NaN where not
        converted) and ``conversion_note``.
    """
    sub = reviews.dropna(subset=["estimate"]).copy()
    kind = _measure_kind(sub["effect_measure"]) if len(sub) else pd.Series(dtype=object)
    hib = sub["higher_is_better"].astype("boolean") if "higher_is_better" in sub else pd.Series(pd.NA, index=sub.index, dtype="boolean")
    diff = kind.isin(["smd", "difference"]).to_numpy()
    oriented = diff & hib.notna().to_numpy()
    sign = np.where(hib.fillna(True).to_numpy(dtype=bool), 1.0, -1.0)
    est, lo, hi = (sub[c].astype("float64").to_numpy() for c in ("estimate", "ci_low", "ci_high"))
    sub["scale"] = kind.to_numpy()
    sub["null_value"] = np.where(kind == "ratio", 1.0, np.where(diff, 0.0, np.nan))
    sub["favours_estimate"] = np.where(oriented, est * sign, np.nan)
    sub["favours_ci_low"] = np.where(oriented, np.where(sign > 0, lo, -hi), np.nan)
    sub["favours_ci_high"] = np.where(oriented, np.where(sign > 0, hi, -lo), np.nan)
    sub["conversion_note"] = np.select(
        [oriented, diff, kind == "ratio"],
        ["positive favours the intervention",
         "not converted: which way the scale runs is not recorded",
         "ratio: kept on its own scale (null at 1)"],
        "not converted: measure not named",
    )
    return sub.reset_index(drop=True)


def published_for_claims(claims: pd.DataFrame, reviews: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """For each claim, the published meta-analysis of the same comparison and outcome, if any.

    Qualifies: a review in the studies table that is direct evidence in people with MS, reporting a
    pooled estimate with its CI on a difference scale with known orientation, for the one outcome
    domain the claim names (claims naming several domains, or only proxies, get none). Where several qualify, the one with the most studies, then the
    first by review id and file order.

    Parameters
    ----------
    claims, reviews, studies : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        One row per claim with a published estimate: ``claim_id``, ``review_id``, ``effect_measure``,
        ``scale``, ``favours_estimate``, ``favours_ci_low``, ``favours_ci_high``, ``n_studies``, ``i2``,
        ``instrument_or_scope``.
    """
    cols = ["claim_id", "review_id", "effect_measure", "scale", "favours_estimate", "favours_ci_low", "favours_ci_high",
            "n_studies", "i2", "instrument_or_scope"]
    if reviews is None or reviews.empty:
        return pd.DataFrame(columns=cols)
    oriented = orient_published(reviews)
    direct = studies.loc[(studies["design"] == "systematic_review") & (studies["condition"] == "ms")
                         & (studies["directness"] == "direct"), "study_id"]
    oriented = oriented.loc[oriented["review_id"].isin(direct) & oriented["favours_estimate"].notna()
                            & oriented["favours_ci_low"].notna() & oriented["favours_ci_high"].notna()]
    named = explode_domains(claims.loc[claims["testable"] & (claims["claim_type"] != "background")])
    named = named.loc[~named["proxy_outcome"]]
    # A review of one outcome speaks for a claim about that outcome, not for a claim spanning several.
    named = named.loc[named.groupby("claim_id")["outcome_domain"].transform("size") == 1]
    merged = named.merge(oriented.assign(_row=np.arange(len(oriented))), on="outcome_domain")
    if merged.empty:
        return pd.DataFrame(columns=cols)
    merged["_k"] = -merged["n_studies"].astype("float64").fillna(0)
    merged = merged.sort_values(["claim_id", "_k", "review_id", "_row"], kind="stable").drop_duplicates("claim_id")
    return merged[cols].reset_index(drop=True)
