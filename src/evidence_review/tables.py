"""Reading user-supplied CSV tables and turning validation failures into one clear error.

Every table the toolkit accepts goes through :func:`read_table` and then :func:`validate_table`,
so a bad file always produces the same kind of message: the file, the spreadsheet row and the
column of *every* problem, listed at once.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

__all__ = [
    "InputError",
    "Problem",
    "combine_errors",
    "read_table",
    "validate_table",
    "spreadsheet_row",
    "shown",
    "shown_value",
]

#: Row-level checks name their columns in their error text: "effect/ci_low/ci_high: message".
ROW_CHECK_SEPARATOR = ": "
#: Header row is spreadsheet row 1, so the first data row (index 0) is row 2.
_HEADER_ROWS = 1
#: Longest piece of user text or value quoted in an error message; longer ones are cut with "...".
MAX_SHOWN = 60
#: Text a numeric cell may hold that Python reads as "not a number" (any case, any sign): never a reported value.
_NAN_WORDS = frozenset(sign + "".join(letters) for sign in ("", "+", "-")
                       for letters in itertools.product("nN", "aA", "nN"))


def shown(text: object, limit: int = MAX_SHOWN) -> str:
    """Quote user text in an error message: at most ``limit`` characters, control characters escaped.

    Parameters
    ----------
    text : object
        A cell or parameter value (converted with ``str``).
    limit : int
        Longest text kept; longer text ends in ``...``.

    Returns
    -------
    str
        Safe to print on a terminal: line breaks, tabs and escape sequences appear as ``\\n``, ``\\t``, ``\\x1b``.
    """
    text = str(text)
    cut = len(text) > limit
    text = text[: limit - 3] if cut else text
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text + "..." if cut else text


_BOUNDED_REPR = reprlib.Repr()
_BOUNDED_REPR.maxlevel = 3
_BOUNDED_REPR.maxdict = _BOUNDED_REPR.maxlist = _BOUNDED_REPR.maxtuple = _BOUNDED_REPR.maxset = 6
_BOUNDED_REPR.maxstring = _BOUNDED_REPR.maxlong = _BOUNDED_REPR.maxother = MAX_SHOWN


def shown_value(value: object) -> str:
    """A parameter value as Python would write it, bounded however large or deep the value is.

    Parameters
    ----------
    value : object
        Any value read from YAML or given to a notebook.

    Returns
    -------
    str
        At most a few hundred characters (``reprlib`` cuts long text, lists, mappings and nesting).
    """
    return shown(_BOUNDED_REPR.repr(value), limit=4 * MAX_SHOWN)


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
    # An error that already combines several files is taken apart, so each problem names its file once.
    parts = [part for e in errors for part in getattr(e, "parts", [e])]
    if len(parts) == 1:
        return parts[0]
    problems = [Problem(f"{e.source}: {p}") for e in parts for p in e.problems]
    combined = InputError(" and ".join(e.source for e in parts), problems)
    combined.parts = parts
    return combined


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


def read_table(path: str | Path, allow_empty: bool = False) -> pd.DataFrame:
    """Read a CSV file as text, accepting a BOM and Windows line endings.

    All cells are read as strings; empty cells become missing values. Types are
    applied later by the table's schema so that a wrong type is reported per cell.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    allow_empty : bool
        Accept a file with a header row and no data rows (a table that may rightly have no rows,
        such as the published reviews of a topic that has none).

    Returns
    -------
    pandas.DataFrame
        One row per data line, columns named by the header.

    Raises
    ------
    InputError
        If the file is missing, is not UTF-8, is empty, has no data rows (unless ``allow_empty``)
        or is not parseable CSV.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError(source, [Problem("file not found" if not path.exists() else "not a file")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(source, [Problem(f"the file cannot be read ({shown(exc.strerror or exc)})")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            source, [Problem(f"not UTF-8 text (byte {exc.start} on line {line}); save the file as UTF-8 CSV")]
        ) from None
    # No copy of the text is made (a large file is read once as bytes and once as text, no more).
    if not text or text.isspace():
        raise InputError(source, [Problem("the file is empty; expected a header row and data rows")])
    start = re.match(r"\s*", text).end()
    end = text.find("\n", start)
    header = text[start:] if end < 0 else text[start:end]
    for sign, name in ((";", "semicolons"), ("\t", "tabs")):
        if sign in header and "," not in header:
            raise InputError(source, [Problem(
                f"the header row separates its columns with {name}, not commas; save the file as "
                "comma-separated CSV (in a spreadsheet: CSV UTF-8, comma-delimited)", row=1)])
    names = [name.strip() for name in next(csv.reader([header]), [])]
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        # pandas would rename the second one 'name.1' and report an unexpected column.
        raise InputError(source, [Problem("the header names this column more than once", row=1, column=shown(name))
                                  for name in twice])
    # Text cells keep their content but lose stray spaces a spreadsheet adds around them. Stripping
    # is one Python call per cell (most of the time of reading a large table), so it runs only when
    # some cell of the file can start or end with white space.
    needs_strip = _MAY_NEED_STRIP.search(text) is not None
    del text
    try:
        # From the bytes: a StringIO of the text would hold a second, four-byte-per-character copy.
        frame = pd.read_csv(
            io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[""],
            skipinitialspace=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(source, [Problem(f"not a valid CSV file: {exc}")]) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas silently turns the extra leading values of a too-long first row into an index.
        raise InputError(source, [Problem(
            "more values than the header has column names; delete the extra values or name their columns", row=2)])
    # Spreadsheets may save empty columns right of the data, with no header: not columns of the table.
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ") and frame[c].isna().all()]
    frame = frame.drop(columns=unnamed)
    frame.columns = [str(c).strip() for c in frame.columns]
    del raw
    for col in frame.columns:
        frame[col] = (frame[col].str.strip() if needs_strip else frame[col]).replace("", pd.NA)
    # Spreadsheets often save a few rows of empty cells (",,,,") below the data: not data rows.
    trailing = 0
    while trailing < len(frame) and frame.iloc[len(frame) - 1 - trailing].isna().all():
        trailing += 1
    frame = frame.iloc[: len(frame) - trailing]
    if frame.empty and not allow_empty:
        raise InputError(source, [Problem("the file has a header but no data rows")])
    return frame


#: White space at the start or end of a cell: after the file's start, a comma, a line break or an
#: opening quote, or before a comma, a line break, a closing quote or the end. A file without a
#: match has no cell to strip (a match may be a false alarm, such as ``""`` inside a quoted cell:
#: the cells are then stripped one by one).
_WS = r"[^\S\r\n]"
_MAY_NEED_STRIP = re.compile(rf'(?:^|[,\r\n"]){_WS}|{_WS}(?:[,\r\n"]|$)|"[\r\n]|[\r\n]"')


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
            column = shown(value)
            row = None
        elif index is None or (isinstance(index, float) and pd.isna(index)):
            if isinstance(value, str) and value.startswith(("TypeError", "ValueError")):
                continue  # a wide check could not run because cells failed their type; those cells are reported
            row = None
        else:
            row = spreadsheet_row(index)
            if column is not None and message not in ("is empty but required",):
                found = frame.at[index, column] if column in frame.columns and index in frame.index else value
                message = f"{message} (found '{shown(found)}')"
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
    extra = list(extra or []) + _nan_text_problems(frame, schema)
    empty_rows = {spreadsheet_row(i) for i in _empty_rows(frame)}
    try:
        valid = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems = _problems_from_failures(exc.failure_cases, frame) + extra
    else:
        problems = extra
    if not problems:
        return valid
    # A cell already reported (e.g. 'nan' typed into a number column) is not also "empty but required",
    # and an empty row in the middle of the data is one problem, not one per column.
    named = {(p.row, p.column) for p in extra}
    problems = [p for p in problems if p.row not in empty_rows
                and not (p.message == "is empty but required" and (p.row, p.column) in named)]
    problems += [Problem("the row is empty; delete it or fill it in", row) for row in sorted(empty_rows)]
    raise InputError(source, sorted(problems, key=lambda p: (p.row or 0, p.column or "")))


def _empty_rows(frame: pd.DataFrame) -> pd.Index:
    """Index of the rows whose every cell is empty (checked column by column, on ever fewer rows)."""
    candidates = frame.index
    for column in frame.columns:
        if candidates.empty:
            break
        candidates = candidates[frame.loc[candidates, column].isna().to_numpy()]
    return candidates


def _nan_text_problems(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> list[Problem]:
    """Cells of number columns holding the text 'nan': the schema's type coercion would read them as empty."""
    problems = []
    for name, column in schema.columns.items():
        if name not in frame.columns or str(column.dtype) != "float64":
            continue
        text = frame[name]
        is_nan = text.isin(_NAN_WORDS)
        problems += [
            Problem(f"not a number (found '{shown(text[i])}'); leave the cell empty when no value was reported",
                    spreadsheet_row(i), name)
            for i in frame.index[is_nan]
        ]
    return problems
