"""The review's HTML: executed notebooks exported to self-contained pages, and the site's own
pages (summary with the evidence map, index, studies, methods)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from .result_files import atomic_write_text
from .site import apply_alt_texts, decorate_notebook_html, notebook_alt_texts, write_site

__all__ = ["export_html", "export_notebook_html", "write_summary", "warm_up_exporter"]

_TOGGLE = """
<style>body:not(.show-code) .jp-CodeCell .jp-Cell-inputWrapper{display:none}
#toggle-code{position:fixed;top:8px;right:8px;z-index:10;font-size:12px}</style>
<script>function toggleCode(){document.body.classList.toggle('show-code')}</script>
"""
_CDN_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>\s*')
_BUTTON = '<button id="toggle-code" onclick="toggleCode()">Show/hide code</button>'


@functools.cache
def _notebook_exporter():
    """One HTML exporter per process, reused: a new one compiles its Jinja templates again on its
    first export (about 0.8 s, more than the export itself), and a build exports every notebook
    its worker runs. Exports do not change the exporter, so a reused one gives the same bytes.

    Its code highlighting and HTML sanitising remember what they did: a build's claim reports
    share their code and Markdown cells, and both steps are pure functions of their input (a
    third of an export's time otherwise)."""
    from nbconvert import HTMLExporter
    from nbconvert.filters import clean_html

    class ReviewHTMLExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # nbconvert highlights with the notebook's own lexer; so does the remembering highlighter.
            langinfo = nb.metadata.get("language_info", {})
            self.filters["highlight_code"].lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            return super().from_notebook_node(nb, resources, **kw)

    return ReviewHTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True,
                              filters={"clean_html": functools.lru_cache(maxsize=4096)(clean_html),
                                       "highlight_code": _RememberingHighlighter()})


class _RememberingHighlighter:
    """nbconvert's code highlighter (``Highlight2HTML``) for the notebook being exported, with a memory."""

    lexer: str | None = None

    def __call__(self, source, language=None, metadata=None):
        return _highlighted(self.lexer, source, language, json.dumps(metadata or {}, sort_keys=True, default=str))


@functools.lru_cache(maxsize=4096)
def _highlighted(lexer: str | None, source: str, language: str | None, metadata: str) -> str:
    from nbconvert.filters.highlight import Highlight2HTML

    return Highlight2HTML(pygments_lexer=lexer)(source, language, json.loads(metadata))


def warm_up_exporter() -> None:
    """Make the exporter ready for its first notebook: compile its templates and load its code
    highlighter, Markdown renderer and HTML sanitiser, by exporting a small notebook in memory.

    The build's fork server does this once, so the workers it forks start with it done (see
    :mod:`evidence_review.fork_server`).
    """
    from nbformat import v4

    output = v4.new_output("display_data", data={"text/html": "<p>1</p>", "text/plain": "1"})
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Warm-up\n\n*1*"), v4.new_code_cell("x = 1", outputs=[output])])
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    _notebook_exporter().from_notebook_node(nb)


def export_html(notebook_path: Path, html_path: Path, title: str, root: str = "") -> None:
    """Export an executed notebook to self-contained HTML (figures embedded, code hidden by default).

    Parameters
    ----------
    notebook_path : Path
        Executed notebook.
    html_path : Path
        Where to write the HTML.
    title : str
        Page title.
    root : str
        The way from the page's folder to the site's root (one folder up for the claim reports in ``claims/``).
    """
    import nbformat

    export_notebook_html(nbformat.read(notebook_path, as_version=4), html_path, title, root)


def export_notebook_html(nb, html_path: Path, title: str, root: str = "") -> None:
    """Export an executed notebook, already read, to self-contained HTML (see :func:`export_html`).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook; its metadata gets the title.
    html_path : Path
    title : str
    root : str
    """
    nb.metadata["title"] = title
    body, _ = _notebook_exporter().from_notebook_node(nb)
    # The pages are static (tables, embedded PNGs): drop the template's CDN scripts so they read offline.
    body = _CDN_SCRIPT.sub("", body)
    body = body.replace("</head>", _TOGGLE + "</head>", 1)
    body = body.replace("</body>", _BUTTON + "</body>", 1)
    body = apply_alt_texts(body, notebook_alt_texts(nb))
    atomic_write_text(html_path, decorate_notebook_html(body, title, root))


def write_summary(review, folder: Path, notebooks: list[str] = (), claim_ids: list[str] = ()) -> list[Path]:
    """Write the site's own pages (summary with the evidence map, index, studies, methods, stylesheet).

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    folder : Path
    notebooks : list of str
        Notebook pages built, for the index.
    claim_ids : list of str
        Claims with a report in this build; only these are linked.

    Returns
    -------
    list of Path
    """
    from matplotlib.figure import Figure

    from .charts import figure_png_base64, plot_evidence_map
    from .report import condition_label

    syn, claims = review.synthesis, review.evidence.claims
    fig = Figure(figsize=(9, 0.32 * len(claims) + 2.5), layout="constrained")
    population = condition_label(review.evidence, review.params.target_condition)
    ax = plot_evidence_map(syn.verdicts, syn.trials, claims, ax=fig.add_subplot(),
                           population=population)
    alt = getattr(ax, "description", "Evidence map of the claims by kind of evidence.")
    return write_site(review, folder, list(notebooks), list(claim_ids), figure_png_base64(fig), alt)


