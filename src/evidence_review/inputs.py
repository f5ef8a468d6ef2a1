"""Every input of a review checked at once: parameters, every file, cross-file checks, output folder.

The build and ``evidence-review check`` both call :func:`check_inputs`, so ``check`` reports
exactly what the build would refuse, and neither writes anything while checking.
"""

from __future__ import annotations

import os
from pathlib import Path

from .outputs import check_output_folder
from .parameters import INPUT, OPTIONAL_INPUT, PARAMETERS, PATH_NAMES, default_path, validate_parameters
from .paths import project_root, resolve_path
from .tables import InputError, combine_errors

__all__ = ["check_inputs", "output_refusal", "summary_line"]


def output_refusal(params: dict, base: Path, source: str) -> InputError | None:
    """The refusal of the output folder, judged from raw parameters (when others are invalid).

    Parameters
    ----------
    params : dict
        Review parameters as given; left-out paths take their defaults.
    base : Path
        The folder the build runs in.
    source : str
        Where the output folder came from, for the message.

    Returns
    -------
    InputError or None
        None when the folder is acceptable or its value is unusable (the parameter checks report that).
    """

    def given_path(name):
        if name not in params:
            return default_path(name)
        value = params[name]
        return resolve_path(value) if isinstance(value, str) and value.strip() and "\0" not in value else None

    output = given_path("output_dir")
    if output is None:
        return None
    inputs = [given_path(p.name) for p in PARAMETERS if p.kind in (INPUT, OPTIONAL_INPUT)]
    try:
        check_output_folder(output, [i for i in inputs if i is not None], project=project_root(), cwd=base, source=source)
    except InputError as exc:
        return exc
    return None


def _review_or_problems(params: dict, source: str):
    """The prepared review, or every problem of the parameters and, when their paths are usable, of the files."""
    from .pipeline import prepare_review

    try:
        validate_parameters(source, **params)
    except InputError as exc:
        # A value is wrong (a title left empty, a typo in a name): the files named by usable paths
        # are checked all the same, so one run lists everything still to fix.
        paths_only = {k: v for k, v in params.items() if k in PATH_NAMES}
        try:
            validate_parameters(source, **paths_only)
            prepare_review(source, **paths_only)
        except InputError as files:
            return None, [exc] if files.source == source else [exc, files]
        return None, [exc]
    try:
        return prepare_review(source, **params), []
    except InputError as exc:
        return None, [exc]


def check_inputs(params: dict, source: str = "parameters", cwd: str | os.PathLike | None = None,
                 output_source: str | None = None):
    """Validate parameters, load and cross-check every file, and judge the output folder; write nothing.

    Parameters
    ----------
    params : dict
        Review parameters (see :mod:`evidence_review.parameters`); ``claim_id`` and ``results_path``
        are ignored (the build chooses the claims to report on and computes the review itself).
    source : str
        Where the parameters came from (for error messages).
    cwd : path, optional
        The folder the build runs in (default: the current folder); the output may not be or contain it.
    output_source : str, optional
        Where the output folder came from, for error messages (default: ``source``).

    Returns
    -------
    tuple of (evidence_review.pipeline.Review, pathlib.Path)
        The prepared review and the output folder (absolute, symlinks resolved).

    Raises
    ------
    InputError
        Every problem at once: parameters, each file (row and column), and a refused output folder.
    """
    base = Path(os.path.realpath(cwd or os.getcwd()))
    # The build chooses the claims to report on and computes the review itself.
    params = {k: v for k, v in params.items() if k not in ("claim_id", "results_path")}
    review, errors = _review_or_problems(params, source)
    if review is None:
        refused = output_refusal(params, base, output_source or source)
        raise combine_errors(errors + ([refused] if refused else [])) from None
    p = review.params
    output = check_output_folder(p.output_dir, p.input_files(), project=project_root(), cwd=base,
                                 source=output_source or source)
    return review, output


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def summary_line(review, output: Path) -> str:
    """The one line ``evidence-review check`` prints when every input is valid.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    output : Path
        The output folder the build would write.

    Returns
    -------
    str
        ``ok: N claims, N studies (N excluded by the filters), N results, ...``.
    """
    ev = review.evidence
    parts = [_count(len(ev.claims), "claim"),
             _count(len(ev.studies), "study", "studies") + f" ({review.excluded_studies} excluded by the filters)",
             _count(len(ev.outcomes), "result"),
             _count(len(ev.reviews), "pooled review result"),
             _count(len(ev.background), "background statement")]
    if review.scorecard is not None:
        parts.append(_count(len(review.scorecard), "scorecard criterion", "scorecard criteria"))
    return f"ok: {', '.join(parts)}; the build may write to {output}"
