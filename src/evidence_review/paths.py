"""Where the project is, and the folder relative paths are taken from.

papermill runs a notebook in the caller's working directory while nbval runs it in the notebook's
folder, so relative paths are always resolved against one place: the project root, unless the
build says otherwise. The build runs its notebooks with ``EVIDENCE_REVIEW_BASE`` set to the
folder the user ran it in and passes paths relative to that folder, so that no absolute local
path ends up in the reports. The whole rule for parameters is stated once, in
:mod:`evidence_review.parameters`; the default paths are declared there too.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "resolve_path", "base_folder", "BASE_ENV", "ARTICLE_ENV", "article_under_review"]

#: Environment variable naming the folder relative paths are taken from (default: the project root).
BASE_ENV = "EVIDENCE_REVIEW_BASE"

#: The article under review is an input its user supplies, never part of the project: the checks that need
#: the real text (key phrases quoted from it, the drafting recall) read its path from this variable.
ARTICLE_ENV = "EVIDENCE_REVIEW_ARTICLE"


def project_root() -> Path:
    """Return the project root.

    ``EVIDENCE_REVIEW_ROOT`` wins when set; otherwise the folder above ``src/`` of this
    (editable) install, which holds ``pyproject.toml``.

    Returns
    -------
    pathlib.Path
        Absolute path of the project root.
    """
    env = os.environ.get("EVIDENCE_REVIEW_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd().resolve()


def base_folder() -> Path:
    """The folder relative paths are taken from: ``EVIDENCE_REVIEW_BASE`` if set, else the project root.

    Returns
    -------
    pathlib.Path
    """
    env = os.environ.get(BASE_ENV)
    return Path(env) if env else project_root()


def resolve_path(path: str | os.PathLike) -> Path:
    """Resolve a data or output path: absolute paths stay, relative ones hang off :func:`base_folder`.

    Parameters
    ----------
    path : str or os.PathLike
        A path as written in a notebook parameter or YAML file.

    Returns
    -------
    pathlib.Path
        Absolute path.
    """
    p = Path(path).expanduser()
    return p if p.is_absolute() else base_folder() / p


def article_under_review() -> Path | None:
    """Return the path of the article under review, as its user supplied it in :data:`ARTICLE_ENV`.

    Returns
    -------
    pathlib.Path or None
        The path given in the environment variable, or None when the variable is unset or empty.
        The file is not checked here: a caller that needs it reports a missing file itself.
    """
    value = os.environ.get(ARTICLE_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None
