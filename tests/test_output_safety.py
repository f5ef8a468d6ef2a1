"""Issue 12: the build only ever replaces its own output, survives crashes and concurrent runs,
turns file-system faults into one sentence, and gives byte-identical outputs.

Every case runs the real build command: in-process through ``cli.main`` where the build stops
before any notebook runs, as a subprocess (``review.py`` or ``python -m evidence_review.cli``)
where signals, processes, the current folder or two complete builds are the point.
"""

from __future__ import annotations

import difflib
import errno
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from evidence_review import build as build_module
from evidence_review import outputs
from evidence_review import notebook_runner
from evidence_review.notebook_runner import WORKER_MEMORY, cap_workers, source_cell_number
from evidence_review.cli import main
from evidence_review.parameters import DEFAULTS, INPUT_NAMES
from evidence_review.paths import project_root

ROOT = project_root()
FICTIONAL = ROOT / "tests" / "fixtures" / "fictional"
PYTHON = sys.executable


def snapshot(folder: Path) -> dict:
    """Every file's bytes, but for the build's empty lock file (its bookkeeping, left on purpose)."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.name != outputs.LOCK_NAME}


def marked_folder(path: Path, *entries: str) -> Path:
    """An output folder as an earlier build left it: marker, manifest and the listed files."""
    path.mkdir(parents=True)
    (path / outputs.MARKER).write_text(outputs.MARKER_TEXT)
    (path / outputs.MANIFEST).write_text("".join(f"{e}\n" for e in entries))
    for entry in entries:
        (path / entry).write_text(f"old {entry}\n")
    return path


def write_relative_params(home: Path) -> None:
    """Write ``home/params.yaml``: the example's parameters with paths relative to ``home``, as the README
    tells users to write them, its inputs in ``home/inputs``."""
    params = (home / "inputs" / "params.yaml").read_text().replace("_path: ", "_path: inputs/")
    params = params.replace("_path: inputs/null", "_path: null")  # null stays null
    for key in INPUT_NAMES:  # inputs the example leaves at their bundled defaults: copied too, so all are here
        if f"\n{key}:" not in params:
            shutil.copy(ROOT / DEFAULTS[key], home / "inputs" / Path(DEFAULTS[key]).name)
            params += f"{key}: inputs/{Path(DEFAULTS[key]).name}\n"
    (home / "params.yaml").write_text(params)


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """The folder a user runs the build in, holding their notes, photos and a copy of the inputs."""
    home = tmp_path / "home"
    shutil.copytree(FICTIONAL, home / "inputs")
    (home / "notes.txt").write_text("my notes\n")
    (home / "photos").mkdir()
    (home / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    write_relative_params(home)
    monkeypatch.chdir(home)
    return home


def build_in_process(*args: str, params: str = "params.yaml") -> int:
    return main(["build", "--params", params, "--no-claim-reports", *args])


# --- 1. Refused output folders: exit 2, the folder named, nothing touched ---------------------

REFUSALS = {
    # id: (output as given on the command line, or a setup returning it; expected reason)
    "current-folder": (".", "is (or contains) the folder you run the build in"),
    "parent-of-current-folder": ("..", "is (or contains) the folder you run the build in"),
    "root": ("/", "is the root of the file system"),
    "project-root": (str(ROOT), "is (or contains) the project folder"),
    "project-data": (str(ROOT / "data"), "is not empty (it holds 'README.md'"),
    "project-src": (str(ROOT / "src"), "and was not made by this build"),
    "folder-of-photos": ("photos", "is not empty (it holds 'cat.jpg') and was not made by this build"),
    "folder-holding-an-input": ("inputs", "it contains the input file"),
    "a-file": ("notes.txt", "it is a file, not a folder"),
    "parent-is-a-file": ("notes.txt/reports", "/notes.txt' is a file, not a folder"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_output_exits_2_and_touches_nothing(case, user_folder, capsys):
    output, reason = REFUSALS[case]
    before_home = snapshot(user_folder)
    before_project = sorted(p.name for p in ROOT.iterdir())
    code = build_in_process("--output", output)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "refusing to write the reports to" in err and reason in err
    assert "Traceback" not in err
    assert snapshot(user_folder) == before_home
    assert sorted(p.name for p in ROOT.iterdir()) == before_project


def test_refused_output_is_reported_with_the_data_problems(user_folder, capsys):
    (user_folder / "params.yaml").write_text((user_folder / "params.yaml").read_text() + "min_year: 1066\n")
    code = build_in_process("--output", "photos")
    err = capsys.readouterr().err
    assert code == 2 and err.count("error: Invalid input") == 1
    assert "column 'min_year'" in err and "refusing to write the reports to" in err and "'cat.jpg'" in err


def test_symlink_to_a_foreign_folder_is_refused_and_its_target_kept(user_folder, capsys):
    (user_folder / "link").symlink_to(user_folder / "photos")
    code = build_in_process("--output", "link")
    assert code == 2
    assert "'cat.jpg'" in capsys.readouterr().err
    assert (user_folder / "photos" / "cat.jpg").is_file() and (user_folder / "link").is_symlink()


def test_symlink_to_nothing_is_refused(user_folder, capsys):
    (user_folder / "dangling").symlink_to(user_folder / "no-such-folder")
    assert build_in_process("--output", "dangling") == 2
    assert "symlink to a folder that does not exist" in capsys.readouterr().err
    assert not (user_folder / "no-such-folder").exists()


@pytest.mark.parametrize("how", ["command line", "parameters file"])
def test_empty_output_is_refused_before_it_becomes_the_current_folder(how, user_folder, monkeypatch, capsys):
    inputs = user_folder / "inputs"
    (inputs / "empty-output.yaml").write_text((inputs / "params.yaml").read_text() + 'output_dir: ""\n')
    monkeypatch.chdir(inputs)  # the folder of the user's inputs: what an empty path would wipe
    before = snapshot(user_folder)
    if how == "command line":
        code = build_in_process("--output", "", params="params.yaml")
    else:
        code = build_in_process(params="empty-output.yaml")
    err = capsys.readouterr().err
    assert code == 2, err
    assert "must be a folder path" in err
    assert snapshot(user_folder) == before


def test_jobs_below_one_is_refused(user_folder, capsys):
    assert build_in_process("--output", "out", "--jobs", "0") == 2
    assert "--jobs must be 1 or more" in capsys.readouterr().err
    assert not (user_folder / "out").exists()


# --- 2. Locks and leftovers ------------------------------------------------------------------


def test_second_build_into_the_same_output_stops_at_once(user_folder, capsys):
    out = marked_folder(user_folder / "out", "verdicts.csv")
    before = snapshot(out)
    with outputs.lock_output_folder(out):  # stands in for a first build that is still running
        t0 = time.monotonic()
        code = build_in_process("--output", "out")
        waited = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == 1, err
    assert "another build is writing to" in err and "out" in err
    assert waited < 30  # validation only, no waiting for the lock
    assert snapshot(out) == before


def test_a_users_file_with_the_name_of_a_report_stops_the_build(user_folder, capsys):
    out = marked_folder(user_folder / "out", "verdicts.csv")
    (out / "index.html").write_text("<p>my own start page</p>")
    before = snapshot(out)
    code = build_in_process("--output", "out")
    err = capsys.readouterr().err
    assert code == 2, err
    assert "it holds 'index.html', which no earlier build wrote" in err
    assert snapshot(out) == before


def test_remove_leftovers_keeps_own_staging_and_other_entries(tmp_path):
    out = marked_folder(tmp_path / "out", "index.html")
    dead = out / ".staging-999999999"
    (dead / "claims").mkdir(parents=True)
    own = outputs.new_staging_folder(out)
    (out / ".staging-notes").mkdir()  # not a pid: not a staging folder of ours
    removed = outputs.remove_leftovers(out)
    assert removed == [dead] and not dead.exists()
    assert own.is_dir() and (out / ".staging-notes").is_dir() and (out / "index.html").is_file()


def test_swap_exchanges_entries_and_deletes_only_listed_old_ones(tmp_path):
    out = marked_folder(tmp_path / "out", "index.html", "gone.html")
    (out / "claims").mkdir()
    (out / "claims" / "old.html").write_text("old claim")
    (out / "mine.txt").write_text("a user's file")
    staging = outputs.new_staging_folder(out)
    (staging / "index.html").write_text("new index")
    (staging / "claims").mkdir()
    (staging / "claims" / "new.html").write_text("new claim")
    outputs.swap_into_place(staging, out)
    assert (out / "index.html").read_text() == "new index"
    assert [p.name for p in (out / "claims").iterdir()] == ["new.html"]
    assert not (out / "gone.html").exists()  # listed as the old build's own
    assert (out / "mine.txt").read_text() == "a user's file"  # never listed: kept
    assert (out / outputs.MANIFEST).read_text() == "claims\nindex.html\n"
    assert not staging.exists()


def test_a_hand_edited_manifest_cannot_unmark_the_folder_or_reach_outside(tmp_path):
    out = marked_folder(tmp_path / "out", "index.html")
    (tmp_path / "precious.txt").write_text("outside")
    (out / outputs.MANIFEST).write_text(f"index.html\n{outputs.MARKER}\n{os.pardir}\n{os.path.join(os.pardir, 'precious.txt')}\n")
    staging = outputs.new_staging_folder(out)
    (staging / "index.html").write_text("new index")
    outputs.swap_into_place(staging, out)
    assert (out / outputs.MARKER).is_file() and (tmp_path / "precious.txt").is_file()


def test_swap_without_the_atomic_exchange_still_replaces_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "exchange", lambda a, b: False)  # e.g. not Linux
    out = marked_folder(tmp_path / "out", "index.html")
    (out / "claims").mkdir()
    staging = outputs.new_staging_folder(out)
    (staging / "index.html").write_text("new index")
    (staging / "claims").mkdir()
    (staging / "claims" / "a.html").write_text("a")
    outputs.swap_into_place(staging, out)
    assert (out / "index.html").read_text() == "new index" and (out / "claims" / "a.html").is_file()
    assert not staging.exists()


# --- 3. File-system faults: exit 1, one sentence, no traceback ---------------------------------


def test_full_disk_while_writing_is_one_sentence(user_folder, monkeypatch, capsys):
    out = marked_folder(user_folder / "out", "verdicts.csv")
    before = snapshot(out)

    def disk_full(review, folder):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "verdicts.csv"))

    monkeypatch.setattr(build_module, "write_results", disk_full)
    code = build_in_process("--output", "out")
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        f"error: cannot write the reports to '{out}': No space left on device. The previous reports are unchanged."]
    assert snapshot(out) == before and not list(out.glob(".staging-*"))


@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs file systems (needs root, as in the project's container); skip otherwise."""
    mounted = []

    def mount(path: Path, options: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True).returncode:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.mark.parametrize("options, reason", [("size=16k", "No space left on device"), ("ro,size=1m", "Read-only file system")])
def test_real_full_or_read_only_disk_is_one_sentence(options, reason, user_folder, tmpfs, capsys):
    out = tmpfs(user_folder / "mnt", options)
    code = build_in_process("--output", "mnt/reports" if "ro" in options else "mnt")
    err = capsys.readouterr().err
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and reason in err and "Traceback" not in err
    assert not list(out.glob(".staging-*"))


# --- 5 and paths: two real builds, run from the user's folder through review.py ----------------


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """Build the fictional example twice from a user's folder with relative paths: into a folder
    an earlier build left (with a dead build's staging folder, a stale page and a user's file in
    it) and into a fresh folder (a tmpfs mount point where the machine allows one)."""
    home = tmp_path_factory.mktemp("user")
    shutil.copytree(FICTIONAL, home / "inputs")
    write_relative_params(home)
    a = marked_folder(home / "out-a", "stale.html")
    (a / "mine.txt").write_text("keep me\n")
    (a / ".staging-999999999" / "claims").mkdir(parents=True)
    b = home / "out-b"
    b.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(b)], capture_output=True).returncode == 0
    results = {}
    try:
        for out in ("out-a", "out-b"):
            results[out] = subprocess.run(
                [PYTHON, str(ROOT / "review.py"), "build",
                 "--params", "params.yaml", "--output", out, "--claims", "quieter-tinnitus", "--jobs", "1000"],
                cwd=home, capture_output=True, text=True, timeout=600,
            )
        yield home, results, mounted, snapshot(a), snapshot(b)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(b)], capture_output=True)


def first_difference(a: dict, b: dict, names: list, lines: int = 40) -> str:
    """The start of a unified diff of the first differing file, so that a rare difference can be diagnosed
    from the test log alone."""
    if not names:
        return ""
    name = names[0]
    diff = difflib.unified_diff(a[name].decode(errors="replace").splitlines(), b[name].decode(errors="replace").splitlines(),
                                f"out-a/{name}", f"out-b/{name}", n=1, lineterm="")
    return "\n".join(line[:300] for line in itertools.islice(diff, lines))


def test_first_difference_shows_the_changed_line():
    a = {Path("x.html"): b"one\ntwo\nthree\n"}
    b = {Path("x.html"): b"one\nTWO\nthree\n"}
    text = first_difference(a, b, [Path("x.html")])
    assert "-two" in text and "+TWO" in text and "out-a/x.html" in text
    assert first_difference(a, a, []) == ""


def test_two_builds_give_identical_bytes(two_builds):
    home, results, mounted, a, b = two_builds
    for out, result in results.items():
        assert result.returncode == 0, f"{out}: {result.stderr[-3000:]}"
    a.pop(Path("mine.txt"))
    assert sorted(a) == sorted(b)
    differing = [name for name in a if a[name] != b[name]]
    assert differing == [], f"{differing}; first difference:\n{first_difference(a, b, differing)}"
    assert any(name.suffix == ".ipynb" for name in a) and any(name.suffix == ".html" for name in a)


def test_builds_contain_no_absolute_local_path(two_builds):
    home, _, _, a, b = two_builds
    for needle in (str(home), str(ROOT), str(home.parent)):
        leaks = [name for name, data in {**a, **b}.items() if needle.encode() in data]
        assert leaks == [], f"{needle} in {leaks}"


def test_relative_paths_are_taken_from_the_users_folder(two_builds):
    home, _, _, a, _ = two_builds
    assert (home / "out-a" / "verdicts.csv").is_file()  # --output out-a: here, not in the project
    injected = next(c for c in nbformat.reads(a[Path("01_claims.ipynb")].decode(), 4).cells
                    if "injected-parameters" in c.metadata.get("tags", []))
    assert 'claims_path = "inputs/claims.csv"' in injected.source
    assert "output_dir" not in injected.source and ".staging" not in injected.source


def test_build_into_marked_folder_removes_leftovers_and_stale_pages_only(two_builds):
    home, _, _, a, _ = two_builds
    out = home / "out-a"
    assert not list(out.glob(".staging-*"))
    assert not (out / "stale.html").exists()
    assert (out / "mine.txt").read_text() == "keep me\n"
    assert (out / outputs.MARKER).is_file()


def test_manifest_lists_exactly_what_the_build_plans_to_write(two_builds, monkeypatch):
    from evidence_review.build import planned_entries
    from evidence_review.parameters import read_parameters_file
    from evidence_review.pipeline import prepare_review

    home, _, _, _, b = two_builds
    monkeypatch.chdir(home)
    review = prepare_review(**read_parameters_file("params.yaml"))
    written = {p.parts[0] for p in b if not p.parts[0].startswith(".")}
    assert written == planned_entries(review, ["quieter-tinnitus"])
    assert set((home / "out-b" / outputs.MANIFEST).read_text().split()) == written


def test_output_that_is_a_mount_point_is_replaced(two_builds):
    home, results, mounted, _, b = two_builds
    if not mounted:
        pytest.skip("cannot mount a tmpfs here")
    assert os.path.ismount(home / "out-b")
    assert Path("index.html") in b and Path("claims/quieter-tinnitus.html") in b


def test_summary_links_only_the_claim_reports_built(two_builds):
    _, _, _, a, _ = two_builds
    summary = a[Path("summary.html")].decode()
    assert 'href="claims/quieter-tinnitus.html"' in summary
    assert summary.count('href="claims/') == 1
    assert sorted(str(p) for p in a if str(p).startswith("claims/")) == ["claims/quieter-tinnitus.html", "claims/quieter-tinnitus.ipynb"]


# --- 2. Signals and crashes: subprocess builds with a notebook whose cell never ends ------------


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    kids, found, todo = _children(), [], [pid]
    while todo:
        more = kids.get(todo.pop(), [])
        found += more
        todo += more
    return found


def alive(pids) -> list[int]:
    running = {p for ps in _children().values() for p in ps}
    return [p for p in pids if p in running]


@pytest.fixture
def endless_project(tmp_path):
    """A copy of the project's notebooks whose first notebook sleeps for ten minutes in a cell."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "docs", root / "docs")  # the methods page the build writes comes from here
    nb = nbformat.read(root / "notebooks" / "01_claims.ipynb", as_version=4)
    first_code_after_parameters = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"][1]
    nb.cells[first_code_after_parameters].source = "import time\ntime.sleep(600)"
    nbformat.write(nb, root / "notebooks" / "01_claims.ipynb")
    return root


def start_build(endless_project, output: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, EVIDENCE_REVIEW_ROOT=str(endless_project))
    return subprocess.Popen(
        [PYTHON, "-m", "evidence_review.cli", "build", "--output", str(output), "--no-claim-reports", *extra],
        env=env, cwd=endless_project.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


def kernels(pids) -> list[int]:
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"ipykernel_launcher" in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def wait_for_kernels(proc: subprocess.Popen, count: int, timeout: float = 120) -> list[int]:
    """Wait until the build runs ``count`` kernels and a cell is running; return all its processes
    (workers, kernels, the fork server)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(kernels(descendants(proc.pid))) < count:
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        time.sleep(0.2)
    time.sleep(4)  # the kernels are executing their first cells by now
    return descendants(proc.pid)


def stop(proc: subprocess.Popen) -> None:
    """Whatever the test found: leave no process of this build behind."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def wait_gone(pids, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


def test_kill_9_takes_workers_and_kernels_along_and_jobs_are_capped(endless_project, tmp_path):
    out = tmp_path / "out"
    proc = start_build(endless_project, out, "--jobs", "1000")
    try:
        family = wait_for_kernels(proc, min(2, notebook_runner.usable_cores()))
        assert len(kernels(family)) <= notebook_runner.usable_cores()  # --jobs 1000 is capped
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_gone(family) == []
    finally:
        stop(proc)
    assert list(out.glob(".staging-*"))  # left behind; the next build removes it (test_build_into_marked_folder...)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_stop_the_running_cell_at_once_and_clean_up(sig, endless_project, tmp_path):
    out = marked_folder(tmp_path / "out", "verdicts.csv")
    before = snapshot(out)
    proc = start_build(endless_project, out, "--jobs", "2")
    try:
        family = wait_for_kernels(proc, min(2, notebook_runner.usable_cores()))
        t0 = time.monotonic()
        # Ctrl-C goes to the terminal's whole process group; SIGTERM (kill PID) to the build only.
        os.killpg(proc.pid, sig) if sig == signal.SIGINT else os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        stop(proc)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert took < 20, f"the build took {took:.0f} s to stop"  # not the ten minutes of the cell
    assert b"interrupted: the previous reports are unchanged" in err and b"Traceback" not in err
    assert wait_gone(family) == []
    assert snapshot(out) == before and not list(out.glob(".staging-*"))


def test_kill_9_of_the_launcher_stops_and_cleans_up_the_build(endless_project, tmp_path):
    out = marked_folder(tmp_path / "out", "verdicts.csv")
    before = snapshot(out)
    env = dict(os.environ, EVIDENCE_REVIEW_ROOT=str(endless_project))
    proc = subprocess.Popen([PYTHON, str(ROOT / "review.py"), "build", "--output", str(out), "--no-claim-reports", "--jobs", "1"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        family = wait_for_kernels(proc, 1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_gone(family, timeout=30) == []
    finally:
        stop(proc)
    assert snapshot(out) == before and not list(out.glob(".staging-*"))


def test_ctrl_c_while_the_build_imports_its_libraries_is_one_sentence(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([PYTHON, "-m", "evidence_review.cli", "build", "--output", str(out)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        # The command starts its fork server first, then imports the review's libraries (about a second).
        deadline = time.monotonic() + 60
        while not any(b"forkserver" in _cmdline(p) for p in descendants(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == 130 and b"Traceback" not in err, err.decode()[-2000:]
    assert err.decode().startswith("interrupted: ") and not out.exists()


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_kernel_socket_folders_of_dead_builds_are_removed(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"{notebook_runner._SOCKETS_PREFIX}999999999-abc"
    live = tmp_path / f"{notebook_runner._SOCKETS_PREFIX}{os.getpid()}-abc"
    other = tmp_path / "evidence-review-notes"
    for folder in (dead, live, other):
        folder.mkdir()
    notebook_runner._remove_dead_socket_folders()
    assert not dead.exists() and live.is_dir() and other.is_dir()


# --- small pure rules -----------------------------------------------------------------------


def test_paths_base_keeps_folder_names_out_of_reports(tmp_path):
    from evidence_review.build import paths_base

    home, project = tmp_path / "home", tmp_path / "project"
    mine = [home / "article" / "claims.csv", None]
    bundled = [project / "data" / "claims.csv"]
    assert paths_base(mine, home, project) == home  # a user's files, built where they are
    assert paths_base(bundled, home, project) == project  # the bundled data, built from elsewhere
    assert paths_base(mine + bundled, home / "article", project) == home / "article"  # neither: paths climb out


@pytest.mark.parametrize(
    "requested, n_jobs, cores, memory, expected",
    [
        (None, 50, 2, 64 * WORKER_MEMORY, 2),  # default: one per core
        (1000, 50, 2, 64 * WORKER_MEMORY, 2),  # capped by cores
        (8, 50, 16, 3 * WORKER_MEMORY + 1, 3),  # capped by memory
        (8, 50, 16, WORKER_MEMORY // 2, 1),  # never below one
        (8, 3, 16, None, 3),  # no more workers than notebooks; unknown memory is no cap
    ],
)
def test_cap_workers(requested, n_jobs, cores, memory, expected):
    assert cap_workers(requested, n_jobs, cores, memory) == expected


def test_failing_cell_is_numbered_as_in_the_source_notebook():
    assert source_cell_number(4, injected=True) == 4  # the injected cell is not the notebook's
    assert source_cell_number(4, injected=False) == 5


def test_failure_after_a_reused_kernel_names_the_notebooks_own_cell(tmp_path, monkeypatch, user_folder, capsys):
    root = tmp_path / "project"
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    nb = nbformat.read(root / "notebooks" / "02_studies.ipynb", as_version=4)
    broken = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"][4]
    nb.cells[broken].source = "raise RuntimeError('simulated failure')"
    nbformat.write(nb, root / "notebooks" / "02_studies.ipynb")
    monkeypatch.setattr(build_module, "project_root", lambda: root)
    code = build_in_process("--output", "out", "--jobs", "1")  # one kernel runs 01, then 02
    err = capsys.readouterr().err
    assert code == 1
    assert f"notebook 02_studies.ipynb failed at cell {broken + 1}: RuntimeError: simulated failure" in err
    assert not (user_folder / "out").exists()  # the folder this failed build created is gone again
