from __future__ import annotations

from workflows import diagram
from workflows.machine import STATES, TRANSITIONS


def test_the_committed_diagram_matches_the_machine() -> None:
    committed = diagram.DOCUMENT.read_text(encoding="utf-8")
    assert committed == diagram.document(), "docs/workflow.md is stale: run `python -m workflows.diagram`"


def test_the_diagram_draws_every_state_and_trigger() -> None:
    source = diagram.mermaid()
    assert source.splitlines()[3] == "stateDiagram-v2"
    for state in STATES:
        assert f'state "{state}" as {state}' in source
    for transition in TRANSITIONS:
        assert f": {transition['trigger']}" in source or f"| {transition['trigger']}" in source
