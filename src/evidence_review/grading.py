"""Stage 4, grading: GRADE certainty of the body of evidence behind each claim, domain by domain.

Rules in ``docs/methods.md`` section 6 (GRADE handbook; Cochrane Handbook chapter 14; GRADE for
prognosis and prevalence questions for background claims).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .linking import matches
from .vocab import CERTAINTY_LEVELS

__all__ = [
    "DOMAINS",
    "OIS_PARTICIPANTS",
    "VERY_SMALL_PARTICIPANTS",
    "SMALL_TRIAL",
    "grading_inputs",
    "grading_inputs_by_code",
    "certainty_from_inputs",
    "grade_claim",
    "certainty_table",
    "grade_certainty",
]

#: The tidy ``certainty_domains`` rows per graded claim, in this order.
DOMAINS = ("start", "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "large_effect",
           "dose_response")
#: GRADE optimal-information-size rule of thumb for continuous outcomes (total participants).
OIS_PARTICIPANTS = 400
VERY_SMALL_PARTICIPANTS = 100
SMALL_TRIAL = 100
#: |SMD| of a large effect, for rating up non-randomised evidence (GRADE handbook 5.2.1).
LARGE_EFFECT_SMD = 0.8
#: Risk-of-bias judgements that raise concerns; ``not_assessed`` is not assumed to be low risk.
CONCERNS = ("some_concerns", "high", "not_assessed")


def grading_inputs(trials: pd.DataFrame, claim_ids) -> pd.DataFrame:
    """Participant-weighted shares and counts per claim that the GRADE domains need (vectorised).

    Each trial weighs its number of participants (1 when not reported).

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial rows (``participants``, ``rob_overall``, ``directness``, ``randomised``,
        ``ms_population``, ``direction``, ``agreement``).
    claim_ids : sequence of str

    Returns
    -------
    pandas.DataFrame
        Indexed by ``claim_id``: ``k``, ``n`` (printed participants), ``share_high``,
        ``share_concerns``, ``share_direct``, ``share_randomised``, ``ms`` (any trial in people with
        MS), ``all_small``, ``benefit``, ``harm``, ``agree``, ``disagree``.
    """
    codes, names = pd.factorize(trials["claim_id"])
    return grading_inputs_by_code(trials, codes, names).reindex(pd.Index(list(claim_ids), name="claim_id"))


def grading_inputs_by_code(trials: pd.DataFrame, codes: np.ndarray, names, rows: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`grading_inputs` for claims given as integer codes, one row per name (claims with no rows dropped).

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial rows (the columns :func:`grading_inputs` reads).
    codes : numpy.ndarray of int
        Per row: the position of its claim in ``names``.
    names : sequence of str
        Claim ids by code.
    rows : numpy.ndarray of bool, optional
        Use only these rows (all when omitted); spares copying a filtered table.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``claim_id`` (the named claims with at least one row, in code order): the
        columns of :func:`grading_inputs`.
    """
    n_claims = len(names)
    if rows is not None:
        # Rows left out go to one extra bin, dropped below.
        codes = np.where(rows, codes, n_claims)

    def total(values) -> np.ndarray:
        return np.bincount(codes, weights=values, minlength=n_claims + 1)[:n_claims]

    n = trials["participants"].astype("float64").to_numpy()
    n0 = np.nan_to_num(n)
    w = np.clip(np.nan_to_num(n, nan=1.0), 1.0, None)
    k = total(None).astype(np.int64)
    g = pd.DataFrame({
        "k": k,
        "n": total(n0),
        "w": total(w),
        "w_high": total(w * matches(trials["rob_overall"], "high")),
        "w_concerns": total(w * trials["rob_overall"].isin(CONCERNS).to_numpy()),
        "w_direct": total(w * matches(trials["directness"], "direct")),
        "w_randomised": total(w * trials["randomised"].to_numpy(dtype=bool)),
        "ms": total(trials["ms_population"].to_numpy(dtype=bool)) > 0,
        "all_small": total(n0 < SMALL_TRIAL) == k,
        "benefit": total(matches(trials["direction"], "benefit")).astype(np.int64),
        "harm": total(matches(trials["direction"], "harm")).astype(np.int64),
        "agree": total(matches(trials["agreement"], "agrees")).astype(np.int64),
        "disagree": total(matches(trials["agreement"], "disagrees")).astype(np.int64),
    }, index=pd.Index(names, name="claim_id"))
    g = g.loc[k > 0]
    for part in ("high", "concerns", "direct", "randomised"):
        g[f"share_{part}"] = g[f"w_{part}"] / g["w"]
    return g.drop(columns=["w", "w_high", "w_concerns", "w_direct", "w_randomised"])


def grade_claim(r: dict, background: bool = False, carrier: dict | None = None,
                statement_carried: bool = False) -> tuple[int, list[tuple[str, int, str]]]:
    """GRADE domains for one claim: the starting level and ``(domain, change, reason)`` per domain.

    Parameters
    ----------
    r : dict
        One row of :func:`grading_inputs`.
    background : bool
        The claim is about the condition itself (a prevalence or prognosis question).
    carrier : dict, optional
        The effect estimate carrying the verdict (``source``, ``scale``, ``estimate``, ``ci_low``,
        ``ci_high``, ``i2``), if any.
    statement_carried : bool
        The verdict rests on authoritative statements (guidelines, societies' or consensus
        statements), whose precision cannot be judged from a count of participants.

    Returns
    -------
    start : int
        4 (high) or 2 (low).
    rows : list of tuple
        The ``start`` row (change 0; its reason names the level) then one row per domain of :data:`DOMAINS`.
    """
    rows = []
    if background:
        start = 4
        rows.append(("start", 0, "High: evidence about the condition itself; for prevalence and prognosis questions GRADE starts observational evidence high."))
    elif r["share_randomised"] >= 0.5:
        start = 4
        rows.append(("start", 0, f"High: randomised trials carry {r['share_randomised']:.0%} of participants."))
    else:
        start = 2
        rows.append(("start", 0, f"Low: randomised trials carry {r['share_randomised']:.0%} of participants; the rest is non-randomised."))

    if r["share_high"] >= 0.5:
        rows.append(("risk_of_bias", -2, f"Very serious: {r['share_high']:.0%} of participants in studies at high risk of bias."))
    elif r["share_concerns"] >= 0.5:
        rows.append(("risk_of_bias", -1, f"Serious: {r['share_concerns']:.0%} of participants in studies with some concerns, high risk or no assessment."))
    else:
        rows.append(("risk_of_bias", 0, "Not serious: most participants in studies at low risk of bias."))

    i2 = carrier.get("i2", np.nan) if carrier else np.nan
    for_against = (r["agree"], r["disagree"]) if background else (r["benefit"], r["harm"])
    if not pd.isna(i2):
        change = -1 if i2 >= 50 else 0
        rows.append(("inconsistency", change, f"{'Serious' if change else 'Not serious'}: pooled I^2 = {i2:.0f}%."))
    elif for_against[0] > 0 and for_against[1] > 0:
        rows.append(("inconsistency", -1, f"Serious: results point both ways ({for_against[0]} one way, {for_against[1]} the other)."))
    else:
        rows.append(("inconsistency", 0, "Not serious: no result points the other way."))

    if not r["ms"]:
        rows.append(("indirectness", -2, "Very serious: no study in people with MS."))
    elif r["share_direct"] < 0.5:
        rows.append(("indirectness", -1, f"Serious: only {r['share_direct']:.0%} of participants from direct evidence."))
    else:
        rows.append(("indirectness", 0, f"Not serious: {r['share_direct']:.0%} of participants from direct evidence."))

    crosses = bool(carrier) and carrier["ci_low"] < 0 < carrier["ci_high"]
    if statement_carried:
        rows.append(("imprecision", 0, "Not rated: the verdict rests on statements of authoritative bodies, not on a sample."))
    elif r["n"] < VERY_SMALL_PARTICIPANTS:
        rows.append(("imprecision", -2, f"Very serious: {r['n']:.0f} participants in all."))
    elif r["n"] < OIS_PARTICIPANTS:
        rows.append(("imprecision", -1, f"Serious: {r['n']:.0f} participants, below the optimal information size of {OIS_PARTICIPANTS}."))
    elif crosses:
        rows.append(("imprecision", -1, "Serious: the CI of the estimate includes no effect."))
    else:
        rows.append(("imprecision", 0, f"Not serious: {r['n']:.0f} participants."))

    if not background and r["k"] >= 2 and r["all_small"] and r["benefit"] == r["k"]:
        rows.append(("publication_bias", -1, f"Suspected: only small studies (< {SMALL_TRIAL} participants), all favourable."))
    else:
        rows.append(("publication_bias", 0, "Not suspected (cannot be tested formally with fewer than 10 studies)."))

    rated_down = any(change < 0 for _, change, _ in rows)
    large = (bool(carrier) and carrier["scale"] == "smd" and abs(carrier["estimate"]) >= LARGE_EFFECT_SMD
             and (carrier["ci_low"] > 0 or carrier["ci_high"] < 0))
    if start == 2 and large and not rated_down:
        rows.append(("large_effect", 1, f"Rated up: large effect (|g| >= {LARGE_EFFECT_SMD}) with no reason to rate down."))
    else:
        rows.append(("large_effect", 0, "Not rated up: no large effect in non-randomised evidence free of other concerns."))
    rows.append(("dose_response", 0, "Not assessed: doses are not recorded in the data."))
    return start, rows


def certainty_table(trials: pd.DataFrame, claims: pd.DataFrame, carriers: pd.DataFrame | None = None,
                    statement_carried: set | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GRADE certainty for every claim that has a body of evidence.

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial rows each claim's certainty rests on (claims absent here are not graded).
    claims : pandas.DataFrame
        ``claim_id`` and ``claim_type`` of the claims to grade.
    carriers : pandas.DataFrame, optional
        Indexed by ``claim_id``: the estimate carrying the verdict (``scale``, ``estimate``,
        ``ci_low``, ``ci_high``, ``i2``).
    statement_carried : set of str, optional
        Claims whose verdict rests on authoritative statements.

    Returns
    -------
    certainty : pandas.DataFrame
        Indexed by ``claim_id`` (graded claims only): ``certainty`` and ``reasons`` (list).
    domains : pandas.DataFrame
        Tidy ``claim_id``, ``domain``, ``change``, ``reason``.
    """
    graded = claims.loc[claims["claim_id"].isin(set(trials["claim_id"]))]
    return certainty_from_inputs(grading_inputs(trials, graded["claim_id"]), graded, carriers, statement_carried)


def certainty_from_inputs(inputs: pd.DataFrame, graded: pd.DataFrame, carriers: pd.DataFrame | None = None,
                          statement_carried: set | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`certainty_table` from grading inputs already made (:func:`grading_inputs`).

    Parameters
    ----------
    inputs : pandas.DataFrame
        Indexed by ``claim_id``, a row for every claim of ``graded``.
    graded : pandas.DataFrame
        ``claim_id`` and ``claim_type`` of the claims to grade, in output order.
    carriers, statement_carried
        As for :func:`certainty_table`.

    Returns
    -------
    certainty, domains : pandas.DataFrame
        As :func:`certainty_table`.
    """
    inputs = inputs.to_dict("index")
    carrier_of = carriers.to_dict("index") if carriers is not None and not carriers.empty else {}
    statement_carried = statement_carried or set()
    certainty, tidy = {}, []
    for claim_id, claim_type in zip(graded["claim_id"], graded["claim_type"]):
        start, rows = grade_claim(inputs[claim_id], claim_type == "background", carrier_of.get(claim_id), claim_id in statement_carried)
        level = min(4, max(1, start + sum(change for _, change, _ in rows)))
        certainty[claim_id] = (CERTAINTY_LEVELS[4 - level],
                               [f"{domain.replace('_', ' ').capitalize()} ({change:+d}): {reason}" if domain != "start" else f"Start: {reason}"
                                for domain, change, reason in rows if domain == "start" or change != 0])
        tidy.extend((claim_id, domain, change, reason) for domain, change, reason in rows)
    table = pd.DataFrame.from_dict(certainty, orient="index", columns=["certainty", "reasons"]).rename_axis("claim_id")
    domains = pd.DataFrame(tidy, columns=["claim_id", "domain", "change", "reason"]).astype({"change": "int64"})
    return table, domains


def grade_certainty(trials: pd.DataFrame, carrier: dict | None = None, background: bool = False) -> tuple[str, list[str]]:
    """GRADE certainty of the evidence for one claim (see :func:`certainty_table`).

    Parameters
    ----------
    trials : pandas.DataFrame
        Claim x trial rows for one claim (``claim_id`` need not be set).
    carrier : dict, optional
        The estimate carrying the verdict (keys ``scale``, ``estimate``, ``ci_low``, ``ci_high``, ``i2``).
    background : bool
        The claim is about the condition itself.

    Returns
    -------
    certainty : str or None
        None when there are no trials (no body of evidence, no rating).
    reasons : list of str
    """
    if trials.empty:
        return None, []
    t = trials.assign(claim_id="claim")
    claims = pd.DataFrame({"claim_id": ["claim"], "claim_type": ["background" if background else "benefit"]})
    carriers = pd.DataFrame([carrier], index=pd.Index(["claim"], name="claim_id")) if carrier else None
    table, _ = certainty_table(t, claims, carriers)
    return table.loc["claim", "certainty"], table.loc["claim", "reasons"]
