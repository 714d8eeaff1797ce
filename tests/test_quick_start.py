"""The README's Quick start is what CI runs: the two stay one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```[^\n]*\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the Quick start section has no fenced code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_has_exactly_a_demo_command_and_a_test_command() -> None:
    demo, tests = quick_start_commands()
    assert demo.endswith("aadbot demo")
    assert "scripts/check.py" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start_commands()[1] in ci_lines


SHADOWING_FOLDERS = ("bot", "faq", "msapi", "sandbox", "storage", "workflows")
"""Test folders named like the packages they test: without `__init__.py` they hide those packages."""


def _first_test_importing(package: str) -> str:
    for path in sorted((ROOT / "tests" / package).glob("test_*.py")):
        if re.search(rf"^(from|import) {package}\b", path.read_text(encoding="utf-8"), re.MULTILINE):
            return str(path.relative_to(ROOT))
    raise AssertionError(f"no test file in tests/{package} imports {package}")


def test_plain_pytest_collects_the_tests_of_every_package_from_the_repository_root() -> None:
    """Typing `pytest` (not `python -m pytest`) must work: no test folder may shadow a package it tests.

    One test file per folder is enough, one that imports the package: a shadowing folder fails there;
    collecting every file in a second pytest cost seconds of CPU for nothing more."""
    pytest_command = Path(sys.executable).parent / "pytest"
    folders = [_first_test_importing(name) for name in SHADOWING_FOLDERS]
    plain = subprocess.run(
        [str(pytest_command), "-o", "addopts=", "--collect-only", "-q", "-p", "no:cacheprovider", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plain.returncode == 0, plain.stdout[-2000:] + plain.stderr[-2000:]
    collected = {line.split("/")[1] for line in plain.stdout.splitlines() if line.startswith("tests/")}
    assert collected == set(SHADOWING_FOLDERS), plain.stdout[-500:]
