"""Command line: ``evidence-review build [--params FILE.yaml] [--output DIR] [--jobs N]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "read_parameters_file"]

_PATH_KEYS = ("claims_path", "studies_path", "outcomes_path", "reviews_path", "domains_path", "scorecard_path", "background_path", "output_dir")


def read_parameters_file(path: str | Path) -> dict:
    """Read a papermill-style YAML parameters file; relative paths are taken from the current folder.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict

    Raises
    ------
    evidence_review.tables.InputError
        If the file is missing, is not YAML or is not a mapping of names to values.
    """
    import yaml

    from .tables import InputError, Problem

    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), [Problem("parameters file not found")])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(str(path), [Problem(f"not a valid YAML file: {exc}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(str(path), [Problem("expected a mapping such as 'studies_path: my/studies.csv'")])
    return {k: (str(Path.cwd() / v) if k in _PATH_KEYS and isinstance(v, str) and not Path(v).is_absolute() else v)
            for k, v in data.items()}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``evidence-review``.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0 on success, 1 when a notebook fails, 2 on bad input, 130 when interrupted.
    """
    from .build import BuildError, build_review
    from .tables import InputError

    parser = argparse.ArgumentParser(prog="evidence-review", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="run every notebook and write reports/")
    b.add_argument("--params", "-f", help="papermill-style YAML file of review parameters (paths relative to the current folder)")
    b.add_argument("--output", "-o", help="output folder (default: reports/ of the project)")
    b.add_argument("--jobs", "-j", type=int, default=None, help="parallel notebook runs (default: number of cores)")
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
    try:
        params = {}
        if args.params:
            params = read_parameters_file(args.params)
            source = args.params
        if args.output:
            params["output_dir"] = str(Path(args.output).resolve())
        claims = [c.strip() for c in args.claims.split(",") if c.strip()] if args.claims else not args.no_claim_reports
        result = build_review(params, source=source, jobs=args.jobs, claims=claims)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("Nothing was written; the previous reports are unchanged.", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("The previous reports are unchanged.", file=sys.stderr)
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
