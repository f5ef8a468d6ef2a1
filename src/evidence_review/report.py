"""Display-ready tables and texts for the notebooks (pure functions of the review's tables).

Text from the CSV files can contain anything, so whatever is turned into HTML or Markdown here is
escaped first; DataFrames are displayed by pandas, which escapes cell text itself.
"""

from __future__ import annotations


import matplotlib
import pandas as pd

from .effect_sets import orient_published
from .linking import study_label
from .vocab import VERDICTS

__all__ = [
    "setup_display",
    "claims_table",
    "characteristics_table",
    "verdict_table",
    "claim_links_table",
    "effects_table",
    "review_comparison",
    "verdict_counts",
    "published_estimates",
    "domain_labels",
    "domain_use_table",
    "evidence_counts",
    "pooling_table",
    "published_table",
    "sensitivity_table",
]


def setup_display() -> None:
    """Stable notebook output: inline figures with a fixed style and size, wide tables."""
    import seaborn as sns

    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython ships with the kernel
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        # An inherited MPLBACKEND=Agg would otherwise hide every figure in the notebook.
        shell.run_line_magic("matplotlib", "inline")
    matplotlib.rcParams.update({"figure.dpi": 90, "savefig.dpi": 90, "font.size": 9, "svg.hashsalt": "evidence-review"})
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.8)
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_colwidth", None)  # nothing a reader needs is cut with "..."
    pd.set_option("display.precision", 3)


def claims_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims as a reader sees them, in article order.

    Parameters
    ----------
    claims : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
    """
    cols = ["order", "claim_id", "section", "claim", "key_phrase", "claim_type", "outcome_domains",
            "wording_strength", "testable"]
    return claims[cols].set_index("order")


def characteristics_table(studies: pd.DataFrame) -> pd.DataFrame:
    """Characteristics of included studies, Cochrane style.

    Parameters
    ----------
    studies : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
    """
    cols = ["study_id", "year", "design", "population", "n_randomised", "n_analysed", "intervention",
            "intervention_detail", "comparator", "directness", "rob_overall", "country"]
    from .vocab import DESIGNS

    # Strongest designs first, as a Cochrane table of included studies lists them.
    rank = studies["design"].map({d: i for i, d in enumerate(DESIGNS)})
    ordered = studies.assign(_rank=rank).sort_values(["directness", "_rank", "study_id"], kind="stable")
    return ordered[cols].set_index("study_id")


def verdict_table(verdicts: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Verdict per claim with its evidence counts, in article order.

    Parameters
    ----------
    verdicts, claims : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
    """
    cols = ["claim_id", "verdict", "certainty", "trials", "participants", "controlled_direct_trials",
            "n_benefit", "n_no_difference", "n_harm", "verdict_reasons"]
    merged = claims[["order", "claim_id", "claim", "claim_type"]].merge(verdicts[cols], on="claim_id")
    # No body of evidence, nothing to grade: show no certainty rather than "very low".
    merged.loc[merged["verdict"].isin(["no_evidence", "not_testable"]), "certainty"] = ""
    return merged.sort_values("order").drop(columns=["order", "claim_id"]).reset_index(drop=True)


def verdict_counts(verdicts: pd.DataFrame) -> pd.DataFrame:
    """How many claims got each verdict, in the fixed order of the scale.

    Parameters
    ----------
    verdicts : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        ``verdict`` and ``claims``.
    """
    counts = verdicts["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    return counts.rename_axis("verdict").reset_index(name="claims")


def claim_links_table(links: pd.DataFrame, claim_id: str) -> pd.DataFrame:
    """Every result linked to one claim, strongest evidence first, with its rationale.

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`evidence_review.engine.link_claims` output.
    claim_id : str

    Returns
    -------
    pandas.DataFrame
    """
    sub = links.loc[links["claim_id"] == claim_id].copy()
    sub["_rank"] = (sub["directness"] != "direct").astype(int) * 2 + (~sub["controlled"]).astype(int)
    sub = sub.sort_values(["_rank", "participants", "outcome_id"], ascending=[True, False, True], kind="stable")
    cols = ["study_id", "direction", "directness", "rationale", "indirect_reason"]
    return sub[cols].reset_index(drop=True)


def effects_table(links: pd.DataFrame, effects: pd.DataFrame) -> pd.DataFrame:
    """Hedges' g computed from reported numbers, one row per claim and result.

    Parameters
    ----------
    links : pandas.DataFrame
    effects : pandas.DataFrame
        :func:`evidence_review.effects.smd_from_outcomes` output.

    Returns
    -------
    pandas.DataFrame
    """
    merged = links.merge(effects, on="outcome_id").sort_values(["claim_id", "outcome_id"])
    from .present import format_estimate

    return pd.DataFrame({
        "claim_id": merged["claim_id"].to_numpy(),
        "study_id": merged["study_id"].to_numpy(),
        "instrument": merged["instrument"].to_numpy(),
        "directness": merged["directness"].to_numpy(),
        "hedges_g_95_ci": [format_estimate(g, lo, hi) for g, lo, hi in zip(merged["g"], merged["ci_low_g"], merged["ci_high_g"])],
    })


def review_comparison(reviews: pd.DataFrame, pooled: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Published reviews' pooled estimates next to this review's own figure for the same outcome.

    Parameters
    ----------
    reviews : pandas.DataFrame
        Pooled results of published reviews.
    pooled : pandas.DataFrame
        This review's per-claim pooling (:func:`evidence_review.engine.pool_claims`).
    claims : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        One row per published pooled result with ``this_review``: our pooled g on the same outcome,
        or "Not pooled".
    """
    from .claims import explode_domains
    from .present import format_estimate

    named = explode_domains(claims.loc[claims["testable"]])
    named = named.loc[~named["proxy_outcome"]]
    ours = named.merge(pooled, on="claim_id", how="left")
    rows = []
    for r in reviews.itertuples():
        mine = ours.loc[ours["outcome_domain"] == r.outcome_domain]
        pooled_rows = mine.loc[mine["k_effects"].fillna(0) >= 2] if "k_effects" in mine else mine.iloc[0:0]
        if not pooled_rows.empty:
            p = pooled_rows.iloc[0]
            this = (f"{format_estimate(p['estimate'], p['ci_low'], p['ci_high'], 'SMD')}, {int(p['k'])} trials "
                    "(other study set and measures)")
        else:
            this = "Not pooled"
        est = "not reported" if pd.isna(r.estimate) else format_estimate(
            r.estimate, r.ci_low, r.ci_high, r.effect_measure if isinstance(r.effect_measure, str) else "Estimate")
        rows.append(
            {
                "review": study_label(r.review_id),
                "outcome_domain": r.outcome_domain,
                "scope": r.instrument_or_scope,
                "published_estimate": est,
                "i2": r.i2,
                "n_studies": r.n_studies,
                "conclusion": r.conclusion,
                "this_review": this,
            }
        )
    return pd.DataFrame(rows)


def published_estimates(reviews: pd.DataFrame, domains, measures=("SMD",)) -> pd.DataFrame:
    """Published pooled estimates on one kind of measure for some outcome domains, labelled for a forest plot.

    Estimates are put on the "positive favours the intervention" axis, and only where the measure
    allows it (a difference measure with a known orientation; see
    :func:`evidence_review.effect_sets.orient_published`); the others are left out.

    Parameters
    ----------
    reviews : pandas.DataFrame
    domains : sequence of str
    measures : sequence of str
        Effect measures that share the forest plot's axis (default: standardised mean differences).

    Returns
    -------
    pandas.DataFrame
        ``label``, ``estimate``, ``ci_low``, ``ci_high``.
    """
    chosen = reviews.loc[reviews["outcome_domain"].isin(list(domains)) & reviews["effect_measure"].isin(list(measures))]
    sub = orient_published(chosen).dropna(subset=["favours_estimate"])
    label = [f"{study_label(r)} (published {m})" for r, m in zip(sub["review_id"], sub["effect_measure"])]
    return pd.DataFrame({"label": label, "estimate": sub["favours_estimate"].to_numpy(),
                         "ci_low": sub["favours_ci_low"].to_numpy(), "ci_high": sub["favours_ci_high"].to_numpy()})


def domain_labels(domains: pd.DataFrame) -> dict:
    """Outcome-domain code -> label, for :func:`evidence_review.present.people_table`.

    Parameters
    ----------
    domains : pandas.DataFrame
        ``code`` and ``label``.

    Returns
    -------
    dict
    """
    return dict(zip(domains["code"], domains["label"]))


def code_labels(evidence) -> dict:
    """Code -> label of a review's own vocabularies: interventions, conditions and outcome domains.

    A code in several of these files has the same label in each: loading the evidence refuses
    anything else (:func:`evidence_review.claims.conflicting_labels`), so one table serves all three.

    Parameters
    ----------
    evidence : evidence_review.studies.Evidence
        Its ``interventions``, ``conditions`` and ``domains`` tables (``code``, ``label``).

    Returns
    -------
    dict
        For :func:`evidence_review.present.people_table` and :func:`evidence_review.present.label_code`.
    """
    labels = {}
    for frame in (evidence.interventions, evidence.conditions, evidence.domains):
        labels.update(zip(frame["code"], frame["label"]))
    return labels


def condition_label(evidence, code: str) -> str:
    """The label the conditions file gives a condition code (the code itself when it has none).

    Parameters
    ----------
    evidence : evidence_review.studies.Evidence
    code : str
        A condition code, e.g. the review's ``target_condition``.

    Returns
    -------
    str
        E.g. the short name the evidence map's columns use ("Randomised, <label>").
    """
    conditions = evidence.conditions
    match = conditions.loc[conditions["code"] == code, "label"]
    return str(match.iloc[0]) if len(match) else str(code)


def domain_use_table(claims: pd.DataFrame) -> pd.DataFrame:
    """How many claims name each outcome domain, as a named outcome or as a proxy.

    Parameters
    ----------
    claims : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        ``outcome_domain``, ``named_outcome``, ``proxy``.
    """
    from .claims import explode_domains

    named = explode_domains(claims)
    counts = named.groupby("outcome_domain")["proxy_outcome"].agg(named_outcome=lambda s: int((~s).sum()),
                                                                  proxy=lambda s: int(s.sum()))
    return counts.reset_index()


def evidence_counts(verdict: pd.Series) -> pd.DataFrame:
    """One claim's evidence counts as rows a reader can scan: what was counted, and how many.

    Parameters
    ----------
    verdict : pandas.Series
        The claim's verdicts row.

    Returns
    -------
    pandas.DataFrame
        ``measure`` and ``value`` (text).
    """
    from .present import cell_text, column_label

    cols = ["trials", "participants", "controlled_direct_trials", "n_benefit", "n_no_difference", "n_harm", "n_unclear",
            "sign_test_p", "pooling_note"]
    return pd.DataFrame({"measure": [column_label(c) for c in cols],
                         "value": [cell_text(verdict[c], c) for c in cols]})


def pooling_table(pooled: pd.DataFrame) -> pd.DataFrame:
    """This review's pooling per claim: trials with effect sizes, pooled g with CI, I², or why not pooled.

    Parameters
    ----------
    pooled : pandas.DataFrame
        :func:`evidence_review.engine.pool_claims` output.

    Returns
    -------
    pandas.DataFrame
    """
    from .present import format_estimate

    get = lambda c: pooled[c] if c in pooled else pd.Series([float("nan")] * len(pooled), index=pooled.index)  # noqa: E731
    return pd.DataFrame({
        "claim_id": pooled["claim_id"].to_numpy(),
        "k_effects": pooled["k_effects"].to_numpy(),
        "pooled_g_95_ci": [format_estimate(e, lo, hi) for e, lo, hi in zip(get("estimate"), get("ci_low"), get("ci_high"))],
        "i2": get("i2").to_numpy(),
        "pooling_note": pooled["pooling_note"].to_numpy(),
    })


def sensitivity_table(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity analyses for readers: each analysis named with "Author Year", estimate with its CI.

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        :func:`evidence_review.engine.sensitivity_analyses` output.

    Returns
    -------
    pandas.DataFrame
    """
    import re

    from .present import author_year, format_estimate

    named = [re.sub(r"^without (\S+)$", lambda m: f"without {author_year(m.group(1))}", a) for a in sensitivity["analysis"]]
    return pd.DataFrame({
        "claim_id": sensitivity["claim_id"].to_numpy(),
        "analysis": named,
        "k": sensitivity["k"].to_numpy(),
        "pooled_g_95_ci": [format_estimate(e, lo, hi) for e, lo, hi in
                           zip(sensitivity["estimate"], sensitivity["ci_low"], sensitivity["ci_high"])],
        "i2": sensitivity["i2"].to_numpy(),
    })


def published_table(reviews: pd.DataFrame) -> pd.DataFrame:
    """Published reviews' pooled results, each estimate with its CI as printed.

    Parameters
    ----------
    reviews : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
    """
    from .present import format_estimate

    return pd.DataFrame({
        "review_id": reviews["review_id"].to_numpy(),
        "outcome_domain": reviews["outcome_domain"].to_numpy(),
        "instrument_or_scope": reviews["instrument_or_scope"].to_numpy(),
        "published_estimate": [
            "not reported" if pd.isna(e) else format_estimate(e, lo, hi, m if isinstance(m, str) else "Estimate")
            for e, lo, hi, m in zip(reviews["estimate"], reviews["ci_low"], reviews["ci_high"], reviews["effect_measure"])
        ],
        "i2": reviews["i2"].to_numpy(),
        "n_studies": reviews["n_studies"].to_numpy(),
        "conclusion": reviews["conclusion"].to_numpy(),
    })
