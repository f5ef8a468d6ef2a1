"""The build command: bad input changes nothing, output is escaped, atomic and deterministic."""

import nbformat
import pytest

from evidence_review import notebook_runner
from evidence_review import outputs
from evidence_review.notebook_runner import BuildError, Job, run_notebook
from evidence_review.outputs import swap_into_place
from evidence_review.result_files import write_results
from evidence_review.cli import main
from evidence_review.pipeline import prepare_review


@pytest.fixture
def previous_reports(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "verdicts.csv").write_text("previous build\n")
    (out / outputs.MARKER).write_text(outputs.MARKER_TEXT)
    (out / outputs.MANIFEST).write_text("verdicts.csv\n")
    return out


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != outputs.LOCK_NAME}


def write_params(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "yaml_text, expected",
    [
        ("designs: [rct, anecdote]\n", "valid designs: systematic_review"),
        ("min_year: 2999\n", "column 'min_year'"),
        ("studies_path: no/such/file.csv\n", "column 'studies_path': data file not found"),
        ("studie_path: data/studies.csv\n", "column 'studie_path': unknown parameter"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_bad_parameters_exit_2_and_leave_reports(tmp_path, previous_reports, capsys, yaml_text, expected):
    before = snapshot(previous_reports)
    code = main(["build", "--params", write_params(tmp_path, yaml_text), "--output", str(previous_reports)])
    err = capsys.readouterr().err
    assert code == 2
    assert "params.yaml" in err and expected in err
    assert snapshot(previous_reports) == before


def test_unknown_claim_in_claims_option(previous_reports, capsys):
    code = main(["build", "--output", str(previous_reports), "--claims", "fatigue,cures-ms"])
    assert code == 2
    assert "unknown claim_id(s) ['cures-ms']; valid claim_ids:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, row, column, value",
    [
        ("claims.csv", 0, "claim_id", "tension-relief"),  # duplicate id
        ("outcomes.csv", 2, "study_id", "ghost2020"),  # unknown study
        ("studies.csv", 1, "year", "199"),  # 3-digit year
    ],
)
def test_bad_data_exit_2_and_leave_reports(tmp_path, data_copy, previous_reports, capsys, name, row, column, value):
    data_copy.set(name, row, column, value)
    lines = "".join(f"{k}: {v}\n" for k, v in data_copy.params.items())
    before = snapshot(previous_reports)
    code = main(["build", "--params", write_params(tmp_path, lines), "--output", str(previous_reports)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{name}" in err and f"row {row + 2}, column '{column}'" in err
    assert snapshot(previous_reports) == before
    assert not list(previous_reports.glob(".staging-*"))


def test_results_are_deterministic(tmp_path):
    review = prepare_review()
    write_results(review, tmp_path / "a")
    write_results(prepare_review(), tmp_path / "b")
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert a.keys() == b.keys() and a == b
    header = (tmp_path / "a" / "verdicts.csv").read_text().splitlines()[0]
    assert header.startswith("claim_id,verdict,certainty,studies,trials,participants")


def test_swap_keeps_old_reports_if_the_move_fails(monkeypatch, previous_reports):
    staging = outputs.new_staging_folder(previous_reports)
    (staging / "verdicts.csv").write_text("new build\n")

    def failing(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "exchange", failing)
    monkeypatch.setattr(outputs.os, "replace", failing)
    with pytest.raises(KeyboardInterrupt):
        swap_into_place(staging, previous_reports)
    assert (previous_reports / "verdicts.csv").read_text() == "previous build\n"


def test_failing_notebook_names_notebook_and_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": notebook_runner.KERNEL_NAME, "display_name": "x", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('broken data')")]
    source = tmp_path / "broken.ipynb"
    nbformat.write(nb, source)
    with pytest.raises(BuildError) as err:
        run_notebook(Job(source, tmp_path / "out" / "broken.ipynb", {}, "broken"))
    assert "notebook broken.ipynb failed at cell 2" in str(err.value)
    assert "ValueError: broken data" in str(err.value)


def test_full_build_escapes_csv_text_in_html(tmp_path, data_copy, capsys):
    """End to end on a copy of the data whose first claim carries a script tag."""
    frame = data_copy.read("claims.csv")
    frame.loc[0, "claim"] = "<script>alert('x')</script> Massage does not change the course of MS."
    data_copy.write("claims.csv", frame)
    out = tmp_path / "reports"
    params = write_params(tmp_path, "".join(f"{k}: {v}\n" for k, v in data_copy.params.items()))
    code = main(["build", "--params", params, "--output", str(out), "--claims", frame.loc[0, "claim_id"]])
    assert code == 0, capsys.readouterr().err
    for page in [out / "01_claims.html", out / "claims" / f"{frame.loc[0, 'claim_id']}.html"]:
        html = page.read_text()
        assert "&lt;script&gt;alert(" in html
        assert "<script>alert(" not in html
        assert 'src="http' not in html  # reads offline: no CDN scripts
        assert "data:image/png;base64," in html or page.name == "01_claims.html"
    assert (out / "verdicts.csv").is_file() and (out / "index.html").is_file()
    assert not list(out.glob(".staging-*"))


def test_fictional_second_article_builds_by_parameters_alone(tmp_path, monkeypatch, capsys):
    """A second worked example (tests/fixtures/fictional, FICTIONAL TEST DATA) needs no code change."""
    from evidence_review.paths import project_root

    fixture = project_root() / "tests" / "fixtures" / "fictional"
    monkeypatch.chdir(fixture)
    out = tmp_path / "fictional-reports"
    code = main(["build", "--params", "params.yaml", "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    verdicts = (out / "verdicts.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in verdicts[1:]] == [
        "quieter-tinnitus", "faster-sleep", "vagus-nerve", "hearing-loss-common", "see-audiologist"]
    # Three fictional trials pool to g > 0 with a CI excluding no effect: the pooled estimate carries the verdict.
    assert verdicts[1].startswith("quieter-tinnitus,supported,")
    for claim_id in ("quieter-tinnitus", "see-audiologist"):
        assert (out / "claims" / f"{claim_id}.html").is_file()
    summary = (out / "summary.html").read_text()
    assert "Humming for tinnitus (fictional test data)" in summary
    effects = (out / "04_effects.html").read_text()
    assert "pooled: random effects (DL)" in effects  # three fictional trials report means and SDs
    assert not (out / "claims" / "fatigue.html").exists()
