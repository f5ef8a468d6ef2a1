"""Controlled vocabularies shared by the claims and studies tables.

The topic is data: the outcome domains, conditions and interventions are vocabulary files
(``data/outcome_domains.csv``, ``data/conditions.csv``, ``data/interventions.csv``) that a review of
another article replaces; the study-design and judgement vocabularies here are fixed by the methods.
"""

from __future__ import annotations

CLAIM_TYPES = ("benefit", "mechanism", "safety", "background", "advice", "framing")
WORDING_STRENGTHS = ("definitive", "hedged", "caveated")
#: The direction of results that would bear a claim out (e.g. ``harm`` for "soreness can follow").
EXPECTED_DIRECTIONS = ("benefit", "no_difference", "harm")

DESIGNS = (
    "systematic_review",
    "rct",
    "crossover_rct",
    "non_randomised_controlled",
    "pre_post",
    "cohort",
    "cross_sectional",
    "case_series",
    "narrative_review",
)
RANDOMISED_DESIGNS = ("rct", "crossover_rct")
CONTROLLED_DESIGNS = ("rct", "crossover_rct", "non_randomised_controlled", "cohort")
#: Primary-study designs, ordered from strongest to weakest for display.
PRIMARY_DESIGNS = tuple(d for d in DESIGNS if d not in ("systematic_review", "narrative_review"))

COMPARATORS = ("usual_care", "waitlist", "sham", "active", "none")
DIRECTNESS = ("direct", "indirect")

ROB_JUDGEMENTS = ("low", "some_concerns", "high", "not_assessed")
ROB_TOOLS = ("RoB2", "ROBINS-I-lite", "NIH-pre-post", "AMSTAR2-lite", "none")
ROB_DOMAINS = ("rob_d1", "rob_d2", "rob_d3", "rob_d4", "rob_d5")
ROB_DOMAIN_LABELS = {
    "rob_d1": "D1 Randomisation / confounding",
    "rob_d2": "D2 Deviations from intervention",
    "rob_d3": "D3 Missing outcome data",
    "rob_d4": "D4 Outcome measurement",
    "rob_d5": "D5 Selective reporting",
}

DIRECTIONS = ("benefit", "no_difference", "harm", "unclear")
BASES = ("between_group", "within_group")
VALUE_TYPES = ("post", "change")
P_OPERATORS = ("=", "<", ">")

VERDICTS = ("supported", "mixed", "not_supported", "insufficient", "no_evidence", "not_testable")
CERTAINTY_LEVELS = ("high", "moderate", "low", "very_low")
