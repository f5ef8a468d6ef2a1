"""From claims and studies to a judgement per claim: links, vote counts, pooling, certainty, verdict.

The rules are written out in ``docs/methods.md``; each function here implements one of them and
is unit-tested on constructed inputs.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

from .claims import explode_domains
from .effects import pool_groups, smd_from_outcomes
from .vocab import CERTAINTY_LEVELS, CONTROLLED_DESIGNS, RANDOMISED_DESIGNS

__all__ = [
    "study_label",
    "link_claims",
    "study_directions",
    "domain_directions",
    "vote_count",
    "design_weight",
    "grade_certainty",
    "decide_verdict",
    "pool_claims",
    "synthesise",
    "sensitivity_analyses",
]

#: Comparators that do not control for attention, touch or expectation.
WEAK_COMPARATORS = ("usual_care", "waitlist", "none")
#: Relative weight of a result by design when weighting directions (randomised = 1).
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
#: GRADE optimal-information-size rule of thumb for continuous outcomes (total participants).
OIS_PARTICIPANTS = 400
VERY_SMALL_PARTICIPANTS = 100
SMALL_TRIAL = 100

_DESIGN_LABEL = {
    "rct": "RCT",
    "crossover_rct": "crossover RCT",
    "non_randomised_controlled": "non-randomised controlled study",
    "pre_post": "before-after study",
    "cohort": "cohort study",
    "cross_sectional": "survey",
    "case_series": "case report/series",
    "narrative_review": "narrative review",
    "systematic_review": "systematic review",
}
_DIRECTION_TEXT = {
    "benefit": "favoured the intervention",
    "no_difference": "no difference",
    "harm": "worse with the intervention",
    "unclear": "direction unclear",
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


def study_label(study_id: str) -> str:
    """Readable label for a study: ``negahban2013`` becomes ``Negahban 2013``.

    Parameters
    ----------
    study_id : str
        A study id; ids not of the form surname+year are returned unchanged.

    Returns
    -------
    str
    """
    m = re.fullmatch(r"([a-z]+)(\d{4})([a-z]?)", study_id)
    return f"{m.group(1).capitalize()} {m.group(2)}{m.group(3)}" if m else study_id


def link_claims(claims: pd.DataFrame, outcomes: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Link each claim to every outcome row in one of its outcome domains.

    Claims about MS itself (``background``) link only to observational studies of MS
    (``intervention == "no_intervention"``); all other claims link only to studies of an
    intervention. Systematic reviews are shown beside the synthesis, not linked, so that their
    primary studies are not counted twice.

    Parameters
    ----------
    claims, outcomes, studies : pandas.DataFrame
        The validated tables.

    Returns
    -------
    pandas.DataFrame
        One row per claim x outcome with study characteristics, ``proxy_outcome`` (the outcome
        domain is not the first one the claim names), ``ms_population``, ``controlled``,
        ``directness`` (``direct`` or ``indirect``), ``indirect_reason`` and a ``rationale`` sentence.
    """
    pairs = explode_domains(claims.loc[claims["testable"]])
    study_cols = [
        "study_id", "authors", "year", "design", "condition", "intervention", "comparator",
        "comparator_detail", "n_randomised", "n_analysed", "trial_group", "rob_overall", "rob_tool",
        "directness", "directness_reason",
    ]
    merged = pairs.merge(claims[["claim_id", "claim_type", "expected_direction"]], on="claim_id").merge(
        outcomes, on="outcome_domain"
    ).merge(studies[study_cols].rename(columns={"directness": "study_directness"}), on="study_id")
    merged = merged.loc[merged["design"] != "systematic_review"]
    background = merged["claim_type"] == "background"
    observational = merged["intervention"] == "no_intervention"
    merged = merged.loc[background == observational].copy()
    merged["participants"] = merged["n_randomised"].fillna(merged["n_analysed"])
    merged["ms_population"] = merged["condition"] == "ms"
    merged["controlled"] = merged["design"].isin(CONTROLLED_DESIGNS) & (merged["basis"] == "between_group")
    merged["randomised"] = merged["design"].isin(RANDOMISED_DESIGNS)
    reasons = []
    for row in merged.itertuples():
        why = []
        if not row.ms_population:
            why.append("not people with MS")
        if row.study_directness == "indirect" and row.ms_population:
            why.append(str(row.directness_reason) if isinstance(row.directness_reason, str) else "indirect intervention")
        if row.proxy_outcome:
            why.append(f"{row.outcome_domain} is a proxy for the named outcome")
        reasons.append("; ".join(why))
    merged["indirect_reason"] = reasons
    merged["directness"] = np.where(merged["indirect_reason"] == "", "direct", "indirect")
    merged["rationale"] = [_rationale(r) for r in merged.to_dict("records")]
    order = ["claim_id", "study_id", "outcome_id"]
    return merged.sort_values(order, kind="stable").reset_index(drop=True)


def _rationale(row: dict) -> str:
    n = row.get("participants")
    n_text = f", n={int(n)}" if n is not None and not pd.isna(n) else ""
    stat = ""
    if row.get("p_value") is not None and not pd.isna(row.get("p_value")):
        op = row.get("p_operator") if isinstance(row.get("p_operator"), str) else "="
        stat = f", p{op}{row['p_value']:g}"
    basis = "between groups" if row["basis"] == "between_group" else "before vs after"
    return (
        f"{study_label(row['study_id'])}, {_DESIGN_LABEL.get(row['design'], row['design'])}{n_text}: "
        f"{row['instrument']} ({row['outcome_domain']}) {_DIRECTION_TEXT[row['direction']]} "
        f"({basis}; {row['comparison']}{stat})"
    )


def study_directions(links: pd.DataFrame) -> pd.DataFrame:
    """One direction of effect per claim and trial (papers of one trial counted once).

    Within a trial the best available results decide: between-group before within-group, the
    named outcome before proxies. Among those, the most frequent direction wins; a tie between
    different directions is ``unclear``.

    Parameters
    ----------
    links : pandas.DataFrame
        Output of :func:`link_claims` (possibly filtered).

    Returns
    -------
    pandas.DataFrame
        ``claim_id``, ``trial_group``, ``direction``, ``participants``, ``design``, ``comparator``,
        ``randomised``, ``controlled``, ``ms_population``, ``directness``, ``rob_overall``.
    """
    cols = ["claim_id", "trial_group", "direction", "participants", "design", "comparator", "randomised",
            "controlled", "ms_population", "directness", "rob_overall", "study_id"]
    if links.empty:
        return pd.DataFrame(columns=cols)
    ranked = links.assign(
        _tier=(links["basis"] != "between_group").astype(int) * 2 + links["proxy_outcome"].astype(int)
    )
    best = ranked.loc[ranked.groupby(["claim_id", "trial_group"])["_tier"].transform("min") == ranked["_tier"]]
    rows = []
    for (claim_id, trial), grp in best.groupby(["claim_id", "trial_group"], sort=True):
        counts = grp["direction"].value_counts()
        decisive = counts.drop("unclear", errors="ignore")
        if decisive.empty:
            direction = "unclear"
        else:
            top = decisive[decisive == decisive.max()]
            direction = top.index[0] if len(top) == 1 else "unclear"
        first = grp.sort_values(["randomised", "participants"], ascending=False, kind="stable").iloc[0]
        rows.append(
            {
                "claim_id": claim_id,
                "trial_group": trial,
                "direction": direction,
                "participants": grp["participants"].max(),
                "design": first["design"],
                "comparator": first["comparator"],
                "randomised": bool(grp["randomised"].any()),
                "controlled": bool(grp["controlled"].any()),
                "ms_population": bool(grp["ms_population"].all()),
                "directness": "direct" if (grp["directness"] == "direct").any() else "indirect",
                "rob_overall": first["rob_overall"],
                "study_id": first["study_id"],
            }
        )
    return pd.DataFrame(rows, columns=cols)


def domain_directions(links: pd.DataFrame) -> pd.DataFrame:
    """One direction per outcome domain and trial, for effect-direction (harvest) plots by domain.

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`link_claims` output; each outcome row counts once whatever claims it is linked to.

    Returns
    -------
    pandas.DataFrame
        :func:`study_directions` columns with ``outcome_domain`` in place of ``claim_id``.
    """
    by_domain = links.drop_duplicates("outcome_id").assign(claim_id=lambda d: d["outcome_domain"], proxy_outcome=False)
    return study_directions(by_domain).rename(columns={"claim_id": "outcome_domain"})


def vote_count(directions, expected: str = "benefit") -> dict:
    """Vote count by direction of effect with a two-sided sign test (Cochrane Handbook 12.2.2.2).

    Only results with a direction count; ``no_difference`` results have no sign and are reported
    but not tested. Statistical significance is never the criterion.

    Parameters
    ----------
    directions : sequence of str
        One direction per trial (``benefit``, ``no_difference``, ``harm``, ``unclear``).
    expected : {"benefit", "harm", "no_difference"}
        The direction that would bear the claim out.

    Returns
    -------
    dict
        ``benefit``, ``no_difference``, ``harm``, ``unclear`` counts, ``agree`` (trials in the
        expected direction), ``disagree`` and ``sign_test_p`` (NaN when no trial has a sign).
    """
    directions = list(directions)
    counts = {d: directions.count(d) for d in ("benefit", "no_difference", "harm", "unclear")}
    signed = counts["benefit"] + counts["harm"]
    p = float(stats.binomtest(counts["benefit"], signed, 0.5).pvalue) if signed else float("nan")
    decisive = counts["benefit"] + counts["no_difference"] + counts["harm"]
    agree = counts[expected]
    return {**counts, "agree": agree, "disagree": decisive - agree, "sign_test_p": p}


def _share(mask: pd.Series, weights: pd.Series) -> float:
    total = weights.sum()
    return float(weights[mask].sum() / total) if total > 0 else float(mask.mean()) if len(mask) else 0.0


def grade_certainty(trials: pd.DataFrame, pooled: dict | None = None) -> tuple[str, list[str]]:
    """GRADE-style certainty of the evidence for one claim.

    Start ``high`` when any randomised trial contributes, ``low`` otherwise; then rate down for
    risk of bias, inconsistency, indirectness, imprecision and publication bias (rules in
    ``docs/methods.md``).

    Parameters
    ----------
    trials : pandas.DataFrame
        Output of :func:`study_directions` for one claim (the evidence the verdict rests on).
    pooled : dict, optional
        The claim's pooled analysis (keys ``i2``, ``ci_low``, ``ci_high``), if any.

    Returns
    -------
    certainty : str
        ``high``, ``moderate``, ``low`` or ``very_low``.
    reasons : list of str
        One sentence per rating decision.
    """
    if trials.empty:
        return "very_low", ["No studies: certainty cannot be above very low."]
    weights = trials["participants"].fillna(1).astype(float).clip(lower=1)
    randomised = trials["randomised"].astype(bool)
    level = 4 if randomised.any() else 2
    reasons = ["Starts high: randomised evidence." if randomised.any() else "Starts low: no randomised evidence."]

    high_rob = _share(trials["rob_overall"] == "high", weights)
    concerns = _share(trials["rob_overall"].isin(["high", "some_concerns"]), weights)
    if high_rob >= 0.5:
        level -= 2
        reasons.append(f"Risk of bias: very serious (-2), {high_rob:.0%} of participants in high-risk studies.")
    elif concerns >= 0.5:
        level -= 1
        reasons.append(f"Risk of bias: serious (-1), {concerns:.0%} of participants in studies with some concerns or high risk.")

    decisive = trials.loc[trials["direction"] != "unclear", "direction"]
    i2 = pooled.get("i2") if pooled else None
    if i2 is not None and not pd.isna(i2) and i2 >= 50:
        level -= 1
        reasons.append(f"Inconsistency: serious (-1), I^2 = {i2:.0f}%.")
    elif decisive.nunique() > 1:
        level -= 1
        reasons.append("Inconsistency: serious (-1), studies point in different directions.")

    direct_share = _share(trials["directness"] == "direct", weights)
    if not trials["ms_population"].any():
        level -= 2
        reasons.append("Indirectness: very serious (-2), no study in people with MS.")
    elif direct_share < 0.5:
        level -= 1
        reasons.append(f"Indirectness: serious (-1), only {direct_share:.0%} of participants from direct evidence.")

    total = float(trials["participants"].fillna(0).sum())
    crosses = pooled is not None and pooled.get("ci_low", np.nan) < 0 < pooled.get("ci_high", np.nan)
    if total < VERY_SMALL_PARTICIPANTS:
        level -= 2
        reasons.append(f"Imprecision: very serious (-2), {total:.0f} participants in all.")
    elif total < OIS_PARTICIPANTS or crosses:
        level -= 1
        why = f"{total:.0f} participants, below the {OIS_PARTICIPANTS} of the optimal information size" if total < OIS_PARTICIPANTS else "the pooled CI includes no effect"
        reasons.append(f"Imprecision: serious (-1), {why}.")

    small = trials["participants"].fillna(0) < SMALL_TRIAL
    if len(trials) >= 2 and small.all() and (decisive == "benefit").all() and len(decisive) == len(trials):
        level -= 1
        reasons.append("Publication bias: suspected (-1), only small studies, all favourable.")

    level = max(level, 1)
    return CERTAINTY_LEVELS[4 - level], reasons


def decide_verdict(claim: pd.Series, trials: pd.DataFrame, all_links: pd.DataFrame) -> tuple[str, list[str]]:
    """Verdict on the fixed scale for one claim (rules in ``docs/methods.md``).

    Parameters
    ----------
    claim : pandas.Series
        One row of the claims table.
    trials : pandas.DataFrame
        :func:`study_directions` output for this claim, restricted to the evidence the verdict
        may rest on (direct, and controlled unless the claim is about MS itself).
    all_links : pandas.DataFrame
        Every link of this claim (to tell ``insufficient`` from ``no_evidence``).

    Returns
    -------
    verdict : str
        One of :data:`evidence_review.vocab.VERDICTS`.
    reasons : list of str
    """
    if not claim["testable"]:
        return "not_testable", ["Advice or a statement no study could test as worded."]
    if all_links.empty:
        return "no_evidence", ["No included study measured this outcome."]
    background = claim["claim_type"] == "background"
    if trials.empty:
        what = "direct studies of people with MS" if background else "controlled studies in people with MS"
        return "insufficient", [f"No {what}; only uncontrolled or indirect evidence."]
    votes = vote_count(trials["direction"], claim["expected_direction"])
    decisive = votes["agree"] + votes["disagree"]
    n = float(trials["participants"].fillna(0).sum())
    if decisive == 0:
        return "insufficient", ["The studies do not report a direction of effect."]
    if not background and len(trials) == 1 and n < SMALL_TRIAL:
        return "insufficient", [f"A single small controlled study ({n:.0f} participants)."]
    share = votes["agree"] / decisive
    expected = claim["expected_direction"]
    summary = f"{votes['agree']} of {decisive} studies with a direction found {expected.replace('_', ' ')}."
    if share >= 0.75:
        if expected == "benefit":
            strong = trials.loc[~trials["comparator"].isin(WEAK_COMPARATORS)]
            weak_only = (trials.loc[trials["direction"] == "benefit", "comparator"].isin(WEAK_COMPARATORS)).all()
            if weak_only and (strong["direction"] == "no_difference").any():
                return "mixed", [summary, "The benefit shows only against usual care or waiting list, not against sham or active controls."]
        return "supported", [summary]
    if share <= 0.25:
        if expected == "benefit":
            return "not_supported", [summary, "Controlled studies in MS found no benefit (or none beyond sham/active control)."]
        return "not_supported", [summary, "The evidence does not bear the statement out."]
    return "mixed", [summary, "The studies disagree."]


def pool_claims(links: pd.DataFrame, outcomes: pd.DataFrame, method: str = "dl") -> pd.DataFrame:
    """Random-effects pooling of Hedges' g per claim, where two or more trials allow it.

    Uses direct, controlled, between-group results on the claim's named outcome, one effect per
    trial (the first qualifying row), end-of-treatment values only, so that change scores and
    final values are not mixed in one standardised mean difference.

    Parameters
    ----------
    links : pandas.DataFrame
        Output of :func:`link_claims`.
    outcomes : pandas.DataFrame
        Outcomes table (for the numbers behind g).
    method : {"dl", "pm"}
        tau^2 estimator.

    Returns
    -------
    pandas.DataFrame
        One row per claim (all claims in ``links``): ``claim_id``, ``k_effects`` (trials with a
        computable g), pooled columns where ``k >= 2`` and ``pooling_note`` saying why not otherwise.
    """
    eligible = _claim_effects(links, outcomes)
    pooled = pool_groups(eligible, "claim_id", method=method) if not eligible.empty else pd.DataFrame(columns=["claim_id"])
    k_eff = eligible.groupby("claim_id").size().rename("k_effects")
    out = pd.DataFrame({"claim_id": sorted(links["claim_id"].unique())}).merge(k_eff, on="claim_id", how="left")
    out["k_effects"] = out["k_effects"].fillna(0).astype(int)
    out = out.merge(pooled, on="claim_id", how="left")
    out["pooling_note"] = np.where(
        out["k_effects"] >= 2,
        "pooled: random effects (" + method.upper() + "), Hedges' g, positive favours massage",
        np.where(
            out["k_effects"] == 1,
            "not pooled: only one controlled trial reports means, SDs and Ns",
            "not pooled: no controlled trial reports means, SDs and Ns for both arms",
        ),
    )
    return out


def synthesise(claims: pd.DataFrame, outcomes: pd.DataFrame, studies: pd.DataFrame, method: str = "dl") -> dict:
    """Run the whole engine: links, per-trial directions, pooling, certainty and verdicts.

    Parameters
    ----------
    claims, outcomes, studies : pandas.DataFrame
        The validated tables.
    method : {"dl", "pm"}
        tau^2 estimator for pooling.

    Returns
    -------
    dict
        ``links`` (claim x outcome), ``trials`` (claim x trial direction, with ``basis_for_verdict``),
        ``pooled`` (per claim) and ``verdicts`` (one row per claim, the columns of
        ``reports/verdicts.csv``).
    """
    links = link_claims(claims, outcomes, studies)
    trials = study_directions(links)
    pooled = pool_claims(links, outcomes, method) if not links.empty else pd.DataFrame(columns=["claim_id", "k_effects", "pooling_note"])
    bg = claims.set_index("claim_id")["claim_type"].eq("background")
    is_bg = trials["claim_id"].map(bg).astype(bool)
    trials["basis_for_verdict"] = (trials["directness"] == "direct") & (is_bg | trials["controlled"])
    rows = []
    link_groups = dict(tuple(links.groupby("claim_id"))) if not links.empty else {}
    trial_groups = dict(tuple(trials.groupby("claim_id"))) if not trials.empty else {}
    pooled_by = pooled.set_index("claim_id") if not pooled.empty else pd.DataFrame()
    empty_links, empty_trials = links.iloc[0:0], trials.iloc[0:0]
    for claim in claims.itertuples(index=False):
        c = pd.Series(claim._asdict())
        cl = link_groups.get(c["claim_id"], empty_links)
        ct = trial_groups.get(c["claim_id"], empty_trials)
        basis = ct.loc[ct["basis_for_verdict"]]
        p = pooled_by.loc[c["claim_id"]].to_dict() if c["claim_id"] in pooled_by.index else None
        p_ok = p if p and p.get("k", 0) and not pd.isna(p.get("k")) else None
        verdict, v_reasons = decide_verdict(c, basis, cl)
        if verdict in ("not_testable", "no_evidence"):
            certainty, c_reasons = ("", []) if verdict == "not_testable" else ("very_low", ["No studies."])
        else:
            certainty, c_reasons = grade_certainty(basis if not basis.empty else ct, p_ok)
        votes = vote_count(basis["direction"], c["expected_direction"])
        rows.append(
            {
                "claim_id": c["claim_id"],
                "verdict": verdict,
                "certainty": certainty,
                "studies": int(cl["study_id"].nunique()),
                "trials": int(ct["trial_group"].nunique()),
                "participants": int(ct["participants"].fillna(0).sum()),
                "direct_trials": int((ct["directness"] == "direct").sum()),
                "controlled_direct_trials": int(ct["basis_for_verdict"].sum()),
                "results": int(len(cl)),
                "n_benefit": int((cl["direction"] == "benefit").sum()),
                "n_no_difference": int((cl["direction"] == "no_difference").sum()),
                "n_harm": int((cl["direction"] == "harm").sum()),
                "n_unclear": int((cl["direction"] == "unclear").sum()),
                "basis_trials_agreeing": votes["agree"],
                "basis_trials_disagreeing": votes["disagree"],
                "sign_test_p": votes["sign_test_p"],
                "pooled_g": p_ok["estimate"] if p_ok else np.nan,
                "pooled_ci_low": p_ok["ci_low"] if p_ok else np.nan,
                "pooled_ci_high": p_ok["ci_high"] if p_ok else np.nan,
                "pooled_k": int(p_ok["k"]) if p_ok else 0,
                "pooled_i2": p_ok["i2"] if p_ok else np.nan,
                "pooling_note": p["pooling_note"] if p else "not pooled: no linked results",
                "verdict_reasons": " ".join(v_reasons),
                "certainty_reasons": " ".join(c_reasons),
            }
        )
    verdicts = pd.DataFrame(rows)
    return {"links": links, "trials": trials, "pooled": pooled, "verdicts": verdicts}


def _claim_effects(links: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    g = smd_from_outcomes(outcomes.loc[outcomes["value_type"].eq("post").fillna(False)])
    eligible = links.loc[(links["directness"] == "direct") & links["controlled"]].merge(g, on="outcome_id")
    return eligible.drop_duplicates(["claim_id", "trial_group"], keep="first")


def sensitivity_analyses(links: pd.DataFrame, outcomes: pd.DataFrame, method: str = "dl") -> pd.DataFrame:
    """Sensitivity analyses for every claim that can be pooled: all trials, randomised only, leave-one-out.

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`link_claims` output.
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
    from .effects import leave_one_out, pool_random_effects

    cols = ["claim_id", "analysis", "k", "estimate", "ci_low", "ci_high", "i2"]
    rows = []
    for claim_id, grp in _claim_effects(links, outcomes).groupby("claim_id", sort=True):
        subsets = {"all trials": grp, "randomised only": grp.loc[grp["randomised"]]}
        for name, sub in subsets.items():
            if len(sub) >= 2:
                r = pool_random_effects(sub["g"].to_numpy(), sub["var_g"].to_numpy(), sub["study_id"].tolist(), method=method)
                rows.append([claim_id, name, r.k, r.estimate, r.ci_low, r.ci_high, r.i2])
                if name == "all trials":
                    for loo in leave_one_out(r).itertuples():
                        rows.append([claim_id, f"without {loo.omitted}", r.k - 1, loo.estimate, loo.ci_low, loo.ci_high, loo.i2])
    return pd.DataFrame(rows, columns=cols)
