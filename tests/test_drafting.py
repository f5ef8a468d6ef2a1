"""Drafting claims from raw article text."""

import pandas as pd
import pytest

from evidence_review.claims import load_claims, load_outcome_domains
from evidence_review.claims import load_conditions, load_interventions
from evidence_review.drafting import (clean_article, draft_claims, load_synonyms, load_topic_words, match_draft,
                                      propose_claim_type, propose_domains, propose_wording, split_sentences, topic_words)
from evidence_review.paths import project_root

ROOT = project_root()
FICTIONAL = ROOT / "tests" / "fixtures" / "fictional"


@pytest.fixture(scope="module")
def domains():
    return load_outcome_domains(ROOT / "data" / "outcome_domains.csv")


@pytest.fixture(scope="module")
def synonyms(domains):
    return load_synonyms(ROOT / "data" / "domain_synonyms.csv", set(domains["code"]))


def words_of(folder):
    """A topic's drafting words: the labels of its vocabulary files and its word list."""
    return topic_words(load_conditions(folder / "conditions.csv"), load_interventions(folder / "interventions.csv"),
                       load_topic_words(folder / "topic_words.csv"))


@pytest.fixture(scope="module")
def words():
    return words_of(ROOT / "data")


def test_bundled_topic_words_name_the_condition_and_the_intervention(words):
    assert {"MS", "multiple sclerosis"} <= set(words.condition) and "Massage" in words.intervention


def test_clean_article_drops_chrome_and_comments():
    blocks = clean_article((FICTIONAL / "article.txt").read_text())
    text = " ".join(b for _, b in blocks)
    assert "Share this page" not in text and "Leave a comment" not in text
    assert [s for s, _ in blocks] == ["Introduction", "Humming for tinnitus", "How it works", "Precautions"]


def test_split_sentences_bullets_and_clauses():
    assert split_sentences("  \u2022 Better quality of sleep at night") == ["Better quality of sleep at night"]
    assert split_sentences("Massage eases pain in the legs. It also calms the mind today.") == [
        "Massage eases pain in the legs.", "It also calms the mind today."]
    assert len(split_sentences("It may help with pain a lot; it may also cause soreness afterwards.")) == 2


def test_proposals(synonyms, words):
    assert propose_domains("Massage reduces fatigue and improves sleep quality", synonyms) == ["sleep", "fatigue"]
    assert propose_claim_type("Some soreness can follow a massage") == "safety"
    assert propose_claim_type("You should talk to your doctor first") == "advice"
    assert propose_claim_type("Better quality of sleep", section="Other benefits of massage", words=words) == "benefit"
    assert propose_claim_type("Heat makes symptoms of the disease worse in summer") == "background"
    assert propose_wording("Massage can help") == "hedged" and propose_wording("Massage cures it") == "definitive"
    assert propose_wording("Massage is not a proven treatment") == "caveated"


def test_draft_is_a_valid_claims_table(tmp_path):
    """The fictional article (FICTIONAL TEST DATA) with its own vocabulary and synonyms."""
    domains = load_outcome_domains(FICTIONAL / "outcome_domains.csv")
    synonyms = load_synonyms(FICTIONAL / "domain_synonyms.csv", set(domains["code"]))
    draft = draft_claims((FICTIONAL / "article.txt").read_text(), synonyms, words_of(FICTIONAL))
    assert len(draft) == 5
    draft.to_csv(tmp_path / "draft.csv", index=False)
    loaded = load_claims(tmp_path / "draft.csv", domains)
    m = match_draft(loaded, load_claims(FICTIONAL / "claims.csv", domains))
    assert m["recall"] == 1.0
    assert loaded["claim_id"].is_unique
    assert "advice" in set(loaded["claim_type"])


def test_match_draft_counts():
    draft = pd.DataFrame({"claim_id": ["d1", "d2", "d3"], "claim_type": ["benefit", "advice", "benefit"],
                          "claim": ["Massage eases pain a lot.", "Ask your doctor.", "Unrelated words here."]})
    curated = pd.DataFrame({"claim_id": ["pain", "doctor", "sleep"], "claim_type": ["benefit", "benefit", "benefit"],
                            "key_phrase": ["eases pain", "your doctor", "better sleep"]})
    m = match_draft(draft, curated)
    assert m["recall"] == pytest.approx(2 / 3) and m["precision"] == pytest.approx(2 / 3)
    assert m["missed"] == ["sleep"] and m["spurious"] == ["d3"] and m["type_agreement"] == pytest.approx(0.5)


def test_recall_on_the_article_under_review(synonyms, domains, words, article_text):
    draft = draft_claims(article_text, synonyms, words)
    m = match_draft(draft, load_claims(ROOT / "data" / "claims.csv", domains))
    assert m["recall"] >= 0.9
    assert m["precision"] >= 0.6
