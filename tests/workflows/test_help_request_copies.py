"""Where the admins hear someone's words: a channel, which people other than admins read, never names who
spoke nor what they asked (walk39 b); an admin's direct message does, with the directory account chat reaches
them at (`reach`), to write to them there."""

from __future__ import annotations

from sqlmodel import select

from storage import Database, OutboundMessage
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.fakes import FakeClock
from workflows.help_requests import HELP_MESSAGE, HelpRequests
from workflows.results import Actor
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY

KIM = Actor(id="U-KIM", email="kim@fabrikam.com", name="Kim")
LISTED = "kim@fabrikam-old.com"
"""The address Azure DevOps lists Kim under, before she was mapped by hand to kim@fabrikam.com."""


def test_the_channel_copy_names_nobody_and_a_direct_message_says_where_chat_reaches_them(
    service: MigrationService, database: Database, dana: Actor, clock: FakeClock
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    requests = HelpRequests(database, clock)
    asked = requests.ask_admins(
        service.status("fabrikam"),
        KIM,
        LISTED,
        "When is the change?",
        ["channel:C-ADMINS", "dana@fabrikam.com"],
    )
    assert asked
    with database.session() as session:
        copies = session.exec(select(OutboundMessage).where(OutboundMessage.kind == HELP_MESSAGE)).all()
        shown = {copy.recipient: copy.payload for copy in copies}
    channel, dana_s = shown["channel:C-ADMINS"], shown["dana@fabrikam.com"]
    assert not {"name", "email", "reach", "question"} & set(channel)
    assert (channel["withheld"], channel["sent_privately"]) == ("question", True)
    assert (dana_s["email"], dana_s["reach"], dana_s["question"]) == (
        LISTED,
        KIM.email,
        "When is the change?",
    )
