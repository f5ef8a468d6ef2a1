"""The fork server the build's worker processes are forked from, started as early as possible.

A worker needs papermill, nbformat, nbconvert and the HTML exporter with its templates compiled:
about 3 s of CPU. The fork server does that work once, before it forks any worker, so every
worker starts with it done. The command line starts the fork server first thing
(:func:`start_fork_server`), so this work runs while the build process imports the review's own
libraries and validates the inputs; the pool of workers
(:func:`evidence_review.notebook_runner.run_jobs`) then uses the same server.

The fork server dies with the process that started it (``PR_SET_PDEATHSIG``), even when that
process is killed with ``kill -9`` or exits while the server is still importing; its workers, in
turn, die with it.

This module itself imports only the standard library: importing it costs nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import signal

__all__ = ["start_fork_server", "fork_context", "die_with_parent", "prepare_fork_server"]

#: What the fork server imports before forking: a module whose import runs :func:`prepare_fork_server`.
PRELOAD = ("evidence_review.worker_preload",)
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere).

    Used in the fork server, in build workers and, as ``preexec_fn``, in their kernels, so
    ``kill -9`` of the build takes the fork server with it, the fork server's death its workers and
    each worker's death its kernel.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def fork_context():
    """The multiprocessing context whose fork server preloads :data:`PRELOAD`.

    Workers come from a clean fork server, not a fork of the build process: a forked copy of a
    process that already talked to an encrypted kernel (ZeroMQ/CurveZMQ state) hangs on its first
    kernel connection.

    Returns
    -------
    multiprocessing.context.ForkServerContext
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def start_fork_server() -> None:
    """Start the fork server now, in the background, if it is not running already.

    Returns at once; the server imports what workers need while the caller goes on. Calling it
    again, or creating the worker pool later, reuses the same server.
    """
    fork_context()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def prepare_fork_server() -> None:
    """Run in the fork server, before it forks any worker: die with the build, then import and
    warm up what every worker needs.

    The warm-up only saves time: if it fails, each worker does the same work on its first notebook
    (and reports any real problem there, with the notebook's name).
    """
    # Ctrl-C is the build's to handle (it exits, and this server dies with it); the fork server
    # itself ignores SIGINT, but only once its imports are done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # the build died before the line above took effect
        os._exit(1)
    try:
        import papermill  # noqa: F401

        from .html_export import warm_up_exporter

        warm_up_exporter()
    except Exception:  # noqa: BLE001 - an optimisation only, see above
        pass
