"""Recall and precision of drafted claims against a curated claims table.

    .venv/bin/python benchmarks/bench_draft_claims.py ARTICLE.txt CURATED_CLAIMS.csv [--domains F] [--synonyms F]

A curated claim counts as found when its key phrase occurs in a drafted sentence; a drafted
sentence is correct when it contains a curated key phrase. Target (issue 8): recall >= 0.9.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

from evidence_review.claims import load_claims, load_outcome_domains  # noqa: E402
from evidence_review.drafting import draft_claims, load_synonyms, match_draft  # noqa: E402
from evidence_review.paths import resolve_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("article")
    parser.add_argument("curated")
    parser.add_argument("--domains", default=str(resolve_path("data/outcome_domains.csv")))
    parser.add_argument("--synonyms", default=str(resolve_path("data/domain_synonyms.csv")))
    args = parser.parse_args()
    domains = load_outcome_domains(args.domains)
    synonyms = load_synonyms(args.synonyms, set(domains["code"]))
    curated = load_claims(args.curated, domains)
    t0 = time.perf_counter()
    draft = draft_claims(Path(args.article).read_text(encoding="utf-8"), synonyms)
    seconds = time.perf_counter() - t0
    m = match_draft(draft, curated)
    print(f"machine: {machine()}")
    print(f"article: {args.article}; curated claims: {len(curated)}; drafted: {len(draft)} in {seconds:.3f} s")
    print(f"recall    {m['recall']:.3f}   (target >= 0.9)")
    print(f"precision {m['precision']:.3f}")
    print(f"claim_type agreement on found claims {m['type_agreement']:.3f}")
    print(f"missed curated claims: {', '.join(m['missed']) or 'none'}")
    print(f"drafted sentences matching no curated claim: {len(m['spurious'])}")


if __name__ == "__main__":
    main()
