from __future__ import annotations

import argparse
import io
import json
import logging

import pytest

from bot.cli import main
from faq.commands import register

CONTRACT_KEYS = {"topic", "score", "answer", "alternatives"}


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="aadbot")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


def test_ask_json_prints_one_contract_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["ask", "will there be downtime during the switch?", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    data = json.loads(out)
    assert set(data) >= CONTRACT_KEYS
    assert data["topic"] == "downtime" and isinstance(data["alternatives"], list)


def test_ask_without_json_prints_the_readable_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["ask", "how do I clear the git credential manager cache"]) == 0
    out = capsys.readouterr().out
    assert "git-credential-manager azure-repos clear-cache" in out
    assert not out.lstrip().startswith("{")


@pytest.mark.parametrize(
    "question",
    [
        "what's the weather in Lisbon tomorrow",
        "How do I set up branch policies on my repo?",
        "Здравствуйте! При приглашении пользователя получаю ошибку 403, что делать?",
    ],
)
def test_unknown_question_prints_null_topic_with_its_closest_topics(
    question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The contract: when `topic` is null, `answer` "offers the closest topics as suggestions" (rev75).
    assert _run(["ask", question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= CONTRACT_KEYS and data["topic"] is None and data["alternatives"]
    assert "Sorry" in data["answer"] and "To reach a person" in data["answer"]


@pytest.mark.parametrize("question", ["what's the weather in Lisbon tomorrow", "who are you?"])
def test_the_command_line_points_to_help_in_chat_where_it_is_typed(
    question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["ask", question]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Type `help`" not in out
    assert "In chat with me (Slack or Teams), `help` shows what you can do" in out


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_batch_mode_answers_each_stdin_line_on_one_json_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(
        monkeypatch, b"do I need new PATs?\n\n\xff\xfe\x00 binary junk\nwho can connect the org to entra?\n"
    )
    assert _run(["ask", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    answers = [json.loads(line) for line in lines]
    assert all(set(answer) >= CONTRACT_KEYS for answer in answers)
    assert answers[0]["topic"] == "regenerate-pat" and answers[1]["topic"] is None
    assert answers[3]["topic"] == "who-can-connect"


def test_batch_mode_text_is_one_line_per_question(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, b"is there downtime?\nhow do I fork a repo\n")
    assert _run(["ask"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[downtime ") and lines[1].startswith("[unknown ")


def test_ask_inside_a_migration_takes_the_question_to_be_about_the_move(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(["ask", "are pipelines impacted?", "--json"]) == 0
    outside = json.loads(capsys.readouterr().out)
    assert _run(["ask", "are pipelines impacted?", "--json", "--migration", "fabrikam"]) == 0
    inside = json.loads(capsys.readouterr().out)
    assert outside["topic"] is None and inside["topic"] == "what-is-kept"
    assert set(inside) == set(outside) >= CONTRACT_KEYS  # the contract's shape, whatever the options
    assert "dev.azure.com/fabrikam" in inside["answer"] or "content stays" in inside["answer"]


def test_ask_refuses_a_migration_that_cannot_be_an_organization_naming_the_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _run(["ask", "what happens to my pipelines?", "--migration", "no such!"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "`no such!` is not an Azure DevOps organization name" in error
    assert "https://dev.azure.com/NAME" in error and "Traceback" not in error


def test_ask_answers_the_askers_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["ask", "do I need new PATs?", "--json", "--case", "switch"]) == 0
    switching = json.loads(capsys.readouterr().out)
    assert _run(["ask", "do I need new PATs?", "--json", "--case", "first"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert switching["topic"] == first["topic"] == "regenerate-pat"
    assert switching["answer"] != first["answer"]
    with pytest.raises(SystemExit):
        _run(["ask", "do I need new PATs?", "--case", "sideways"])


@pytest.mark.parametrize("data", [b"", b"  \n\n\t\n"], ids=["nothing", "blank lines"])
def test_stdin_without_a_question_says_so_and_how_to_ask(
    data: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `aadbot ask --json </dev/null` printed nothing and exited 0: no answer, and no word of why.
    # The FAQ contract: empty input gets a normal reply and `ask` exits 0; this one says what was missing.
    _stdin(monkeypatch, data)
    assert _run(["ask"]) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "No question given: ask one as an argument" in out  # one answer, one line
    assert "no question given" in err and 'aadbot ask "' in err and "one per line on stdin" in err
    _stdin(monkeypatch, data)
    assert _run(["ask", "--json"]) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "no question given" in err
    reply = json.loads(out)  # still the reply to empty input, for a reader that parses stdout
    assert set(reply) >= CONTRACT_KEYS and reply["topic"] is None and reply["alternatives"]
    assert reply["answer"].startswith("No question given: ask one as an argument")


def test_blank_lines_before_a_question_are_answered_in_their_places(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, b"\n  \nis there downtime?\n\n")
    assert _run(["ask", "--json"]) == 0
    topics = [json.loads(line)["topic"] for line in capsys.readouterr().out.splitlines()]
    assert topics == [None, None, "downtime", None]


@pytest.mark.parametrize("question", ["   ", ""])
def test_a_blank_question_given_as_the_argument_gets_the_normal_reply(
    question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The contract: empty input gets a normal reply, and `ask "QUESTION" --json` one object and exit 0.
    assert _run(["ask", question, "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["topic"] is None and "ask me a question" in reply["answer"]


@pytest.mark.parametrize(
    "question",
    [
        "my password is correct horse battery staple and git push fails with 401",
        "git push fails, password: hunter two 2. do I need a new PAT?",
        "my password is Hunter2x and the weather is nice",
    ],
)
def test_a_password_in_the_question_reaches_no_output_and_no_log(
    question: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets = ("horse battery", "hunter two", "Hunter2x")
    with caplog.at_level(logging.DEBUG):
        for argv in (["ask", question], ["ask", question, "--json"], ["ask"], ["ask", "--json"]):
            _stdin(monkeypatch, question.encode() + b"\n")
            assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out and not any(secret in out + err + caplog.text for secret in secrets)
