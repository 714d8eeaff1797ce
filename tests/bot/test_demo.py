"""`aadbot demo` plays the whole procedure; every stage must show in the transcript."""

from __future__ import annotations

import io

import pytest

from bot.cli import main
from bot.demo import run_demo


def test_the_demo_plays_every_stage_of_the_procedure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    transcript = out.getvalue().casefold()
    expected_in_order = [
        "No downtime",  # a question before anything starts
        "STARTED MOVING FABRIKAM-FIBER TO FABRIKAM",  # start
        "org-connection",  # prerequisite checks
        "PLAN FOR FABRIKAM-FIBER",  # the plan
        "Coming Friday ",  # the advance notice, one DM per user (with the day `Friday` names)
        "is for the organization's admins",  # a non-admin refused
        "erin.eng@gmail.com   sent",  # invitations
        "APPROVAL NEEDED",  # the approval prompt
        "another admin must approve",  # self-approval refused
        "Approved by Lee",  # approved by someone else
        "CONNECT FABRIKAM-FIBER TO FABRIKAM",  # the portal steps, by DM to the approver
        "Not connected yet",  # the watch before the portal step
        "is now connected",  # verification
        "YOUR TO-DO LIST",  # each user's DM
        "Recreate your personal access tokens",  # ...with their own case
        "BILLING FOR FABRIKAM-FIBER",  # billing
        "is already in Fabrikam",  # billing fixed
        "is complete",  # completion
        "== Summary",
    ]
    position = 0
    for phrase in expected_in_order:
        found = transcript.find(phrase.casefold(), position)
        assert found >= 0, f"{phrase!r} missing after position {position}"
        position = found
    assert "traceback" not in transcript
    assert "final stage       completed" in transcript
    told = next(line for line in transcript.splitlines() if line.startswith("direct messages"))
    count, people = told.removeprefix("direct messages   to ").split(" people: ")
    assert int(count) == len(people.split(", ")) == 11  # people, not addresses (walk 27, finding 11)
    assert "kim@fabrikam-old.com / kim@fabrikam.com" in people.split(", ")  # Kim once, by both


def test_aadbot_demo_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    assert "== Summary" in capsys.readouterr().out


def test_unusable_arguments_exit_2_with_the_reason_and_no_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["chat"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "--as" in error and "Traceback" not in error
