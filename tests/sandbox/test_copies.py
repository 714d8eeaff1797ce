"""`copied`, the sandbox's deep copy: what `copy.deepcopy` makes, and nothing shared with the original."""

from __future__ import annotations

import copy
import random
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox import Sandbox
from sandbox._copies import copied
from sandbox._state import Faults

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


def _containers(value: Any) -> list[Any]:
    """Every dict and list within `value`, itself included."""
    if isinstance(value, dict):
        return [value, *(inner for item in value.values() for inner in _containers(item))]
    if isinstance(value, list):
        return [value, *(inner for item in value for inner in _containers(item))]
    return []


@given(JSON)
def test_a_copy_of_json_data_equals_it_and_shares_no_container_with_it(value: Any) -> None:
    twin = copied(value)
    assert twin == value == copy.deepcopy(value)
    assert not {id(inner) for inner in _containers(twin)} & {id(inner) for inner in _containers(value)}


def test_what_is_shared_stays_shared_in_the_copy_and_nowhere_else() -> None:
    users = [{"id": "a"}]
    world = {"directory": users, "index": (users, 1), "members": {"a": users[0]}}
    twin = copied(world)
    assert twin["index"][0] is twin["directory"] and twin["members"]["a"] is twin["directory"][0]
    twin["directory"].append({"id": "b"})
    twin["members"]["a"]["id"] = "changed"
    assert world == {"directory": [{"id": "a"}], "index": (users, 1), "members": {"a": {"id": "a"}}}


def test_the_objects_given_are_put_in_place_and_functions_handed_over_as_deepcopy_does() -> None:
    lock, clock = threading.RLock(), lambda: 5.0  # neither could be pickled
    own_lock, own_clock = threading.RLock(), lambda: 7.0
    held = {"lock": lock, "clock": clock, "again": clock, "parse": int, "made": lambda: 1}
    twin = copied(held, {id(lock): own_lock, id(clock): own_clock})
    assert twin["lock"] is own_lock and twin["clock"] is twin["again"] is own_clock
    assert twin["parse"] is int and twin["made"] is held["made"]
    with pytest.raises(TypeError):  # a lock nobody gave a replacement for: deepcopy refuses it too
        copied({"lock": lock})


def test_a_copied_random_generator_draws_what_the_original_would_and_apart_from_it() -> None:
    faults = Faults(rng=random.Random(7), sequence=[429])
    faults.rng.random()
    twin = copied(faults)
    assert [twin.rng.random() for _ in range(3)] == [faults.rng.random() for _ in range(3)]
    twin.sequence.append(500)
    twin.rng.random()
    assert faults.sequence == [429] and twin.rng.random() != faults.rng.random()


def test_changing_what_the_sandbox_returned_leaves_the_sandbox_as_it_was(box: Sandbox) -> None:
    box.set_faults(sequence=[500], hosts=["graph.microsoft.com"])
    world, faults = box.state(), box.faults()
    expected_world, expected_faults = copy.deepcopy(world), copy.deepcopy(faults)
    world["tenant"]["users"].clear()
    world["organization"]["name"] = "changed"
    faults.sequence.append(429)
    faults.rng.random()
    assert box.state() == expected_world
    again = box.faults()
    assert again.sequence == expected_faults.sequence
    assert again.rng.getstate() == expected_faults.rng.getstate()
