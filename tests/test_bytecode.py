"""Every module of the project has its compiled bytecode once the tests run, and the test modules their
rewritten asserts (tests/__init__.py, tests/bytecode.py): otherwise each test process and each `aadbot`
process the tests start compiles them from source again, where PYTHONDONTWRITEBYTECODE is set."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import CodeType

import pytest
from _pytest.assertion import rewrite

from tests.bytecode import (
    PROJECT_PACKAGES,
    ROOT,
    modules_to_rewrite,
    rewrite_test_modules,
    rewritten_test_module,
)


def _lacking_bytecode(sources: list[Path]) -> list[str]:
    return [
        str(source.relative_to(ROOT))
        for source in sources
        if not Path(importlib.util.cache_from_source(str(source))).is_file()
    ]


def test_the_modules_this_process_imported_were_compiled_once() -> None:
    importlib.import_module("bot.runtime")  # most of the project, should this file run alone
    imported = [
        Path(file)
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in PROJECT_PACKAGES and (file := getattr(module, "__file__", None))
    ]
    assert len(imported) > 50
    assert _lacking_bytecode(imported) == []


def test_modules_only_aadbot_processes_import_are_compiled_for_them() -> None:
    assert _lacking_bytecode(sorted((ROOT / "bot" / "teams").glob("*.py"))) == []


def test_the_cache_a_test_process_reads_is_where_pytest_wrote_this_module() -> None:
    """pytest rewrote this file when it imported it: the cache must be where `rewrite_test_modules` looks and
    writes, or the run's first process would rewrite for nobody (pytest's private functions may change)."""
    this = Path(__file__)
    assert this in modules_to_rewrite()
    assert rewrite._read_pyc(this, rewritten_test_module(this)) is not None


def test_test_modules_are_rewritten_once_into_the_cache_pytest_reads(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    sources = []
    for name in ("test_one.py", "test_two.py", "conftest.py"):
        source = tmp_path / name
        source.write_text(f"def test_{name[:-3]}() -> None:\n    assert [1] == [1]\n")
        sources.append(source)
    assert rewrite_test_modules(pytestconfig, sources) == sources
    for source in sources:
        code = rewrite._read_pyc(source, rewritten_test_module(source))
        assert code is not None
        (test,) = [constant for constant in code.co_consts if isinstance(constant, CodeType)]
        assert any(name.startswith("@py_assert") for name in test.co_varnames)  # its assert is rewritten
    assert rewrite_test_modules(pytestconfig, sources) == []  # up to date: nothing to do
    sources[0].write_text("def test_changed() -> None:\n    assert 1\n")
    assert rewrite_test_modules(pytestconfig, sources) == [sources[0]]


def test_a_module_that_cannot_be_rewritten_is_left_for_the_test_processes_to_report(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    """A syntax error in one test module ended the run's first process with INTERNALERROR (the pool raised
    it); left uncached, each test process's collection meets it and reports it with its file and line, as
    plain pytest does, and the run goes on."""
    broken, fine = tmp_path / "test_broken.py", tmp_path / "test_fine.py"
    broken.write_text("def test_broken(:\n    pass\n")
    fine.write_text("def test_fine() -> None:\n    assert [1] == [1]\n")
    assert rewrite_test_modules(pytestconfig, [broken, fine]) == [fine]
    assert not rewritten_test_module(broken).exists()
    assert rewrite._read_pyc(fine, rewritten_test_module(fine)) is not None
