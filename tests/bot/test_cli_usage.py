"""`aadbot COMMAND` with an option the command does not know: the command's own usage, exit 2."""

from __future__ import annotations

import pytest

from tests.fakes.cli import Aadbot


@pytest.mark.parametrize(
    ("argv", "usage", "unknown"),
    [
        (("ask", "--bogus"), "usage: aadbot ask ", "--bogus"),
        (("ask", "what", "is", "a", "guest"), "usage: aadbot ask ", "is a guest"),
        (
            ("plan", "--scenario", "s.json", "--connector", "a@b.c", "--bogus"),
            "usage: aadbot plan ",
            "--bogus",
        ),
    ],
)
def test_an_unknown_option_is_refused_with_the_command_s_usage(
    aadbot: Aadbot, argv: tuple[str, ...], usage: str, unknown: str
) -> None:
    done = aadbot(*argv)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(usage), done.stderr
    command = argv[0]
    assert done.stderr.endswith(f"aadbot {command}: error: unrecognized arguments: {unknown}\n")


def test_no_command_is_still_refused_with_the_top_level_usage(aadbot: Aadbot) -> None:
    done = aadbot()
    assert done.returncode == 2 and done.stderr.startswith("usage: aadbot [-h] COMMAND ...")


def test_an_unknown_option_before_the_command_is_refused_with_the_top_level_usage(aadbot: Aadbot) -> None:
    """`aadbot --bogus ask ...`: the top level, which knows only --help, did not understand it, not `ask`."""
    done = aadbot("--bogus", "ask", "what is a guest")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("usage: aadbot [-h] COMMAND ..."), done.stderr
    assert done.stderr.endswith("aadbot: error: unrecognized arguments: --bogus\n"), done.stderr


def test_with_unknown_options_on_both_sides_the_top_level_names_only_its_own(aadbot: Aadbot) -> None:
    done = aadbot("--early", "ask", "--late")
    assert done.returncode == 2
    assert done.stderr.endswith("aadbot: error: unrecognized arguments: --early\n"), done.stderr
