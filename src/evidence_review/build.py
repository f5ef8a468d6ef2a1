"""Build the whole review into ``reports/``: notebooks, per-claim reports, HTML, CSV results.

Everything is written into a staging folder next to the output folder and swapped into place
only when every step succeeded, so a failed or interrupted build leaves the previous reports
intact and never a half-written file.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .paths import project_root
from .site import CLAIM_ROOT, NOTEBOOK_TITLES, apply_alt_texts, decorate_notebook_html, notebook_alt_texts, write_site

__all__ = [
    "NOTEBOOKS",
    "KERNEL_NAME",
    "BuildError",
    "Job",
    "build_review",
    "run_jobs",
    "write_results",
    "write_summary",
    "export_html",
    "swap_into_place",
    "refresh_notebooks",
]

NOTEBOOKS = ("01_claims", "02_studies", "03_evidence_by_claim", "04_effects")
CLAIM_NOTEBOOK = "claim_report"
#: A curation aid run before a review, not part of the build; refreshed and tested like the others.
DRAFT_NOTEBOOK = "00_draft_claims"
#: The project's kernel, registered inside its virtual environment by ``review.py``.
KERNEL_NAME = "evidence-review"

_TOGGLE = """
<style>body:not(.show-code) .jp-CodeCell .jp-Cell-inputWrapper{display:none}
#toggle-code{position:fixed;top:8px;right:8px;z-index:10;font-size:12px}</style>
<script>function toggleCode(){document.body.classList.toggle('show-code')}</script>
"""
_CDN_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>\s*')
_BUTTON = '<button id="toggle-code" onclick="toggleCode()">Show/hide code</button>'


class BuildError(RuntimeError):
    """A notebook failed; the message names the notebook and the failing cell."""


@dataclass(frozen=True)
class Job:
    """One notebook execution."""

    source: Path
    target: Path
    parameters: dict
    title: str
    root: str = ""


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def export_html(notebook_path: Path, html_path: Path, title: str, root: str = "") -> None:
    """Export an executed notebook to self-contained HTML (figures embedded, code hidden by default).

    Parameters
    ----------
    notebook_path : Path
        Executed notebook.
    html_path : Path
        Where to write the HTML.
    title : str
        Page title.
    root : str
        Path from the page to the reports folder (:func:`evidence_review.site.root_for`), for the header's links.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook_path, as_version=4)
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    # The pages are static (tables, embedded PNGs): drop the template's CDN scripts so they read offline.
    body = _CDN_SCRIPT.sub("", body)
    body = body.replace("</head>", _TOGGLE + "</head>", 1)
    body = body.replace("</body>", _BUTTON + "</body>", 1)
    body = apply_alt_texts(body, notebook_alt_texts(nb))
    _atomic_write_text(html_path, decorate_notebook_html(body, title, root))


#: One kernel per build worker, reused across the notebooks it runs (kernel start-up dominates otherwise).
_WORKER_KERNEL = None


def _kernel_manager():
    """A kernel manager for the project's kernel, with CurveZMQ transport encryption.

    The kernelspec declares ``curve`` support, so "auto" gives the kernel its keys. An unencrypted TCP
    kernel would print a warning on every start; encryption removes the cause instead of hiding the log.
    """
    from jupyter_client.manager import KernelManager

    return KernelManager(kernel_name=KERNEL_NAME, transport_encryption="auto")


def _worker_kernel():
    """Start (once per process) and return this process's kernel manager."""
    global _WORKER_KERNEL
    if _WORKER_KERNEL is None or not _WORKER_KERNEL.is_alive():
        from multiprocessing import util

        km = _kernel_manager()
        km.start_kernel(cwd=str(project_root()))
        # Worker processes skip atexit; multiprocessing finalizers do run when a worker exits.
        util.Finalize(km, km.shutdown_kernel, kwargs={"now": True}, exitpriority=10)
        _WORKER_KERNEL = km
    return _WORKER_KERNEL


def _reset_kernel(km) -> None:
    """Give the next notebook a clean namespace (imports stay cached, so this is cheap)."""
    kc = km.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        kc.execute_interactive("%reset -f\nimport matplotlib.pyplot as _plt; _plt.close('all'); del _plt",
                               store_history=False, timeout=60, output_hook=lambda msg: None)
    finally:
        kc.stop_channels()


def _tidy_notebook(path: Path, strip_run_metadata: bool = False) -> None:
    """Number executed cells 1, 2, ... so outputs do not depend on what the kernel ran before;
    optionally drop papermill's per-run timestamps so a refresh changes only real outputs."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if strip_run_metadata:
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            count += 1
            cell.execution_count = count
            for out in cell.outputs:
                if "execution_count" in out:
                    out.execution_count = count
    _atomic_write_text(path, nbformat.writes(nb) + "\n")


def run_notebook(job: Job, reuse_kernel: bool = False, html: bool = True, strip_run_metadata: bool = False) -> Path:
    """Execute one notebook with papermill, then (by default) export it to HTML next to it.

    Parameters
    ----------
    job : Job
    reuse_kernel : bool
        Run in this process's long-lived kernel (reset first) instead of a fresh one.
    html : bool
        Also write the HTML report.
    strip_run_metadata : bool
        Drop papermill's timestamps and durations (for notebooks stored in the repository).

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    BuildError
        Naming the notebook and the failing cell.
    """
    import papermill as pm

    job.target.parent.mkdir(parents=True, exist_ok=True)
    if reuse_kernel:
        km = _worker_kernel()
        _reset_kernel(km)
    else:
        km = _kernel_manager()  # papermill starts it; shut down below because papermill does not own it
    try:
        pm.execute_notebook(
            str(job.source),
            str(job.target),
            parameters=job.parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(project_root()),
            progress_bar=False,
            log_output=False,
            km=km,
        )
    except pm.PapermillExecutionError as exc:
        raise BuildError(
            f"notebook {job.source.name} failed at cell {exc.exec_count} (index {exc.cell_index}): {exc.ename}: {exc.evalue}"
        ) from None
    finally:
        if not reuse_kernel and km.has_kernel:
            km.shutdown_kernel(now=True)
    _tidy_notebook(job.target, strip_run_metadata)
    if html:
        export_html(job.target, job.target.with_suffix(".html"), job.title, job.root)
    return job.target


def _run_in_worker(job: Job) -> Path:
    return run_notebook(job, reuse_kernel=True)


def run_jobs(jobs: list[Job], workers: int | None = None) -> list[Path]:
    """Run notebook jobs in parallel, one long-lived kernel per worker process, with a progress bar.

    Parameters
    ----------
    jobs : list of Job
    workers : int, optional
        Worker processes (default: the machine's cores).

    Returns
    -------
    list of Path
        The executed notebooks, in the order of ``jobs``.

    Raises
    ------
    BuildError
        On the first failing notebook; queued notebooks are not run.
    """
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    # Workers start from a clean fork server, not a fork of this process: a forked copy of a process that
    # already talked to an encrypted kernel (ZeroMQ/CurveZMQ state) hangs on its first kernel connection.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["evidence_review.build", "papermill"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures = {pool.submit(_run_in_worker, job): i for i, job in enumerate(jobs)}
        done = [None] * len(jobs)
        for future in _progress(as_completed(futures), len(futures), "notebooks"):
            done[futures[future]] = future.result()
        return done
    finally:
        # On failure or Ctrl-C, queued notebooks are dropped instead of run to the end.
        pool.shutdown(wait=True, cancel_futures=True)


def write_results(review, folder: Path) -> list[Path]:
    """Write the machine-readable results and exports, deterministically.

    CSV: claims, verdicts, evidence links, trial directions (and the scorecard, if any); JSON:
    verdicts; BibTeX and RIS: the included studies.

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    folder : Path

    Returns
    -------
    list of Path
    """
    from .exports import spreadsheet_csv, studies_bibtex, studies_ris, verdicts_json

    syn = review.synthesis
    tables = {
        "claims.csv": review.evidence.claims,
        "verdicts.csv": syn["verdicts"],
        "evidence_links.csv": syn["links"][
            ["claim_id", "outcome_id", "study_id", "trial_group", "outcome_domain", "proxy_outcome", "directness",
             "controlled", "direction", "rationale"]
        ],
        "trial_directions.csv": syn["trials"],
    }
    if review.scorecard is not None:
        tables["scorecard.csv"] = review.scorecard
    texts = {name: spreadsheet_csv(frame) for name, frame in tables.items()}
    texts["verdicts.json"] = verdicts_json(syn["verdicts"], review.evidence.claims)
    texts["studies.bib"] = studies_bibtex(review.evidence.studies)
    texts["studies.ris"] = studies_ris(review.evidence.studies)
    written = []
    for name, text in texts.items():
        _atomic_write_text(folder / name, text)
        written.append(folder / name)
    return written


def write_summary(review, folder: Path, notebooks: list[str] = (), claim_ids: list[str] = ()) -> list[Path]:
    """Write the site's own pages (summary with the evidence map, index, studies, methods, stylesheet).

    Parameters
    ----------
    review : evidence_review.pipeline.Review
    folder : Path
    notebooks : list of str
        Notebook pages built, for the index.
    claim_ids : list of str
        Claims with a report, for the index.

    Returns
    -------
    list of Path
    """
    from matplotlib.figure import Figure

    from .charts import plot_evidence_map
    from .summary import figure_png_base64

    from .sof import synthesis_table

    syn, claims = review.synthesis, review.evidence.claims
    fig = Figure(figsize=(9, 0.32 * len(claims) + 2.5), layout="constrained")
    ax = plot_evidence_map(synthesis_table(syn, "verdicts"), synthesis_table(syn, "trials"), claims, ax=fig.add_subplot())
    alt = getattr(ax, "description", "Evidence map of the claims by kind of evidence.")
    return write_site(review, folder, list(notebooks), list(claim_ids), figure_png_base64(fig), alt)


REPORTS_README = """# reports/

Build output only: everything here is rebuilt from `data/` and `src/` by

    python3 review.py build

and is not committed (except this file). Open `index.html` for the review.
"""


def swap_into_place(staging: Path, output: Path) -> None:
    """Replace ``output`` by ``staging`` with two renames; the old reports survive any failure.

    Parameters
    ----------
    staging : Path
        The complete new reports folder.
    output : Path
        The reports folder to replace.
    """
    backup = output.with_name(f".{output.name}-backup-{os.getpid()}")
    if output.exists():
        os.replace(output, backup)
    try:
        os.replace(staging, output)
    except BaseException:
        if backup.exists():
            os.replace(backup, output)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _progress(iterable, total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="report", disable=None)


def build_review(
    params: dict, source: str = "parameters", jobs: int | None = None, claims: bool | list[str] = True
) -> dict:
    """Validate the inputs, run every notebook, write HTML and CSV results, then swap them into place.

    Parameters
    ----------
    params : dict
        Review parameters (see :data:`evidence_review.pipeline.PARAMETER_NAMES`); relative paths
        are taken from the project root.
    source : str
        Where the parameters came from (for error messages).
    jobs : int, optional
        Parallel workers for the per-claim reports (default: the machine's cores).
    claims : bool or list of str
        Run one report per claim (True), none (False), or only for the listed claim ids.

    Returns
    -------
    dict
        Timings in seconds per stage and the output folder.

    Raises
    ------
    evidence_review.tables.InputError
        Bad parameters or data; nothing is written.
    BuildError
        A notebook failed; the previous reports are left in place.
    """
    from .pipeline import prepare_review

    timings = {}
    t0 = time.perf_counter()
    review = prepare_review(source, **{k: v for k, v in params.items() if k != "claim_id"})
    if isinstance(claims, list):
        unknown = sorted(set(claims) - set(review.evidence.claims["claim_id"]))
        if unknown:
            from .tables import InputError, Problem

            valid = ", ".join(review.evidence.claims["claim_id"])
            raise InputError(source, [Problem(f"unknown claim_id(s) {unknown}; valid claim_ids: {valid}", column="claims")])
    timings["validate"] = time.perf_counter() - t0
    output = review.params.output_dir
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.with_name(f".{output.name}-staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    resolved = {k: str(getattr(review.params, k)) for k in ("claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path")}
    resolved.update(output_dir=str(output), pooling_method=review.params.pooling_method, title=review.params.title,
                    scorecard_path=str(review.params.scorecard_path) if review.params.scorecard_path else None)
    for key in ("designs", "min_year", "min_n"):
        if params.get(key) is not None:
            resolved[key] = list(review.params.designs) if key == "designs" else params[key]
    nb_dir = project_root() / "notebooks"
    try:
        t0 = time.perf_counter()
        written = write_results(review, staging)
        timings["results_csv"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        main_jobs = [Job(nb_dir / f"{n}.ipynb", staging / f"{n}.ipynb", resolved, NOTEBOOK_TITLES.get(n, n)) for n in NOTEBOOKS]
        all_ids = review.evidence.claims["claim_id"].tolist()
        claim_text = dict(zip(review.evidence.claims["claim_id"], review.evidence.claims["claim"]))
        claim_ids = all_ids if claims is True else [c for c in all_ids if c in claims] if claims else []
        claim_jobs = [
            Job(nb_dir / f"{CLAIM_NOTEBOOK}.ipynb", staging / "claims" / f"{cid}.ipynb", {**resolved, "claim_id": cid},
                f"Claim: {claim_text[cid]}", root=CLAIM_ROOT)
            for cid in claim_ids
        ]
        all_jobs = main_jobs + claim_jobs
        run_jobs(all_jobs, jobs)
        timings["notebooks"] = time.perf_counter() - t0
        write_summary(review, staging, list(NOTEBOOKS), claim_ids)
        _atomic_write_text(staging / "README.md", REPORTS_README)
        swap_into_place(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    timings["total"] = sum(timings.values())
    return {"output": output, "timings": timings, "files": [p.name for p in written]}


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
