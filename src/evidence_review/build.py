"""Build the whole review into ``reports/``: validate, load and synthesise once, then run every
notebook, write the HTML site and the CSV results.

Everything is written into a staging folder inside the output folder and swapped into place only
when every step succeeded (see :mod:`evidence_review.outputs`), so a failed or interrupted build
leaves the previous reports intact and never a half-written file.

The work is split by what it is: running notebooks and the pool of worker kernels
(:mod:`evidence_review.notebook_runner`), the HTML pages (:mod:`evidence_review.html_export`) and
the machine-readable results (:mod:`evidence_review.result_files`); this module puts them in order.

Two builds of the same inputs give the same bytes: papermill's timestamps are dropped, cell ids
and execution counts are renumbered, and notebooks receive their input paths relative to the
folder the build was run in (never absolute, never the staging folder).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from .html_export import write_summary
from .notebook_runner import BuildError, Job, run_jobs, run_notebook
from .inputs import check_inputs
from .outputs import check_no_foreign_entries, claim_output_folder, lock_output_folder
from .outputs import new_staging_folder, remove_leftovers
from .outputs import LOCK_NAME, MANIFEST, MARKER, signals_ignored, swap_into_place
from .parameters import notebook_parameters as parameters_for_notebooks
from .paths import project_root
from .pipeline import save_review
from .result_files import atomic_write_text, write_results
from .review_file import KEY_ENV, new_key
from .site import CLAIM_ROOT, NOTEBOOK_TITLES
from .tables import InputError, Problem

__all__ = [
    "NOTEBOOKS",
    "CLAIM_NOTEBOOK",
    "build_review",
    "refresh_notebooks",
    "planned_entries",
    "paths_base",
    "notebook_parameters",
]

NOTEBOOKS = ("01_claims", "02_studies", "03_evidence_by_claim", "04_effects")
CLAIM_NOTEBOOK = "claim_report"
#: A curation aid run before a review, not part of the build; refreshed and tested like the others.
DRAFT_NOTEBOOK = "00_draft_claims"
#: The build's computed review, in its staging folder while the notebooks run; deleted before the swap.
RESULTS_FILE = ".computed-review"
#: True: validate, load and synthesise once and hand every notebook the result. False: every notebook
#: computes the review itself (as before issue 14); kept to show that both give the same bytes, and to measure.
COMPUTE_ONCE = True
#: What each worker's kernel runs while the review is synthesised: the notebooks' slowest imports.
KERNEL_WARM_UP = ("import matplotlib.pyplot\n"
                  "from evidence_review import charts, claims, effects, engine, pipeline, present, report, site, sof")


REPORTS_README = """# reports/

Build output only: everything here is rebuilt from `data/` and `src/` by

    python3 review.py build

and is not committed (except this file). Open `index.html` for the review.
"""


def paths_base(inputs, cwd: Path, project: Path) -> Path:
    """The folder the notebooks get their input paths relative to.

    The folder the build runs in, when every input lies inside it (a user's own files: the
    reports show ``my-article/claims.csv``); else the project root, when every input lies inside
    that (the bundled data, built from any folder: ``data/claims.csv``); else the folder the build
    runs in, with paths that climb out of it where needed. Never an absolute path.

    Parameters
    ----------
    inputs : iterable of path or None
        The input files (None entries are skipped).
    cwd : Path
        The folder the build runs in.
    project : Path
        The project root.

    Returns
    -------
    Path
    """
    files = [Path(os.path.realpath(p)) for p in inputs if p is not None]
    for candidate in (Path(os.path.realpath(cwd)), Path(os.path.realpath(project))):
        if all(f.is_relative_to(candidate) for f in files):
            return candidate
    return Path(os.path.realpath(cwd))


def notebook_parameters(review, base: Path) -> dict:
    """The parameters every build notebook receives (see :func:`evidence_review.parameters.notebook_parameters`).

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    base : Path
        The folder the build was run in; the kernels take relative paths from it.

    Returns
    -------
    dict
    """
    return parameters_for_notebooks(review.params, base)


def build_review(
    params: dict, source: str = "parameters", jobs: int | None = None, claims: bool | list[str] = True,
    cwd: str | os.PathLike | None = None, output_source: str | None = None,
) -> dict:
    """Validate the inputs and the output folder, run every notebook, write HTML and CSV results,
    then swap them into place.

    Parameters
    ----------
    params : dict
        Review parameters (see :mod:`evidence_review.parameters`); relative paths
        are taken from the project root (the command line makes them absolute first).
    source : str
        Where the parameters came from (for error messages).
    jobs : int, optional
        Parallel workers (default: the machine's cores; capped by cores and memory, see
        :func:`cap_workers`).
    claims : bool or list of str
        Run one report per claim (True), none (False), or only for the listed claim ids.
    cwd : path, optional
        The folder the user runs the build in (default: the current folder). The output may not
        be or contain it; notebooks get their input paths relative to it (or to the project root,
        see :func:`paths_base`).
    output_source : str, optional
        Where the output folder came from, for error messages (default: ``source``).

    Returns
    -------
    dict
        Timings in seconds per stage and the output folder.

    Raises
    ------
    evidence_review.tables.InputError
        Bad parameters or data, or an output folder that is not the build's to write
        (see :func:`evidence_review.outputs.check_output_folder`); nothing is written.
    evidence_review.outputs.OutputBusy
        Another build is writing into the same output folder; nothing is written.
    BuildError
        A notebook failed; the previous reports are left in place.
    OSError
        The output cannot be written (read-only, full disk); the previous reports are left in place.
    """
    timings = {}
    base = Path(os.path.realpath(cwd or os.getcwd()))
    t0 = time.perf_counter()
    # Every problem at once (parameters, files, a refused output folder), as `evidence-review check` shows them.
    review, output = check_inputs(params, source, cwd=base, output_source=output_source)
    if isinstance(claims, list):
        unknown = sorted(set(claims) - set(review.evidence.claims["claim_id"]))
        if unknown:
            valid = ", ".join(review.evidence.claims["claim_id"])
            raise InputError(source, [Problem(f"unknown claim_id(s) {unknown}; valid claim_ids: {valid}", column="claims")])
    all_ids = review.evidence.claims["claim_id"].tolist()
    claim_ids = all_ids if claims is True else [c for c in all_ids if c in claims] if claims else []
    inputs = review.params.input_files()
    timings["validate"] = time.perf_counter() - t0
    created = not output.exists()
    claim_output_folder(output)
    try:
        with lock_output_folder(output):
            check_no_foreign_entries(output, planned_entries(review, claim_ids), output_source or source)
            remove_leftovers(output)
            staging = new_staging_folder(output)
            try:
                written = _build_into(review, staging, paths_base(inputs, base, project_root()), jobs, claim_ids, timings)
                swap_into_place(staging, output)
            except BaseException:
                with signals_ignored():
                    shutil.rmtree(staging, ignore_errors=True)
                raise
    except BaseException:
        if created:
            with signals_ignored():
                _unclaim(output)
        raise
    timings["total"] = sum(timings.values())
    return {"output": output, "timings": timings, "files": [p.name for p in written]}


def _unclaim(folder: Path) -> None:
    """Remove a folder this build created, if the failed build left nothing in it but its marks."""
    for name in (MARKER, MANIFEST, LOCK_NAME):
        (folder / name).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass


def planned_entries(review, claim_ids) -> set[str]:
    """The top-level entries a build writes into its output folder.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    claim_ids : list of str
        The claims that get a report.

    Returns
    -------
    set of str
    """
    names = {f"{n}.{ext}" for n in NOTEBOOKS for ext in ("ipynb", "html")}
    names |= {"claims.csv", "verdicts.csv", "evidence_links.csv", "trial_directions.csv", "verdicts.json",
              "studies.bib", "studies.ris", "summary.html", "index.html", "README.md", "style.css", "studies.html",
              "methods.html", "summary_of_findings.csv"}
    if review.scorecard is not None:
        names.add("scorecard.csv")
    if claim_ids:
        names.add("claims")
    return names


def _build_into(review, staging: Path, base: Path, jobs, claim_ids: list[str], timings: dict) -> list[Path]:
    """Write every result, notebook and page of the review into ``staging``.

    The workers start their kernels first; meanwhile this process synthesises the review (once),
    writes the CSV results, the site's own pages and, with :data:`COMPUTE_ONCE`, the results file
    :data:`RESULTS_FILE`. The notebooks get that file's path as their ``results_path`` (left out of
    the executed notebooks, see :class:`evidence_review.notebook_runner.Job`) and its key in their
    kernels' environment. The file is deleted before anything is swapped into place.
    """
    t0 = time.perf_counter()
    private, environment, key = {}, {}, new_key()
    if COMPUTE_ONCE:
        private, environment = {"results_path": os.path.relpath(staging / RESULTS_FILE, base)}, {KEY_ENV: key}
    parameters = notebook_parameters(review, base)
    nb_dir = project_root() / "notebooks"
    main_jobs = [Job(nb_dir / f"{n}.ipynb", staging / f"{n}.ipynb", parameters, NOTEBOOK_TITLES.get(n, n),
                     private_parameters=private) for n in NOTEBOOKS]
    claim_text = dict(zip(review.evidence.claims["claim_id"], review.evidence.claims["claim"]))
    claim_jobs = [
        Job(nb_dir / f"{CLAIM_NOTEBOOK}.ipynb", staging / "claims" / f"{cid}.ipynb", {**parameters, "claim_id": cid},
            f"Claim: {claim_text[cid]}", root=CLAIM_ROOT, private_parameters=private)
        for cid in claim_ids
    ]
    written = []

    def while_workers_start():
        t = time.perf_counter()
        written.extend(write_results(review, staging))
        timings["results_csv"] = time.perf_counter() - t
        t = time.perf_counter()
        if COMPUTE_ONCE:
            save_review(review, staging / RESULTS_FILE, key)
        timings["results_file"] = time.perf_counter() - t
        t = time.perf_counter()
        write_summary(review, staging, list(NOTEBOOKS), claim_ids)
        atomic_write_text(staging / "README.md", REPORTS_README)
        timings["site_pages"] = time.perf_counter() - t

    try:
        run_jobs(main_jobs + claim_jobs, jobs, base=str(base), environment=environment, meanwhile=while_workers_start,
                 warm_up=KERNEL_WARM_UP)
    finally:
        (staging / RESULTS_FILE).unlink(missing_ok=True)
    timings["notebooks"] = time.perf_counter() - t0 - timings["results_csv"] - timings["results_file"] - timings["site_pages"]
    return written


def refresh_notebooks(names: list[str] | None = None) -> list[Path]:
    """Re-execute the source notebooks in place with their default parameters (for nbval).

    Parameters
    ----------
    names : list of str, optional
        Notebook names without ``.ipynb``; default: all review notebooks and ``claim_report``.

    Returns
    -------
    list of Path
        The refreshed notebooks.

    Raises
    ------
    BuildError
        If a notebook fails; the stored notebook is left as it was.
    """
    nb_dir = project_root() / "notebooks"
    done = []
    for name in names or [DRAFT_NOTEBOOK, *NOTEBOOKS, CLAIM_NOTEBOOK]:
        source = nb_dir / f"{name}.ipynb"
        tmp = source.with_name(f".{name}.refresh-{os.getpid()}.ipynb")
        try:
            run_notebook(Job(source, tmp, {}, name), html=False, strip_run_metadata=True)
            os.replace(tmp, source)
        finally:
            tmp.unlink(missing_ok=True)
        done.append(source)
    return done
