"""`evidence-review new` and `evidence-review check`, through the real command line."""

import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
import yaml

from evidence_review.cli import main
from evidence_review.parameters import PARAMETER_NAMES, read_parameters_file
from evidence_review.paths import project_root
from evidence_review.scaffold import REVIEW_FILES, VOCABULARY_FILES
from evidence_review.tables import InputError, Problem, combine_errors

ROOT = project_root()
FICTIONAL = ROOT / "tests" / "fixtures" / "fictional"
#: The files of a review that hold rows to fill in (the optional ones are not used until set).
REQUIRED_CSV = ("claims.csv", "studies.csv", "outcomes.csv", "reviews.csv", "outcome_domains.csv", "conditions.csv",
                "interventions.csv")


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def schema_columns(name):
    """The columns the loader of each file expects."""
    from evidence_review.background import BACKGROUND_COLUMNS
    from evidence_review.claims import DOMAINS_SCHEMA, claims_schema
    from evidence_review.drafting import SYNONYMS_SCHEMA
    from evidence_review.scorecard import SCORECARD_SCHEMA
    from evidence_review.studies import outcomes_schema, studies_schema, reviews_schema

    return set({
        "claims.csv": claims_schema(set()).columns, "studies.csv": studies_schema().columns,
        "outcomes.csv": outcomes_schema(set()).columns, "reviews.csv": reviews_schema(set()).columns,
        "background_evidence.csv": BACKGROUND_COLUMNS, "scorecard.csv": SCORECARD_SCHEMA.columns,
        "domain_synonyms.csv": SYNONYMS_SCHEMA.columns,
    }.get(name, DOMAINS_SCHEMA.columns))


@pytest.fixture
def here(tmp_path, monkeypatch):
    """The folder the user types the commands in."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- new -------------------------------------------------------------------------------------------


def test_new_writes_a_ready_to_fill_review(here, capsys):
    assert main(["new", "my-review"]) == 0
    out = capsys.readouterr().out
    assert "evidence-review check --params my-review/params.yaml" in out
    folder = here / "my-review"
    assert sorted(p.name for p in folder.iterdir()) == sorted([*REVIEW_FILES, "params.yaml", "README.md", "DATA_DICTIONARY.md"])
    assert set(VOCABULARY_FILES) <= set(REVIEW_FILES) and set(REQUIRED_CSV) <= set(REVIEW_FILES)
    for name in REVIEW_FILES:
        text = (folder / name).read_text(encoding="utf-8")
        assert text.count("\n") == 1, f"{name} holds more than its header"  # no example rows: a loader would read them
        header = text.strip().split(",")
        assert set(header) == schema_columns(name), name
        assert text == (ROOT / "data" / name).read_text(encoding="utf-8-sig").splitlines(keepends=True)[0]
    # The data dictionary travels with the review, so it is usable without the project beside it.
    assert (folder / "DATA_DICTIONARY.md").read_bytes() == (ROOT / "data" / "README.md").read_bytes()
    assert "DATA_DICTIONARY.md" in (folder / "README.md").read_text(encoding="utf-8")


def test_new_params_yaml_lists_every_parameter_with_a_comment(here):
    assert main(["new", "my-review"]) == 0
    text = (here / "my-review" / "params.yaml").read_text(encoding="utf-8")
    settings = [line for line in text.splitlines() if not line.startswith("#")]
    assert [line.split(":")[0] for line in settings] == list(PARAMETER_NAMES)
    assert all("  # " in line for line in settings)
    raw = yaml.safe_load(text)
    assert raw["claims_path"] == "my-review/claims.csv" and raw["output_dir"] == "my-review/reports"
    assert raw["scorecard_path"] is None and raw["background_path"] is None  # optional files: off until filled
    assert raw["title"] == raw["target_condition"] == raw["population_label"] == ""  # the topic: still to fill in
    assert read_parameters_file(here / "my-review" / "params.yaml")["studies_path"] == str(here / "my-review" / "studies.csv")


def test_new_into_an_empty_folder(here):
    (here / "empty").mkdir()
    assert main(["new", "empty"]) == 0
    assert (here / "empty" / "params.yaml").is_file()
    assert not [p for p in here.iterdir() if p.name.startswith(".")]  # no staging folder left behind


@pytest.mark.parametrize("setup, says", [
    (lambda f: (f.mkdir(), (f / "claims.csv").write_text("mine\n")), "it is not empty (it holds 'claims.csv')"),
    (lambda f: f.write_text("a file\n"), "it is a file, not a folder"),
    (lambda f: None, None),
])
def test_new_refuses_a_folder_that_holds_anything_and_never_overwrites(here, capsys, setup, says):
    folder = here / "review"
    setup(folder)
    before = snapshot(here)
    code = main(["new", "review"])
    err = capsys.readouterr().err
    if says is None:  # control: a new folder is fine
        assert code == 0
        return
    assert code == 2 and says in err and "Nothing was written." in err
    assert "column 'FOLDER': refusing to create a new review in 'review'" in err
    assert snapshot(here) == before


def test_new_refuses_a_folder_under_a_file_or_a_dangling_symlink(here, capsys):
    (here / "notes.txt").write_text("my notes\n")
    (here / "gone").symlink_to(here / "nowhere")
    before = snapshot(here)
    assert main(["new", "notes.txt/review"]) == 2
    assert "notes.txt' is a file, not a folder" in capsys.readouterr().err
    assert main(["new", "gone"]) == 2
    assert "it is a symlink to a folder that does not exist" in capsys.readouterr().err
    assert snapshot(here) == before and not (here / "nowhere").exists()


def test_new_interrupted_leaves_nothing_behind(here, capsys, monkeypatch):
    from evidence_review import scaffold

    def interrupted(staging, given):
        (staging / "claims.csv").write_text("claim_id\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(scaffold, "_write_folder", interrupted)
    assert main(["new", "my-review"]) == 130
    assert "interrupted: nothing was written" in capsys.readouterr().err
    assert list(here.iterdir()) == []


def test_new_refuses_empty_text(here, capsys):
    assert main(["new", " "]) == 2
    assert "give the path of a new folder" in capsys.readouterr().err


def test_build_on_a_fresh_review_says_what_is_still_empty(here):
    """Through a real process: exit 2, every empty file and parameter named, no traceback, nothing written."""
    assert main(["new", "my-review"]) == 0
    before = snapshot(here)
    proc = subprocess.run([sys.executable, "-m", "evidence_review.cli", "build", "--params", "my-review/params.yaml"],
                          cwd=here, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: Invalid input")
    for name in REQUIRED_CSV:
        if name != "reviews.csv":  # a topic may have no published review: header only is allowed
            assert f"{here / 'my-review' / name}: the file has a header but no data rows" in proc.stderr
    assert f"{here / 'my-review' / 'reviews.csv'}: " not in proc.stderr
    for name in ("title", "target_condition", "population_label"):
        assert f"my-review/params.yaml: column '{name}': {name} must be a non-empty text, got ''" in proc.stderr
    assert "Nothing was written" in proc.stderr
    assert snapshot(here) == before and not (here / "my-review" / "reports").exists()


def fill_with_the_fictional_example(folder):
    """What a reviewer does next: rows in every file, the topic in params.yaml (FICTIONAL TEST DATA)."""
    for name in REQUIRED_CSV:
        source = FICTIONAL / name if (FICTIONAL / name).is_file() else ROOT / "data" / name
        shutil.copy(source, folder / name)
    example = yaml.safe_load((FICTIONAL / "params.yaml").read_text(encoding="utf-8"))
    topic = {"title": example["title"], "target_condition": example.get("target_condition", "ms"),
             "population_label": example.get("population_label", "people with tinnitus")}
    params = folder / "params.yaml"
    text = params.read_text(encoding="utf-8")
    for key, value in topic.items():
        text = text.replace(f"{key}: ''", f"{key}: {yaml.safe_dump(value, default_style=chr(34)).strip()}")
    params.write_text(text, encoding="utf-8")


def test_the_walk_from_new_to_a_clean_check(here, capsys):
    assert main(["new", "my-review"]) == 0
    fill_with_the_fictional_example(here / "my-review")
    before = snapshot(here)
    capsys.readouterr()
    assert main(["check", "--params", "my-review/params.yaml"]) == 0
    out = capsys.readouterr().out
    claims = pd.read_csv(here / "my-review" / "claims.csv")
    assert out.startswith(f"ok: {len(claims)} claims, ") and out.count("\n") == 1
    assert out.rstrip().endswith(f"the build may write to {here / 'my-review' / 'reports'}")
    assert snapshot(here) == before


def test_a_topic_without_published_reviews_builds(here, capsys):
    assert main(["new", "my-review"]) == 0
    fill_with_the_fictional_example(here / "my-review")
    reviews = here / "my-review" / "reviews.csv"
    reviews.write_text(reviews.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")
    assert main(["build", "--params", "my-review/params.yaml", "--no-claim-reports"]) == 0, capsys.readouterr().err
    effects = nbformat.read(here / "my-review" / "reports" / "04_effects.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in effects.cells if c.cell_type == "code" for o in c.outputs)
    assert "The reviews file lists no pooled result of a published review." in printed
    assert "No published review in the reviews file reports a pooled estimate." in printed


# --- check -----------------------------------------------------------------------------------------


def test_check_passes_the_bundled_review_and_writes_nothing(tmp_path, capsys):
    from evidence_review.studies import load_evidence

    ev = load_evidence()
    data_before = snapshot(ROOT / "data")
    out = tmp_path / "out"
    assert main(["check", "--output", str(out)]) == 0
    line = capsys.readouterr().out
    assert line == (f"ok: {len(ev.claims)} claims, {len(ev.studies)} studies (0 excluded by the filters), "
                    f"{len(ev.outcomes)} results, {len(ev.reviews)} pooled review results, {len(ev.background)} background "
                    f"statements, 10 scorecard criteria; the build may write to {out}\n")
    assert not out.exists() and snapshot(ROOT / "data") == data_before


def test_check_counts_what_the_filters_exclude(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("designs: [rct]\nscorecard_path: null\n")
    assert main(["check", "--params", str(params), "--output", str(tmp_path / "out")]) == 0
    line = capsys.readouterr().out
    from evidence_review.studies import load_evidence

    studies = load_evidence().studies
    kept = int((studies["design"] == "rct").sum())
    assert f"{kept} studies ({len(studies) - kept} excluded by the filters)" in line and "scorecard" not in line


def test_check_lists_every_problem_at_once_and_writes_nothing(tmp_path, data_copy, capsys):
    data_copy.set("claims.csv", 0, "claim_id", "tension-relief")  # a duplicate id
    data_copy.set("studies.csv", 1, "year", "199")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_text("not a photo")
    params = tmp_path / "params.yaml"
    params.write_text("".join(f"{k}: {v}\n" for k, v in data_copy.params.items()) + "min_year: 2999\ntitle: ''\n")
    before = snapshot(tmp_path)
    assert main(["check", "--params", str(params), "--output", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "column 'min_year': min_year must be a whole year" in err
    assert "column 'title': title must be a non-empty text" in err
    assert f"{data_copy.path('claims.csv')}: row 2, column 'claim_id': duplicate value" in err
    assert f"{data_copy.path('studies.csv')}: row 3, column 'year'" in err
    assert "command line (--output): column 'output_dir': refusing to write the reports to" in err
    assert snapshot(tmp_path) == before


def test_check_stops_on_an_unreadable_parameters_file(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("designs: &d [rct, *d]\n")
    assert main(["check", "--params", str(params)]) == 2
    assert "YAML anchors and aliases" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["check"], ["new", "fresh"]])
def test_review_py_runs_new_and_check_in_the_current_folder(tmp_path, command):
    proc = subprocess.run([sys.executable, str(ROOT / "review.py"), *command], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    if command[0] == "new":
        assert (tmp_path / "fresh" / "params.yaml").is_file()
    else:
        assert proc.stdout.startswith("ok: ")
    proc = subprocess.run([sys.executable, str(ROOT / "review.py"), *command], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == (2 if command[0] == "new" else 0)  # a second `new` is refused, a second check is the same


# --- the rules these commands rest on --------------------------------------------------------------


def test_combined_errors_name_each_file_once():
    a, b, c = (InputError(name, [Problem("bad", row=2, column="x")]) for name in ("a.csv", "b.csv", "c.csv"))
    nested = combine_errors([combine_errors([a, b]), c])
    assert nested.source == "a.csv and b.csv and c.csv"
    assert [str(p) for p in nested.problems] == ["a.csv: row 2, column 'x': bad", "b.csv: row 2, column 'x': bad",
                                                 "c.csv: row 2, column 'x': bad"]
    assert combine_errors([a]) is a


def test_files_are_read_even_when_the_domains_are_unusable(data_copy):
    from evidence_review.studies import load_evidence

    for name in ("outcome_domains.csv", "claims.csv", "conditions.csv"):
        text = data_copy.path(name).read_text(encoding="utf-8")
        data_copy.path(name).write_text(text.splitlines(keepends=True)[0], encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_evidence(**data_copy.params)
    for name in ("outcome_domains.csv", "claims.csv", "conditions.csv"):
        assert f"{data_copy.path(name)}: the file has a header but no data rows" in str(err.value)
    assert "studies.csv" not in str(err.value)  # the readable files are not reported
