"""The review's web pages: one Jinja2 template set, one stylesheet, the same header on every page.

Pages written here: ``summary.html`` (summary of findings, evidence map), ``index.html`` (all
claims with coloured verdicts, notebooks, downloads), ``studies.html`` (every included study with an
anchor that claim reports link to), ``methods.html`` (``docs/methods.md`` rendered) and
``style.css``. Notebook pages get the same header and stylesheet through
:func:`decorate_notebook_html`. Templates autoescape, so every text from the CSV files is escaped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .present import author_year, cell_text, format_number, label_code, label_codes
from .vocab import VERDICTS

__all__ = [
    "BADGES",
    "NAV",
    "NOTEBOOK_TITLES",
    "contrast_ratio",
    "relative_luminance",
    "environment",
    "render",
    "stylesheet",
    "methods_html",
    "summary_page",
    "index_page",
    "studies_page",
    "decorate_notebook_html",
    "notebook_alt_texts",
    "apply_alt_texts",
    "sof_table_html",
    "claim_summary_html",
    "study_anchor",
    "root_for",
    "CLAIM_ROOT",
    "write_site",
]

#: Verdict badges: background, text colour and a symbol, so the verdict never rests on colour alone.
#: Colours from the Okabe-Ito palette, darkened where needed for WCAG AA contrast (>= 4.5:1).
BADGES = {
    "supported": {"background": "#006b4f", "color": "#ffffff", "symbol": "✔"},
    "mixed": {"background": "#e69f00", "color": "#000000", "symbol": "◐"},
    "not_supported": {"background": "#a8420a", "color": "#ffffff", "symbol": "✘"},
    "insufficient": {"background": "#56b4e9", "color": "#000000", "symbol": "?"},
    "no_evidence": {"background": "#e4e4e4", "color": "#1a1a1a", "symbol": "∅"},
    "not_testable": {"background": "#ffffff", "color": "#333333", "symbol": "–"},
}
#: The header of every page: (label, path from the reports folder).
NAV = (("Summary", "summary.html"), ("All claims", "index.html"), ("Studies", "studies.html"),
       ("Methods", "methods.html"))
NOTEBOOK_TITLES = {
    "01_claims": "The article's claims",
    "02_studies": "Included studies: characteristics and risk of bias",
    "03_evidence_by_claim": "Evidence by claim",
    "04_effects": "Effect sizes and pooling",
}


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour ``#rrggbb``.

    Parameters
    ----------
    colour : str

    Returns
    -------
    float
        0 (black) to 1 (white).
    """
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21; AA for normal text needs >= 4.5).

    Parameters
    ----------
    foreground, background : str
        ``#rrggbb`` colours.

    Returns
    -------
    float
    """
    a, b = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def root_for(page: str) -> str:
    """The relative URL from a page to the reports folder: "" for ``summary.html``, one level up for ``claims/x.html``.

    Parameters
    ----------
    page : str
        The page's path inside the reports folder, with forward slashes.

    Returns
    -------
    str
        Empty, or a prefix ending in "/".
    """
    import posixpath

    folder = posixpath.dirname(page)
    return "" if not folder else posixpath.relpath(".", folder) + "/"


#: The relative URL from a claim report to the reports folder.
CLAIM_ROOT = root_for("claims/claim.html")


def study_anchor(study_id: str) -> str:
    """The fragment id of a study on ``studies.html`` (``study-negahban2013``).

    Parameters
    ----------
    study_id : str

    Returns
    -------
    str
    """
    return "study-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(study_id))


def environment() -> Environment:
    """The Jinja2 environment of the package templates (autoescaping on)."""
    env = Environment(loader=PackageLoader("evidence_review", "templates"),
                      autoescape=select_autoescape(["html", "css"], default_for_string=True, default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(nav=NAV, badges=BADGES, verdict_label=label_code, certainty_label=label_code)
    env.filters["label"] = label_code
    return env


def render(template: str, **context) -> str:
    """Render one template with the shared header context.

    Parameters
    ----------
    template : str
        File name under ``templates/``.
    **context
        ``root`` (path from the page to the reports folder, see :func:`root_for`), ``page_title`` and the
        template's own values.

    Returns
    -------
    str
    """
    context.setdefault("root", "")
    return environment().get_template(template).render(**context)


def stylesheet() -> str:
    """The one stylesheet of the site (badge colours come from :data:`BADGES`)."""
    return render("style.css")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


#: The bundled review's own words in ``docs/methods.md``, marked so that a review of another topic shows its own:
#: ``<!--topic:population-->the bundled words<!--/topic-->`` (HTML comments are hidden where the file is read as Markdown).
_TOPIC_WORD = re.compile(r"<!--topic:(\w+)-->(.*?)<!--/topic-->", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def topic_methods_text(markdown_text: str, words: dict) -> str:
    """The methods text for one review: each marked word of the bundled review replaced by this review's.

    Parameters
    ----------
    markdown_text : str
        ``docs/methods.md``, whose topic words are marked ``<!--topic:KEY-->words<!--/topic-->``.
    words : dict
        KEY -> this review's words (``population``, ``condition``, ``intervention``); a key not given
        keeps the marked words.

    Returns
    -------
    str
        Markdown without HTML comments; the replacements are plain text (Markdown characters escaped).
    """
    def replace(match):
        key, original = match.group(1), match.group(2)
        return _MARKDOWN_SPECIAL.sub(r"\\\1", str(words[key])) if key in words else original

    return _COMMENT.sub("", _TOPIC_WORD.sub(replace, markdown_text))


def methods_html(markdown_text: str) -> str:
    """``docs/methods.md`` as HTML: raw HTML in the text escaped, every heading given an id.

    Parameters
    ----------
    markdown_text : str

    Returns
    -------
    str
        An HTML fragment.
    """
    import mistune

    class _Renderer(mistune.HTMLRenderer):
        def heading(self, text, level, **attrs):
            plain = re.sub(r"<[^>]+>", "", text)
            return f'<h{level} id="{_slug(plain)}">{text}</h{level}>\n'

    markdown = mistune.create_markdown(renderer=_Renderer(escape=True), escape=True, plugins=["table"])
    return markdown(markdown_text)


def sof_table_html(sof: pd.DataFrame, root: str = "", link_claims=True) -> str:
    """The summary of findings as an HTML table grouped by article section, with numbered footnotes.

    Parameters
    ----------
    sof : pandas.DataFrame
        :func:`evidence_review.sof.summary_of_findings` output.
    root : str
        Path from the page to the reports folder.
    link_claims : bool or collection of str
        Link every claim to its report (True), none (False), or only the listed claim ids.

    Returns
    -------
    str
    """
    from .sof import footnote_list

    numbers, notes = footnote_list(sof)
    linked = set(sof["claim_id"]) if link_claims is True else set(link_claims or ())
    rows = sof.assign(notes=numbers, linked=sof["claim_id"].isin(linked)).to_dict("records")
    sections = []
    for row in rows:
        if not sections or sections[-1][0] != row["section"]:
            sections.append((row["section"], []))
        sections[-1][1].append(row)
    return render("sof_table.html", root=root, sections=sections, notes=notes)


def claim_summary_html(review, claim_id: str, root: str = CLAIM_ROOT) -> str:
    """Top of a claim report: the claim, its verdict badge, its summary-of-findings row and the studies cited.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    claim_id : str
    root : str
        Path from the claim report to the reports folder.

    Returns
    -------
    str
    """
    from .sof import intervention_name, summary_of_findings

    claims = review.evidence.claims
    claim = claims.loc[claims["claim_id"] == claim_id].iloc[0]
    syn = review.synthesis
    verdicts, links = syn.verdicts, syn.links
    verdict = verdicts.set_index("claim_id").loc[claim_id]
    sof = summary_of_findings(claims.loc[claims["claim_id"] == claim_id], syn, _domain_labels(review),
                              intervention_name(review.params.title), _excluded(review))
    mine = links.loc[links["claim_id"] == claim_id]
    studies = review.evidence.studies.set_index("study_id")
    cited = []
    year = studies["year"].astype("float64").fillna(float("inf"))
    for sid in sorted(mine["study_id"].unique(), key=lambda s: (year.get(s, float("inf")), s)):
        row = studies.loc[sid] if sid in studies.index else None
        cited.append({"anchor": study_anchor(sid), "label": author_year(sid),
                      "title": "" if row is None or pd.isna(row["title"]) else row["title"],
                      "design": "" if row is None else label_code(row["design"])})
    key = claim.get("key_phrase")
    return render("claim_summary.html", root=root, claim=claim, verdict=verdict["verdict"],
                  key_phrase=key if isinstance(key, str) else "", wording=label_code(claim["wording_strength"]),
                  verdict_reasons=verdict["verdict_reasons"], sof_table=sof_table_html(sof, root, link_claims=False),
                  cited=cited)


def _excluded(review):
    """Per claim, the studies bearing on it that the inclusion filters excluded (None if unknown)."""
    return getattr(review, "excluded_by_claim", None)


def _domain_labels(review) -> dict:
    domains = getattr(review.evidence, "domains", None)
    if isinstance(domains, pd.DataFrame) and {"code", "label"} <= set(domains.columns):
        return dict(zip(domains["code"], domains["label"]))
    from .claims import load_outcome_domains

    frame = load_outcome_domains(review.params.domains_path)
    return dict(zip(frame["code"], frame["label"]))


def summary_page(review, map_png: str | None = None, map_alt: str = "", claim_ids=None) -> str:
    """``summary.html``: the summary of findings, the evidence map and the article scorecard.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    map_png : str, optional
        Base64 PNG of the evidence map.
    map_alt : str
        What the map shows, in words.
    claim_ids : collection of str, optional
        Claims with a report to link to (default: all).

    Returns
    -------
    str
    """
    from .sof import intervention_name, summary_of_findings

    claims = review.evidence.claims
    syn = review.synthesis
    sof = summary_of_findings(claims, syn, _domain_labels(review), intervention_name(review.params.title), _excluded(review))
    counts = sof["verdict"].value_counts()
    tally = ", ".join(f"{int(counts[v])} {label_code(v).lower()}" for v in VERDICTS if v in counts)
    card = None
    if review.scorecard is not None:
        from .scorecard import scorecard_summary

        card = {"summary": scorecard_summary(review.scorecard),
                "rows": [{"criterion": r.criterion, "rating": label_code(r.rating), "reason": r.reason}
                         for r in review.scorecard.itertuples()]}
    return render("summary.html", page_title=f"{review.params.title}: summary", title=review.params.title,
                  n_claims=len(sof), tally_text=tally,
                  sof_table=sof_table_html(sof, link_claims=True if claim_ids is None else claim_ids), map_png=map_png, map_alt=map_alt,
                  scorecard=card)


def index_page(review, notebooks: list[str], claim_ids: list[str]) -> str:
    """``index.html``: every claim with its text and coloured verdict, the notebooks and the downloads.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    notebooks : list of str
        Notebook names built (without ``.html``).
    claim_ids : list of str
        Claims with a report.

    Returns
    -------
    str
    """
    verdicts = review.synthesis.verdicts.set_index("claim_id")
    with_report = set(claim_ids)
    claims = []
    for c in review.evidence.claims.sort_values("order").itertuples(index=False):
        v = verdicts.loc[c.claim_id]
        claims.append({"claim_id": c.claim_id, "claim": c.claim, "section": c.section, "verdict": v["verdict"],
                       "certainty": v["certainty"] if isinstance(v["certainty"], str) and v["certainty"]
                       and v["verdict"] not in ("no_evidence", "not_testable") else "",
                       "report": c.claim_id in with_report})
    pages = [(f"{n}.html", NOTEBOOK_TITLES.get(n, n.replace("_", " "))) for n in notebooks]
    downloads = [("summary_of_findings.csv", "Summary of findings"), ("verdicts.csv", "Verdicts (CSV)"),
                 ("verdicts.json", "Verdicts (JSON)"), ("claims.csv", "Claims"),
                 ("evidence_links.csv", "Evidence links"), ("trial_directions.csv", "Trial directions"),
                 ("studies.bib", "Included studies (BibTeX)"), ("studies.ris", "Included studies (RIS)")]
    return render("index.html", page_title=f"{review.params.title}: all claims", title=review.params.title,
                  claims=claims, pages=pages, downloads=downloads)


def studies_page(review) -> str:
    """``studies.html``: every included study, with an anchor per study for the claim reports' links.

    Parameters
    ----------
    review : evidence_review.pipeline.Review

    Returns
    -------
    str
    """
    from .report import code_labels
    from .vocab import DESIGNS

    rows = []
    s = review.evidence.studies
    labels = code_labels(review.evidence)

    s = s.assign(_rank=s["design"].map({d: i for i, d in enumerate(DESIGNS)}))
    for r in s.sort_values(["directness", "_rank", "year", "study_id"], na_position="last").to_dict("records"):
        n = r["n_randomised"] if not pd.isna(r["n_randomised"]) else r["n_analysed"]
        rows.append({
            "anchor": study_anchor(r["study_id"]), "label": author_year(r["study_id"]),
            "title": "" if pd.isna(r["title"]) else r["title"],
            "journal": "" if pd.isna(r.get("journal")) else r["journal"],
            "design": label_code(r["design"]), "population": "" if pd.isna(r["population"]) else r["population"],
            "n": format_number(n, 0), "intervention": label_code(r["intervention"], labels),
            "comparator": cell_text(r["comparator"], "comparator"), "directness": label_code(r["directness"]),
            "rob": label_code(r["rob_overall"]), "url": r["source_url"] if isinstance(r.get("source_url"), str)
            and r["source_url"].startswith(("https://", "http://")) else "",
        })
    return render("studies.html", page_title=f"{review.params.title}: included studies", title=review.params.title,
                  studies=rows, population_label=review.params.population_label)


_BODY = re.compile(r"<body[^>]*>")
_IMG = re.compile(r"<img\b[^>]*>")
_SRC = re.compile(r'src="data:image/png;base64,([^"]+)"')
_ALT = re.compile(r'\salt="[^"]*"')


def notebook_alt_texts(nb) -> dict:
    """The alt text each PNG output of a notebook carries in its metadata (``image/png: {alt: ...}``).

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    dict
        Base64 PNG data -> alt text.
    """
    alts = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            alt = out.get("metadata", {}).get("image/png", {}).get("alt")
            data = out.get("data", {}).get("image/png")
            if alt and data:
                alts[data.strip()] = alt
    return alts


def apply_alt_texts(page: str, alts: dict) -> str:
    """Set each embedded PNG's alt attribute from :func:`notebook_alt_texts` (escaped).

    Parameters
    ----------
    page : str
    alts : dict

    Returns
    -------
    str
    """
    import html

    def fix(match):
        tag = match.group(0)
        src = _SRC.search(tag)
        if not src or src.group(1).strip() not in alts:
            return tag
        tag = _ALT.sub("", tag)
        return tag.replace("<img", f'<img alt="{html.escape(alts[src.group(1).strip()], quote=True)}"', 1)

    return _IMG.sub(fix, page)



def decorate_notebook_html(page: str, title: str, root: str = "") -> str:
    """Give an exported notebook page the site's header, stylesheet and viewport tag.

    Parameters
    ----------
    page : str
        HTML from nbconvert.
    title : str
        Page title (shown in the header).
    root : str
        Path from the page to the reports folder.

    Returns
    -------
    str
    """
    head = render("notebook_head.html", root=root)
    if 'name="viewport"' in page:
        head = re.sub(r'<meta name="viewport"[^>]*>\s*', "", head)
    page = page.replace("</head>", head + "</head>", 1)
    header = render("header.html", root=root, page_title=title)
    match = _BODY.search(page)
    if match:
        page = page[:match.end()] + header + page[match.end():]
    return page


def write_site(review, folder: Path, notebooks: list[str], claim_ids: list[str], map_png: str | None = None,
               map_alt: str = "") -> list[Path]:
    """Write the site's own pages, the stylesheet and ``summary_of_findings.csv`` into ``folder``.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    folder : Path
    notebooks : list of str
    claim_ids : list of str
    map_png : str, optional
    map_alt : str

    Returns
    -------
    list of Path
    """
    from .paths import project_root
    from .sof import intervention_name, summary_of_findings

    from .report import condition_label

    methods_path = project_root() / "docs" / "methods.md"
    topic = {"population": review.params.population_label, "intervention": intervention_name(review.params.title),
             "condition": condition_label(review.evidence, review.params.target_condition)}
    pages = {
        "style.css": stylesheet(),
        "summary.html": summary_page(review, map_png, map_alt, claim_ids),
        "index.html": index_page(review, notebooks, claim_ids),
        "studies.html": studies_page(review),
        "methods.html": render("methods.html", page_title="Methods", title=review.params.title,
                               body=methods_html(topic_methods_text(methods_path.read_text(encoding="utf-8"), topic))),
    }
    sof = summary_of_findings(review.evidence.claims, review.synthesis, _domain_labels(review),
                              intervention_name(review.params.title), _excluded(review))
    csv = sof.assign(footnotes=sof["footnotes"].map(" | ".join)).drop(columns=["certainty_display"])
    csv.insert(csv.columns.get_loc("certainty") + 1, "certainty_symbols", sof["certainty_display"])
    pages["summary_of_findings.csv"] = csv.to_csv(index=False, lineterminator="\n", float_format="%.6g")
    written = []
    for name, text in pages.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
