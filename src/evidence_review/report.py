"""Display-ready tables and texts for the notebooks (pure functions of the review's tables).

Text from the CSV files can contain anything, so whatever is turned into HTML or Markdown here is
escaped first; DataFrames are displayed by pandas, which escapes cell text itself.
"""

from __future__ import annotations

import html

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
    "claim_header_html",
    "verdict_counts",
    "published_estimates",
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
    pd.set_option("display.max_colwidth", 160)
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
    return studies[cols].sort_values(["directness", "design", "study_id"]).set_index("study_id")


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
    merged = claims[["order", "claim_id", "claim_type"]].merge(verdicts[cols], on="claim_id")
    return merged.sort_values("order").set_index("claim_id").drop(columns="order")


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
    cols = ["outcome_id", "direction", "directness", "rationale", "indirect_reason"]
    return sub[cols].set_index("outcome_id")


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
    merged = links.merge(effects, on="outcome_id")
    cols = ["claim_id", "outcome_id", "instrument", "directness", "g", "ci_low_g", "ci_high_g"]
    return merged[cols].sort_values(["claim_id", "outcome_id"]).reset_index(drop=True)


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
        One row per published pooled result with ``this_review`` (our pooled g or why there is
        none) and ``why_they_differ``.
    """
    from .claims import explode_domains

    named = explode_domains(claims.loc[claims["testable"]])
    named = named.loc[~named["proxy_outcome"]]
    ours = named.merge(pooled, on="claim_id", how="left")
    rows = []
    for r in reviews.itertuples():
        mine = ours.loc[ours["outcome_domain"] == r.outcome_domain]
        pooled_rows = mine.loc[mine["k_effects"].fillna(0) >= 2] if "k_effects" in mine else mine.iloc[0:0]
        if not pooled_rows.empty:
            p = pooled_rows.iloc[0]
            this = f"g = {p['estimate']:.2f} ({p['ci_low']:.2f} to {p['ci_high']:.2f}), k = {int(p['k'])}"
            why = "Different study sets and measures (this review: direct controlled trials with reported means/SDs only)."
        else:
            this = "not pooled"
            why = "This review could not pool: too few included trials report means, SDs and Ns for both arms."
        ci = "" if pd.isna(r.ci_low) else f" ({r.ci_low:g} to {r.ci_high:g})"
        est = "not reported" if pd.isna(r.estimate) else f"{r.effect_measure or 'estimate'} {r.estimate:g}{ci}"
        rows.append(
            {
                "review": study_label(r.review_id),
                "outcome_domain": r.outcome_domain,
                "scope": r.instrument_or_scope,
                "published_estimate": est,
                "i2": r.i2,
                "n_studies": r.n_studies,
                "this_review": this,
                "why_they_differ": why,
            }
        )
    return pd.DataFrame(rows)


def published_estimates(reviews: pd.DataFrame, domains) -> pd.DataFrame:
    """Published pooled estimates for some outcome domains, on the "positive favours the intervention" axis.

    Only estimates whose measure allows it are included (a difference measure with a known
    orientation; see :func:`evidence_review.effect_sets.orient_published`); ratios and unconverted
    estimates belong on their own scale.

    Parameters
    ----------
    reviews : pandas.DataFrame
    domains : sequence of str

    Returns
    -------
    pandas.DataFrame
        ``label``, ``estimate``, ``ci_low``, ``ci_high``.
    """
    oriented = orient_published(reviews.loc[reviews["outcome_domain"].isin(list(domains))])
    sub = oriented.dropna(subset=["favours_estimate"])
    label = [f"{study_label(r)} (published, {m if isinstance(m, str) else 'estimate'})" for r, m in zip(sub["review_id"], sub["effect_measure"])]
    return pd.DataFrame({"label": label, "estimate": sub["favours_estimate"].to_numpy(), "ci_low": sub["favours_ci_low"].to_numpy(),
                         "ci_high": sub["favours_ci_high"].to_numpy()})


def claim_header_html(claim: pd.Series, verdict: pd.Series) -> str:
    """A short HTML header for a claim report, with every CSV-derived text escaped.

    Parameters
    ----------
    claim : pandas.Series
        One claims row.
    verdict : pandas.Series
        That claim's verdicts row.

    Returns
    -------
    str
        HTML.
    """
    e = html.escape
    key = claim.get("key_phrase")
    key_html = f"<p>Article wording: <q>{e(str(key))}</q> ({e(str(claim['wording_strength']))})</p>" if isinstance(key, str) else ""
    certainty = verdict["certainty"] if isinstance(verdict["certainty"], str) else "not graded (no body of evidence)"
    return (
        f"<h2>{e(str(claim['claim']))}</h2>"
        f"<p><code>{e(claim['claim_id'])}</code> &middot; section: {e(str(claim['section']))} &middot; type: {e(claim['claim_type'])}</p>"
        f"{key_html}"
        f"<p><b>Verdict: {e(verdict['verdict'].replace('_', ' '))}</b> &middot; certainty: {e(certainty.replace('_', ' '))}</p>"
        f"<p>{e(str(verdict['verdict_reasons']))}</p>"
        f"<p><small>{e(str(verdict['certainty_reasons']))}</small></p>"
    )
