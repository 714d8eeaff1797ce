"""N approvers in Teams, through the real `aadbot serve`: after each approval the approvers still to decide
keep Approve/Reject (on their own copies as sent, in the channel through `refresh.userIds`), everyone else
reads "Approved by X, waiting for N more"."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sandbox import Sandbox
from sandbox._scenario import parse_scenario
from tests.teams.conftest import ORGANIZATION, actions_of, latest_card, texts
from tests.teams.serving import teams_serve

DANA, LEE, ANN, CAROL, IVAN = (f"{name}@fabrikam.com" for name in ("dana", "lee", "ann", "carol", "ivan"))
APPROVERS = (LEE, ANN, CAROL)


def test_three_approvers_each_keep_their_buttons_until_they_decide(
    fabrikam: dict[str, Any], tmp_path: Path, sqlite_template: Path
) -> None:
    fabrikam["organization"]["project_collection_administrators"] = [DANA, *APPROVERS]
    with (
        Sandbox(parse_scenario(fabrikam)) as box,
        teams_serve(
            box,
            tmp_path,
            environment={"AADBOT_APPROVERS_REQUIRED": "3"},
            migrated=sqlite_template,
            execs=True,  # Teams alone, as an operator starts it (tests/teams/serving.py)
        ) as teams,
    ):
        users = {u["userPrincipalName"]: u["id"] for u in box.state()["tenant"]["users"]}
        teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
        teams.say(DANA, f"invite {ORGANIZATION}")
        before = len(teams.activities())
        teams.say(DANA, f"request-approval {ORGANIZATION}")

        def prompts_in(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                e
                for e in log[before:]
                if e["op"] == "send"
                and str(e.get("summary")).startswith("Approval #1 needed")  # not whom it affects
            ]

        prompts = prompts_in(teams.wait_for("the prompts", lambda log: len(prompts_in(log)) == 4))
        channel = next(e["id"] for e in prompts if e["conversation"]["conversationType"] == "channel")
        personal = {e["conversation"]["user"]: e["id"] for e in prompts if e["conversation"]["user"]}
        assert set(personal) == set(APPROVERS)

        def refreshed_for() -> set[str]:
            return set(teams.card(channel)["refresh"]["userIds"])

        assert refreshed_for() == {f"8:orgid:{users[upn]}" for upn in APPROVERS}
        for upn in (DANA, IVAN):
            assert teams.titles(upn, channel) == []  # the requester and a bystander: read-only

        def as_sent(prompt: str) -> set[str]:
            """The titles on the copy as Teams holds it (what a client without refresh shows)."""
            return {action["title"] for action in actions_of(teams.card(prompt))}

        assert all({"Approve", "Reject"} <= as_sent(personal[upn]) for upn in APPROVERS)

        def everywhere(words: str) -> None:
            teams.wait_for(
                words,
                lambda log: all(
                    words in texts({"attachments": [latest_card(log, prompt)]})
                    for prompt in (channel, *personal.values())
                ),
            )

        first = teams.click(LEE, channel, "Approve")
        assert first.status_code == 200 and first.json()["status"] == 200
        answer = first.json()["body"]["value"]
        assert "Approved by Lee Admin (1 of 3), waiting for 2 more" in texts({"attachments": [answer]})
        assert actions_of(answer) == []  # Lee decided: no buttons for him
        everywhere("waiting for 2 more")  # every copy says so
        assert refreshed_for() == {f"8:orgid:{users[ANN]}", f"8:orgid:{users[CAROL]}"}
        assert teams.titles(LEE, channel) == []  # Lee decided: read-only now
        assert teams.titles(IVAN, channel) == []
        assert as_sent(personal[LEE]) == set()  # his own copy, updated: he decided
        for upn in (ANN, CAROL):
            assert {"Approve", "Reject"} <= as_sent(personal[upn])
            assert {"Approve", "Reject"} <= set(teams.titles(upn, channel))
            assert {"Approve", "Reject"} <= set(teams.titles(upn, personal[upn]))

        second = teams.click(ANN, personal[ANN], "Approve")
        assert second.json()["status"] == 200
        everywhere("waiting for 1 more")
        assert refreshed_for() == {f"8:orgid:{users[CAROL]}"}
        assert teams.titles(ANN, channel) == [] and teams.titles(LEE, personal[LEE]) == []
        assert {"Approve", "Reject"} <= set(teams.titles(CAROL, channel))

        third = teams.click(CAROL, channel, "Approve")
        assert third.json()["status"] == 200
        everywhere("Approved by Carol")
        # the channel's copy as everyone there sees it; a personal copy as its one reader does
        readers = {channel: (*APPROVERS, DANA), **{prompt: (upn,) for upn, prompt in personal.items()}}
        for prompt, who in readers.items():
            card = teams.card(prompt)
            assert "Approved by Carol" in texts({"attachments": [card]}) and "refresh" not in card
            assert all(teams.titles(upn, prompt) == [] for upn in who)


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def test_the_channels_prompt_names_nobody_after_every_copy_and_each_approvers_names_were_posted(
    fabrikam: dict[str, Any], tmp_path: Path, sqlite_template: Path
) -> None:
    """Teams keeps every copy of a prompt equal: the approvers' copies, posted after the channel's, must not
    put the names (people's addresses) back on the channel's card; each approver has them in a message of
    its own, until the approval is settled."""
    fabrikam["organization"]["project_collection_administrators"] = [DANA, *APPROVERS]
    with (
        Sandbox(parse_scenario(fabrikam)) as box,
        teams_serve(box, tmp_path, migrated=sqlite_template, execs=True) as teams,
    ):
        teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
        teams.say(DANA, f"invite {ORGANIZATION}")
        before = len(teams.activities())
        teams.say(DANA, f"request-approval {ORGANIZATION}")

        def sent(log: list[dict[str, Any]], summary: str) -> list[dict[str, Any]]:
            return [
                e for e in log[before:] if e["op"] == "send" and str(e.get("summary")).startswith(summary)
            ]

        log = teams.wait_for(
            "every copy and whom it affects",
            lambda log: len(sent(log, "Approval #1 needed")) == 4 and len(sent(log, "Who approval #1")) == 3,
        )
        (channel,) = [e["id"] for e in sent(log, "Approval #1 needed") if not e["conversation"]["user"]]
        assert EMAIL.findall(texts({"attachments": [latest_card(log, channel)]})) == []
        whom = {e["conversation"]["user"]: texts(e) for e in sent(log, "Who approval #1")}
        assert set(whom) == set(APPROVERS) and all(EMAIL.search(names) for names in whom.values())

        # each approver's card of names keeps its buttons (*Tell users what is coming*), for them alone: as
        # sent, in their own personal chat, which nobody else reads
        named = [e["id"] for e in sent(log, "Who approval #1")]
        by_approver = {e["conversation"]["user"]: e["id"] for e in sent(log, "Who approval #1")}
        assert {upn: teams.titles(upn, card) for upn, card in by_approver.items()} == {
            upn: ["Yes, tell users what is coming"] for upn in APPROVERS
        }
        assert {e["conversation"]["conversationType"] for e in sent(log, "Who approval #1")} == {"personal"}

        # settled, each approver's card of names is updated in place to the rejection, naming nobody
        teams.say(LEE, "reject 1 wait for release")

        def settled(log: list[dict[str, Any]]) -> list[str]:
            return [texts({"attachments": [latest_card(log, card)]}) for card in named]

        log = teams.wait_for(
            "every card of names settled",
            lambda log: all("Who approval #1 affected" in card for card in settled(log)),
        )
        assert len(sent(log, "Who approval #1")) == 3  # updated, none posted again
        for card in settled(log):
            assert "🚫 Rejected by Lee Admin on " in card and "Reason: wait for release" in card
            assert EMAIL.findall(card) == []
