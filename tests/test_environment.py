"""pyproject.toml, requirements.lock and environment.yml describe the same environment."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from evidence_review.paths import project_root

ROOT = project_root()


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_deps():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {norm(r.name): r for r in map(Requirement, deps)}


def lock_pins():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[norm(name)] = version
    return pins


def conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and dep not in ("pip",) and not dep.startswith("python="):
            name, version = dep.split("==")
            pins[norm(name)] = version
    return pins


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    assert set(conda_pins()) == set(pyproject_deps())


def test_environment_yml_pins_equal_the_lock():
    lock = lock_pins()
    assert {name: lock[name] for name in conda_pins()} == conda_pins()


def test_lock_satisfies_pyproject_lower_bounds():
    lock = lock_pins()
    for name, req in pyproject_deps().items():
        assert name in lock, f"{name} is not in requirements.lock"
        assert req.specifier.contains(Version(lock[name])), f"{name}=={lock[name]} violates {req}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.strip() and not l.startswith("#")]
    command = "python3 review.py test"
    assert ci.count(command) == 1
    assert f"\n    {command}\n" in readme or f"\n{command}\n" in readme
    # ... run from a fresh clone in a new temporary folder, not from this checkout.
    before = ci[: ci.index(command)]
    assert any(l.startswith("git clone") for l in before) and any(l.startswith('cd "$work/clone"') for l in before)
