"""Lists of people in chat: the first rows where they are read, every row in a CSV file beside them.

A list grows with the organization (20,000 people) while a chat message does not, so each list is cut
on its own, saying how many more there are and where; what follows it (the next step, its buttons)
stays in the message.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.conversation.messages import Attachment, Block, Table, Text

ROW_LIMIT = 25
"""Rows of a list shown in chat, as `plan` has always shown."""
NAME_LIMIT = 25
"""Names in a sentence ("Removed a, b, c and 40 more")."""
CELL_LIMIT = 40
"""Characters of a display name in a table cell: a 109-character name made every row of a 20,000-user
digest 211 characters wide, and Slack wrapped the step beside it far from its row. The CSV keeps it whole."""


def of_people(part: int, whole: int) -> str:
    """`1 of 1 person`, `2 of 10 people`."""
    return f"{part:,} of {whole:,} {'person' if whole == 1 else 'people'}"


def table(
    header: tuple[str, ...], rows: Sequence[tuple[str, ...]], *, rest: str = "in the attached CSV"
) -> list[Block]:
    """The first `ROW_LIMIT` rows; past them a line says how many more there are and where (`rest`)."""
    blocks: list[Block] = [Table(header, tuple(rows[:ROW_LIMIT]))]
    if len(rows) > ROW_LIMIT:
        blocks.append(Text(f"…and {len(rows) - ROW_LIMIT:,} more {rest}."))
    return blocks


def short(name: str) -> str:
    """`name` cut to `CELL_LIMIT` characters, the cut marked."""
    return name if len(name) <= CELL_LIMIT else name[: CELL_LIMIT - 1].rstrip() + "…"


def is_cut(rows: Sequence[object]) -> bool:
    return len(rows) > ROW_LIMIT


def csv_file(
    filename: str,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    organization: str,
) -> Attachment:
    """Every row as a CSV file belonging to the migration of `organization`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Attachment(filename, buffer.getvalue(), title, organization)


def table_and_csv(
    header: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
    csv: tuple[str, str, Sequence[str], Sequence[Sequence[str]]],
    *,
    organization: str,
) -> list[Block]:
    """`table` of `rows`, and every row as a CSV (`csv`: filename, title, header, rows) once the table is
    cut: a chat list is short, an admin's export is whole."""
    blocks = table(header, rows)
    if is_cut(rows):
        blocks.append(csv_file(*csv, organization=organization))
    return blocks


def names(items: Sequence[str], *, rest: str = "") -> str:
    """`a, b, c and 40 more`, then where the 40 are (`rest`: " in the attached CSV"); `none` for nobody."""
    if not items:
        return "none"
    shown = ", ".join(items[:NAME_LIMIT])
    return shown + (f" and {len(items) - NAME_LIMIT:,} more{rest}" if len(items) > NAME_LIMIT else "")


def names_and_csv(
    items: Sequence[str], filename: str, title: str, *, organization: str
) -> tuple[str, list[Block]]:
    """`names` of `items`, and every one of them as a CSV (`filename`, `title`) once the names are cut."""
    if len(items) <= NAME_LIMIT:
        return names(items), []
    rows = [(item,) for item in items]
    every = csv_file(filename, title, ("user",), rows, organization=organization)
    return names(items, rest=" in the attached CSV"), [every]
