"""What the run's first process prepares once, before the test processes start: the project's bytecode and
the test modules with their asserts rewritten (docs/testing.md, "Cold runs").

Both are cached next to the sources (`__pycache__`, git-ignored) and checked against them, so an up-to-date
tree costs a read of each cache; a fresh clone, as CI's always is, pays once instead of once per process.
"""

from __future__ import annotations

import compileall
import importlib.util
import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import pytest
from _pytest.assertion import rewrite

ROOT = Path(__file__).parents[1]
TESTS = ROOT / "tests"
PROJECT_PACKAGES = ("bench", "bot", "faq", "msapi", "sandbox", "storage", "workflows")


def compile_project() -> None:
    """The `aadbot` processes the tests start inherit PYTHONDONTWRITEBYTECODE, so a module only they import
    (the Teams surface, the sandbox's command, the benchmarks) was compiled from source by each of them on
    every run; and on a fresh checkout every test process compiled the rest at the same time."""
    for package in PROJECT_PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


def rewritten_test_module(source: Path) -> Path:
    """Where pytest caches `source` with its asserts rewritten (its `AssertionRewritingHook.exec_module`)."""
    return rewrite.get_cache_dir(source) / (source.name[:-3] + rewrite.PYC_TAIL)


def modules_to_rewrite() -> list[Path]:
    """The modules pytest rewrites when it collects this folder: test files and conftests."""
    return sorted(
        path for path in TESTS.rglob("*.py") if path.name.startswith("test_") or path.name == "conftest.py"
    )


def rewrite_test_modules(config: pytest.Config, sources: Sequence[Path]) -> list[Path]:
    """Rewrite those of `sources` whose cache is missing or stale, in two processes; the rewritten ones.

    Each test process collects every test file (pytest-xdist's `loadfile` hands out files only after all
    have collected the same tests), so on a fresh clone all four rewrote all 117 modules at once: 1.7 s of
    CPU each, 7 s in all. pytest's own functions do the work and the caching, so what a test process reads
    is what it would have written; `tests/test_bytecode.py` fails if pytest ever changes them. One that
    cannot be rewritten (a syntax error) is left to the test processes, whose collection reports it."""
    stale = [source for source in sources if not _up_to_date(source)]
    if not stale:
        return []
    global _CONFIG
    _CONFIG = config  # inherited by the forked processes: pytest's config cannot be pickled
    halves = [stale[0::2], stale[1::2]]
    with multiprocessing.get_context("fork").Pool(len(halves)) as pool:
        rewritten = {source for half in pool.map(_rewrite, halves) for source in half}
    return [source for source in stale if source in rewritten]


def _up_to_date(source: Path) -> bool:
    """Whether the rewritten cache is of this source (pytest's `_read_pyc` checks the same header, then
    unmarshals the module: 0.5 s of the run's first process for the suite's 180 modules)."""
    try:
        with rewritten_test_module(source).open("rb") as cached:
            header = cached.read(16)
        source_hash = importlib.util.source_hash(source.read_bytes())
    except OSError:
        return False
    return header == importlib.util.MAGIC_NUMBER + b"\x03\x00\x00\x00" + source_hash[:8]


_CONFIG: pytest.Config | None = None


def _rewrite(sources: Sequence[Path]) -> list[Path]:
    assert _CONFIG is not None
    state = _CONFIG.stash[rewrite.assertstate_key]
    rewritten = []
    for source in sources:
        try:
            source_hash, code = rewrite._rewrite_test(source, _CONFIG)
        except (SyntaxError, ValueError):  # ValueError: null bytes; the test process's import reports either
            continue
        cached = rewritten_test_module(source)
        if rewrite.try_makedirs(cached.parent) and rewrite._write_pyc(state, code, source_hash, cached):
            rewritten.append(source)
    return rewritten
