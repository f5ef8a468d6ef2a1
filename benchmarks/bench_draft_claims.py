"""Recall and precision of drafted claims against a curated claims table.

    .venv/bin/python benchmarks/bench_draft_claims.py [ARTICLE.txt] [CURATED_CLAIMS.csv] [--domains F] [--synonyms F]
        [--conditions F] [--interventions F] [--words F]

The article is an input its user supplies: give its path as the first argument or in the environment
variable EVIDENCE_REVIEW_ARTICLE. The curated claims default to the bundled data/claims.csv.

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

from evidence_review.claims import load_claims, load_conditions, load_interventions, load_outcome_domains  # noqa: E402
from evidence_review.drafting import draft_claims, load_synonyms, load_topic_words, match_draft, read_article, topic_words  # noqa: E402
from evidence_review.paths import ARTICLE_ENV, article_under_review, resolve_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("article", nargs="?", help=f"the article's plain text (default: ${ARTICLE_ENV})")
    parser.add_argument("curated", nargs="?", default=str(resolve_path("data/claims.csv")))
    parser.add_argument("--domains", default=str(resolve_path("data/outcome_domains.csv")))
    parser.add_argument("--synonyms", default=str(resolve_path("data/domain_synonyms.csv")))
    parser.add_argument("--conditions", default=str(resolve_path("data/conditions.csv")))
    parser.add_argument("--interventions", default=str(resolve_path("data/interventions.csv")))
    parser.add_argument("--words", default=str(resolve_path("data/topic_words.csv")), help="the topic's word list")
    args = parser.parse_args()
    article = args.article or article_under_review()
    if article is None:
        parser.error(f"give the article's text file as the first argument or set {ARTICLE_ENV}=/path/to/article.txt")
    domains = load_outcome_domains(args.domains)
    synonyms = load_synonyms(args.synonyms, set(domains["code"]))
    curated = load_claims(args.curated, domains)
    words = topic_words(load_conditions(args.conditions), load_interventions(args.interventions), load_topic_words(args.words))
    t0 = time.perf_counter()
    draft = draft_claims(read_article(article), synonyms, words)
    seconds = time.perf_counter() - t0
    m = match_draft(draft, curated)
    print(f"machine: {machine()}")
    print(f"article: {Path(article).name}; curated claims: {len(curated)}; drafted: {len(draft)} in {seconds:.3f} s")
    print(f"recall    {m['recall']:.3f}   (target >= 0.9)")
    print(f"precision {m['precision']:.3f}")
    print(f"claim_type agreement on found claims {m['type_agreement']:.3f}")
    print(f"missed curated claims: {', '.join(m['missed']) or 'none'}")
    print(f"drafted sentences matching no curated claim: {len(m['spurious'])}")


if __name__ == "__main__":
    main()
