"""``evidence-review new FOLDER``: a ready-to-fill review of another article or topic.

The folder holds every input file with its header row and no data rows (an example row would be
read as data by a spreadsheet and by the loaders alike; the data dictionary shows examples
instead), the vocabulary files, a ``params.yaml`` listing every parameter with a comment, a short
README and a copy of the data dictionary, so it is usable without the project beside it.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from .parameters import INPUT, OPTIONAL_INPUT, PARAMETERS, parameters_yaml
from .paths import project_root
from .tables import InputError, Problem, shown

__all__ = ["REVIEW_FILES", "VOCABULARY_FILES", "OPTIONAL_FILES", "new_review"]

#: The drafting vocabulary: not a review parameter (the ``00_draft_claims`` notebook reads it).
SYNONYMS_FILE = "domain_synonyms.csv"
#: Every file a review reads, by name, in the order the README lists them (from the declared parameters).
REVIEW_FILES: tuple[str, ...] = tuple(
    Path(p.default).name for p in PARAMETERS if p.kind in (INPUT, OPTIONAL_INPUT) and p.default is not None
) + (SYNONYMS_FILE,)
#: The files that hold a topic's words rather than its evidence.
VOCABULARY_FILES = ("outcome_domains.csv", "conditions.csv", "interventions.csv", SYNONYMS_FILE)
#: Files a review may do without: their parameters start as null in a new ``params.yaml``.
OPTIONAL_FILES = tuple(Path(p.default).name for p in PARAMETERS if p.kind == OPTIONAL_INPUT and p.default is not None)
#: The text parameters that name the topic: empty in a new review, so the first check asks for them.
TOPIC_TEXTS = ("title", "target_condition", "population_label")
DICTIONARY = "DATA_DICTIONARY.md"

_README = """\
# {name}: a new evidence review

Made by `evidence-review new`. Every CSV file here has its header row and no data rows yet; fill
them in (a spreadsheet saving "CSV UTF-8, comma-delimited" is fine). What each column means, with
examples, is in [{dictionary}]({dictionary}) (a copy of the toolkit's data dictionary).

1. The vocabularies: `outcome_domains.csv` (what outcomes are called), `conditions.csv` (the
   population under review and any other populations studies were done in), `interventions.csv`
   (the therapies; `no_intervention`, for observational studies of the condition itself, is built
   in) and `domain_synonyms.csv` (words that suggest a domain; used only to draft claims).
2. `claims.csv`: one row per checkable statement of the article under review, in your own words.
3. `studies.csv`, `outcomes.csv` and `reviews.csv`: the evidence, one row per publication, per
   result and per pooled result of a systematic review. `reviews.csv` may keep its header only
   when no published review pools results on the topic.
4. Optional: `background_evidence.csv` (authoritative sources about the condition itself) and
   `scorecard.csv` (the article rated on news-quality criteria). They are not used until you set
   `background_path` and `scorecard_path` in `params.yaml`.
5. `params.yaml`: fill in `title`, `target_condition` (a code of `conditions.csv`) and
   `population_label` (how the pages should name that population, e.g. "people with tinnitus").

Paths in `params.yaml` are relative to the folder you ran `new` in; run the commands below from
there (or edit the paths). Then:

    evidence-review check --params {params}    # every problem at once, writes nothing
    evidence-review build --params {params}    # the review, into {output}

(`python3 /path/to/the/toolkit/review.py check ...` and `... build ...` do the same.) `check` and
`build` list everything that is still empty or wrong, each with its file, row and column.
"""


def _refusal(folder, why: str) -> InputError:
    return InputError("command line", [Problem(f"refusing to create a new review in '{shown(folder, 200)}': {why}",
                                               column="FOLDER")])


def _check_target(folder: Path, given: str) -> None:
    """Refuse a folder that exists and is not an empty folder, before anything is written."""
    if folder.is_symlink() and not folder.exists():
        raise _refusal(given, "it is a symlink to a folder that does not exist")
    if folder.exists() and not folder.is_dir():
        raise _refusal(given, "it is a file, not a folder")
    if folder.is_dir():
        entries = sorted(p.name for p in folder.iterdir())
        if entries:
            more = f" and {len(entries) - 1} more" if len(entries) > 1 else ""
            raise _refusal(given, f"it is not empty (it holds '{shown(entries[0])}'{more}); choose a new or empty folder")
    for parent in folder.parents:
        if parent.exists():
            if not parent.is_dir():
                raise _refusal(given, f"'{parent}' is a file, not a folder")
            break


def _header(name: str) -> str:
    """The header row of an input file, as the bundled review's file has it (the loaders' columns)."""
    with open(project_root() / "data" / name, encoding="utf-8-sig", newline="") as f:
        return f.readline().rstrip("\r\n") + "\n"


def _params_text(folder_as_given: str) -> str:
    def inside(name: str) -> str:
        return (Path(folder_as_given) / name).as_posix()

    values = {}
    for p in PARAMETERS:
        if p.kind in (INPUT, OPTIONAL_INPUT) and p.default is not None:
            name = Path(p.default).name
            values[p.name] = None if name in OPTIONAL_FILES else inside(name)
    values["output_dir"] = inside("reports")
    values.update({name: "" for name in TOPIC_TEXTS})
    header = (f"Parameters of the review in {folder_as_given}, one a line (see README.md).\n"
              "Relative paths are taken from the folder you run evidence-review in: the one you ran `new` in.\n"
              f"Optional: set background_path to {inside('background_evidence.csv')} and scorecard_path to "
              f"{inside('scorecard.csv')} once they hold rows.\n"
              "Still to fill in: " + ", ".join(TOPIC_TEXTS) + ".")
    return parameters_yaml(values, header=header)


def _write_folder(staging: Path, folder_as_given: str) -> None:
    for name in REVIEW_FILES:
        (staging / name).write_text(_header(name), encoding="utf-8")
    (staging / "params.yaml").write_text(_params_text(folder_as_given), encoding="utf-8")
    params = (Path(folder_as_given) / "params.yaml").as_posix()
    (staging / "README.md").write_text(_README.format(name=Path(folder_as_given).name, dictionary=DICTIONARY, params=params,
                                                      output=(Path(folder_as_given) / "reports").as_posix() + "/"),
                                       encoding="utf-8")
    shutil.copyfile(project_root() / "data" / "README.md", staging / DICTIONARY)


def _link_into(staging: Path, target: Path, given: str) -> None:
    """Move the written files into an existing empty folder; a file that appeared meanwhile is never overwritten."""
    linked = []
    try:
        for path in sorted(staging.iterdir()):
            os.link(path, target / path.name)  # fails when the name exists
            linked.append(target / path.name)
    except FileExistsError:
        for path in linked:
            path.unlink(missing_ok=True)
        raise _refusal(given, "files appeared in it while the review was being written") from None


def new_review(folder: str | os.PathLike) -> Path:
    """Write a ready-to-fill review into ``folder``, which must be new or empty; never overwrite.

    The files are written into a hidden folder beside it and then moved into place (in one step
    when the folder is new), so an interrupted run leaves no half-made review behind.

    Parameters
    ----------
    folder : str or os.PathLike
        The new review's folder, as the user typed it; ``params.yaml`` names its files through it
        (relative stays relative: paths are taken from the folder the commands are run in).

    Returns
    -------
    Path
        The folder, absolute.

    Raises
    ------
    InputError
        When ``folder`` is empty text, a file, a non-empty folder, or under a file; nothing is written.
    """
    given = os.fspath(folder)
    if not given.strip() or "\0" in given:
        raise _refusal(given, "give the path of a new folder")
    target = Path(os.path.abspath(Path(given).expanduser()))
    _check_target(target, given)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.new-{os.getpid()}"
    staging.mkdir()
    try:
        _write_folder(staging, given)
        if target.is_dir():
            _link_into(staging, target, given)  # keep the folder itself: it may be the one the user is in
        else:
            try:
                os.rename(staging, target)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                    raise _refusal(given, "it was made while the review was being written") from None
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
