"""The conversation (what is said) stands below delivery (how it is sent): it never imports delivery, and
the types every stage shares are defined once."""

from __future__ import annotations

import ast
from pathlib import Path

CONVERSATION = Path(__file__).resolve().parents[2] / "bot" / "conversation"


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(CONVERSATION.rglob("*.py"))]


def test_the_conversation_imports_nothing_of_delivery() -> None:
    imported = [
        (path.relative_to(CONVERSATION).as_posix(), node.module)
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot.delivery")
    ]
    assert imported == []


def test_the_handler_type_is_defined_once() -> None:
    defined = [
        path.relative_to(CONVERSATION).as_posix()
        for path, tree in _modules()
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and any(isinstance(target, ast.Name) and target.id == "Handler" for target in _targets(node))
    ]
    assert defined == ["desk.py"]


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return list(node.targets) if isinstance(node, ast.Assign) else [node.target]
