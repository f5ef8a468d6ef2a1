"""Effect sizes computed from reported numbers, and random-effects pooling.

Hedges' g comes from statsmodels (``effectsize_smd``). Pooling follows statsmodels'
``combine_effects`` but clamps the between-study variance at zero, which its ``dl`` estimator
does not do (negative tau^2 gives negative I^2 and NaN standard errors on homogeneous data).
:func:`pool_groups` does the same computation for many outcome groups at once, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects, effectsize_smd

__all__ = [
    "smd_from_outcomes",
    "PoolResult",
    "pool_random_effects",
    "pool_groups",
    "leave_one_out",
]

METHODS = ("dl", "pm")


def smd_from_outcomes(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Compute Hedges' g (benefit positive) for outcome rows with two-arm means, SDs and Ns.

    Only between-group rows with all six numbers and a known ``higher_is_better`` qualify.
    The sign is flipped where lower scores are better, so a positive g always favours the
    intervention. An arm of fewer than 2 participants has no SD to speak of: like R metafor's
    ``escalc``, such a row gets NA for g and its variance.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Outcomes table (see :func:`evidence_review.studies.load_outcomes`).

    Returns
    -------
    pandas.DataFrame
        ``outcome_id``, ``g``, ``var_g``, ``se_g``, ``ci_low_g``, ``ci_high_g`` for each
        qualifying row, indexed like the input rows (empty frame when none qualify).
    """
    cols = ["n_int", "mean_int", "sd_int", "n_ctl", "mean_ctl", "sd_ctl"]
    numbers = outcomes[cols].astype("float64")
    ok = (
        (outcomes["basis"] == "between_group")
        & numbers.notna().all(axis=1)
        & outcomes["higher_is_better"].notna()
    ).to_numpy()
    sub = outcomes.loc[ok]
    out_cols = ["outcome_id", "g", "var_g", "se_g", "ci_low_g", "ci_high_g"]
    if sub.empty:
        return pd.DataFrame(columns=out_cols)
    x = numbers.loc[ok].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        g, var = effectsize_smd(x[:, 1], x[:, 2], x[:, 0], x[:, 4], x[:, 5], x[:, 3])
    sign = np.where(sub["higher_is_better"].astype(bool).to_numpy(), 1.0, -1.0)
    too_small = (x[:, 0] < 2) | (x[:, 3] < 2)
    g = np.where(too_small, np.nan, np.asarray(g) * sign)
    var = np.where(too_small, np.nan, np.asarray(var))
    se = np.sqrt(var)
    z = stats.norm.isf(0.025)
    return pd.DataFrame(
        {
            "outcome_id": sub["outcome_id"].to_numpy(),
            "g": g,
            "var_g": var,
            "se_g": se,
            "ci_low_g": g - z * se,
            "ci_high_g": g + z * se,
        },
        index=sub.index,
    )


@dataclass(frozen=True)
class PoolResult:
    """Result of one random-effects meta-analysis.

    Attributes
    ----------
    estimate, se, ci_low, ci_high : float
        Random-effects pooled estimate, its standard error and confidence interval.
    pi_low, pi_high : float
        95% prediction interval (NaN with fewer than 3 studies).
    tau2, i2, q : float
        Between-study variance (clamped at 0), I^2 in percent (clamped at 0) and Cochran's Q.
    k : int
        Number of studies.
    method : str
        ``"dl"`` (DerSimonian-Laird) or ``"pm"`` (Paule-Mandel).
    labels : tuple of str
        Study labels, for the summary and forest plot.
    effects, variances : numpy.ndarray
        The inputs.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    q: float
    k: int
    method: str
    labels: tuple
    effects: np.ndarray
    variances: np.ndarray
    alpha: float = 0.05

    @property
    def weights(self) -> np.ndarray:
        """Relative random-effects weights (sum to 1)."""
        w = 1.0 / (self.variances + self.tau2)
        return w / w.sum()

    def summary_frame(self) -> pd.DataFrame:
        """Per-study effects with CIs and weights, plus the pooled row, like statsmodels.

        Returns
        -------
        pandas.DataFrame
            Indexed by study label and ``"random effect"``.
        """
        z = stats.norm.isf(self.alpha / 2)
        se = np.sqrt(self.variances)
        frame = pd.DataFrame(
            {
                "eff": self.effects,
                "sd_eff": se,
                "ci_low": self.effects - z * se,
                "ci_upp": self.effects + z * se,
                "w_re": self.weights,
            },
            index=list(self.labels),
        )
        frame.loc["random effect"] = [self.estimate, self.se, self.ci_low, self.ci_high, 1.0]
        return frame


def _pool_arrays(eff, var, method: str, alpha: float):
    """Core random-effects computation on 2-D arrays (groups x studies, NaN-padded)."""
    valid = ~np.isnan(eff)
    k = valid.sum(axis=1)
    e = np.where(valid, eff, 0.0)
    v = np.where(valid, var, 1.0)
    w = np.where(valid, 1.0 / v, 0.0)
    sw = w.sum(axis=1)
    fe = (w * e).sum(axis=1) / sw
    q = (w * (e - fe[:, None]) ** 2).sum(axis=1)
    df = k - 1
    if method == "dl":
        c = sw - (w**2).sum(axis=1) / sw
        with np.errstate(divide="ignore", invalid="ignore"):
            tau2 = np.where(c > 0, (q - df) / c, 0.0)
    else:
        tau2 = np.zeros(len(k))
        for i in np.flatnonzero(k > 1):
            row = valid[i]
            res = combine_effects(eff[i, row], var[i, row], method_re="pm")
            tau2[i] = res.tau2
    tau2 = np.maximum(tau2, 0.0)
    wr = np.where(valid, 1.0 / (v + tau2[:, None]), 0.0)
    swr = wr.sum(axis=1)
    est = (wr * e).sum(axis=1) / swr
    se = np.sqrt(1.0 / swr)
    z = stats.norm.isf(alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        i2 = np.where(q > 0, np.maximum((q - df) / q, 0.0) * 100.0, 0.0)
    t = np.where(k >= 3, stats.t.isf(alpha / 2, np.maximum(k - 2, 1)), np.nan)
    half_pi = t * np.sqrt(tau2 + se**2)
    return {
        "k": k,
        "estimate": est,
        "se": se,
        "ci_low": est - z * se,
        "ci_high": est + z * se,
        "pi_low": est - half_pi,
        "pi_high": est + half_pi,
        "tau2": tau2,
        "i2": i2,
        "q": q,
    }


def pool_random_effects(effects, variances, labels=None, method: str = "dl", alpha: float = 0.05) -> PoolResult:
    """Random-effects meta-analysis of one set of studies.

    Parameters
    ----------
    effects, variances : array_like
        Study effect sizes and their variances (pass arrays, not Series).
    labels : sequence of str, optional
        Study labels.
    method : {"dl", "pm"}
        Between-study variance estimator: DerSimonian-Laird or Paule-Mandel. Either way tau^2
        is clamped at zero.
    alpha : float
        1 - confidence level.

    Returns
    -------
    PoolResult

    Raises
    ------
    ValueError
        With fewer than two studies, non-positive variances or an unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    eff = np.asarray(effects, dtype=float)
    var = np.asarray(variances, dtype=float)
    if eff.ndim != 1 or eff.shape != var.shape:
        raise ValueError("effects and variances must be 1-D arrays of the same length")
    if len(eff) < 2:
        raise ValueError("pooling needs at least two studies")
    if not (np.isfinite(eff).all() and np.isfinite(var).all() and (var > 0).all()):
        raise ValueError("effects must be finite and variances positive")
    r = _pool_arrays(eff[None, :], var[None, :], method, alpha)
    labels = tuple(labels) if labels is not None else tuple(str(i + 1) for i in range(len(eff)))
    return PoolResult(
        **{key: (int(val[0]) if key == "k" else float(val[0])) for key, val in r.items()},
        method=method,
        labels=labels,
        effects=eff,
        variances=var,
        alpha=alpha,
    )


def pool_groups(
    frame: pd.DataFrame,
    by: str | list[str],
    effect: str = "g",
    variance: str = "var_g",
    method: str = "dl",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Pool many outcome groups at once (vectorised random effects).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per study effect.
    by : str or list of str
        Grouping column(s); each group is pooled separately.
    effect, variance : str
        Columns holding the effect sizes and their variances.
    method : {"dl", "pm"}
        Estimator of tau^2 (clamped at zero). ``"pm"`` loops over groups.
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per group with ``k``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``pi_low``,
        ``pi_high``, ``tau2``, ``i2`` and ``q``. Groups with one study are left out.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    by = [by] if isinstance(by, str) else list(by)
    data = frame[by + [effect, variance]].dropna(subset=[effect, variance])
    codes, uniques = pd.MultiIndex.from_frame(data[by]).factorize()
    order = np.argsort(codes, kind="stable")
    codes_sorted = codes[order]
    counts = np.bincount(codes_sorted, minlength=len(uniques))
    width = int(counts.max()) if len(counts) else 0
    position = np.arange(len(codes_sorted)) - np.repeat(np.cumsum(counts) - counts, counts)
    eff = np.full((len(uniques), width), np.nan)
    var = np.full((len(uniques), width), np.nan)
    eff[codes_sorted, position] = data[effect].to_numpy(dtype=float)[order]
    var[codes_sorted, position] = data[variance].to_numpy(dtype=float)[order]
    keep = counts >= 2
    result = _pool_arrays(eff[keep], var[keep], method, alpha)
    out = pd.DataFrame(result)
    keys = uniques[keep].to_frame(index=False, name=by) if len(by) > 1 else pd.DataFrame({by[0]: uniques[keep].get_level_values(0)})
    return pd.concat([keys.reset_index(drop=True), out], axis=1)


def leave_one_out(result: PoolResult) -> pd.DataFrame:
    """Re-pool leaving out each study in turn (sensitivity analysis).

    Parameters
    ----------
    result : PoolResult
        The full analysis (needs at least three studies).

    Returns
    -------
    pandas.DataFrame
        One row per omitted study: ``omitted``, ``estimate``, ``ci_low``, ``ci_high``, ``i2``.
    """
    rows = []
    if result.k < 3:
        return pd.DataFrame(columns=["omitted", "estimate", "ci_low", "ci_high", "i2"])
    for i, label in enumerate(result.labels):
        keep = np.arange(result.k) != i
        r = pool_random_effects(result.effects[keep], result.variances[keep], method=result.method, alpha=result.alpha)
        rows.append({"omitted": label, "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "i2": r.i2})
    return pd.DataFrame(rows)
