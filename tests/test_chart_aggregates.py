"""Charts that draw one mark per study, trial or result switch to an aggregate above a documented size.

Each test builds an input just at the threshold (one mark each) and one just above it (the
aggregate), and asserts on the returned Axes.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from evidence_review import charts  # noqa: E402
from evidence_review.effects import pool_random_effects  # noqa: E402
from evidence_review.present import TABLE_MAX_ROWS, TruncatedTable, long_table  # noqa: E402
from evidence_review.vocab import ROB_DOMAINS  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def rob_studies(n: int) -> pd.DataFrame:
    """``n`` studies: every third one low risk throughout, the others high risk throughout except a third pattern."""
    pattern = np.array(["low", "high", "some_concerns"])[np.arange(n) % 3]
    return pd.DataFrame({"study_id": [f"study{i}" for i in range(n)], **{d: pattern for d in ROB_DOMAINS},
                         "rob_overall": pattern})


def ytick_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def test_traffic_light_draws_one_row_per_study_up_to_the_threshold():
    n = charts.ROB_TRAFFIC_LIGHT_MAX_STUDIES
    ax = charts.plot_rob_traffic_light(rob_studies(n))
    assert len(ytick_texts(ax)) == n and ytick_texts(ax)[0] == "study0"
    assert len(ax.collections) == 6 * n  # one circle per study and domain


def test_traffic_light_above_the_threshold_draws_one_row_per_pattern_with_its_count():
    n = charts.ROB_TRAFFIC_LIGHT_MAX_STUDIES + 1
    ax = charts.plot_rob_traffic_light(rob_studies(n))
    # 61 studies: 21 low, 20 high, 20 some concerns; most common first, ties by judgement name.
    assert ytick_texts(ax) == ["21 studies", "20 studies", "20 studies"]
    assert len(ax.collections) == 3 * 6
    assert "one row per pattern" in charts.description(ax) and f"{n} studies" in charts.description(ax)


def test_traffic_light_counts_the_patterns_it_leaves_out():
    rows = charts.ROB_PATTERN_ROWS + 5
    studies = pd.DataFrame({"study_id": [f"s{i}" for i in range(rows * 3)]})
    # rows distinct patterns, three studies each: D1..D5 spell the pattern's number in base 3.
    digits = np.array([[(i // 3 ** k) % 3 for k in range(5)] for i in range(rows)])
    judgement = np.array(["low", "some_concerns", "high"])
    for k, d in enumerate(ROB_DOMAINS):
        studies[d] = np.repeat(judgement[digits[:, k]], 3)
    studies["rob_overall"] = "high"
    ax = charts.plot_rob_traffic_light(studies)
    labels = ytick_texts(ax)
    assert len(labels) == charts.ROB_PATTERN_ROWS + 1
    assert labels[-1] == "and 5 more patterns (15 studies)"
    assert len(ax.collections) == 6 * charts.ROB_PATTERN_ROWS


def trials(n: int) -> pd.DataFrame:
    design = np.array(["rct", "non_randomised_controlled", "pre_post"])[np.arange(n) % 3]
    direction = np.array(["benefit", "benefit", "no_difference", "harm"])[np.arange(n) % 4]
    return pd.DataFrame({"study_id": [f"smith{2000 + i % 20}" for i in range(n)], "design": design,
                         "direction": direction, "participants": np.arange(n) + 10, "outcome_domain": "pain"})


def test_harvest_draws_one_bar_per_trial_up_to_the_threshold():
    ax = charts.plot_harvest(trials(charts.HARVEST_MAX_TRIALS))
    assert len(ax.patches) == charts.HARVEST_MAX_TRIALS
    assert ax.get_ylabel() == ""


def test_harvest_above_the_threshold_counts_trials_by_direction_and_design():
    n = charts.HARVEST_MAX_TRIALS + 1
    data = trials(n)
    ax = charts.plot_harvest(data)
    assert len(ax.patches) == 4 * 3  # four directions x three kinds of design
    heights = [int(p.get_height()) for p in ax.patches]
    expected = pd.crosstab(data["direction"], data["design"]).reindex(
        index=["benefit", "no_difference", "harm", "unclear"], columns=["rct", "non_randomised_controlled", "pre_post"],
        fill_value=0)
    assert heights == expected.to_numpy().ravel().tolist()
    assert sum(heights) == n and ax.get_ylabel() == "Trials"
    assert f"Harvest plot of {n} trials, too many for one bar each" in charts.description(ax)
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["rand.", "non-\nrand.", "unctrl."]
    assert [t.get_text() for t in ax.texts if not t.get_text()[0].isdigit()] == [
        "favours intervention", "no difference", "worse with intervention", "unclear"]
    assert [t.get_text() for t in ax.texts if t.get_text()[0].isdigit()][0] == str(expected.loc["benefit", "rct"])


def test_harvest_by_domain_draws_at_most_the_documented_number_of_panels():
    domains = charts.HARVEST_MAX_PANELS + 2
    rows = []
    for k in range(domains):
        rows += [{"outcome_domain": f"d{k:02d}", "study_id": f"s{k}x{i}", "design": "rct", "direction": "benefit",
                  "participants": 10} for i in range(3 + k)]  # domain k has 3 + k trials
    fig = charts.plot_harvest_by_domain(pd.DataFrame(rows))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == charts.HARVEST_MAX_PANELS
    titles = sorted(ax.get_title() for ax in visible)
    assert titles[0].startswith("d02 (5 trials)")  # the two smallest domains, d00 and d01, are left out
    assert "2 more domains with fewer trials are not drawn" in fig._suptitle.get_text()
    fig = charts.plot_harvest_by_domain(pd.DataFrame(rows).loc[lambda d: d["outcome_domain"] >= "d02"])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == charts.HARVEST_MAX_PANELS
    assert "not drawn" not in fig._suptitle.get_text()


def links(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"outcome_id": [f"o{i}" for i in range(n)], "p_value": rng.uniform(0.001, 0.9, n),
                         "participants": rng.integers(10, 500, n),
                         "direction": np.array(["benefit", "no_difference", "harm"])[np.arange(n) % 3]})


def test_albatross_draws_one_marker_per_result_up_to_the_threshold():
    ax = charts.plot_albatross(links(charts.ALBATROSS_MAX_POINTS))
    assert sum(len(c.get_offsets()) for c in ax.collections) == charts.ALBATROSS_MAX_POINTS
    assert ax.get_legend() is not None


def test_albatross_above_the_threshold_shows_a_density_of_all_results():
    from matplotlib.collections import PolyCollection

    n = charts.ALBATROSS_MAX_POINTS + 1
    ax = charts.plot_albatross(links(n))
    cells = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(cells) == 1 and cells[0].get_array().sum() == n  # every result counted once
    assert ax.get_yscale() == "log" and "as a density" in ax.get_title()
    assert f"{n} results with a reported p-value, too many for one marker each" in charts.description(ax)


def pooled(k: int):
    rng = np.random.default_rng(1)
    variances = np.linspace(0.01, 0.5, k)
    return pool_random_effects(rng.normal(0.3, 0.2, k), variances, [f"Study {i}" for i in range(k)])


def test_forest_draws_every_study_up_to_the_threshold():
    k = charts.FOREST_MAX_STUDIES
    ax = charts.plot_forest(pooled(k))
    labels = ytick_texts(ax)
    assert len(labels) == k + 1 and labels[:2] == ["Study 0", "Study 1"] and labels[-1].startswith("Pooled")


def test_forest_above_the_threshold_draws_the_heaviest_studies_and_counts_the_rest():
    k = charts.FOREST_MAX_STUDIES + 7
    result = pooled(k)
    ax = charts.plot_forest(result)
    labels = ytick_texts(ax)
    heaviest = [f"Study {i}" for i in np.argsort(-result.weights, kind="stable")[: charts.FOREST_MAX_STUDIES]]
    assert labels[: charts.FOREST_MAX_STUDIES] == heaviest
    drawn_weight = np.sort(result.weights)[::-1][: charts.FOREST_MAX_STUDIES].sum()
    assert labels[-2] == f"and 7 more studies, not drawn ({1 - drawn_weight:.0%} of the weight), in the pooled estimate below"
    assert labels[-1].startswith("Pooled")
    # A line of text, not a study: no marker is drawn on its row.
    rows_with_marks = {round(line.get_ydata()[0]) for line in ax.lines if len(line.get_ydata())
                       and line.get_linestyle() in ("-", "None")}
    assert len(labels) - 2 not in rows_with_marks
    assert f"Forest plot of {k} studies (the {charts.FOREST_MAX_STUDIES} with most weight drawn" in charts.description(ax)


def test_count_bars_above_the_threshold_share_one_other_bar():
    n = charts.COUNTS_MAX_BARS + 3
    frame = pd.DataFrame({"country": [f"Land {i:02d}" for i in range(n) for _ in range(i + 1)]})
    ax = charts.plot_counts(frame, "country", "By country")
    labels = ytick_texts(ax)
    assert len(labels) == charts.COUNTS_MAX_BARS
    assert "Other (4 values)" in labels and "Land 00" not in labels and "Land 22" in labels
    widths = {lab: p.get_width() for lab, p in zip(labels, ax.patches)}
    assert widths["Other (4 values)"] == 1 + 2 + 3 + 4
    assert len(ytick_texts(charts.plot_counts(frame.loc[frame["country"] >= "Land 03"], "country", "x"))) == charts.COUNTS_MAX_BARS


def test_long_tables_show_their_first_rows_a_count_and_where_all_rows_are():
    frame = pd.DataFrame({"study_id": [f"s{i}" for i in range(TABLE_MAX_ROWS + 1)], "n": range(TABLE_MAX_ROWS + 1)})
    whole = long_table(frame.iloc[:TABLE_MAX_ROWS], where="studies.html", href="studies.html")
    assert not isinstance(whole, TruncatedTable) and len(whole.frame) == TABLE_MAX_ROWS
    cut = long_table(frame, where="studies.html <all>", href="studies.html")
    assert isinstance(cut, TruncatedTable) and len(cut.frame) == TABLE_MAX_ROWS
    html = cut.to_html()
    assert html.endswith(f'<p class="table-note">Showing the first {TABLE_MAX_ROWS} of {TABLE_MAX_ROWS + 1} rows. '
                         'All rows: <a href="studies.html">studies.html &lt;all&gt;</a>.</p>')
    assert repr(cut).splitlines()[-1] == f"Showing the first {TABLE_MAX_ROWS} of {TABLE_MAX_ROWS + 1} rows. All rows: studies.html <all>."
