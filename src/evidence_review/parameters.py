"""The review's parameters, declared once: name, default, type, description, validation, paths.

Every other place that needs the parameters derives them from :class:`ReviewParameters` (through
:data:`PARAMETERS`): the notebooks' validation cell (:func:`evidence_review.pipeline.start_notebook`),
the command line (``--params`` files, ``new`` and ``check``), the build (what each notebook is
passed) and the tests. A test fails when a notebook's ``parameters`` cell disagrees with it.

Relative paths -- the one rule
------------------------------
A relative path is taken from the folder the review is run from:

* in a parameters file given to ``evidence-review build``/``check`` (``--params``), from the
  folder the command is typed in (:func:`read_parameters_file` makes it absolute at once);
* in a notebook, from the folder named by ``EVIDENCE_REVIEW_BASE``, which the build sets to the
  folder it was run in, and which is the project root when unset (a notebook opened on its own);
* a parameter left out takes its default, and the defaults (the bundled review, ``data/...``) are
  relative to the project root.

``~`` is the user's home folder everywhere. See :func:`evidence_review.paths.resolve_path`.

The declaration is a plain dataclass rather than a pydantic model (pydantic is installed, as a
dependency of pandera): the messages are the project's own -- every problem at once,
named by column, the closest valid name for a typo, values quoted briefly however large -- and
pydantic's would have to be translated one by one, for the dozen plain checks below.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Callable

from .paths import project_root, resolve_path
from .tables import InputError, Problem, shown, shown_value
from .vocab import DESIGNS

__all__ = [
    "Parameter",
    "ReviewParameters",
    "PARAMETERS",
    "PARAMETER_NAMES",
    "DEFAULTS",
    "PATH_NAMES",
    "INPUT_NAMES",
    "POOLING_METHODS",
    "validate_parameters",
    "unknown_parameter",
    "unknown_target_condition",
    "notebook_parameters",
    "parameters_cell_disagreements",
    "default_path",
    "read_parameters_file",
    "parameters_yaml",
    "MAX_PATH_LENGTH",
    "MAX_PARAMETERS_BYTES",
    "MAX_PARAMETERS_DEPTH",
]

#: The kinds of parameter. A required input is a file that must exist; an optional input is a
#: file or null; the output is the folder the build writes; a value is anything else.
INPUT, OPTIONAL_INPUT, OUTPUT, VALUE = "input", "optional input", "output", "value"
POOLING_METHODS = ("dl", "pm")
#: Longest path a parameter may hold (Linux's PATH_MAX); longer text is a slip, not a path.
MAX_PATH_LENGTH = 4096


@dataclass(frozen=True)
class Parameter:
    """One parameter as declared on :class:`ReviewParameters`.

    Attributes
    ----------
    name : str
    default : object
        The value a notebook's ``parameters`` cell and a fresh ``params.yaml`` hold, as written there
        (paths relative, ``None`` for null).
    kind : str
        ``"input"``, ``"optional input"``, ``"output"`` or ``"value"``.
    description : str
        One line for people: shown in ``params.yaml`` comments and the README.
    check : callable or None
        For values: ``check(value) -> (normalised value, Problem or None)``.
    missing : str
        For optional inputs: the words for the file in a "not found" message.
    """

    name: str
    default: object
    kind: str
    description: str
    check: Callable | None = None
    missing: str = "data file"

    @property
    def is_path(self) -> bool:
        return self.kind != VALUE


def _declare(default, kind: str, description: str, check: Callable | None = None, missing: str = "data file"):
    """A dataclass field carrying its parameter declaration (the validated value has no default)."""
    return field(metadata={"parameter": (default, kind, description, check, missing)})


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(name: str, empty_ok: bool = False):
    def check(value):
        if isinstance(value, str) and (empty_ok or value.strip()):
            return value, None
        return None, Problem(f"{name} must be a non-empty text, got {shown_value(value)}", column=name)
    return check


def _designs(value):
    designs = DESIGNS if value is None else [d.strip() for d in value.split(",") if d.strip()] if isinstance(value, str) else value
    if not isinstance(designs, (list, tuple)):
        return DESIGNS, Problem(f"designs must be a list such as [rct, crossover_rct], got {shown_value(designs)}; "
                                f"valid designs: {', '.join(DESIGNS)}", column="designs")
    unknown = [d for d in designs if not isinstance(d, str) or d not in DESIGNS]
    if unknown or not designs:
        return DESIGNS, Problem(f"unknown design(s) {shown_value(unknown) if unknown else '(none given)'}; "
                                f"valid designs: {', '.join(DESIGNS)}", column="designs")
    return tuple(designs), None


def _min_year(value):
    this_year = _dt.date.today().year
    if value is None or (_is_int(value) and 1900 <= value <= this_year):
        return value, None
    return None, Problem(f"min_year must be a whole year between 1900 and {this_year}, got {shown_value(value)}", column="min_year")


def _min_n(value):
    if value is None or (_is_int(value) and value >= 0):
        return value, None
    return None, Problem(f"min_n must be a whole number >= 0, got {shown_value(value)}", column="min_n")


def _pooling_method(value):
    if isinstance(value, str) and value in POOLING_METHODS:
        return value, None
    return "dl", Problem(f"unknown pooling_method {shown_value(value)}; valid: {', '.join(POOLING_METHODS)}", column="pooling_method")


def _claim_id(value):
    if value is None or isinstance(value, str):
        return value, None
    return None, Problem(f"claim_id must be a text, got {shown_value(value)}", column="claim_id")


@dataclass(frozen=True)
class ReviewParameters:
    """Validated run parameters (paths absolute). Each field's declaration is the parameter itself.

    Build one with :func:`validate_parameters`, never directly: the fields have no defaults here,
    their defaults are the declared ones (:data:`DEFAULTS`), which are validated like any value.
    """

    claims_path: Path = _declare("data/claims.csv", INPUT, "the claims of the article under review, one row per checkable statement")
    studies_path: Path = _declare("data/studies.csv", INPUT, "the studies: one row per publication (primary study or review)")
    outcomes_path: Path = _declare("data/outcomes.csv", INPUT, "the results: one row per study x outcome x comparison x timepoint")
    reviews_path: Path = _declare("data/reviews.csv", INPUT, "pooled results reported by published systematic reviews")
    domains_path: Path = _declare("data/outcome_domains.csv", INPUT, "outcome-domain vocabulary (code,label,description)")
    conditions_path: Path = _declare("data/conditions.csv", INPUT, "condition vocabulary for studies' condition (code,label,description)")
    interventions_path: Path = _declare("data/interventions.csv", INPUT,
                                        "intervention vocabulary for studies' intervention (code,label,description)")
    background_path: Path | None = _declare(
        "data/background_evidence.csv", OPTIONAL_INPUT,
        "authoritative evidence about the condition itself; null for none", missing="background evidence file")
    scorecard_path: Path | None = _declare("data/scorecard.csv", OPTIONAL_INPUT,
                                           "the article rated on news-quality criteria; null for none", missing="scorecard file")
    output_dir: Path = _declare("reports", OUTPUT, "folder the build writes the review into")
    title: str = _declare("Massage for multiple sclerosis", VALUE, "title of the review's pages", _text("title"))
    target_condition: str = _declare("ms", VALUE, "condition code (from the conditions file) of the population under review; "
                                     "evidence in other populations is indirect", _text("target_condition"))
    population_label: str = _declare("people with MS", VALUE, "how the pages name that population",
                                     _text("population_label"))
    designs: tuple[str, ...] = _declare(None, VALUE, "study designs to include, e.g. [rct, crossover_rct]; null for every design",
                                        _designs)
    min_year: int | None = _declare(None, VALUE, "earliest publication year to include, e.g. 2010; null for any", _min_year)
    min_n: int | None = _declare(None, VALUE, "minimum number randomised (else analysed) to include, e.g. 20; null for any", _min_n)
    pooling_method: str = _declare("dl", VALUE, "dl (DerSimonian-Laird) or pm (Paule-Mandel) random-effects pooling",
                                   _pooling_method)
    claim_id: str | None = _declare(None, VALUE, "the claim of a one-claim report (claim_report notebook only)", _claim_id)
    results_path: Path | None = _declare(
        None, OPTIONAL_INPUT, "results the build computed once, for its notebooks; null: a notebook computes everything itself",
        missing="results file")

    def input_files(self) -> list[Path]:
        """Every input file given (the optional ones only when set), in declaration order."""
        return [getattr(self, p.name) for p in PARAMETERS if p.kind in (INPUT, OPTIONAL_INPUT) and getattr(self, p.name) is not None]


def _parameters() -> tuple[Parameter, ...]:
    declared = []
    for f in fields(ReviewParameters):
        default, kind, description, check, missing = f.metadata["parameter"]
        assert f.default is MISSING and "\n" not in description
        declared.append(Parameter(f.name, default, kind, description, check, missing))
    return tuple(declared)


#: Every parameter, in the order notebooks and ``params.yaml`` list them.
PARAMETERS: tuple[Parameter, ...] = _parameters()
PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
#: Each parameter's default as written in a notebook or YAML file (paths relative to the project root).
DEFAULTS: dict[str, object] = {p.name: p.default for p in PARAMETERS}
#: Parameters holding a path (inputs and the output folder).
PATH_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS if p.is_path)
#: Required input files.
INPUT_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS if p.kind == INPUT)
_BY_NAME = {p.name: p for p in PARAMETERS}


def unknown_parameter(name, known=PARAMETER_NAMES) -> Problem:
    """The problem for a name that is not a parameter: the closest valid name and all valid ones.

    Parameters
    ----------
    name : object
        The name given.
    known : sequence of str
        The valid names.

    Returns
    -------
    Problem
    """
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return Problem(f"unknown parameter{hint}; valid parameters: {', '.join(known)}", column=shown(name))


def unknown_target_condition(target: str, codes, source: str) -> InputError | None:
    """The hook for the conditions loader: ``target_condition`` must be a code of the conditions file.

    :func:`validate_parameters` checks only that it is text; whoever loads the conditions file calls
    this with its codes.

    Parameters
    ----------
    target : str
        The validated ``target_condition``.
    codes : iterable of str
        The codes of the conditions file.
    source : str
        Where the parameters came from.

    Returns
    -------
    InputError or None
        Naming the closest code and every valid one, or None when the code is known.
    """
    codes = list(codes)
    if target in codes:
        return None
    close = difflib.get_close_matches(target, codes, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return InputError(source, [Problem(f"target_condition {shown_value(target)} is not a code of the conditions file{hint}; "
                                       f"valid codes: {', '.join(codes)}", column="target_condition")])


def _path_type_problem(key: str, value, may_be_none: bool) -> Problem | None:
    """A path parameter must be text (or a path object); YAML happily gives numbers, lists or mappings."""
    if value is None and may_be_none:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        what = "a path or null" if may_be_none else "a path"
        return Problem(f"{key} must be {what} written as text, got {type(value).__name__} {shown_value(value)}", column=key)
    if "\0" in value or len(value) > MAX_PATH_LENGTH:
        return Problem(f"{key} is not a usable path (a NUL character or longer than {MAX_PATH_LENGTH} characters): "
                       f"{shown_value(value)}", column=key)
    return None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # e.g. a name longer than the file system allows
        return False


def default_path(name: str) -> Path | None:
    """The absolute path a path parameter's default names (relative to the project root), or None for null.

    Parameters
    ----------
    name : str
        One of :data:`PATH_NAMES`.

    Returns
    -------
    Path or None
    """
    default = _BY_NAME[name].default
    return None if default is None else project_root() / default


def _path_problem(p: Parameter, value, resolve: Callable[[str], Path]) -> Problem | None:
    """Type, then existence: one problem per path parameter at most."""
    problem = _path_type_problem(p.name, value, may_be_none=p.kind == OPTIONAL_INPUT)
    if problem or value is None:
        return problem
    if p.kind == OUTPUT:
        return None if str(value).strip() else Problem("output_dir must be a folder path", column=p.name)
    if _is_file(resolve(value)):
        return None
    if p.kind == INPUT:
        return Problem(f"data file not found: {shown(value, 200)}", column=p.name)
    if p.name == "background_path" and resolve(value) == default_path(p.name):
        return None  # the bundled default is optional: absent means no background evidence
    return Problem(f"{p.missing} not found: {shown(value, 200)} (use null for none)", column=p.name)


def validate_parameters(source: str = "parameters", **params) -> ReviewParameters:
    """Check run parameters, reporting every problem at once with the valid values.

    Parameters
    ----------
    source : str
        Where the parameters came from (a YAML file or ``"notebook parameters"``), for the message.
    **params
        Any of :data:`PARAMETER_NAMES`; missing ones take their defaults. Relative paths follow the
        rule in this module's docstring: given ones hang off
        :func:`evidence_review.paths.base_folder`, defaults off the project root.

    Returns
    -------
    ReviewParameters
        Paths absolute; a default background file that does not exist becomes None.

    Raises
    ------
    InputError
        On an unknown parameter name (with the closest valid one), a path that is not text (a number,
        list or mapping from YAML), a missing data file, an unknown design, a year in the future or
        out of range, a negative minimum sample size, an unknown pooling method or a value of the
        wrong type. Values are quoted briefly (:func:`evidence_review.tables.shown_value`), however large.
        Whether ``target_condition`` is a code of the conditions file is checked where that file is
        loaded (:func:`unknown_target_condition`).
    """
    problems = [unknown_parameter(key) for key in params if key not in _BY_NAME]
    validated = {}
    for p in PARAMETERS:
        if p.is_path:
            given = p.name in params
            value = params[p.name] if given else p.default

            def resolve(v, given=given):
                return resolve_path(v) if given else project_root() / Path(v).expanduser()

            problem = _path_problem(p, value, resolve)
            usable = problem is None and value is not None and (p.kind == OUTPUT or _is_file(resolve(value)))
            validated[p.name] = resolve(value) if usable else None
        else:
            validated[p.name], problem = p.check(params.get(p.name, p.default))
        if problem:
            problems.append(problem)
    if problems:
        raise InputError(source, problems)
    return ReviewParameters(**validated)


def notebook_parameters(params: ReviewParameters, base: Path) -> dict:
    """The papermill parameters of a build notebook: every parameter but the output folder.

    Input paths are relative to ``base`` (the notebooks take them from ``EVIDENCE_REVIEW_BASE``),
    which keeps the user's folder names out of reports that get shared and makes two builds of the
    same inputs byte-identical wherever they write. The notebooks write nothing, so they are not
    told the output folder; ``claim_id`` and ``results_path`` are set per run by the build. A value
    equal to its default is passed too (null included), so a notebook never falls back on its own.

    Parameters
    ----------
    params : ReviewParameters
    base : Path

    Returns
    -------
    dict
    """
    passed = {}
    for p in PARAMETERS:
        if p.name in ("output_dir", "claim_id", "results_path"):
            continue
        value = getattr(params, p.name)
        if p.is_path:
            value = os.path.relpath(value, base) if value is not None else None
        elif p.name == "designs":
            value = None if set(value) == set(DESIGNS) else list(value)
        passed[p.name] = value
    return passed


def parameters_cell_disagreements(source: str, per_claim: bool = False, declared: dict | None = None) -> list[str]:
    """Where a notebook's ``parameters`` cell disagrees with the declaration (names and defaults).

    Parameters
    ----------
    source : str
        The cell's code: one ``name = literal`` assignment per parameter (comments allowed).
    per_claim : bool
        True for the one-claim notebook, which declares ``claim_id`` as one example claim; the
        other notebooks do not declare it.
    declared : dict, optional
        Name -> default of a notebook outside the review that declares its own parameters (such as
        the claim drafter's, :data:`evidence_review.drafting.DRAFT_PARAMETERS`); default: the review's.

    Returns
    -------
    list of str
        One sentence per missing, extra or differing parameter (empty when the cell agrees).
    """
    import ast

    found, problems = {}, []
    for node in ast.parse(source).body:
        names = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if not isinstance(node, ast.Assign) or len(names) != 1 or len(node.targets) != 1:
            problems.append(f"line {node.lineno} is not a 'name = value' assignment")
            continue
        try:
            found[names[0]] = ast.literal_eval(node.value)
        except ValueError:
            problems.append(f"{names[0]} is not a plain value")
            found[names[0]] = None
    defaults = DEFAULTS if declared is None else declared
    expected = [n for n in defaults if per_claim or n != "claim_id" or declared is not None]
    problems += [f"{name} is missing" for name in expected if name not in found]
    problems += [f"{name} is not a parameter" for name in found if name not in expected]
    for name in expected:
        if name in found and found[name] != defaults[name] and not (per_claim and name == "claim_id"):
            problems.append(f"{name} = {found[name]!r}, but its default is {defaults[name]!r}")
    if per_claim and not isinstance(found.get("claim_id"), str):
        problems.append("claim_id must name a claim of the bundled review")
    return problems


#: A parameters file is a dozen short lines; anything far larger is not one.
MAX_PARAMETERS_BYTES = 64 * 1024
#: Parameters are values or lists of values; deeper nesting is not a parameters file (and would
#: exhaust the YAML composer's recursion).
MAX_PARAMETERS_DEPTH = 10


def _refusing_loader():
    """A safe YAML loader that refuses anchors, aliases and deep nesting.

    Parameters never need them, and aliases are how a tiny file expands into a gigantic value (the
    "billion laughs" bomb) or into a value that contains itself.
    """
    import yaml

    class PlainSafeLoader(yaml.SafeLoader):
        depth = 0

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"'{key[:60]}' is given twice; keep one", key_node.start_mark)
                if isinstance(key, str):
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

        def compose_node(self, parent, index):
            event = self.peek_event()
            if self.check_event(yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise yaml.composer.ComposerError(
                    None, None, "YAML anchors and aliases (&name, *name) are not accepted in a parameters file; "
                    "write each value out", event.start_mark)
            if self.depth >= MAX_PARAMETERS_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"values nested more than {MAX_PARAMETERS_DEPTH} levels deep", event.start_mark)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return PlainSafeLoader


def read_parameters_file(path: str | Path) -> dict:
    """Read a papermill-style YAML parameters file; relative paths are taken from the current folder.

    Only plain YAML is accepted: one mapping of names to values, at most
    :data:`MAX_PARAMETERS_BYTES` bytes and :data:`MAX_PARAMETERS_DEPTH` levels of nesting, no tags
    beyond YAML's own and no anchors or aliases, so a small file can never expand into a huge or
    self-containing value. The values are checked later, by :func:`validate_parameters`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        The names and values as written, path parameters (:data:`PATH_NAMES`) made absolute.

    Raises
    ------
    evidence_review.tables.InputError
        If the file is missing, too large, not YAML, uses anchors/aliases or is not a mapping of names
        to values. Messages quote at most a bounded part of any value.
    """
    import yaml

    path = Path(path)
    source = shown(path, 300)
    try:
        if not path.is_file():
            raise InputError(source, [Problem("parameters file not found")])
        size = path.stat().st_size
        if size > MAX_PARAMETERS_BYTES:
            raise InputError(source, [Problem(f"the file is {size} bytes; a parameters file is at most {MAX_PARAMETERS_BYTES} bytes")])
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        problem = "not UTF-8 text; save the file as UTF-8" if isinstance(exc, UnicodeDecodeError) else f"cannot be read: {shown(exc, 200)}"
        raise InputError(source, [Problem(problem)]) from None
    try:
        data = yaml.load(text, Loader=_refusing_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = getattr(exc, "problem", None) or exc
        raise InputError(source, [Problem(f"not a valid YAML file: {where}{shown(what, 300)}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(source, [Problem(f"expected a mapping such as 'studies_path: my/studies.csv', got {shown_value(data)}")])
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise InputError(source, [Problem(f"parameter names must be text, got {shown_value(k)}") for k in bad_keys])
    return {k: _from_current_folder(v) if k in PATH_NAMES else v for k, v in data.items()}


def _from_current_folder(value):
    """A path parameter as the user meant it: ``~`` is their home, a relative path starts in the current folder."""
    if not isinstance(value, str) or not value or "\0" in value:
        return value  # validated (and reported) with the other parameters
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else Path.cwd() / path)


def parameters_yaml(values: dict | None = None, header: str = "") -> str:
    """A parameters file listing every parameter, one a line, each with its description as a comment.

    Parameters
    ----------
    values : dict, optional
        Values to write instead of the defaults (names not in :data:`PARAMETER_NAMES` are refused).
    header : str
        Comment lines put first (each line gets ``# `` when it lacks it).

    Returns
    -------
    str
        YAML that :func:`read_parameters_file` reads back to the same values.

    Raises
    ------
    KeyError
        For a name that is not a parameter.
    """
    import yaml

    values = dict(values or {})
    unknown = sorted(set(values) - set(PARAMETER_NAMES))
    if unknown:
        raise KeyError(f"not parameters: {unknown}")
    lines = [line if line.startswith("#") else f"# {line}".rstrip() for line in header.splitlines()]
    for p in PARAMETERS:
        value = values.get(p.name, p.default)
        # Block style for the mapping, flow style for a list value: one parameter a line.
        flow = None if isinstance(value, (list, tuple)) else False
        text = yaml.safe_dump({p.name: list(value) if isinstance(value, tuple) else value}, default_flow_style=flow,
                              sort_keys=False, allow_unicode=True, width=10**6).strip()
        lines.append(f"{text}  # {p.description}")
    return "\n".join(lines) + "\n"
