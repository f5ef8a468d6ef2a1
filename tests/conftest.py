"""Shared fixtures: a writable copy of the bundled data that a test can break in one place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from evidence_review.parameters import DEFAULTS, INPUT_NAMES
from evidence_review.paths import ARTICLE_ENV, article_under_review, project_root

DATA = project_root() / "data"
#: The required inputs of the bundled review, by parameter name: their file names in a data copy.
FILES = {key: Path(DEFAULTS[key]).name for key in INPUT_NAMES}


class DataCopy:
    """A copy of data/ in a temporary folder, with helpers to edit one table."""

    def __init__(self, folder: Path):
        self.folder = folder
        for name in FILES.values():
            shutil.copy(DATA / name, folder / name)

    def path(self, name: str) -> Path:
        return self.folder / name

    @property
    def params(self) -> dict:
        return {key: str(self.folder / name) for key, name in FILES.items()}

    def read(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.path(name), dtype=str, keep_default_na=False)

    def write(self, name: str, frame: pd.DataFrame) -> None:
        frame.to_csv(self.path(name), index=False)

    def set(self, name: str, row: int, column: str, value: str) -> None:
        """Set one cell; ``row`` is the 0-based data row (spreadsheet row ``row + 2``)."""
        frame = self.read(name)
        frame.loc[row, column] = value
        self.write(name, frame)


@pytest.fixture
def data_copy(tmp_path) -> DataCopy:
    return DataCopy(tmp_path)


#: What a skipped check tells the person running the tests.
ARTICLE_SKIP = (
    f"needs the article under review, which is not part of the project: set {ARTICLE_ENV}=/path/to/article.txt "
    "(the article's plain text) to run this check, e.g. "
    f"`{ARTICLE_ENV}=/path/to/article.txt python3 review.py test`"
)


@pytest.fixture(scope="session")
def article_text() -> str:
    """The text of the article under review; skips the test when its user has not supplied it."""
    path = article_under_review()
    if path is None:
        pytest.skip(ARTICLE_SKIP)
    if not path.is_file():
        pytest.fail(f"{ARTICLE_ENV} names {path}, which is not a file")
    return path.read_text(encoding="utf-8")
