"""Mutation score of the engine's rule and statistics modules (mutmut), printed with every survivor.

    .venv/bin/pip install mutmut          # measuring tool only; not a dependency of the project
    .venv/bin/python benchmarks/bench_mutation.py [--max-children 2]

mutmut changes one operator, constant or name at a time in the modules below and runs the unit
tests that pin their rules; a mutant the tests do not notice "survives". The run happens in a
temporary copy of the project (so ``mutants/`` and mutmut's configuration never touch the work tree)
and prints killed / survived / total and the score. Target (issue 13): >= 85% killed. Each survivor
judged harmless is listed in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The rule modules (trial directions, GRADE, verdicts) and the statistics (effect sizes, pooling).
MODULES = ["directions", "grading", "verdicts", "effects"]
#: The unit tests that pin their rules (constructed inputs only, so each mutant runs in well under a second).
TESTS = ["test_linking.py", "test_effects.py", "test_grading.py", "test_verdicts.py"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (to inspect mutants)")
    parser.add_argument("--modules", nargs="+", default=MODULES, help="modules of src/evidence_review to mutate")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's changed line (slow: one mutmut call each)")
    args = parser.parse_args()
    mutmut = Path(sys.executable).with_name("mutmut")
    if not mutmut.exists():
        sys.exit("mutmut is not installed in this environment: .venv/bin/pip install mutmut")
    work = Path(tempfile.mkdtemp(prefix="mutation-"))
    for name in ("src", "tests", "data"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    (work / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = src/evidence_review\n"
        "only_mutate =\n" + "".join(f"    src/evidence_review/{m}.py\n" for m in args.modules)
        + "also_copy =\n    data/\n"
        "pytest_add_cli_args_test_selection =\n" + "".join(f"    tests/{t}\n" for t in TESTS)
        + "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n    -x\n    -q\n"
    )
    try:
        subprocess.run([str(mutmut), "run", "--max-children", str(args.max_children)], cwd=work, check=False,
                       stdout=subprocess.DEVNULL)
        subprocess.run([str(mutmut), "export-cicd-stats"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
        results = subprocess.run([str(mutmut), "results"], cwd=work, capture_output=True, text=True).stdout
        survivors = "\n".join(line for line in results.splitlines() if line.strip().endswith("survived"))
        killed, survived, total = stats["killed"], stats["survived"], stats["total"]
        scored = killed + survived
        print(f"modules: {', '.join(args.modules)}")
        print(f"tests:   {', '.join(TESTS)}")
        print(json.dumps(stats))
        print(f"killed {killed} of {scored} scored mutants ({100 * killed / max(scored, 1):.1f}%); {total} generated")
        print("survivors:")
        for line in survivors.splitlines():
            if line.strip():
                print(f"  {line.strip()}")
                if args.diffs:
                    name = line.split(":")[0].strip()
                    diff = subprocess.run([str(mutmut), "show", name], cwd=work, capture_output=True, text=True).stdout
                    for d in diff.splitlines():
                        if d.startswith(("-", "+")) and not d.startswith(("---", "+++")):
                            print(f"      {d.strip()}")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
