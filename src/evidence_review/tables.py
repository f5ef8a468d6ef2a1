"""Reading user-supplied CSV tables and turning validation failures into one clear error.

Every table the toolkit accepts goes through :func:`read_table` and then :func:`validate_table`,
so a bad file always produces the same kind of message: the file, the spreadsheet row and the
column of *every* problem, listed at once.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

__all__ = ["InputError", "Problem", "combine_errors", "read_table", "validate_table", "spreadsheet_row"]

#: Row-level checks name their columns in their error text: "effect/ci_low/ci_high: message".
ROW_CHECK_SEPARATOR = ": "
#: Header row is spreadsheet row 1, so the first data row (index 0) is row 2.
_HEADER_ROWS = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    Parameters
    ----------
    message : str
        What is wrong, in words a curator understands.
    row : int or None
        Spreadsheet row (1 is the header), or None for a whole-file or whole-column problem.
    column : str or None
        Column name, or None for a whole-file or whole-row problem.
    """

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'" if "/" not in self.column else f"columns '{self.column}'")
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass
class InputError(ValueError):
    """A user-supplied file or parameter is invalid; lists every problem found.

    Parameters
    ----------
    source : str
        The file (or parameter set) that is wrong.
    problems : list of Problem
        Every problem found, in file order.
    """

    source: str
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"Invalid input '{self.source}' ({n} problem{'s' if n != 1 else ''}):"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def combine_errors(errors: list[InputError]) -> InputError:
    """Merge the errors of several files into one error that still names each file.

    Parameters
    ----------
    errors : list of InputError
        One error per bad file (at least one).

    Returns
    -------
    InputError
        The single error to raise.
    """
    if len(errors) == 1:
        return errors[0]
    problems = [Problem(f"{e.source}: {p}") for e in errors for p in e.problems]
    return InputError(" and ".join(e.source for e in errors), problems)


def spreadsheet_row(index: int) -> int:
    """Convert a 0-based data-row index to the row number a spreadsheet shows.

    Parameters
    ----------
    index : int
        Position of the row among the data rows (0 for the first row below the header).

    Returns
    -------
    int
        The spreadsheet row number (the header is row 1).
    """
    return int(index) + _HEADER_ROWS + 1


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV file as text, accepting a BOM and Windows line endings.

    All cells are read as strings; empty cells become missing values. Types are
    applied later by the table's schema so that a wrong type is reported per cell.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        One row per data line, columns named by the header.

    Raises
    ------
    InputError
        If the file is missing, is not UTF-8, is empty, has no data rows or is not parseable CSV.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError(source, [Problem("file not found" if not path.exists() else "not a file")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            source, [Problem(f"not UTF-8 text (byte {exc.start} on line {line}); save the file as UTF-8 CSV")]
        ) from None
    if not text.strip():
        raise InputError(source, [Problem("the file is empty; expected a header row and data rows")])
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(source, [Problem(f"not a valid CSV file: {exc}")]) from None
    if frame.empty:
        raise InputError(source, [Problem("the file has a header but no data rows")])
    frame.columns = [str(c).strip() for c in frame.columns]
    # Text cells keep their content but lose stray spaces a spreadsheet adds around them.
    for col in frame.columns:
        frame[col] = frame[col].str.strip().replace("", pd.NA)
    return frame


_CHECK_MESSAGES = [
    (re.compile(r"coerce_dtype\('?Int64'?\)|dtype\('?Int64'?\)"), "expected a whole number"),
    (re.compile(r"coerce_dtype\('?float64'?\)|dtype\('?float64'?\)"), "expected a number"),
    (re.compile(r"coerce_dtype\('?bool'?\)|dtype\('?bool'?\)|coerce_dtype\('?boolean'?\)"), "expected true or false"),
    (re.compile(r"not_nullable"), "is empty but required"),
    (re.compile(r"field_uniqueness|^unique$|multiple_fields_uniqueness"), "duplicate value; must be unique"),
    (re.compile(r"column_in_dataframe"), "required column is missing"),
    (re.compile(r"column_in_schema"), "unexpected column (check its spelling)"),
]


def _friendly(check: str) -> str:
    for pattern, message in _CHECK_MESSAGES:
        if pattern.search(check):
            return message
    return check


def _problems_from_failures(failures: pd.DataFrame, frame: pd.DataFrame) -> list[Problem]:
    problems: dict[tuple, Problem] = {}
    for rec in failures.to_dict("records"):
        check = str(rec.get("check"))
        column = rec.get("column")
        column = None if column is None or (isinstance(column, float) and pd.isna(column)) else str(column)
        index = rec.get("index")
        value = rec.get("failure_case")
        message = _friendly(check)
        if rec.get("schema_context") == "DataFrameSchema" and ROW_CHECK_SEPARATOR in check:
            # A row-level check fails once per cell of the row; report it once, on its own columns.
            if index is None or (isinstance(index, float) and pd.isna(index)):
                continue
            columns, message = check.split(ROW_CHECK_SEPARATOR, 1)
            row = spreadsheet_row(index)
            problems.setdefault((row, columns, message), Problem(message, row, columns))
            continue
        if check.startswith("column_in_dataframe") or check.startswith("column_in_schema"):
            column = str(value)
            row = None
        elif index is None or (isinstance(index, float) and pd.isna(index)):
            if isinstance(value, str) and value.startswith(("TypeError", "ValueError")):
                continue  # a wide check could not run because cells failed their type; those cells are reported
            row = None
        else:
            row = spreadsheet_row(index)
            if column is not None and message not in ("is empty but required",):
                shown = frame.at[index, column] if column in frame.columns and index in frame.index else value
                shown = str(shown)
                if len(shown) > 60:
                    shown = shown[:57] + "..."
                message = f"{message} (found '{shown}')"
        key = (row, column, message.split(" (found")[0])
        problems.setdefault(key, Problem(message, row, column))
    return sorted(problems.values(), key=lambda p: (p.row or 0, p.column or ""))


def validate_table(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str, extra: list[Problem] | None = None
) -> pd.DataFrame:
    """Validate a table against its schema, reporting every problem at once.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table as read by :func:`read_table`.
    schema : pandera.pandas.DataFrameSchema
        The table's schema; should coerce types.
    source : str
        Name of the file, used in the error message.
    extra : list of Problem, optional
        Problems found by checks outside the schema (e.g. references to another table), reported
        together with the schema's.

    Returns
    -------
    pandas.DataFrame
        The validated table with the schema's types.

    Raises
    ------
    InputError
        Listing every failing cell, row and column.
    """
    extra = list(extra or [])
    try:
        valid = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems = _problems_from_failures(exc.failure_cases, frame) + extra
        raise InputError(source, sorted(problems, key=lambda p: (p.row or 0, p.column or ""))) from None
    if extra:
        raise InputError(source, extra)
    return valid
