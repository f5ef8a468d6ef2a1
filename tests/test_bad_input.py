"""Issue 6 bad-input suite: every wrong input file fails the build command with one clear error
naming the file, row and column, and leaves the previous reports untouched."""

import os
import shutil
import signal
import subprocess
import sys
import time

import bibtexparser
import nbformat
import pandas as pd
import pytest
import rispy

from evidence_review import build as build_module
from evidence_review import notebook_runner
from evidence_review.cli import main


def mutate_text(path, fn):
    path.write_bytes(fn(path.read_bytes()))


def set_cell(name, row, column, value):
    return lambda dc: dc.set(name, row, column, value)


CASES = {
    # id: (mutation of the data copy, file named in the error, expected text)
    "claims-missing": (lambda dc: dc.path("claims.csv").unlink(), "claims_path", "data file not found"),
    "studies-empty": (lambda dc: dc.path("studies.csv").write_text(""), "studies.csv", "the file is empty"),
    "outcomes-header-only": (
        lambda dc: mutate_text(dc.path("outcomes.csv"), lambda b: b.split(b"\n")[0] + b"\n"),
        "outcomes.csv", "header but no data rows"),
    "claims-not-utf8": (
        lambda dc: mutate_text(dc.path("claims.csv"), lambda b: b.replace(b"Massage", "Mass\xe4ge".encode("latin-1"), 1)),
        "claims.csv", "not UTF-8"),
    "studies-missing-column": (
        lambda dc: dc.write("studies.csv", dc.read("studies.csv").drop(columns=["country"])),
        "studies.csv", "column 'country': required column is missing"),
    "outcomes-extra-column": (
        lambda dc: dc.write("outcomes.csv", dc.read("outcomes.csv").assign(effect_size="1")),
        "outcomes.csv", "column 'effect_size': unexpected column"),
    "studies-text-in-n": (set_cell("studies.csv", 3, "n_randomised", "about 40"), "studies.csv",
                          "row 5, column 'n_randomised': expected a whole number"),
    "studies-3-digit-year": (set_cell("studies.csv", 3, "year", "201"), "studies.csv", "row 5, column 'year'"),
    "claims-duplicate-id": (set_cell("claims.csv", 4, "claim_id", "fatigue"), "claims.csv",
                            "row 6, column 'claim_id': duplicate value"),
    "outcomes-unknown-study": (set_cell("outcomes.csv", 9, "study_id", "nobody1999"), "outcomes.csv",
                               "row 11, column 'study_id': study_id 'nobody1999' is not in the studies file"),
    "outcomes-ci-excludes-estimate": (
        lambda dc: dc.write("outcomes.csv", dc.read("outcomes.csv").assign(effect=lambda d: d["effect"].mask(d.index == 5, "9"),
                                                                           ci_low=lambda d: d["ci_low"].mask(d.index == 5, "0"),
                                                                           ci_high=lambda d: d["ci_high"].mask(d.index == 5, "1"))),
        "outcomes.csv", "row 7, columns 'effect/ci_low/ci_high': the CI does not contain its estimate"),
    "outcomes-negative-sd": (set_cell("outcomes.csv", 2, "sd_int", "-2.5"), "outcomes.csv",
                             "row 4, column 'sd_int': SD must be positive"),
    "studies-negative-n": (set_cell("studies.csv", 2, "n_analysed", "-8"), "studies.csv",
                           "row 4, column 'n_analysed': N must be positive"),
    "claims-unknown-vocabulary": (set_cell("claims.csv", 7, "outcome_domains", "pain;vibes"), "claims.csv",
                                  "row 9, column 'outcome_domains': unknown outcome domain code"),
    "studies-unknown-design": (set_cell("studies.csv", 0, "design", "blog_post"), "studies.csv",
                               "row 2, column 'design': unknown design"),
    "claims-very-long-field": (set_cell("claims.csv", 0, "notes", "x" * 20000), "claims.csv", "row 2, column 'notes'"),
    # Issue 12: values that used to pass validation and fail (or mislead) later in the build.
    "outcomes-inf-sd": (set_cell("outcomes.csv", 2, "sd_ctl", "inf"), "outcomes.csv",
                        "row 4, column 'sd_ctl': SD must be positive, from 1e-06 to 1e+09 (found 'inf')"),
    "outcomes-tiny-sd": (set_cell("outcomes.csv", 2, "sd_int", "1e-300"), "outcomes.csv",
                         "row 4, column 'sd_int': SD must be positive"),
    "outcomes-huge-mean": (set_cell("outcomes.csv", 2, "mean_int", "1e308"), "outcomes.csv",
                           "row 4, column 'mean_int': must be a finite number from -1e+09 to 1e+09 (found '1e308')"),
    "outcomes-nan-text": (set_cell("outcomes.csv", 2, "effect", "nan"), "outcomes.csv",
                          "row 4, column 'effect': not a number (found 'nan')"),
    "outcomes-arms-of-one": (
        lambda dc: dc.write("outcomes.csv", dc.read("outcomes.csv").assign(n_int=lambda d: d["n_int"].mask(d.index == 2, "1"),
                                                                           n_ctl=lambda d: d["n_ctl"].mask(d.index == 2, "1"))),
        "outcomes.csv", "row 4, column 'n_ctl': an arm's N must be at least 2"),
    "outcomes-arms-exceed-study-n": (
        lambda dc: dc.write("outcomes.csv", dc.read("outcomes.csv").assign(n_int=lambda d: d["n_int"].mask(d.index == 2, "5000"))),
        "outcomes.csv", "row 4, columns 'n_int/n_ctl': the arms hold"),
    "claims-300-character-id": (set_cell("claims.csv", 1, "claim_id", "c" * 300), "claims.csv",
                                "row 3, column 'claim_id': claim_id must be at most 80 characters"),
    "studies-semicolon-separated": (
        lambda dc: mutate_text(dc.path("studies.csv"), lambda b: b.replace(b",", b";")),
        "studies.csv", "row 1: the header row separates its columns with semicolons, not commas"),
    "studies-empty-row-inside": (
        lambda dc: mutate_text(dc.path("studies.csv"), lambda b: b.replace(b"\n", b"\n" + b"," * 29 + b"\n", 3)),
        "studies.csv", "row 2: the row is empty; delete it or fill it in"),
    "studies-too-many-values": (
        lambda dc: mutate_text(dc.path("studies.csv"), lambda b: b"\n".join(
            line + b",x,y" if i == 1 else line for i, line in enumerate(b.split(b"\n")))),
        "studies.csv", "row 2: more values than the header has column names"),
}


@pytest.fixture
def previous(tmp_path):
    out = tmp_path / "reports"
    (out / "claims").mkdir(parents=True)
    (out / "verdicts.csv").write_text("claim_id,verdict\nold,supported\n")
    (out / "claims" / "old.html").write_text("<p>old</p>")
    (out / build_module.MARKER).write_text("made by an earlier build\n")  # so the build may replace it
    return out


def snapshot(folder):
    # The build's empty lock file may appear; it is the build's own bookkeeping, not a report.
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != build_module.LOCK_NAME}


def params_file(tmp_path, data_copy):
    path = tmp_path / "params.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in data_copy.params.items()))
    return str(path)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_fails_build_cleanly(case, tmp_path, data_copy, previous, capsys):
    mutate, named, expected = CASES[case]
    mutate(data_copy)
    before = snapshot(previous)
    code = main(["build", "--params", params_file(tmp_path, data_copy), "--output", str(previous)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("error: Invalid input") == 1  # one error, every problem inside it
    assert named in err and expected in err
    assert snapshot(previous) == before
    assert not list(previous.glob(".staging-*"))


def test_html_and_script_text_loads(data_copy):
    """Markup in a CSV is data, not an error (it is escaped on output, see test_build)."""
    from evidence_review.studies import load_evidence

    data_copy.set("claims.csv", 0, "claim", "<b>Massage</b> <script>alert(1)</script> cures nothing")
    ev = load_evidence(**data_copy.params)
    assert ev.claims.loc[0, "claim"].startswith("<b>Massage</b>")


def broken_project(tmp_path, notebook):
    root = tmp_path / "project"
    shutil.copytree(build_module.project_root() / "notebooks", root / "notebooks")
    nb = nbformat.read(root / "notebooks" / f"{notebook}.ipynb", as_version=4)
    middle = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"][3]
    nb.cells[middle].source = "raise RuntimeError('simulated failure in the middle of the run')"
    nbformat.write(nb, root / "notebooks" / f"{notebook}.ipynb")
    return root


def test_notebook_failing_mid_run_keeps_previous_reports(tmp_path, data_copy, previous, capsys, monkeypatch):
    root = broken_project(tmp_path, "03_evidence_by_claim")
    monkeypatch.setattr(build_module, "project_root", lambda: root)
    before = snapshot(previous)
    code = main(["build", "--params", params_file(tmp_path, data_copy), "--output", str(previous), "--no-claim-reports"])
    err = capsys.readouterr().err
    assert code == 1
    assert "notebook 03_evidence_by_claim.ipynb failed at cell" in err
    assert "simulated failure in the middle of the run" in err
    assert snapshot(previous) == before
    assert not list(previous.glob(".staging-*"))


def test_ctrl_c_leaves_no_half_written_file(tmp_path, previous):
    before = snapshot(previous)
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "evidence_review.cli", "build", "--output", str(previous), "--jobs", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(previous.glob(".staging-*/*.csv")):
        time.sleep(0.2)
    time.sleep(3)  # let notebooks start
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"interrupted: the previous reports are unchanged" in err
    assert snapshot(previous) == before
    assert not list(previous.glob(".staging-*"))


ALIAS_BOMB = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")) + "min_year: *i\n"

PARAMETER_FILES = {
    # id: (YAML text, expected text)
    "alias-bomb": (ALIAS_BOMB, "line 1, column 4: YAML anchors and aliases (&name, *name) are not accepted"),
    "recursive-alias": ("designs: &d [rct, *d]\n", "YAML anchors and aliases"),
    "python-tag": ("title: !!python/object/apply:os.system [echo hi]\n", "could not determine a constructor"),
    "number-as-path": ("studies_path: 42\n", "column 'studies_path': studies_path must be a path written as text, got int 42"),
    "list-as-path": ("claims_path: [a.csv, b.csv]\nreviews_path: {file: r.csv}\n",
                     "column 'reviews_path': reviews_path must be a path written as text, got dict {'file': 'r.csv'}"),
    "number-as-name": ("2030: min_year\n", "parameter names must be text, got 2030"),
    "huge-file": ("title: " + "x" * 70_000 + "\n", "a parameters file is at most 65536 bytes"),
    "deep-nesting": ("title: " + "[" * 30_000 + "]" * 30_000 + "\n", "values nested more than 10 levels deep"),
    "key-twice": ("min_year: 2000\ntitle: x\nmin_year: 2010\n", "line 3, column 1: 'min_year' is given twice; keep one"),
    "huge-value": ("designs: [" + ", ".join(["q" * 50] * 1000) + "]\n", "unknown design(s) ['qqqq"),
}


@pytest.mark.parametrize("case", list(PARAMETER_FILES))
def test_bad_parameters_file_fails_build_cleanly(case, tmp_path, previous, capsys):
    text, expected = PARAMETER_FILES[case]
    path = tmp_path / "params.yaml"
    path.write_text(text)
    before = snapshot(previous)
    code = main(["build", "--params", str(path), "--output", str(previous)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("error: Invalid input") == 1 and expected in err
    assert len(err) < 2000  # whatever the file expands to, the message stays short
    assert snapshot(previous) == before


def test_hostile_text_and_filters_that_leave_no_evidence_build(tmp_path, data_copy, capsys):
    """'$' in a country and a section used to crash 02_studies (math in labels); designs: [systematic_review]
    used to crash 03_evidence_by_claim; trailing empty spreadsheet rows used to give 30 errors; a line break
    in a title injected a RIS record, a '}' in a DOI broke the BibTeX, and formulas reached claims.csv."""
    studies = data_copy.read("studies.csv")
    reviews = studies.index[studies["design"] == "systematic_review"]
    # Two '$' around text matplotlib cannot parse as math.
    studies.loc[reviews[:2], "country"] = [r"Costs $5 \frac{ a $\bad{ session", "US$ 20 $"]
    studies.loc[reviews[0], ["title", "doi", "source_url"]] = [
        "Massage\nER  - \nTY  - JOUR\nTI  - injected", "10.1234/a}b", "https://example.org/x}y;z"]
    data_copy.write("studies.csv", studies)
    data_copy.set("claims.csv", 0, "section", r"Fees $x^$ here")
    data_copy.set("claims.csv", 1, "claim", "=HYPERLINK(\"http://evil.example\", \"massage helps\")")
    width = len(data_copy.read("outcomes.csv").columns)
    with data_copy.path("outcomes.csv").open("a") as f:
        f.write(("," * (width - 1) + "\n") * 2)
    params = params_file(tmp_path, data_copy)
    with open(params, "a") as f:
        f.write("designs: [systematic_review]\n")
    out = tmp_path / "out"
    code = main(["build", "--params", params, "--output", str(out), "--no-claim-reports"])
    assert code == 0, capsys.readouterr().err[-3000:]
    for name in ("01_claims", "02_studies", "03_evidence_by_claim", "04_effects"):
        page = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "No study that met the inclusion filters (designs systematic_review) bears on a claim" in page
    verdicts = pd.read_csv(out / "verdicts.csv").merge(pd.read_csv(out / "claims.csv")[["claim_id", "claim_type"]], on="claim_id")
    # Authoritative background sources are not studies: the design filter leaves the claims about the condition theirs.
    assert set(verdicts.loc[verdicts["claim_type"] != "background", "verdict"]) == {"no_evidence", "not_testable"}
    bib = bibtexparser.parse_string((out / "studies.bib").read_text(encoding="utf-8"))
    assert not bib.failed_blocks
    assert reviews.size == len(bib.entries) == len(rispy.loads((out / "studies.ris").read_text(encoding="utf-8")))
    claims = pd.read_csv(out / "claims.csv", dtype=str)["claim"]
    assert claims.str.startswith("'=HYPERLINK(").sum() == 1 and not claims.str.startswith("=").any()


def test_typo_in_a_papermill_parameter_stops_the_notebook(tmp_path):
    """papermill itself only warns about a parameter the notebook does not declare."""
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(build_module.project_root() / "notebooks" / "01_claims.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"min_yaer": 2030}, kernel_name=notebook_runner.KERNEL_NAME, progress_bar=False,
                            cwd=str(build_module.project_root()))
    assert err.value.ename == "InputError"
    assert "column 'min_yaer': unknown parameter (did you mean min_year?); valid parameters: claims_path" in err.value.evalue


def test_parameter_paths_start_in_the_current_folder_or_home(tmp_path, monkeypatch):
    from evidence_review.parameters import read_parameters_file

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text("claims_path: my/claims.csv\nstudies_path: ~/s.csv\nreviews_path: /abs/r.csv\ntitle: ~/not-a-path\n")
    params = read_parameters_file(path)
    assert params["claims_path"] == str(tmp_path / "my" / "claims.csv")
    assert params["studies_path"] == str(tmp_path / "home" / "s.csv")
    assert params["reviews_path"] == "/abs/r.csv" and params["title"] == "~/not-a-path"
