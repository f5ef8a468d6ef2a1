"""The repository stands alone: nothing in it reads or names a path outside it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from evidence_review.paths import project_root

ROOT = project_root()
#: A relative path that climbs out of its folder: one or more ``../`` and what follows.
_CLIMB = re.compile(r"(?:\.\./)+[\w.\-/]*")
#: ``cd DIR &&`` on a command line: the paths after it are taken from DIR.
_CD = re.compile(r"\bcd\s+([\w.\-/]+)\s*&&")
#: Code that climbs above the project root by attribute instead of by ``../``.
_PARENT_OF_ROOT = re.compile(r"(?:project_root\(\)|\bROOT)\.parent\b")
_TEXT = (".py", ".ipynb", ".md", ".yaml", ".yml", ".cfg", ".toml", ".txt", ".csv", "")


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    return [ROOT / name for name in out.decode().split("\0") if name]


def escaping_paths(text: str, bases: list[Path], root: Path) -> list[str]:
    """Paths in ``text`` that leave ``root``.

    A relative path is taken from each of ``bases`` (or from a ``cd`` target on its line); code that
    takes the parent of the project root is reported too.
    """
    found = [m.group(0) for m in _PARENT_OF_ROOT.finditer(text)]
    for line in text.splitlines():
        cd = _CD.search(line)
        starts = [(base / cd.group(1)).resolve() for base in bases] if cd else bases
        for match in _CLIMB.finditer(line):
            if any(not (base / match.group(0)).resolve().is_relative_to(root) for base in starts):
                found.append(match.group(0))
    return found


def test_escaping_paths_are_found(tmp_path):
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    assert escaping_paths('p = "../elsewhere/x.txt"', [root], root) == ["../elsewhere/x.txt"]
    assert escaping_paths("see ../data/a.csv", [root / "tests"], root) == []
    # Notebook and package paths are taken from the project root as well as from their own folder.
    assert escaping_paths('"../elsewhere/x.txt"', [root / "tests", root], root) == ["../elsewhere/x.txt"]
    assert escaping_paths("cd tests && ../../outside", [root], root) == ["../../outside"]
    assert escaping_paths("cd tests && ../inside", [root], root) == []
    assert escaping_paths('ARTICLE = ROOT.parent / "shared"', [root], root) == ["ROOT.parent"]
    assert escaping_paths("project_root().parent / 'x'", [root], root) == ["project_root().parent"]


def test_no_tracked_file_names_a_path_outside_the_repository():
    offenders = {}
    for path in tracked_files():
        # .ci/run may hand the tests the article's path (issue 11); this file holds examples of what it finds.
        if path.suffix not in _TEXT or not path.is_file() or ".ci" in path.parts or path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            # Only what a notebook runs or says, not its stored outputs (embedded images).
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
        # Code resolves data paths from the project root (evidence_review.paths.resolve_path).
        bases = [path.parent, ROOT] if path.suffix in (".py", ".ipynb", ".yaml", ".yml") else [path.parent]
        bad = escaping_paths(text, bases, ROOT)
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_notebook_parameters_name_files_inside_the_repository():
    """Every stored notebook runs on a fresh clone: its default input paths exist inside the project."""
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
        params = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
        namespace: dict = {}
        exec("".join(params["source"]), namespace)
        for name, value in namespace.items():
            if name.endswith("_path") and isinstance(value, str):
                target = (ROOT / value).resolve()
                assert target.is_relative_to(ROOT) and target.is_file(), f"{nb_path.name}: {name} = {value!r}"
