"""`:later` and `:now` in `aadbot chat`: an admin lives the days after the lists go out, in a moment."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.console import rehearsal
from bot.console.chat import run_chat
from bot.console.rehearsal import RehearsalClock
from bot.conversation.reminder_views import MAPPING_AWAITED
from bot.runtime import Runtime
from sandbox import Sandbox
from storage import Database
from tests.bot import replays
from tests.bot.conftest import CONNECTED, Rehearsal, rehearsed
from tests.fakes.runtimes import runtime_on
from tests.storage.databases import replace_sqlite_file

FRIDAY_AFTERNOON = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
GUS = "gus@fabrikam.com"
"""Whose only directory account is disabled."""
_HEADING = re.compile(r"^── (?P<day>\w+) (?P<date>\d+ \w+), (?P<time>\d\d:\d\d) UTC ──$", re.MULTILINE)


@pytest.fixture
def clock() -> RehearsalClock:
    return RehearsalClock(real=lambda: FRIDAY_AFTERNOON)


def _chat(runtime: Runtime, typed: list[str], clock: RehearsalClock | None) -> str:
    """What the chat printed. Lines up to the lists going out (`CONNECTED`, on a Friday at 15:05 UTC) are
    restored when this test process typed them already (tests/bot/replays.py, proven in test_replays.py)."""
    if clock is not None and typed[: len(CONNECTED)] == CONNECTED:
        rehearsal = Rehearsal(runtime, clock)
        rehearsed(rehearsal, CONNECTED)
        return rehearsal.type(typed[len(CONNECTED) :])
    out = io.StringIO()
    assert run_chat(runtime, "dana@fabrikam.com", io.StringIO("\n".join(typed) + "\n"), out, clock=clock) == 0
    return out.getvalue()


def _after(text: str, marker: str) -> str:
    return text[text.index(marker) :]


_CARRIED_ON = [":now", ":later 3d", ":as ann@fabrikam.com", ":dm done 1", ":as dana@fabrikam.com", "progress"]
"""Lines that read what the lines up to the lists going out left: the clock, the reminders' schedules, the
outbox, a person's list, who speaks."""


def test_a_restored_rehearsal_carries_on_as_a_replayed_one(
    sqlite_database: Database, sqlite_template: Path, box: Sandbox
) -> None:
    """The lines up to the lists going out, then `_CARRIED_ON`: once typed for real (and saved, for the tests
    after this one), once restored; the rows, the outbox, the sandbox, the transcript and the clock agree."""

    def run(*, restores: bool) -> str:
        replace_sqlite_file(sqlite_database, sqlite_template)
        box.reset()
        clock = RehearsalClock(real=lambda: FRIDAY_AFTERNOON)
        runtime = runtime_on(box, sqlite_database, clock=clock)
        try:
            rehearsal = Rehearsal(runtime, clock, restores=restores)
            assert rehearsed(rehearsal, CONNECTED) == rehearsal.out.getvalue()
            rehearsal.type(_CARRIED_ON)
            delivered = rehearsal.chat.surface.delivered
            clock_read = [clock().isoformat(), str(clock.ahead)]
            return replays.observed(runtime, rehearsal.out.getvalue(), delivered, clock=clock_read)
        finally:
            runtime.close()

    restored_before = replays.RESTORED["rehearsed"]
    typed = run(restores=False)
    assert replays.RESTORED["rehearsed"] == restored_before
    restored = run(restores=True)
    assert replays.RESTORED["rehearsed"] == restored_before + 1
    # the first lines moved the clock on five minutes; the billing reminder a minute after the lists
    assert "(rehearsal time: Friday 27 November, 15:05 UTC, 5 min ahead of the real clock)" in restored
    assert "REMINDER: MOVE THE BILLING OF FABRIKAM-FIBER" in restored
    assert "(it is now Monday 30 November, 15:05 UTC, 3 days later: 1 message" in restored
    assert restored == typed


def test_a_week_later_reminders_came_on_working_days_at_nine_and_not_to_who_finished_or_snoozed(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    typed = [*CONNECTED, ":as ann@fabrikam.com", ":dm done 1", ":dm done 2", ":dm done 3", ":dm done 4"]
    typed += [":as bob.builder@outlook.com", ":dm snooze 1w", ":as dana@fabrikam.com", ":later 1w", ":now"]
    said = _chat(runtime, typed, clock)

    # `serve` looks a minute after `:connect`, and so does the rehearsal
    assert "🎉 fabrikam-fiber is now connected to Fabrikam." in _after(
        said, "── Friday 27 November, 15:01 UTC ──"
    )
    week = _after(said, "(the clock moves on 7 days from Friday 27 November, 15:05 UTC")
    moments = [(m["day"], m["date"], m["time"]) for m in _HEADING.finditer(week)]
    assert moments  # something came
    assert all(day not in ("Saturday", "Sunday") and "09:00" <= time < "17:00" for day, _, time in moments)
    # the lists went out on Friday at 15:05: reminders come two working days later, at that hour
    assert ("Tuesday", "1 December", "15:05") in moments and ("Thursday", "3 December", "15:05") in moments
    bobs = re.findall(
        r"── (\w+ \d+ \w+, \d\d:\d\d) UTC ──(?:\n(?!──).*)*?\naadbot → DM to bob\.builder", week
    )
    reminded = set(re.findall(r"aadbot → DM to (\S+):\n  REMINDER: ", week))
    assert "lee@fabrikam.com" in reminded and "ivan@fabrikam.com" in reminded
    assert "ann@fabrikam.com" not in reminded  # her list is done: reminders ended
    assert bobs == ["Friday 4 December, 15:05"]  # he snoozed for a week on Friday 15:05
    # the admins' digest: Ann is done, Gus and Hana wait for the admins
    heading = (
        "8 OF 11 PEOPLE IN FABRIKAM-FIBER STILL HAVE OPEN TO-DO ITEMS (1 FINISHED, 2 WAIT FOR YOUR DECISION)"
    )
    assert heading in week
    digest = _after(week, heading)
    digest = digest[: digest.index("\n\n")]
    # posted in the channel: people's names are their addresses, which `progress` gives whoever asks
    assert "kim@fabrikam.com" not in digest and "Kim Lee" not in digest and "ann@" not in digest
    assert "[Progress: `progress fabrikam-fiber`]" in digest
    # none to Hana or Gus: their lists said whom they wait on
    assert "(it is now Friday 4 December, 15:05 UTC, 7 days later: 20 messages (#aad-migration 5, " in week
    assert "(rehearsal time: Friday 4 December, 15:05 UTC, 7 days 5 min ahead of the real clock)" in week


def test_a_snooze_after_the_list_is_done_promises_no_reminder(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    done = [":dm done 1", ":dm done 2", ":dm done 3", ":dm done 4"]
    said = _after(
        _chat(runtime, [*CONNECTED, ":as ann@fabrikam.com", *done, ":dm snooze 1w"], clock), "snooze 1w\n"
    )
    assert "Nothing to snooze: your to-do list is done, so no more reminders will come." in said
    assert "Snoozed" not in said and "next reminder" not in said


def test_a_snooze_puts_off_the_next_reminder_by_a_day(runtime: Runtime, clock: RehearsalClock) -> None:
    typed = [*CONNECTED, ":later 3d", ":later 1h", ":as erin.eng@gmail.com", ":dm snooze 1d", ":dm snooze 1d"]
    said = _after(_chat(runtime, [*typed, ":later 2d"], clock), "snooze 1d\n")

    # the lists went out on Friday at 15:05; Erin snoozes on Monday at 16:05, before Tuesday's reminder:
    # not that day an hour later, which would be no snooze at all
    assert "Snoozed: your next reminder comes on Wednesday 2 December at 16:05 (UTC)." in said
    # pressed again: the reminder is already more than a day away, and the reply says when it comes
    assert "Your next reminder comes on Wednesday 2 December at 16:05 (UTC) anyway" in said
    tuesday = _after(said, "── Tuesday 1 December, 15:05 UTC ──")
    assert "DM to lee@fabrikam.com" in tuesday
    erins = re.findall(r"── (\w+ \d+ \w+, \d\d:\d\d) UTC ──(?:\n(?!──).*)*?\naadbot → DM to erin\.eng", said)
    assert erins == ["Wednesday 2 December, 16:05"]


def test_the_clock_does_not_move_on_a_database_that_outlives_the_chat(runtime: Runtime) -> None:
    said = _chat(runtime, [":later 1d", ":now"], clock=None)
    refusal = (
        "The rehearsal clock only moves in a chat with a database of its own (`aadbot chat --scenario FILE`)"
    )
    assert said.count(refusal) == 2
    assert "──" not in said


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        (":later", "Say how far to move the clock: `:later 3h`, `:later 1d`, `:later 1w`"),
        (":later 2 days", "Say how far to move the clock"),
        (":later 5w", "at most four weeks"),
        (":later 0h", "more than nothing"),
    ],
)
def test_a_span_it_cannot_read_is_explained(
    runtime: Runtime, clock: RehearsalClock, typed: str, answer: str
) -> None:
    said = _chat(runtime, [typed, ":now"], clock)
    assert answer in said
    assert "(rehearsal time: Friday 27 November, 15:00 UTC, no time ahead of the real clock)" in said


def test_help_names_the_clock(runtime: Runtime, clock: RehearsalClock) -> None:
    said = _chat(runtime, [":help"], clock)
    assert ":later 1d" in said and ":now" in said


def test_a_whole_migration_rehearsed_to_the_end_then_nobody_hears_more(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    typed = [*CONNECTED, ":later 3d", ":signin ann@fabrikam.com", ":later 1h", ":billing", ":later 2d"]
    typed += ["complete fabrikam-fiber confirm", ":later 1w"]
    said = _chat(runtime, typed, clock)

    signed_in = _after(said, "(ann@fabrikam.com signed in to fabrikam-fiber; the sign-in checks will notice)")
    # the emulator keeps the rehearsal's time, so the sign-in counts as after the connection; the look a
    # minute later reads it, with the billing reminder's last call (a working day after Friday's, sent a
    # minute after the lists went out on Friday at 15:05)
    monday = _after(signed_in, "── Monday 30 November, 15:06 UTC ──")
    assert "aadbot → DM to ann@fabrikam.com:" in monday[: monday.index("(it is now")]
    assert "I can see you signed in to fabrikam-fiber with your work account" in signed_in
    moved = _after(signed_in, "(Azure portal: subscription c0ffee00-1234-4abc-8def-0123456789ab moved to")
    # Monday evening; the billing reminder's check, due on Wednesday afternoon (two working days after
    # Monday's last call at 15:06), finds it moved
    billing = _after(moved, "── Wednesday 2 December, 15:06 UTC ──\n\naadbot → #aad-migration:")
    assert billing.index("BILLING OF FABRIKAM-FIBER HAS MOVED") < billing.index("(it is now")
    assert "[Complete: `complete fabrikam-fiber`]" in billing
    assert "THE MOVE OF FABRIKAM-FIBER TO FABRIKAM IS COMPLETE" in billing
    assert "7 days later: nothing for anyone)" in _after(billing, "IS COMPLETE")


def test_the_portal_words_need_a_migration_and_a_person(runtime: Runtime, clock: RehearsalClock) -> None:
    said = _chat(runtime, [":signin", ":billing", ":signin ann@fabrikam.com"], clock)
    assert "Say who signs in: `:signin ann@fabrikam.com`." in said
    assert said.count("No migration yet: `start` one first.") == 2


def _messages_to(text: str, address: str) -> list[str]:
    """Every message to `address` in a stretch of the chat, each up to the blank line that ends it."""
    return re.findall(rf"aadbot → DM to {re.escape(address)}:\n((?:  .*\n?)+)", text)


HANA_DECIDED = "decide fabrikam-fiber hana@contoso.com hana.hart@fabrikam.com"
A_WEEK_THEN_HANA_DECIDED = [*CONNECTED, ":later 1w", HANA_DECIDED, ":later 3d"]
_LIVED: dict[tuple[str, ...], str] = {}


def _chat_once(runtime: Runtime, typed: list[str], clock: RehearsalClock) -> str:
    """`_chat`, lived once per test process for tests that only read what was said (a week costs about
    0.4 s of CPU). Only for tests on the unchanged `runtime` and `clock` fixtures: each gives the same
    fresh world at the same time, so what is typed alone decides what a walk prints."""
    if tuple(typed) not in _LIVED:
        _LIVED[tuple(typed)] = _chat(runtime, typed, clock)
    return _LIVED[tuple(typed)]


def _the_first_week(said: str) -> str:
    """The week after the lists went out, up to Dana's decision for Hana."""
    week = _after(said, "(the clock moves on 7 days")
    return week[: week.index(HANA_DECIDED)]


def test_a_reminder_names_the_open_items_and_who_asks_and_leaves_the_steps_to_todo(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    week = _the_first_week(_chat_once(runtime, A_WEEK_THEN_HANA_DECIDED, clock))
    reminders = [m for m in _messages_to(week, "lee@fabrikam.com") if m.startswith("  REMINDER: ")]
    assert len(reminders) == 2
    first = reminders[0]
    assert "asked me to remind you" not in first  # Lee is an admin: he runs the move with Dana
    assert "1. Sign in with your work account\n  [Done: `done #" in first
    assert "[I need help: `need-help #" in first and "[Snooze 1 day: `snooze #" in first
    assert "Say `todo` for the full steps of each." in first
    # the steps themselves stay on the first list and in `todo`
    assert "Sign out of Azure DevOps everywhere" not in first and "More:" not in first
    assert len(first.splitlines()) <= 14
    dana = next(m for m in _messages_to(week, "dana@fabrikam.com") if m.startswith("  REMINDER: "))
    assert "asked me to remind you" not in dana  # she runs it: nobody asks her but herself
    ivan = next(m for m in _messages_to(week, "ivan@fabrikam.com") if m.startswith("  REMINDER: "))
    assert "Dana, who runs the move of fabrikam-fiber, asked me to remind you" in ivan


def test_a_reminder_to_someone_mapped_by_hand_says_that_signing_in_waits_for_the_mapping(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    """Kim's identity is mapped by hand, and Azure DevOps still shows her on her Microsoft account: her
    reminder says that signing in waits for the admins, not "sign in" as if she could (walk34 finding 1);
    Ivan, whose identity carried over, is reminded as before."""
    week = _the_first_week(_chat_once(runtime, A_WEEK_THEN_HANA_DECIDED, clock))
    kim = next(m for m in _messages_to(week, "kim@fabrikam.com") if m.startswith("  REMINDER: "))
    waits = " ".join(MAPPING_AWAITED.split())
    assert waits.startswith("Signing in waits for the migration admins: Azure DevOps still shows you on")
    assert waits in " ".join(kim.split())
    ivan = next(m for m in _messages_to(week, "ivan@fabrikam.com") if m.startswith("  REMINDER: "))
    assert "Signing in waits" not in ivan


def test_who_waits_on_the_admins_hears_it_once_and_the_digest_asks_the_admins_to_decide(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    said = _chat_once(runtime, A_WEEK_THEN_HANA_DECIDED, clock)
    listed, week = said[: said.index("(the clock moves on 7 days")], _the_first_week(said)
    for waiting, why in (("hana@contoso.com", "to decide which"), ("gus@fabrikam.com", "disabled directory")):
        (told,) = _messages_to(listed, waiting)  # their list says it, once: no notice after it
        assert _messages_to(week, waiting) == []
        words = " ".join(told.split())
        assert words.startswith("YOUR TO-DO LIST: FABRIKAM-FIBER NOW SIGNS IN WITH FABRIKAM")
        # who can act: every admin of the organization, not only Dana, who started it
        admins = "the migration admins (dana@fabrikam.com, lee@fabrikam.com)"
        assert f"Before you can sign in, {admins} need" in words
        assert why in words
    # Hana's other items wait for the decision; Gus's list has none (walk34 finding 6)
    (hana,) = _messages_to(listed, "hana@contoso.com")
    assert "The items after it can only be done once they have; I tell you then" in " ".join(hana.split())
    (gus,) = _messages_to(listed, "gus@fabrikam.com")
    assert "It is all your list holds, and I send no reminders until they have." in " ".join(gus.split())
    (hana,) = _messages_to(listed, "hana@contoso.com")
    # privately, the accounts her address matches: hers to tell the admins which
    accounts = "(hana_contoso.com#EXT#@fabrikam.onmicrosoft.com, hana.hart@fabrikam.com)"
    assert f"share your address hana@contoso.com {accounts}, so the bot" in " ".join(hana.split())
    # nobody has finished: "9 of 11" alone read as if two had (walk31 finding 9)
    digest = _after(
        week,
        "9 OF 11 PEOPLE IN FABRIKAM-FIBER STILL HAVE OPEN TO-DO ITEMS; NOBODY HAS FINISHED YET: THE OTHER 2"
        " WAIT FOR YOUR DECISION",
    )
    digest = digest[: digest.index("\n\n")]
    stragglers = digest[: digest.index("They get reminders")]
    assert "hana@contoso.com" not in stragglers and "gus@fabrikam.com" not in stragglers
    assert "2 people wait for your decision" in digest
    # in the channel, whom to decide for is a direct message away: their names are their addresses
    assert "hana" not in digest.casefold() and "gus" not in digest.casefold()
    assert "`plan` in a direct message with me names whom to decide for, with a button for each." in " ".join(
        digest.split()
    )

    decided = _after(said, HANA_DECIDED)
    # the decision tells her at once; her reminders then come again, with what she can do now
    reminded = [m for m in _messages_to(decided, "hana.hart@fabrikam.com") if m.startswith("  REMINDER: ")]
    assert reminded and "Sign in with your work account" in reminded[0]


def test_someone_decided_out_is_told_once_and_is_no_straggler_in_progress_the_digest_or_complete(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    decided = [CONNECTED[0], f"decide fabrikam-fiber {GUS} no-access", *CONNECTED[1:]]
    typed = [*decided, ":later 4w", "progress", ":billing", "check-billing", "complete"]
    said = _chat(runtime, typed, clock)

    (told,) = _messages_to(said, GUS)  # once, and never reminded in four weeks
    assert len(_messages_to(said, "ann@fabrikam.com")) >= 10  # her list, then a reminder every two days
    assert told.startswith("  YOU NO LONGER HAVE ACCESS TO FABRIKAM-FIBER\n")
    words = " ".join(told.split())
    assert (
        "your only account in Fabrikam is disabled. Dana, a migration admin, decided that you lose" in words
    )
    assert "Your work items, commits and history stay in the organization under your old name." in words
    assert "Get your directory account enabled" not in said
    digests = [d[: d.index("\n\n")] for d in said.split("STILL HAVE OPEN TO-DO ITEMS")[1:]]
    assert digests and all(GUS not in d for d in digests)  # in the channel, counted
    # counted apart, never as open work: 10 of the 11 have a list
    assert re.findall(r"\d+ OF (\d+) PEOPLE IN FABRIKAM-FIBER STILL HAVE", said) == ["10"] * len(digests)
    apart = "Not counted: 1 person who loses access (decided by Dana); nothing for them to do."
    assert all(apart in " ".join(d.split()) for d in digests)
    assert not re.search(r"\n  gus@fabrikam\.com +(Gus|\S+ of \d+ done|disabled)", said)
    progress = said[said.index("PROGRESS OF FABRIKAM-FIBER") :]
    assert re.search(r"\n  gus@fabrikam\.com +lose access \(decided by Dana\) ", progress)
    assert re.search(r"\d+ of 10 people done; 1 more loses access \(decided by Dana\);", progress)
    signed_in = r"Signed in with their work or guest account since the connection \(\S+\): \d+ of 10 people"
    assert re.search(signed_in, " ".join(progress.split()))
    closing = said[said.index("NOT COMPLETED YET") :]
    assert GUS not in closing and "1 person has no way in yet" in closing  # Hana, undecided


def test_reminders_come_again_for_someone_decided_out_and_then_given_an_account(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    hana, at_work = "hana@contoso.com", "hana.hart@fabrikam.com"
    typed = [
        *CONNECTED,
        f"decide fabrikam-fiber {hana} no-access",
        ":later 1w",  # her withdrawn list's reminders end
        f"decide fabrikam-fiber {hana} {at_work}",
        ":later 1w",
    ]
    said = _chat(runtime, typed, clock)
    out = _after(said, "(the clock moves on 7 days")
    out_week = out[: out.index(f"decide fabrikam-fiber {hana} {at_work}")]
    assert not [m for m in _messages_to(out_week, at_work) + _messages_to(out_week, hana) if "REMINDER" in m]
    back = _after(said, f"decide fabrikam-fiber {hana} {at_work}")
    (kept, *reminders) = _messages_to(back, at_work)
    assert kept.startswith("  YOU KEEP ACCESS TO FABRIKAM-FIBER AFTER ALL\n")
    assert len(reminders) == 2 and all(m.startswith("  REMINDER: ") for m in reminders)
    assert "Sign in with your work account" in reminders[0]


def test_optional_items_are_offered_but_nobody_is_reminded_of_them_nor_held_open_at_complete(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    """Ann's list: sign in, clear the Git cache, then what the procedure makes conditional (SSH keys "if you
    use SSH", renaming her Microsoft account "if you don't want to be prompted"). An HTTPS-only user who
    did the first two is done, without pressing Done on the others."""
    typed = [*CONNECTED, ":as ann@fabrikam.com", ":dm done 1", ":dm done 2", ":dm todo"]
    typed += [":as dana@fabrikam.com", ":later 1w", "progress", ":billing", "check-billing", "complete"]
    said = _chat(runtime, typed, clock)

    ann = said[said.index("Ann <ann@fabrikam.com> in DM to aadbot:\n  done 2") :]
    assert "done. That was the last one: all done, thank you!" in ann[: ann.index("YOUR TO-DO LIST")]
    listed = ann[ann.index("YOUR TO-DO LIST FOR FABRIKAM-FIBER: 0 OF 2 OPEN, 2 OPTIONAL") :]
    assert "3. Re-add your SSH keys (if you use SSH) (optional: only if it applies to you)" in listed
    assert "4. Rename your personal Microsoft account (optional: only if it applies to you)" in listed
    week = _after(said, "(the clock moves on 7 days")
    reminded = set(re.findall(r"aadbot → DM to (\S+):\n  REMINDER: ", week))
    assert "lee@fabrikam.com" in reminded and "ann@fabrikam.com" not in reminded
    assert not re.search(r"\n  ann@fabrikam\.com +Ann .* \d+ of \d+ done", week)  # in no digest
    progress = said[said.index("PROGRESS OF FABRIKAM-FIBER") :]
    assert re.search(r"\n  Re-add your SSH keys \(if you use SSH\) \(optional\) +0 of \d+ ", progress)
    # Ann, and her two required items; Gus, whose only account is disabled, has one item in all
    assert "1 of 11 people done; 2 of 23 items done." in progress
    assert re.search(r"\n  ann@fabrikam\.com +2 of 2 +not yet", progress)
    closing = " ".join(said[said.index("NOT COMPLETED YET") :].split())
    still_open = closing[closing.index("items still open") : closing.index("• 9 people have not been seen")]
    assert "ann@fabrikam.com" not in still_open and "lee@fabrikam.com" in still_open


def test_the_later_summary_reads_well_for_one_day() -> None:
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    said = rehearsal.summary([], timedelta(days=1), monday)
    assert said == "(it is now Monday 30 November, 09:00 UTC, 1 day later: nothing for anyone)"


def test_billing_overdue_says_how_often_it_comes_and_no_longer_asks_for_the_month_end(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    said = _chat(runtime, [*CONNECTED, ":later 1w"], clock)

    overdue = _after(said, "OVERDUE: THE BILLING OF FABRIKAM-FIBER HAS NOT MOVED")
    words = " ".join(overdue[: overdue.index("[Check billing")].split())
    # it comes every two working days, not once "before" next month's end, and the month it asked for is over
    assert "that was 2026-11-30. Move it now; until it moves I remind you every 2 working days." in words
    assert "next before" not in words and "Before the month ends" not in words
    assert "not in Fabrikam. Until billing moves, what fabrikam-fiber already pays for keeps working" in words
    assert "buy or change its purchases. To move it: 1. Associate subscription" in words
