"""Fingerprint of everything the engine returns, to show a speed change left its results alone.

    .venv/bin/python benchmarks/synthesis_fingerprint.py [--synthetic-rows 20000]

Prints one SHA-256 per ``Synthesis`` frame for the bundled review (both tau^2 methods, with the
rationale text) and for SYNTHETIC evidence (1,000 claims; with and without rationale text), then
one over all of them. Each frame's hash covers its column names and order, dtypes, index, and every
value with its Python type (so ``None`` and ``NaN``, ``1`` and ``1.0`` differ). Run it before and
after a change to the engine's internals: equal lines mean equal results.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))


def _value_token(value) -> str:
    """A value with its type; floats by their exact bits (repr), NaN and missing spelt out."""
    if value is None:
        return "None"
    if value is pd.NA:
        return "NA"
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return f"{type(value).__name__}:nan"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}[" + ",".join(_value_token(v) for v in value) + "]"
    return f"{type(value).__name__}:{value!r}"


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's columns, dtypes, index and values (with their types)."""
    h = hashlib.sha256()
    h.update(repr(list(frame.columns)).encode())
    h.update(repr([str(t) for t in frame.dtypes]).encode())
    h.update(repr(type(frame.index).__name__).encode())
    h.update("\x1f".join(_value_token(v) for v in frame.index).encode())
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or not isinstance(column.dtype, np.dtype):
            h.update("\x1f".join(_value_token(v) for v in column.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(column.to_numpy()).tobytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic-rows", type=int, default=20_000)
    args = parser.parse_args()
    from _common import synthetic_evidence

    from evidence_review.engine import synthesise
    from evidence_review.studies import load_evidence

    ev = load_evidence()
    runs = {f"bundled {m}": lambda m=m: synthesise(ev.claims, ev.outcomes, ev.studies, method=m, reviews=ev.reviews,
                                                  background=ev.background) for m in ("dl", "pm")}
    claims, studies, outcomes = synthetic_evidence(1000, args.synthetic_rows)
    runs["synthetic, rationale"] = lambda: synthesise(claims, outcomes, studies)
    runs["synthetic, no rationale"] = lambda: synthesise(claims, outcomes, studies, rationale=False)
    total = hashlib.sha256()
    for label, run in runs.items():
        result = run()
        for name in ("links", "trials", "pooled", "verdicts", "certainty_domains"):
            frame = getattr(result, name)
            digest = frame_fingerprint(frame)
            total.update(digest.encode())
            print(f"{label:<24} {name:<18} {len(frame):>8} rows  {digest[:16]}")
    print(f"all frames: {total.hexdigest()}")


if __name__ == "__main__":
    main()
