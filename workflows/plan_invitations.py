"""`invite-permission`: may the people without a directory account be invited as guests, and if not, why.

Whoever the bot acts for (its app, or the connector) must be allowed by the directory's guest invite
setting (`allowInvitesFrom`) and, for a person, by their roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from workflows.directory import DirectorySnapshot, DirectoryUser
from workflows.plan import Check, PlannedUser

_INVITE_ROLES = frozenset(("guest inviter", "user administrator", "global administrator"))


NO_APP_INVITES = ("adminsAndGuestInviters", "none")
"""invitation-post.md: app-only invitations fail when invitations are disabled or limited to admins."""

_GUEST_INVITE_SETTINGS = (
    "In the Microsoft Entra admin center open External Identities > External collaboration settings > Guest"
    " invite settings and choose 'Member users and users assigned to specific admin roles can invite'"
)


InvitationBar = Literal["", "rights", "setting"]
"""What keeps the people without a directory account from being invited: nothing; the rights of whoever
the bot acts for (someone allowed to invite guests, a Guest Inviter, still could); or the directory's
setting, which lets nobody invite guests, admins included (allowInvitesFrom: none)."""


def invitation_bar(checks: Iterable[Check]) -> InvitationBar:
    """Whether `invite-permission` fails, and why (`InvitationBar`): nobody the bot acts for may invite the
    people without a directory account, so an invitation is no way in for them until the directory's
    settings, or (`rights`) who invites them, change. The one test of it."""
    for check in checks:
        if check.code == "invite-permission" and check.status == "fail":
            return "setting" if check.policy == "none" else "rights"
    return ""


def invitation_policy_fix(policy: str) -> str:
    """What lets the invitations out when the directory's policy refuses the bot's app (`NO_APP_INVITES`)."""
    if policy == "none":
        # authorizationpolicy.md: `none` prevents everyone from inviting, admins included, so neither a
        # role nor the portal helps: only the setting does.
        return (
            f"{_GUEST_INVITE_SETTINGS}. Under 'No one in the organization can invite guest users' nobody can"
            " invite them, admins included, not even in the portal."
        )
    return (
        f"{_GUEST_INVITE_SETTINGS}; or have a Guest Inviter run `aadbot signin` and set AZURE_AUTH=device;"
        " or have a Guest Inviter invite them by hand (Users > All users > New user > Invite external user)."
    )


def invite_permission(
    snapshot: DirectorySnapshot, connector: str, user: DirectoryUser | None, users: tuple[PlannedUser, ...]
) -> Check:
    needed = sum(1 for user in users if user.outcome == "invite")
    if needed == 0:
        return Check("invite-permission", "pass", "Nobody needs a guest invitation.")
    policy = snapshot.allow_invites_from
    users_need = _counted(needed, "user needs", "users need")
    if policy == "none":
        return Check(
            "invite-permission",
            "fail",
            f"{users_need} a guest invitation, but the directory lets nobody invite guests, admins included"
            " (allowInvitesFrom: none).",
            fix=invitation_policy_fix(policy),
            policy=policy,
        )
    if snapshot.invites_as_app:  # the app sends them: whose rights count is the app's, not the connector's
        if policy in NO_APP_INVITES:
            return Check(
                "invite-permission",
                "fail",
                f"{users_need} a guest invitation, which the bot's app sends; Microsoft refuses "
                f"invitations from an app when allowInvitesFrom is {policy}.",
                fix=invitation_policy_fix(policy),
                policy=policy,
            )
        return Check(
            "invite-permission",
            "pass",
            f"The bot's app may send the {_counted(needed, 'invitation', 'invitations')} needed"
            f" (allowInvitesFrom: {policy}).",
            policy=policy,
        )
    roles = {role.casefold() for role in snapshot.connector_roles}
    holds_role = bool(roles & _INVITE_ROLES)
    if user is None or not user.account_enabled:
        allowed = False
    elif policy == "everyone":
        allowed = True
    elif policy == "adminsGuestInvitersAndAllMembers":
        allowed = user.user_type.casefold() == "member" or holds_role
    elif policy == "adminsAndGuestInviters":
        allowed = holds_role
    else:
        allowed = False
    if allowed:
        return Check(
            "invite-permission",
            "pass",
            f"{connector} may invite the {_counted(needed, 'guest', 'guests')} needed"
            f" (allowInvitesFrom: {policy}).",
            policy=policy,
        )
    return Check(
        "invite-permission",
        "fail",
        f"{users_need} a guest invitation but {connector} may not invite guests "
        f"(allowInvitesFrom: {policy}).",
        fix=f"Give {connector} the Guest Inviter role (Microsoft Entra admin center > Roles & admins > Guest"
        " Inviter), or relax the guest invite settings (External Identities > External collaboration"
        " settings).",
        policy=policy,
    )


def _counted(count: int, one: str, many: str) -> str:
    """`1 user needs`, `3 users need`: the count with the words that agree with it."""
    return f"{count} {one if count == 1 else many}"
