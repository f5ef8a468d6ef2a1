"""Build the whole review into ``reports/``: notebooks, per-claim reports, HTML, CSV results.

Everything is written into a staging folder inside the output folder and swapped into place only
when every step succeeded (see :mod:`evidence_review.outputs`), so a failed or interrupted build
leaves the previous reports intact and never a half-written file.

Workers and their kernels die with the build: each worker and each kernel asks Linux to kill it
when its parent dies (``PR_SET_PDEATHSIG``; a worker's parent is the fork server, which exits
with the build), and each worker also watches the build's pid, so not even ``kill -9`` of the
build leaves them running. On Ctrl-C or SIGTERM the build kills its
workers at once, which stops the running cells.

Two builds of the same inputs give the same bytes: papermill's timestamps are dropped, cell ids
and execution counts are renumbered, and notebooks receive their input paths relative to the
folder the build was run in (never absolute, never the staging folder).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .outputs import check_no_foreign_entries, claim_output_folder, lock_output_folder
from .outputs import new_staging_folder, remove_leftovers
from .outputs import LOCK_NAME, MANIFEST, MARKER, signals_ignored, swap_into_place
from .paths import BASE_ENV, project_root
from .site import CLAIM_ROOT, NOTEBOOK_TITLES, apply_alt_texts, decorate_notebook_html, notebook_alt_texts, write_site
from .tables import InputError, Problem

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
    "cap_workers",
    "planned_entries",
    "paths_base",
    "available_memory",
    "WORKER_MEMORY",
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
#: The folder relative input paths are taken from, in this worker's kernels (see :func:`_init_worker`).
_WORKER_BASE: str | None = None
#: The build's folder for its kernels' Unix sockets (see :func:`run_jobs`).
_WORKER_SOCKETS: str | None = None
_SOCKETS_PREFIX = "evidence-review-build-"
#: Memory one build worker and its kernel need at their peak (measured about 390 MB on the bundled data).
WORKER_MEMORY = 400 * 2**20
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere).

    Used in build workers and, as ``preexec_fn``, in their kernels, so ``kill -9`` of the build
    takes its workers with it and each worker's death takes its kernel.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _watch_build(build: int, parent: int) -> None:
    """Backstop to ``PR_SET_PDEATHSIG``: once the build (or this worker's parent, the fork server)
    is gone, kill this worker's kernel and exit."""
    while os.getppid() == parent and _pid_alive(build):
        time.sleep(0.5)
    km = _WORKER_KERNEL
    if km is not None and getattr(km, "provisioner", None) is not None and km.provisioner.process is not None:
        try:
            km.provisioner.process.kill()
        except OSError:
            pass
    os._exit(1)


def _init_worker(build: int, base: str, sockets: str | None = None) -> None:
    """Set up a build worker: die with the build, leave Ctrl-C to the build, remember the base
    folder and where kernel sockets go.

    A worker's parent is the fork server, which exits when the build dies (even by ``kill -9``),
    so ``PR_SET_PDEATHSIG`` on the worker fires then; the watchdog thread covers the rest.
    """
    global _WORKER_BASE, _WORKER_SOCKETS
    _die_with_parent()
    if not _pid_alive(build):  # the build died before the line above took effect
        os._exit(1)
    # The build itself handles Ctrl-C (it kills the workers); a worker interrupted on its own
    # would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_build, args=(build, os.getppid()), daemon=True).start()
    _WORKER_BASE = base
    _WORKER_SOCKETS = sockets


def _kernel_manager(**options):
    """A kernel manager for the project's kernel, with CurveZMQ transport encryption.

    The kernelspec declares ``curve`` support, so "auto" gives the kernel its keys. An unencrypted TCP
    kernel would print a warning on every start; encryption removes the cause instead of hiding the log.

    Parameters
    ----------
    **options
        Further ``KernelManager`` settings (the build's workers choose Unix-socket transport).
    """
    from jupyter_client.manager import KernelManager

    return KernelManager(kernel_name=KERNEL_NAME, transport_encryption="auto", **options)


def _worker_kernel():
    """Start (once per process) and return this process's kernel manager."""
    global _WORKER_KERNEL
    if _WORKER_KERNEL is None or not _WORKER_KERNEL.is_alive():
        from multiprocessing import util

        # Unix sockets instead of TCP ports: builds running side by side cannot collide on a
        # port ("Address already in use"), and nothing listens on the network.
        sockets = tempfile.mkdtemp(prefix="kernel-", dir=_WORKER_SOCKETS)
        km = _kernel_manager(transport="ipc", ip=os.path.join(sockets, "kernel"))
        env = dict(os.environ)
        if _WORKER_BASE is not None:
            env[BASE_ENV] = _WORKER_BASE
        km.start_kernel(cwd=str(project_root()), env=env, preexec_fn=_die_with_parent)
        # Worker processes skip atexit; multiprocessing finalizers do run when a worker exits.
        util.Finalize(km, km.shutdown_kernel, kwargs={"now": True}, exitpriority=10)
        util.Finalize(km, shutil.rmtree, args=(sockets,), kwargs={"ignore_errors": True}, exitpriority=5)
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
    optionally drop papermill's per-run metadata (timestamps, durations, input and output paths)
    so a refresh changes only real outputs and two builds give the same bytes.

    papermill gives the cell it injects a random id, which the HTML export copies; it gets a
    fixed one, so a build is byte-identical to the next.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if strip_run_metadata:
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
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
            f"notebook {job.source.name} failed at cell {source_cell_number(exc.cell_index, bool(job.parameters))}: "
            f"{exc.ename}: {exc.evalue}"
        ) from None
    finally:
        if not reuse_kernel and km.has_kernel:
            km.shutdown_kernel(now=True)
    _tidy_notebook(job.target, strip_run_metadata)
    if html:
        export_html(job.target, job.target.with_suffix(".html"), job.title, job.root)
    return job.target


def source_cell_number(cell_index: int, injected: bool) -> int:
    """The 1-based number, in the source notebook, of the executed notebook's cell ``cell_index``.

    papermill injects one cell of parameters when it is given any; that cell is not the
    notebook's own, so the cells after it move back by one. (The kernel's execution counter is
    no guide: a reused kernel keeps counting across notebooks.)

    Parameters
    ----------
    cell_index : int
        0-based index in the executed notebook (``PapermillExecutionError.cell_index``).
    injected : bool
        Whether parameters were injected.

    Returns
    -------
    int
    """
    return cell_index + (0 if injected else 1)


def available_memory() -> int | None:
    """Memory the system can give to new processes without swapping, in bytes (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def usable_cores() -> int:
    """Cores this process may run on (the CPU affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cap_workers(requested: int | None, n_jobs: int, cores: int, memory: int | None) -> int:
    """How many build workers to start: what was asked for, but never more than the cores, the
    memory for one worker and kernel each (:data:`WORKER_MEMORY`) or the notebooks to run.

    Parameters
    ----------
    requested : int or None
        ``--jobs`` (None: one per core).
    n_jobs : int
        Notebooks to run.
    cores : int
        Usable cores.
    memory : int or None
        Available memory in bytes (None: unknown, no memory cap).

    Returns
    -------
    int
        At least 1.
    """
    caps = [requested or cores, cores, n_jobs]
    if memory is not None:
        caps.append(memory // WORKER_MEMORY)
    return max(1, min(caps))


def _run_in_worker(job: Job) -> Path:
    return run_notebook(job, reuse_kernel=True, strip_run_metadata=True)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now; its kernel dies with it (``PR_SET_PDEATHSIG``), ending its cell."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, AttributeError):
            pass
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.join(timeout=5)


def run_jobs(jobs: list[Job], workers: int | None = None, base: str | None = None) -> list[Path]:
    """Run notebook jobs in parallel, one long-lived kernel per worker process, with a progress bar.

    Parameters
    ----------
    jobs : list of Job
    workers : int, optional
        Worker processes (default: the machine's cores); capped by :func:`cap_workers`.
    base : str, optional
        Folder that relative paths in the jobs' parameters are taken from (default: the project
        root).

    Returns
    -------
    list of Path
        The executed notebooks, in the order of ``jobs``.

    Raises
    ------
    BuildError
        On the first failing notebook; queued notebooks are not run.
    KeyboardInterrupt
        On Ctrl-C (or SIGTERM, see :mod:`evidence_review.cli`): the running cells are stopped at
        once by killing the workers and their kernels.
    """
    workers = cap_workers(workers, len(jobs), usable_cores(), available_memory())
    _remove_dead_socket_folders()
    sockets = tempfile.mkdtemp(prefix=f"{_SOCKETS_PREFIX}{os.getpid()}-")
    # Workers start from a clean fork server, not a fork of this process: a forked copy of a process that
    # already talked to an encrypted kernel (ZeroMQ/CurveZMQ state) hangs on its first kernel connection.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["evidence_review.build", "papermill"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(os.getpid(), base or str(project_root()), sockets))
    try:
        futures = {pool.submit(_run_in_worker, job): i for i, job in enumerate(jobs)}
        done = [None] * len(jobs)
        for future in _progress(as_completed(futures), len(futures), "notebooks"):
            done[futures[future]] = future.result()
    except BaseException:
        # A failed or interrupted build is abandoned: stop the running cells now instead of
        # letting them (and the queued notebooks) run to the end.
        with signals_ignored():
            _kill_workers(pool)
            pool.shutdown(wait=False, cancel_futures=True)
            shutil.rmtree(sockets, ignore_errors=True)
        raise
    pool.shutdown(wait=True)
    shutil.rmtree(sockets, ignore_errors=True)
    return done


def _remove_dead_socket_folders() -> None:
    """Delete the kernel-socket folders that builds killed with ``kill -9`` left in the temp folder."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SOCKETS_PREFIX}*-*"):
        pid = folder.name[len(_SOCKETS_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


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
        "verdicts.csv": syn.verdicts,
        "evidence_links.csv": syn.links[
            ["claim_id", "outcome_id", "study_id", "trial_group", "outcome_domain", "proxy_outcome", "directness",
             "controlled", "direction", "rationale"]
        ],
        "trial_directions.csv": syn.trials,
    }
    if review.scorecard is not None:
        tables["scorecard.csv"] = review.scorecard
    texts = {name: spreadsheet_csv(frame) for name, frame in tables.items()}
    texts["verdicts.json"] = verdicts_json(syn.verdicts, review.evidence.claims)
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
        Claims with a report in this build; only these are linked.

    Returns
    -------
    list of Path
    """
    from matplotlib.figure import Figure

    from .charts import plot_evidence_map
    from .sof import synthesis_table
    from .summary import figure_png_base64

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


def _progress(iterable, total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="report", disable=None)


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
    from .parameters import notebook_parameters as parameters_for_notebooks

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
    from .inputs import check_inputs

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
    """Write every result, notebook and page of the review into ``staging``."""
    t0 = time.perf_counter()
    written = write_results(review, staging)
    timings["results_csv"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    parameters = notebook_parameters(review, base)
    nb_dir = project_root() / "notebooks"
    main_jobs = [Job(nb_dir / f"{n}.ipynb", staging / f"{n}.ipynb", parameters, NOTEBOOK_TITLES.get(n, n)) for n in NOTEBOOKS]
    claim_text = dict(zip(review.evidence.claims["claim_id"], review.evidence.claims["claim"]))
    claim_jobs = [
        Job(nb_dir / f"{CLAIM_NOTEBOOK}.ipynb", staging / "claims" / f"{cid}.ipynb", {**parameters, "claim_id": cid},
            f"Claim: {claim_text[cid]}", root=CLAIM_ROOT)
        for cid in claim_ids
    ]
    run_jobs(main_jobs + claim_jobs, jobs, base=str(base))
    timings["notebooks"] = time.perf_counter() - t0
    write_summary(review, staging, list(NOTEBOOKS), claim_ids)
    _atomic_write_text(staging / "README.md", REPORTS_README)
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
