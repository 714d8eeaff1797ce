"""Draw the migration machine as a Mermaid state diagram; `python -m workflows.diagram` rewrites the doc."""

from __future__ import annotations

import sys
from pathlib import Path

from transitions.extensions.diagrams import GraphMachine

from workflows.machine import STATES, TRANSITIONS

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "workflow.md"

_INTRO = """\
# The migration workflow

Generated from `workflows/machine.py` by `python -m workflows.diagram`; do not edit by hand
(a test fails when this file and the machine disagree). Conditions are shown in brackets.
Every transition is recorded in the audit trail with who, when, and the states before and after.

Two triggers record what Microsoft reports, never a command: `found_connected` (a prerequisite check finds
the organization already on the target tenant before anything was planned: connected before the migration
began) and `connected_outside_approval` (the connection watch, which looks at every migration from `planned`
to `connecting`, an admin's `check-connection`, or a prerequisite check once a plan exists, finds it on the
tenant although no approval let it connect: someone clicked *Connect* in the portal early). The latter is
audited by the bot with `approved_by: null` and the state it came from, voids a pending approval, and tells
every admin at once, in the channel and by direct message, who is locked out now, whom to map by hand and
that the to-do lists must go out (`notify`). Without these two, no sequence of triggers reaches
`connecting` or `connected` except through `approve` (tests/workflows/test_machine_properties.py).
"""


_TITLE = "Migration of an Azure DevOps organization to Microsoft Entra ID"


class _Model:
    """A bare model: the diagram only needs the machine's structure, not a migration row."""


def mermaid() -> str:
    model = _Model()
    GraphMachine(
        model=model,
        states=list(STATES),
        transitions=TRANSITIONS,
        initial="draft",
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=_TITLE,
    )
    source: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
    # transitions writes the bare title as front matter; Mermaid wants the `title:` key there.
    return source.strip().replace(f"---\n{_TITLE}\n---", f"---\ntitle: {_TITLE}\n---", 1)


def document() -> str:
    return f"{_INTRO}\n```mermaid\n{mermaid()}\n```\n"


def main() -> int:
    DOCUMENT.write_text(document(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
