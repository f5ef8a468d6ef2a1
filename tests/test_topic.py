"""The topic is data: condition and intervention vocabularies, the population under review, and the
words every reader-facing sentence takes from them (each rule pinned on a constructed input)."""

import nbformat
import pandas as pd
import pytest
from engine_helpers import claim, rct, trials

from evidence_review import charts, report
from evidence_review.notebook_runner import without_default_parameters
from evidence_review.claims import load_conditions, load_interventions
from evidence_review.drafting import TopicWords, draft_claims, is_health_claim, load_topic_words, propose_claim_type, topic_words
from evidence_review.grading import grade_certainty
from evidence_review.linking import link_background, link_claims
from evidence_review.parameters import validate_parameters
from evidence_review.site import topic_methods_text
from evidence_review.studies import load_evidence
from evidence_review.tables import InputError
from evidence_review.verdicts import decide_verdict


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the vocabulary files -------------------------------------------------------------------------

def test_bundled_vocabularies_hold_todays_codes(data_copy):
    conditions = load_conditions(data_copy.path("conditions.csv"))
    interventions = load_interventions(data_copy.path("interventions.csv"))
    assert conditions["code"].tolist() == ["ms", "other"]
    assert len(interventions) == 12 and "no_intervention" not in set(interventions["code"])
    studies = data_copy.read("studies.csv")
    assert set(studies["condition"]) <= set(conditions["code"])
    assert set(studies["intervention"]) - {"no_intervention"} <= set(interventions["code"])


def test_vocabulary_problems_are_listed_at_once_with_rows(tmp_path):
    path = write(tmp_path, "conditions.csv", "code,label,description\ntinnitus,Tinnitus,\ntinnitus,Again,\nBad Code,x,\nempty,,\n")
    with pytest.raises(InputError) as err:
        load_conditions(path)
    text = str(err.value)
    assert "conditions.csv" in text and "(4 problems)" in text
    assert "row 2, column 'code'" in text and "row 3, column 'code'" in text  # the duplicate, both times
    assert "row 4, column 'code': code must be lower_snake_case" in text
    assert "row 5, column 'label'" in text


def test_no_intervention_is_built_in_not_listed(tmp_path):
    path = write(tmp_path, "interventions.csv", "code,label\nhumming,Humming\nno_intervention,None\n")
    with pytest.raises(InputError, match=r"row 3, column 'code': code no_intervention is built in; remove this row"):
        load_interventions(path)
    assert load_interventions(write(tmp_path, "ok.csv", "code,label\nhumming,Humming\n"))["code"].tolist() == ["humming"]


def test_studies_are_checked_against_the_vocabularies_all_at_once(data_copy):
    data_copy.set("studies.csv", 0, "condition", "tinnitus")
    data_copy.set("studies.csv", 1, "intervention", "humming")
    data_copy.set("studies.csv", 2, "intervention", "no_intervention")  # built in: always valid
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    text = str(err.value)
    assert "studies.csv' (2 problems)" in text
    assert "row 2, column 'condition': unknown condition; use one of ms, other (the codes of conditions.csv)" in text
    assert "row 3, column 'intervention': unknown intervention; use one of massage, " in text
    assert "other_manual, no_intervention (the codes of interventions.csv)" in text
    assert "row 4, column 'intervention'" not in text


def test_a_new_code_in_the_vocabulary_file_is_valid_with_no_code_change(data_copy):
    data_copy.set("studies.csv", 0, "condition", "tinnitus")
    with open(data_copy.path("conditions.csv"), "a", encoding="utf-8") as f:
        f.write("tinnitus,tinnitus,ringing in the ears\n")
    ev = load_evidence(**data_copy.params)
    assert "tinnitus" in set(ev.studies["condition"]) and "tinnitus" in set(ev.conditions["code"])


def test_a_broken_vocabulary_is_reported_with_the_other_files(data_copy):
    write(data_copy.folder, "interventions.csv", "code,label\nhumming,\n")
    data_copy.set("outcomes.csv", 0, "sd_int", "-1")
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    text = str(err.value)
    assert "interventions.csv: row 2, column 'label'" in text and "outcomes.csv: row 2, column 'sd_int'" in text
    assert "unknown intervention" not in text  # no cascade of errors from the broken vocabulary


def test_background_condition_is_checked_against_the_conditions_file(data_copy, tmp_path):
    from evidence_review.background import load_background

    header = ("evidence_id,source_type,organisation,authors,year,title,doi,pmid,source_url,population,condition,"
              "outcome_domain,statement,direction,measure,value,ci_low,ci_high,n,notes\n")
    row = "s1,guideline,Org,,2020,,,,https://example.org/s1,adults,{},pain,A statement about pain.,harm,,,,,,\n"
    path = write(tmp_path, "bg.csv", header + row.format("tinnitus"))
    with pytest.raises(InputError, match=r"unknown condition; use one of ms, other \(the codes of conditions.csv\)"):
        load_background(path, {"pain"}, ["ms", "other"], "conditions.csv")
    assert len(load_background(path, {"pain"}, ["tinnitus"], "conditions.csv")) == 1


# --- the parameters -------------------------------------------------------------------------------

def test_target_condition_must_be_a_code_of_the_conditions_file(data_copy):
    from evidence_review.pipeline import prepare_review

    data_copy.set("outcomes.csv", 0, "sd_int", "-1")
    with pytest.raises(InputError) as err:
        prepare_review("params.yaml", **data_copy.params, target_condition="m s")
    text = str(err.value)
    assert ("column 'target_condition': target_condition 'm s' is not a code of the conditions file (did you mean ms?); "
            "valid codes: ms, other") in text
    assert "outcomes.csv: row 2, column 'sd_int'" in text  # with the data's problems, all at once
    with pytest.raises(InputError, match="column 'population_label': population_label must be a non-empty text"):
        validate_parameters("params.yaml", **data_copy.params, population_label="  ")


def test_the_target_condition_decides_what_is_direct(data_copy):
    """The same studies, reviewed for the other population: its studies become the direct ones."""
    from evidence_review.pipeline import prepare_review

    params = {**data_copy.params, "output_dir": str(data_copy.folder / "out")}
    bundled = prepare_review(**params).synthesis.links
    other = prepare_review(**params, target_condition="other", population_label="people without it").synthesis.links
    studies = data_copy.read("studies.csv").set_index("study_id")["condition"]
    on_other = bundled["study_id"].map(studies) == "other"
    assert (bundled.loc[on_other, "indirect_reason"].str.startswith("not people with MS")).all()
    assert not other["target_population"].equals(bundled["target_population"])
    assert (other.loc[other["study_id"].map(studies) == "ms", "indirect_reason"].str.startswith("not people without it")).all()


# --- the engine's words ---------------------------------------------------------------------------

def _tables(condition):
    claims = pd.DataFrame({"claim_id": ["pain"], "order": [1], "claim_type": ["benefit"], "outcome_domains": ["pain"],
                           "expected_direction": ["benefit"], "testable": [True]})
    studies = pd.DataFrame({"study_id": ["a2020"], "design": ["rct"], "condition": [condition], "intervention": ["humming"],
                            "comparator": ["sham"], "trial_group": ["a2020"], "rob_overall": ["low"], "n_randomised": [40],
                            "n_analysed": [40], "directness": ["direct"], "directness_reason": [None]})
    outcomes = pd.DataFrame({"outcome_id": ["a2020#1"], "study_id": ["a2020"], "outcome_domain": ["pain"], "instrument": ["x"],
                             "comparison": ["humming vs sham"], "basis": ["between_group"], "direction": ["benefit"],
                             "higher_is_better": [True], "p_value": [None], "p_operator": [None]})
    return claims, outcomes, studies


def test_linking_names_the_population_from_its_parameters():
    population = {"rationale": False, "target_condition": "tinnitus", "population_label": "people with tinnitus"}
    direct = link_claims(*_tables("tinnitus"), **population)
    other = link_claims(*_tables("healthy"), **population)
    assert direct.loc[0, ["directness", "indirect_reason", "target_population"]].tolist() == ["direct", "", True]
    assert other.loc[0, ["directness", "indirect_reason", "target_population"]].tolist() == [
        "indirect", "not people with tinnitus", False]


def test_background_sources_name_the_population_from_its_parameters():
    claims = pd.DataFrame({"claim_id": ["common"], "claim_type": ["background"], "outcome_domains": ["hearing"],
                           "expected_direction": ["harm"], "testable": [True]})
    bg = pd.DataFrame({"evidence_id": ["s1", "s2"], "source_type": ["survey"] * 2, "organisation": ["Org"] * 2,
                       "authors": [None] * 2, "year": pd.array([2020, 2021], dtype="Int64"), "population": ["adults"] * 2,
                       "condition": ["tinnitus", "healthy"], "outcome_domain": ["hearing"] * 2, "statement": ["x"] * 2,
                       "direction": ["harm"] * 2, "measure": [None] * 2, "n": pd.array([None, None], dtype="Int64")})
    links = link_background(claims, bg, target_condition="tinnitus", population_label="people with tinnitus").set_index("outcome_id")
    assert links.loc["s1", "indirect_reason"] == "" and links.loc["s2", "indirect_reason"] == "not people with tinnitus"


def test_verdict_and_certainty_reasons_name_the_population_from_its_parameters():
    verdict, reasons = decide_verdict(claim(), trials(), population_label="people with tinnitus")
    assert (verdict, reasons) == ("insufficient", ["No direct controlled studies in people with tinnitus; only uncontrolled "
                                                   "or indirect evidence."])
    _, reasons = grade_certainty(trials(rct(directness="indirect", ms=False)), population_label="people with tinnitus")
    assert "Indirectness (-2): Very serious: no study in people with tinnitus." in reasons


# --- labels for readers ---------------------------------------------------------------------------

def test_evidence_map_columns_and_alt_text_name_the_condition_label():
    assert charts.evidence_columns("tinnitus") == ("Randomised, tinnitus", "Other controlled, tinnitus",
                                                   "Uncontrolled, tinnitus", "Indirect")
    t = pd.DataFrame({"claim_id": ["c"] * 3, "directness": ["direct", "direct", "indirect"], "design": ["rct", "cohort", "rct"],
                      "controlled": [True, True, True], "participants": [10.0, 20.0, 30.0], "trial_group": ["a", "b", "c"],
                      "direction": ["benefit"] * 3})
    assert charts.evidence_column(t, "tinnitus").tolist() == ["Randomised, tinnitus", "Other controlled, tinnitus", "Indirect"]
    claims = pd.DataFrame({"claim_id": ["c"], "order": [1], "claim": ["Humming helps."]})
    ax = charts.plot_evidence_map(pd.DataFrame({"claim_id": ["c"], "verdict": ["supported"]}), t, claims, population="tinnitus")
    assert [x.get_text() for x in ax.get_xticklabels()][0] == "Randomised\ntinnitus"
    assert "uncontrolled studies in tinnitus" in ax.description
    charts.plt.close("all")


def test_code_labels_come_from_the_vocabulary_files(data_copy):
    write(data_copy.folder, "interventions.csv", "code,label\nmassage,Hands-on massage\nreflexology,Reflexology\n"
          "slow_stroke_back_massage,A\naromatherapy_massage,B\nabdominal_massage,C\naquatic_bodywork,D\nmyofascial_release,E\n"
          "craniosacral_therapy,F\nosteopathic_manipulation,G\nlymphatic_drainage,H\nself_massage,I\nother_manual,J\n")
    ev = load_evidence(**data_copy.params)
    labels = report.code_labels(ev)
    assert labels["massage"] == "Hands-on massage" and labels["other"] == "Other condition" and labels["pain"] == "Pain"
    assert report.condition_label(ev, "ms") == "MS" and report.condition_label(ev, "unknown") == "unknown"


def test_methods_text_shows_the_reviews_own_words():
    text = ('when the population has <!--topic:condition-->MS<!--/topic--> and <!--topic:population-->people with MS'
            '<!--/topic--> use <!--topic:intervention-->massage<!--/topic--> <!--topic:other-->kept<!--/topic--><!-- a note -->')
    words = {"condition": "tinnitus", "population": "people with *tinnitus* | x", "intervention": "humming"}
    assert topic_methods_text(text, words) == ("when the population has tinnitus and people with \\*tinnitus\\* \\| x "
                                               "use humming kept")


def test_the_bundled_methods_page_reads_as_before():
    from evidence_review.paths import project_root

    source = (project_root() / "docs" / "methods.md").read_text(encoding="utf-8")
    bundled = topic_methods_text(source, {"condition": "MS", "population": "people with MS", "intervention": "massage"})
    assert "<!--" not in bundled and "when the population has MS, the curator" in bundled
    assert bundled == topic_methods_text(source, {})


def test_a_page_shows_the_parameters_it_ran_with_not_the_defaults():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('title = "default"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('title = "ran"', metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("print(title)")]
    assert [c.source for c in without_default_parameters(nb).cells] == ['title = "ran"', "print(title)"]
    alone = nbformat.v4.new_notebook()
    alone.cells = [nbformat.v4.new_code_cell('title = "default"', metadata={"tags": ["parameters"]})]
    assert len(without_default_parameters(alone).cells) == 1  # a notebook run with its defaults keeps them


# --- the claim drafter's words --------------------------------------------------------------------

WORDS = TopicWords(condition=("tinnitus", "ringing in the ears"), intervention=("humming",))


def test_topic_words_make_a_health_statement_and_a_benefit():
    sentence = "Evening humming quietens the ringing in the ears"
    assert not is_health_claim(sentence, [])  # no generic health word, no domain
    assert is_health_claim(sentence, [], WORDS)
    assert is_health_claim("Tinnitus is common among older adults", [], WORDS)
    assert propose_claim_type("Better quality of sleep", section="Other benefits of humming", words=WORDS) == "benefit"
    assert propose_claim_type("Better quality of sleep", section="Other benefits of humming") == "background"
    assert propose_claim_type("Humming eases tension in the jaw", words=WORDS) == "benefit"
    draft = draft_claims("Humming\n\nEvening humming quietens the ringing in the ears.\n", pd.DataFrame(columns=["code", "synonym"]),
                         WORDS)
    assert draft["claim_type"].tolist() == ["benefit"]


def test_topic_words_come_from_the_vocabulary_labels_and_the_word_list(tmp_path):
    conditions = pd.DataFrame({"code": ["tinnitus"], "label": ["tinnitus"]})
    interventions = pd.DataFrame({"code": ["humming"], "label": ["Humming"]})
    listed = load_topic_words(write(tmp_path, "topic_words.csv", "word,kind\nringing in the ears,condition\nhum,intervention\n"))
    assert topic_words(conditions, interventions, listed) == TopicWords(("tinnitus", "ringing in the ears"), ("Humming", "hum"))
    with pytest.raises(InputError, match=r"row 2, column 'kind': kind must be one of condition, intervention"):
        load_topic_words(write(tmp_path, "bad.csv", "word,kind\nbuzz,symptom\n"))


def test_counts_chart_labels_interventions_from_the_vocabulary():
    studies = pd.DataFrame({"intervention": ["humming"] * 3 + ["singing"] * 2 + ["no_intervention"]})
    ax = charts.plot_counts(studies, "intervention", "By intervention", labels={"humming": "Humming", "singing": "Singing"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["No intervention (observational)", "Singing", "Humming"]
    assert "most common: Humming 3, Singing 2" in ax.description
    charts.plt.close("all")


# --- one code, one meaning across the vocabulary files --------------------------------------------

def test_a_code_labelled_differently_in_two_vocabularies_is_refused_with_the_rest(data_copy):
    conditions = data_copy.read("conditions.csv")
    data_copy.write("conditions.csv", pd.concat([conditions, pd.DataFrame([
        {"code": "pain", "label": "Chronic pain", "description": "people with chronic pain"},  # outcome domain 'Pain'
        {"code": "fatigue", "label": "Fatigue", "description": "same code, same label: one meaning"}])], ignore_index=True))
    data_copy.set("studies.csv", 0, "year", "19")  # another problem, reported in the same run
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    message = str(err.value)
    row = len(conditions) + 2  # the first added row, in spreadsheet numbering
    assert (f"{data_copy.path('conditions.csv')}: row {row}, column 'code': code 'pain' is also in "
            f"{data_copy.path('outcome_domains.csv')} (row 2) with the label 'Pain'") in message
    assert "'fatigue'" not in message and "studies.csv" in message


def test_conflicting_labels_names_the_earlier_file_and_allows_equal_labels():
    from evidence_review.claims import conflicting_labels

    domains = pd.DataFrame({"code": ["pain", "sleep"], "label": ["Pain", "Sleep"]})
    conditions = pd.DataFrame({"code": ["ms", "sleep"], "label": ["MS", "Sleep"]})
    interventions = pd.DataFrame({"code": ["ms", "hum"], "label": ["Mindful stretching", "Humming"]})
    errors = conflicting_labels({"d.csv": domains, "c.csv": conditions, "i.csv": interventions})
    assert [str(e).splitlines() for e in errors] == [[
        "Invalid input 'i.csv' (1 problem):",
        "  - row 2, column 'code': code 'ms' is also in c.csv (row 2) with the label 'MS'; a code means one thing in every "
        "vocabulary file: give it the same label in both or use another code"]]
    assert conflicting_labels({"d.csv": domains, "c.csv": conditions}) == []
