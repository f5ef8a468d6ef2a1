"""The parameter object: declared once, and every other place agrees with it."""

import json

import pytest

from evidence_review.parameters import (
    DEFAULTS,
    INPUT_NAMES,
    PARAMETER_NAMES,
    PATH_NAMES,
    PARAMETERS,
    notebook_parameters,
    parameters_cell_disagreements,
    parameters_yaml,
    read_parameters_file,
    unknown_target_condition,
    validate_parameters,
)
from evidence_review.paths import BASE_ENV, project_root
from evidence_review.tables import InputError


def parameters_cell(name: str) -> str:
    cells = json.loads((project_root() / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if "parameters" in c["metadata"].get("tags", []))["source"])


def test_the_agreed_parameters_and_defaults_are_declared():
    assert PARAMETER_NAMES[0] == "claims_path" and len(set(PARAMETER_NAMES)) == len(PARAMETER_NAMES)
    assert {k: DEFAULTS[k] for k in ("conditions_path", "interventions_path", "target_condition", "population_label",
                                     "results_path")} == {
        "conditions_path": "data/conditions.csv", "interventions_path": "data/interventions.csv",
        "target_condition": "ms", "population_label": "people with MS", "results_path": None}
    assert set(INPUT_NAMES) == {"claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path",
                                "conditions_path", "interventions_path"}
    assert set(PATH_NAMES) == set(INPUT_NAMES) | {"background_path", "scorecard_path", "output_dir", "results_path"}
    assert all(p.description and "\n" not in p.description for p in PARAMETERS)


def test_every_path_default_is_a_bundled_file():
    p = validate_parameters()
    assert all(path.is_file() for path in p.input_files())
    assert p.conditions_path == project_root() / "data" / "conditions.csv" and p.results_path is None


@pytest.mark.parametrize("name", ["01_claims", "02_studies", "03_evidence_by_claim", "04_effects", "claim_report"])
def test_notebook_parameters_cell_agrees_with_the_declaration(name):
    assert parameters_cell_disagreements(parameters_cell(name), per_claim=name == "claim_report") == []


def test_the_claim_drafters_parameters_cell_agrees_with_its_declaration():
    from evidence_review.drafting import DRAFT_PARAMETERS

    assert parameters_cell_disagreements(parameters_cell("00_draft_claims"), declared=DRAFT_PARAMETERS) == []
    changed = parameters_cell("00_draft_claims").replace("draft_output = None", "draft_output = 'x.csv'")
    assert parameters_cell_disagreements(changed, declared=DRAFT_PARAMETERS) == ["draft_output = 'x.csv', but its default is None"]
    assert parameters_cell_disagreements(parameters_cell("00_draft_claims")) != []  # not the review's parameters


def test_claim_report_example_claim_is_a_bundled_claim():
    from evidence_review.studies import load_evidence

    namespace: dict = {}
    exec(parameters_cell("claim_report"), namespace)
    assert namespace["claim_id"] in set(load_evidence().claims["claim_id"])


def cell(**changes):
    values = {k: v for k, v in DEFAULTS.items() if k != "claim_id"}
    values.update(changes)
    return "# parameters\n" + "".join(f"{k} = {v!r}  # comment\n" for k, v in values.items() if v is not ...)


def test_a_cell_that_disagrees_is_caught():
    assert parameters_cell_disagreements(cell()) == []
    assert parameters_cell_disagreements(cell(min_n=20)) == ["min_n = 20, but its default is None"]
    assert parameters_cell_disagreements(cell(population_label=...)) == ["population_label is missing"]
    assert parameters_cell_disagreements(cell(min_yaer=2010)) == ["min_yaer is not a parameter"]
    assert parameters_cell_disagreements(cell(claim_id="fatigue")) == ["claim_id is not a parameter"]
    assert parameters_cell_disagreements(cell(), per_claim=True) == ["claim_id is missing",
                                                                     "claim_id must name a claim of the bundled review"]
    assert parameters_cell_disagreements(cell(claim_id="fatigue"), per_claim=True) == []
    assert parameters_cell_disagreements(cell() + "print(1)\n") == [f"line {len(PARAMETERS) + 1} is not a 'name = value' assignment"]


def test_notebooks_declare_every_parameter_the_build_passes():
    """papermill only warns about a parameter a notebook lacks; the build must never pass one."""
    from evidence_review.build import CLAIM_NOTEBOOK, NOTEBOOKS
    from evidence_review.pipeline import prepare_review

    review = prepare_review(min_year=2000, min_n=10, designs=["rct"], scorecard_path=None)
    passed = set(notebook_parameters(review.params, project_root())) | {"claim_id", "results_path"}
    for name in (*NOTEBOOKS, CLAIM_NOTEBOOK):
        namespace: dict = {}
        exec(parameters_cell(name), namespace)
        declared = {k for k in namespace if not k.startswith("__")}
        expected = passed if name == CLAIM_NOTEBOOK else passed - {"claim_id"}
        assert expected <= declared, f"{name} lacks {sorted(expected - declared)}"


def test_notebooks_get_every_parameter_but_the_output_paths_relative_to_the_base(tmp_path):
    p = validate_parameters(min_year=2000, designs=["rct"], scorecard_path=None, title="T")
    passed = notebook_parameters(p, project_root() / "data")
    assert set(passed) == set(PARAMETER_NAMES) - {"output_dir", "claim_id", "results_path"}
    assert passed["claims_path"] == "claims.csv" and passed["conditions_path"] == "conditions.csv"
    assert passed["scorecard_path"] is None and passed["designs"] == ["rct"] and passed["min_year"] == 2000
    assert notebook_parameters(validate_parameters(), project_root())["designs"] is None  # every design: the default


@pytest.mark.parametrize("changes, column, says", [
    ({"conditions_path": "no/such.csv"}, "conditions_path", "data file not found: no/such.csv"),
    ({"interventions_path": 3}, "interventions_path", "interventions_path must be a path written as text, got int 3"),
    ({"target_condition": ""}, "target_condition", "target_condition must be a non-empty text, got ''"),
    ({"population_label": ["people"]}, "population_label", "population_label must be a non-empty text, got ['people']"),
    ({"results_path": "no/results.pkl"}, "results_path", "results file not found: no/results.pkl (use null for none)"),
    ({"results_path": 1.5}, "results_path", "results_path must be a path or null written as text, got float 1.5"),
    ({"background_path": 7}, "background_path", "background_path must be a path or null written as text, got int 7"),
])
def test_new_parameters_are_validated(changes, column, says):
    with pytest.raises(InputError) as err:
        validate_parameters("params.yaml", **changes)
    assert str(err.value).endswith(f"(1 problem):\n  - column '{column}': {says}")


def test_target_condition_hook_names_the_closest_code():
    assert unknown_target_condition("ms", ["ms", "other"], "params.yaml") is None
    err = unknown_target_condition("mss", ["ms", "other"], "params.yaml")
    assert str(err) == ("Invalid input 'params.yaml' (1 problem):\n  - column 'target_condition': target_condition 'mss' is "
                        "not a code of the conditions file (did you mean ms?); valid codes: ms, other")


def test_relative_paths_given_start_in_the_base_folder_and_defaults_in_the_project(tmp_path, monkeypatch):
    (tmp_path / "mine.csv").write_text("x\n")
    monkeypatch.setenv(BASE_ENV, str(tmp_path))
    p = validate_parameters(claims_path="mine.csv")
    assert p.claims_path == tmp_path / "mine.csv"
    assert p.studies_path == project_root() / "data" / "studies.csv"  # left out: the bundled default
    with pytest.raises(InputError, match="column 'studies_path': data file not found: data/studies.csv"):
        validate_parameters(studies_path="data/studies.csv")  # given: taken from the base folder


def test_yaml_lists_every_parameter_with_a_comment_and_reads_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    values = {"claims_path": "mine/claims.csv", "designs": ["rct", "crossover_rct"], "min_year": 2010,
              "title": "It's: a #title", "scorecard_path": None}
    text = parameters_yaml(values, header="My review\n# second line")
    lines = text.splitlines()
    assert lines[:2] == ["# My review", "# second line"] and len(lines) == 2 + len(PARAMETERS)
    assert all("  # " in line for line in lines[2:])
    path = tmp_path / "params.yaml"
    path.write_text(text)
    read = read_parameters_file(path)
    assert list(read) == list(PARAMETER_NAMES)
    assert read["claims_path"] == str(tmp_path / "mine" / "claims.csv")
    assert read["designs"] == ["rct", "crossover_rct"] and read["min_year"] == 2010 and read["title"] == "It's: a #title"
    assert read["scorecard_path"] is None and read["target_condition"] == "ms"
    with pytest.raises(KeyError):
        parameters_yaml({"colour": "red"})


def test_default_yaml_validates_from_the_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(project_root())
    path = tmp_path / "params.yaml"
    path.write_text(parameters_yaml())
    assert validate_parameters(**read_parameters_file(path)) == validate_parameters()


def test_readme_lists_every_parameter_with_its_default():
    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Parameters"):readme.index("## Reviewing another article")]
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[2].strip() for line in table.splitlines()
            if line.startswith("| `")}
    assert list(rows) == list(PARAMETER_NAMES)
    assert rows == {p.name: "null" if p.default is None else f"`{p.default}`" for p in PARAMETERS}
