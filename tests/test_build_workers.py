"""What the build's workers start from: the fork server (started early, warm, dying with the build)
and the HTML exporter (warmed up once, remembering its highlighting and sanitising)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest
from nbformat import v4

from evidence_review import html_export
from evidence_review.fork_server import fork_context, start_fork_server
from evidence_review.notebook_runner import _tidy_notebook
from evidence_review.paths import project_root

PYTHON = sys.executable

#: Runs the command line as a "child subreaper": processes it leaves behind are reparented to this
#: script, which waits for each and reports how it ended (killed by a signal, or exited).
_REAPER = textwrap.dedent("""
    import ctypes, json, os, subprocess, sys
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    done = subprocess.run([sys.executable, "-m", "evidence_review.cli", *sys.argv[1:]], capture_output=True, text=True)
    left = []
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        left.append(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status))
    print(json.dumps({"rc": done.returncode, "stderr": done.stderr, "left": left}))
""")


def test_a_build_stopped_by_bad_input_takes_its_fork_server_along(tmp_path):
    # The command line starts the fork server before it reads the inputs. When the build then exits
    # (here at once, on a bad parameter), the server must die with it (SIGKILL through
    # PR_SET_PDEATHSIG), not finish its imports on its own and exit later (status 0).
    params = tmp_path / "params.yaml"
    params.write_text("pooling_method: nonsense\n")
    done = subprocess.run([PYTHON, "-c", _REAPER, "build", "--params", str(params), "--output", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    report = json.loads(done.stdout)
    assert report["rc"] == 2 and "pooling_method" in report["stderr"] and "Traceback" not in report["stderr"]
    # Two processes outlived the build: multiprocessing's resource tracker, which exits by itself (0),
    # and the fork server, SIGKILLed (9).
    assert sorted(report["left"]) == [0, 9]
    assert not (tmp_path / "out").exists()


def test_check_starts_no_fork_server(tmp_path):
    done = subprocess.run([PYTHON, "-c", _REAPER, "check"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    report = json.loads(done.stdout)
    assert report["rc"] == 0 and report["left"] == []


def _worker_state():
    from evidence_review import html_export as exporter_module

    return "papermill" in sys.modules, exporter_module._notebook_exporter.cache_info().currsize


def test_workers_start_with_papermill_and_a_warm_exporter():
    start_fork_server()
    start_fork_server()  # a second call reuses the running server
    with ProcessPoolExecutor(max_workers=1, mp_context=fork_context()) as pool:
        assert pool.submit(_worker_state).result(timeout=120) == (True, 1)


def _notebook():
    image = nbformat.read(project_root() / "notebooks" / "02_studies.ipynb", as_version=4)
    png = next(o["data"]["image/png"] for c in image.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {}))
    outputs = [v4.new_output("display_data", data={"text/html": "<table><tr><td>a &amp; b</td></tr></table>",
                                                   "text/plain": "a & b"}),
               v4.new_output("display_data", data={"image/png": png, "text/plain": "A chart."},
                             metadata={"image/png": {"alt": "A chart."}})]
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Title\n\nSome *text* <b>bold</b>."),
                                v4.new_code_cell("import pandas as pd\nx = [1, 2]  # a comment", outputs=outputs)])
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


def test_a_warmed_up_exporter_writes_the_same_bytes_as_a_fresh_one(tmp_path):
    nb = _notebook()
    try:
        html_export._notebook_exporter.cache_clear()
        html_export.export_notebook_html(copy.deepcopy(nb), tmp_path / "fresh.html", "A & B")
        html_export._notebook_exporter.cache_clear()
        html_export.warm_up_exporter()
        assert html_export._notebook_exporter.cache_info().currsize == 1
        html_export.export_notebook_html(copy.deepcopy(nb), tmp_path / "warm.html", "A & B")
    finally:
        html_export._notebook_exporter.cache_clear()
    fresh = (tmp_path / "fresh.html").read_bytes()
    assert fresh == (tmp_path / "warm.html").read_bytes()
    assert b"A &amp; B" in fresh and b"Warm-up" not in fresh


@pytest.mark.parametrize("lexer", ["ipython3", "python"])
def test_the_remembering_exporter_writes_what_nbconvert_writes(lexer):
    from nbconvert import HTMLExporter

    nb = _notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": lexer}
    plain = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    expected = plain.from_notebook_node(copy.deepcopy(nb))[0]
    assert f"hl-{lexer}" in expected
    for _ in range(2):  # the second time from its memory
        assert html_export._notebook_exporter().from_notebook_node(copy.deepcopy(nb))[0] == expected


def test_one_print_split_into_two_stream_messages_is_one_output():
    # The kernel flushes stdout on a timer: "48 claims ... results" and its newline can arrive as
    # two outputs, and two builds would then differ in bytes.
    nb = v4.new_notebook(cells=[v4.new_code_cell("print(1); import sys; print(2, file=sys.stderr)", outputs=[
        v4.new_output("stream", name="stdout", text="48 claims"), v4.new_output("stream", name="stdout", text="\n"),
        v4.new_output("stream", name="stderr", text="2\n"), v4.new_output("stream", name="stdout", text="3\n")])])
    _tidy_notebook(nb)
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [("stdout", "48 claims\n"), ("stderr", "2\n"), ("stdout", "3\n")]
