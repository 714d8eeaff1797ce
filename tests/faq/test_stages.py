from __future__ import annotations

from faq._compose import _PHASE_OF_STAGE
from workflows.machine import STATES


def test_every_stage_the_faq_knows_is_a_real_workflow_state() -> None:
    assert set(_PHASE_OF_STAGE) <= set(STATES)
    assert {"planned", "connecting", "users_notified"} <= set(_PHASE_OF_STAGE)
