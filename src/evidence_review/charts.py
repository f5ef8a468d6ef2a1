"""Charts of the review: one function per chart, each taking tidy tables and returning Axes or Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .vocab import CERTAINTY_LEVELS, RANDOMISED_DESIGNS, ROB_DOMAIN_LABELS, ROB_DOMAINS, VERDICTS

__all__ = [
    "VERDICT_COLOURS",
    "plot_claims_by_section",
    "plot_counts",
    "plot_rob_traffic_light",
    "plot_rob_summary",
    "plot_evidence_map",
    "plot_support_by_claim",
    "plot_harvest",
    "plot_harvest_by_domain",
    "plot_albatross",
    "plot_forest",
]

VERDICT_COLOURS = {
    "supported": "#1b7837",
    "mixed": "#e08214",
    "not_supported": "#b2182b",
    "insufficient": "#8c96c6",
    "no_evidence": "#bdbdbd",
    "not_testable": "#f0f0f0",
}
DIRECTION_COLOURS = {"benefit": "#1b7837", "no_difference": "#bababa", "harm": "#b2182b", "unclear": "#8c96c6"}
ROB_COLOURS = {"low": "#4daf4a", "some_concerns": "#ffd92f", "high": "#e41a1c", "not_assessed": "#d9d9d9"}
ROB_SYMBOLS = {"low": "+", "some_concerns": "-", "high": "X", "not_assessed": "?"}
EVIDENCE_COLUMNS = ("Randomised, MS", "Other controlled, MS", "Uncontrolled, MS", "Indirect")


def _plain_text(text) -> str:
    """Text from the data as a chart label: every ``$`` escaped, so matplotlib never parses it as math.

    Parameters
    ----------
    text : object
        A label (converted with ``str``).

    Returns
    -------
    str
        Drawn exactly as written (``"$5 a $ession"`` stays that, not an error or math).
    """
    return str(text).replace("$", r"\$")


def _axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_claims_by_section(claims: pd.DataFrame, ax=None):
    """Horizontal stacked bars: number of claims per article section, by claim type.

    Parameters
    ----------
    claims : pandas.DataFrame
        Claims table (``section``, ``claim_type``, ``order``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    sections = claims.sort_values("order").drop_duplicates("section")["section"].tolist()
    table = pd.crosstab(claims["section"], claims["claim_type"]).reindex(sections[::-1])
    table.index = [_plain_text(section) for section in table.index]
    ax = _axes(ax, (8, 0.45 * len(sections) + 1.5))
    table.plot.barh(stacked=True, ax=ax, colormap="tab10", width=0.75)
    ax.set_xlabel("Number of claims")
    ax.set_ylabel("")
    ax.set_title("Claims per article section, by type")
    ax.legend(title="Claim type", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    return ax


def plot_counts(frame: pd.DataFrame, column: str, title: str, ax=None):
    """Horizontal bar chart of value counts of one column (e.g. design, country).

    Parameters
    ----------
    frame : pandas.DataFrame
    column : str
    title : str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    counts = frame[column].fillna("not reported").value_counts().sort_values()
    ax = _axes(ax, (6, 0.3 * len(counts) + 1.2))
    ax.barh([_plain_text(label) for label in counts.index], counts.to_numpy(), color="#4c72b0")
    ax.set_xlabel("Number of publications")
    ax.set_title(title)
    for y, v in enumerate(counts.to_numpy()):
        ax.text(v, y, f" {v}", va="center", fontsize=8)
    return ax


def plot_rob_traffic_light(studies: pd.DataFrame, ax=None):
    """robvis-style traffic-light plot: one row per study, one column per bias domain and overall.

    Parameters
    ----------
    studies : pandas.DataFrame
        Studies with ``study_id``, ``rob_d1``..``rob_d5`` and ``rob_overall``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    cols = [*ROB_DOMAINS, "rob_overall"]
    data = studies.set_index("study_id")[cols]
    ax = _axes(ax, (7, 0.22 * len(data) + 1.5))
    for y, (sid, row) in enumerate(data.iterrows()):
        for x, col in enumerate(cols):
            j = row[col]
            ax.scatter(x, y, s=90, color=ROB_COLOURS[j], edgecolor="black", linewidth=0.4)
            ax.text(x, y, ROB_SYMBOLS[j], ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(cols)), ["D1", "D2", "D3", "D4", "D5", "Overall"])
    ax.set_yticks(range(len(data)), data.index, fontsize=7)
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.xaxis.tick_top()
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, markeredgecolor="black", label=k.replace("_", " "))
               for k, c in ROB_COLOURS.items()]
    ax.legend(handles=handles, bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False, title="Judgement")
    ax.set_title("Risk of bias per study and domain", pad=24)
    return ax


def plot_rob_summary(studies: pd.DataFrame, ax=None):
    """robvis-style summary: share of studies at each judgement, per domain.

    Parameters
    ----------
    studies : pandas.DataFrame
        Studies with ``rob_d1``..``rob_d5`` and ``rob_overall``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    cols = [*ROB_DOMAINS, "rob_overall"]
    labels = {**ROB_DOMAIN_LABELS, "rob_overall": "Overall"}
    shares = pd.DataFrame(
        {labels[c]: studies[c].value_counts(normalize=True) for c in cols}
    ).T.reindex(columns=list(ROB_COLOURS)).fillna(0) * 100
    ax = _axes(ax, (8, 3))
    shares.iloc[::-1].plot.barh(stacked=True, color=[ROB_COLOURS[c] for c in shares.columns], ax=ax, width=0.7,
                                edgecolor="black", linewidth=0.3)
    ax.set_xlabel("% of studies")
    ax.set_xlim(0, 100)
    ax.legend([c.replace("_", " ") for c in shares.columns], bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    ax.set_title("Risk of bias summary")
    return ax


def evidence_column(trials: pd.DataFrame) -> pd.Series:
    """Classify each claim-trial row into an evidence-map column.

    Parameters
    ----------
    trials : pandas.DataFrame
        :func:`evidence_review.engine.study_directions` output.

    Returns
    -------
    pandas.Series
        One of :data:`EVIDENCE_COLUMNS` per row.
    """
    direct = trials["directness"] == "direct"
    return pd.Series(
        np.select(
            [~direct, trials["design"].isin(RANDOMISED_DESIGNS), trials["controlled"]],
            ["Indirect", "Randomised, MS", "Other controlled, MS"],
            default="Uncontrolled, MS",
        ),
        index=trials.index,
    )


def plot_evidence_map(verdicts: pd.DataFrame, trials: pd.DataFrame, claims: pd.DataFrame, ax=None):
    """Evidence gap map: claims x kind of evidence, bubble area = participants, colour = verdict.

    Claims without any evidence keep an empty row so gaps are visible.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        ``claim_id`` and ``verdict`` per claim.
    trials : pandas.DataFrame
        Claim x trial rows (:func:`evidence_review.engine.study_directions`).
    claims : pandas.DataFrame
        Claims table, for the row order.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    order = claims.sort_values("order")["claim_id"].tolist()
    cells = trials.assign(column=evidence_column(trials)).groupby(["claim_id", "column"], as_index=False).agg(
        participants=("participants", lambda s: s.fillna(0).sum()), trials=("trial_group", "nunique")
    )
    cells = cells.merge(verdicts[["claim_id", "verdict"]], on="claim_id")
    y = {c: i for i, c in enumerate(order)}
    x = {c: i for i, c in enumerate(EVIDENCE_COLUMNS)}
    ax = _axes(ax, (9, 0.28 * len(order) + 2))
    size = 30 + 600 * np.sqrt(cells["participants"].astype(float) / max(float(cells["participants"].max()), 1.0)) if len(cells) else []
    ax.scatter(cells["column"].map(x), cells["claim_id"].map(y), s=size,
               c=cells["verdict"].map(VERDICT_COLOURS), edgecolor="black", linewidth=0.4, alpha=0.9)
    for row in cells.itertuples():
        ax.text(x[row.column], y[row.claim_id], str(row.trials), ha="center", va="center", fontsize=6)
    verdict_of = verdicts.set_index("claim_id")["verdict"]
    ax.set_yticks(range(len(order)), [f"{c}  [{verdict_of.get(c, '').replace('_', ' ')}]" for c in order], fontsize=7)
    ax.set_xticks(range(len(EVIDENCE_COLUMNS)), EVIDENCE_COLUMNS, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(-0.5, len(EVIDENCE_COLUMNS) - 0.5)
    ax.grid(True, color="#eeeeee")
    ax.set_axisbelow(True)
    handles = [plt.Line2D([], [], marker="o", ls="", color=VERDICT_COLOURS[v], markeredgecolor="black",
                          markersize=8, label=v.replace("_", " ")) for v in VERDICTS]
    ax.legend(handles=handles, title="Verdict", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    ax.set_title("Evidence map: bubble area = participants, number = trials, empty row = no evidence", pad=22, fontsize=10)
    return ax


def plot_support_by_claim(trials: pd.DataFrame, claims: pd.DataFrame):
    """Stacked bars of trial results by direction per claim, one panel per kind of design.

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial directions.
    claims : pandas.DataFrame
        Claims table (row order; only claims with evidence are drawn).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = trials.assign(column=evidence_column(trials))
    order = [c for c in claims.sort_values("order")["claim_id"] if c in set(data["claim_id"])]
    fig, axes = plt.subplots(1, len(EVIDENCE_COLUMNS), sharey=True, figsize=(11, 0.3 * max(len(order), 1) + 1.8),
                             layout="constrained")
    for ax, column in zip(axes, EVIDENCE_COLUMNS):
        table = pd.crosstab(data.loc[data["column"] == column, "claim_id"],
                            data.loc[data["column"] == column, "direction"]).reindex(index=order, columns=list(DIRECTION_COLOURS)).fillna(0)
        left = np.zeros(len(order))
        for direction, colour in DIRECTION_COLOURS.items():
            ax.barh(range(len(order)), table[direction].to_numpy(), left=left, color=colour, label=direction.replace("_", " "))
            left += table[direction].to_numpy()
        ax.set_title(column, fontsize=9)
        ax.set_xlabel("Trials")
    axes[0].set_yticks(range(len(order)), order, fontsize=7)
    axes[0].set_ylim(len(order) - 0.5, -0.5)
    axes[-1].legend(bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False, title="Direction")
    fig.suptitle("Direction of results per claim (one count per trial), by kind of evidence", fontsize=10)
    return fig


def plot_harvest(trials: pd.DataFrame, ax=None, label_column: str = "study_id"):
    """Harvest plot: one bar per trial under the direction it found; bar height = design weight.

    Tall bars are randomised trials, mid bars other controlled studies, short bars uncontrolled ones.

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial directions for the claims or outcome domain of interest.
    ax : matplotlib.axes.Axes, optional
    label_column : str
        Column used to label bars.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .engine import design_weight

    ax = _axes(ax, (9, 3.2))
    directions = list(DIRECTION_COLOURS)
    gap = 1.5
    x0 = 0.0
    centres = []
    for direction in directions:
        rows = trials.loc[trials["direction"] == direction].sort_values("participants", ascending=False)
        xs = x0 + np.arange(len(rows))
        ax.bar(xs, [max(design_weight(d), 0.1) for d in rows["design"]], color=DIRECTION_COLOURS[direction],
               edgecolor="black", linewidth=0.4, width=0.8)
        for xi, label in zip(xs, rows[label_column]):
            ax.text(xi, 0.02, _plain_text(label), rotation=90, ha="center", va="bottom", fontsize=6)
        centres.append(x0 + max(len(rows) - 1, 0) / 2)
        x0 += max(len(rows), 2) + gap
    ax.set_xticks(centres, ["benefit", "no diff.", "harm", "unclear"], fontsize=8)
    ax.set_yticks([0.25, 0.5, 1.0], ["uncontrolled", "non-randomised", "randomised"], fontsize=7)
    ax.set_ylim(0, 1.1)
    ax.set_title("Harvest plot: each bar one trial, height = design")
    return ax


def plot_harvest_by_domain(directions: pd.DataFrame, min_trials: int = 3, columns: int = 2):
    """Harvest plots, one panel per outcome domain with at least ``min_trials`` trials.

    Parameters
    ----------
    directions : pandas.DataFrame
        :func:`evidence_review.engine.domain_directions` output.
    min_trials : int
        Domains with fewer trials are left out.
    columns : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    counts = directions["outcome_domain"].value_counts()
    domains = sorted(counts[counts >= min_trials].index)
    rows = max(1, -(-len(domains) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 3 * rows), layout="constrained", squeeze=False)
    for ax, domain in zip(axes.flat, domains):
        plot_harvest(directions.loc[directions["outcome_domain"] == domain], ax=ax)
        ax.set_title(f"{domain} ({counts[domain]} trials)", fontsize=9)
    for ax in list(axes.flat)[len(domains):]:
        ax.set_visible(False)
    fig.suptitle("Effect direction by outcome domain: each bar one trial, height = design", fontsize=10)
    return fig


def plot_albatross(links: pd.DataFrame, ax=None):
    """Albatross plot: p-value (signed by direction) against sample size, for results with a p-value.

    Parameters
    ----------
    links : pandas.DataFrame
        Claim-outcome links with ``p_value``, ``direction`` and ``participants``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = links.dropna(subset=["p_value", "participants"]).drop_duplicates("outcome_id")
    data = data.loc[data["direction"].isin(["benefit", "harm", "no_difference"]) & (data["p_value"] > 0)]
    sign = np.where(data["direction"] == "harm", -1.0, 1.0)
    x = sign * -np.log10(data["p_value"].astype(float))
    ax = _axes(ax, (7, 4))
    sns.scatterplot(x=x, y=data["participants"].astype(float), hue=data["direction"], palette=DIRECTION_COLOURS, ax=ax,
                    edgecolor="black", linewidth=0.3)
    for p in (0.05, 0.001):
        for s in (-1, 1):
            ax.axvline(s * -np.log10(p), color="#999999", ls=":", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("-log10(p), signed: right = favours the intervention, left = harm")
    ax.set_ylabel("Participants (log scale)")
    ax.set_title("Albatross plot of reported p-values (dotted: p = 0.05 and 0.001)")
    ax.legend(title="Direction", frameon=False)
    return ax


def plot_forest(result=None, ax=None, reviews: pd.DataFrame | None = None, title: str = "", xlabel: str = "Hedges' g (positive favours the intervention)"):
    """Forest plot of study effects and the pooled estimate, with published reviews' estimates beside them.

    Parameters
    ----------
    result : PoolResult or pandas.DataFrame, optional
        A pooled analysis, or a frame with ``label``, ``estimate``, ``ci_low``, ``ci_high``.
    ax : matplotlib.axes.Axes, optional
    reviews : pandas.DataFrame, optional
        Published pooled estimates with ``label``, ``estimate``, ``ci_low``, ``ci_high``; drawn as diamonds.
    title, xlabel : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = []
    if result is not None and hasattr(result, "summary_frame"):
        sf = result.summary_frame()
        for label, r in sf.iterrows():
            kind = "pooled" if label == "random effect" else "study"
            rows.append((f"Pooled (RE, {result.method.upper()}), I²={result.i2:.0f}%" if kind == "pooled" else label,
                         r["eff"], r["ci_low"], r["ci_upp"], kind))
    elif result is not None:
        rows += [(r.label, r.estimate, r.ci_low, r.ci_high, "study") for r in result.itertuples()]
    if reviews is not None:
        rows += [(r.label, r.estimate, r.ci_low, r.ci_high, "review") for r in reviews.itertuples()]
    ax = _axes(ax, (8, 0.35 * max(len(rows), 1) + 1.5))
    for y, (label, est, lo, hi, kind) in enumerate(rows):
        colour = {"study": "black", "pooled": "#b2182b", "review": "#2166ac"}[kind]
        marker = {"study": "s", "pooled": "D", "review": "D"}[kind]
        if not (pd.isna(lo) or pd.isna(hi)):
            ax.plot([lo, hi], [y, y], color=colour, lw=1.2)
        ax.plot(est, y, marker=marker, color=colour, markersize=6)
    ax.set_yticks(range(len(rows)), [_plain_text(r[0]) for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.axvline(0, color="#666666", lw=0.8, ls="--")
    ax.set_xlabel(_plain_text(xlabel))
    ax.set_title(_plain_text(title) if title else "Forest plot (blue diamonds: published reviews' pooled estimates)", fontsize=10)
    return ax
