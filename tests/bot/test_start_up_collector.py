"""`serve` starts with the garbage collector off, and freezes what start-up made once it serves."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.start_up import collector_off_while_starting, started


@pytest.fixture(autouse=True)
def collector_on_afterwards() -> Iterator[None]:
    """A failing test must not leave this test process without its collector."""
    assert gc.isenabled()
    yield
    gc.enable()


def test_the_collector_is_off_until_serving_starts_and_start_up_s_objects_are_frozen() -> None:
    with collector_off_while_starting():
        assert not gc.isenabled()
        made_while_starting = {"runtime": ["built"]}
        started()
        assert gc.isenabled()
        walked = gc.get_objects()  # what collections go through: not the frozen
        assert not any(item is made_while_starting for item in walked)
        started()  # the second time (the block's end) does nothing more
        assert gc.isenabled()
    assert gc.isenabled()


def test_a_start_up_that_fails_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), collector_off_while_starting():
        assert not gc.isenabled()
        raise RuntimeError("the database cannot be opened")
    assert gc.isenabled()


def test_someone_else_s_pause_is_theirs_to_end() -> None:
    gc.disable()
    with collector_off_while_starting():
        started()
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_started_outside_a_start_up_changes_nothing() -> None:
    made_before = {"test": ["objects"]}
    started()
    assert gc.isenabled()
    assert any(item is made_before for item in gc.get_objects())  # still walked: nothing was frozen
