"""Imported by the build's fork server, and only there, before it forks any worker: see
:func:`evidence_review.fork_server.prepare_fork_server`. Importing it anywhere else would make that
process die with its parent."""

from .fork_server import prepare_fork_server

prepare_fork_server()

# The module the workers run; imported here, once, rather than by each worker.
from . import notebook_runner  # noqa: E402,F401
