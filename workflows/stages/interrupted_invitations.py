"""An invitation cut off by the process dying (kill -9, SIGTERM) between Microsoft's answer and its record.

Each address is claimed (`pending`) before Microsoft is asked, so a resumed `invite` finds the guest in
the directory and never invites twice. One who still has to accept (Graph's `externalUserState` is
`PendingAcceptance`) got their invitation email from that cut-off call, but its link to accept
(`inviteRedeemUrl`, see `redeem_links`) was never stored, and Graph returns it only in answer to
`POST /invitations`. Inviting an existing guest again answers with a new link, and with
`sendInvitationMessage: false` Microsoft mails nothing (https://learn.microsoft.com/graph/api/invitation-post,
https://learn.microsoft.com/entra/external-id/reset-redemption-status): so the person gets their link and
still one email. A guest who has accepted needs no link and stays `found`.
"""

from __future__ import annotations

from storage import Invitation
from workflows.directory import DirectoryUser, InvitePermissionDenied, MicrosoftError, MissingPermission
from workflows.results import Actor, InvitationOutcome
from workflows.stages.unit import Unit, commit, note

RECOVERED = "invited before the interruption; link recovered"

_UNFETCHED = "invited before the interruption; its link could not be fetched"


def _asked_unanswered(claim: Invitation) -> bool:
    """Whether Microsoft was asked for this claim's invitation and the answer never recorded: the process
    died waiting (`pending`), or this module's own fetch of the link failed. Any other `failed` claim had
    an answer (Graph refused it, say), so a guest found since was invited by someone else (an admin in the
    portal) and is theirs: a link-only call on their invitation would be recorded as ours."""
    return claim.status == "pending" or (
        claim.status == "failed" and (claim.result or "").startswith(_UNFETCHED)
    )


def recover_link(
    unit: Unit, claim: Invitation, existing: DirectoryUser, email: str, redirect_url: str, actor: Actor
) -> InvitationOutcome | None:
    """The outcome for a guest this step invited without recording it, with their new link stored;
    None for anyone else (`invite` records them `found`)."""
    if not _asked_unanswered(claim) or not existing.invitation_pending:
        return None
    row = unit.row
    try:
        invitation = unit.ctx.microsoft.invite_guest(
            row.tenant_id,
            email=email,
            display_name=claim.display_name,
            message="",  # no email goes out: they have Microsoft's first one
            redirect_url=redirect_url,
            inviter=actor.email,
            send_email=False,
        )
    except (InvitePermissionDenied, MicrosoftError) as error:
        # Still `failed`, so the next `invite` asks for the link again rather than forgetting it.
        claim.updated_at = unit.ctx.now()
        claim.status = "failed"
        claim.result = f"{_UNFETCHED}: {error}"
        claim.invited_user_id = existing.id
        commit(unit)
        if isinstance(error, MissingPermission):
            raise
        return InvitationOutcome(email, claim.display_name, "failed", claim.result)
    claim.updated_at = unit.ctx.now()
    claim.status, claim.result = "sent", RECOVERED
    claim.invited_user_id = invitation.invited_user_id or existing.id
    claim.redeem_url = invitation.redeem_url
    note(unit, actor, "invitation_link_recovered", {"email": claim.email})  # never the link: a credential
    commit(unit)
    return InvitationOutcome(email, claim.display_name, "sent", RECOVERED)
