"""The web pages: one template set, the same header everywhere, escaped text, readable badges."""

import re

import pandas as pd
import pytest

from evidence_review import site
from evidence_review.pipeline import prepare_review
from evidence_review.site import BADGES, NAV, contrast_ratio


@pytest.fixture(scope="module")
def review():
    return prepare_review()


@pytest.fixture(scope="module")
def built(review, tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    claim_ids = review.evidence.claims["claim_id"].tolist()[:3]
    site.write_site(review, folder, ["01_claims", "02_studies"], claim_ids, map_png="AAAA", map_alt="Map <of> claims")
    return folder


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WCAG's own example: #777 on white is 4.48:1, just failing AA.
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#fff", "#777") == contrast_ratio("#777777", "#ffffff")


@pytest.mark.parametrize("verdict", list(BADGES))
def test_every_badge_meets_wcag_aa(verdict):
    badge = BADGES[verdict]
    assert contrast_ratio(badge["color"], badge["background"]) >= 4.5


def test_badges_differ_by_symbol_not_only_colour():
    symbols = [b["symbol"] for b in BADGES.values()]
    assert len(set(symbols)) == len(symbols)


def test_stylesheet_carries_the_badge_colours():
    css = site.stylesheet()
    for verdict, badge in BADGES.items():
        assert re.search(rf"\.badge-{verdict} {{ background: {badge['background']}; color: {badge['color']}; }}", css)


def test_every_page_has_viewport_header_and_stylesheet(built):
    for name in ("summary.html", "index.html", "studies.html", "methods.html"):
        page = (built / name).read_text()
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page, name
        assert '<link rel="stylesheet" href="style.css">' in page, name
        for label, href in NAV:
            assert f'<a href="{href}">{label}</a>' in page, name


def test_summary_shows_findings_and_escapes_alt_text(built, review):
    page = (built / "summary.html").read_text()
    assert 'alt="Map &lt;of&gt; claims"' in page and "data:image/png;base64,AAAA" in page
    assert "Summary of findings" in page
    ids = review.evidence.claims["claim_id"].tolist()
    for claim_id in ids[:3]:
        assert f'href="claims/{claim_id}.html"' in page
    for claim_id in ids[3:]:  # no report built: no dead link
        assert f'href="claims/{claim_id}.html"' not in page
    assert "badge-supported" in page and "methods.html#7-verdict-fixed-scale-verdicts-py" in page


def test_summary_escapes_claim_text(review, tmp_path):
    claims = review.evidence.claims.copy()
    claims.loc[0, "claim"] = "<script>alert(1)</script>"
    bad = type(review)(review.params, type(review.evidence)(**{**review.evidence.__dict__, "claims": claims}),
                       scorecard=review.scorecard)
    page = site.summary_page(bad, map_png=None)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_index_lists_claim_text_with_coloured_verdicts(built, review):
    page = (built / "index.html").read_text()
    first = review.evidence.claims.sort_values("order").iloc[0]
    assert f'<a href="claims/{first["claim_id"]}.html">' in page
    verdicts = review.synthesis.verdicts
    assert page.count('class="badge badge-') == len(verdicts)
    assert 'href="summary_of_findings.csv"' in page


def test_studies_page_has_an_anchor_per_study(built, review):
    page = (built / "studies.html").read_text()
    for study_id in review.evidence.studies["study_id"]:
        assert f'id="{site.study_anchor(study_id)}"' in page


def test_methods_page_renders_markdown_with_heading_ids_and_escapes_html():
    html = site.methods_html("## 7. Verdict (fixed scale)\n\n| a | b |\n|---|---|\n| <b>x</b> | `y` |\n")
    assert '<h2 id="7-verdict-fixed-scale">' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<table>" in html


def test_methods_page_has_the_anchors_the_badges_link_to(built):
    page = (built / "methods.html").read_text()
    assert 'id="7-verdict-fixed-scale-verdicts-py"' in page and 'id="6-certainty-grade-handbook-14-grading-py"' in page


def test_summary_of_findings_csv_has_one_row_per_claim(built, review):
    sof = pd.read_csv(built / "summary_of_findings.csv", keep_default_na=False)
    assert sof["claim_id"].tolist() == review.evidence.claims.sort_values("order")["claim_id"].tolist()
    assert set(sof["certainty_symbols"]) <= {"⊕⊕⊕⊕ High", "⊕⊕⊕◯ Moderate", "⊕⊕◯◯ Low", "⊕◯◯◯ Very low", "–"}


def test_notebook_pages_get_the_site_header():
    page = '<html><head><meta name="viewport" content="x"></head><body class="jp-Notebook"><p>hi</p></body></html>'
    up = site.CLAIM_ROOT
    out = site.decorate_notebook_html(page, "Claim: <b>", root=up)
    assert out.count('name="viewport"') == 1
    assert f'<link rel="stylesheet" href="{up}style.css">' in out
    assert '<body class="jp-Notebook"><header class="site-header">' in out
    assert f'<a href="{up}methods.html">Methods</a>' in out


def test_claim_summary_links_back_and_to_cited_studies(review):
    links = review.synthesis.links
    claim_id = links["claim_id"].iloc[0]
    html = site.claim_summary_html(review, claim_id)
    up = site.CLAIM_ROOT
    assert f'<a href="{up}index.html">' in html
    for study_id in links.loc[links["claim_id"] == claim_id, "study_id"].unique():
        assert f'href="{up}studies.html#{site.study_anchor(study_id)}"' in html
    assert "⊕" in html


def test_png_outputs_get_their_alt_text():
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "QUJD\n", "text/plain": "d"},
                                           metadata={"image/png": {"alt": 'Map "of" <claims>'}})]
    nb.cells.append(cell)
    alts = site.notebook_alt_texts(nb)
    page = '<img alt="No description has been provided for this image" src="data:image/png;base64,QUJD\n">' \
           '<img src="data:image/png;base64,OTHER">'
    page = page.replace("QUJD\n", "QUJD")
    out = site.apply_alt_texts(page, alts)
    assert '<img alt="Map &quot;of&quot; &lt;claims&gt;" src="data:image/png;base64,QUJD">' in out
    assert '<img src="data:image/png;base64,OTHER">' in out


def test_root_for_pages_at_each_depth():
    assert site.root_for("summary.html") == ""
    assert site.root_for("claims/x.html") == site.CLAIM_ROOT
    assert site.CLAIM_ROOT.count("/") == 1 and site.CLAIM_ROOT.strip("/") == ".."

