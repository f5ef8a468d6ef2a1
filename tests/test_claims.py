"""The claims table: schema rules, vocabulary, and faithfulness to the article."""

import re

import pandas as pd
import pytest

from evidence_review.claims import MAX_KEY_PHRASE_WORDS, explode_domains, load_claims, load_outcome_domains, split_codes
from evidence_review.paths import project_root
from evidence_review.tables import InputError

@pytest.fixture
def vocab(data_copy):
    return load_outcome_domains(data_copy.path("outcome_domains.csv"))


def test_bundled_claims_load(data_copy, vocab):
    claims = load_claims(data_copy.path("claims.csv"), vocab)
    assert 30 <= len(claims) <= 50
    assert claims["claim_id"].is_unique
    assert set(claims["claim_type"]) == {"benefit", "mechanism", "safety", "background", "advice", "framing"}
    assert not claims.loc[claims["claim_type"] == "advice", "testable"].any()


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("outcome_domains", "pain;telepathy", "unknown outcome domain code"),
        ("claim_id", "tension-relief", "duplicate value"),
        ("claim", "", "is empty but required"),
        ("claim_type", "rumour", "unknown claim_type"),
        ("testable", "maybe", "expected true or false"),
        ("key_phrase", " ".join(["word"] * (MAX_KEY_PHRASE_WORDS + 1)), "at most 12 words"),
    ],
)
def test_schema_rejects(data_copy, vocab, column, value, message):
    data_copy.set("claims.csv", 0, column, value)
    with pytest.raises(InputError) as err:
        load_claims(data_copy.path("claims.csv"), vocab)
    assert f"row 2, column '{column}'" in str(err.value)
    assert message in str(err.value)


def test_testable_claim_needs_a_domain(data_copy, vocab):
    data_copy.set("claims.csv", 0, "outcome_domains", "")
    with pytest.raises(InputError, match="testable claim needs at least one outcome domain"):
        load_claims(data_copy.path("claims.csv"), vocab)


def test_proxy_mark_is_parsed():
    frame = pd.DataFrame({"claim_id": ["a"], "outcome_domains": ["headache; ~pain"]})
    out = explode_domains(frame)
    assert out.to_dict("records") == [
        {"claim_id": "a", "outcome_domain": "headache", "proxy_outcome": False},
        {"claim_id": "a", "outcome_domain": "pain", "proxy_outcome": True},
    ]
    assert split_codes("headache; ~pain;") == ["headache", "pain"]


def _norm(text):
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).lower()


def test_key_phrases_are_quoted_from_the_article(data_copy, vocab, article_text):
    article = _norm(article_text)
    claims = load_claims(data_copy.path("claims.csv"), vocab)
    missing = [c for c, k in zip(claims["claim_id"], claims["key_phrase"]) if isinstance(k, str) and _norm(k) not in article]
    assert missing == []


def test_vocabulary_is_documented_and_used_consistently(data_copy, vocab):
    readme = (project_root() / "data" / "README.md").read_text(encoding="utf-8")
    undocumented = [c for c in vocab["code"] if f"`{c}`" not in readme]
    assert undocumented == []
    claims = load_claims(data_copy.path("claims.csv"), vocab)
    outcomes = pd.read_csv(data_copy.path("outcomes.csv"), dtype=str)
    claim_codes = {c for v in claims["outcome_domains"] for c in split_codes(v)}
    study_codes = set(outcomes["outcome_domain"])
    assert claim_codes | study_codes <= set(vocab["code"])
    # every outcome domain the studies measure is also a domain some claim names, or is reported as unmatched
    assert study_codes - claim_codes <= {"mood", "quality_of_life", "self_efficacy", "bladder", "cognition", "sexual_function"}
