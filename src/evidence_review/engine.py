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
    "sign_test",
    "certainty_table",
    "grade_certainty",
    "verdict_table",
    "decide_verdict",
    "rationales",
    "pool_claims",
    "synthesise",
    "sensitivity_analyses",
    "pooled_results",
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


#: Study ids of the form surname + year (+ a/b), the ones that make a readable label.
_LABEL_ID = re.compile(r"([a-z]+)(\d{4}[a-z]?)")


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
    m = _LABEL_ID.fullmatch(study_id)
    return f"{m.group(1).capitalize()} {m.group(2)}" if m else study_id


def link_claims(
    claims: pd.DataFrame, outcomes: pd.DataFrame, studies: pd.DataFrame, rationale: bool = True
) -> pd.DataFrame:
    """Link each claim to every outcome row in one of its outcome domains.

    Claims about MS itself (``background``) link only to observational studies of MS
    (``intervention == "no_intervention"``); all other claims link only to studies of an
    intervention. Systematic reviews are shown beside the synthesis, not linked, so that their
    primary studies are not counted twice.

    Parameters
    ----------
    claims, outcomes, studies : pandas.DataFrame
        The validated tables.
    rationale : bool
        Also write the one-sentence ``rationale`` per link (presentation; skip it for speed).

    Returns
    -------
    pandas.DataFrame
        One row per claim x outcome with study characteristics, ``proxy_outcome`` (marked ``~``
        in the claims file), ``ms_population``, ``controlled``, ``randomised``, ``directness``
        (``direct`` or ``indirect``), ``indirect_reason`` and, if asked, ``rationale``.
    """
    pairs = explode_domains(claims.loc[claims["testable"]])
    study_cols = [
        "study_id", "design", "condition", "intervention", "comparator", "n_randomised", "n_analysed",
        "trial_group", "rob_overall", "directness", "directness_reason",
    ]
    # Flags are computed once per study and per claim, before the (large) claim x outcome merge.
    st = studies.loc[studies["design"] != "systematic_review", study_cols].rename(columns={"directness": "study_directness"})
    st = st.assign(
        _observational=(st["intervention"] == "no_intervention").to_numpy(),
        ms_population=(st["condition"] == "ms").to_numpy(),
        randomised=st["design"].isin(RANDOMISED_DESIGNS).to_numpy(),
        _controlled_design=st["design"].isin(CONTROLLED_DESIGNS).to_numpy(),
        participants=st["n_randomised"].fillna(st["n_analysed"]),
        _indirect_study=(st["study_directness"] == "indirect").to_numpy(),
    )
    cl = claims[["claim_id", "claim_type", "expected_direction"]].assign(_background=lambda d: (d["claim_type"] == "background").to_numpy())
    # Free text of the outcomes (notes, source) is not needed per link; it stays one join away.
    oc = outcomes.drop(columns=[c for c in ("notes", "source_url", "timepoint") if c in outcomes])
    merged = pairs.merge(cl, on="claim_id").merge(oc, on="outcome_domain").merge(st, on="study_id")
    merged = merged.loc[merged["_background"].to_numpy() == merged["_observational"].to_numpy()]
    # Deterministic order (claim, study, outcome) by integer codes: cheaper than sorting strings.
    order = np.lexsort([pd.factorize(merged[c], sort=True)[0] for c in ("outcome_id", "study_id", "claim_id")])
    merged = merged.iloc[order].reset_index(drop=True)
    merged["controlled"] = merged["_controlled_design"].to_numpy() & (merged["basis"] == "between_group").to_numpy()
    ms = merged["ms_population"].to_numpy()
    proxy = merged["proxy_outcome"].to_numpy(dtype=bool)
    indirect_study = merged["_indirect_study"].to_numpy()
    reason = np.full(len(merged), "", dtype=object)
    if (~ms).any() or (ms & indirect_study).any() or proxy.any():
        parts = [
            pd.Series(np.where(ms, "", "not people with MS")),
            pd.Series(np.where(ms & indirect_study, merged["directness_reason"].fillna("indirect intervention").astype(str), "")),
            pd.Series(np.where(proxy, merged["outcome_domain"].astype(str) + " is a proxy for the named outcome", "")),
        ]
        reason = _join_nonempty(parts, "; ").to_numpy()
    merged["indirect_reason"] = reason
    merged["directness"] = np.where(reason == "", "direct", "indirect")
    merged = merged.drop(columns=["_background", "_observational", "_controlled_design", "_indirect_study"])
    if rationale:
        merged["rationale"] = rationales(merged)
    return merged


def _join_nonempty(parts: list[pd.Series], sep: str) -> pd.Series:
    out = parts[0].astype(str)
    for part in parts[1:]:
        part = part.astype(str)
        out = out + np.where((out != "") & (part != ""), sep, "") + part
    return out


def rationales(links: pd.DataFrame) -> pd.Series:
    """One sentence per link saying which study found what, e.g. "Negahban 2013, RCT, n=48: ...".

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`link_claims` output.

    Returns
    -------
    pandas.Series
    """
    ids = links["study_id"].astype(str)
    parts = ids.str.extract(f"^{_LABEL_ID.pattern}$")
    label = (parts[0].str.capitalize() + " " + parts[1]).fillna(ids)
    n = links["participants"]
    n_text = pd.Series(np.where(n.notna(), ", n=" + n.astype("Float64").round().astype("Int64").astype(str), ""), index=links.index)
    p = links["p_value"]
    p_text = pd.Series(np.where(p.notna(), ", p" + links["p_operator"].fillna("=").astype(str) + p.map("{:g}".format), ""),
                       index=links.index)
    basis = np.where(links["basis"] == "between_group", "between groups", "before vs after")
    return (
        label + ", " + links["design"].map(_DESIGN_LABEL).fillna(links["design"]) + n_text + ": "
        + links["instrument"].astype(str) + " (" + links["outcome_domain"] + ") "
        + links["direction"].map(_DIRECTION_TEXT) + " (" + basis + "; " + links["comparison"].astype(str) + p_text + ")"
    )


_DIRECTIONS = ["benefit", "no_difference", "harm", "unclear"]


def _counts(frame: pd.DataFrame, keys: list[str], column: str, categories: list[str]) -> pd.DataFrame:
    """Counts of each category per group (a fast crosstab), with every category as a column."""
    return frame.groupby([*keys, column], sort=True).size().unstack(column, fill_value=0).reindex(columns=categories, fill_value=0)


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
        ``randomised``, ``controlled``, ``ms_population``, ``directness``, ``rob_overall``, ``study_id``.
    """
    cols = ["claim_id", "trial_group", "direction", "participants", "design", "comparator", "randomised",
            "controlled", "ms_population", "directness", "rob_overall", "study_id"]
    if links.empty:
        # Keep the columns' types (``controlled`` stays boolean) so callers need no empty-case branch.
        return links[cols].reset_index(drop=True)
    needed = ["claim_id", "trial_group", "basis", "proxy_outcome", "direction", "participants", "randomised",
              "controlled", "ms_population", "directness", "design", "comparator", "rob_overall", "study_id"]
    links = links[needed]
    # One integer per (claim, trial): grouping on it is far cheaper than on two string columns.
    claim_codes, claim_names = pd.factorize(links["claim_id"], sort=True)
    trial_codes, trial_names = pd.factorize(links["trial_group"], sort=True)
    group = claim_codes.astype(np.int64) * len(trial_names) + trial_codes
    tier = ((links["basis"] != "between_group").to_numpy() * 2 + links["proxy_outcome"].to_numpy().astype(int))
    order = np.lexsort((tier, group))
    g_sorted, t_sorted = group[order], tier[order]
    starts = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    best_tier = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    keep = order[t_sorted == t_sorted[best_tier]]
    best = links.iloc[np.sort(keep)].assign(_group=group[np.sort(keep)])
    direction_codes = pd.Categorical(best["direction"], categories=_DIRECTIONS).codes
    uniq, inverse = np.unique(best["_group"].to_numpy(), return_inverse=True)
    counts = np.zeros((len(uniq), 4), dtype=np.int64)
    np.add.at(counts, (inverse, direction_codes), 1)
    decisive = counts[:, :3]
    top = decisive.max(axis=1)
    ties = (decisive == top[:, None]).sum(axis=1)
    direction = np.where((top > 0) & (ties == 1), np.array(_DIRECTIONS[:3])[decisive.argmax(axis=1)], "unclear")
    first = best.sort_values(["_group", "randomised", "participants"], ascending=[True, False, False],
                             kind="stable", na_position="last").drop_duplicates("_group").set_index("_group")
    agg = best.assign(_direct=best["directness"] == "direct").groupby("_group", sort=True).agg(
        participants=("participants", "max"), randomised=("randomised", "any"), controlled=("controlled", "any"),
        ms_population=("ms_population", "all"), _direct=("_direct", "any"),
    )
    out = agg.join(first[["design", "comparator", "rob_overall", "study_id"]])
    out["direction"] = direction
    out["directness"] = np.where(out["_direct"], "direct", "indirect")
    out["claim_id"] = np.asarray(claim_names)[uniq // len(trial_names)]
    out["trial_group"] = np.asarray(trial_names)[uniq % len(trial_names)]
    return out.reset_index(drop=True)[cols]


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


def sign_test(benefit, harm) -> np.ndarray:
    """Two-sided sign test of benefit against harm counts (exact binomial, p = 0.5), vectorised.

    Parameters
    ----------
    benefit, harm : array_like of int

    Returns
    -------
    numpy.ndarray
        p-values; NaN where no result has a sign.
    """
    b = np.asarray(benefit, dtype=float)
    n = b + np.asarray(harm, dtype=float)
    k = np.minimum(b, n - b)
    with np.errstate(invalid="ignore"):
        p = np.minimum(1.0, 2.0 * stats.binom.cdf(k, n, 0.5))
    return np.where(n > 0, p, np.nan)


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
    counts = {d: directions.count(d) for d in _DIRECTIONS}
    decisive = counts["benefit"] + counts["no_difference"] + counts["harm"]
    agree = counts[expected]
    p = float(sign_test([counts["benefit"]], [counts["harm"]])[0])
    return {**counts, "agree": agree, "disagree": decisive - agree, "sign_test_p": p}


def _by_claim(trials: pd.DataFrame, claim_ids) -> pd.DataFrame:
    """Per-claim sums that the certainty and verdict rules need (vectorised)."""
    t = trials.assign(
        _w=trials["participants"].astype("float64").fillna(1).clip(lower=1),
        _n=trials["participants"].astype("float64").fillna(0),
    )
    t = t.assign(
        _w_high=t["_w"] * (t["rob_overall"] == "high"),
        _w_concern=t["_w"] * t["rob_overall"].isin(["high", "some_concerns"]),
        _w_direct=t["_w"] * (t["directness"] == "direct"),
        _small=t["_n"] < SMALL_TRIAL,
        _weak=t["comparator"].isin(WEAK_COMPARATORS),
    )
    for d in _DIRECTIONS:
        t[d] = t["direction"] == d
    t["_weak_benefit"] = t["benefit"] & t["_weak"]
    t["_strong_no_diff"] = ~t["_weak"] & t["no_difference"]
    g = t.groupby("claim_id").agg(
        k=("trial_group", "size"), w=("_w", "sum"), n=("_n", "sum"), w_high=("_w_high", "sum"),
        w_concern=("_w_concern", "sum"), w_direct=("_w_direct", "sum"), randomised=("randomised", "any"),
        ms=("ms_population", "any"), all_small=("_small", "all"), benefit=("benefit", "sum"),
        no_difference=("no_difference", "sum"), harm=("harm", "sum"), unclear=("unclear", "sum"),
        weak_benefit=("_weak_benefit", "sum"), strong_no_diff=("_strong_no_diff", "sum"),
    )
    g["directions"] = (g[["benefit", "no_difference", "harm"]] > 0).sum(axis=1)
    return g.reindex(pd.Index(claim_ids, name="claim_id"))


def certainty_table(trials: pd.DataFrame, claim_ids, pooled: pd.DataFrame | None = None) -> pd.DataFrame:
    """GRADE-style certainty for many claims at once (rules in ``docs/methods.md``).

    Start ``high`` when any randomised trial contributes, ``low`` otherwise; rate down for risk of
    bias, inconsistency, indirectness, imprecision and publication bias, each with a reason.

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial rows (:func:`study_directions`) that each claim's certainty rests on.
    claim_ids : sequence of str
        The claims to grade (claims without trials get ``very_low``).
    pooled : pandas.DataFrame, optional
        ``claim_id`` with ``i2``, ``ci_low``, ``ci_high`` of the claim's pooled analysis.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``claim_id``: ``certainty`` and ``reasons`` (a list of sentences).
    """
    g = _by_claim(trials, claim_ids)
    if pooled is not None and not pooled.empty:
        g = g.join(pooled.set_index("claim_id")[["i2", "ci_low", "ci_high"]])
    else:
        g = g.assign(i2=np.nan, ci_low=np.nan, ci_high=np.nan)
    rows = {}
    for claim_id, r in g.to_dict("index").items():
        if pd.isna(r["k"]) or r["k"] == 0:
            rows[claim_id] = ("very_low", ["No studies: certainty cannot be above very low."])
            continue
        level = 4 if r["randomised"] else 2
        reasons = ["Starts high: randomised evidence." if r["randomised"] else "Starts low: no randomised evidence."]
        high, concern, direct = r["w_high"] / r["w"], r["w_concern"] / r["w"], r["w_direct"] / r["w"]
        if high >= 0.5:
            level -= 2
            reasons.append(f"Risk of bias: very serious (-2), {high:.0%} of participants in high-risk studies.")
        elif concern >= 0.5:
            level -= 1
            reasons.append(f"Risk of bias: serious (-1), {concern:.0%} of participants in studies with some concerns or high risk.")
        if not pd.isna(r["i2"]) and r["i2"] >= 50:
            level -= 1
            reasons.append(f"Inconsistency: serious (-1), I^2 = {r['i2']:.0f}%.")
        elif r["directions"] > 1:
            level -= 1
            reasons.append("Inconsistency: serious (-1), studies point in different directions.")
        if not r["ms"]:
            level -= 2
            reasons.append("Indirectness: very serious (-2), no study in people with MS.")
        elif direct < 0.5:
            level -= 1
            reasons.append(f"Indirectness: serious (-1), only {direct:.0%} of participants from direct evidence.")
        crosses = bool(r["ci_low"] < 0 < r["ci_high"])
        if r["n"] < VERY_SMALL_PARTICIPANTS:
            level -= 2
            reasons.append(f"Imprecision: very serious (-2), {r['n']:.0f} participants in all.")
        elif r["n"] < OIS_PARTICIPANTS or crosses:
            level -= 1
            why = (f"{r['n']:.0f} participants, below the {OIS_PARTICIPANTS} of the optimal information size"
                   if r["n"] < OIS_PARTICIPANTS else "the pooled CI includes no effect")
            reasons.append(f"Imprecision: serious (-1), {why}.")
        if r["k"] >= 2 and r["all_small"] and r["benefit"] == r["k"]:
            level -= 1
            reasons.append("Publication bias: suspected (-1), only small studies, all favourable.")
        rows[claim_id] = (CERTAINTY_LEVELS[4 - max(level, 1)], reasons)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["certainty", "reasons"]).rename_axis("claim_id")


def grade_certainty(trials: pd.DataFrame, pooled: dict | None = None) -> tuple[str, list[str]]:
    """GRADE-style certainty of the evidence for one claim (see :func:`certainty_table`).

    Parameters
    ----------
    trials : pandas.DataFrame
        :func:`study_directions` rows for one claim.
    pooled : dict, optional
        The claim's pooled analysis (keys ``i2``, ``ci_low``, ``ci_high``), if any.

    Returns
    -------
    certainty : str
    reasons : list of str
    """
    t = trials.assign(claim_id="claim", trial_group=[f"t{i}" for i in range(len(trials))])
    p = pd.DataFrame([{**pooled, "claim_id": "claim"}]) if pooled else None
    row = certainty_table(t, ["claim"], p).loc["claim"]
    return row["certainty"], row["reasons"]


def verdict_table(claims: pd.DataFrame, basis: pd.DataFrame, linked_claims: set) -> pd.DataFrame:
    """Verdict on the fixed scale for many claims at once (rules in ``docs/methods.md``).

    Parameters
    ----------
    claims : pandas.DataFrame
        Claims with ``claim_id``, ``testable``, ``claim_type`` and ``expected_direction``.
    basis : pandas.DataFrame
        Claim x trial rows the verdicts may rest on (direct, and controlled unless the claim is
        about MS itself).
    linked_claims : set of str
        Claims with at least one linked result (to tell ``insufficient`` from ``no_evidence``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``claim_id``: ``verdict``, ``reasons`` (list), ``agree``, ``disagree``.
    """
    by_claim = _by_claim(basis, claims["claim_id"]).fillna({"k": 0, "n": 0}).to_dict("index")
    rows = {}
    for c in claims.itertuples(index=False):
        r = by_claim[c.claim_id]
        expected = c.expected_direction
        decisive = 0 if r["k"] == 0 else r["benefit"] + r["no_difference"] + r["harm"]
        agree = 0 if r["k"] == 0 else r[expected]
        result = None
        if not c.testable:
            result = ("not_testable", ["Advice or a statement no study could test as worded."])
        elif c.claim_id not in linked_claims:
            result = ("no_evidence", ["No included study measured this outcome."])
        elif r["k"] == 0:
            what = "direct studies of people with MS" if c.claim_type == "background" else "controlled studies in people with MS"
            result = ("insufficient", [f"No {what}; only uncontrolled or indirect evidence."])
        elif decisive == 0:
            result = ("insufficient", ["The studies do not report a direction of effect."])
        elif c.claim_type != "background" and r["k"] == 1 and r["n"] < SMALL_TRIAL:
            result = ("insufficient", [f"A single small controlled study ({r['n']:.0f} participants)."])
        else:
            share = agree / decisive
            summary = f"{agree:.0f} of {decisive:.0f} studies with a direction found {expected.replace('_', ' ')}."
            if share >= 0.75:
                if expected == "benefit" and r["weak_benefit"] == r["benefit"] and r["strong_no_diff"] > 0:
                    result = ("mixed", [summary, "The benefit shows only against usual care or waiting list, not against sham or active controls."])
                else:
                    result = ("supported", [summary])
            elif share <= 0.25:
                why = ("Controlled studies in MS found no benefit (or none beyond sham/active control)."
                       if expected == "benefit" else "The evidence does not bear the statement out.")
                result = ("not_supported", [summary, why])
            else:
                result = ("mixed", [summary, "The studies disagree."])
        rows[c.claim_id] = (*result, int(agree), int(decisive - agree))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["verdict", "reasons", "agree", "disagree"]).rename_axis("claim_id")


def decide_verdict(claim: pd.Series, trials: pd.DataFrame, all_links: pd.DataFrame) -> tuple[str, list[str]]:
    """Verdict on the fixed scale for one claim (see :func:`verdict_table`).

    Parameters
    ----------
    claim : pandas.Series
        One row of the claims table.
    trials : pandas.DataFrame
        :func:`study_directions` rows for this claim that the verdict may rest on.
    all_links : pandas.DataFrame
        Every link of this claim (to tell ``insufficient`` from ``no_evidence``).

    Returns
    -------
    verdict : str
    reasons : list of str
    """
    t = trials.assign(claim_id=claim["claim_id"], trial_group=[f"t{i}" for i in range(len(trials))])
    linked = {claim["claim_id"]} if len(all_links) else set()
    row = verdict_table(claim.to_frame().T, t, linked).loc[claim["claim_id"]]
    return row["verdict"], row["reasons"]


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
        "pooled: random effects (" + method.upper() + "), Hedges' g, positive favours the intervention",
        np.where(
            out["k_effects"] == 1,
            "not pooled: only one controlled trial reports means, SDs and Ns",
            "not pooled: no controlled trial reports means, SDs and Ns for both arms",
        ),
    )
    return out


def synthesise(
    claims: pd.DataFrame, outcomes: pd.DataFrame, studies: pd.DataFrame, method: str = "dl", rationale: bool = True
) -> dict:
    """Run the whole engine: links, per-trial directions, pooling, certainty and verdicts.

    Parameters
    ----------
    claims, outcomes, studies : pandas.DataFrame
        The validated tables.
    method : {"dl", "pm"}
        tau^2 estimator for pooling.
    rationale : bool
        Write a rationale sentence per link (presentation only).

    Returns
    -------
    dict
        ``links`` (claim x outcome), ``trials`` (claim x trial direction, with ``basis_for_verdict``),
        ``pooled`` (per claim) and ``verdicts`` (one row per claim, the columns of
        ``reports/verdicts.csv``).
    """
    links = link_claims(claims, outcomes, studies, rationale=rationale)
    trials = study_directions(links)
    pooled = pool_claims(links, outcomes, method) if not links.empty else pd.DataFrame(columns=["claim_id", "k_effects", "pooling_note"])
    background = trials["claim_id"].map(claims.set_index("claim_id")["claim_type"].eq("background")).astype(bool)
    trials["basis_for_verdict"] = (trials["directness"] == "direct") & (background | trials["controlled"])
    basis = trials.loc[trials["basis_for_verdict"]]
    ids = claims["claim_id"]
    has_basis = ids.isin(basis["claim_id"])
    pooled_ok = pooled.loc[pooled["k_effects"] >= 2] if "k_effects" in pooled else pooled.iloc[0:0]
    verdicts = verdict_table(claims, basis, set(links["claim_id"]))
    certainty = pd.concat([
        certainty_table(basis, ids[has_basis], pooled_ok),
        certainty_table(trials, ids[~has_basis], pooled_ok),
    ]).reindex(ids)
    verdicts = verdicts.reindex(ids)
    # Advice is not graded; a claim no study addresses has nothing to rate down from.
    certainty.loc[verdicts["verdict"] == "not_testable", "certainty"] = ""
    certainty["reasons"] = [
        [] if v == "not_testable" else ["No studies."] if v == "no_evidence" else r
        for v, r in zip(verdicts["verdict"], certainty["reasons"])
    ]

    per_link = _counts(links, ["claim_id"], "direction", _DIRECTIONS).reindex(ids, fill_value=0)
    per_trial = trials.assign(
        _n=trials["participants"].astype("float64").fillna(0), _direct=trials["directness"] == "direct"
    ).groupby("claim_id").agg(
        trials=("trial_group", "nunique"), participants=("_n", "sum"),
        direct_trials=("_direct", "sum"), controlled_direct_trials=("basis_for_verdict", "sum"),
    ).reindex(ids)
    basis_counts = _counts(basis, ["claim_id"], "direction", _DIRECTIONS).reindex(ids, fill_value=0)
    pooled_by = pooled.set_index("claim_id").reindex(ids) if "claim_id" in pooled else pd.DataFrame(index=ids)
    ok = pooled_by.get("k_effects", pd.Series(0, index=ids)).fillna(0) >= 2
    out = pd.DataFrame({
        "claim_id": ids.to_numpy(),
        "verdict": verdicts["verdict"].to_numpy(),
        "certainty": certainty["certainty"].to_numpy(),
        "studies": links.groupby("claim_id")["study_id"].nunique().reindex(ids, fill_value=0).to_numpy(),
        "trials": per_trial["trials"].fillna(0).astype(int).to_numpy(),
        "participants": per_trial["participants"].fillna(0).astype(int).to_numpy(),
        "direct_trials": per_trial["direct_trials"].fillna(0).astype(int).to_numpy(),
        "controlled_direct_trials": per_trial["controlled_direct_trials"].fillna(0).astype(int).to_numpy(),
        "results": per_link.sum(axis=1).to_numpy(),
        "n_benefit": per_link["benefit"].to_numpy(),
        "n_no_difference": per_link["no_difference"].to_numpy(),
        "n_harm": per_link["harm"].to_numpy(),
        "n_unclear": per_link["unclear"].to_numpy(),
        "basis_trials_agreeing": verdicts["agree"].to_numpy(),
        "basis_trials_disagreeing": verdicts["disagree"].to_numpy(),
        "sign_test_p": sign_test(basis_counts["benefit"], basis_counts["harm"]),
        "pooled_g": np.where(ok, pooled_by.get("estimate", np.nan), np.nan),
        "pooled_ci_low": np.where(ok, pooled_by.get("ci_low", np.nan), np.nan),
        "pooled_ci_high": np.where(ok, pooled_by.get("ci_high", np.nan), np.nan),
        "pooled_k": np.where(ok, pooled_by.get("k", 0), 0).astype(int),
        "pooled_i2": np.where(ok, pooled_by.get("i2", np.nan), np.nan),
        "pooling_note": pooled_by.get("pooling_note", pd.Series(index=ids, dtype=object)).fillna("not pooled: no linked results").to_numpy(),
        "verdict_reasons": verdicts["reasons"].map(" ".join).to_numpy(),
        "certainty_reasons": certainty["reasons"].map(" ".join).to_numpy(),
    })
    return {"links": links, "trials": trials, "pooled": pooled, "verdicts": out}


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
    from .effects import pool_random_effects

    out = {}
    for claim_id, grp in _claim_effects(links, outcomes).groupby("claim_id", sort=True):
        if len(grp) >= 2:
            out[claim_id] = pool_random_effects(grp["g"].to_numpy(), grp["var_g"].to_numpy(),
                                                [study_label(s) for s in grp["study_id"]], method=method)
    return out
