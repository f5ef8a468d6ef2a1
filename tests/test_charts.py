"""Chart regression tests: assertions on the returned Axes (labels, scales, colours, text sizes, alt text)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from evidence_review import charts  # noqa: E402
from evidence_review.effects import pool_random_effects  # noqa: E402
from evidence_review.pipeline import prepare_review  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def review():
    return prepare_review()


def all_texts(ax):
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels(), *ax.texts]
    for legend in [c for c in ax.get_children() if isinstance(c, matplotlib.legend.Legend)]:
        texts += [*legend.get_texts(), legend.get_title()]
    return [t for t in texts if t.get_text()]


def assert_readable(ax):
    small = [(t.get_text(), t.get_fontsize()) for t in all_texts(ax) if t.get_fontsize() < charts.MIN_FONT_PT]
    assert not small, small


def hex_of(colour):
    return mcolors.to_hex(colour).lower()


TRIALS = pd.DataFrame({
    "claim_id": ["a", "a", "a", "b", "b"],
    "trial_group": ["t1", "t2", "t3", "t4", "t5"],
    "study_id": ["smith2020", "jones2019", "lee2018", "smith2020", "ng2021"],
    "directness": ["direct", "direct", "direct", "direct", "indirect"],
    "design": ["rct", "rct", "pre_post", "rct", "rct"],
    "controlled": [True, True, False, True, True],
    "direction": ["benefit", "benefit", "benefit", "no_difference", "harm"],
    "participants": [100, 20, 10, 900, 30],
})
CLAIMS = pd.DataFrame({"claim_id": ["a", "b", "c"], "order": [1, 2, 3], "section": ["S", "S", "T"],
                       "claim": ["Massage eases pain in people with MS, says the article at length.", "Massage helps sleep.",
                                 "Nothing studied this."], "claim_type": ["benefit"] * 3})
VERDICTS = pd.DataFrame({"claim_id": ["a", "b", "c"], "verdict": ["supported", "not_supported", "no_evidence"]})


def test_min_font_is_at_least_10_px_at_the_notebook_dpi():
    from evidence_review.report import setup_display

    setup_display()
    assert charts.MIN_FONT_PT * matplotlib.rcParams["figure.dpi"] / 72 >= 10


def test_evidence_map_colours_each_cell_by_its_own_trials_with_a_size_key():
    ax = charts.plot_evidence_map(VERDICTS, TRIALS, CLAIMS, population="MS")
    assert_readable(ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "1. Massage eases pain in people with MS…" and labels[2] == "3. Nothing studied this"
    colours = {hex_of(c.get_facecolors()[0]) for c in ax.collections if len(c.get_offsets())}
    # claim a: randomised cell benefit, uncontrolled cell benefit; claim b: randomised no difference, indirect harm
    assert colours == {charts.DIRECTION_COLOURS[d].lower() for d in ("benefit", "no_difference", "harm")}
    legend = ax.get_legend()
    assert "bubble area = participants" in legend.get_title().get_text()
    assert [t.get_text() for t in legend.get_texts()][-2:] == ["10 participants", "100 participants"]
    assert "favours intervention" in [t.get_text() for t in legend.get_texts()]
    assert "3 claims" in charts.description(ax) and "1 have none" in charts.description(ax)


def test_cell_direction_needs_three_quarters_agreement():
    assert charts.cell_direction(pd.Series(["benefit"] * 3 + ["harm"])) == "benefit"
    assert charts.cell_direction(pd.Series(["benefit", "harm"])) == "mixed"
    assert charts.cell_direction(pd.Series(["unclear"])) == "unclear"


def test_direction_panels_share_one_scale_and_use_hatches():
    fig = charts.plot_support_by_claim(TRIALS, CLAIMS, population="MS")
    axes = fig.axes
    assert len({ax.get_xlim() for ax in axes}) == 1
    hatches = {p.get_hatch() for ax in axes for p in ax.patches}
    assert {"..", "xx"} <= hatches
    for ax in axes:
        assert_readable(ax)
    assert "shared scale" in charts.description(fig)


def test_traffic_light_labels_author_year_and_prints_symbols():
    studies = pd.DataFrame({"study_id": ["zidannd", "smith2020"], **{f"rob_d{i}": ["low", "high"] for i in range(1, 6)},
                            "rob_overall": ["some_concerns", "high"]})
    ax = charts.plot_rob_traffic_light(studies)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Zidan n.d.", "Smith 2020"]
    symbols = {t.get_text() for t in ax.texts}
    assert symbols == {"+", "×", "−"}
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["+  Low", "−  Some concerns", "×  High", "?  No information"]
    assert_readable(ax)


def test_rob_summary_hatches_each_judgement():
    studies = pd.DataFrame({**{f"rob_d{i}": ["low", "high", "some_concerns"] for i in range(1, 6)},
                            "rob_overall": ["low", "high", "high"]})
    ax = charts.plot_rob_summary(studies)
    assert {p.get_hatch() for p in ax.patches} >= {"..", "xx"}
    assert ax.get_xlim() == (0, 100)
    assert "67% are at high risk overall" in charts.description(ax)


def test_forest_of_a_pooled_analysis_has_ci_column_and_favours_labels():
    res = pool_random_effects(np.array([0.2, 0.5, 0.9]), np.array([0.04, 0.05, 0.06]), labels=("Smith 2020", "Lee 2018", "Ng 2021"))
    ax = charts.plot_forest(res, title="pain")
    assert ax.get_xscale() == "linear"
    null = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert null and null[0].get_xdata()[0] == 0
    texts = [t.get_text() for t in ax.texts]
    assert "SMD [95% CI]" in texts
    assert any(t.startswith("0.20 [") for t in texts)
    assert "← Favours control" in texts and "Favours intervention →" in texts
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["Smith 2020", "Lee 2018", "Ng 2021"]
    assert_readable(ax)
    assert "pooled SMD" in charts.description(ax)


def test_ratio_measures_use_a_log_axis_with_null_at_one():
    frame = pd.DataFrame({"label": ["R 2020"], "estimate": [0.8], "ci_low": [0.6], "ci_high": [1.1]})
    ax = charts.plot_forest(reviews=frame, measure="RR", favours=("", ""))
    assert ax.get_xscale() == "log"
    null = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert null[0].get_xdata()[0] == 1.0
    assert "log scale" in ax.get_xlabel()


def test_published_forest_draws_one_panel_per_measure(review):
    fig = charts.plot_published_forest(review.evidence.reviews)
    measures = sorted(review.evidence.reviews.dropna(subset=["estimate"])["effect_measure"].fillna("Estimate").unique())
    assert len(fig.axes) == len(measures)
    for ax, measure in zip(fig.axes, measures):
        assert ax.get_xscale() == ("log" if measure in charts.RATIO_MEASURES else "linear")
        assert ax.get_title(loc="left").startswith(measure)


def test_harvest_labels_author_year_and_hatches_directions():
    ax = charts.plot_harvest(TRIALS)
    labels = {t.get_text() for t in ax.texts}
    assert {"Smith 2020", "Jones 2019", "Lee 2018", "Ng 2021"} <= labels
    assert {p.get_hatch() for p in ax.patches} >= {"..", "xx"}
    assert_readable(ax)


def test_albatross_uses_marker_shape_and_colour(review):
    ax = charts.plot_albatross(review.synthesis.links)
    markers = {lg.get_label(): lg for lg in ax.get_legend().legend_handles}
    assert len(ax.collections) == 3
    paths = {len(c.get_paths()[0].vertices) for c in ax.collections}
    assert len(paths) >= 2  # triangles and circles differ in shape, not only colour
    assert_readable(ax)
    assert markers


def test_every_chart_describes_itself(review):
    syn = review.synthesis
    made = [charts.plot_claims_by_section(review.evidence.claims),
            charts.plot_counts(review.evidence.studies, "design", "By design"),
            charts.plot_evidence_map(syn.verdicts, syn.trials, review.evidence.claims, population="MS")]
    for chart in made:
        text = charts.description(chart)
        assert text != "Chart." and len(text) > 40


def test_short_label_cuts_at_a_word():
    assert charts.short_label("one two three four", 9) == "one two…"
    assert charts.short_label("Short.", 40) == "Short"


def test_summary_map_is_embedded_at_a_resolution_where_text_is_10_px():
    import base64
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    from evidence_review.charts import figure_png_base64

    fig = Figure(figsize=(2, 1))
    ax = fig.add_axes((0, 0, 1, 1))  # its frame spans the figure, so the tight crop keeps 2 in + 0.1 in padding each side
    ax.set_xticks([])
    ax.set_yticks([])
    png = Image.open(io.BytesIO(base64.b64decode(figure_png_base64(fig))))
    dpi = png.size[0] / 2.2
    assert charts.MIN_FONT_PT * dpi / 72 >= 10


def test_harvest_panels_are_titled_with_domain_labels():
    directions = TRIALS.assign(outcome_domain="blood_flow")
    fig = charts.plot_harvest_by_domain(directions, labels={"blood_flow": "Blood flow"})
    assert fig.axes[0].get_title() == "Blood flow (5 trials)"
    assert "(Blood flow)" in charts.description(fig)


def test_albatross_without_p_values_says_so_instead_of_failing():
    links = pd.DataFrame({"outcome_id": ["o1"], "p_value": [np.nan], "participants": [10], "direction": ["benefit"]})
    ax = charts.plot_albatross(links)
    ax.figure.canvas.draw()
    assert ax.get_yscale() == "linear"
    assert "No included result reports a p-value" in [t.get_text() for t in ax.texts]
