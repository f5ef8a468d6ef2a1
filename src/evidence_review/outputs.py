"""The output folder: which folders the build may write to, its lock, and the swap into place.

The build only ever replaces what it made itself. Every output folder it writes holds a marker
file, :data:`MARKER`, listing the entries the build put there. A folder is accepted as output when
it does not exist yet, is empty, or holds the marker; anything else is refused before a single
byte is written.

How the new reports replace the old ones
----------------------------------------
The output folder itself is never renamed, deleted or replaced: it may be a mount point (a Docker
volume cannot be renamed), a symlink to a folder the user owns, or a folder other programs have
open. Instead the build stages the complete new reports in a hidden subfolder
``.staging-<pid>`` of the output folder (so on the same file system), and then swaps each
top-level entry with one atomic ``renameat2(RENAME_EXCHANGE)``: the old entry and the new one trade
places in a single step. At every instant each path in the output folder therefore holds either
its complete old version or its complete new version, never nothing; ``index.html`` and
``summary.html`` are swapped last, so once they are new every page they link to is new too.
Where the exchange is not available (not Linux, or a file system without it), a file is replaced
with ``os.replace`` (also atomic) and a folder is renamed aside and the new one renamed in.
The old entries end up in the staging folder, which is then deleted; entries of the old build
that the new one does not make (a summary no longer asked for) are deleted only if the old
manifest (:data:`MANIFEST`) lists them, so a file a user put into the folder is never touched.

A build killed at any moment (even ``kill -9``) leaves only its ``.staging-<pid>`` folder behind;
the next build into the same folder removes it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import re
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

from .tables import InputError, Problem

__all__ = [
    "MARKER",
    "MANIFEST",
    "LOCK_NAME",
    "OutputBusy",
    "check_output_folder",
    "claim_output_folder",
    "check_no_foreign_entries",
    "lock_output_folder",
    "remove_leftovers",
    "new_staging_folder",
    "swap_into_place",
    "signals_ignored",
]

#: Marks a folder as the build's own output (a fixed text, so ``reports/`` can carry it in git).
MARKER = ".evidence-review-output"
#: The entries the last build wrote into the folder, one per line: the only ones it may delete.
MANIFEST = ".evidence-review-manifest"
#: Held (``flock``) by the one build writing into the folder; never deleted (see :func:`lock_output_folder`).
LOCK_NAME = ".evidence-review.lock"
_STAGING = re.compile(r"^\.staging-(\d+)$")
MARKER_TEXT = ("This folder is the output of `evidence-review build` (python3 review.py build). The build\n"
               "replaces the entries listed in .evidence-review-manifest and nothing else. Delete this file\n"
               "to stop the build from ever writing here.\n")
#: Swapped last, so the pages a reader opens first only ever link to new pages.
_SWAP_LAST = ("summary.html", "index.html")


class OutputBusy(RuntimeError):
    """Another build is writing into the same output folder."""


def check_output_folder(output, inputs=(), project=None, cwd=None, source: str = "parameters") -> Path:
    """Check that ``output`` may be used as the build's output folder, touching nothing.

    Parameters
    ----------
    output : str or os.PathLike
        The output folder as given, absolute (relative paths are resolved by the caller).
    inputs : iterable of path
        The input files of the build; none may be inside the output folder.
    project : path, optional
        The project root; the output may not be it or contain it (its own folders, such as
        ``data/``, are refused as folders the build did not make).
    cwd : path, optional
        The folder the user runs the build in (default: the current folder); the output may
        not be it or contain it.
    source : str
        Where the parameter came from, for the message.

    Returns
    -------
    pathlib.Path
        The real output folder (symlinks resolved), which may not exist yet.

    Raises
    ------
    InputError
        Naming the folder and why it is refused (exit 2): an empty path, ``/``, a file, a
        symlink to nothing, a parent that is a file, the project or current folder (or a
        folder containing either), a folder containing an input file, or a folder that is not
        empty and has no :data:`MARKER`.
    """

    def refuse(why: str) -> InputError:
        return InputError(source, [Problem(f"refusing to write the reports to '{output}': {why}", column="output_dir")])

    if output is None or str(output).strip() == "":
        raise InputError(source, [Problem("output folder must be a folder path, got an empty text", column="output_dir")])
    given = Path(output)
    real = Path(os.path.realpath(given))
    if given.is_symlink() and not given.exists():
        raise refuse("it is a symlink to a folder that does not exist")
    if real == Path(real.anchor):
        raise refuse("it is the root of the file system")
    if real.exists() and not real.is_dir():
        raise refuse("it is a file, not a folder")
    for parent in real.parents:
        if parent.exists():
            if not parent.is_dir():
                raise refuse(f"'{parent}' is a file, not a folder")
            break
    here = Path(os.path.realpath(cwd or os.getcwd()))
    if here == real or real in here.parents:
        raise refuse("it is (or contains) the folder you run the build in")
    if project is not None:
        root = Path(os.path.realpath(project))
        if root == real or real in root.parents:
            raise refuse("it is (or contains) the project folder")
    for path in inputs:
        if path is not None and real in Path(os.path.realpath(path)).parents:
            raise refuse(f"it contains the input file '{path}'")
    if real.is_dir() and not (real / MARKER).is_file():
        foreign = [p.name for p in real.iterdir() if p.name not in (LOCK_NAME, MANIFEST)]
        if foreign:
            raise refuse(f"it is not empty (it holds '{sorted(foreign)[0]}'"
                         f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}) and was not made by "
                         f"this build (no {MARKER} file); choose a new or empty folder")
    return real


def _manifest_entries(folder: Path) -> set[str]:
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    # Only plain entry names, never the build's own bookkeeping: a hand-edited manifest cannot
    # make the build delete its marker, reach outside the folder, or touch ".." .
    return {line for line in text.splitlines()
            if line and "/" not in line and line not in (".", "..", MARKER, MANIFEST, LOCK_NAME)}


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def claim_output_folder(folder: Path) -> None:
    """Create ``folder`` (and parents) if needed and mark it as the build's own.

    Call only after :func:`check_output_folder` accepted it (so it is new, empty or marked).

    Parameters
    ----------
    folder : Path

    Raises
    ------
    OSError
        When the folder cannot be created or written (read-only, full disk, no permission).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / MARKER).is_file():
        _write_atomically(folder / MANIFEST, "")  # nothing here is the build's yet
        _write_atomically(folder / MARKER, MARKER_TEXT)


def check_no_foreign_entries(folder: Path, planned, source: str = "parameters") -> None:
    """Refuse to overwrite an entry of a marked folder that the build did not write itself.

    A user may keep their own files in an output folder; the build leaves them alone, and stops
    (before running anything) when it would have to replace one because it has the name of a
    page the build is about to write. A folder without a manifest (``reports/`` as it comes from
    git) has no such entries.

    Parameters
    ----------
    folder : Path
        A claimed output folder.
    planned : iterable of str
        The top-level entries the build will write.
    source : str
        Where the output folder came from, for the message.

    Raises
    ------
    InputError
        Naming the entries (exit 2).
    """
    if not (folder / MANIFEST).is_file():
        return
    listed = _manifest_entries(folder)
    foreign = sorted(n for n in planned if n not in listed and ((folder / n).exists() or (folder / n).is_symlink()))
    if foreign:
        names = ", ".join(f"'{n}'" for n in foreign)
        raise InputError(source, [Problem(
            f"refusing to write the reports to '{folder}': it holds {names}, which no earlier build wrote; "
            f"move {'it' if len(foreign) == 1 else 'them'} elsewhere or choose another folder", column="output_dir")])


@contextmanager
def lock_output_folder(folder: Path):
    """Hold an exclusive ``flock`` on ``folder/.evidence-review.lock`` for one build.

    The lock file lives inside the output folder, not next to it: the folder's parent may not be
    writable (a mount point's usually is not), and a symlinked output then shares one lock
    whichever path a build was given. It is never deleted: deleting it would let a third build
    lock a new file while a second still holds the old one. The kernel drops the lock when the build exits, however it
    exits (``kill -9`` included), so a crashed build never blocks the next one.

    Parameters
    ----------
    folder : Path
        A claimed output folder (see :func:`claim_output_folder`).

    Raises
    ------
    OutputBusy
        At once, without waiting, when another build holds the lock.
    """
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy(f"another build is writing to '{folder}' right now; wait until it has finished") from None
        yield
    finally:
        os.close(fd)


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the staging folders that crashed or killed builds left in ``folder``.

    Call while holding the lock: then no other build is writing here, so a staging folder of any
    other process id is a leftover (its process is dead, or the id was reused by an unrelated
    program).

    Parameters
    ----------
    folder : Path

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed = []
    for entry in folder.iterdir():
        match = _STAGING.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def new_staging_folder(folder: Path) -> Path:
    """Create this build's empty staging folder inside the output folder (same file system).

    Parameters
    ----------
    folder : Path

    Returns
    -------
    Path
    """
    staging = folder / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc_renameat2():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


_renameat2 = _libc_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (files or folders) with ``renameat2(RENAME_EXCHANGE)``.

    Parameters
    ----------
    a, b : Path

    Returns
    -------
    bool
        False when the system or file system does not offer the exchange (nothing changed).

    Raises
    ------
    OSError
        Any other failure.
    """
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replace_entry(new: Path, target: Path, staging: Path) -> None:
    """Put ``new`` at ``target``; the old ``target`` (if any) ends up inside ``staging``."""
    old_exists = target.exists() or target.is_symlink()
    if not old_exists:
        os.rename(new, target)
    elif exchange(new, target):
        pass  # ``new`` now holds the old entry, inside staging
    elif new.is_dir() or target.is_dir():
        aside = staging / f".old-{target.name}"
        os.rename(target, aside)
        os.rename(new, target)
    else:
        os.replace(new, target)


@contextmanager
def signals_ignored():
    """Ignore Ctrl-C, SIGTERM and SIGHUP for a moment: while the entries are swapped (a few
    milliseconds), and while a failed build cleans up, so that pressing Ctrl-C twice cannot cut
    either short. Python runs signal handlers in the main thread only, so a handler (not a
    thread's signal mask) is what holds them off. Elsewhere than the main thread this does nothing.
    """
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        try:
            previous[sig] = signal.signal(sig, lambda signum, frame: None)
        except (ValueError, OSError):
            break
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def swap_into_place(staging: Path, output: Path) -> None:
    """Move the finished reports from ``staging`` into ``output``, one atomic exchange per entry.

    ``output`` itself is never renamed or deleted, so it may be a mount point or a symlinked
    folder. See the module docstring for why no instant leaves a reader without either the old
    or the new version of any page. Old entries not made again are deleted only when the old
    :data:`MANIFEST` lists them as the build's own; the new manifest lists the new entries.

    Parameters
    ----------
    staging : Path
        The complete new reports, a subfolder of ``output`` (see :func:`new_staging_folder`).
    output : Path
        The claimed output folder.
    """
    previous = _manifest_entries(output)
    names = sorted((p.name for p in staging.iterdir() if p.name not in (MARKER, MANIFEST, LOCK_NAME)),
                   key=lambda n: (n in _SWAP_LAST, _SWAP_LAST.index(n) if n in _SWAP_LAST else 0, n))
    with signals_ignored():
        # Should the build be killed half-way, the manifest already lists every entry that may
        # then be the build's, so the next build can still tidy them.
        _write_atomically(output / MANIFEST, "".join(f"{name}\n" for name in sorted(previous | set(names))))
        for name in names:
            _replace_entry(staging / name, output / name, staging)
        for name in sorted(previous - set(names)):
            stale = output / name
            if stale.exists() or stale.is_symlink():
                os.rename(stale, staging / f".stale-{name}")
        _write_atomically(output / MANIFEST, "".join(f"{name}\n" for name in names))
        # Still shielded: once the new reports are in place, a Ctrl-C must not turn the build
        # into a reported failure.
        shutil.rmtree(staging, ignore_errors=True)
