"""The outbox's Teams sender against the sandbox's Bot Connector: failures classified as Teams means them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from bot.conversation.messages import DirectMessage, Message, Text
from bot.delivery.outages import RECOVERED_AFTER
from bot.delivery.sender import DeliveryFailed, Envelope, NotHandedOver, Receipt
from bot.routing import RoutingSender
from bot.runtime import utc_now
from bot.teams import cards
from bot.teams.budget import SharedRate
from bot.teams.connector import TeamsApi, TeamsApiError
from bot.teams.store import ConversationRef
from msapi import CookielessAsyncClient
from storage import Database, Migration
from storage.outbox import NOT_IN_CHAT
from tests.delivery.test_routing import Surface
from tests.storage.rows import add_migration
from tests.teams.conftest import Teams

if TYPE_CHECKING:  # the Teams SDK is imported when a test builds a surface, not at collection
    from bot.teams.surface import TeamsSurface

T = TypeVar("T")
HELLO = Message("Hello", (Text("Hello from the outbox"),))
CAROL = "carol@fabrikam.com"


def _with_surface(
    teams: Teams,
    use: Callable[[TeamsSurface], Awaitable[T]],
    *,
    on_request: Callable[[httpx.Request], Awaitable[None]] | None = None,
    **api: object,
) -> T:
    from bot.teams.surface import build_surface

    send_timeout = api.pop("send_timeout", None)

    async def short_for_the_send(request: httpx.Request) -> None:
        if send_timeout is not None and request.url.path.endswith("/activities"):
            request.extensions["timeout"] = httpx.Timeout(send_timeout).as_dict()  # type: ignore[arg-type]

    async def run() -> T:
        hooks = [short_for_the_send, *([on_request] if on_request else [])]
        client = CookielessAsyncClient(timeout=10.0, event_hooks={"request": hooks})
        surface = build_surface(
            teams.settings,
            teams.runtime.conversation,
            teams.runtime.database,
            clock=utc_now,
            api=TeamsApi(teams.settings, teams.runtime.database, client=client, **api),  # type: ignore[arg-type]
        )
        try:
            return await use(surface)
        finally:
            await surface.aclose()

    return asyncio.run(run())


def _send(teams: Teams, upn: str, key: str = "k1", **api: object) -> Receipt:
    envelope = Envelope(key, DirectMessage(upn), HELLO)
    return _with_surface(teams, lambda surface: surface.sender.send(envelope), **api)


def _faults(teams: Teams, **settings: object) -> None:
    httpx.post(
        f"{teams.url}/_sandbox/faults", json={"hosts": ["smba.trafficmanager.net"], **settings}
    ).raise_for_status()


def test_a_person_without_the_app_gets_it_installed_and_a_personal_chat(teams: Teams) -> None:
    receipt = _send(teams, CAROL)
    conversation, activity = receipt.ref.split("/")
    (sent,) = teams.personal(CAROL)
    assert (sent["conversation"]["id"], sent["id"]) == (conversation, activity)


def test_a_person_is_found_by_their_directory_object_id_or_failing_that_another_address(teams: Teams) -> None:
    users = teams.runtime.sandbox.state()["tenant"]["users"]  # type: ignore[index]
    kim_id = next(u["id"] for u in users if u["userPrincipalName"] == "kim@fabrikam.com")

    def send(to: DirectMessage, key: str) -> Receipt:
        return _with_surface(teams, lambda surface: surface.sender.send(Envelope(key, to, HELLO)))

    send(DirectMessage("kim@fabrikam-old.com", directory_id=kim_id), "k1")  # her Azure DevOps address
    send(DirectMessage("kim@fabrikam-old.com", also=("kim@fabrikam.com",)), "k2")
    assert len(teams.personal("kim@fabrikam.com")) == 2
    with pytest.raises(DeliveryFailed) as missing:
        send(DirectMessage("kim@fabrikam-old.com", also=("kim@outlook.com",)), "k3")
    assert missing.value.reason.endswith("kim@fabrikam-old.com or kim@outlook.com")


def test_a_person_who_blocked_the_bot_is_not_reachable_in_chat_with_the_reason(teams: Teams) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        _send(teams, "ivan@fabrikam.com")
    assert (failed.value.code, failed.value.permanent) == (NOT_IN_CHAT, True)  # Microsoft: do not retry
    assert failed.value.reason == "they blocked the bot in Teams (ConversationBlockedByUser)"


def test_a_person_who_removed_the_app_after_their_list_is_not_reachable_in_chat(teams: Teams) -> None:
    _send(teams, CAROL, key="list")
    httpx.post(f"{teams.url}/_sandbox/teams/leave", json={"from": CAROL, "how": "remove"})
    with pytest.raises(DeliveryFailed) as failed:
        _send(teams, CAROL, key="reminder")
    assert (failed.value.code, failed.value.permanent) == (NOT_IN_CHAT, True)
    assert failed.value.reason == "they removed the app in Teams (BotNotInConversationRoster)"


def test_a_429_says_how_long_to_wait_and_nothing_was_sent(teams: Teams) -> None:
    _faults(teams, sequence=[429], retry_after=7)
    with pytest.raises(DeliveryFailed) as failed:
        _send(teams, CAROL)
    assert failed.value.retry_after == 7 and not failed.value.maybe_delivered
    assert not teams.personal(CAROL)


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_retried_later(teams: Teams, status: int) -> None:
    _send(teams, CAROL, key="first")  # the chat exists; now the send itself fails
    _faults(teams, sequence=[status])
    with pytest.raises(DeliveryFailed) as failed:
        _send(teams, CAROL, key="second")
    assert not failed.value.permanent and failed.value.retry_after is None


def test_a_message_teams_refuses_as_too_large_fails_for_good_saying_so(
    teams: Teams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a card not cut to fit, Teams would answer 413 `MessageSizeTooBig` to every attempt: the
    sender says so and the outbox does not try again, nor takes it for handed over."""
    _send(teams, CAROL, key="first")  # the chat exists; now the send itself is refused
    monkeypatch.setattr(cards, "MAX_CARD_BYTES", 10**9)
    huge = Message("Progress", tuple(Text("carol@fabrikam.com done " * 400) for _ in range(20)))
    envelope = Envelope("huge", DirectMessage(CAROL), huge)
    with pytest.raises(DeliveryFailed) as failed:
        _with_surface(teams, lambda surface: surface.sender.send(envelope))
    assert (failed.value.code, failed.value.permanent, failed.value.maybe_delivered) == (
        "too_big",
        True,
        False,
    )
    assert failed.value.reason == (
        "Teams refused the message as too large (413 MessageSizeTooBig): it is over Teams' size limit"
    )
    assert len(teams.personal(CAROL)) == 1
    monkeypatch.undo()
    again = Envelope("huge", DirectMessage(CAROL), huge, check_first=True)
    receipt = _with_surface(teams, lambda surface: surface.sender.send(again))  # cut to fit, it goes
    assert "left out" in json.dumps(teams.personal(CAROL)[-1]) and not receipt.unconfirmed


def test_412_is_retried_like_the_gateway_errors() -> None:
    from bot.teams.sender import _failure  # the Teams SDK's cards: not at collection

    envelope = Envelope("k", DirectMessage("a@b.c"), HELLO)
    failure = _failure(TeamsApiError(412, "PreconditionFailed", "send"), envelope)
    assert not failure.permanent and not failure.maybe_delivered


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        ("Authorization_RequestDenied", "application permission User.Read.All with admin consent"),
        (
            "Forbidden",
            "TeamsAppInstallation.ReadWriteSelfForUser.All with admin consent, and let the tenant's",
        ),
    ],
)
def test_a_403_refusing_the_app_is_an_outage_with_its_fix_not_a_person_to_reach_elsewhere(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture, code: str, fix: str
) -> None:
    """Graph refusing the directory read (User.Read.All missing, consent revoked), or the install refused,
    is no person's refusal: taken for one, each person in Slack was moved there without a word."""
    from bot.teams.sender import _failure  # the Teams SDK's cards: not at collection

    failure = _failure(
        TeamsApiError(403, code, "GET users/carol"), Envelope("k", DirectMessage(CAROL), HELLO)
    )
    assert (failure.code, failure.permanent, failure.retry_after, failure.later) == (
        "app_refused",
        False,
        None,
        None,
    )
    assert f"(403 {code}): grant its app registration the" in failure.reason and fix in failure.reason
    slack, teams = Surface("slack", {CAROL}), Surface("teams", failing=failure)
    routing = RoutingSender(sqlite_database, {"slack": slack, "teams": teams})
    migration_id = _migration_on_teams(sqlite_database)
    envelope = Envelope("k", DirectMessage(CAROL), HELLO, migration_id=migration_id)

    with caplog.at_level(logging.WARNING, logger="bot.delivery.outages"), pytest.raises(DeliveryFailed):
        asyncio.run(routing.send(envelope))

    assert slack.tried == []
    assert [record.getMessage() for record in caplog.records] == [
        f"deliveries to Teams are failing (app_refused: {failure.reason}): each is retried;"
        " this log says when they work again"
    ]


@pytest.mark.parametrize(
    ("code", "message", "why"),
    [
        (
            "Forbidden",
            "The bot is not installed in the user's personal scope.",
            "the app is not installed for them in Teams",
        ),
        (
            "ServiceError",
            "Failure due to: AclCheckFailed.",
            "Teams does not let the bot write to them (outside its roster, as a guest may be)",
        ),
    ],
)
def test_a_403_naming_one_persons_install_or_roster_is_theirs_not_the_apps(
    code: str, message: str, why: str
) -> None:
    """Teams answers these for one person (the sandbox as Teams does): taken for the app's, they were
    retried for minutes as an outage and never routed to the person's other surface."""
    from bot.teams.sender import _failure  # the Teams SDK's cards: not at collection

    failure = _failure(
        TeamsApiError(403, code, "POST v3/conversations", message=message),
        Envelope("k", DirectMessage(CAROL), HELLO),
    )

    assert (failure.code, failure.permanent) == (NOT_IN_CHAT, True)
    assert failure.reason == f"{why} (403 {code}: {message})"


def test_a_403_refusing_the_bots_service_url_says_to_call_its_clouds_not_to_grant_a_permission() -> None:
    from bot.teams.sender import _failure  # the Teams SDK's cards: not at collection

    failure = _failure(
        TeamsApiError(403, "InvalidBotApiHost", "POST v3/conversations", message="Invalid bot api host."),
        Envelope("k", DirectMessage(CAROL), HELLO),
    )

    assert (failure.code, failure.permanent) == ("app_refused", False)
    assert failure.reason.startswith("Teams refused the service URL the bot called (403 InvalidBotApiHost)")
    assert "https://smba.infra.gcc.teams.microsoft.com/" in failure.reason
    assert "TeamsAppInstallation" not in failure.reason


def test_a_gone_conversation_is_created_again(teams: Teams) -> None:
    carol = next(
        u for u in teams.runtime.sandbox.state()["tenant"]["users"] if u["userPrincipalName"] == CAROL
    )  # type: ignore[union-attr]
    stale = ConversationRef(
        "a:1gone", "https://smba.trafficmanager.net/amer/", teams.settings.tenant_id, "personal", carol["id"]
    )
    store = teams.surface().store
    store.remember(stale)
    _send(teams, CAROL, paced=True)  # installs for Carol on the way: the app was removed
    fresh = store.personal(carol["id"])
    assert fresh is not None and fresh.conversation_id != "a:1gone"
    assert len(teams.personal(CAROL)) == 1


def test_a_timeout_is_recorded_as_possibly_delivered_and_said_at_info(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    """Said at WARNING, an outage of timeouts wrote a line per list of a wave in `serve`'s log: its WARNING
    is the outage's, once (tests/delivery/test_routing.py)."""
    from bot.teams.sender import POSSIBLY_DELIVERED  # the Teams SDK's cards: not at collection

    _send(teams, CAROL, key="first")
    _faults(teams, sequence=["slow"], slow_seconds=1.0)
    # the behaviour is the same whatever the timeout: a short one for the send only, the message's POST (the
    # token and the look-up of Carol's chat keep theirs, however slowly a busy machine answers them)
    with caplog.at_level(logging.INFO, logger="bot.teams.sender"):
        receipt = _send(teams, CAROL, key="second", send_timeout=0.2)
    assert receipt.ref.endswith(f"/{POSSIBLY_DELIVERED}")
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.teams.sender"]
    conversation = receipt.ref.removesuffix(f"/{POSSIBLY_DELIVERED}")  # not the key: it may hold an address
    assert said == [
        ("INFO", f"a message to conversation {conversation} timed out; recorded as possibly delivered")
    ]


def test_without_its_own_pacing_the_connector_answers_429_with_retry_after(teams: Teams) -> None:
    _send(teams, CAROL, key="first")

    async def burst(surface: TeamsSurface) -> list[BaseException | Receipt]:
        sends = [surface.sender.send(Envelope(f"b{n}", DirectMessage(CAROL), HELLO)) for n in range(9)]
        return await asyncio.gather(*sends, return_exceptions=True)

    results = _with_surface(teams, burst, paced=False)
    limited = [r for r in results if isinstance(r, DeliveryFailed) and r.code == "ratelimited"]
    assert limited and all((r.retry_after or 0) >= 1 for r in limited)


def test_with_its_own_pacing_a_burst_gets_no_429(teams: Teams) -> None:
    """Nine messages to one person at once: Teams allows 7 a second and 8 in 2 s per conversation."""

    async def burst(surface: TeamsSurface) -> list[BaseException | Receipt]:
        first = await surface.sender.send(Envelope("first", DirectMessage(CAROL), HELLO))
        sends = [surface.sender.send(Envelope(f"b{n}", DirectMessage(CAROL), HELLO)) for n in range(9)]
        return [first, *await asyncio.gather(*sends, return_exceptions=True)]

    results = _with_surface(teams, burst)
    assert all(isinstance(r, Receipt) for r in results), " ".join(getattr(r, "code", "ok") for r in results)
    assert len(teams.personal(CAROL)) == 10


def test_a_shared_card_posted_then_limited_updating_an_earlier_copy_may_have_reached_them(
    teams: Teams,
) -> None:
    """An approval prompt to Carol, then to Dana: Dana's copy is posted, then Teams answers 429 to updating
    Carol's, its Retry-After too long to wait there. The failure says that the prompt may have reached Dana
    (the worker keeps her message one that may have reached her, whatever ends its send), and the next try,
    looking first, updates her copy, never posts it again."""
    key, dana = "approval:1", "dana@fabrikam.com"
    limited: list[str] = []

    async def limit_the_first_update(request: httpx.Request) -> None:
        if request.method == "PUT" and not limited:
            limited.append(request.url.path)
            _faults(teams, sequence=[429], retry_after=60)

    async def prompts(surface: TeamsSurface) -> DeliveryFailed:
        await surface.sender.send(Envelope("prompt-carol", DirectMessage(CAROL), HELLO, updates=key))
        try:
            await surface.sender.send(Envelope("prompt-dana", DirectMessage(dana), HELLO, updates=key))
        except DeliveryFailed as failure:
            return failure
        raise AssertionError("updating Carol's copy was not limited")

    # unpaced: a 429 holds every process of the bot off for its Retry-After, this test's next try too
    failure = _with_surface(teams, prompts, on_request=limit_the_first_update, paced=False)

    assert (failure.retry_after, failure.maybe_delivered) == (60, True)
    assert len(limited) == 1 and len(teams.personal(dana)) == 1
    again = Envelope("prompt-dana", DirectMessage(dana), HELLO, updates=key, check_first=True)
    _with_surface(teams, lambda surface: surface.sender.send(again), paced=False)
    assert len(teams.personal(dana)) == 1


def test_after_a_crash_a_message_handed_to_teams_is_not_sent_twice_and_one_that_was_not_is_sent(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.teams.sender import POSSIBLY_DELIVERED  # the Teams SDK's cards: not at collection

    key = f"notice-prompt-{CAROL}"  # as workflows/notices.py keys a prompt: by its recipient's address
    _send(teams, CAROL, key=key)  # handed over and sent; the crash lost the record
    again = Envelope(key, DirectMessage(CAROL), HELLO, check_first=True)
    with caplog.at_level(logging.WARNING, logger="bot.teams.sender"):
        receipt = _with_surface(teams, lambda surface: surface.sender.send(again))
    assert receipt.ref.endswith(f"/{POSSIBLY_DELIVERED}")
    conversation = receipt.ref.removesuffix(f"/{POSSIBLY_DELIVERED}")
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.teams.sender"]
    assert said == [
        (
            "WARNING",
            f"a message to conversation {conversation} may have reached Teams before a crash; not sent again",
        )
    ]
    never = Envelope("never-handed", DirectMessage(CAROL), HELLO, check_first=True)
    _with_surface(teams, lambda surface: surface.sender.send(never))
    assert len(teams.personal(CAROL)) == 2


def test_a_refused_message_is_not_taken_for_handed_over(teams: Teams) -> None:
    from bot.teams.sender import POSSIBLY_DELIVERED  # the Teams SDK's cards: not at collection

    _send(teams, CAROL, key="first")
    _faults(teams, sequence=[429], retry_after=1)
    with pytest.raises(DeliveryFailed):  # unpaced: the 429 holds no later send off for its second
        _send(teams, CAROL, key="refused", paced=False)
    retried = Envelope("refused", DirectMessage(CAROL), HELLO, check_first=True)
    receipt = _with_surface(teams, lambda surface: surface.sender.send(retried))
    assert not receipt.ref.endswith(POSSIBLY_DELIVERED)
    assert len(teams.personal(CAROL)) == 2


def test_a_paced_refusal_while_the_database_restarts_is_not_taken_for_handed_over(
    teams: Teams, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Paced, as `serve` sends: after a 429 the limit's two writes (the hold-off for every process, the
    lane's release) fail, the database restarting. The refusal is still what the send says, so the message
    is not left recorded as handed over, and the retry posts it. Both failures are logged by class only."""
    from bot.teams.sender import POSSIBLY_DELIVERED  # the Teams SDK's cards: not at collection

    restarting = OperationalError("UPDATE teams_rate_lane", {}, Exception("the database is restarting"))

    def unrecorded(rate: SharedRate, until: float) -> None:
        raise restarting

    def unfreed(rate: SharedRate, lane: int, answered: float) -> None:
        raise restarting

    _send(teams, CAROL, key="first")
    monkeypatch.setattr(SharedRate, "_push", unrecorded)
    monkeypatch.setattr(SharedRate, "_free", unfreed)
    _faults(teams, sequence=[429], retry_after=1)
    with pytest.raises(DeliveryFailed) as refused:
        _send(teams, CAROL, key="refused")
    assert refused.value.code == "ratelimited"
    assert "recording Teams' hold-off after a 429 failed (OperationalError)" in caplog.text
    assert "failed (OperationalError); it comes free 30 s after it was taken" in caplog.text
    assert "restarting" not in caplog.text
    # No hold-off recorded and the lane not freed: the retry takes another of the tenant's lanes, unwaited.
    retried = Envelope("refused", DirectMessage(CAROL), HELLO, check_first=True)
    receipt = _with_surface(teams, lambda surface: surface.sender.send(retried))
    assert not receipt.ref.endswith(POSSIBLY_DELIVERED)
    assert len(teams.personal(CAROL)) == 2


def test_once_stopping_a_message_not_yet_handed_over_is_not_posted_nor_taken_for_handed_over(
    teams: Teams,
) -> None:
    from bot.teams.sender import POSSIBLY_DELIVERED  # the Teams SDK's cards: not at collection

    _send(teams, CAROL, key="first")

    async def stopping(surface: TeamsSurface) -> None:
        surface.sender.stop_handing_over()
        await surface.sender.send(Envelope("late", DirectMessage(CAROL), HELLO))

    with pytest.raises(NotHandedOver):
        _with_surface(teams, stopping)
    assert len(teams.personal(CAROL)) == 1
    retried = Envelope("late", DirectMessage(CAROL), HELLO, check_first=True)  # the next process
    receipt = _with_surface(teams, lambda surface: surface.sender.send(retried))
    assert not receipt.ref.endswith(POSSIBLY_DELIVERED)
    assert len(teams.personal(CAROL)) == 2


@pytest.fixture
def operators_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The log as `serve` sets it up: the root logger at WARNING, only the operator's loggers at INFO
    (`caplog.at_level` would set the level itself and hide a line `serve` drops)."""
    from bot.operator_log import OPERATORS_LOGGERS, show_operators_lines

    loggers = [logging.getLogger(), *map(logging.getLogger, OPERATORS_LOGGERS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers[1:]:
        logger.setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)
    show_operators_lines()
    yield caplog
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_the_log_serve_writes_says_when_teams_fails_and_when_it_works_again(
    teams: Teams, sqlite_database: Database, operators_log: pytest.LogCaptureFixture
) -> None:
    """The WARNING said "this log says when they work again" and `serve`'s log never did: the INFO was
    logged by a logger `serve` kept at WARNING, while thousands of lists went out."""
    migration_id = _migration_on_teams(sqlite_database)

    async def failing_then_recovering(surface: TeamsSurface) -> None:
        routing = RoutingSender(sqlite_database, {"teams": surface.sender})
        await routing.send(Envelope("first", DirectMessage(CAROL), HELLO, migration_id=migration_id))
        _faults(teams, sequence=[502])
        with pytest.raises(DeliveryFailed):
            await routing.send(Envelope("lost", DirectMessage(CAROL), HELLO, migration_id=migration_id))
        for n in range(RECOVERED_AFTER):
            await routing.send(Envelope(f"then-{n}", DirectMessage(CAROL), HELLO, migration_id=migration_id))

    _with_surface(teams, failing_then_recovering)

    outages = [r for r in operators_log.records if r.name == "bot.delivery.outages"]
    assert [(record.levelname, record.getMessage()) for record in outages] == [
        (
            "WARNING",
            "deliveries to Teams are failing (http_502: Teams answered 502 ServiceError): each is retried;"
            " this log says when they work again",
        ),
        ("INFO", "deliveries to Teams work again, after 1 failed attempt(s)"),
    ]
    assert len(teams.personal(CAROL)) == 1 + RECOVERED_AFTER


def _migration_on_teams(database: Database) -> int:
    migration_id = add_migration(database)
    with database.session() as session:
        row = session.get(Migration, migration_id)
        assert row is not None
        row.surface = "teams"
        session.commit()
    return migration_id


def test_teams_rate_limiting_is_logged_at_most_once_a_minute_with_its_retry_after(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    """walk39: with 30 % of the connector's answers 429, serve sent 95 notices in 150 s and logged nothing
    of why."""
    _send(teams, CAROL, key="first")  # her chat exists: each send below is one call
    _faults(teams, sequence=[429, 429, 429], retry_after=2)
    now = [1000.0]

    async def three_refused(surface: TeamsSurface) -> None:
        for key, at in (("a", 1000.0), ("b", 1030.0), ("c", 1061.0)):
            now[0] = at
            with pytest.raises(DeliveryFailed):
                await surface.sender.send(Envelope(key, DirectMessage(CAROL), HELLO))

    with caplog.at_level(logging.INFO, logger="bot.teams.connector"):
        _with_surface(teams, three_refused, clock=lambda: now[0], paced=False)
    said = [record.getMessage() for record in caplog.records if "rate limiting" in record.getMessage()]
    throttled = "Teams is rate limiting the bot (429, Retry-After 2 s): sends are held back and go out as"
    assert said == [
        f"{throttled} Teams allows",
        f"{throttled} Teams allows; 2 refused since the last such line",
    ]
