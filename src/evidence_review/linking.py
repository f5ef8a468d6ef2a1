"""Stage 1, linking: which results and which authoritative statements bear on which claim.

Rules in ``docs/methods.md`` section 1. Every function is pure and unit-tested on constructed inputs.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .background import STATEMENT_TYPES
from .claims import explode_domains
from .vocab import CONTROLLED_DESIGNS, RANDOMISED_DESIGNS

__all__ = ["study_label", "link_claims", "link_background", "rationales", "agreement", "agreement_of_codes", "vocabulary_codes", "matches",
           "is_statement", "frame_of", "DIRECTION_CODES"]

#: Study ids of the form surname + year (+ a/b), the ones that make a readable label.
_LABEL_ID = re.compile(r"([a-z]+)(\d{4}[a-z]?)")

_DESIGN_LABEL = {
    "rct": "RCT",
    "crossover_rct": "crossover RCT",
    "non_randomised_controlled": "non-randomised controlled study",
    "pre_post": "before-after study",
    "cohort": "cohort study",
    "cross_sectional": "survey",
    "case_series": "case report/series",
    "narrative_review": "narrative review",
    "systematic_review": "systematic review",
    "guideline": "guideline",
    "society_statement": "society statement",
    "registry": "registry",
    "survey": "survey",
    "consensus_statement": "consensus statement",
}
#: What a result of an intervention study says, by its direction.
_INTERVENTION_TEXT = {
    "benefit": "favoured the intervention",
    "no_difference": "no difference",
    "harm": "worse with the intervention",
    "unclear": "direction unclear",
}
#: What an association in people with the condition says about a background claim.
_AGREEMENT_TEXT = {
    "agrees": "association in people with the condition agrees with the claim",
    "disagrees": "association in people with the condition disagrees with the claim",
    "no direction": "no association found",
    "unclear": "does not settle the point",
}


def study_label(study_id: str) -> str:
    """Readable label for a study: ``negahban2013`` becomes ``Negahban 2013``.

    Parameters
    ----------
    study_id : str
        A study id; ids not of the form surname+year are returned unchanged.

    Returns
    -------
    str
    """
    m = _LABEL_ID.fullmatch(study_id)
    return f"{m.group(1).capitalize()} {m.group(2)}" if m else study_id


def agreement(direction: pd.Series, expected: pd.Series, statement: pd.Series) -> pd.Series:
    """Whether each result agrees with the claim it is linked to (methods section 3).

    A study result coded ``no_difference`` has no direction (it is usually "not significant") and
    counts neither way, unless the claim itself expects no difference. An authoritative statement
    coded ``no_difference`` is a finding ("nothing changes it"): it agrees with a claim expecting
    no difference and disagrees with one expecting a direction.

    Parameters
    ----------
    direction, expected : pandas.Series
        The result's direction and the claim's expected direction.
    statement : pandas.Series of bool
        True for rows of authoritative background evidence.

    Returns
    -------
    pandas.Series
        ``agrees``, ``disagrees``, ``no direction`` or ``unclear``.
    """
    codes = agreement_of_codes(vocabulary_codes(direction, DIRECTION_CODES), vocabulary_codes(expected, DIRECTION_CODES), statement.to_numpy(dtype=bool))
    return pd.Series(codes, index=direction.index, dtype=object)


#: Direction vocabulary in code order (codes index into it; -1 for anything else).
DIRECTION_CODES = ("benefit", "no_difference", "harm", "unclear")
_AGREEMENT_WORDS = np.array(["agrees", "disagrees", "no direction", "unclear"], dtype=object)


def vocabulary_codes(values: pd.Series, vocabulary) -> np.ndarray:
    """Position of each value in a small vocabulary (-1 when absent), without hashing every string.

    Parameters
    ----------
    values : pandas.Series
    vocabulary : sequence of str

    Returns
    -------
    numpy.ndarray of int8
    """
    arr = values.to_numpy(dtype=object)
    out = np.full(len(arr), -1, dtype=np.int8)
    for i, word in enumerate(vocabulary):
        out[arr == word] = i
    return out


def matches(column: pd.Series, word: str) -> np.ndarray:
    """Which values of a text column equal ``word``, as a NumPy bool array.

    Compares the object array directly, a third of what a pandas comparison costs on millions of
    rows; a column holding ``pandas.NA`` (which has no truth value) goes through pandas and counts
    as not equal.

    Parameters
    ----------
    column : pandas.Series
    word : str

    Returns
    -------
    numpy.ndarray of bool
    """
    try:
        return np.asarray(column.to_numpy(dtype=object) == word, dtype=bool)
    except TypeError:
        return (column == word).fillna(False).to_numpy(dtype=bool)


def agreement_of_codes(d: np.ndarray, e: np.ndarray, statement: np.ndarray) -> np.ndarray:
    """:func:`agreement` on directions given as positions in :data:`DIRECTION_CODES`.

    Parameters
    ----------
    d, e : numpy.ndarray of int
        The result's direction and the claim's expected direction (-1 for anything else).
    statement : numpy.ndarray of bool
        True for rows of authoritative background evidence.

    Returns
    -------
    numpy.ndarray of object
        ``agrees``, ``disagrees``, ``no direction`` or ``unclear`` (shared strings).
    """
    benefit, no_difference, harm, unclear = range(4)
    signed = (d == benefit) | (d == harm)
    code = np.where(d == e, 0, np.where(signed, 1, 2))
    # A no-difference finding of an authoritative source is a finding, not a missing direction.
    code = np.where(statement & (d == no_difference) & (e != no_difference), 1, code)
    code = np.where(d == unclear, 3, code)
    return _AGREEMENT_WORDS[code]


def frame_of(columns: dict, n_rows: int) -> pd.DataFrame:
    """A DataFrame of the given arrays, each kept as its own column without copying.

    Text stays in object arrays (pandas would otherwise re-infer a string type, copying every
    value), and columns are added one by one, which spares pandas stacking them into one block.

    Parameters
    ----------
    columns : dict of str to array
    n_rows : int

    Returns
    -------
    pandas.DataFrame
    """
    frame = pd.DataFrame(index=pd.RangeIndex(n_rows))
    for name, values in columns.items():
        if getattr(values, "dtype", None) == object:
            frame[name] = pd.Series(values, dtype=object, copy=False)
        elif isinstance(values, np.ndarray):
            # Assigning a bare array copies it; a Series wrapping it is taken as it is.
            frame[name] = pd.Series(values, copy=False)
        else:
            frame[name] = values
    return frame


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct integers of ``values``, ascending (what ``numpy.unique`` returns).

    NumPy 2.3+ finds unique values by hashing before it sorts them, several times slower than
    one sort for millions of integer keys; sorting and keeping each run's first value is not.

    Parameters
    ----------
    values : numpy.ndarray of int

    Returns
    -------
    numpy.ndarray
    """
    s = np.sort(values, kind="stable")
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


#: Columns of identifiers, nearly one value per row: gathered as they are, not shared (see :func:`_gather`).
_IDENTIFIERS = ("outcome_id", "study_id", "trial_group")


def _distinct_text(column: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """A text column as codes into its distinct values (``pandas.factorize``); None unless every value is a string.

    Only strings: factorising would merge values such as 1, 1.0 and True, and missing values of
    different kinds (None, NaN, NA).
    """
    if not (pd.api.types.is_string_dtype(column.dtype) or column.dtype == object):
        return None
    values = column.to_numpy(dtype=object)
    if column.dtype == object and pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    codes, uniques = pd.factorize(values)
    if len(codes) and codes.min() < 0:
        return None
    return codes, np.asarray(uniques, dtype=object)


def _gather(column, index: np.ndarray, shared: bool = True, distinct: tuple[np.ndarray, np.ndarray] | None = None):
    """The column's values at ``index`` as a NumPy array (object for text, so pandas does not re-infer it).

    Text is gathered through its distinct values (``shared``; ``distinct`` when already made by
    :func:`_distinct_text`), so that each distinct value is one Python object however many links
    repeat it. A table read from a file holds one object per row even for a column of four words;
    millions of links pointing at scattered copies would make every later comparison, hash and
    copy of the column miss the CPU cache. Identifiers, with nearly one value per row, gain
    nothing from it and are gathered directly (``shared=False``), as is any column with missing
    values or with values other than strings (see :func:`_distinct_text`).
    """
    if isinstance(column, (np.ndarray, pd.api.extensions.ExtensionArray)):
        return column[index]
    if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
        distinct = distinct if distinct is not None else _distinct_text(column) if shared else None
        if distinct is not None:
            codes, values = distinct
            return values[codes[index]]
        return column.to_numpy(dtype=object)[index]
    return column.array.take(index) if isinstance(column.array, pd.api.extensions.ExtensionArray) else column.to_numpy()[index]


def _row_codes(column: pd.Series, vocabulary, distinct: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """:func:`vocabulary_codes` of a column, looked up once per distinct value where they are known."""
    if distinct is None:
        return vocabulary_codes(column, vocabulary)
    codes, values = distinct
    return vocabulary_codes(pd.Series(values, dtype=object), vocabulary)[codes]


def _indirect_reasons(study_reason: np.ndarray, study_idx: np.ndarray, pair_domain: pd.Series, pair_proxy: pd.Series,
                      pair_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Why each link is indirect ("" when direct), and whether it is, built per distinct reason.

    Parameters
    ----------
    study_reason : numpy.ndarray of str
        Per study: "" or why its evidence is indirect.
    study_idx : numpy.ndarray of int
        Per link: the study's position in ``study_reason``.
    pair_domain, pair_proxy : pandas.Series
        Per claim-domain pair: the domain and whether the claim names it only as a proxy.
    pair_idx : numpy.ndarray of int
        Per link: the position of its claim-domain pair.

    Returns
    -------
    reason : numpy.ndarray of object
        Per link: the study's reason and, for a proxy domain, "<domain> is a proxy for the named
        outcome", joined by "; ".
    indirect : numpy.ndarray of bool
        Per link: ``reason != ""``.
    """
    # A link's text depends only on (study reason, pair): the strings are made once per distinct
    # combination and shared by reference, not rebuilt for each of millions of links.
    reason_code, reason_words = pd.factorize(np.asarray(study_reason, dtype=object))
    reason_words = np.asarray(reason_words, dtype=object)
    code = reason_code[study_idx]
    reason = reason_words[code]
    indirect = (reason_words != "")[code]
    width = max(len(reason_words), 1)
    proxy = pair_proxy.to_numpy(dtype=bool)[pair_idx]
    if proxy.any():
        key = pair_idx[proxy].astype(np.int64) * width + code[proxy]
        at, combos = pd.factorize(key)
        base = reason_words[combos % width]
        proxy_text = pair_domain.to_numpy(dtype=object)[combos // width].astype(str).astype(object) + " is a proxy for the named outcome"
        text = np.where(base == "", proxy_text, base + "; " + proxy_text)
        reason[proxy] = text[at]
        indirect |= proxy
    return reason, indirect


def link_claims(
    claims: pd.DataFrame, outcomes: pd.DataFrame, studies: pd.DataFrame, rationale: bool = True
) -> pd.DataFrame:
    """Link each claim to every outcome row in one of its outcome domains.

    Claims about the condition itself (``background``) link only to observational studies
    (``intervention == "no_intervention"``); all other claims link only to studies of an
    intervention. Systematic reviews are shown beside the synthesis, not linked, so that their
    primary studies are not counted twice.

    Parameters
    ----------
    claims, outcomes, studies : pandas.DataFrame
        The validated tables.
    rationale : bool
        Also write the one-sentence ``rationale`` per link (presentation; skip it for speed).

    Returns
    -------
    pandas.DataFrame
        One row per claim x outcome with study characteristics, ``proxy_outcome`` (marked ``~``
        in the claims file), ``ms_population``, ``controlled``, ``randomised``, ``directness``
        (``direct`` or ``indirect``), ``indirect_reason``, ``agreement``, ``evidence_kind``
        (``study``), integer keys ``_claim_rank``, ``_study_rank``, ``_trial_rank`` (sorted order)
        ``_outcome_row`` (row of the outcomes table) and ``_direction_code`` (position in
        :data:`DIRECTION_CODES`) and, if asked, ``rationale``. Ordered by
        claim (claims-table order), domain, then the outcome's row in the file.
    """
    pairs = explode_domains(claims.loc[claims["testable"]])
    # Study columns a link needs; the rest (condition, sample sizes, reasons) is summed up in
    # ms_population, participants and indirect_reason, or one join away by study_id.
    study_cols = ["study_id", "design", "intervention", "comparator", "trial_group", "rob_overall"]
    # Everything per study and per claim is computed on the small tables; the (large) claim x
    # outcome join is done on integer codes, and each column is gathered once at the end.
    st = studies.loc[studies["design"] != "systematic_review"].sort_values("study_id", kind="stable").reset_index(drop=True)
    observational = (st["intervention"] == "no_intervention").to_numpy()
    ms_study = (st["condition"] == "ms").to_numpy()
    indirect_study = (st["directness"] == "indirect").to_numpy()
    study_reason = np.where(~ms_study, "not people with MS",
                            np.where(indirect_study, st["directness_reason"].fillna("indirect intervention").astype(str), ""))
    cl = claims.set_index("claim_id").loc[pairs["claim_id"], ["claim_type", "expected_direction"]]
    pair_background = (cl["claim_type"] == "background").to_numpy()
    claim_rank = pd.Index(np.sort(pairs["claim_id"].unique())).get_indexer(pairs["claim_id"])

    domain_codes, domain_names = pd.factorize(outcomes["outcome_domain"])
    study_of_outcome = pd.Index(st["study_id"]).get_indexer(outcomes["study_id"])
    pair_domain = pd.Index(domain_names).get_indexer(pairs["outcome_domain"])
    by_domain = np.argsort(domain_codes, kind="stable")
    # A trailing empty domain stands for the claims' domains no outcome reports (index -1).
    per_domain = np.append(np.bincount(domain_codes, minlength=len(domain_names)), 0)
    first = np.concatenate([[0], np.cumsum(per_domain)[:-1]]).astype(np.int64)
    n_per_pair = per_domain[pair_domain]
    pair_idx = np.repeat(np.arange(len(pairs)), n_per_pair)
    offset = np.arange(len(pair_idx)) - np.repeat(np.cumsum(n_per_pair) - n_per_pair, n_per_pair)
    # Positions in the outcomes sorted by domain: each claim-domain pair reads one contiguous slice,
    # so gathering the columns walks memory in order (the cost that grew faster than the data).
    pos = np.repeat(first[pair_domain], n_per_pair) + offset
    study_idx = study_of_outcome[by_domain][pos]
    keep = study_idx >= 0
    keep[keep] = pair_background[pair_idx[keep]] == observational[study_idx[keep]]
    pair_idx, pos, study_idx = pair_idx[keep], pos[keep], study_idx[keep]
    out_idx = by_domain[pos]

    columns = {
        "claim_id": pairs["claim_id"].to_numpy(dtype=object)[pair_idx],
        "outcome_domain": pairs["outcome_domain"].to_numpy(dtype=object)[pair_idx],
        "proxy_outcome": pairs["proxy_outcome"].to_numpy(dtype=bool)[pair_idx],
        "claim_type": cl["claim_type"].to_numpy(dtype=object)[pair_idx],
        "expected_direction": cl["expected_direction"].to_numpy(dtype=object)[pair_idx],
    }
    # Free text and the arms' numbers stay one join away (by outcome_id) in the outcomes table.
    dropped = {"notes", "source_url", "timepoint", "outcome_domain", "study_id", "n_int", "mean_int", "sd_int", "n_ctl",
               "mean_ctl", "sd_ctl", "effect", "ci_low", "ci_high", "ci_level", "effect_measure", "value_type"}
    # Directions and bases are both gathered and coded: their distinct values are found once.
    distinct = {col: _distinct_text(outcomes[col]) for col in ("direction", "basis")}
    for col in outcomes.columns:
        if col not in dropped:
            columns[col] = _gather(outcomes[col], out_idx, shared=col not in _IDENTIFIERS, distinct=distinct.get(col))
    for col in study_cols:
        columns[col] = _gather(st[col], study_idx, shared=col not in _IDENTIFIERS)
    columns["participants"] = _gather(st["n_randomised"].fillna(st["n_analysed"]), study_idx)
    columns["ms_population"] = ms_study[study_idx]
    columns["randomised"] = st["design"].isin(RANDOMISED_DESIGNS).to_numpy()[study_idx]
    between = _row_codes(outcomes["basis"], ("between_group",), distinct["basis"])[out_idx] == 0
    columns["controlled"] = st["design"].isin(CONTROLLED_DESIGNS).to_numpy()[study_idx] & between
    reason, indirect = _indirect_reasons(study_reason, study_idx, pairs["outcome_domain"], pairs["proxy_outcome"], pair_idx)
    columns["indirect_reason"] = reason
    columns["directness"] = np.array(["direct", "indirect"], dtype=object)[indirect.astype(np.int8)]
    direction = _row_codes(outcomes["direction"], DIRECTION_CODES, distinct["direction"])[out_idx]
    expected = vocabulary_codes(cl["expected_direction"], DIRECTION_CODES)[pair_idx]
    columns["agreement"] = agreement_of_codes(direction, expected, np.zeros(len(direction), dtype=bool))
    # One shared word (np.full would make a new string per row).
    columns["evidence_kind"] = np.array(["study"], dtype=object)[np.zeros(len(pair_idx), dtype=np.intp)]
    merged = frame_of(columns, len(pair_idx))
    # Integer sort keys (claim, study, trial in sorted order) so later stages never hash strings again.
    trial_rank = pd.factorize(st["trial_group"], sort=True)[0]
    merged["_claim_rank"] = claim_rank[pair_idx].astype(np.int32)
    merged["_study_rank"] = study_idx.astype(np.int32)
    merged["_trial_rank"] = trial_rank[study_idx].astype(np.int32)
    merged["_outcome_row"] = out_idx.astype(np.int64, copy=False)
    merged["_direction_code"] = direction
    if rationale:
        merged["rationale"] = rationales(merged)
    return merged


def link_background(claims: pd.DataFrame, background: pd.DataFrame) -> pd.DataFrame:
    """Link background claims to authoritative evidence rows by outcome domain.

    Each row becomes one "source" that counts once, like a trial. A row is direct when it is
    about people with MS and its domain is one the claim names (not a proxy).

    Parameters
    ----------
    claims : pandas.DataFrame
        The claims table.
    background : pandas.DataFrame
        :func:`evidence_review.background.load_background` output.

    Returns
    -------
    pandas.DataFrame
        Columns shaped like :func:`link_claims` rows (``outcome_id``, ``study_id`` and
        ``trial_group`` are the ``evidence_id``; ``design`` is the ``source_type``;
        ``participants`` the printed ``n``; risk of bias ``not_assessed``), plus ``statement``,
        ``source_type`` and ``evidence_kind == "background_evidence"``.
    """
    cols = ["claim_id", "outcome_id", "study_id", "trial_group", "outcome_domain", "proxy_outcome", "claim_type",
            "expected_direction", "design", "source_type", "participants", "randomised", "controlled", "ms_population",
            "basis", "comparator", "rob_overall", "direction", "directness", "indirect_reason", "agreement",
            "evidence_kind", "statement", "instrument", "comparison", "p_value", "p_operator", "rationale"]
    bg_claims = claims.loc[claims["testable"] & (claims["claim_type"] == "background")]
    if background is None or background.empty or bg_claims.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    pairs = explode_domains(bg_claims).merge(bg_claims[["claim_id", "claim_type", "expected_direction"]], on="claim_id")
    rows = pairs.merge(background, on="outcome_domain")
    ms = (rows["condition"] == "ms").to_numpy()
    proxy = rows["proxy_outcome"].to_numpy(dtype=bool)
    reason = _join_nonempty([
        pd.Series(np.where(ms, "", "not people with MS")),
        pd.Series(np.where(proxy, rows["outcome_domain"].astype(str) + " is a proxy for the named outcome", "")),
    ], "; ").to_numpy()
    out = pd.DataFrame({
        "claim_id": rows["claim_id"].to_numpy(),
        "outcome_id": rows["evidence_id"].to_numpy(),
        "study_id": rows["evidence_id"].to_numpy(),
        "trial_group": rows["evidence_id"].to_numpy(),
        "outcome_domain": rows["outcome_domain"].to_numpy(),
        "proxy_outcome": proxy,
        "claim_type": rows["claim_type"].to_numpy(),
        "expected_direction": rows["expected_direction"].to_numpy(),
        "design": rows["source_type"].to_numpy(),
        "source_type": rows["source_type"].to_numpy(),
        "participants": rows["n"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
        "randomised": False,
        "controlled": False,
        "ms_population": ms,
        "basis": "statement",
        "comparator": "none",
        # Sources outside the study tables have no risk-of-bias judgement of their own.
        "rob_overall": "not_assessed",
        "direction": rows["direction"].to_numpy(),
        "directness": np.where(reason == "", "direct", "indirect"),
        "indirect_reason": reason,
        "evidence_kind": "background_evidence",
        "statement": rows["statement"].to_numpy(),
        "instrument": rows["measure"].astype(object).where(rows["measure"].notna(), rows["source_type"]).to_numpy(),
        "comparison": rows["population"].to_numpy(),
        "p_value": np.nan,
        "p_operator": None,
    })
    out["agreement"] = agreement(out["direction"], out["expected_direction"], pd.Series(True, index=out.index))
    who = (rows["organisation"].astype("string").fillna(rows["authors"].astype("string"))
           .fillna(rows["evidence_id"].astype("string")).astype(str))
    year = rows["year"].astype("Int64").astype(str).replace("<NA>", "")
    label = who + np.where(year != "", " " + year, "")
    out["rationale"] = (label + " (" + out["design"].map(_DESIGN_LABEL).fillna(out["design"]) + "): "
                        + out["statement"].astype(str) + " [" + out["agreement"].map(_AGREEMENT_TEXT) + "]").to_numpy()
    return out.sort_values(["claim_id", "outcome_id"], kind="stable").reset_index(drop=True)[cols]


def is_statement(source_type: pd.Series) -> pd.Series:
    """True for sources that state a synthesis of the evidence (guidelines, societies, consensus).

    Parameters
    ----------
    source_type : pandas.Series

    Returns
    -------
    pandas.Series of bool
    """
    return source_type.isin(STATEMENT_TYPES)


def _join_nonempty(parts: list[pd.Series], sep: str) -> pd.Series:
    out = parts[0].astype(str)
    for part in parts[1:]:
        part = part.astype(str)
        out = out + np.where((out != "") & (part != ""), sep, "") + part
    return out


def rationales(links: pd.DataFrame) -> pd.Series:
    """One sentence per link saying which study found what, e.g. "Negahban 2013, RCT, n=48: ...".

    Results linked to a background claim are worded as associations in people with the
    condition that agree or disagree with the claim, never as a benefit or harm of an intervention.

    Parameters
    ----------
    links : pandas.DataFrame
        :func:`link_claims` output.

    Returns
    -------
    pandas.Series
    """
    ids = links["study_id"].astype(str)
    parts = ids.str.extract(f"^{_LABEL_ID.pattern}$")
    label = (parts[0].str.capitalize() + " " + parts[1]).fillna(ids)
    n = links["participants"]
    n_text = pd.Series(np.where(n.notna(), ", n=" + n.astype("Float64").round().astype("Int64").astype(str), ""), index=links.index)
    p = links["p_value"]
    p_text = pd.Series(np.where(p.notna(), ", p" + links["p_operator"].fillna("=").astype(str) + p.map("{:g}".format), ""),
                       index=links.index)
    background = (links["claim_type"] == "background").to_numpy()
    finding = np.where(background, links["agreement"].map(_AGREEMENT_TEXT), links["direction"].map(_INTERVENTION_TEXT))
    basis = np.where(links["basis"] == "between_group", "between groups", np.where(background, "within the group", "before vs after"))
    return (
        label + ", " + links["design"].map(_DESIGN_LABEL).fillna(links["design"]) + n_text + ": "
        + links["instrument"].astype(str) + " (" + links["outcome_domain"] + ") "
        + finding + " (" + basis + "; " + links["comparison"].astype(str) + p_text + ")"
    )

