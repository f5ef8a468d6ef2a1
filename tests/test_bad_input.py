"""Issue 6 bad-input suite: every wrong input file fails the build command with one clear error
naming the file, row and column, and leaves the previous reports untouched."""

import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from evidence_review import build as build_module
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
