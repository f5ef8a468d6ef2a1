"""The one-page summary a patient or clinician can read in two minutes."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

from .charts import VERDICT_COLOURS

__all__ = ["plain_sentence", "summary_html", "figure_png_base64"]

_CERTAINTY_WORDS = {
    "high": "we can be confident in this",
    "moderate": "this is probably right",
    "low": "this may change with better studies",
    "very_low": "this is very uncertain",
}


def plain_sentence(row: pd.Series) -> str:
    """One plain-language sentence for a claim's verdict.

    Parameters
    ----------
    row : pandas.Series
        A row of the verdicts table (``verdict``, ``certainty``, ``basis_trials_agreeing``,
        ``basis_trials_disagreeing``, ``trials``), optionally with the claim's ``claim_type``.

    Returns
    -------
    str
    """
    agree, disagree = int(row["basis_trials_agreeing"]), int(row["basis_trials_disagreeing"])
    total = agree + disagree
    sure = _CERTAINTY_WORDS.get(row["certainty"], "")
    who = "Studies of people with MS" if row.get("claim_type") == "background" else "Controlled studies in people with MS"
    n = int(row["trials"])
    studies = f"{n} study" if n == 1 else f"{n} studies"
    settle = "not able" if n == 1 else "none of them able"
    text = {
        "supported": f"{who} mostly back this ({agree} of {total}), but {sure}.",
        "mixed": f"{who} disagree ({agree} of {total} back it); {sure}.",
        "not_supported": f"{who} do not back this ({agree} of {total}); {sure}.",
        "insufficient": f"Too little good evidence to say: {studies}, {settle} to settle it.",
        "no_evidence": "No study we found has looked at this.",
        "not_testable": "This is advice or opinion; studies cannot confirm or refute it.",
    }[row["verdict"]]
    return text[0].upper() + text[1:]


def figure_png_base64(fig) -> str:
    """Encode a matplotlib figure as base64 PNG for embedding in HTML.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def summary_html(title: str, verdicts: pd.DataFrame, claims: pd.DataFrame, scorecard: pd.DataFrame | None = None,
                 map_png: str | None = None, report_ids=None) -> str:
    """Render the one-page summary: evidence map, then each claim with a verdict badge and a link.

    Every text from the input files is HTML-escaped.

    Parameters
    ----------
    title : str
        Review title.
    verdicts, claims : pandas.DataFrame
    scorecard : pandas.DataFrame, optional
        Article scorecard, shown at the end.
    map_png : str, optional
        Base64 PNG of the evidence map.
    report_ids : collection of str, optional
        Claims that have a report page; only these get a link (default: every claim), so the
        page never links to a report the build did not make.

    Returns
    -------
    str
        A complete, self-contained HTML page.
    """
    e = html.escape
    merged = claims[["claim_id", "order", "claim", "section", "claim_type"]].merge(verdicts, on="claim_id").sort_values("order")
    rows = []
    for r in merged.to_dict("records"):
        colour = VERDICT_COLOURS[r["verdict"]]
        text_colour = "#000" if r["verdict"] in ("not_testable", "no_evidence", "insufficient") else "#fff"
        graded = isinstance(r["certainty"], str) and r["certainty"] != ""
        certainty = r["certainty"].replace("_", " ") if graded else "&ndash;"
        rows.append(
            f"<tr><td>{e(r['claim'])}<br><small>{e(r['section'])}</small></td>"
            f"<td><span class='badge' style='background:{colour};color:{text_colour}'>{e(r['verdict'].replace('_', ' '))}</span></td>"
            f"<td>{e(certainty) if graded else certainty}</td><td>{e(plain_sentence(pd.Series(r)))}</td>"
            + (f"<td><a href='claims/{e(r['claim_id'])}.html'>details</a></td></tr>"
               if report_ids is None or r["claim_id"] in report_ids else "<td></td></tr>")
        )
    counts = merged["verdict"].value_counts()
    tally = ", ".join(f"{n} {e(v.replace('_', ' '))}" for v, n in counts.items())
    card = ""
    if scorecard is not None:
        from .scorecard import scorecard_summary

        items = "".join(
            f"<tr><td>{e(r.criterion)}</td><td>{e(r.rating.replace('_', ' '))}</td><td>{e(r.reason)}</td></tr>"
            for r in scorecard.itertuples()
        )
        card = (f"<h2>How well does the article report on it?</h2><p>HealthNewsReview.org criteria: "
                f"{e(scorecard_summary(scorecard))}.</p><table><tr><th>Criterion</th><th>Rating</th><th>Why</th></tr>{items}</table>")
    figure = f"<img alt='Evidence map' src='data:image/png;base64,{map_png}' style='max-width:100%'>" if map_png else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(title)}: summary</title><style>body{{font-family:sans-serif;max-width:62em;margin:1.5em auto;line-height:1.4}}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35em;text-align:left;vertical-align:top}"
        ".badge{padding:.15em .5em;border-radius:.6em;font-size:.85em;white-space:nowrap}</style></head><body>"
        f"<h1>{e(title)}: what the evidence says</h1>"
        f"<p>{len(merged)} claims checked: {tally}. Certainty says how far the finding can be trusted. "
        "<a href='index.html'>All reports</a>.</p>"
        f"{figure}<h2>Claim by claim</h2><table><tr><th>Claim</th><th>Verdict</th><th>Certainty</th><th>In plain words</th><th></th></tr>"
        f"{''.join(rows)}</table>{card}</body></html>\n"
    )
