"""`scripts/postgres_coverage.py --records`: a folder's records are read again only if the run that made them
completed."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from tests.statement_shapes import SHAPES_DIR

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres_coverage.py"


@pytest.fixture
def postgres_coverage() -> ModuleType:
    spec = importlib.util.spec_from_file_location("postgres_coverage", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RecordedRuns:
    """Stands for the recorded pytest runs: each writes one test's shape into the folder, then passes or
    fails as told."""

    def __init__(self, *passes: bool) -> None:
        self.passes = list(passes)
        self.runs = 0

    def call(self, command: Sequence[str], cwd: Path, env: dict[str, str]) -> int:
        self.runs += 1
        entry = {"kind": "shape", "test": f"tests/test_x.py::test_run{self.runs}", "value": "SELECT ?"}
        (Path(env[SHAPES_DIR]) / f"process{self.runs}.jsonl").write_text(json.dumps(entry) + "\n")
        return 0 if self.passes.pop(0) else 1


def test_the_records_of_a_failed_run_are_made_anew_and_those_of_a_complete_one_read_again(
    postgres_coverage: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runs = RecordedRuns(False, True)
    monkeypatch.setattr(postgres_coverage, "subprocess", SimpleNamespace(call=runs.call))

    with pytest.raises(SystemExit):
        postgres_coverage.records(tmp_path, [])
    assert not (tmp_path / "complete").exists()

    postgres_coverage.records(tmp_path, [])  # its `site/` there already
    postgres_coverage.records(tmp_path, [])

    assert runs.runs == 2
    shapes, _flags = postgres_coverage.read(tmp_path)
    assert dict(shapes) == {"tests/test_x.py::test_run2": {"SELECT ?"}}
