"""Summary of findings, GRADEpro style: one row per claim, grouped as the article is.

Each row gives the participants (studies) the certainty rests on, what the evidence shows (pooled
estimate with CI, or the vote count and sign test, or "no studies"), the certainty as ⊕ symbols
plus the word, one footnote per downgrade, and a plain-language statement worded as GRADE
guideline 26 (Santesso et al., J Clin Epidemiol 2020) recommends for that certainty:
high "improves", moderate "probably improves", low "may improve", very low "the evidence is very
uncertain about the effect".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .present import format_estimate, format_p, label_code, label_codes

__all__ = [
    "CERTAINTY_SYMBOLS",
    "DOWNGRADE_DOMAINS",
    "certainty_symbols",
    "certainty_domains",
    "grade_statement",
    "excluded_sentence",
    "intervention_name",
    "evidence_shows",
    "summary_of_findings",
    "footnote_list",
]

CERTAINTY_SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very_low": "⊕◯◯◯"}
#: GRADE domains in the order a summary of findings footnotes them.
DOWNGRADE_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
_DOMAIN_LABEL = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency", "indirectness": "Indirectness",
                 "imprecision": "Imprecision", "publication_bias": "Publication bias"}


def certainty_symbols(certainty) -> str:
    """GRADE symbols plus the word, e.g. ``⊕⊕◯◯ Low``; ``–`` when not graded.

    Parameters
    ----------
    certainty : str or None

    Returns
    -------
    str
    """
    if not isinstance(certainty, str) or certainty not in CERTAINTY_SYMBOLS:
        return "–"
    return f"{CERTAINTY_SYMBOLS[certainty]} {label_code(certainty)}"


def certainty_domains(synthesis) -> pd.DataFrame:
    """Every downgrade per claim as a tidy table: ``claim_id, domain, change, reason``.

    Parameters
    ----------
    synthesis : evidence_review.engine.Synthesis
        The engine's output; its ``certainty_domains`` holds every GRADE domain's rating.

    Returns
    -------
    pandas.DataFrame
        Only rows with a negative ``change`` (the downgrades), in domain order.
    """
    tidy = synthesis.certainty_domains
    tidy = tidy.loc[(tidy["change"] < 0) & tidy["domain"].isin(DOWNGRADE_DOMAINS)].copy()
    tidy["_order"] = tidy["domain"].map({d: i for i, d in enumerate(DOWNGRADE_DOMAINS)})
    return tidy.sort_values(["claim_id", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)


def intervention_name(title: str) -> str:
    """The intervention a review title names: "Humming for tinnitus" -> "humming".

    Parameters
    ----------
    title : str

    Returns
    -------
    str
        The words before " for ", lower-cased; "the intervention" when the title has no " for ".
    """
    head, sep, _ = str(title).partition(" for ")
    return head.strip().lower() if sep and head.strip() else "the intervention"


_VERB = {"benefit": ("improves", "probably improves", "may improve", "improves"),
         "harm": ("increases", "probably increases", "may increase", "increases"),
         "no_difference": ("results in little to no difference in", "probably results in little to no difference in",
                           "may result in little to no difference in", "affects")}


def grade_statement(verdict: str, certainty, expected_direction: str, claim_type: str, intervention: str,
                    outcome: str, excluded: int = 0) -> str:
    """A plain-language statement in GRADE's standard wording for the certainty (GRADE guideline 26).

    Parameters
    ----------
    verdict : str
        The claim's verdict.
    certainty : str or None
        high, moderate, low or very_low.
    expected_direction : {"benefit", "harm", "no_difference"}
        What would bear the claim out.
    claim_type : str
        ``background`` claims are about the condition, not the intervention.
    intervention : str
        E.g. "humming".
    outcome : str
        Outcome label(s), lower case, e.g. "pain".
    excluded : int
        Studies bearing on the claim that the review's inclusion filters excluded: a claim without
        evidence then says so, rather than that no study looked at it.

    Returns
    -------
    str
    """
    if verdict == "not_testable":
        return "Advice or opinion: studies cannot confirm or refute it."
    if verdict == "no_evidence" and excluded:
        return excluded_sentence(excluded)
    if verdict == "no_evidence":
        return f"No study we found measured this, so its effect on {outcome} is unknown." if claim_type != "background" \
            else "No study we found looked at this."
    level = {"high": 0, "moderate": 1, "low": 2, "very_low": 3}.get(certainty, 3)
    if level == 3 or verdict in ("insufficient", "mixed"):
        if claim_type == "background":
            return "We are very uncertain whether this is true." if level == 3 or verdict == "insufficient" \
                else "The studies disagree, so it is uncertain whether this is true."
        if level == 3 or verdict == "insufficient":
            return f"The evidence is very uncertain about the effect of {intervention} on {outcome}."
        return f"The studies disagree: it is uncertain whether {intervention} {_VERB['benefit'][3]} {outcome}."
    if claim_type == "background":
        holds = verdict == "supported"
        return ["This is true." if holds else "This is not true.",
                "This is probably true." if holds else "This is probably not true.",
                "This may be true." if holds else "This may not be true."][level]
    direction = expected_direction if verdict == "supported" else "no_difference"
    verb = _VERB.get(direction, _VERB["benefit"])[level]
    subject = intervention[:1].upper() + intervention[1:]
    return f"{subject} {verb} {outcome}."


def excluded_sentence(excluded: int) -> str:
    """What a claim without evidence says when the inclusion filters excluded the studies that bore on it.

    Parameters
    ----------
    excluded : int
        Number of excluded studies with a result on the claim (at least 1).

    Returns
    -------
    str
    """
    studies = "the one study" if excluded == 1 else f"all {excluded} studies"
    return (f"The inclusion filters of this review excluded {studies} we found on this, "
            "so the review has no evidence on it.")


def _and_list(items: list[str]) -> str:
    items = [i for i in items if i]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def evidence_shows(row: pd.Series, claim_type: str = "benefit") -> str:
    """What the evidence shows for one claim: pooled estimate, else vote count and sign test, else none.

    Parameters
    ----------
    row : pandas.Series
        A verdicts row (``pooled_k``, ``pooled_g``, ``pooled_ci_low``, ``pooled_ci_high``, ``pooled_i2``,
        ``trials``, ``n_benefit``, ``n_no_difference``, ``n_harm``, ``n_unclear``, ``sign_test_p``,
        ``basis_trials_agreeing``, ``basis_trials_disagreeing``, ``verdict``; optionally ``carried_by`` and
        ``verdict_reasons``: a verdict carried by authoritative sources or a published meta-analysis is
        described by them, not by the vote count).
    claim_type : str
        A ``background`` claim rests on direct studies of the condition (surveys, cohorts), not trials.

    Returns
    -------
    str
    """
    if row["verdict"] == "not_testable":
        return "Not testable"
    k = int(row.get("pooled_k", 0) or 0)
    if k >= 2 and not pd.isna(row.get("pooled_g")):
        i2 = "" if pd.isna(row.get("pooled_i2")) else f"; I² = {row['pooled_i2']:.0f}%"
        return (f"Pooled {format_estimate(row['pooled_g'], row['pooled_ci_low'], row['pooled_ci_high'], 'SMD')}, "
                f"{k} trials{i2}; positive favours the intervention")
    if int(row.get("trials", 0) or 0) == 0:
        return "No studies"
    agree, disagree = int(row["basis_trials_agreeing"]), int(row["basis_trials_disagreeing"])
    parts = [f"{n} {what}" for n, what in ((row["n_benefit"], "favourable"), (row["n_no_difference"], "no difference"),
                                            (row["n_harm"], "unfavourable"), (row["n_unclear"], "unclear")) if int(n)]
    total = int(row["n_benefit"]) + int(row["n_no_difference"]) + int(row["n_harm"]) + int(row["n_unclear"])
    results = (f"One linked result: {parts[0].split(' ', 1)[1]}" if total == 1 else f"All {total} linked results: {', '.join(parts)}") \
        if parts else "No result reports a direction"
    carried = str(row.get("carried_by") or "")
    if carried == "authoritative sources" or carried.startswith("Published meta-analysis"):
        # The verdict rests on these, not on the vote count: name them first, then the linked results.
        return f"{row['verdict_reasons']} {results}"
    deciding = "direct studies of the population" if claim_type == "background" else "controlled trials in the population"
    if agree + disagree == 0:
        return f"{results}; no {'direct' if claim_type == 'background' else 'controlled'} study in the population decides it"
    p = format_p(row.get("sign_test_p"))
    test = f"; sign test {p}" if p else ""
    return f"{agree} of {agree + disagree} {deciding} with a direction agree with the claim{test}. {results}"


def summary_of_findings(claims: pd.DataFrame, synthesis, domain_labels: dict | None = None,
                        intervention: str = "the intervention", excluded_by_claim=None) -> pd.DataFrame:
    """Summary-of-findings table: one row per claim, in article order.

    Parameters
    ----------
    claims : pandas.DataFrame
        Claims table (``claim_id``, ``order``, ``section``, ``claim``, ``claim_type``,
        ``outcome_domains``, ``expected_direction``).
    synthesis : evidence_review.engine.Synthesis
        The engine's output (its ``verdicts``, ``trials`` and ``certainty_domains`` are read).
    domain_labels : dict, optional
        Outcome-domain code -> label.
    intervention : str
        Name of the intervention for the plain-language statement.
    excluded_by_claim : mapping or pandas.Series, optional
        Claim id -> studies bearing on it that the inclusion filters excluded
        (:attr:`evidence_review.pipeline.Review.excluded_by_claim`).

    Returns
    -------
    pandas.DataFrame
        ``section, claim_id, claim, outcomes, participants, studies, participants_studies,
        evidence_shows, certainty, certainty_display, footnotes, statement, verdict``.
    """
    verdicts = synthesis.verdicts.set_index("claim_id")
    trials = synthesis.trials
    downgrades = certainty_domains(synthesis)
    labelled = downgrades.assign(text=[
        f"{_DOMAIN_LABEL[d]}, rated down {'one level' if c == -1 else f'{-c} levels'}: {r}"
        for d, c, r in zip(downgrades["domain"], downgrades["change"], downgrades["reason"])
    ])
    notes = labelled.groupby("claim_id")["text"].agg(list) if not labelled.empty else pd.Series(dtype=object)
    rows = []
    for c in claims.sort_values("order").itertuples(index=False):
        v = verdicts.loc[c.claim_id]
        excluded = int(excluded_by_claim.get(c.claim_id, 0)) if excluded_by_claim is not None else 0
        mine = trials.loc[trials["claim_id"] == c.claim_id]
        basis = mine.loc[mine["basis_for_verdict"]] if "basis_for_verdict" in mine else mine
        used = basis if len(basis) else mine
        k = int(used["trial_group"].nunique()) if len(used) else 0
        n = int(used.drop_duplicates("trial_group")["participants"].fillna(0).sum()) if len(used) else 0
        outcomes = label_codes(c.outcome_domains, domain_labels)
        certainty = v["certainty"] if isinstance(v["certainty"], str) and v["certainty"] else None
        if v["verdict"] in ("not_testable", "no_evidence"):
            certainty = None  # no body of evidence to grade
        count = "" if k == 0 else f"{n} ({k} {'study' if k == 1 else 'studies'})"
        if k and n == 0:  # statements of authoritative bodies have no sample to count
            count = f"{k} {'source' if k == 1 else 'sources'}, no sample size"
        if k and not len(basis):
            count += ", indirect or uncontrolled only"
        rows.append({
            "section": c.section,
            "claim_id": c.claim_id,
            "claim": c.claim,
            "outcomes": outcomes,
            "participants": n if k else np.nan,
            "studies": k,
            "participants_studies": count or "–",
            "evidence_shows": (f"No included studies; the inclusion filters excluded {excluded}"
                               if excluded and not k else evidence_shows(v, c.claim_type)),
            "certainty": certainty or "",
            "certainty_display": certainty_symbols(certainty),
            "footnotes": list(notes.get(c.claim_id, [])) if certainty else [],
            "statement": grade_statement(v["verdict"], certainty, c.expected_direction, c.claim_type, intervention,
                                         _and_list(label_codes(c.outcome_domains, domain_labels).lower().split("; "))
                                         or "this outcome", excluded=excluded),
            "verdict": v["verdict"],
        })
    return pd.DataFrame(rows)


def footnote_list(sof: pd.DataFrame) -> tuple[list[list[int]], list[str]]:
    """Number the footnotes of a summary of findings once each, in table order.

    Identical downgrade texts share one number, as in GRADEpro.

    Parameters
    ----------
    sof : pandas.DataFrame
        :func:`summary_of_findings` output.

    Returns
    -------
    numbers : list of list of int
        The footnote numbers of each row.
    notes : list of str
        The footnote texts; ``notes[i - 1]`` is footnote ``i``.
    """
    notes: list[str] = []
    numbers = []
    for texts in sof["footnotes"]:
        mine = []
        for text in texts:
            if text not in notes:
                notes.append(text)
            mine.append(notes.index(text) + 1)
        numbers.append(mine)
    return numbers, notes
