"""Text from the data is drawn as written on every chart: a '$' never starts matplotlib math."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from evidence_review import charts  # noqa: E402

#: Unbalanced and invalid math that crashes matplotlib's parser when it is not escaped.
HOSTILE = r"Costs $5 \frac{ a $\bad{ session"


def drawn_texts(fig):
    fig.canvas.draw()  # the point where matplotlib would parse math and raise
    return [t.get_text() for ax in fig.axes for t in [*ax.get_yticklabels(), *ax.get_xticklabels(), *ax.texts, ax.title, ax.xaxis.label]]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plain_text_escapes_every_dollar():
    assert charts._plain_text("a $x$ b") == r"a \$x\$ b"
    assert charts._plain_text(12) == "12"


def test_unescaped_text_really_breaks_a_chart():
    """Guards the test below: the hostile label is one matplotlib cannot draw as it stands."""
    fig, ax = plt.subplots()
    ax.set_title(HOSTILE)
    with pytest.raises(ValueError):
        fig.canvas.draw()


def test_counts_chart_draws_dollar_text():
    studies = pd.DataFrame({"country": [HOSTILE, HOSTILE, "Iran"]})
    ax = charts.plot_counts(studies, "country", "By country")
    texts = drawn_texts(ax.figure)
    assert r"Costs \$5 \frac{ a \$\bad{ session" in texts  # shown as "$", not parsed


def test_claims_by_section_draws_dollar_text():
    claims = pd.DataFrame({"section": [HOSTILE, "Intro"], "claim_type": ["benefit", "advice"], "order": [1, 2]})
    ax = charts.plot_claims_by_section(claims)
    assert any(HOSTILE.replace("$", r"\$") == t for t in drawn_texts(ax.figure))


def test_forest_and_harvest_draw_dollar_text():
    frame = pd.DataFrame({"label": [HOSTILE], "estimate": [0.2], "ci_low": [0.1], "ci_high": [0.3]})
    ax = charts.plot_forest(frame, title=HOSTILE, xlabel=HOSTILE)
    drawn_texts(ax.figure)
    trials = pd.DataFrame({"direction": ["benefit"], "participants": [10], "design": ["rct"], "study_id": [HOSTILE]})
    ax = charts.plot_harvest(trials)
    drawn_texts(ax.figure)
