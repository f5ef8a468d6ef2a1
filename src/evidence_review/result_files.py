"""The review's machine-readable results (CSV, JSON, BibTeX, RIS), written atomically and deterministically."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_results", "atomic_write_text"]


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_results(review, folder: Path) -> list[Path]:
    """Write the machine-readable results and exports, deterministically.

    CSV: claims, verdicts, evidence links, trial directions (and the scorecard, if any); JSON:
    verdicts; BibTeX and RIS: the included studies.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    folder : Path

    Returns
    -------
    list of Path
    """
    from .exports import spreadsheet_csv, studies_bibtex, studies_ris, verdicts_json

    syn = review.synthesis
    tables = {
        "claims.csv": review.evidence.claims,
        "verdicts.csv": syn.verdicts,
        "evidence_links.csv": syn.links[
            ["claim_id", "outcome_id", "study_id", "trial_group", "outcome_domain", "proxy_outcome", "directness",
             "controlled", "direction", "rationale"]
        ],
        "trial_directions.csv": syn.trials,
    }
    if review.scorecard is not None:
        tables["scorecard.csv"] = review.scorecard
    texts = {name: spreadsheet_csv(frame) for name, frame in tables.items()}
    texts["verdicts.json"] = verdicts_json(syn.verdicts, review.evidence.claims)
    texts["studies.bib"] = studies_bibtex(review.evidence.studies)
    texts["studies.ris"] = studies_ris(review.evidence.studies)
    written = []
    for name, text in texts.items():
        atomic_write_text(folder / name, text)
        written.append(folder / name)
    return written


