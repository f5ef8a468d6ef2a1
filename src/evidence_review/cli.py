"""Command line: ``evidence-review build [--params FILE.yaml] [--output DIR] [--jobs N]``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

__all__ = ["main", "read_parameters_file"]

_PATH_KEYS = ("claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path", "conditions_path",
              "interventions_path", "scorecard_path", "background_path", "output_dir")


#: A parameters file is a dozen short lines; anything far larger is not one.
MAX_PARAMETERS_BYTES = 64 * 1024
#: Parameters are values or lists of values; deeper nesting is not a parameters file (and would
#: exhaust the YAML composer's recursion).
MAX_PARAMETERS_DEPTH = 10


def _refusing_loader():
    """A safe YAML loader that refuses anchors, aliases and deep nesting.

    Parameters never need them, and aliases are how a tiny file expands into a gigantic value (the
    "billion laughs" bomb) or into a value that contains itself.
    """
    import yaml

    class PlainSafeLoader(yaml.SafeLoader):
        depth = 0

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"'{key[:60]}' is given twice; keep one", key_node.start_mark)
                if isinstance(key, str):
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

        def compose_node(self, parent, index):
            event = self.peek_event()
            if self.check_event(yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise yaml.composer.ComposerError(
                    None, None, "YAML anchors and aliases (&name, *name) are not accepted in a parameters file; "
                    "write each value out", event.start_mark)
            if self.depth >= MAX_PARAMETERS_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"values nested more than {MAX_PARAMETERS_DEPTH} levels deep", event.start_mark)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return PlainSafeLoader


def read_parameters_file(path: str | Path) -> dict:
    """Read a papermill-style YAML parameters file; relative paths are taken from the current folder.

    Only plain YAML is accepted: one mapping of names to values, at most
    :data:`MAX_PARAMETERS_BYTES` bytes and :data:`MAX_PARAMETERS_DEPTH` levels of nesting, no tags
    beyond YAML's own and no anchors or aliases, so a small file can never expand into a huge or
    self-containing value.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict

    Raises
    ------
    evidence_review.tables.InputError
        If the file is missing, too large, not YAML, uses anchors/aliases or is not a mapping of names
        to values. Messages quote at most a bounded part of any value.
    """
    import yaml

    from .tables import InputError, Problem, shown, shown_value

    path = Path(path)
    source = shown(path, 300)
    try:
        if not path.is_file():
            raise InputError(source, [Problem("parameters file not found")])
        size = path.stat().st_size
        if size > MAX_PARAMETERS_BYTES:
            raise InputError(source, [Problem(f"the file is {size} bytes; a parameters file is at most {MAX_PARAMETERS_BYTES} bytes")])
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        problem = "not UTF-8 text; save the file as UTF-8" if isinstance(exc, UnicodeDecodeError) else f"cannot be read: {shown(exc, 200)}"
        raise InputError(source, [Problem(problem)]) from None
    try:
        data = yaml.load(text, Loader=_refusing_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = getattr(exc, "problem", None) or exc
        raise InputError(source, [Problem(f"not a valid YAML file: {where}{shown(what, 300)}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(source, [Problem(f"expected a mapping such as 'studies_path: my/studies.csv', got {shown_value(data)}")])
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise InputError(source, [Problem(f"parameter names must be text, got {shown_value(k)}") for k in bad_keys])
    return {k: _from_current_folder(v) if k in _PATH_KEYS else v for k, v in data.items()}


def _from_current_folder(value):
    """A path parameter as the user meant it: ``~`` is their home, a relative path starts in the current folder."""
    if not isinstance(value, str) or not value or "\0" in value:
        return value  # validated (and reported) with the other parameters
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else Path.cwd() / path)


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``evidence-review``.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0 on success; 1 when a notebook fails, the output cannot be written or another build
        holds the output folder; 2 on bad input or a refused output folder; 130 when interrupted
        (Ctrl-C, SIGTERM or SIGHUP).
    """
    from .build import WORKER_MEMORY, BuildError, build_review
    from .outputs import OutputBusy
    from .tables import InputError, Problem

    parser = argparse.ArgumentParser(prog="evidence-review", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="run every notebook and write reports/", epilog=_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--params", "-f", help="papermill-style YAML file of review parameters (paths relative to the current folder)")
    b.add_argument("--output", "-o", help="output folder, relative to the current folder (default: reports/ of the project)")
    b.add_argument("--jobs", "-j", type=int, default=None,
                   help=f"parallel notebook runs (default: number of cores); capped by the usable cores and by "
                        f"available memory at {WORKER_MEMORY // 2**20} MB per run (a worker and its kernel)")
    b.add_argument("--no-claim-reports", action="store_true", help="skip the one-report-per-claim step")
    b.add_argument("--claims", help="comma-separated claim ids: only these get a claim report")
    r = sub.add_parser("refresh", help="re-execute notebooks/ in place with default parameters (after a data change)")
    r.add_argument("names", nargs="*", help="notebook names without .ipynb (default: all)")
    args = parser.parse_args(argv)
    if args.command == "refresh":
        from .build import refresh_notebooks

        try:
            for path in refresh_notebooks(args.names or None):
                print(f"refreshed {path.name}")
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    source = "command line"
    output = None
    try:
        with _terminate_like_ctrl_c():
            params = {}
            if args.params:
                params = read_parameters_file(args.params)
                source = args.params
            if args.output is not None:
                if not args.output.strip():
                    raise InputError("command line", [Problem("--output must be a folder path, got an empty text", column="output")])
                # abspath, not resolve(): the output checks must see a symlink as a symlink.
                params["output_dir"] = os.path.abspath(args.output)
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
        from .paths import DEFAULT_PATHS, resolve_path

        where = output or resolve_path(DEFAULT_PATHS["output_dir"])
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
