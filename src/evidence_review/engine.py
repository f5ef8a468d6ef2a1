"""From claims and evidence to a judgement per claim, stage by stage.

1. :mod:`~evidence_review.linking` links each claim to results and authoritative statements;
2. :mod:`~evidence_review.directions` gives one direction per claim and trial;
3. :mod:`~evidence_review.effect_sets` chooses one effect per trial, pools, and orients
   published estimates;
4. :mod:`~evidence_review.grading` rates the certainty of each claim's body of evidence (GRADE);
5. :mod:`~evidence_review.verdicts` puts each claim on the fixed verdict scale.

:func:`synthesise` runs them in order and returns a frozen :class:`Synthesis`. The rules are in
``docs/methods.md``. The stage functions the notebooks call are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .directions import DIRECTIONS, design_weight, domain_directions, point_estimate_directions, trial_directions
from .effect_sets import pool_claims, pooled_results, published_for_claims, sensitivity_analyses, trial_effects
from .grading import certainty_from_inputs, grading_inputs_by_code
from .linking import (DIRECTION_CODES, agreement_of_codes, distinct, link_background, link_claims, matches, rationales,
                      study_label, vocabulary_codes)
from .verdicts import count_by_claim, counts_frame, sign_test, verdicts_from_counts

__all__ = [
    "Synthesis",
    "VERDICT_COLUMNS",
    "synthesise",
    "study_label",
    "rationales",
    "design_weight",
    "domain_directions",
    "pooled_results",
    "sensitivity_analyses",
]

#: Columns of ``Synthesis.verdicts`` (and ``reports/verdicts.csv``), always in this order.
VERDICT_COLUMNS = (
    "claim_id", "verdict", "certainty", "studies", "trials", "participants", "direct_trials", "controlled_direct_trials",
    "results", "n_benefit", "n_no_difference", "n_harm", "n_unclear", "basis_trials_agreeing", "basis_trials_disagreeing",
    "sign_test_p", "pooled_g", "pooled_ci_low", "pooled_ci_high", "pooled_k", "pooled_i2", "pooling_note", "carried_by",
    "verdict_reasons", "certainty_reasons",
)
_POOLED_COLUMNS = ["claim_id", "k_effects", "k", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q",
                   "pooling_note"]


@dataclass(frozen=True)
class Synthesis:
    """Everything the engine concludes, as tables with stable columns.

    Attributes
    ----------
    links : pandas.DataFrame
        One row per claim x result (outcome row or authoritative statement), with ``direction``,
        ``agreement``, ``directness``, ``evidence_kind`` and (if asked) ``rationale``.
    trials : pandas.DataFrame
        One row per claim x trial (or source): its direction, ``agreement`` and
        ``basis_for_verdict``.
    pooled : pandas.DataFrame
        One row per linked claim: ``k_effects``, the random-effects result where ``k_effects >= 2``
        and ``pooling_note``.
    verdicts : pandas.DataFrame
        One row per claim, columns :data:`VERDICT_COLUMNS`; ``certainty`` is high, moderate, low,
        very_low, or NA where there is no body of evidence.
    certainty_domains : pandas.DataFrame
        Tidy ``claim_id``, ``domain``, ``change``, ``reason``: per graded claim, a ``start`` row
        (change 0, the reason names the starting level) and one row per GRADE domain.
    """

    links: pd.DataFrame
    trials: pd.DataFrame
    pooled: pd.DataFrame
    verdicts: pd.DataFrame
    certainty_domains: pd.DataFrame


def _carriers(claims: pd.DataFrame, pooled: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The effect estimate that carries each claim's verdict: this review's pooled g, else a published one."""
    cols = ["label", "source", "scale", "measure", "estimate", "ci_low", "ci_high", "i2"]
    intervention = set(claims.loc[claims["claim_type"] != "background", "claim_id"])
    own = pooled.loc[(pooled["k_effects"] >= 2) & pooled["claim_id"].isin(intervention)]
    own = pd.DataFrame({
        "claim_id": own["claim_id"], "label": "This review's pooled estimate (" + own["k_effects"].astype(str) + " trials)",
        "source": "pooled", "scale": "smd", "measure": "g", "estimate": own["estimate"], "ci_low": own["ci_low"],
        "ci_high": own["ci_high"], "i2": own["i2"],
    })
    pub = published.loc[~published["claim_id"].isin(set(own["claim_id"])) & published["claim_id"].isin(intervention)]
    if pub.empty:
        return own.set_index("claim_id")[cols]
    pub = pd.DataFrame({
        "claim_id": pub["claim_id"],
        "label": "Published meta-analysis " + pub["review_id"].map(study_label) + " (" + pub["instrument_or_scope"].astype(str) + ")",
        "source": "published", "scale": pub["scale"], "measure": pub["effect_measure"], "estimate": pub["favours_estimate"],
        "ci_low": pub["favours_ci_low"], "ci_high": pub["favours_ci_high"], "i2": pub["i2"].astype("float64"),
    })
    both = pd.concat([own, pub], ignore_index=True)
    return both.set_index("claim_id")[cols]


def _link_counts(study_links: pd.DataFrame, source_links: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """Per claim: linked results by direction, and distinct studies or sources, on integer codes."""
    rank = study_links["_claim_rank"].to_numpy(dtype=np.int64) if len(study_links) else np.array([], dtype=np.int64)
    names = np.full(int(rank.max()) + 1 if len(rank) else 0, None, dtype=object)
    if len(rank):
        # Links come grouped by claim: name each claim key where a new run of it starts.
        starts = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]])
        names[rank[starts]] = study_links["claim_id"].to_numpy(dtype=object)[starts]
    counts = np.zeros((len(names), len(DIRECTIONS) + 1), dtype=np.int64)
    if len(rank):
        code = study_links["_direction_code"].to_numpy(dtype=np.int64)
        valid = code >= 0
        counts[:, :len(DIRECTIONS)] = np.bincount(rank[valid] * len(DIRECTIONS) + code[valid],
                                                  minlength=len(names) * len(DIRECTIONS)).reshape(len(names), len(DIRECTIONS))
    if len(rank):
        studies = study_links["_study_rank"].to_numpy(dtype=np.int64)
        width = int(studies.max()) + 1
        counts[:, -1] = np.bincount(distinct(rank * width + studies) // width, minlength=len(names))
    used = names != None  # noqa: E711 - element-wise test on an object array
    counts, names = counts[used], names[used]
    out = pd.DataFrame(counts, index=names, columns=[*DIRECTIONS, "studies"])
    if len(source_links):
        src = source_links.groupby(["claim_id", "direction"]).size().unstack("direction", fill_value=0).reindex(columns=DIRECTIONS, fill_value=0)
        src["studies"] = source_links.groupby("claim_id")["study_id"].nunique()
        out = out.add(src, fill_value=0)
    return out.reindex(ids, fill_value=0).astype(int)


def synthesise(
    claims: pd.DataFrame,
    outcomes: pd.DataFrame,
    studies: pd.DataFrame,
    method: str = "dl",
    rationale: bool = True,
    reviews: pd.DataFrame | None = None,
    background: pd.DataFrame | None = None,
) -> Synthesis:
    """Run the whole engine: links, per-trial directions, effect sets, certainty and verdicts.

    Parameters
    ----------
    claims, outcomes, studies : pandas.DataFrame
        The validated tables.
    method : {"dl", "pm"}
        tau^2 estimator for pooling.
    rationale : bool
        Write a rationale sentence per link (presentation only).
    reviews : pandas.DataFrame, optional
        Published reviews' pooled results; a meta-analysis of the same comparison and outcome
        carries a verdict where this review cannot pool (instead of, never on top of, its trials).
    background : pandas.DataFrame, optional
        Authoritative evidence about the condition (:func:`evidence_review.background.load_background`).

    Returns
    -------
    Synthesis
    """
    outcomes = outcomes.assign(reported_direction=outcomes["direction"], direction=point_estimate_directions(outcomes))
    study_links = link_claims(claims, outcomes, studies, rationale=rationale)
    source_links = link_background(claims, background)
    if not rationale:
        source_links = source_links.drop(columns="rationale")
    links = pd.concat([study_links, source_links], ignore_index=True) if len(source_links) else study_links
    ids = claims["claim_id"]
    trials, trial_claim, trial_direction = trial_directions(links)
    # Per-claim facts are counted on integer claim codes (ascending as the ids sort), not on
    # millions of id strings; the codes' ids are read where each claim's run of trials starts.
    n_codes = int(trial_claim.max()) + 1 if len(trial_claim) else 0
    claim_names = np.full(n_codes, None, dtype=object)
    runs = np.flatnonzero(np.r_[True, trial_claim[1:] != trial_claim[:-1]]) if len(trial_claim) else trial_claim
    claim_names[trial_claim[runs]] = trials["claim_id"].to_numpy(dtype=object)[runs]
    used = claim_names != None  # noqa: E711 - element-wise test on an object array
    claim_table = claims.set_index("claim_id")
    expected_of = np.full(n_codes, -1, dtype=np.int8)
    expected_of[used] = vocabulary_codes(claim_table["expected_direction"].reindex(claim_names[used]), DIRECTION_CODES)
    background_of = np.zeros(n_codes, dtype=bool)
    background_of[used] = (claim_table["claim_type"].reindex(claim_names[used]) == "background").to_numpy()
    statement = matches(trials["evidence_kind"], "background_evidence")
    trials.pop("expected_direction")  # the claim's, known from the claims table
    trials["agreement"] = pd.Series(agreement_of_codes(trial_direction, expected_of[trial_claim], statement), dtype=object)
    direct = matches(trials["directness"], "direct")
    basis_rows = direct & (background_of[trial_claim] | trials["controlled"].to_numpy(dtype=bool))
    trials["basis_for_verdict"] = basis_rows

    # Pooling reads only each effect's claim, g and variance.
    effects = trial_effects(study_links, outcomes, columns=["claim_id"], linked_from_outcomes=True)
    linked_ids = list(claim_names[used])
    pooled = pool_claims(effects, linked_ids, method)[_POOLED_COLUMNS] if linked_ids else pd.DataFrame(columns=_POOLED_COLUMNS)
    published = published_for_claims(claims, reviews, studies)
    carriers = _carriers(claims, pooled, published) if len(pooled) else None

    # The verdict rests on the basis rows; a filter would copy each of their columns, so rows are masked instead.
    counts = count_by_claim(trials, trial_claim, n_codes, rows=basis_rows)
    counts = counts_frame({k: v[used] for k, v in counts.items()}, claim_names[used], ids)
    verdicts = verdicts_from_counts(claims, counts, set(linked_ids), carriers).reindex(ids)
    # A claim with basis rows is graded on them, any other on all its trials.
    has_basis = np.zeros(n_codes, dtype=bool)
    has_basis[used] = counts.reindex(claim_names[used])["k"].to_numpy() > 0
    graded_rows = basis_rows | ~has_basis[trial_claim]
    graded = claims.loc[claims["claim_id"].isin(set(linked_ids))]
    inputs = grading_inputs_by_code(trials, trial_claim, claim_names, rows=graded_rows).reindex(pd.Index(list(graded["claim_id"]), name="claim_id"))
    statement_carried = set(verdicts.index[verdicts["carried_by"] == "authoritative sources"])
    certainty, domains = certainty_from_inputs(inputs, graded, carriers, statement_carried)
    certainty = certainty.reindex(ids)

    per_link = _link_counts(study_links, source_links, ids)

    def per_claim(values=None) -> np.ndarray:
        return np.bincount(trial_claim, weights=values, minlength=n_codes)[used]

    # Trials are unique per claim, so counting rows counts trials.
    per_trial = pd.DataFrame({
        "trials": per_claim(),
        "participants": per_claim(trials["participants"].astype("float64").fillna(0).to_numpy()),
        "direct_trials": per_claim(direct),
        "controlled_direct_trials": per_claim(basis_rows),
    }, index=claim_names[used]).reindex(ids).fillna(0).astype(int)
    is_background = claims["claim_type"].eq("background").to_numpy()
    sign_p = np.where(is_background, sign_test(counts["agree"], counts["disagree"]), sign_test(counts["benefit"], counts["harm"]))
    pooled_by = pooled.set_index("claim_id").reindex(ids)
    ok = pooled_by["k_effects"].fillna(0).to_numpy() >= 2
    out = pd.DataFrame({
        "claim_id": ids.to_numpy(),
        "verdict": verdicts["verdict"].to_numpy(),
        "certainty": pd.array(certainty["certainty"].to_numpy(dtype=object), dtype=object),
        "studies": per_link["studies"].to_numpy(),
        "trials": per_trial["trials"].to_numpy(),
        "participants": per_trial["participants"].to_numpy(),
        "direct_trials": per_trial["direct_trials"].to_numpy(),
        "controlled_direct_trials": per_trial["controlled_direct_trials"].to_numpy(),
        "results": per_link.sum(axis=1).to_numpy(),
        "n_benefit": per_link["benefit"].to_numpy(),
        "n_no_difference": per_link["no_difference"].to_numpy(),
        "n_harm": per_link["harm"].to_numpy(),
        "n_unclear": per_link["unclear"].to_numpy(),
        "basis_trials_agreeing": verdicts["agree"].to_numpy(),
        "basis_trials_disagreeing": verdicts["disagree"].to_numpy(),
        "sign_test_p": sign_p,
        "pooled_g": np.where(ok, pooled_by["estimate"].astype("float64"), np.nan),
        "pooled_ci_low": np.where(ok, pooled_by["ci_low"].astype("float64"), np.nan),
        "pooled_ci_high": np.where(ok, pooled_by["ci_high"].astype("float64"), np.nan),
        "pooled_k": np.where(ok, pooled_by["k"].fillna(0), 0).astype(int),
        "pooled_i2": np.where(ok, pooled_by["i2"].astype("float64"), np.nan),
        "pooling_note": pooled_by["pooling_note"].fillna("not pooled: no linked results").to_numpy(),
        "carried_by": verdicts["carried_by"].to_numpy(),
        "verdict_reasons": verdicts["reasons"].map(" ".join).to_numpy(),
        "certainty_reasons": [" ".join(r) if isinstance(r, list) else "" for r in certainty["reasons"]],
    })
    out["certainty"] = out["certainty"].where(out["certainty"].notna(), pd.NA)
    return Synthesis(links=links, trials=trials, pooled=pooled, verdicts=out[list(VERDICT_COLUMNS)], certainty_domains=domains)
