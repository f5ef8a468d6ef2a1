"""Draft a claims table from an article's raw text, for a person to curate.

Transparent rules, no model: drop page chrome, split into sentences (each list item is one),
keep sentences that make a health statement, and propose ``claim_type``, ``outcome_domains`` and
``wording_strength`` from keyword rules and a synonyms file (``data/domain_synonyms.csv``). The
words that name the review's condition and intervention are data too (:class:`TopicWords`): the
labels of the conditions and interventions files plus an optional word list
(``data/topic_words.csv``); the rules in code know only words any health article uses.
What it misses is measured by ``benchmarks/bench_draft_claims.py`` and described in the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .tables import InputError, Problem, read_table, validate_table

__all__ = [
    "SYNONYMS_SCHEMA",
    "TOPIC_WORDS_SCHEMA",
    "TOPIC_WORD_KINDS",
    "TopicWords",
    "load_synonyms",
    "load_topic_words",
    "topic_words",
    "read_article",
    "clean_article",
    "split_sentences",
    "propose_domains",
    "propose_claim_type",
    "propose_wording",
    "is_health_claim",
    "draft_claims",
    "match_draft",
    "DRAFT_PARAMETERS",
]

#: The claim drafter's parameters (the ``00_draft_claims`` notebook), declared once: name -> default
#: as its ``parameters`` cell writes it (paths relative to the project root, None for none). The
#: defaults draft the fictional example's article (FICTIONAL TEST DATA), so the stored notebook runs
#: on any clone; the notebook checks the names it is given against these, and a test checks its cell.
DRAFT_PARAMETERS = {
    "article_path": "tests/fixtures/fictional/article.txt",
    "domains_path": "tests/fixtures/fictional/outcome_domains.csv",
    "synonyms_path": "tests/fixtures/fictional/domain_synonyms.csv",
    "conditions_path": "tests/fixtures/fictional/conditions.csv",
    "interventions_path": "tests/fixtures/fictional/interventions.csv",
    "topic_words_path": "tests/fixtures/fictional/topic_words.csv",
    "curated_claims_path": "tests/fixtures/fictional/claims.csv",
    "draft_output": None,
}

SYNONYMS_SCHEMA = pa.DataFrameSchema(
    {"code": pa.Column(str), "synonym": pa.Column(str, pa.Check.str_length(2, 80, error="synonym must be 2-80 characters"))},
    strict=True,
    coerce=True,
    unique=["code", "synonym"],
    name="domain_synonyms",
)

#: Page furniture that is not the article (comment boxes, share buttons, search prompts).
CHROME = re.compile(
    r"^(your thoughts|leave a (comment|reply)|comments?\b|user avatar|share this|related (posts|articles)|"
    r"subscribe|sign up|couldn.?t find|advertisement|read more|follow us)",
    re.IGNORECASE,
)
#: Everything after one of these lines is the comment section.
END_OF_ARTICLE = re.compile(r"^(your thoughts|leave a (comment|reply)|comments?\s*$)", re.IGNORECASE)
BULLET = re.compile(r"^\s*([\u2022\u25cf*\-]|\d+[.)])\s+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"'])")
#: Words any health statement may use, whatever the topic; the topic's own words are data (:class:`TopicWords`).
HEALTH_WORDS = re.compile(
    r"\b(therap\w*|treat\w*|patients?|symptoms?|disease|doctor|physician|health|benefits?|"
    r"relief|cure|medical|clinical|immune|brain|nervous)\b",
    re.IGNORECASE,
)
ADVICE = re.compile(r"\b(you should|should (be|talk|speak|consult|see|ask|avoid)|essential to|crucial|vital to|important (for|to)|talk to|speak(ing)? to|consult|"
                    r"seek(ing)? out|find a|the best choice|communicat\w+|stay in contact|rescheduled)\b", re.IGNORECASE)
SAFETY = re.compile(r"\b(soreness|detrimental|tolerated|risk|side effects?|lethargy|harm\w*|worsen)\b", re.IGNORECASE)
MECHANISM = re.compile(r"\b(endorphins?|blood flow|oxygenation|stimulat\w+|released?|chemical|fluid|neuropathways|works in)\b",
                       re.IGNORECASE)
FRAMING = re.compile(r"\b(not going to|not likely|not a proven|not studied|expectations|course of the disease|progression)\b",
                     re.IGNORECASE)
#: Words that make a sentence about a treatment, whatever the topic (the intervention's own words are data).
INTERVENTION = re.compile(r"\b(therapy|therapist|treatment)\b", re.IGNORECASE)
HEDGES = re.compile(r"\b(can|could|may|might|often|usually|some|likely|potential|help\w*|assist\w*)\b", re.IGNORECASE)
CAVEATS = re.compile(r"\b(not a proven|vary|varies|not studied|manage their expectations)\b", re.IGNORECASE)
MAX_KEY_WORDS = 12

#: What a word of ``topic_words.csv`` names: the review's condition or its intervention.
TOPIC_WORD_KINDS = ("condition", "intervention")
TOPIC_WORDS_SCHEMA = pa.DataFrameSchema(
    {
        "word": pa.Column(str, pa.Check.str_length(2, 80, error="word must be 2-80 characters")),
        "kind": pa.Column(str, pa.Check.isin(TOPIC_WORD_KINDS, error=f"kind must be one of {', '.join(TOPIC_WORD_KINDS)}")),
    },
    strict=True,
    coerce=True,
    unique=["word", "kind"],
    name="topic_words",
)


@dataclass(frozen=True)
class TopicWords:
    """The words that tell the drafter a sentence is about this review's condition or intervention.

    Attributes
    ----------
    condition : tuple of str
        Names of the condition (its full name and its abbreviation, say): a sentence naming
        one makes a health statement.
    intervention : tuple of str
        Names of the intervention: a sentence naming one makes a health statement about the
        intervention (a ``benefit`` claim, unless another rule says otherwise).
    """

    condition: tuple[str, ...] = ()
    intervention: tuple[str, ...] = ()


@lru_cache(maxsize=64)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern | None:
    """One whole-word, any-case pattern for a set of words or phrases (None for none)."""
    kept = sorted({w.strip().lower() for w in words if w and w.strip()}, key=lambda w: (-len(w), w))
    if not kept:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in kept) + r")\b", re.IGNORECASE)


def _mentions(sentence: str, words: tuple[str, ...]) -> bool:
    pattern = _words_pattern(tuple(words))
    return bool(pattern and pattern.search(sentence))


def load_topic_words(path: str | Path) -> pd.DataFrame:
    """Load the optional word list of a topic (``word``, ``kind``: ``condition`` or ``intervention``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        Naming the file, row and column of every problem at once.
    """
    return validate_table(read_table(path), TOPIC_WORDS_SCHEMA, str(path))


def topic_words(conditions: pd.DataFrame | None = None, interventions: pd.DataFrame | None = None,
                words: pd.DataFrame | None = None) -> TopicWords:
    """The drafter's topic words: the labels of the vocabulary files plus a word list.

    Parameters
    ----------
    conditions, interventions : pandas.DataFrame, optional
        The review's vocabularies (``code``, ``label``); each label is a word or phrase.
    words : pandas.DataFrame, optional
        :func:`load_topic_words` output: other names (full names, abbreviations, plurals).

    Returns
    -------
    TopicWords
    """
    def labels(frame):
        return [] if frame is None else [str(v) for v in frame["label"].dropna()]

    def listed(kind):
        return [] if words is None else [str(v) for v in words.loc[words["kind"] == kind, "word"]]

    return TopicWords(condition=tuple(dict.fromkeys(labels(conditions) + listed("condition"))),
                      intervention=tuple(dict.fromkeys(labels(interventions) + listed("intervention"))))


def load_synonyms(path: str | Path, domains: set[str] | None = None) -> pd.DataFrame:
    """Load the outcome-domain synonyms (``code``, ``synonym``).

    Parameters
    ----------
    path : str or Path
    domains : set of str, optional
        Allowed codes; an unknown code is an error.

    Returns
    -------
    pandas.DataFrame
    """
    schema = SYNONYMS_SCHEMA
    if domains is not None:
        schema = schema.update_column("code", checks=[pa.Check.isin(sorted(domains), error="unknown outcome domain code")])
    return validate_table(read_table(path), schema, str(path))


def read_article(path: str | Path) -> str:
    """Read an article's plain text, as its user supplied it.

    Parameters
    ----------
    path : str or Path
        A UTF-8 text file (a web page saved as text).

    Returns
    -------
    str

    Raises
    ------
    evidence_review.tables.InputError
        If the file is missing, empty or not UTF-8 text.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), [Problem("article file not found (set article_path to the article's text file)",
                                             column="article_path")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), [Problem(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the article "
                                             "as UTF-8 plain text", column="article_path")]) from None
    if not text.strip():
        raise InputError(str(path), [Problem("the article file is empty", column="article_path")])
    return text


def clean_article(text: str) -> list[tuple[str, str]]:
    """Drop page chrome and return ``(section, block)`` pairs in reading order.

    A heading is a short line (at most 8 words) without final punctuation that is followed by text.

    Parameters
    ----------
    text : str
        The article as plain text (a saved web page).

    Returns
    -------
    list of (str, str)
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    kept = []
    for line in lines:
        if END_OF_ARTICLE.match(line):
            break
        if not line or CHROME.match(line):
            continue
        kept.append(line)
    blocks, section = [], "Introduction"
    for i, line in enumerate(kept):
        words = line.split()
        is_heading = len(words) <= 8 and not re.search(r"[.!?:;,]$", line) and not BULLET.match(line) and i + 1 < len(kept)
        if is_heading:
            section = line
            continue
        if len(words) < 3:
            continue
        blocks.append((section, line))
    return blocks


def split_sentences(block: str) -> list[str]:
    """Split a block into sentences; a list item is one sentence, and ``;`` separates clauses.

    Parameters
    ----------
    block : str

    Returns
    -------
    list of str
    """
    if BULLET.match(block):
        parts = [BULLET.sub("", block)]
    else:
        parts = SENTENCE_END.split(block)
    out = []
    for part in parts:
        out.extend(p.strip() for p in part.split("; ") if len(p.split()) >= 4)
    return out


def propose_domains(sentence: str, synonyms: pd.DataFrame) -> list[str]:
    """Outcome domains whose synonyms occur in the sentence (whole words, any case), in vocabulary order.

    Parameters
    ----------
    sentence : str
    synonyms : pandas.DataFrame

    Returns
    -------
    list of str
    """
    found = []
    lower = sentence.lower()
    for code, grp in synonyms.groupby("code", sort=False):
        if any(re.search(rf"\b{re.escape(s.lower())}\b", lower) for s in grp["synonym"]):
            found.append(code)
    return found


def propose_claim_type(sentence: str, section: str = "", words: TopicWords = TopicWords()) -> str:
    """Claim type from keyword rules, checked in order: safety, advice, framing, mechanism, background, benefit.

    A short list item inherits its section's subject ("Other benefits of <intervention>" makes
    "Better quality of sleep" a benefit, not a fact about the disease).

    Parameters
    ----------
    sentence : str
    section : str
        The heading the sentence sits under.
    words : TopicWords
        The topic's words; a sentence naming the intervention is about it.

    Returns
    -------
    str
    """
    if SAFETY.search(sentence):
        return "safety"
    if ADVICE.search(sentence):
        return "advice"
    if FRAMING.search(sentence):
        return "framing"
    if MECHANISM.search(sentence):
        return "mechanism"
    def names_intervention(text):
        return bool(INTERVENTION.search(text)) or _mentions(text, words.intervention)

    about_intervention = names_intervention(sentence) or (len(sentence.split()) <= 8 and names_intervention(section))
    return "benefit" if about_intervention else "background"


def propose_wording(sentence: str) -> str:
    """``caveated``, ``hedged`` or ``definitive`` from caveat and hedge words.

    Parameters
    ----------
    sentence : str

    Returns
    -------
    str
    """
    if CAVEATS.search(sentence):
        return "caveated"
    return "hedged" if HEDGES.search(sentence) else "definitive"


def is_health_claim(sentence: str, domains: list[str], words: TopicWords = TopicWords()) -> bool:
    """Whether a sentence makes a checkable health statement (not a question, names a health topic).

    Parameters
    ----------
    sentence : str
    domains : list of str
        Domains proposed for it.
    words : TopicWords
        The topic's words: naming the condition or the intervention is naming a health topic.

    Returns
    -------
    bool
    """
    if sentence.rstrip().endswith("?") or len(sentence.split()) < 4:
        return False
    return (bool(domains) or bool(HEALTH_WORDS.search(sentence)) or _mentions(sentence, words.condition)
            or _mentions(sentence, words.intervention))


def _slug(sentence: str, taken: set[str]) -> str:
    words = [w for w in re.findall(r"[a-z]+", sentence.lower()) if len(w) > 3][:4] or ["claim"]
    base = "-".join(words)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def draft_claims(text: str, synonyms: pd.DataFrame, words: TopicWords = TopicWords()) -> pd.DataFrame:
    """Draft a claims table (the columns of ``claims.csv``) from an article's text.

    The ``claim`` column holds the article's sentence for the curator to rewrite in their own
    words; ``key_phrase`` holds its first 12 words.

    Parameters
    ----------
    text : str
    synonyms : pandas.DataFrame
        :func:`load_synonyms` output.
    words : TopicWords
        The topic's condition and intervention words (:func:`topic_words`).

    Returns
    -------
    pandas.DataFrame
    """
    rows, taken = [], set()
    for section, block in clean_article(text):
        for sentence in split_sentences(block):
            domains = propose_domains(sentence, synonyms)
            if not is_health_claim(sentence, domains, words):
                continue
            claim_type = propose_claim_type(sentence, section, words)
            testable = claim_type != "advice"
            if testable and not domains:
                domains = ["symptom_burden"]
            rows.append({
                "claim_id": _slug(sentence, taken),
                "order": len(rows) + 1,
                "section": section[:120],
                "claim": sentence[:400],
                "key_phrase": " ".join(sentence.split()[:MAX_KEY_WORDS]),
                "claim_type": claim_type,
                "outcome_domains": ";".join(domains),
                "expected_direction": "harm" if claim_type == "safety" else "benefit",
                "wording_strength": propose_wording(sentence),
                "wording_reason": "drafted by rule; check",
                "testable": "true" if testable else "false",
                "notes": "DRAFT: rewrite the claim in your own words, split compound statements, check every field.",
            })
    return pd.DataFrame(rows)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).replace("\u2019", "'").replace("\u2018", "'")).strip().lower()


def match_draft(draft: pd.DataFrame, curated: pd.DataFrame) -> dict:
    """Recall and precision of a draft against curated claims, matched by the curated key phrases.

    A curated claim is found when its ``key_phrase`` occurs in a drafted sentence; a drafted
    sentence is correct when it contains at least one curated key phrase.

    Parameters
    ----------
    draft : pandas.DataFrame
        :func:`draft_claims` output.
    curated : pandas.DataFrame
        A curated claims table (``claim_id``, ``key_phrase``).

    Returns
    -------
    dict
        ``recall``, ``precision``, ``missed`` (curated claim ids not found), ``spurious`` (draft
        ids matching no curated claim), ``type_agreement`` (share of found claims whose proposed
        type equals the curated one).
    """
    sentences = [_norm(s) for s in draft["claim"]]
    phrases = curated.dropna(subset=["key_phrase"])
    found, hits, type_ok = [], set(), 0
    for row in phrases.itertuples():
        phrase = _norm(row.key_phrase)
        matches = [i for i, s in enumerate(sentences) if phrase in s]
        if matches:
            found.append(row.claim_id)
            hits.update(matches)
            if "claim_type" in phrases and draft.iloc[matches[0]]["claim_type"] == row.claim_type:
                type_ok += 1
    missed = [c for c in phrases["claim_id"] if c not in found]
    return {
        "recall": len(found) / len(phrases) if len(phrases) else float("nan"),
        "precision": len(hits) / len(draft) if len(draft) else float("nan"),
        "missed": missed,
        "spurious": [draft.iloc[i]["claim_id"] for i in range(len(draft)) if i not in hits],
        "type_agreement": type_ok / len(found) if found else float("nan"),
    }
