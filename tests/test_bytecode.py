"""Every module of the project has its compiled bytecode once the tests run (tests/__init__.py and
`pytest_configure` in tests/conftest.py): otherwise each test process and each `aadbot` process the tests
start compiles it from source again, on every run, where PYTHONDONTWRITEBYTECODE is set."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tests.conftest import PROJECT_PACKAGES, ROOT


def _lacking_bytecode(sources: list[Path]) -> list[str]:
    return [
        str(source.relative_to(ROOT))
        for source in sources
        if not Path(importlib.util.cache_from_source(str(source))).is_file()
    ]


def test_the_modules_this_process_imported_were_compiled_once() -> None:
    imported = [
        Path(file)
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in PROJECT_PACKAGES and (file := getattr(module, "__file__", None))
    ]
    assert len(imported) > 50
    assert _lacking_bytecode(imported) == []


def test_modules_only_aadbot_processes_import_are_compiled_for_them() -> None:
    assert _lacking_bytecode(sorted((ROOT / "bot" / "teams").glob("*.py"))) == []
