"""What the code's comments and docstrings name as `package.module.name` exists: a reader sent there by a
reference to a function since renamed finds nothing (`workflows.stages.unit.step_key`, which was `paced`)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "workflows", "storage", "msapi", "sandbox", "faq")
REFERENCE = re.compile(rf"`((?:{'|'.join(PACKAGES)})(?:\.\w+)+)`")


def _references() -> list[tuple[str, str]]:
    found = {
        (reference, str(path.relative_to(ROOT)))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        for reference in REFERENCE.findall(path.read_text(encoding="utf-8"))
    }
    return sorted(found)


def _resolves(reference: str) -> bool:
    """Whether the longest importable module of `reference` holds the rest of it, attribute by attribute
    (a dataclass field without a default is only annotated)."""
    parts = reference.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if hasattr(found, name):
                found = getattr(found, name)
            elif name in getattr(found, "__annotations__", {}):
                return name == parts[-1]
            else:
                return False
        return True
    return False


def test_what_the_code_names_exists() -> None:
    references = _references()
    assert len(references) > 50  # the pattern still matches how the code writes them
    assert [f"{where}: `{reference}`" for reference, where in references if not _resolves(reference)] == []
