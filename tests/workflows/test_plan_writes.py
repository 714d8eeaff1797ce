"""Who an admin decided for is read from the plan once per version of the migration row
(`workflows.reminders.Reminders`), so every write of the plan must move the row's version on. The ORM does
for every change it flushes (`version_id_col`), which is how `decide` and `recheck` write the plan; a
statement that updates the table itself must set `version` too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "workflows", "storage", "msapi", "sandbox", "faq", "scripts", "bench")
REVISIONS = ROOT / "storage" / "migrations"
"""Alembic's revisions run before any process reads a plan: no cache holds one yet."""
_SQL_UPDATE = re.compile(r"\bUPDATE\s+migration\b", re.IGNORECASE)
_ORM_UPDATE = re.compile(r"update\(\s*Migration\b")


def _unversioned_updates(tree: ast.AST) -> list[int]:
    """The lines of `update(Migration)...values(...)` statements that do not set `version`, and of SQL
    text that updates the migration table."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_UPDATE.search(node.value):
            lines.append(node.lineno)
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values"
        ):
            continue
        if _updates_migration(node.func.value) and not any(
            keyword.arg == "version" for keyword in node.keywords
        ):
            lines.append(node.lineno)
    return lines


def _updates_migration(chain: ast.expr) -> bool:
    """Whether a chain of calls (`update(Migration).where(...)`) starts with `update(Migration)`."""
    while isinstance(chain, ast.Call):
        if (
            isinstance(chain.func, ast.Name)
            and chain.func.id in ("update", "sa_update")
            and chain.args
            and isinstance(chain.args[0], ast.Name)
            and chain.args[0].id == "Migration"
        ):
            return True
        chain = chain.func.value if isinstance(chain.func, ast.Attribute) else chain.func
    return False


def test_the_check_finds_a_direct_update_of_the_plan_that_leaves_the_version() -> None:
    forgot = "update(Migration).where(Migration.id == 1).values(plan={})"
    moved = "update(Migration).where(Migration.id == 1).values(plan={}, version=Migration.version + 1)"
    other = "update(OutboundMessage).values(status='sent')"
    raw = "session.execute(text('UPDATE migration SET plan = :plan'))"
    assert [bool(_unversioned_updates(ast.parse(code))) for code in (forgot, moved, other, raw)] == [
        True,
        False,
        False,
        True,
    ]


def test_every_direct_update_of_a_migration_row_moves_its_version_on() -> None:
    found = []
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.is_relative_to(REVISIONS):
                continue
            source = path.read_text(encoding="utf-8")
            if not (_ORM_UPDATE.search(source) or _SQL_UPDATE.search(source)):
                continue  # parsing every module would cost more than the rest of the test
            found += [f"{path.relative_to(ROOT)}:{line}" for line in _unversioned_updates(ast.parse(source))]
    assert found == []
