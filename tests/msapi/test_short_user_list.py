"""A read of the organization's users that lists fewer than Azure DevOps counts (`totalCount`): read again
once, from the first page (not the one `reads_once` kept), and refused with both numbers should the second
come back short too; someone removed between two pages moves the count and is no failure."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from msapi import AppCredential, HttpSession, MicrosoftClients, Router
from sandbox import Sandbox, parse_scenario
from workflows.directory import ShortUserList

ORG = "fabrikam-fiber"
PAT = "pat-0123456789-do-not-log"


def _clients(box: Sandbox, transport: httpx.BaseTransport | None = None) -> MicrosoftClients:
    session = HttpSession(Router(box.url), sleep=lambda seconds: None, transport=transport)
    return MicrosoftClients(session, pat=PAT, app=AppCredential("app-id", client_secret="client-secret"))


@pytest.fixture
def paged(fabrikam: dict[str, Any]) -> Any:
    """Fabrikam's 11 users in pages of 4."""
    with Sandbox(parse_scenario(fabrikam), page_size=4) as box:
        yield box


def test_a_short_read_is_made_again_from_the_first_page_and_the_second_is_taken(paged: Sandbox) -> None:
    with _clients(paged) as clients, clients.reads_once():
        paged.set_faults(short_user_listings=1)
        users = clients.org_users(ORG)
    assert len({user.id for user in users}) == len(users) == 11
    assert paged.request_counts()["vsaex.dev.azure.com"] == 6  # three pages, twice


def test_a_read_short_twice_is_refused_with_both_numbers(paged: Sandbox) -> None:
    paged.set_faults(short_user_listings=2, left_out_users=3)
    with _clients(paged) as clients, pytest.raises(ShortUserList) as refused:
        clients.org_users(ORG)
    assert (refused.value.listed, refused.value.counted) == (8, 11)
    assert str(refused.value) == (
        "Azure DevOps counts 11 users in fabrikam-fiber but listed only 8 of them, twice in a row, so I"
        " stopped there: whoever is missing from a partial list would be left out of the plan or the stale"
        " users, or recorded as removed. Try again in a few minutes; should it stay short, Microsoft Support"
        " can look at the organization's users."
    )


class _AfterTheFirstPage(httpx.HTTPTransport):
    """Real HTTP to the sandbox; once the first page of users is answered, `then` runs (before the next)."""

    def __init__(self, then: Callable[[], None]) -> None:
        super().__init__()
        self._then: Callable[[], None] | None = then

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        first_page = "continuationToken" not in request.url.params
        if self._then is not None and request.url.path.endswith("/_apis/userentitlements") and first_page:
            then, self._then = self._then, None
            then()
        return response


def test_someone_removed_between_two_pages_is_no_failure(paged: Sandbox) -> None:
    """The next pages count 10 where the first counted 11: the read lists the 10, once."""
    with _clients(paged) as admin:
        leaving = admin.org_users(ORG)[5].id  # on the second page
        paged.request_counts(reset=True)
        with _clients(paged, _AfterTheFirstPage(lambda: admin.remove_org_user(ORG, leaving))) as clients:
            users = clients.org_users(ORG)
    assert len(users) == 10 and leaving not in {user.id for user in users}
    assert paged.request_counts()["vsaex.dev.azure.com"] == 4  # three pages and the removal: no second read


def test_someone_removed_from_a_page_read_already_moves_nobody_past_the_next(paged: Sandbox) -> None:
    """Removed from the first page once it is read: the next page resumes after the last user returned, so
    the first user of the second page is listed still (paging by offset would skip them, the counts
    agreeing); the one removed was listed before."""
    with _clients(paged) as admin:
        everyone = [user.id for user in admin.org_users(ORG)]
        with _clients(paged, _AfterTheFirstPage(lambda: admin.remove_org_user(ORG, everyone[1]))) as clients:
            users = clients.org_users(ORG)
    assert [user.id for user in users] == everyone


class _RepeatingAcrossPages(httpx.HTTPTransport):
    """Real HTTP to the sandbox; each later page of users begins with the last user of the page before."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, Any] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith("/_apis/userentitlements"):
            return response
        body = json.loads(response.read())
        if self._last is not None and "continuationToken" in request.url.params:
            body["items"].insert(0, self._last)
        self._last = body["items"][-1]
        return httpx.Response(response.status_code, json=body)


def test_a_user_a_page_repeats_is_listed_once(paged: Sandbox) -> None:
    with _clients(paged, _RepeatingAcrossPages()) as clients:
        users = clients.org_users(ORG)
    assert len(users) == len({user.id for user in users}) == 11
    assert paged.request_counts()["vsaex.dev.azure.com"] == 3  # whole: not read again


def test_a_read_short_twice_of_the_same_users_is_taken_with_a_warning(
    paged: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """More users left out than the first page holds empty it, on both reads: the same four missing twice, as
    when Azure DevOps counts users its list never returns, where refusing would stop every whole read."""
    with _clients(paged) as clients:
        everyone = [user.id for user in clients.org_users(ORG)]
        paged.set_faults(short_user_listings=2, left_out_users=7)
        with caplog.at_level(logging.WARNING, logger="msapi"):
            users = clients.org_users(ORG)
    assert [user.id for user in users] == everyone[4:]
    assert caplog.messages[-1] == (
        "Azure DevOps counts 11 users in fabrikam-fiber but listed the same 7 twice: going on with them"
    )


class _IgnoringOrderBy(_RepeatingAcrossPages):
    """As `_RepeatingAcrossPages`, from a service that ignores `$orderBy`: its pages in order of creation."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.copy_with(params=request.url.params.remove("$orderBy"))
        return super().handle_request(httpx.Request(request.method, url, headers=request.headers))


def test_a_read_of_sign_ins_unsorted_lists_a_user_a_page_repeats_once(paged: Sandbox) -> None:
    """Pages out of order are read whole: a user on two of them is still one sign-in."""
    with _clients(paged, _IgnoringOrderBy()) as clients:
        recent = clients.sign_ins(ORG, datetime(2000, 1, 1, tzinfo=UTC))
        assert clients.session.request_count == 3  # whole: the service ignored the order
    assert len(recent) == len({user.id for user in recent}) == 11


def test_a_read_by_last_access_is_never_short(paged: Sandbox) -> None:
    """The sign-in watch's short reads stop early, so they cannot tell a short list: the fault waits for the
    next whole read."""
    paged.set_faults(short_user_listings=1)
    with _clients(paged) as clients:
        pages = list(clients.entitlement_pages(ORG, order_by="lastAccessed desc"))
        assert sum(len(items) for items, _ in pages) == 11
        clients.org_users(ORG)
    assert paged.request_counts()["vsaex.dev.azure.com"] == 3 + 6  # the whole read was short once
