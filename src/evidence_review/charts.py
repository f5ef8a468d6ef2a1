"""Charts of the review: one function per chart, each taking tidy tables and returning Axes or Figure.

Every chart is readable without colour: the Okabe-Ito palette (safe for the common colour-vision
deficiencies) carries meaning together with a second encoding (hatch, marker shape or a printed
symbol), every text is at least :data:`MIN_FONT_PT` points, and each returned Axes or Figure carries
a ``description`` attribute: a sentence saying what the chart shows, used as the image's alt text.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .directions import design_weight
from .present import author_year as study_label
from .site import BADGES
from .vocab import RANDOMISED_DESIGNS, ROB_DOMAIN_LABELS, ROB_DOMAINS, VERDICTS

__all__ = [
    "OKABE_ITO",
    "VERDICT_COLOURS",
    "DIRECTION_COLOURS",
    "DIRECTION_HATCHES",
    "DIRECTION_MARKERS",
    "ROB_COLOURS",
    "ROB_SYMBOLS",
    "MIN_FONT_PT",
    "RATIO_MEASURES",
    "ROB_TRAFFIC_LIGHT_MAX_STUDIES",
    "ROB_PATTERN_ROWS",
    "FOREST_MAX_STUDIES",
    "HARVEST_MAX_TRIALS",
    "HARVEST_MAX_PANELS",
    "ALBATROSS_MAX_POINTS",
    "COUNTS_MAX_BARS",
    "description",
    "short_label",
    "show",
    "figure_png_base64",
    "plot_claims_by_section",
    "plot_counts",
    "plot_rob_traffic_light",
    "plot_rob_summary",
    "evidence_columns",
    "evidence_column",
    "plot_evidence_map",
    "plot_support_by_claim",
    "plot_harvest",
    "plot_harvest_by_domain",
    "plot_albatross",
    "plot_forest",
    "plot_published_forest",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "grey": "#999999", "black": "#000000"}
#: The same colours as the verdict badges of the web pages.
VERDICT_COLOURS = {v: BADGES[v]["background"] for v in VERDICTS}
DIRECTION_COLOURS = {"benefit": OKABE_ITO["bluish_green"], "no_difference": OKABE_ITO["grey"],
                     "harm": OKABE_ITO["vermillion"], "unclear": OKABE_ITO["sky_blue"]}
DIRECTION_HATCHES = {"benefit": "", "no_difference": "..", "harm": "xx", "unclear": "//"}
DIRECTION_MARKERS = {"benefit": "^", "no_difference": "o", "harm": "v", "unclear": "s", "mixed": "D"}
DIRECTION_LABELS = {"benefit": "favours intervention", "no_difference": "no difference",
                    "harm": "worse with intervention", "unclear": "unclear", "mixed": "mixed directions"}
#: Risk-of-bias judgements as robvis draws them: a coloured circle with a symbol in it.
ROB_COLOURS = {"low": OKABE_ITO["bluish_green"], "some_concerns": OKABE_ITO["yellow"], "high": OKABE_ITO["vermillion"],
               "not_assessed": "#BBBBBB"}
ROB_SYMBOLS = {"low": "+", "some_concerns": "−", "high": "×", "not_assessed": "?"}
ROB_LABELS = {"low": "Low", "some_concerns": "Some concerns", "high": "High", "not_assessed": "No information"}
ROB_HATCHES = {"low": "", "some_concerns": "..", "high": "xx", "not_assessed": "//"}
#: Smallest text on any chart, in points (at the notebooks' 90 dpi: 8.5 pt = 10.6 px).
MIN_FONT_PT = 8.5
#: Effect measures drawn on a log axis with the null at 1.
RATIO_MEASURES = ("RR", "OR", "HR", "IRR")
def evidence_columns(population: str) -> tuple[str, str, str, str]:
    """The evidence map's columns, named for the population under review ("Randomised, <population>").

    Parameters
    ----------
    population : str
        Short name of the population under review: the label of the review's target condition.

    Returns
    -------
    tuple of str
        Randomised, other controlled and uncontrolled direct evidence, then indirect evidence.
    """
    return (f"Randomised, {population}", f"Other controlled, {population}", f"Uncontrolled, {population}", "Indirect")

# Above these sizes a chart that draws one mark per study, trial or result switches to a readable
# aggregate (documented in the README, "Large reviews"). Each is well above the bundled review's
# largest chart, whose figures stay one mark per study.
#: Traffic-light plot: above this many studies, one row per pattern of judgements (most common first).
ROB_TRAFFIC_LIGHT_MAX_STUDIES = 60
#: Rows of judgement patterns the aggregated traffic-light plot shows.
ROB_PATTERN_ROWS = 25
#: Forest plot: above this many studies, the heaviest (random-effects weight) are drawn, the rest counted.
FOREST_MAX_STUDIES = 30
#: Harvest plot: above this many trials, bars count trials per direction and kind of design.
HARVEST_MAX_TRIALS = 60
#: Harvest plots by domain: at most this many panels (the domains with most trials).
HARVEST_MAX_PANELS = 20
#: Albatross plot: above this many results, a density of hexagonal cells instead of one marker each.
ALBATROSS_MAX_POINTS = 2000
#: Bar charts of counts: at most this many bars; the rarest values share one "Other" bar.
COUNTS_MAX_BARS = 20


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


def description(chart) -> str:
    """The description (alt text) a chart function attached to its Axes or Figure.

    Parameters
    ----------
    chart : matplotlib.axes.Axes or matplotlib.figure.Figure

    Returns
    -------
    str
    """
    text = getattr(chart, "description", None)
    if text is None and hasattr(chart, "figure"):
        text = getattr(chart.figure, "description", None)
    return text or "Chart."


def show(chart, alt: str | None = None) -> None:
    """Display a chart in a notebook as a PNG whose alt text is the chart's description.

    The description is also the output's plain text, so nbval compares it.

    Parameters
    ----------
    chart : matplotlib.axes.Axes or matplotlib.figure.Figure
    alt : str, optional
        Description to use instead of the chart's own (e.g. for a figure of several charts).
    """
    import base64
    import io

    from IPython.display import display

    fig = chart if hasattr(chart, "savefig") else chart.figure
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plt.rcParams["figure.dpi"], bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    alt = alt or description(chart)
    display({"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": alt}, raw=True,
            metadata={"image/png": {"alt": alt}})


def figure_png_base64(fig, dpi: int = 96) -> str:
    """Encode a matplotlib figure as base64 PNG for embedding in a web page (the summary's evidence map).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int
        Pixels per inch; at 96 the charts' smallest text (8.5 pt) is 11 px on screen.

    Returns
    -------
    str
    """
    import base64
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def short_label(text: str, width: int = 42) -> str:
    """A claim shortened at a word boundary for a chart's axis (the full text is in the tables).

    Parameters
    ----------
    text : str
    width : int

    Returns
    -------
    str
    """
    text = " ".join(str(text).split()).rstrip(".")
    if len(text) <= width:
        return text
    cut = text[:width].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def _fs(size: float) -> float:
    return max(size, MIN_FONT_PT)


def _axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _readable(ax) -> None:
    """Raise every text of the Axes (ticks, labels, title, legend) to at least MIN_FONT_PT."""
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels(), *ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [*legend.get_texts(), legend.get_title()]
    for t in texts:
        if t.get_fontsize() < MIN_FONT_PT:
            t.set_fontsize(MIN_FONT_PT)


def _text_colour(background: str) -> str:
    from .site import contrast_ratio

    return "#000000" if contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background) else "#ffffff"


def plot_claims_by_section(claims: pd.DataFrame, ax=None):
    """Horizontal stacked bars: number of claims per article section, by claim type (hatched).

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
    ax = _axes(ax, (8, 0.45 * len(sections) + 1.5))
    colours = list(OKABE_ITO.values())
    hatches = ["", "..", "//", "xx", "\\\\", "oo", "--", "++"]
    left = np.zeros(len(table))
    for i, kind in enumerate(table.columns):
        ax.barh(range(len(table)), table[kind].to_numpy(), left=left, color=colours[i % len(colours)],
                hatch=hatches[i % len(hatches)], edgecolor="black", linewidth=0.4, label=kind, height=0.75)
        left += table[kind].to_numpy()
    ax.set_yticks(range(len(table)), [_plain_text(section) for section in table.index])
    ax.set_xlabel("Number of claims")
    ax.set_title("Claims per article section, by type")
    ax.legend(title="Claim type", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    _readable(ax)
    biggest = table.sum(axis=1).idxmax() if len(table) else ""
    ax.description = (f"Bar chart of the {int(table.to_numpy().sum())} claims in {len(sections)} article sections, "
                      f"split by claim type; the section with most claims is {biggest}.")
    return ax


def plot_counts(frame: pd.DataFrame, column: str, title: str, ax=None, labels: dict | None = None):
    """Horizontal bar chart of value counts of one column (e.g. design, country), each bar labelled.

    At most :data:`COUNTS_MAX_BARS` bars: beyond that, the rarest values are counted in one "Other" bar.

    Parameters
    ----------
    frame : pandas.DataFrame
    column : str
    title : str
    ax : matplotlib.axes.Axes, optional
    labels : dict, optional
        The review's own code labels (interventions, conditions), tried before the built-in ones.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .present import label_code

    counts = frame[column].fillna("not reported").map(lambda code: label_code(code, labels)).value_counts().sort_values()
    if len(counts) > COUNTS_MAX_BARS:
        rest = counts.iloc[: len(counts) - COUNTS_MAX_BARS + 1]
        other = pd.Series({f"Other ({len(rest)} values)": int(rest.sum())})
        counts = pd.concat([counts.iloc[len(rest):], other]).sort_values(kind="stable")
    ax = _axes(ax, (6, 0.3 * len(counts) + 1.2))
    ax.barh([_plain_text(label) for label in counts.index], counts.to_numpy(), color=OKABE_ITO["blue"])
    ax.set_xlabel("Number of publications")
    ax.set_title(_plain_text(title))
    for y, v in enumerate(counts.to_numpy()):
        ax.text(v, y, f" {v}", va="center", fontsize=MIN_FONT_PT)
    _readable(ax)
    top = ", ".join(f"{k} {v}" for k, v in counts.sort_values(ascending=False).head(3).items())
    ax.description = f"{title}: publications counted by {column.replace('_', ' ')}; most common: {top}."
    return ax


def plot_rob_traffic_light(studies: pd.DataFrame, ax=None):
    """Traffic-light plot as robvis draws it: a circle per study and domain, coloured and marked with a symbol.

    Above :data:`ROB_TRAFFIC_LIGHT_MAX_STUDIES` studies a row per study is unreadable: each row is
    then one pattern of judgements, labelled with the number of studies that share it, the
    :data:`ROB_PATTERN_ROWS` most common first, and a last line counts the rest.

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
    aggregate = len(data) > ROB_TRAFFIC_LIGHT_MAX_STUDIES
    if aggregate:
        patterns = data.value_counts(sort=False).rename("studies").reset_index()
        patterns = patterns.sort_values(["studies", *cols], ascending=[False, *[True] * len(cols)], kind="stable")
        shown_rows = patterns.iloc[:ROB_PATTERN_ROWS]
        rest = patterns.iloc[ROB_PATTERN_ROWS:]
        rows = shown_rows[cols]
        labels = [f"{n:,} {'study' if n == 1 else 'studies'}" for n in shown_rows["studies"]]
        if len(rest):
            labels.append(f"and {len(rest):,} more patterns ({int(rest['studies'].sum()):,} studies)")
    else:
        rows = data
        labels = [_plain_text(study_label(s)) for s in data.index]
    ax = _axes(ax, (7.5, 0.34 * len(labels) + 2.2))
    for y, (_, row) in enumerate(rows.iterrows()):
        for x, col in enumerate(cols):
            j = row[col]
            ax.scatter(x, y, s=240, color=ROB_COLOURS[j], edgecolor="black", linewidth=0.5, zorder=2)
            ax.text(x, y, ROB_SYMBOLS[j], ha="center", va="center", fontsize=11, fontweight="bold",
                    color=_text_colour(ROB_COLOURS[j]), zorder=3)
    ax.set_xticks(range(len(cols)), ["D1", "D2", "D3", "D4", "D5", "Overall"])
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.xaxis.tick_top()
    ax.grid(False)
    handles = [plt.Line2D([], [], marker="o", ls="", markersize=12, color=ROB_COLOURS[k], markeredgecolor="black",
                          label=f"{ROB_SYMBOLS[k]}  {ROB_LABELS[k]}") for k in ROB_COLOURS]
    ax.legend(handles=handles, bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False, title="Judgement")
    domains = "; ".join(f"{k[-2:].upper()} {v.split(' ', 1)[1]}" for k, v in ROB_DOMAIN_LABELS.items())
    ax.set_xlabel(domains, fontsize=MIN_FONT_PT, wrap=True)
    ax.set_title(f"Risk of bias: the most common patterns of judgements among {len(data):,} studies" if aggregate
                 else "Risk of bias per study and domain", pad=12)
    _readable(ax)
    overall = data["rob_overall"].map(ROB_LABELS).value_counts()
    judgements = ", ".join(f"{n} {k.lower()}" for k, n in overall.items())
    if aggregate:
        ax.description = (f"Risk-of-bias traffic-light plot of {len(data)} studies, too many for one row each: one row per "
                          f"pattern of judgements across five domains and overall, the {len(rows)} most common of "
                          f"{len(patterns)} patterns, with the number of studies sharing it; overall judgements: {judgements}.")
    else:
        ax.description = (f"Risk-of-bias traffic-light plot for {len(data)} studies across five domains and overall; "
                          f"overall judgements: {judgements}.")
    return ax


def plot_rob_summary(studies: pd.DataFrame, ax=None):
    """robvis-style summary: share of studies at each judgement, per domain (colour and hatch).

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
    ax = _axes(ax, (8, 3.2))
    left = np.zeros(len(shares))
    rows = shares.iloc[::-1]
    for judgement in rows.columns:
        ax.barh(range(len(rows)), rows[judgement].to_numpy(), left=left, color=ROB_COLOURS[judgement],
                hatch=ROB_HATCHES[judgement], edgecolor="black", linewidth=0.4, height=0.7,
                label=f"{ROB_SYMBOLS[judgement]}  {ROB_LABELS[judgement]}")
        left += rows[judgement].to_numpy()
    ax.set_yticks(range(len(rows)), rows.index)
    ax.set_xlabel("% of studies")
    ax.set_xlim(0, 100)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False, title="Judgement")
    ax.set_title("Risk of bias summary")
    _readable(ax)
    high = shares.loc["Overall", "high"] if "Overall" in shares.index else 0
    ax.description = (f"Stacked bars of the share of {len(studies)} studies judged low, some concerns, high risk of bias "
                      f"or not assessed in each domain; {high:.0f}% are at high risk overall.")
    return ax


def evidence_column(trials: pd.DataFrame, population: str) -> pd.Series:
    """Classify each claim-trial row into an evidence-map column.

    Parameters
    ----------
    trials : pandas.DataFrame
        :func:`evidence_review.engine.study_directions` output.
    population : str
        Short name of the population under review (see :func:`evidence_columns`).

    Returns
    -------
    pandas.Series
        One of :func:`evidence_columns` per row.
    """
    randomised, controlled, uncontrolled, indirect = evidence_columns(population)
    direct = trials["directness"] == "direct"
    return pd.Series(
        np.select(
            [~direct, trials["design"].isin(RANDOMISED_DESIGNS), trials["controlled"]],
            [indirect, randomised, controlled],
            default=uncontrolled,
        ),
        index=trials.index,
    )


def cell_direction(directions: pd.Series) -> str:
    """What one evidence-map cell's own trials show: a direction when >= 75% of those with one agree.

    Parameters
    ----------
    directions : pandas.Series
        The trials' directions (benefit, no_difference, harm, unclear).

    Returns
    -------
    str
        benefit, no_difference, harm, mixed, or unclear when no trial has a direction.
    """
    decided = directions.loc[directions != "unclear"]
    if decided.empty:
        return "unclear"
    top = decided.value_counts()
    return top.index[0] if top.iloc[0] / len(decided) >= 0.75 else "mixed"


_CELL_COLOURS = {**DIRECTION_COLOURS, "mixed": OKABE_ITO["orange"]}


def _bubble_area(participants, biggest: float):
    return 40 + 700 * np.sqrt(np.asarray(participants, dtype=float) / max(float(biggest), 1.0))


def plot_evidence_map(verdicts: pd.DataFrame, trials: pd.DataFrame, claims: pd.DataFrame, ax=None, *, population: str):
    """Evidence gap map: claims x kind of evidence; bubble area = participants, colour and shape = that cell's results.

    Claims without any evidence keep an empty row so gaps are visible.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        ``claim_id`` and ``verdict`` per claim.
    trials : pandas.DataFrame
        Claim x trial rows (:func:`evidence_review.engine.study_directions`).
    claims : pandas.DataFrame
        Claims table, for the row order and the claim text.
    ax : matplotlib.axes.Axes, optional
    population : str
        Short name of the population under review, for the column names and the alt text
        (the label of the review's target condition).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ordered = claims.sort_values("order")
    order = ordered["claim_id"].tolist()
    columns = evidence_columns(population)
    data = trials.assign(column=evidence_column(trials, population))
    cells = data.groupby(["claim_id", "column"]).agg(
        participants=("participants", lambda s: s.fillna(0).sum()), trials=("trial_group", "nunique"),
        direction=("direction", cell_direction)).reset_index()
    y = {c: i for i, c in enumerate(order)}
    x = {c: i for i, c in enumerate(columns)}
    ax = _axes(ax, (10, 0.32 * len(order) + 2.5))
    biggest = float(cells["participants"].max()) if len(cells) else 1.0
    for direction, group in cells.groupby("direction"):
        ax.scatter(group["column"].map(x), group["claim_id"].map(y), s=_bubble_area(group["participants"], biggest),
                   c=_CELL_COLOURS[direction], marker=DIRECTION_MARKERS[direction], edgecolor="black", linewidth=0.5,
                   zorder=2)
    for row in cells.itertuples():
        # The count sits just right of its bubble, whatever the bubble's size (area in points²).
        radius = float(np.sqrt(_bubble_area([row.participants], biggest)[0] / np.pi))
        ax.annotate(str(row.trials), (x[row.column], y[row.claim_id]), xytext=(radius + 3, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=MIN_FONT_PT, color="#000000", zorder=3)
    ax.set_yticks(range(len(order)), [_plain_text(f"{o}. {short_label(t)}") for o, t in zip(ordered["order"], ordered["claim"])])
    ax.set_xticks(range(len(columns)), [c.replace(", ", "\n").replace(" ", "\n") for c in columns])
    ax.xaxis.tick_top()
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(-0.5, len(columns) - 0.3)
    ax.grid(True, color="#e5e5e5")
    ax.set_axisbelow(True)
    kinds = [plt.Line2D([], [], marker=DIRECTION_MARKERS[d], ls="", color=_CELL_COLOURS[d], markeredgecolor="black",
                        markersize=9, label=DIRECTION_LABELS[d]) for d in ("benefit", "no_difference", "harm", "mixed", "unclear")]
    key = [n for n in (10, 100, 1000) if n <= max(biggest, 10)] or [10]
    sizes = [plt.scatter([], [], s=_bubble_area([n], biggest), marker="o", facecolor="white", edgecolor="black",
                         label=f"{n} participants") for n in key]
    # One legend, so the layout makes room for all of it: what the cell's trials found, then the size key.
    ax.legend(handles=[*kinds, *sizes], title="This cell's trials\n(colour and shape;\nbubble area = participants)",
              bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False, labelspacing=1.3, borderpad=0.8)
    ax.set_title("Evidence map: bubble area = participants, number = trials, empty row = no evidence", pad=10)
    _readable(ax)
    covered = cells["claim_id"].nunique()
    ax.description = (f"Evidence map of {len(order)} claims against four kinds of evidence (randomised, other "
                      f"controlled and uncontrolled studies in {population}, and indirect evidence); {covered} claims have any "
                      f"evidence and {len(order) - covered} have none. Bubble area shows participants, the number beside "
                      "it trials, and colour and shape what that cell's trials found.")
    return ax


def plot_support_by_claim(trials: pd.DataFrame, claims: pd.DataFrame, *, population: str):
    """Stacked bars of trial results by direction per claim, one panel per kind of design, one shared scale.

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial directions.
    claims : pandas.DataFrame
        Claims table (row order and text; only claims with evidence are drawn).
    population : str
        Short name of the population under review, for the panel titles (see :func:`evidence_columns`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    columns = evidence_columns(population)
    data = trials.assign(column=evidence_column(trials, population))
    ordered = claims.sort_values("order")
    ordered = ordered.loc[ordered["claim_id"].isin(set(data["claim_id"]))]
    order = ordered["claim_id"].tolist()
    fig, axes = plt.subplots(1, len(columns), sharey=True, sharex=True,
                             figsize=(12, 0.34 * max(len(order), 1) + 2.2), layout="constrained")
    for ax, column in zip(axes, columns):
        sub = data.loc[data["column"] == column]
        table = pd.crosstab(sub["claim_id"], sub["direction"]).reindex(index=order, columns=list(DIRECTION_COLOURS)).fillna(0)
        left = np.zeros(len(order))
        for direction, colour in DIRECTION_COLOURS.items():
            ax.barh(range(len(order)), table[direction].to_numpy(), left=left, color=colour, hatch=DIRECTION_HATCHES[direction],
                    edgecolor="black", linewidth=0.3, label=DIRECTION_LABELS[direction])
            left += table[direction].to_numpy()
        ax.set_title(column)
        ax.set_xlabel("Trials")
    axes[0].set_yticks(range(len(order)), [_plain_text(f"{o}. {short_label(t, 34)}") for o, t in zip(ordered["order"], ordered["claim"])])
    axes[0].set_ylim(len(order) - 0.5, -0.5)
    axes[-1].legend(bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False, title="Direction")
    for ax in axes:
        _readable(ax)
    fig.suptitle("Direction of results per claim (one count per trial), by kind of evidence; same scale in every panel")
    fig.description = (f"Four panels of stacked bars, one per kind of evidence, on one shared scale: for each of "
                       f"{len(order)} claims with evidence, how many trials favoured the intervention, found no "
                       "difference, found it worse or were unclear.")
    return fig


def plot_harvest(trials: pd.DataFrame, ax=None, label_column: str = "study_id"):
    """Harvest plot: one bar per trial under the direction it found; bar height = design weight.

    Tall bars are randomised trials, mid bars other controlled studies, short bars uncontrolled ones.
    Bars are labelled "Author Year" and hatched by direction. Above :data:`HARVEST_MAX_TRIALS`
    trials, one bar per trial is unreadable: the bars then count the trials of each kind of design
    under each direction (:func:`_harvest_counts`).

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial directions for the claims or outcome domain of interest.
    ax : matplotlib.axes.Axes, optional
    label_column : str
        Column used to label bars (study ids become "Author Year").

    Returns
    -------
    matplotlib.axes.Axes
    """

    ax = _axes(ax, (9, 3.6))
    directions = list(DIRECTION_COLOURS)
    if len(trials) > HARVEST_MAX_TRIALS:
        return _harvest_counts(trials, ax)
    gap = 1.5
    x0 = 0.0
    centres = []
    for direction in directions:
        rows = trials.loc[trials["direction"] == direction].sort_values("participants", ascending=False)
        xs = x0 + np.arange(len(rows))
        ax.bar(xs, [max(design_weight(d), 0.1) for d in rows["design"]], color=DIRECTION_COLOURS[direction],
               hatch=DIRECTION_HATCHES[direction], edgecolor="black", linewidth=0.4, width=0.8)
        for xi, label in zip(xs, rows[label_column]):
            text = study_label(label) if label_column == "study_id" else str(label)
            ax.text(xi, 1.04, _plain_text(text), rotation=90, ha="center", va="bottom", fontsize=MIN_FONT_PT)
        centres.append(x0 + max(len(rows) - 1, 0) / 2)
        x0 += max(len(rows), 2) + gap
    ax.set_xticks(centres, ["favours\nintervention", "no\ndifference", "worse with\nintervention", "unclear"])
    ax.set_yticks([0.25, 0.5, 1.0], ["uncontrolled", "non-randomised", "randomised"])
    ax.set_ylim(0, 1.9)
    ax.set_title("Harvest plot: each bar one trial, height = design")
    _readable(ax)
    counts = trials["direction"].value_counts()
    ax.description = ("Harvest plot of " + str(len(trials)) + " trials by the direction they found: "
                      + ", ".join(f"{int(counts.get(d, 0))} {DIRECTION_LABELS[d]}" for d in directions)
                      + "; taller bars are stronger designs.")
    return ax


#: Kinds of design of a harvest plot, by design weight (see :func:`evidence_review.directions.design_weight`).
_HARVEST_TIERS = (("randomised", 1.0), ("non-randomised", 0.5), ("uncontrolled", 0.0))


def _harvest_counts(trials: pd.DataFrame, ax):
    """The harvest plot of many trials: under each direction, one bar per kind of design, height = trials."""
    directions = list(DIRECTION_COLOURS)
    weight = trials["design"].map(design_weight).fillna(0.0).to_numpy()
    tier = np.select([weight >= 1.0, weight >= 0.5], [0, 1], 2)
    table = pd.crosstab(trials["direction"].to_numpy(), tier).reindex(index=directions, columns=range(3), fill_value=0)
    width, ticks, names = 0.8, [], []
    top = max(int(table.to_numpy().max()), 1) * 1.3
    groups = ["favours intervention", "no difference", "worse with intervention", "unclear"]
    for i, direction in enumerate(directions):
        xs = i * 4 + np.arange(3)
        heights = table.loc[direction].to_numpy()
        ax.bar(xs, heights, color=DIRECTION_COLOURS[direction], hatch=DIRECTION_HATCHES[direction], edgecolor="black",
               linewidth=0.4, width=width)
        for xi, h in zip(xs, heights):
            ax.text(xi, h, f"{int(h):,}", ha="center", va="bottom", fontsize=MIN_FONT_PT)
        ax.text(i * 4 + 1, top * 0.97, groups[i], ha="center", va="top", fontsize=MIN_FONT_PT, fontweight="bold")
        ticks += list(xs)
        names += ["rand.", "non-\nrand.", "unctrl."]
    ax.set_xticks(ticks, names)
    ax.set_xlabel("Randomised, non-randomised and uncontrolled trials under each direction")
    ax.set_ylim(0, top)
    ax.set_ylabel("Trials")
    ax.set_title(f"Harvest plot of {len(trials):,} trials: bars count trials by design")
    _readable(ax)
    counts = table.sum(axis=1)
    ax.description = (f"Harvest plot of {len(trials)} trials, too many for one bar each: under each direction, the number "
                      "of randomised, non-randomised and uncontrolled trials; "
                      + ", ".join(f"{int(counts[d])} {DIRECTION_LABELS[d]}" for d in directions) + ".")
    return ax


def plot_harvest_by_domain(directions: pd.DataFrame, min_trials: int = 3, columns: int = 2, labels: dict | None = None):
    """Harvest plots, one panel per outcome domain with at least ``min_trials`` trials.

    At most :data:`HARVEST_MAX_PANELS` panels: the domains with most trials, the others counted in the title.

    Parameters
    ----------
    directions : pandas.DataFrame
        :func:`evidence_review.engine.domain_directions` output.
    min_trials : int
        Domains with fewer trials are left out.
    columns : int
        Panels per row.
    labels : dict, optional
        Outcome-domain code -> label for the panel titles.

    Returns
    -------
    matplotlib.figure.Figure
    """
    labels = labels or {}
    name = lambda d: labels.get(d, d.replace("_", " "))  # noqa: E731
    counts = directions["outcome_domain"].value_counts()
    eligible = counts[counts >= min_trials]
    # The domains with most trials when there are too many panels (ties by name), shown by name.
    most = eligible.rename_axis("domain").reset_index(name="n").sort_values(["n", "domain"], ascending=[False, True])
    domains = sorted(most["domain"].iloc[:HARVEST_MAX_PANELS])
    left_out = len(eligible) - len(domains)
    rows = max(1, -(-len(domains) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 3.8 * rows), layout="constrained", squeeze=False)
    for ax, domain in zip(axes.flat, domains):
        plot_harvest(directions.loc[directions["outcome_domain"] == domain], ax=ax)
        ax.set_title(_plain_text(f"{name(domain)} ({counts[domain]} trials)"))
        _readable(ax)
    for ax in list(axes.flat)[len(domains):]:
        ax.set_visible(False)
    more = f" ({left_out} more domains with fewer trials are not drawn)" if left_out else ""
    fig.suptitle("Effect direction by outcome domain: each bar one trial, height = design" + more)
    fig.description = (f"Harvest plots for {len(domains)} outcome domains with at least {min_trials} trials "
                       f"({', '.join(name(d) for d in domains)}), each trial a bar under the direction it found"
                       + (f"; the {left_out} other domains with at least {min_trials} trials have fewer and are not drawn."
                          if left_out else "."))
    return fig


def plot_albatross(links: pd.DataFrame, ax=None):
    """Albatross plot: p-value (signed by direction) against sample size; marker shape and colour by direction.

    Above :data:`ALBATROSS_MAX_POINTS` results the markers hide each other: the plot then shows how
    many results fall in each hexagonal cell (:func:`_albatross_density`).

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
    ax = _axes(ax, (7, 4.2))
    if len(data) > ALBATROSS_MAX_POINTS:
        return _albatross_density(x.to_numpy(), data["participants"].astype(float).to_numpy(), data["direction"], ax)
    for direction in ("benefit", "no_difference", "harm"):
        mask = (data["direction"] == direction).to_numpy()
        ax.scatter(x[mask], data["participants"].astype(float).to_numpy()[mask], marker=DIRECTION_MARKERS[direction],
                   color=DIRECTION_COLOURS[direction], edgecolor="black", linewidth=0.4, s=45,
                   label=f"{DIRECTION_LABELS[direction]} ({int(mask.sum())})")
    for p in (0.05, 0.001):
        for s in (-1, 1):
            ax.axvline(s * -np.log10(p), color="#777777", ls=":", lw=0.9)
    ax.axvline(0, color="black", lw=0.8)
    if len(data):
        ax.set_yscale("log")
    else:  # a log axis needs positive data; say why the chart is empty instead
        ax.text(0.5, 0.5, "No included result reports a p-value", transform=ax.transAxes, ha="center", va="center")
    ax.set_xlabel("−log10(p), signed: right = favours the intervention, left = harm")
    ax.set_ylabel("Participants (log scale)")
    ax.set_title("Albatross plot of reported p-values (dotted: p = 0.05 and 0.001)")
    if len(data):
        ax.legend(title="Direction", frameon=False)
    _readable(ax)
    ax.description = (f"Albatross plot of {len(data)} results with a reported p-value: signed strength of evidence "
                      "against number of participants; marker shape and colour give the direction.")
    return ax


def _albatross_density(x: np.ndarray, participants: np.ndarray, direction: pd.Series, ax):
    """The albatross plot of many results: the number of results per hexagonal cell (log colour scale)."""
    counts = direction.value_counts()
    cells = ax.hexbin(x, participants, gridsize=(40, 20), yscale="log", bins="log", mincnt=1, cmap="cividis",
                      linewidths=0.2)
    ax.figure.colorbar(cells, ax=ax, label="Results per cell (log scale)")
    for p in (0.05, 0.001):
        for s in (-1, 1):
            ax.axvline(s * -np.log10(p), color="#777777", ls=":", lw=0.9)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("−log10(p), signed: right = favours the intervention, left = harm")
    ax.set_ylabel("Participants (log scale)")
    ax.set_title(f"Albatross plot of {len(x):,} reported p-values, as a density (dotted: p = 0.05 and 0.001)")
    _readable(ax)
    ax.description = (f"Albatross plot of {len(x)} results with a reported p-value, too many for one marker each: the "
                      "shade of each hexagonal cell gives how many results have that signed strength of evidence and "
                      "number of participants; " + ", ".join(f"{int(counts.get(d, 0))} {DIRECTION_LABELS[d]}"
                                                              for d in ("benefit", "no_difference", "harm")) + ".")
    return ax


def _forest_rows(result, reviews) -> list[tuple]:
    rows = []
    if result is not None and hasattr(result, "summary_frame"):
        sf = result.summary_frame()
        studies, pooled = sf.iloc[:-1], sf.iloc[-1:]
        if len(studies) > FOREST_MAX_STUDIES:
            # The heaviest studies, heaviest first; the others are in the pooled estimate, not drawn.
            order = np.argsort(-studies["w_re"].to_numpy(), kind="stable")[:FOREST_MAX_STUDIES]
            rest = len(studies) - FOREST_MAX_STUDIES
            studies = studies.iloc[order]
            more = (f"and {rest:,} more studies, not drawn ({1 - studies['w_re'].sum():.0%} of the weight), in the "
                    "pooled estimate below", np.nan, np.nan, np.nan, "more")
        else:
            more = None
        for label, r in pd.concat([studies, pooled]).iterrows():
            kind = "pooled" if label == "random effect" else "study"
            if kind == "pooled" and more:
                rows.append(more)
            rows.append((f"Pooled (random effects, {result.method.upper()}), I² = {result.i2:.0f}%" if kind == "pooled"
                         else label, r["eff"], r["ci_low"], r["ci_upp"], kind))
    elif result is not None:
        rows += _first_rows([(r.label, r.estimate, r.ci_low, r.ci_high, "study") for r in result.itertuples()], "studies")
    if reviews is not None:
        rows += _first_rows([(r.label, r.estimate, r.ci_low, r.ci_high, "review") for r in reviews.itertuples()],
                            "published estimates")
    return rows


def _first_rows(rows: list[tuple], what: str) -> list[tuple]:
    """At most :data:`FOREST_MAX_STUDIES` rows of a forest plot, then one line counting the others."""
    if len(rows) <= FOREST_MAX_STUDIES:
        return rows
    rest = len(rows) - FOREST_MAX_STUDIES
    return rows[:FOREST_MAX_STUDIES] + [(f"and {rest:,} more {what}, not drawn", np.nan, np.nan, np.nan, "more")]


def plot_forest(result=None, ax=None, reviews: pd.DataFrame | None = None, title: str = "",
                xlabel: str = "Hedges' g", measure: str = "SMD",
                favours: tuple[str, str] = ("Favours control", "Favours intervention")):
    """Forest plot of one measure: studies, the pooled estimate and published estimates, with an estimate [CI] column.

    Ratio measures (:data:`RATIO_MEASURES`) are drawn on a log axis with the null line at 1, the
    others on a linear axis with the null at 0. "Favours" labels sit under each side of the null.
    Above :data:`FOREST_MAX_STUDIES` studies, only that many are drawn (those with most random-effects
    weight, heaviest first) and a line above the pooled estimate counts the others, which it includes.

    Parameters
    ----------
    result : PoolResult or pandas.DataFrame, optional
        A pooled analysis, or a frame with ``label``, ``estimate``, ``ci_low``, ``ci_high``.
    ax : matplotlib.axes.Axes, optional
    reviews : pandas.DataFrame, optional
        Published pooled estimates on the same measure with ``label``, ``estimate``, ``ci_low``, ``ci_high``; drawn as diamonds.
    title, xlabel : str
    measure : str
        The one measure on this axis (SMD, MD, RR, OR ...).
    favours : tuple of str
        Labels for the left and right of the null line; empty strings leave them out.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .present import format_number

    rows = _forest_rows(result, reviews)
    ratio = measure.upper() in RATIO_MEASURES
    ax = _axes(ax, (9, 0.38 * max(len(rows), 1) + 1.8))
    styles = {"study": ("black", "s"), "pooled": (OKABE_ITO["vermillion"], "D"), "review": (OKABE_ITO["blue"], "D")}
    for y, (label, est, lo, hi, kind) in enumerate(rows):
        if kind == "more":
            continue  # a line of text: its label says what is not drawn
        colour, marker = styles[kind]
        if not (pd.isna(lo) or pd.isna(hi)):
            ax.plot([lo, hi], [y, y], color=colour, lw=1.3)
        ax.plot(est, y, marker=marker, color=colour, markersize=7 if kind != "study" else 6, ls="")
        ci = "" if pd.isna(lo) or pd.isna(hi) else f" [{format_number(lo)}, {format_number(hi)}]"
        ax.annotate(f"{format_number(est)}{ci}", xy=(1.02, y), xycoords=("axes fraction", "data"), va="center",
                    ha="left", fontsize=MIN_FONT_PT + 0.5)
    ax.annotate(f"{measure} [95% CI]", xy=(1.02, -0.9), xycoords=("axes fraction", "data"), va="center", ha="left",
                fontsize=MIN_FONT_PT + 0.5, fontweight="bold", annotation_clip=False)
    ax.set_yticks(range(len(rows)), [_plain_text(r[0]) for r in rows])
    ax.set_ylim(len(rows) - 0.5, -1.3)
    null = 1.0 if ratio else 0.0
    if ratio:
        from matplotlib.ticker import FormatStrFormatter, LogLocator

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(0.1, 0.2, 0.5, 1.0)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(FormatStrFormatter(""))
    ax.axvline(null, color="#555555", lw=0.9, ls="--")
    ax.set_xlabel(_plain_text(f"{xlabel} ({measure}{', log scale' if ratio else ''})"))
    if any(favours):
        ax.annotate(f"← {favours[0]}", xy=(null, 0), xycoords=("data", "axes fraction"), xytext=(-6, -34),
                    textcoords="offset points", ha="right", va="top", fontsize=MIN_FONT_PT + 0.5)
        ax.annotate(f"{favours[1]} →", xy=(null, 0), xycoords=("data", "axes fraction"), xytext=(6, -34),
                    textcoords="offset points", ha="left", va="top", fontsize=MIN_FONT_PT + 0.5)
    ax.set_title(_plain_text(title) if title else "Forest plot", loc="left")
    _readable(ax)
    pooled = [r for r in rows if r[4] == "pooled"]
    summary = (f"; pooled {measure} {format_number(pooled[0][1])} (95% CI {format_number(pooled[0][2])} to "
               f"{format_number(pooled[0][3])})" if pooled else "")
    drawn = len([r for r in rows if r[4] == "study"])
    studies = result.k if hasattr(result, "k") else drawn
    ax.description = (f"Forest plot of {studies} studies"
                      f"{f' (the {drawn} with most weight drawn, the others only in the pooled estimate)' if drawn < studies else ''}"
                      f" on one {measure} axis"
                      f"{' (log scale, no effect at 1)' if ratio else ' (no effect at 0)'}{summary}"
                      f"{f', with {len(reviews)} published estimates' if reviews is not None and len(reviews) else ''}.")
    return ax


def plot_published_forest(reviews: pd.DataFrame):
    """Published pooled estimates, one panel per effect measure (ratios on a log axis with the null at 1).

    Parameters
    ----------
    reviews : pandas.DataFrame
        Published pooled results with ``review_id``, ``outcome_domain``, ``effect_measure``, ``estimate``,
        ``ci_low`` and ``ci_high``.

    Returns
    -------
    matplotlib.figure.Figure
    """

    data = reviews.dropna(subset=["estimate"]).assign(measure=lambda d: d["effect_measure"].fillna("Estimate"))
    measures = sorted(data["measure"].unique())
    heights = [max((data["measure"] == m).sum(), 1) + 2.5 for m in measures]
    fig, axes = plt.subplots(len(measures), 1, figsize=(9, 0.4 * sum(heights) + 1), layout="constrained", squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, measure in zip(axes[:, 0], measures):
        sub = data.loc[data["measure"] == measure].sort_values(["outcome_domain", "review_id"])
        frame = pd.DataFrame({"label": [f"{study_label(r)}: {d.replace('_', ' ')}"
                                        + (f" ({short_label(scope, 30)})" if isinstance(scope, str) and scope else "")
                                        for r, d, scope in zip(sub["review_id"], sub["outcome_domain"], sub["instrument_or_scope"])],
                              "estimate": sub["estimate"].to_numpy(), "ci_low": sub["ci_low"].to_numpy(),
                              "ci_high": sub["ci_high"].to_numpy()})
        plot_forest(reviews=frame, ax=ax, measure=measure, xlabel="Published estimate", favours=("", ""),
                    title=f"{measure}: {len(frame)} published estimates (direction depends on each outcome's scale)")
    fig.description = (f"Published pooled estimates from systematic reviews, one panel per effect measure ("
                       f"{', '.join(measures)}); ratio measures on a log axis with no effect at 1.")
    return fig
