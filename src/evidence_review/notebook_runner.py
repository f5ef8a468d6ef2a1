"""Run notebooks with papermill: one at a time, or many in a pool of worker processes that each
keep one kernel alive across the notebooks they run.

Workers and their kernels die with the build: each worker and each kernel asks Linux to kill it
when its parent dies (``PR_SET_PDEATHSIG``; a worker's parent is the fork server, which dies with
the build, see :mod:`evidence_review.fork_server`), and each worker also watches the build's pid,
so not even ``kill -9`` of the build leaves them running. On Ctrl-C or SIGTERM the build kills its
workers at once, which stops the running cells.

Executed notebooks are tidied so two runs give the same bytes: papermill's timestamps are
dropped and cell ids and execution counts are renumbered.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .fork_server import die_with_parent, fork_context
from .outputs import signals_ignored
from .paths import BASE_ENV, project_root
from .result_files import atomic_write_text

__all__ = [
    "KERNEL_NAME",
    "BuildError",
    "Job",
    "run_notebook",
    "run_jobs",
    "source_cell_number",
    "cap_workers",
    "available_memory",
    "usable_cores",
    "WORKER_MEMORY",
]

#: The project's kernel, registered inside its virtual environment by ``review.py``.
KERNEL_NAME = "evidence-review"


class BuildError(RuntimeError):
    """A notebook failed; the message names the notebook and the failing cell."""


@dataclass(frozen=True)
class Job:
    """One notebook execution.

    ``parameters`` are injected and shown in the executed notebook; ``private_parameters`` are
    injected too but left out of it, so the notebook reads as if they had not been passed (the
    build's results file: its place is the build's business, and the pages must not depend on it).
    """

    source: Path
    target: Path
    parameters: dict
    title: str
    root: str = ""
    private_parameters: dict = field(default_factory=dict)


#: One kernel per build worker, reused across the notebooks it runs (kernel start-up dominates otherwise).
_WORKER_KERNEL = None
#: The folder relative input paths are taken from, in this worker's kernels (see :func:`_init_worker`).
_WORKER_BASE: str | None = None
#: The build's folder for its kernels' Unix sockets (see :func:`run_jobs`).
_WORKER_SOCKETS: str | None = None
#: Further environment variables for this worker's kernels (see :func:`run_jobs`).
_WORKER_ENVIRONMENT: dict = {}
_SOCKETS_PREFIX = "evidence-review-build-"
#: Memory one build worker and its kernel need at their peak (measured about 390 MB on the bundled data).
WORKER_MEMORY = 400 * 2**20


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


def _init_worker(build: int, base: str, sockets: str | None = None, environment: dict | None = None) -> None:
    """Set up a build worker: die with the build, leave Ctrl-C to the build, remember the base
    folder and where kernel sockets go.

    A worker's parent is the fork server, which dies with the build (even by ``kill -9``),
    so ``PR_SET_PDEATHSIG`` on the worker fires then; the watchdog thread covers the rest.
    """
    global _WORKER_BASE, _WORKER_SOCKETS, _WORKER_ENVIRONMENT
    die_with_parent()
    if not _pid_alive(build):  # the build died before the line above took effect
        os._exit(1)
    # The build itself handles Ctrl-C (it kills the workers); a worker interrupted on its own
    # would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_build, args=(build, os.getppid()), daemon=True).start()
    _WORKER_BASE = base
    _WORKER_SOCKETS = sockets
    _WORKER_ENVIRONMENT = dict(environment or {})


def _kernel_manager(one_client: bool = False, **options):
    """A kernel manager for the project's kernel, with CurveZMQ transport encryption.

    The kernelspec declares ``curve`` support, so "auto" gives the kernel its keys. An unencrypted TCP
    kernel would print a warning on every start; encryption removes the cause instead of hiding the log.

    Parameters
    ----------
    one_client : bool
        Give every caller the same client (see :func:`_one_client_manager_class`): for a worker's
        long-lived kernel.
    **options
        Further ``KernelManager`` settings (the build's workers choose Unix-socket transport).
    """
    from jupyter_client.manager import KernelManager

    manager = _one_client_manager_class() if one_client else KernelManager
    return manager(kernel_name=KERNEL_NAME, transport_encryption="auto", **options)


@functools.cache
def _one_client_manager_class():
    """A kernel manager that hands out one client, connected and checked ready once, to every caller.

    A new client must wait until the kernel's output channel has been silent for 0.2 s before it
    trusts that channel (``wait_for_ready``), and a worker used to make two clients per notebook
    (the reset and papermill's), about half a second of idle waiting per notebook. One client
    per kernel waits once; every reply and output it reads carries the id of the request it
    answers, so the notebooks run on it cannot mix up each other's messages.
    """
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_client.manager import KernelManager

    class ReadyOnceClient(BlockingKernelClient):
        _checked_ready = False

        def start_channels(self, *args, **kwargs):
            if not self.channels_running:
                super().start_channels(*args, **kwargs)

        def wait_for_ready(self, timeout=None):
            if not self._checked_ready:
                super().wait_for_ready(timeout=timeout)
                self._checked_ready = True

    class OneClientKernelManager(KernelManager):
        _one_client = None

        def client(self, **kwargs):
            if self._one_client is None:
                self.client_factory = ReadyOnceClient
                self._one_client = super().client(**kwargs)
            return self._one_client

    return OneClientKernelManager


def _worker_kernel():
    """Start (once per process) and return this process's kernel manager."""
    global _WORKER_KERNEL
    if _WORKER_KERNEL is None or not _WORKER_KERNEL.is_alive():
        from multiprocessing import util

        # Unix sockets instead of TCP ports: builds running side by side cannot collide on a
        # port ("Address already in use"), and nothing listens on the network.
        sockets = tempfile.mkdtemp(prefix="kernel-", dir=_WORKER_SOCKETS)
        km = _kernel_manager(one_client=True, transport="ipc", ip=os.path.join(sockets, "kernel"))
        env = dict(os.environ)
        if _WORKER_BASE is not None:
            env[BASE_ENV] = _WORKER_BASE
        env.update(_WORKER_ENVIRONMENT)
        km.start_kernel(cwd=str(project_root()), env=env, preexec_fn=die_with_parent)
        # Worker processes skip atexit; multiprocessing finalizers do run when a worker exits.
        util.Finalize(km, km.shutdown_kernel, kwargs={"now": True}, exitpriority=10)
        util.Finalize(km, shutil.rmtree, args=(sockets,), kwargs={"ignore_errors": True}, exitpriority=5)
        _WORKER_KERNEL = km
    return _WORKER_KERNEL


def _reset_kernel(km) -> None:
    """Give the next notebook a clean namespace (imports stay cached, so this is cheap).

    ``%reset`` ends with a full garbage collection, which walks every object the kernel holds:
    about 200,000 once the notebooks' libraries are imported, 0.1-0.3 s each time. What survives a
    reset (modules, their caches) is then frozen (:func:`gc.freeze`), so the next collection walks
    only what the next notebook makes. Uses the kernel's one client (see
    :func:`_one_client_manager_class`), which papermill then uses too.
    """
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    kc.execute_interactive("%reset -f\nimport gc as _gc, matplotlib.pyplot as _plt; _plt.close('all'); _gc.freeze(); del _gc, _plt",
                           store_history=False, timeout=60, output_hook=lambda msg: None)


def without_default_parameters(nb):
    """The notebook without its ``parameters`` cell when papermill injected the parameters it ran with.

    The defaults describe the bundled review; a notebook built for another review shows only the
    values it ran with (the ``injected-parameters`` cell), so it never names another topic.

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    nbformat.NotebookNode
        The same notebook, changed in place.
    """
    def tagged(cell, tag):
        return tag in cell.get("metadata", {}).get("tags", [])

    if any(tagged(cell, "injected-parameters") for cell in nb.cells):
        nb.cells = [cell for cell in nb.cells if not tagged(cell, "parameters")]
    return nb


def _tidy_notebook(nb, strip_run_metadata: bool = False, shown_parameters: dict | None = None) -> None:
    """Number executed cells 1, 2, ... so outputs do not depend on what the kernel ran before;
    optionally drop papermill's per-run metadata (timestamps, durations, input and output paths)
    so a refresh changes only real outputs and two builds give the same bytes.

    papermill gives the cell it injects a random id, which the HTML export copies; it gets a
    fixed one, so a build is byte-identical to the next. For the same reason consecutive outputs
    of one stream are merged (nbconvert's ``CoalesceStreamsPreprocessor``): the kernel sends
    what a cell prints in pieces of whatever it held when its flush timer fired, so one
    ``print`` can arrive as one output or as two, depending on timing.

    With ``shown_parameters``, the injected cell is rewritten to inject exactly those (and removed
    when there are none): the notebook then reads as if only they had been passed. A notebook left
    with injected parameters keeps only them, not its defaults (:func:`without_default_parameters`).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook, changed in place.
    strip_run_metadata : bool
    shown_parameters : dict, optional
    """
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor
    from papermill.translators import translate_parameters

    CoalesceStreamsPreprocessor().preprocess(nb, {})
    if strip_run_metadata:
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
    if shown_parameters is not None:
        if "parameters" in nb.metadata.get("papermill", {}):
            nb.metadata.papermill.parameters = dict(shown_parameters)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        for cell in injected:
            if shown_parameters:
                cell.source = translate_parameters(KERNEL_NAME, "python", shown_parameters, "Parameters")
            else:
                nb.cells.remove(cell)
    without_default_parameters(nb)
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
    import nbformat
    import papermill as pm

    job.target.parent.mkdir(parents=True, exist_ok=True)
    if reuse_kernel:
        km = _worker_kernel()
        _reset_kernel(km)
    else:
        km = _kernel_manager()  # papermill starts it; shut down below because papermill does not own it
    try:
        # No output path: papermill would otherwise write the whole notebook, outputs and all, when
        # each cell starts and again when it ends; the executed notebook is written once, below.
        executed = pm.execute_notebook(
            str(job.source),
            None,
            parameters={**job.parameters, **job.private_parameters},
            kernel_name=KERNEL_NAME,
            cwd=str(project_root()),
            progress_bar=False,
            log_output=False,
            km=km,
        )
    except pm.PapermillExecutionError as exc:
        raise BuildError(
            f"notebook {job.source.name} failed at cell {source_cell_number(exc.cell_index, bool(job.parameters or job.private_parameters))}: "
            f"{exc.ename}: {exc.evalue}"
        ) from None
    finally:
        if not reuse_kernel and km.has_kernel:
            km.shutdown_kernel(now=True)
    # Serialised and parsed back first, exactly as if papermill had written the file and it were read.
    nb = nbformat.reads(nbformat.writes(executed), as_version=4)
    _tidy_notebook(nb, strip_run_metadata, job.parameters if job.private_parameters else None)
    text = nbformat.writes(nb) + "\n"
    atomic_write_text(job.target, text)
    if html:
        from .html_export import export_notebook_html

        export_notebook_html(nbformat.reads(text, as_version=4), job.target.with_suffix(".html"), job.title, job.root)
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


def _warm_up(code: str) -> None:
    """Start this worker's kernel and run ``code`` in it (imports), before the first notebook comes."""
    km = _worker_kernel()
    _reset_kernel(km)
    km.client().execute_interactive(code, store_history=False, timeout=120, output_hook=lambda msg: None)


def run_jobs(jobs: list[Job], workers: int | None = None, base: str | None = None,
             environment: dict | None = None, meanwhile=None, warm_up: str | None = None) -> list[Path]:
    """Run notebook jobs in parallel, one long-lived kernel per worker process, with a progress bar.

    Parameters
    ----------
    jobs : list of Job
    workers : int, optional
        Worker processes (default: the machine's cores); capped by :func:`cap_workers`.
    base : str, optional
        Folder that relative paths in the jobs' parameters are taken from (default: the project
        root).
    environment : dict, optional
        Further environment variables for the kernels (the build passes its results file's key
        this way, never as a parameter, so it is in no notebook).
    meanwhile : callable, optional
        Work for this process while the workers start (the build synthesises the review and writes
        the results file the notebooks read); no notebook starts before it returns.
    warm_up : str, optional
        Code each worker's kernel runs first (the notebooks' imports), while ``meanwhile`` runs.

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
    # The fork server may be running already: the command line starts it first thing.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=fork_context(), initializer=_init_worker,
                               initargs=(os.getpid(), base or str(project_root()), sockets, environment))
    try:
        if warm_up is not None:
            warming = [pool.submit(_warm_up, warm_up) for _ in range(workers)]
        if meanwhile is not None:
            meanwhile()
        if warm_up is not None:
            for future in warming:
                future.result()
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


def _progress(iterable, total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="report", disable=None)


