"""Effect sizes and random-effects pooling, against published reference values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects, effectsize_smd

from evidence_review.effects import leave_one_out, pool_groups, pool_random_effects, smd_from_outcomes

# Kacker (2004) example; DerSimonian-Laird results from R metafor 2.x as carried in statsmodels'
# test suite (statsmodels/stats/tests/results/results_meta.py, exk1_dl).
KACKER_EFF = np.array([61.00, 61.40, 62.21, 62.30, 62.34, 62.60, 62.70, 62.84, 65.90])
KACKER_VAR = np.array([0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225])
METAFOR_DL = {"estimate": 62.3901386044504, "se": 0.245749668040304, "ci_low": 61.9084781058787,
              "ci_high": 62.8717991030221, "tau2": 0.288049246973751, "q": 24.801897741835, "i2": 67.744403741711}


def test_dl_matches_metafor():
    res = pool_random_effects(KACKER_EFF, KACKER_VAR, method="dl")
    for key, expected in METAFOR_DL.items():
        assert getattr(res, key) == pytest.approx(expected, abs=1e-6), key


def test_pm_matches_statsmodels():
    res = pool_random_effects(KACKER_EFF, KACKER_VAR, method="pm")
    ref = combine_effects(KACKER_EFF, KACKER_VAR, method_re="pm")
    assert res.tau2 == pytest.approx(ref.tau2, abs=1e-9)
    assert res.estimate == pytest.approx(ref.mean_effect_re, abs=1e-9)


def test_homogeneous_studies_clamp_tau2_at_zero():
    eff = np.array([0.5, 0.5, 0.5, 0.5])
    var = np.array([0.04, 0.05, 0.06, 0.07])
    with pytest.warns(RuntimeWarning):
        raw = combine_effects(eff, var, method_re="dl")
    assert raw.tau2 < 0 and np.isnan(raw.sd_eff_w_re)  # statsmodels does not clamp: the reason for our own pooling
    res = pool_random_effects(eff, var)
    assert res.tau2 == 0 and res.i2 == 0
    assert np.isfinite(res.se) and res.estimate == pytest.approx(0.5)
    fixed = 1 / np.sum(1 / var)
    assert res.se == pytest.approx(np.sqrt(fixed))


def test_prediction_interval_wider_than_ci():
    res = pool_random_effects(KACKER_EFF, KACKER_VAR)
    assert res.pi_low < res.ci_low < res.estimate < res.ci_high < res.pi_high
    two = pool_random_effects(KACKER_EFF[:2], KACKER_VAR[:2])
    assert np.isnan(two.pi_low)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="at least two"):
        pool_random_effects([0.1], [0.1])
    with pytest.raises(ValueError, match="variances positive"):
        pool_random_effects([0.1, 0.2], [0.1, 0.0])
    with pytest.raises(ValueError, match="unknown method"):
        pool_random_effects([0.1, 0.2], [0.1, 0.1], method="reml")


def test_pool_groups_equals_one_at_a_time():
    rng = np.random.default_rng(7)
    rows = []
    for group in range(30):
        k = rng.integers(1, 7)
        for _ in range(k):
            rows.append({"group": f"g{group}", "g": rng.normal(0.3, 0.4), "var_g": rng.uniform(0.02, 0.3)})
    frame = pd.DataFrame(rows)
    many = pool_groups(frame, "group").set_index("group")
    for name, grp in frame.groupby("group"):
        if len(grp) < 2:
            assert name not in many.index
            continue
        one = pool_random_effects(grp["g"].to_numpy(), grp["var_g"].to_numpy())
        for key in ("estimate", "se", "tau2", "i2", "q", "ci_low", "ci_high"):
            assert many.loc[name, key] == pytest.approx(getattr(one, key), abs=1e-12), key


def test_leave_one_out_drops_each_study():
    res = pool_random_effects(KACKER_EFF, KACKER_VAR, labels=[f"s{i}" for i in range(9)])
    loo = leave_one_out(res)
    assert list(loo["omitted"]) == [f"s{i}" for i in range(9)]
    without_last = pool_random_effects(KACKER_EFF[:-1], KACKER_VAR[:-1])
    assert loo.iloc[-1]["estimate"] == pytest.approx(without_last.estimate)


def test_summary_frame_weights_sum_to_one():
    frame = pool_random_effects(KACKER_EFF, KACKER_VAR).summary_frame()
    assert frame.loc[frame.index != "random effect", "w_re"].sum() == pytest.approx(1.0)


def _outcome(**kw):
    base = {"outcome_id": "s#1", "basis": "between_group", "higher_is_better": True, "n_int": 20, "mean_int": 12.0,
            "sd_int": 4.0, "n_ctl": 22, "mean_ctl": 10.0, "sd_ctl": 5.0}
    base.update(kw)
    frame = pd.DataFrame([base])
    frame["higher_is_better"] = frame["higher_is_better"].astype("boolean")
    return frame


def test_smd_is_hedges_g_oriented_to_benefit():
    g_ref, var_ref = effectsize_smd(12.0, 4.0, 20, 10.0, 5.0, 22)
    up = smd_from_outcomes(_outcome())
    assert up["g"].iloc[0] == pytest.approx(g_ref) and up["var_g"].iloc[0] == pytest.approx(var_ref)
    down = smd_from_outcomes(_outcome(higher_is_better=False))
    assert down["g"].iloc[0] == pytest.approx(-g_ref)


def test_smd_needs_all_numbers_and_between_groups():
    assert smd_from_outcomes(_outcome(sd_ctl=np.nan)).empty
    assert smd_from_outcomes(_outcome(basis="within_group")).empty
    assert smd_from_outcomes(_outcome(higher_is_better=pd.NA)).empty


def test_smd_is_na_for_an_arm_of_fewer_than_two_like_metafor():
    one = smd_from_outcomes(_outcome(n_int=1))
    assert len(one) == 1 and np.isnan(one["g"].iloc[0]) and np.isnan(one["var_g"].iloc[0])
    assert np.isfinite(smd_from_outcomes(_outcome(n_int=2, n_ctl=2))["g"].iloc[0])


def test_smd_columns_ci_and_input_index():
    rows = pd.concat([_outcome(), _outcome(outcome_id="s#2", basis="within_group"), _outcome(outcome_id="s#3", higher_is_better=False)],
                     ignore_index=True)
    out = smd_from_outcomes(rows)
    assert list(out.columns) == ["outcome_id", "g", "var_g", "se_g", "ci_low_g", "ci_high_g"]
    assert list(out.index) == [0, 2] and list(out["outcome_id"]) == ["s#1", "s#3"]
    g, var = effectsize_smd(12.0, 4.0, 20, 10.0, 5.0, 22)
    se = np.sqrt(var)
    assert out.loc[0, "se_g"] == pytest.approx(se)
    assert out.loc[0, "ci_low_g"] == pytest.approx(g - 1.959963984540054 * se)
    assert out.loc[0, "ci_high_g"] == pytest.approx(g + 1.959963984540054 * se)
    assert out.loc[2, "ci_high_g"] == pytest.approx(-g + 1.959963984540054 * se)
    assert list(smd_from_outcomes(_outcome(basis="within_group")).columns) == list(out.columns)


def test_smd_reads_text_orientation_and_needs_two_in_each_arm():
    text = _outcome(higher_is_better=False).astype({"higher_is_better": object})
    assert smd_from_outcomes(text)["g"].iloc[0] < 0
    assert np.isnan(smd_from_outcomes(_outcome(n_ctl=1))["g"].iloc[0])


def test_summary_frame_values():
    res = pool_random_effects(KACKER_EFF[:3], KACKER_VAR[:3], labels=["a", "b", "c"])
    frame = res.summary_frame()
    assert list(frame.index) == ["a", "b", "c", "random effect"]
    assert list(frame.columns) == ["eff", "sd_eff", "ci_low", "ci_upp", "w_re"]
    se = np.sqrt(KACKER_VAR[:3])
    assert np.allclose(frame["eff"].iloc[:3], KACKER_EFF[:3]) and np.allclose(frame["sd_eff"].iloc[:3], se)
    assert np.allclose(frame["ci_low"].iloc[:3], KACKER_EFF[:3] - 1.959963984540054 * se)
    assert np.allclose(frame["ci_upp"].iloc[:3], KACKER_EFF[:3] + 1.959963984540054 * se)
    w = 1 / (KACKER_VAR[:3] + res.tau2)
    assert np.allclose(frame["w_re"].iloc[:3], w / w.sum())
    assert list(frame.loc["random effect"]) == pytest.approx([res.estimate, res.se, res.ci_low, res.ci_high, 1.0])


def test_pool_random_effects_defaults_alpha_and_shapes():
    res = pool_random_effects(KACKER_EFF[:3], KACKER_VAR[:3])
    assert res.labels == ("1", "2", "3") and res.k == 3 and res.method == "dl"
    half_pi = stats.t.isf(0.025, 1) * np.sqrt(res.tau2 + res.se**2)
    assert res.pi_high - res.estimate == pytest.approx(half_pi)
    wide = pool_random_effects(KACKER_EFF[:3], KACKER_VAR[:3], alpha=0.01)
    assert wide.ci_high - wide.estimate == pytest.approx(stats.norm.isf(0.005) * res.se)
    with pytest.raises(ValueError, match="same length"):
        pool_random_effects([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="finite"):
        pool_random_effects([0.1, np.nan], [0.1, 0.1])


def test_pool_groups_by_two_keys_named_columns_and_alpha():
    frame = pd.DataFrame({"a": ["x", "x", "x", "y", "y", "z"], "b": [1, 1, 1, 2, 2, 3], "eff": [0.1, 0.4, 0.2, 0.5, 0.7, 0.3],
                          "v": [0.04, 0.05, 0.06, 0.02, 0.03, 0.05]})
    out = pool_groups(frame, ["a", "b"], effect="eff", variance="v", alpha=0.1)
    assert list(out.columns[:3]) == ["a", "b", "k"] and list(zip(out["a"], out["b"])) == [("x", 1), ("y", 2)]
    one = pool_random_effects([0.5, 0.7], [0.02, 0.03], alpha=0.1)
    row = out.set_index("a").loc["y"]
    assert (row["k"], row["estimate"], row["ci_low"], row["tau2"]) == (2, pytest.approx(one.estimate), pytest.approx(one.ci_low), pytest.approx(one.tau2))
    with_gap = frame.assign(eff=[0.1, np.nan, 0.2, 0.5, 0.7, 0.3])
    assert pool_groups(with_gap, "a", effect="eff", variance="v").set_index("a").loc["x", "k"] == 2
    with pytest.raises(ValueError, match="unknown method"):
        pool_groups(frame, "a", effect="eff", variance="v", method="reml")


def test_pool_groups_pm_equals_one_at_a_time():
    frame = pd.DataFrame({"grp": ["a"] * 9 + ["b"] * 2, "g": [*KACKER_EFF, 0.1, 0.5], "var_g": [*KACKER_VAR, 0.04, 0.05]})
    many = pool_groups(frame, "grp", method="pm").set_index("grp")
    for name, grp in frame.groupby("grp"):
        one = pool_random_effects(grp["g"].to_numpy(), grp["var_g"].to_numpy(), method="pm")
        assert many.loc[name, "tau2"] == pytest.approx(one.tau2, abs=1e-12)
        assert many.loc[name, "estimate"] == pytest.approx(one.estimate, abs=1e-12)


def test_leave_one_out_needs_three_and_repools_each():
    two = leave_one_out(pool_random_effects(KACKER_EFF[:2], KACKER_VAR[:2]))
    assert two.empty and list(two.columns) == ["omitted", "estimate", "ci_low", "ci_high", "i2"]
    three = pool_random_effects(KACKER_EFF[:3], KACKER_VAR[:3], labels=["a", "b", "c"], method="pm", alpha=0.1)
    loo = leave_one_out(three).set_index("omitted")
    assert list(loo.index) == ["a", "b", "c"]
    ref = pool_random_effects(KACKER_EFF[[0, 2]], KACKER_VAR[[0, 2]], method="pm", alpha=0.1)
    assert list(loo.loc["b"]) == pytest.approx([ref.estimate, ref.ci_low, ref.ci_high, ref.i2])
