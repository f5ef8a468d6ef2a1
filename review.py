#!/usr/bin/env python3
"""The project's commands, needing only Python 3.11 and pip.

    python3 review.py new FOLDER              # a ready-to-fill review of another article
    python3 review.py check [--params FILE]   # validate every input, list every problem, write nothing
    python3 review.py build [build options]   # build the review into reports/
    python3 review.py test  [pytest options]  # unit tests + nbval on the executed notebooks
    python3 review.py refresh                 # re-execute notebooks/ in place after a data change

``new``, ``check`` and ``build`` run in the folder you call them from, so relative ``FOLDER``,
``--params`` and ``--output`` (and the paths inside a parameters file) are taken from there;
SIGTERM and SIGHUP are passed on, and the command is sent SIGTERM should this launcher die (even
by ``kill -9``), so it always cleans up.

On first use (and whenever requirements.lock or pyproject.toml change) this creates ``.venv``,
installs the exact versions of ``requirements.lock`` plus the project itself, and registers the
project's Jupyter kernel ``evidence-review`` inside that environment. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
KERNEL = "evidence-review"
STAMP = VENV / ".review-installed"
#: nbval re-runs the committed, executed notebooks in the project's kernel and compares outputs.
NBVAL = ["--nbval", "--nbval-kernel-name", KERNEL, "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def ensure_environment() -> Path:
    py = venv_python()
    if STAMP.is_file() and STAMP.read_text().strip() == fingerprint() and py.is_file():
        return py
    if sys.version_info[:2] < (3, 11):
        sys.exit("Python 3.11 or newer is needed to set up the environment.")
    print(f"Setting up {VENV.name}/ (first use or changed dependencies) ...", flush=True)
    if not py.is_file():
        venv.EnvBuilder(with_pip=True).create(VENV)
    quiet = ["--quiet", "--disable-pip-version-check"]
    run(py, "-m", "pip", "install", *quiet, "-r", LOCK)
    run(py, "-m", "pip", "install", *quiet, "--no-deps", "--no-build-isolation", "-e", ROOT)
    run(py, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL, "--display-name", "Python (evidence-review)")
    STAMP.write_text(fingerprint())
    return py


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "check", "new", "test", "setup", "refresh"):
        print(__doc__)
        return 2
    py = ensure_environment()
    command, rest = argv[0], argv[1:]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    if command == "setup":
        return 0
    if command in ("build", "check", "new", "refresh"):
        cmd = [str(py), "-m", "evidence_review.cli", command, *rest]
        # These run where the user typed the command: relative paths (FOLDER, --params, --output
        # and the paths inside a parameters file) are taken from there, as the README promises.
        cwd = ROOT if command == "refresh" else Path.cwd()
    else:
        cmd = [str(py), "-m", "pytest", *NBVAL, *rest]
        cwd = ROOT
    return run_child(cmd, cwd, env)


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when this launcher dies (even by kill -9)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_child(cmd: list[str], cwd: Path, env: dict) -> int:
    """Run the command and wait for it, passing SIGTERM and SIGHUP on so it can clean up.

    Ctrl-C reaches the child from the terminal directly, so the launcher only waits for it to
    finish its clean-up rather than killing it (which would leave its staging folder behind).
    """
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, preexec_fn=_die_with_parent if os.name == "posix" else None)

    def forward(signum, frame):
        if proc.poll() is None:
            proc.send_signal(signum)

    for sig in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, sig) and signal.getsignal(getattr(signal, sig)) is not signal.SIG_IGN:  # nohup stays nohup
            signal.signal(getattr(signal, sig), forward)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
