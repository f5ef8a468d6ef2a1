"""Issue 14, requirement 5: the build validates, loads and synthesises once; its notebooks read the
result from a signed file instead of computing it again, and the pages do not change by a byte."""

from __future__ import annotations

import pickle
from dataclasses import replace

import nbformat
import pandas as pd
import pytest

from evidence_review import build as build_module
from evidence_review import outputs
from evidence_review.cli import main
from evidence_review.notebook_runner import KERNEL_NAME, _tidy_notebook
from evidence_review.paths import project_root
from evidence_review.pipeline import load_review, prepare_review, save_review, start_notebook
from evidence_review.review_file import KEY_ENV, MAGIC, ResultsFileError, new_key, read_signed, write_signed
from evidence_review.tables import InputError

FICTIONAL = project_root() / "tests" / "fixtures" / "fictional"


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != outputs.LOCK_NAME}


# --- the signed file ----------------------------------------------------------------------------


def test_signed_file_reads_back_what_was_written(tmp_path):
    key = new_key()
    value = {"table": pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}), "note": "x"}
    read = read_signed(write_signed(value, tmp_path / "results", key), key)
    assert read["note"] == "x"
    pd.testing.assert_frame_equal(read["table"], value["table"])
    assert not [p.name for p in tmp_path.iterdir() if p.name != "results"]  # no temporary file left


class _Planted:
    """Unpickling this creates a file: proof that a payload was unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("case, says", [
    ("other key", "not written by this build"),
    ("changed byte", "not written by this build"),
    ("no key", f"no key in {KEY_ENV}"),
    ("plain pickle", "not a results file"),
    ("bad key", "not a key the build made"),
])
def test_signed_file_refuses_before_unpickling(tmp_path, case, says):
    planted = tmp_path / "planted"
    path = tmp_path / "results"
    key = new_key()
    if case == "plain pickle":
        path.write_bytes(pickle.dumps(_Planted(planted)))
    else:
        write_signed(_Planted(planted), path, new_key() if case == "other key" else key)
    if case == "changed byte":
        data = bytearray(path.read_bytes())
        data[-2] ^= 1
        path.write_bytes(bytes(data))
    read_key = {"no key": None, "bad key": "not hex"}.get(case, key)
    with pytest.raises(ResultsFileError, match=says):
        read_signed(path, read_key)
    assert not planted.exists()


def test_signed_file_starts_with_its_format_and_signature(tmp_path):
    data = write_signed([1], tmp_path / "results", new_key()).read_bytes()
    assert data.startswith(MAGIC)
    assert len(data) > len(MAGIC) + 32


# --- notebook start-up ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """The bundled review, computed once and saved as the build saves it."""
    review = prepare_review()
    key = new_key()
    path = save_review(review, tmp_path_factory.mktemp("computed") / "results", key)
    return review, path, key


def test_loaded_review_is_the_computed_one(computed):
    review, path, key = computed
    loaded = load_review(key=key, results_path=str(path))
    assert loaded.params == replace(review.params, results_path=path) and loaded.excluded_studies == review.excluded_studies
    for name in ("claims", "studies", "outcomes", "reviews", "domains", "background"):
        pd.testing.assert_frame_equal(getattr(loaded.evidence, name), getattr(review.evidence, name))
    for name in ("links", "trials", "pooled", "verdicts", "certainty_domains"):
        pd.testing.assert_frame_equal(getattr(loaded.synthesis, name), getattr(review.synthesis, name))
    pd.testing.assert_frame_equal(loaded.scorecard, review.scorecard)


def test_start_notebook_takes_the_synthesis_from_the_file(tmp_path, monkeypatch, computed):
    """Nothing is recomputed: a synthesis that only the file holds is what the notebook gets."""
    review, _, key = computed
    marked = prepare_review()
    verdicts = marked.synthesis.verdicts.copy()
    verdicts.loc[0, "verdict"] = "read-from-the-file"
    object.__setattr__(marked.synthesis, "verdicts", verdicts)
    path = save_review(marked, tmp_path / "results", key)
    monkeypatch.setenv(KEY_ENV, key)
    started = start_notebook({"results_path": str(path), "claim_id": "fatigue"}, require_claim=True)
    assert started.synthesis.verdicts.loc[0, "verdict"] == "read-from-the-file"
    assert started.claim["claim_id"] == "fatigue"
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(InputError, match="column 'results_path': a results file is only read by the build"):
        start_notebook({"results_path": str(path)})


def test_results_of_other_parameters_are_refused(computed):
    _, path, key = computed
    with pytest.raises(InputError) as err:
        load_review(key=key, results_path=str(path), min_year=2010, pooling_method="pm")
    assert "column 'results_path': the results file was computed with other values of min_year, pooling_method" in str(err.value)


@pytest.mark.parametrize("results_path, params, says", [
    (42, {}, "column 'results_path': results_path must be a path"),
    ("no/such/file", {}, "column 'results_path': results file not found"),
    (None, {"claim_id": "cures-ms"}, "column 'claim_id': unknown claim_id 'cures-ms'"),
])
def test_bad_results_path_or_claim_is_one_clear_message(computed, results_path, params, says):
    _, path, key = computed
    with pytest.raises(InputError, match=says):
        load_review(key=key, require_claim=True, results_path=str(path) if results_path is None else results_path, **params)


# --- the executed notebook does not show the results file ---------------------------------------


def _executed_notebook(injected: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"title": "T", "results_path": "x"}}
    params = nbformat.v4.new_code_cell('title = "default"')
    params.metadata["tags"] = ["parameters"]
    cell = nbformat.v4.new_code_cell(injected)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells = [params, cell, nbformat.v4.new_code_cell("1 + 1")]
    return nb


def test_tidy_shows_only_the_shown_parameters():
    from papermill.translators import translate_parameters

    nb = _executed_notebook('# Parameters\ntitle = "T"\nresults_path = "reports/.staging-1/.computed-review"\n')
    _tidy_notebook(nb, shown_parameters={"title": "T"})
    assert nb.cells[1].source == translate_parameters(KERNEL_NAME, "python", {"title": "T"}, "Parameters")
    assert "results_path" not in nbformat.writes(nb)
    nb = _executed_notebook('# Parameters\nresults_path = "x"\n')
    _tidy_notebook(nb, shown_parameters={})
    assert [c.source for c in nb.cells] == ['title = "default"', "1 + 1"]


# --- end to end ---------------------------------------------------------------------------------


def test_computing_once_gives_the_bytes_of_every_notebook_computing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(FICTIONAL)
    built = {}
    for once in (True, False):
        monkeypatch.setattr(build_module, "COMPUTE_ONCE", once)
        out = tmp_path / f"compute-once-{once}"
        code = main(["build", "--params", "params.yaml", "--output", str(out), "--claims", "quieter-tinnitus,vagus-nerve"])
        assert code == 0, capsys.readouterr().err
        built[once] = snapshot(out)
    assert sorted(built[True]) == sorted(built[False])
    assert [name for name in built[True] if built[True][name] != built[False][name]] == []
    assert not [name for name in built[True] if build_module.RESULTS_FILE in str(name)]
    assert not [name for name, data in built[True].items() if build_module.RESULTS_FILE.encode() in data]


def test_build_notebooks_read_the_results_file(tmp_path, monkeypatch, capsys):
    """A results file the kernels cannot verify stops the first notebook: they read it, not the data."""
    monkeypatch.chdir(FICTIONAL)
    monkeypatch.setattr(build_module, "save_review", lambda review, path, key: save_review(review, path, new_key()))
    code = main(["build", "--params", "params.yaml", "--output", str(tmp_path / "out"), "--no-claim-reports", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "the results file was not written by this build" in err
    assert not (tmp_path / "out").exists()
