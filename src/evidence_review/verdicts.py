"""Stage 5, verdicts: the fixed verdict scale, decided only on evidence that can be told from chance.

Rules in ``docs/methods.md`` section 7; each branch has a unit test on constructed inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .background import STATEMENT_TYPES
from .linking import matches

__all__ = [
    "SIGN_TEST_ALPHA",
    "TRIVIAL_SMD",
    "LARGE_SMD",
    "LARGE_SURVEY_N",
    "WEAK_COMPARATORS",
    "sign_test",
    "vote_count",
    "claim_counts",
    "count_by_claim",
    "counts_frame",
    "read_interval",
    "verdict_table",
    "verdicts_from_counts",
    "decide_verdict",
]

#: A sign test below this p-value tells the direction of a body of trials from chance.
SIGN_TEST_ALPHA = 0.05
#: |SMD| below this is trivial (Cohen's "small" is 0.2; Cochrane Handbook 15.5.3.1 rules of thumb).
TRIVIAL_SMD = 0.2
#: SMD at or above this is a large effect (Cohen 1988, as quoted by the Cochrane Handbook).
LARGE_SMD = 0.8
#: A survey or registry with at least this many participants (GRADE's optimal information size
#: rule of thumb) counts as an authoritative source for a background claim on its own.
LARGE_SURVEY_N = 400
#: Comparators that do not control for attention, touch or expectation.
WEAK_COMPARATORS = ("usual_care", "waitlist", "none")

_COUNT_COLUMNS = ["k", "benefit", "no_difference", "harm", "unclear", "agree", "disagree", "weak_benefit",
                  "strong_not_benefit", "authority_agree", "authority_disagree"]


def sign_test(benefit, harm) -> np.ndarray:
    """Two-sided sign test of benefit against harm counts (exact binomial, p = 0.5), vectorised.

    Parameters
    ----------
    benefit, harm : array_like of int

    Returns
    -------
    numpy.ndarray
        p-values; NaN where no result has a sign.
    """
    b = np.asarray(benefit, dtype=float)
    n = b + np.asarray(harm, dtype=float)
    k = np.minimum(b, n - b)
    with np.errstate(invalid="ignore"):
        p = np.minimum(1.0, 2.0 * stats.binom.cdf(k, n, 0.5))
    return np.where(n > 0, p, np.nan)


def vote_count(directions, expected: str = "benefit") -> dict:
    """Vote count by direction of effect with a two-sided sign test (Cochrane Handbook 12.2.2.3).

    Only results with a direction (benefit or harm) are votes; ``no_difference`` and ``unclear``
    are reported, never counted against the claim. Statistical significance is never the criterion.

    Parameters
    ----------
    directions : sequence of str
        One direction per trial (``benefit``, ``no_difference``, ``harm``, ``unclear``).
    expected : {"benefit", "harm"}
        The direction that would bear the claim out.

    Returns
    -------
    dict
        ``benefit``, ``no_difference``, ``harm``, ``unclear`` counts, ``agree`` (trials in the
        expected direction), ``disagree`` (trials in the opposite direction) and ``sign_test_p``
        (NaN when no trial has a direction).
    """
    directions = list(directions)
    counts = {d: directions.count(d) for d in ("benefit", "no_difference", "harm", "unclear")}
    opposite = {"benefit": "harm", "harm": "benefit"}.get(expected)
    agree = counts.get(expected, 0) if opposite else 0
    disagree = counts[opposite] if opposite else 0
    p = float(sign_test([counts["benefit"]], [counts["harm"]])[0])
    return {**counts, "agree": agree, "disagree": disagree, "sign_test_p": p}


def claim_counts(basis: pd.DataFrame, claim_ids) -> pd.DataFrame:
    """Per-claim counts the verdict rules need, from the claim x trial rows a verdict may rest on.

    Parameters
    ----------
    basis : pandas.DataFrame
        Claim x trial (or x source) rows with ``direction``, ``agreement``, ``comparator``,
        ``evidence_kind``, ``design`` and ``participants``.
    claim_ids : sequence of str

    Returns
    -------
    pandas.DataFrame
        Indexed by ``claim_id``: ``k``, direction counts, ``agree``/``disagree`` (by
        ``agreement``), ``weak_benefit`` (benefit against a weak comparator),
        ``strong_not_benefit`` (no difference or harm against sham or an active control) and
        ``authority_agree``/``authority_disagree`` (authoritative background sources).
    """
    index = pd.Index(list(claim_ids), name="claim_id")
    if basis.empty:
        return pd.DataFrame(0, index=index, columns=_COUNT_COLUMNS)
    codes, names = pd.factorize(basis["claim_id"])
    return counts_frame(count_by_claim(basis, codes, len(names)), names, index)


def counts_frame(counts: dict, names, claim_ids) -> pd.DataFrame:
    """Per-claim count arrays (positions as in ``names``) as a frame indexed by ``claim_ids`` (0 where absent)."""
    frame = pd.DataFrame(counts, index=pd.Index(names, name="claim_id"))
    return frame.reindex(pd.Index(list(claim_ids), name="claim_id"), fill_value=0)[_COUNT_COLUMNS]


def count_by_claim(basis: pd.DataFrame, codes: np.ndarray, n_claims: int, rows: np.ndarray | None = None) -> dict:
    """The counts of :func:`claim_counts` as int64 arrays, one position per claim code.

    Parameters
    ----------
    basis : pandas.DataFrame
        Claim x trial rows (the columns :func:`claim_counts` reads).
    codes : numpy.ndarray of int
        Per row: its claim's code, 0 to ``n_claims - 1``.
    n_claims : int
    rows : numpy.ndarray of bool, optional
        Count only these rows (all when omitted); spares copying a filtered table.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys :data:`_COUNT_COLUMNS`.
    """
    if rows is not None:
        # Rows left out go to one extra bin, dropped below.
        codes = np.where(rows, codes, n_claims)
    evidence = matches(basis["evidence_kind"], "background_evidence")
    weak_comparator = basis["comparator"].isin(WEAK_COMPARATORS).to_numpy()
    weak = weak_comparator & ~evidence
    strong = ~weak_comparator & ~evidence
    n = basis["participants"].astype("float64").to_numpy()
    authority = evidence & (basis["design"].isin(STATEMENT_TYPES).to_numpy() | (np.nan_to_num(n) >= LARGE_SURVEY_N))
    d = basis["direction"]
    benefit, no_difference, harm = matches(d, "benefit"), matches(d, "no_difference"), matches(d, "harm")
    agree, disagree = matches(basis["agreement"], "agrees"), matches(basis["agreement"], "disagrees")
    flags = {
        "k": None,
        "benefit": benefit,
        "no_difference": no_difference,
        "harm": harm,
        "unclear": matches(d, "unclear"),
        "agree": agree,
        "disagree": disagree,
        "weak_benefit": benefit & weak,
        "strong_not_benefit": (no_difference | harm) & strong,
        "authority_agree": authority & agree,
        "authority_disagree": authority & disagree,
    }
    return {name: np.bincount(codes, weights=flag, minlength=n_claims + 1)[:n_claims].astype(np.int64)
            for name, flag in flags.items()}


def read_interval(low: float, high: float, scale: str, expected: str) -> str:
    """What an effect estimate's CI (positive favours the intervention) says about a claim.

    Parameters
    ----------
    low, high : float
        CI on the "favours the intervention" axis.
    scale : {"smd", "difference"}
        ``smd`` when the estimate is in SD units (then "trivial" can be judged).
    expected : {"benefit", "harm", "no_difference"}

    Returns
    -------
    str
        ``agrees`` (the CI excludes no effect on the claim's side, or for a claim of no
        difference lies within +-``TRIVIAL_SMD``), ``disagrees`` (it excludes no effect on the other
        side, shows an effect against a claim of no difference, or rules out all but a trivial
        effect for a claim of an effect) or ``inconclusive``.
    """
    trivial = scale == "smd" and -TRIVIAL_SMD < low and high < TRIVIAL_SMD
    shows_benefit, shows_harm = low > 0, high < 0
    if expected == "no_difference":
        return "agrees" if trivial else "disagrees" if (shows_benefit or shows_harm) else "inconclusive"
    agrees, against = (shows_benefit, shows_harm) if expected == "benefit" else (shows_harm, shows_benefit)
    if agrees:
        return "agrees"
    if against or trivial:
        return "disagrees"
    return "inconclusive"


def _expected_word(expected: str) -> str:
    return {"benefit": "benefit", "harm": "harm", "no_difference": "no difference"}[expected]


def _weak_only(r: dict) -> bool:
    return r["weak_benefit"] == r["benefit"] and r["strong_not_benefit"] > 0


def _decide_background(r: dict, expected: str) -> tuple[str, list[str], str, float]:
    if r["k"] == 0:
        return "insufficient", ["No direct evidence about people with MS; only indirect evidence."], "", np.nan
    a_agree, a_disagree = r["authority_agree"], r["authority_disagree"]
    if a_agree or a_disagree:
        summary = f"{a_agree} authoritative source(s) agree with the claim, {a_disagree} disagree."
        if a_agree and a_disagree:
            return "mixed", [summary, "Authoritative sources disagree with one another."], "authoritative sources", np.nan
        verdict = "supported" if a_agree else "not_supported"
        return verdict, [summary], "authoritative sources", np.nan
    signed = r["agree"] + r["disagree"]
    if signed == 0:
        return "insufficient", ["No source finds an association either way, and no authoritative source states it."], "", np.nan
    p = float(sign_test([r["agree"]], [r["disagree"]])[0])
    summary = f"{r['agree']} of {signed} studies with a direction agree with the claim (associations in people with MS)."
    if p < SIGN_TEST_ALPHA:
        return ("supported" if r["agree"] > r["disagree"] else "not_supported"), [summary], "sign test", p
    return "insufficient", [summary, f"Too few to rule out chance (sign test p = {p:.2g}), and no authoritative source states it."], "", p


def _decide_size(r: dict, carrier: dict | None) -> tuple[str, list[str], str]:
    if carrier is None or carrier["scale"] != "smd":
        return "insufficient", ["A claim about the size of an effect needs a pooled effect size in SD units; a count of trials says nothing about how large an effect is."], ""
    est, lo, hi = carrier["estimate"], carrier["ci_low"], carrier["ci_high"]
    text = f"{carrier['label']}: g = {est:.2f} (95% CI {lo:.2f} to {hi:.2f})."
    if est >= LARGE_SMD and lo > 0:
        return "supported", [text, f"A large effect (g >= {LARGE_SMD})."], carrier["label"]
    if hi < LARGE_SMD:
        return "not_supported", [text, f"The CI rules out a large effect (g >= {LARGE_SMD})."], carrier["label"]
    return "insufficient", [text, "The estimate cannot tell whether the effect is large."], carrier["label"]


def _decide_estimate(r: dict, expected: str, carrier: dict) -> tuple[str, list[str], str]:
    est, lo, hi = carrier["estimate"], carrier["ci_low"], carrier["ci_high"]
    unit = "g" if carrier["scale"] == "smd" else carrier.get("measure") or "estimate"
    text = f"{carrier['label']}: {unit} = {est:.2f} (95% CI {lo:.2f} to {hi:.2f}; positive favours the intervention)."
    reading = read_interval(lo, hi, carrier["scale"], expected)
    if reading == "agrees":
        if expected == "benefit" and _weak_only(r):
            return "mixed", [text, "The benefit shows only against usual care or waiting list, not against sham or active controls."], carrier["label"]
        return "supported", [text], carrier["label"]
    if reading == "disagrees":
        return "not_supported", [text, "The CI excludes the effect the claim states."], carrier["label"]
    what = "does not rule out an effect, nor show one" if expected == "no_difference" else "includes no effect"
    return "insufficient", [text, f"The CI {what}."], carrier["label"]


def _decide_votes(r: dict, expected: str) -> tuple[str, list[str], str, float]:
    signed = r["benefit"] + r["harm"]
    p = float(sign_test([r["benefit"]], [r["harm"]])[0])
    if expected == "no_difference":
        if signed and p < SIGN_TEST_ALPHA:
            majority = "benefit" if r["benefit"] > r["harm"] else "harm"
            return "not_supported", [f"{r[majority]} of {signed} trials with a direction point to {majority} (sign test p = {p:.2g}): an effect."], "sign test", p
        return "insufficient", ["A claim of no effect needs a precise pooled estimate; a count of trials cannot show that there is no effect."], "", p
    if signed == 0:
        return ("insufficient", [f"None of the {r['k']} trials reports a direction of effect "
                                 f"({r['no_difference']} no difference, {r['unclear']} unclear)."], "", np.nan)
    opposite = "harm" if expected == "benefit" else "benefit"
    agree, disagree = r[expected], r[opposite]
    summary = f"{agree} of {signed} trials with a direction point to {_expected_word(expected)}"
    if p < SIGN_TEST_ALPHA and agree > disagree:
        if expected == "benefit" and _weak_only(r):
            return "mixed", [summary + f" (sign test p = {p:.2g}).",
                             "The benefit shows only against usual care or waiting list, not against sham or active controls."], "sign test", p
        return "supported", [summary + f" (sign test p = {p:.2g})."], "sign test", p
    if p < SIGN_TEST_ALPHA:
        return "not_supported", [summary + f"; {disagree} point the other way (sign test p = {p:.2g})."], "sign test", p
    both = " and they point both ways" if agree and disagree else ""
    return "insufficient", [summary + f"{both}; too few to rule out chance (sign test p = {p:.2g})."], "", p


def verdict_table(claims: pd.DataFrame, basis: pd.DataFrame, linked_claims: set, carriers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Verdict on the fixed scale for many claims at once (rules in ``docs/methods.md`` section 7).

    Parameters
    ----------
    claims : pandas.DataFrame
        Claims with ``claim_id``, ``testable``, ``claim_type``, ``expected_direction`` and
        (optional) ``claim_of_size``.
    basis : pandas.DataFrame
        Claim x trial (or source) rows the verdicts may rest on (see :func:`claim_counts`).
    linked_claims : set of str
        Claims with at least one linked result (to tell ``insufficient`` from ``no_evidence``).
    carriers : pandas.DataFrame, optional
        Indexed by ``claim_id``: the effect estimate that carries a claim's verdict instead of the
        vote count (this review's pooled g, or a published meta-analysis), with ``label``,
        ``scale``, ``measure``, ``estimate``, ``ci_low``, ``ci_high`` on the "positive favours
        the intervention" axis.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``claim_id``: ``verdict``, ``reasons`` (list), ``agree``, ``disagree``,
        ``carried_by`` (what decided it) and ``sign_test_p`` (the test the rule used, if any).
    """
    return verdicts_from_counts(claims, claim_counts(basis, claims["claim_id"]), linked_claims, carriers)


def verdicts_from_counts(claims: pd.DataFrame, counts: pd.DataFrame, linked_claims: set,
                         carriers: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`verdict_table` from per-claim counts already made (:func:`claim_counts` columns, indexed by ``claim_id``).

    Parameters
    ----------
    claims, linked_claims, carriers
        As for :func:`verdict_table`.
    counts : pandas.DataFrame
        One row per claim of ``claims``.

    Returns
    -------
    pandas.DataFrame
        As :func:`verdict_table`.
    """
    counts = counts.to_dict("index")
    carrier_of = carriers.to_dict("index") if carriers is not None and not carriers.empty else {}
    size = claims["claim_of_size"] if "claim_of_size" in claims else pd.Series(False, index=claims.index)
    rows = {}
    for c, of_size in zip(claims.itertuples(index=False), size.fillna(False).astype(bool)):
        r = counts[c.claim_id]
        expected = c.expected_direction
        carrier = carrier_of.get(c.claim_id)
        p = np.nan
        carried = ""
        if not c.testable:
            verdict, reasons = "not_testable", ["Advice or a statement no study could test as worded."]
        elif c.claim_id not in linked_claims:
            verdict, reasons = "no_evidence", ["No included study or source addresses this outcome."]
        elif c.claim_type == "background":
            verdict, reasons, carried, p = _decide_background(r, expected)
        elif r["k"] == 0:
            verdict, reasons = "insufficient", ["No direct controlled studies in people with MS; only uncontrolled or indirect evidence."]
        elif of_size:
            verdict, reasons, carried = _decide_size(r, carrier)
        elif carrier is not None:
            verdict, reasons, carried = _decide_estimate(r, expected, carrier)
        else:
            verdict, reasons, carried, p = _decide_votes(r, expected)
        if c.claim_type == "background":
            agree, disagree = r["agree"], r["disagree"]
        elif expected in ("benefit", "harm"):
            agree, disagree = r[expected], r["harm" if expected == "benefit" else "benefit"]
        else:
            agree, disagree = r["no_difference"], r["benefit"] + r["harm"]
        rows[c.claim_id] = (verdict, reasons, int(agree), int(disagree), carried, p)
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["verdict", "reasons", "agree", "disagree", "carried_by", "sign_test_p"]
    ).rename_axis("claim_id")


def decide_verdict(claim: pd.Series, trials: pd.DataFrame, linked: bool = True, carrier: dict | None = None) -> tuple[str, list[str]]:
    """Verdict on the fixed scale for one claim (see :func:`verdict_table`).

    Parameters
    ----------
    claim : pandas.Series
        One row of the claims table.
    trials : pandas.DataFrame
        Claim x trial rows for this claim that the verdict may rest on.
    linked : bool
        Whether any result at all is linked to the claim (else ``no_evidence``).
    carrier : dict, optional
        The effect estimate carrying the verdict (keys as the ``carriers`` columns of :func:`verdict_table`).

    Returns
    -------
    verdict : str
    reasons : list of str
    """
    t = trials.assign(claim_id=claim["claim_id"])
    carriers = pd.DataFrame([carrier], index=pd.Index([claim["claim_id"]], name="claim_id")) if carrier else None
    row = verdict_table(claim.to_frame().T, t, {claim["claim_id"]} if linked else set(), carriers).loc[claim["claim_id"]]
    return row["verdict"], row["reasons"]
