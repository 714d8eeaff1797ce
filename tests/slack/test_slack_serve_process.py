"""The real `aadbot serve` process, in HTTP and in Socket Mode, driven the way Slack drives it.

One process per mode, shared with the other modules that drive it (starting one costs seconds): every
test uses its own request ids, threads and users' messages, so tests don't see each other's answers.
"""

from __future__ import annotations

import itertools

import httpx
import pytest

from bot.conversation.commands import USAGES
from tests.fakes.serve_process import MODES, ServedSlack
from tests.fakes.slack_harness import in_thread, texts
from tests.fakes.socket_harness import APP_TOKEN

CHANNEL = "CMIGRATE"
WAIT = 30.0
UNREADABLE = [
    ("status fabrikam\x00", "control character (U+0000)"),
    ("done " + "7" * 5000, "has 5,000 digits"),
]
"""Words no command can mean, and what the answer must name."""
_stamps = itertools.count(1)


@pytest.fixture(scope="module", params=MODES)
def bot(request: pytest.FixtureRequest) -> ServedSlack:
    """The shared process of each mode (tests/slack/conftest.py)."""
    return request.getfixturevalue("serve_over_http" if request.param == "http" else "serve_in_socket_mode")


def unique_ts() -> str:
    return f"{9000 + next(_stamps)}.000100"


def test_serve_starts_and_in_socket_mode_opens_one_link_with_the_app_token(bot: ServedSlack) -> None:
    assert bot.served.process.poll() is None
    assert "token` will be unused" not in bot.served.log_text()  # bolt's start-up noise is gone
    if bot.served.mode == "http":
        health = httpx.get(f"{bot.served.url}/healthz", timeout=10)
        assert (health.status_code, health.text) == (200, "ok")
    else:
        (opened,) = bot.opened_at_start
        assert opened.token == APP_TOKEN
        assert bot.socket.links[0].ticket and bot.socket.refused == []


def test_a_slash_command_is_acked_at_once_and_answered_privately(bot: ServedSlack) -> None:
    before = len(bot.fake.responses)
    ack = bot.served.drive.command("help all", user="UDANA")

    assert (ack.status_code, ack.payload) == (200, None)  # an empty ack: Slack shows nothing until the answer
    bot.fake.wait_for(lambda fake: len(fake.responses) > before, WAIT)
    answer = bot.fake.responses[before]
    assert answer["response_type"] == "ephemeral"
    said = texts(answer)
    assert all(f"`{usage.word}" in said for usage in USAGES)


@pytest.mark.parametrize(("words", "named"), UNREADABLE)
def test_unreadable_words_are_answered_in_the_ack_with_what_is_wrong(
    bot: ServedSlack, words: str, named: str
) -> None:
    ack = bot.served.drive.command(words, user="UDANA")
    assert ack.status_code == 200 and ack.payload is not None
    assert ack.payload["response_type"] == "ephemeral"
    assert named in ack.payload["text"] and "I did nothing" in ack.payload["text"]


@pytest.mark.parametrize(("words", "named"), UNREADABLE)
def test_unreadable_words_in_a_dm_get_a_validation_message_not_an_error(
    bot: ServedSlack, words: str, named: str
) -> None:
    dm = {"type": "message", "channel_type": "im", "user": "UANN", "channel": "DANN", "ts": unique_ts()}
    before = len(bot.fake.posts_to("DANN"))
    assert bot.served.drive.event(dm | {"text": words}).status_code == 200
    bot.fake.wait_for(lambda fake: len(fake.posts_to("DANN")) > before, WAIT)
    answer = texts(bot.fake.posts_to("DANN")[before].params)
    assert named in answer and "I did nothing" in answer
    assert "went wrong" not in answer
    assert not bot.served.tracebacks(), bot.served.tracebacks()


def test_a_mention_is_answered_in_its_thread(bot: ServedSlack) -> None:
    ts = unique_ts()
    event = {
        "type": "app_mention",
        "user": "UDANA",
        "text": "<@UAADBOT> help all",
        "channel": CHANNEL,
        "ts": ts,
    }
    assert bot.served.drive.event(event).status_code == 200
    bot.fake.wait_for(lambda fake: bool(in_thread(fake, ts)), WAIT)
    (posted,) = in_thread(bot.fake, ts)
    assert posted.params["channel"] == CHANNEL
    assert "`start ORG TENANT`" in texts(posted.params)


def test_a_direct_message_is_answered_in_the_dm(bot: ServedSlack) -> None:
    dm = {
        "type": "message",
        "channel_type": "im",
        "user": "UANN",
        "channel": "DANN",
        "ts": unique_ts(),
        "text": "help",
    }
    before = len(bot.fake.posts_to("DANN"))
    assert bot.served.drive.event(dm).status_code == 200
    bot.fake.wait_for(lambda fake: len(fake.posts_to("DANN")) > before, WAIT)
    assert "`todo`" in texts(bot.fake.posts_to("DANN")[before].params)


def test_opening_the_app_home_publishes_the_persons_home(bot: ServedSlack) -> None:
    before = len(bot.fake.calls_of("views.publish"))
    event = {"type": "app_home_opened", "user": "UANN", "channel": "DANN", "tab": "home"}
    assert bot.served.drive.event(event).status_code == 200
    published = bot.fake.wait_for_calls("views.publish", before + 1, WAIT)[before]
    assert published.params["user_id"] == "UANN"
    assert published.params["view"]["type"] == "home"


def test_a_button_is_acked_and_runs_its_command(bot: ServedSlack) -> None:
    before = len(bot.fake.responses)
    ack = bot.served.drive.click("help", "all", user="UANN", channel=CHANNEL)
    assert ack.status_code == 200
    bot.fake.wait_for(lambda fake: len(fake.responses) > before, WAIT)
    assert all(f"`{usage.word}" in texts(bot.fake.responses[before]) for usage in USAGES)


@pytest.mark.parametrize(
    "action_id",
    [
        "refresh_report_v1",  # a foreign or renamed action_id, not shaped like one of ours
        "refresh-report",  # shaped like ours, but a word this version does not have
    ],
)
def test_a_button_from_an_older_message_is_acked_and_the_clicker_told_what_to_do(
    bot: ServedSlack, action_id: str
) -> None:
    before = len(bot.fake.responses)
    ack = bot.served.drive.click(action_id, "7", user="UANN", channel=CHANNEL)
    assert ack.status_code == 200  # acked: no 404 over HTTP, no unanswered envelope in Socket Mode
    bot.fake.wait_for(lambda fake: len(fake.responses) > before, WAIT)
    (told,) = bot.fake.responses[before:]
    assert told["response_type"] == "ephemeral"  # only the clicker sees it
    said = texts(told)
    assert "older message" in said and "did nothing" in said and "status`" in said
    assert all("older message" not in texts(post.params) for post in bot.fake.posts_to(CHANNEL))


def test_a_click_on_a_link_button_is_acked_and_answered_by_nothing(bot: ServedSlack) -> None:
    before = len(bot.fake.responses)
    ack = bot.served.drive.click("link.accept-invitation", "", user="UANN", channel=CHANNEL)
    assert ack.status_code == 200  # Slack opened the link in the browser; the bot has nothing to add
    bot.served.drive.click("help", "all", user="UANN", channel=CHANNEL)  # answered after the link's click
    bot.fake.wait_for(lambda fake: len(fake.responses) > before, WAIT)
    (answered,) = bot.fake.responses[before:]
    assert "older message" not in texts(answered) and "`todo`" in texts(answered)


def test_a_redelivered_event_is_acked_again_but_acted_on_once(bot: ServedSlack) -> None:
    ts, marker_ts = unique_ts(), unique_ts()
    event = {
        "type": "app_mention",
        "user": "UDANA",
        "text": "<@UAADBOT> help all",
        "channel": CHANNEL,
        "ts": ts,
    }
    event_id = f"EvOnce{ts}"
    assert bot.served.drive.event(event, event_id=event_id).status_code == 200
    assert bot.served.drive.event(event, event_id=event_id, retry_attempt=1).status_code == 200
    assert bot.served.drive.event(event, event_id=event_id, retry_attempt=2).status_code == 200
    bot.fake.wait_for(lambda fake: bool(in_thread(fake, ts)), WAIT)
    # A later, different mention, sent once the first is answered, is answered too: by then the retries,
    # delivered before it, have long been looked at. (Socket Mode handles envelopes concurrently, so a mention
    # sent before the first answer could be answered first: that is not the retries being ignored.)
    bot.served.drive.event(event | {"ts": marker_ts})
    bot.fake.wait_for(lambda fake: bool(in_thread(fake, marker_ts)), WAIT)
    assert len(in_thread(bot.fake, ts)) == 1


def test_replies_and_web_api_calls_reuse_connections(bot: ServedSlack) -> None:
    ports = len(bot.fake.client_ports)
    answered = len(bot.fake.responses)
    for turn in range(1, 11):
        bot.served.drive.command("help", user="UANN" if turn % 2 else "UDANA")
        # the next command only once the fake has sent its whole answer: else the reply's connection may
        # still be reading it, out of the pool, when the next request starts (on a loaded machine)
        bot.fake.wait_for(
            lambda fake, wanted=answered + turn: len(fake.responses) >= wanted and fake.all_answered, WAIT
        )
    used = bot.fake.client_ports[ports:]
    assert len(used) >= 10  # ten replies to response_url, and the Web API calls around them
    # a new connection for every reply before (11 connections for 13 requests); now a small pool kept open
    assert len(set(used)) <= 2 * len(used) // 3, f"{len(set(used))} connections for {len(used)} requests"


def test_an_event_nobody_listens_to_is_acked_and_its_body_never_logged(bot: ServedSlack) -> None:
    secret_text = "a private message nobody should find in a log"
    event = {"type": "reaction_added", "user": "UANN", "reaction": "tada", "item": {"text": secret_text}}
    assert bot.served.drive.event(event).status_code == 200  # else Slack delivers it again, three times
    # answered afterwards: the unhandled event has been dispatched (and logged) by then
    before = len(bot.fake.responses)
    bot.served.drive.command("help", user="UANN")
    bot.fake.wait_for(lambda fake: len(fake.responses) > before, WAIT)
    assert secret_text not in bot.served.log_text()
