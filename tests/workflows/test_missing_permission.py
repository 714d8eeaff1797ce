"""A permission the credentials lack stops the step at once, names itself and its fix, and loses nothing."""

from __future__ import annotations

from sqlmodel import select

from storage import Database, Invitation
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.fakes import FakeMicrosoft
from workflows.directory import MissingPermission
from workflows.results import Actor
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY


def test_invitations_without_user_invite_all_stop_at_the_first_and_name_the_permission(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.invite_refusal = MissingPermission(
        "Microsoft Graph refused inviting bob@outlook.com (HTTP 403): the app registration lacks the "
        "Microsoft Graph application permission User.Invite.All.",
        permission="User.Invite.All",
        fix="App registrations > API permissions > User.Invite.All, then Grant admin consent",
    )
    result = service.invite(None, dana)
    assert result.denied and result.status.state == "waiting_for_invite_settings"
    assert "User.Invite.All" in result.message and "Grant admin consent" in result.message
    assert "External collaboration" not in result.message  # not the policy's fix
    assert microsoft.calls["invite_guest"] == 1  # stopped at the first, not once per user
    microsoft.invite_refusal = None
    again = service.invite(None, dana)
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]
    assert again.status.state == "planned"
    with database.session() as session:
        assert {row.status for row in session.exec(select(Invitation)).all()} == {"sent"}
