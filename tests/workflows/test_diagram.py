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
    labels: dict[tuple[str, str], set[str]] = {}
    for line in source.splitlines():
        if " --> " in line and ": " in line:
            ends, label = line.strip().split(": ", 1)
            origin, dest = ends.split(" --> ")
            labels.setdefault((origin, dest), set()).update(label.split(" | "))
    for transition in TRANSITIONS:
        sources = transition["source"]
        unless = transition.get("unless")
        conditions = transition.get("conditions") or (None if unless is None else f"!{unless}")
        label = transition["trigger"] if conditions is None else f"{transition['trigger']} [{conditions}]"
        for origin in sources if isinstance(sources, list) else [sources]:
            dest = origin if transition["dest"] == "=" else transition["dest"]
            assert label in labels.get((origin, dest), set()), (origin, dest, label)
