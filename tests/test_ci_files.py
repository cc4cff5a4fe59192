"""The files a deploy and CI read: the locks, .python-version, the Procfile, .ci/run and the README's commands.

These checks are offline; CI itself recompiles the locks (`scripts/lock.sh --check`) against the registry.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


def pins(lock: str) -> dict[tuple[str, str], str]:
    """A lock's pins: (package, marker) → version. Every pin must carry at least one sha256 hash."""
    found: dict[tuple[str, str], str] = {}
    current: tuple[str, str] | None = None
    hashed: set[tuple[str, str]] = set()
    for line in (ROOT / lock).read_text().splitlines():
        if match := _PIN.match(line):
            current = (canonicalize_name(match["name"]), (match["marker"] or "").strip())
            assert current not in found, f"{lock}: {current} pinned twice"
            found[current] = match["version"]
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            hashed.add(current)
        elif line.strip() and not line.lstrip().startswith("#"):
            pytest.fail(f"{lock}: a line that is neither a pin, a hash nor a comment: {line!r}")
    assert set(found) == hashed, f"{lock}: pins without a hash: {set(found) - hashed}"
    return found


def versions(lock: str) -> dict[str, set[str]]:
    """Package → every version the lock pins (one per Python version range at most)."""
    result: dict[str, set[str]] = {}
    for (name, _), version in pins(lock).items():
        result.setdefault(name, set()).add(version)
    return result


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("requirements.txt", PYPROJECT["project"]["dependencies"]),
        (
            "requirements-dev.txt",
            PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"],
        ),
    ],
)
def test_each_lock_pins_every_direct_dependency_within_its_range(lock: str, requirements: list[str]) -> None:
    locked = versions(lock)
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{lock} does not pin {name}: run scripts/lock.sh"
        for version in locked[name]:
            assert requirement.specifier.contains(version), f"{lock}: {name}=={version} is outside {requirement}"


def test_ci_tests_exactly_what_is_deployed() -> None:
    """Every pin of the deploy lock is in the test lock at the same version (the test lock may need a package
    on more Pythons: mypy needs typing-extensions everywhere)."""
    tested = versions("requirements-dev.txt")
    for (name, marker), version in pins("requirements.txt").items():
        assert version in tested.get(name, set()), f"requirements-dev.txt lacks {name}=={version} ({marker})"


def test_the_python_version_is_declared_once_for_every_tool() -> None:
    version = (ROOT / ".python-version").read_text().strip()
    assert version == "3.11"
    assert PYPROJECT["project"]["requires-python"] == f">={version}"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    assert PYPROJECT["tool"]["mypy"]["python_version"] == version
    assert f"--python-version {version}" in (ROOT / "scripts/lock.sh").read_text()


def test_the_procfile_runs_the_bot_as_a_worker() -> None:
    assert (ROOT / "Procfile").read_text().strip() == "worker: python -m bot"


def test_ci_installs_from_the_lock_checks_it_and_runs_the_lowest_versions() -> None:
    ci = (ROOT / ".ci/run").read_text()
    test = (ROOT / "scripts/test.sh").read_text()
    assert "bash scripts/test.sh" in ci and "REQUIRE_REDIS=1" in ci
    assert "bash scripts/lock.sh --check" in ci
    assert "--resolution lowest-direct -e '.[dev]'" in ci and '"$lowest/bin/python" -m pytest' in ci
    assert "pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.txt" in test
    assert "pip install -q --disable-pip-version-check --no-deps -e ." in test
    assert "packages+=(redis-server)" in test and "apt-get install" in test


def test_the_quick_start_makes_a_virtual_environment_before_installing() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme[readme.index("## Quick start") : readme.index("## Commands")]
    assert start.index("python3 -m venv .venv") < start.index("pip install .")
    assert "externally-managed-environment" in start
    assert "scripts/test.sh" in start and "redis-server" in start
