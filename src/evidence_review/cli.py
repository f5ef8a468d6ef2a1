"""Command line of the evidence review toolkit.

    evidence-review new FOLDER                                  # a ready-to-fill review of another article
    evidence-review check [--params FILE.yaml] [--output DIR]   # every problem at once; writes nothing
    evidence-review build [--params FILE.yaml] [--output DIR] [--jobs N]   # the review, into reports/
    evidence-review refresh [NOTEBOOK ...]                      # re-execute the stored notebooks
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

# Only the standard library at import: the review's libraries are imported in main(), where Ctrl-C
# during their import ends the command with a sentence, not a traceback.
__all__ = ["main"]

_EPILOG = """\
exit codes: 0 done; 1 a notebook failed, the output cannot be written (read-only, disk full) or
another build is writing to the same output folder; 2 bad input or an output folder the build may
not write to (nothing was touched); 130 interrupted (Ctrl-C or SIGTERM; the previous reports are
unchanged).

The output folder must be new, empty, or made by an earlier build (it then holds a
.evidence-review-output file); any other folder is refused, and so are a file, /, the project,
the current folder, and a folder that contains one of them or an input file.
"""


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl-C."""


def _raise_interrupt(signum, frame):
    raise _Terminated(signal.Signals(signum).name)


@contextmanager
def _terminate_like_ctrl_c():
    """Make SIGTERM and SIGHUP stop the build the way Ctrl-C does (clean up, exit 130)."""
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # ignored on purpose (nohup): keep it that way
            previous[sig] = signal.signal(sig, _raise_interrupt)
        except (ValueError, OSError):  # not the main thread, or no such signal here
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _os_error_sentence(exc: OSError, output) -> str:
    """One plain sentence for a file-system failure while writing the reports.

    The file is named only when it lies outside the output folder (inside it, it would be a
    path in the build's hidden staging folder, which tells a user nothing).
    """
    reason = exc.strerror or str(exc)
    inside = exc.filename is None or str(exc.filename).startswith(str(output))
    return f"cannot write the reports to '{output}': {reason}" + ("." if inside else f" ('{exc.filename}').")


def _given_parameters(args) -> tuple[dict, str]:
    """The parameters of ``--params`` with ``--output`` on top, and where they came from."""
    from .parameters import read_parameters_file
    from .tables import InputError, Problem

    params, source = {}, "command line"
    if args.params:
        params = read_parameters_file(args.params)
        source = args.params
    if args.output is not None:
        if not args.output.strip():
            raise InputError("command line", [Problem("--output must be a folder path, got an empty text", column="output")])
        # abspath, not resolve(): the output checks must see a symlink as a symlink.
        params["output_dir"] = os.path.abspath(args.output)
    return params, source


def _parser() -> argparse.ArgumentParser:
    from .notebook_runner import WORKER_MEMORY

    parser = argparse.ArgumentParser(prog="evidence-review", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    params_help = ("papermill-style YAML file of review parameters (relative paths in it are taken from the current "
                   "folder; left-out parameters take the bundled review's defaults)")
    b = sub.add_parser("build", help="run every notebook and write reports/", epilog=_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--params", "-f", help=params_help)
    b.add_argument("--output", "-o", help="output folder, relative to the current folder (default: reports/ of the project)")
    b.add_argument("--jobs", "-j", type=int, default=None,
                   help=f"parallel notebook runs (default: number of cores); capped by the usable cores and by "
                        f"available memory at {WORKER_MEMORY // 2**20} MB per run (a worker and its kernel)")
    b.add_argument("--no-claim-reports", action="store_true", help="skip the one-report-per-claim step")
    b.add_argument("--claims", help="comma-separated claim ids: only these get a claim report")
    c = sub.add_parser("check", help="validate every input the build would read, list every problem; write nothing",
                       epilog="exit codes: 0 every input is valid; 2 a problem was found (each is listed with its file, "
                              "spreadsheet row and column); 130 interrupted.")
    c.add_argument("--params", "-f", help=params_help)
    c.add_argument("--output", "-o", help="output folder the build would write, checked too (default: as in the parameters)")
    n = sub.add_parser("new", help="write a ready-to-fill review (empty CSV files, vocabularies, params.yaml, README)",
                       epilog="exit codes: 0 written; 2 the folder exists and is not empty, or is a file (nothing "
                              "written); 1 the folder cannot be written.")
    n.add_argument("folder", metavar="FOLDER", help="a new or empty folder; its params.yaml names files through this path")
    r = sub.add_parser("refresh", help="re-execute notebooks/ in place with default parameters (after a data change)")
    r.add_argument("names", nargs="*", help="notebook names without .ipynb (default: all)")
    return parser


def _new(folder: str) -> int:
    from .scaffold import new_review
    from .tables import InputError

    try:
        new_review(folder)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the new review to '{folder}': {exc.strerror or exc}. Nothing was written.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was written.", file=sys.stderr)
        return 130
    params = (Path(folder) / "params.yaml").as_posix()
    print(f"New review written to {folder}. Fill in its CSV files and the topic in {params} (see "
          f"{(Path(folder) / 'README.md').as_posix()}), then run from this folder:\n"
          f"  evidence-review check --params {params}\n  evidence-review build --params {params}")
    return 0


def _check(args) -> int:
    from .inputs import check_inputs, summary_line
    from .tables import InputError

    try:
        with _terminate_like_ctrl_c():
            params, source = _given_parameters(args)
            review, output = check_inputs(params, source=source, cwd=os.getcwd(),
                                          output_source="command line (--output)" if args.output is not None else None)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot check the inputs: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted.", file=sys.stderr)
        return 130
    print(summary_line(review, output))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``evidence-review``.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0 on success; 1 when a notebook fails, the output cannot be written or another build
        holds the output folder; 2 on bad input or a refused output folder (``check``: any
        problem; ``new``: a folder that is a file or not empty); 130 when interrupted (Ctrl-C,
        SIGTERM or SIGHUP).
    """
    try:
        args = _parser().parse_args(argv)
        if args.command == "build":
            # Its workers' imports then run while this process imports the review's libraries and
            # validates the inputs (see evidence_review.fork_server).
            from .fork_server import start_fork_server

            start_fork_server()
        from .build import build_review
        from .notebook_runner import BuildError
        from .outputs import OutputBusy
        from .tables import InputError, Problem
    except KeyboardInterrupt:
        print("interrupted: nothing was written.", file=sys.stderr)
        return 130

    if args.command == "new":
        return _new(args.folder)
    if args.command == "check":
        return _check(args)
    if args.command == "refresh":
        from .build import refresh_notebooks

        try:
            for path in refresh_notebooks(args.names or None):
                print(f"refreshed {path.name}")
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    output = None
    try:
        with _terminate_like_ctrl_c():
            params, source = _given_parameters(args)
            if args.jobs is not None and args.jobs < 1:
                raise InputError("command line", [Problem(f"--jobs must be 1 or more, got {args.jobs}", column="jobs")])
            output = params.get("output_dir")
            claims = [c.strip() for c in args.claims.split(",") if c.strip()] if args.claims else not args.no_claim_reports
            result = build_review(params, source=source, jobs=args.jobs, claims=claims, cwd=os.getcwd(),
                                  output_source="command line (--output)" if args.output is not None else None)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("Nothing was written; the previous reports are unchanged.", file=sys.stderr)
        return 2
    except OutputBusy as exc:
        print(f"error: {exc}.", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 1
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("The previous reports are unchanged.", file=sys.stderr)
        return 1
    except OSError as exc:
        from .parameters import default_path

        where = output or default_path("output_dir")
        print(f"error: {_os_error_sentence(exc, where)} The previous reports are unchanged.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the previous reports are unchanged.", file=sys.stderr)
        return 130
    t = result["timings"]
    print(f"Review written to {result['output']} in {t['total']:.1f} s "
          f"(validate {t['validate']:.1f} s, results {t['results_csv']:.1f} s, notebooks and HTML {t['notebooks']:.1f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
