"""The advance notice: every affected user hears what will happen to them before the change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

import workflows.stages.announcing as service_module
from storage import AuditEntry, Database, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.storage.statements import statements, verbs
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.arguments import passed
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.results_preparing import AnnounceResult
from workflows.results_standing import Announcement
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY

FRIDAY, MONDAY = "Friday 6 November 2026 14:00 UTC", "Monday 9 November 2026 09:00 UTC"
"""`Friday 14:00 UTC` and `Monday 09:00 UTC` as announced on the clock's Monday 2 November 2026: the days
they name, which the notices say (people read them days later)."""


def notices(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        query = select(OutboundMessage).where(OutboundMessage.kind == "advance_notice")
        return list(session.exec(query.order_by(col(OutboundMessage.id))).all())


def test_each_user_is_told_their_own_case_once_per_date(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    plan = service.plan()
    first = service.announce(None, dana, "Friday 14:00 UTC")
    assert (first.queued, first.users) == (len(plan.users), len(plan.users))
    sent = notices(database)
    assert len(sent) == len(plan.users)
    by_outcome = {user.outcome: user for user in plan.users}
    invited = next(
        m
        for m in sent
        if m.recipient == (by_outcome["invite"].mail_address or by_outcome["invite"].principal_name)
    )
    assert "invitation email" in " ".join(invited.payload["lines"])
    assert all(m.payload["when"] == FRIDAY for m in sent)

    again = service.announce(None, dana, "friday   14:00 utc")
    assert again.queued == 0 and len(notices(database)) == len(plan.users)

    moved = service.announce(None, dana, "Monday 09:00 UTC")
    assert moved.queued == len(plan.users) and len(notices(database)) == 2 * len(plan.users)
    with database.session() as session:
        actions = session.exec(select(AuditEntry.action).where(AuditEntry.action == "announce")).all()
    assert len(actions) == 3
    assert service.status().state == "planned"


@BOTH_BACKENDS
def test_how_the_notice_went_is_one_read_until_someone_was_told(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    """`plan`, `status` and the steps before connecting each ask how the advance notice went: before any
    `announce`, one statement says nobody was told (no look-up of the migration by its name, no row)."""
    migration = service.start("fabrikam", "fabrikam.com", dana).id
    with statements(database) as seen:
        assert service.told(migration) is None
    assert verbs(seen) == {"SELECT": 1}
    announced = service.announce(None, dana, "Friday 14:00 UTC")
    told = service.told(migration)
    assert told is not None and (told.when, told.people) == (FRIDAY, announced.users)


def test_after_inviting_an_invited_guest_is_told_to_accept_the_invitation_and_keeps_their_tokens(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    replanned = {user.principal_name: user.outcome for user in service.plan().users}
    assert replanned["bob@outlook.com"] == "auto"  # the plan now matches his guest account, not yet his
    service.announce(None, dana, "Friday 14:00 UTC")
    (bob,) = [m for m in notices(database) if m.recipient == "bob@outlook.com"]
    told = " ".join(bob.payload["lines"])
    assert 'invitation email from "Microsoft Invitations on behalf of" the company to bob@outlook.com' in told
    # invited under his own address, his emails match: Microsoft says no new tokens
    assert "Accept it now" in told and "personal access tokens keep working" in told
    assert "must be made again" not in told and "You keep your identity" not in told
    # Teams finds him by his guest account's object id; its #EXT# sign-in name is no address to try
    assert (bob.payload["also"], bob.payload["directory_id"]) == ([], "g-guest-bob@outlook.com")


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ("yesterday", "`yesterday` is in the past"),
        ("1999-01-01", "`1999-01-01` is in the past"),
        ("Friday 30 October 2026", "`30 October 2026` is in the past"),
        ("last Friday at 14:00", "`last Friday` is in the past"),
        ("2026-02-30", "`2026-02-30` is not a date"),
        ("01/02/2020", "`01/02/2020` is in the past"),  # 1 February or 2 January: over either way
        ("31/10/2026 at noon", "`31/10/2026` is in the past"),
        ("10/31/2026", "`10/31/2026` is in the past"),
        ("31/31/2026", "`31/31/2026` is not a date"),
        ("this morning", "`this morning` is in the past"),
        ("earlier today", "`earlier today` is in the past"),
        ("Oct 30", "`Oct 30` has passed this year, so I announced nothing"),
        ("Oct 30", "if you mean next year, add it: `announce fabrikam Oct 30 2027`"),
        ("30th of October, 14:00", "`30th of October` has passed this year"),
        ("<!channel> now", "mentions a channel or a person"),
        ("Friday <@U0DANA>", "mentions a channel or a person"),
        ("@here Friday", "mentions a channel or a person"),
        ("<at>Lee</at> Friday", "mentions a channel or a person"),
        (" ".join(["Friday"] * 40) + " 14:00", "has 285 characters, so I announced nothing"),  # never cut
        ("next blursday", "`next blursday` does not start with a day I can read"),
        ("when the pilot ends", "Start with the day: a date (`2026-12-04`, `4 December`"),
        ("sat 10:00, sun permitting", "To tell them without a date, say `announce fabrikam` alone."),
        ("14:00 UTC on Friday", "a time or a note may follow"),
        ("12 marbles", "`12 marbles` does not start with a day I can read"),  # was 12 March
        ("4 marathons, 14:00", "`4 marathons, 14:00` does not start with a day I can read"),
        ("Mon-Fri", "`Mon-Fri` is a range of days"),  # was "Monday 2 November 2026-Fri"
        ("on Monday to Friday 9:00", "`Monday to Friday` is a range of days"),
        ("next Mon – Wed", "`next Mon – Wed` is a range of days"),
    ],
)
def test_a_when_in_the_past_or_with_a_mention_is_refused_and_nobody_is_told(
    service: MigrationService, database: Database, dana: Actor, when: str, problem: str
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)  # the clock says Monday 2 November 2026, 09:00 UTC
    with pytest.raises(WorkflowError) as refused:
        service.announce(None, dana, when)
    assert problem in str(refused.value) and "so I announced nothing" in str(refused.value)
    assert "e.g. `announce fabrikam Friday 14:00 UTC`" in str(refused.value)
    assert "<!" not in str(refused.value) and "<@" not in str(refused.value)  # nobody pinged by the reply
    assert notices(database) == []


@pytest.mark.parametrize(
    ("when", "announced"),
    [
        ("Friday 18:00 UTC", "Friday 6 November 2026 18:00 UTC"),
        ("tomorrow", "Tuesday 3 November 2026"),
        ("2026-12-04", "2026-12-04"),
        ("4 Dec 2026", "4 Dec 2026"),
        ("2026-11-01", "2026-11-01"),
        ("next week, email me", "the week of Monday 9 November 2026, email me"),
        ("13/12/2026", "13 December 2026"),  # no 13th month: day/month
        ("12/13/2026", "13 December 2026"),  # month/day
        ("4/11/26", "4 November 2026"),  # 11 April 2026 is over: the day still to come
        ("Nov 1", "Nov 1"),
        ("Jan 5", "Jan 5"),  # the coming one: nearer than the one ten months ago
        ("Oct 30 2027", "Oct 30 2027"),
        ("Sat 10:00", "Saturday 7 November 2026 10:00"),
        ("Sat 10:00, sun permitting", "Saturday 7 November 2026 10:00, sun permitting"),  # the rest: theirs
        ("Fri, 13/11 after the standup", "Fri, 13 November 2026 after the standup"),
        ("2026-11-06T14:00Z", "2026-11-06T14:00Z"),
    ],
)
def test_days_still_to_come_somewhere_on_earth_are_announced_with_the_words_after_them(
    service: MigrationService, dana: Actor, when: str, announced: str
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)  # 2026-11-01 is still going on at UTC-12
    assert service.announce(None, dana, when).when == announced


def test_announcing_after_the_change_is_refused_with_what_comes_next(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    service.decide(request.approval_id, lee, approve=True)
    microsoft.connect(service.status().tenant_id)
    service.check_connection()
    with pytest.raises(WorkflowError, match="connected"):
        service.announce(None, dana, "tomorrow")


@BOTH_BACKENDS
def test_two_admins_announcing_the_same_date_at_once_get_a_clear_answer_and_one_notice_each(
    service: MigrationService,
    make_service: ServiceFactory,
    database: Database,
    dana: Actor,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    other = make_service()
    real_enqueue_all = enqueue_all
    raced: list[AnnounceResult] = []

    def racing(session: Session, messages: Sequence[NewMessage], *, now: datetime) -> list[OutboundMessage]:
        queued = real_enqueue_all(session, messages, now=now)
        if not raced:  # the other admin's identical announce commits while this one is half-way
            monkeypatch.setattr(service_module, "enqueue_all", real_enqueue_all)
            raced.append(other.announce(None, lee, "Friday 14:00 UTC"))
        return queued

    monkeypatch.setattr(service_module, "enqueue_all", racing)
    with pytest.raises(WorkflowError, match=f"just announced for {FRIDAY}"):
        service.announce(None, dana, "Friday 14:00 UTC")

    users = len(service.plan().users)
    assert raced[0].queued == users
    assert len(notices(database)) == users


def test_a_persons_standing_names_the_date_announced_to_them_and_what_they_sign_in_with_today(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    bob = Actor(id="U-BOB", email="bob@outlook.com", name="Bob")
    service.start("fabrikam", "fabrikam.com", dana)
    quiet = service.standing_of(None, bob)
    assert quiet.announcement() == Announcement() and quiet.signs_in_as == "bob@outlook.com"
    service.announce(None, dana, "Friday 14:00 UTC")
    assert service.standing_of(None, bob).announcement().to_them == FRIDAY
    service.announce(None, dana, "Monday 09:00 UTC")
    assert service.standing_of(None, bob).announcement().to_them == MONDAY
    with database.session() as session:  # the newest notice never reached him: he was told Friday
        (newest,) = [
            m
            for m in session.exec(select(OutboundMessage)).all()
            if m.payload.get("when") == MONDAY and m.recipient == "bob@outlook.com"
        ]
        newest.status = "failed"
        session.add(newest)
        session.commit()
    assert service.standing_of(None, bob).announcement() == Announcement(FRIDAY, MONDAY)
    assert service.standing_of(None, dana).announcement().to_them == MONDAY
    outsider = Actor(id="U-ZOE", email="zoe@contoso.com", name="Zoe")
    assert service.standing_of(None, outsider).announcement() == Announcement()


def test_an_earlier_date_announced_again_reaches_everyone_once_and_is_the_date_that_stands(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    bob = Actor(id="U-BOB", email="bob@outlook.com", name="Bob")
    service.start("fabrikam", "fabrikam.com", dana)
    users = len(service.plan().users)
    for when in ("Friday 14:00 UTC", "Monday 09:00 UTC"):
        assert service.announce(None, dana, when).queued == users
    back = service.announce(None, dana, "friday 14:00 utc")
    assert back.queued == users, "everyone was last told Monday"
    assert service.standing_of(None, bob).announcement().to_them == "Friday 6 November 2026 14:00 utc"
    assert service.announce(None, dana, "Friday 14:00 UTC").queued == 0
    assert len(notices(database)) == 3 * users
    assert service.announce(None, dana, "Monday 09:00 UTC").queued == users
    assert service.standing_of(None, bob).announcement().to_them == MONDAY


@BOTH_BACKENDS
def test_a_date_announced_that_is_now_past_is_said_to_be_past_and_words_are_not_judged(
    service: MigrationService, dana: Actor, clock: FakeClock
) -> None:
    bob = Actor(id="U-BOB", email="bob@outlook.com", name="Bob")
    service.start("fabrikam", "fabrikam.com", dana)
    service.announce(None, dana, "2026-11-06 14:00 UTC")  # the clock's Friday
    assert not service.standing_of(None, bob).announcement().passed
    clock.advance(days=4, hours=14)  # Friday 23:00 UTC: still Friday at UTC-12
    assert not service.standing_of(None, bob).announcement().passed
    clock.advance(days=1)
    assert service.standing_of(None, bob).announcement() == Announcement(
        "2026-11-06 14:00 UTC", "2026-11-06 14:00 UTC", passed=True
    )
    # announced as free text before a day first was asked for: no day to judge
    assert not passed("when the pilot ends", now=clock.now + timedelta(days=30))


def test_a_bare_announce_after_a_dated_one_sends_nothing_vaguer_and_a_new_date_still_reaches_everyone(
    service: MigrationService, database: Database, dana: Actor, clock: FakeClock
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    users = len(service.plan().users)
    dated = service.announce(None, dana, "Friday 14:00 UTC")
    clock.advance(hours=2)
    bare = service.announce(None, dana, "")
    assert (bare.queued, bare.when, bare.since) == (0, FRIDAY, dated.since)
    assert {m.payload["when"] for m in notices(database)} == {FRIDAY}
    assert len(notices(database)) == users
    moved = service.announce(None, dana, "Monday 09:00 UTC")
    assert (moved.queued, moved.since) == (users, clock.now)
    assert service.announce(None, dana, "").when == MONDAY
    assert len(notices(database)) == 2 * users


def test_a_month_is_read_in_full_or_abbreviated_and_only_as_a_whole_word(
    service: MigrationService, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)  # Monday 2 November 2026, 09:00 UTC
    assert service.announce(None, dana, "Sept 4 2027").when == "Sept 4 2027"
    assert service.announce(None, dana, "4 Dec. 14:00").when == "4 Dec. 14:00"
    assert service.announce(None, dana, "Friday 12 marbles").when == "Friday 6 November 2026 12 marbles"


def test_a_bare_announce_after_its_day_has_passed_is_refused_asking_for_the_new_day(
    service: MigrationService, database: Database, dana: Actor, clock: FakeClock
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.announce(None, dana, "Friday 14:00 UTC")
    clock.advance(days=6)  # Sunday 8 November: Friday is over everywhere
    with pytest.raises(WorkflowError) as refused:
        service.announce(None, dana, "")
    assert str(refused.value) == (
        f"The day last announced, “{FRIDAY}”, has passed, so I announced nothing: whoever joined the plan"
        f" since would read “Coming {FRIDAY}”. Give the new day, e.g. `announce fabrikam Friday 14:00 UTC`:"
        " everyone hears it."
    )
    assert len(notices(database)) == len(service.plan().users)


@pytest.mark.parametrize(
    ("when", "refusal"),
    [
        (
            "31/10",  # day/month, a day over everywhere on the clock's 2 November
            "`31/10` has passed this year, so I announced nothing: people would read “Coming 31/10”. Give the"
            " day of the change, e.g. `announce fabrikam Friday 14:00 UTC`; if you mean next year, add it:"
            " `announce fabrikam 31/10/2027`.",
        ),
        (
            "4/12 14:00",  # 4 December, or 12 April: both to come
            "`4/12` reads as 4 December or as 12 April, so I announced nothing: write the month as a word,"
            " e.g. `announce fabrikam 4 December` or `announce fabrikam 12 April`.",
        ),
        (
            "11/12/2026",
            "`11/12/2026` reads as 12 November or as 11 December, so I announced nothing: write the month as"
            " a word, e.g. `announce fabrikam 12 November` or `announce fabrikam 11 December`.",
        ),
    ],
)
def test_a_slash_date_over_or_read_two_ways_is_refused_naming_the_fix(
    service: MigrationService, database: Database, dana: Actor, when: str, refusal: str
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)  # the clock says Monday 2 November 2026, 09:00 UTC
    with pytest.raises(WorkflowError) as refused:
        service.announce(None, dana, when)
    assert str(refused.value) == refusal
    assert notices(database) == []


def test_tomorrow_is_announced_as_the_day_it_names_which_is_what_people_read_days_later(
    service: MigrationService, database: Database, dana: Actor, clock: FakeClock
) -> None:
    bob = Actor(id="U-BOB", email="bob@outlook.com", name="Bob")
    service.start("fabrikam", "fabrikam.com", dana)  # Monday 2 November 2026, 09:00 UTC
    announced = service.announce(None, dana, "tomorrow 14:00")
    assert (announced.when, announced.typed) == ("Tuesday 3 November 2026 14:00", "tomorrow 14:00")
    assert {m.payload["when"] for m in notices(database)} == {"Tuesday 3 November 2026 14:00"}
    clock.advance(days=3)
    assert service.standing_of(None, bob).announcement() == Announcement(
        "Tuesday 3 November 2026 14:00", "Tuesday 3 November 2026 14:00", passed=True
    )
    # the same words three days on name another day: a new round, which reaches everyone
    assert service.announce(None, dana, "tomorrow 14:00").queued == announced.users


@pytest.mark.parametrize(
    "words",
    [
        ", I sat with IT today",
        " (Mon-Fri support)",
        ", sign in a day later",
        ", before the sun sets",
        ", the help desk answers 24/7",
        ", 1/2 an hour of downtime",
        ", 2/3 of repos first",
        ", a 50/50 chance of a second window",
        ", 12 marbles each",
        ", support desk open Mon-Fri",
    ],
)
def test_only_the_date_an_announcement_starts_with_is_read_and_the_rest_is_kept_as_typed(
    service: MigrationService, dana: Actor, words: str
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)  # Monday 2 November 2026, 09:00 UTC
    announced = service.announce(None, dana, f"Friday 14:00 UTC{words}")
    assert announced.when == f"Friday 6 November 2026 14:00 UTC{words}"


@pytest.mark.parametrize(
    ("when", "refusal"),
    [
        (
            "29/2",
            "`29/2` is 29 February, which comes only in a leap year, so I announced nothing: if you mean the"
            " next one, add its year: `announce fabrikam 29/2/2028`.",
        ),
        (
            "29/2/2027",
            "`29/2/2027` is not a date: 2027 has no 29 February, so I announced nothing. The next one is in"
            " 2028: `announce fabrikam 29/2/2028`.",
        ),
    ],
)
def test_29_february_of_a_year_without_one_is_refused_naming_the_next_leap_year(
    service: MigrationService, dana: Actor, when: str, refusal: str
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)  # 2026
    with pytest.raises(WorkflowError) as refused:
        service.announce(None, dana, when)
    assert str(refused.value) == refusal


@pytest.mark.parametrize(
    ("now", "where", "tomorrow"),
    [
        # Thursday 18:00 in California is 02:00 UTC on Friday, when UTC's tomorrow is Saturday
        (datetime(2026, 12, 4, 2, 0, tzinfo=UTC), "America/Los_Angeles", "Friday 4 December 2026"),
        # Friday 09:00 in Sydney is 22:00 UTC on Thursday, when UTC's tomorrow is Friday
        (datetime(2026, 12, 3, 22, 0, tzinfo=UTC), "Australia/Sydney", "Saturday 5 December 2026"),
        (datetime(2026, 12, 4, 2, 0, tzinfo=UTC), "UTC", "Saturday 5 December 2026"),
    ],
)
def test_tomorrow_is_the_day_after_the_admins_own_today_where_they_are(
    service: MigrationService, dana: Actor, clock: FakeClock, now: datetime, where: str, tomorrow: str
) -> None:
    clock.now = now
    service.start("fabrikam", "fabrikam.com", dana)
    announced = service.announce(None, replace(dana, zone=ZoneInfo(where)), "tomorrow 14:00")
    assert (announced.when, announced.days_in) == (f"{tomorrow} 14:00", where)
