"""Constructed claim x trial rows for the rule tests (shared by the engine test files)."""

from __future__ import annotations

import pandas as pd

from evidence_review.linking import agreement

#: How the rule tests name the population under review (the bundled review's population_label).
POPULATION = "people with MS"

TRIAL_COLUMNS = ["direction", "participants", "design", "comparator", "rob_overall", "directness", "target_population"]


def rct(direction="benefit", n=300, comparator="sham", rob="low", directness="direct", ms=True, design="rct"):
    """One trial as a tuple of :data:`TRIAL_COLUMNS`."""
    return (direction, n, design, comparator, rob, directness, ms)


def source(direction="harm", n=None, source_type="guideline", ms=True):
    """One authoritative background source."""
    return (direction, n, source_type, "none", "not_assessed", "direct" if ms else "indirect", ms)


def trials(*rows, expected="benefit", claim_id="c", sources=()):
    """A claim x trial table like ``Synthesis.trials`` for one claim, from tuples built by :func:`rct`/:func:`source`."""
    kinds = ["study"] * len(rows) + ["background_evidence"] * len(sources)
    frame = pd.DataFrame([dict(zip(TRIAL_COLUMNS, r)) for r in (*rows, *sources)], columns=TRIAL_COLUMNS)
    frame["participants"] = frame["participants"].astype("float64")
    frame["evidence_kind"] = kinds
    frame["randomised"] = frame["design"].isin(["rct", "crossover_rct"])
    frame["controlled"] = frame["design"].isin(["rct", "crossover_rct", "non_randomised_controlled", "cohort"])
    frame["trial_group"] = [f"t{i}" for i in range(len(frame))]
    frame["study_id"] = frame["trial_group"]
    frame["claim_id"] = claim_id
    frame["agreement"] = agreement(frame["direction"], pd.Series(expected, index=frame.index),
                                   frame["evidence_kind"] == "background_evidence")
    return frame


def claim(**kw):
    """One claims row."""
    base = {"claim_id": "c", "testable": True, "claim_type": "benefit", "expected_direction": "benefit", "claim_of_size": False}
    return pd.Series({**base, **kw})


def estimate(est, lo, hi, scale="smd", i2=float("nan"), label="pooled"):
    """An effect estimate carrying a verdict (positive favours the intervention)."""
    return {"label": label, "source": "pooled", "scale": scale, "measure": "g" if scale == "smd" else "MD",
            "estimate": est, "ci_low": lo, "ci_high": hi, "i2": i2}
