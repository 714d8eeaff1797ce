from __future__ import annotations

from faq._compose import _PHASE_OF_STAGE, CANCELLED, phase_of
from faq._knowledge import PHASES
from faq._sign_in import _STAGE
from workflows.machine import FINAL_STATES, STATES


def test_every_state_of_the_workflow_has_a_phase_and_no_other_name_does() -> None:
    # a new state must be given a phase here, or the asker's notes and invitation reply go without one
    assert set(_PHASE_OF_STAGE) == set(STATES)
    assert set(_PHASE_OF_STAGE.values()) == PHASES | {CANCELLED}


def test_a_stage_reads_as_the_phase_it_is_in() -> None:
    assert phase_of("removing") == phase_of("failed") == "before"
    assert phase_of(" Inviting_After_Connecting ") == phase_of("completed") == "after"
    assert {phase_of(state) for state in FINAL_STATES} == {"after", CANCELLED}
    assert phase_of(None) is None and phase_of("renamed_state") is None


def test_every_state_before_connecting_is_said_in_words_to_someone_who_cannot_sign_in() -> None:
    before = {state for state in STATES if phase_of(state) == "before"}
    assert set(_STAGE) == before
