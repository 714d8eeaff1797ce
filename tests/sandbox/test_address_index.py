"""The emulator's Graph finds users by address through an index (`State.holding`): it must answer exactly as
a scan of the whole directory with the same `$filter` does, also for users added after the index was built."""

from __future__ import annotations

from typing import Any

from msapi._odata import address_filter
from sandbox import parse_scenario
from sandbox._graph import _new_guest
from sandbox._odata import address_values, parse_filter
from sandbox._state import State


def _addresses(user: dict[str, Any]) -> list[str]:
    proxies = [str(p).split(":", 1)[1] for p in user.get("proxyAddresses") or ()]
    return [user["userPrincipalName"], user.get("mail") or "", *(user.get("otherMails") or ()), *proxies]


def _scanned(state: State, text: str) -> list[str]:
    predicate = parse_filter(text)
    return [user["id"] for user in state.directory_users if predicate(user)]


def _indexed(state: State, text: str) -> list[str]:
    values = address_values(text)
    assert values is not None
    predicate = parse_filter(text)
    return [user["id"] for user in state.holding(values) if predicate(user)]


def test_every_address_is_found_as_a_scan_finds_it_also_once_the_directory_grew(
    fabrikam: dict[str, Any],
) -> None:
    state = State(parse_scenario(fabrikam))
    wanted = [address for user in state.directory_users for address in _addresses(user) if address]
    wanted += [address.upper() for address in wanted] + ["nobody@example.org"]
    for address in wanted:
        assert _indexed(state, address_filter(address)) == _scanned(state, address_filter(address)), address
    assert len([a for a in wanted if _scanned(state, address_filter(a))]) > 20  # shared addresses too

    guest = _new_guest(state, "Newcomer@Example.org", "Newcomer")
    state.directory_users.append(guest)
    assert _indexed(state, address_filter("newcomer@example.org")) == [guest["id"]]


def test_only_an_or_of_address_equalities_is_answered_from_the_index() -> None:
    assert address_values("mail eq 'A@x.com' or otherMails/any(m:m eq 'b@x.com')") == {"a@x.com", "b@x.com"}
    for scanned in (
        "mail eq 'a@x.com' and accountEnabled eq true",
        "displayName eq 'a'",
        "startswith(mail,'a')",
        "mail in ('a@x.com')",
        "otherMails/any(m:n eq 'a@x.com')",
        "(mail eq 'a@x.com')",
    ):
        assert address_values(scanned) is None, scanned
