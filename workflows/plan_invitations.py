"""May the people without a directory account be invited as guests, and if not, why.

Two checks. `invite-permission` is the contract's (`shared/contracts/plan-and-scenario.md`): may the
connector invite, under the directory's guest invite setting (`allowInvitesFrom`) and their roles.
`app-invite-permission`, an extension listed after the contract's checks, is what the bot adds when its app
sends the invitations (client credentials): Microsoft judges the app by the setting alone, and refuses it
where only admins and Guest Inviters may invite.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from workflows.directory import DirectorySnapshot, DirectoryUser
from workflows.plan import Check, PlannedUser

INVITE_PERMISSION = "invite-permission"
APP_INVITE_PERMISSION = "app-invite-permission"
INVITATION_CHECKS = frozenset((INVITE_PERMISSION, APP_INVITE_PERMISSION))
"""The checks that fail when nobody the bot acts for may invite the people without a directory account:
they are about those people alone, so `request-approval ORG anyway` gets past them as it gets past their
missing invitations."""

INVITE_ROLES = frozenset(("guest inviter", "user administrator", "global administrator"))
"""The roles that may invite whatever the members may (the contract's `adminsAndGuestInviters`), folded."""

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
    """Whether one of `INVITATION_CHECKS` fails, and why (`InvitationBar`): nobody the bot acts for may
    invite the people without a directory account, so an invitation is no way in for them until the
    directory's settings, or (`rights`) who invites them, change. The one test of it."""
    for check in checks:
        if check.code in INVITATION_CHECKS and check.status == "fail":
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


def may_invite(policy: str, user: DirectoryUser | None, roles: Iterable[str]) -> bool:
    """The contract's rule: may this directory user invite guests under `policy` with `roles`? Someone
    absent or disabled cannot sign in to invite anyone; a Guest is not a member."""
    if user is None or not user.account_enabled:
        return False
    holds_role = not INVITE_ROLES.isdisjoint(role.casefold() for role in roles)
    if policy == "everyone":
        return True
    if policy == "adminsGuestInvitersAndAllMembers":
        return user.user_type.casefold() == "member" or holds_role
    if policy == "adminsAndGuestInviters":
        return holds_role
    return False  # `none`, or a setting Microsoft may add: nobody is known to be allowed


def invite_permission(
    snapshot: DirectorySnapshot, connector: str, user: DirectoryUser | None, users: tuple[PlannedUser, ...]
) -> Check:
    """`invite-permission`, the contract's rule for the connector, whoever sends the invitations."""
    needed = _needed(users)
    if needed == 0:
        return Check(INVITE_PERMISSION, "pass", "Nobody needs a guest invitation.")
    policy = snapshot.allow_invites_from
    users_need = _counted(needed, "user needs", "users need")
    if policy == "none":
        return Check(
            INVITE_PERMISSION,
            "fail",
            f"{users_need} a guest invitation, but the directory lets nobody invite guests, admins included"
            " (allowInvitesFrom: none).",
            fix=invitation_policy_fix(policy),
            policy=policy,
        )
    if user is None or not user.account_enabled:
        # connector-member fails too and says what to do: neither a role nor the setting would help
        state = "is not a user of" if user is None else "has a disabled account in"
        return Check(
            INVITE_PERMISSION,
            "fail",
            f"{users_need} a guest invitation but {connector} {state} the directory, so cannot invite"
            " anyone.",
            fix="Connect as an enabled Member of the directory (see connector-member).",
            policy=policy,
        )
    if may_invite(policy, user, snapshot.connector_roles):
        return Check(
            INVITE_PERMISSION,
            "pass",
            f"{connector} may invite the {_counted(needed, 'guest', 'guests')} needed"
            f" (allowInvitesFrom: {policy}).",
            policy=policy,
        )
    if snapshot.connector_roles_unread is not None:
        # the roles were read because they decide (`Graph._inviter_roles`): unread, the answer is unknown,
        # and reading them is what settles it (a Guest Inviter needs nothing else)
        reason, grant = snapshot.connector_roles_unread
        return Check(
            INVITE_PERMISSION,
            "fail",
            f"{users_need} a guest invitation, and I cannot tell whether {connector} may invite guests"
            f" (allowInvitesFrom: {policy}): the bot may not read their directory roles"
            f" ({reason.rstrip('.')}).",
            fix=f"Let the bot read directory roles: {grant.rstrip('.')}. Should {connector} hold none of"
            f" Guest Inviter, User Administrator or Global Administrator, give {_a_role(connector)}",
            policy=policy,
        )
    return Check(
        INVITE_PERMISSION,
        "fail",
        f"{users_need} a guest invitation but {connector} may not invite guests"
        f" (allowInvitesFrom: {policy}).",
        fix=f"Give {_a_role(connector)}",
        policy=policy,
    )


def _a_role(connector: str) -> str:
    """The fix when the connector's rights bar the invitations, after "give": a role that may invite, or
    a setting that lets them."""
    return (
        f"{connector} the Guest Inviter role (Microsoft Entra admin center > Roles & admins > Guest Inviter),"
        " or relax the guest invite settings (External Identities > External collaboration settings)."
    )


def app_invite_permission(snapshot: DirectorySnapshot, users: tuple[PlannedUser, ...]) -> Check:
    """`app-invite-permission`: may the bot's app send the invitations needed, when it sends them? Its
    rights are the setting's alone (the connector's roles play no part)."""
    needed = _needed(users)
    policy = snapshot.allow_invites_from
    if not snapshot.invites_as_app:
        return Check(
            APP_INVITE_PERMISSION,
            "pass",
            "Invitations go out as the signed-in person (AZURE_AUTH=device), not as the bot's app:"
            " invite-permission covers them.",
        )
    if needed == 0:
        return Check(APP_INVITE_PERMISSION, "pass", "Nobody needs a guest invitation from the bot's app.")
    users_need = _counted(needed, "user needs", "users need")
    if policy == "none":
        # invite-permission fails too, with the fix: said once there, so a blocked migration's fix is not
        # repeated word for word.
        return Check(
            APP_INVITE_PERMISSION,
            "fail",
            f"{users_need} a guest invitation, which the bot's app may not send either (allowInvitesFrom:"
            " none): invite-permission says what changes that.",
            policy=policy,
        )
    if policy in NO_APP_INVITES:
        return Check(
            APP_INVITE_PERMISSION,
            "fail",
            f"{users_need} a guest invitation, which the bot's app sends; Microsoft refuses "
            f"invitations from an app when allowInvitesFrom is {policy}.",
            fix=invitation_policy_fix(policy),
            policy=policy,
        )
    return Check(
        APP_INVITE_PERMISSION,
        "pass",
        f"The bot's app may send the {_counted(needed, 'invitation', 'invitations')} needed"
        f" (allowInvitesFrom: {policy}).",
        policy=policy,
    )


def _needed(users: tuple[PlannedUser, ...]) -> int:
    return sum(1 for user in users if user.outcome == "invite")


def _counted(count: int, one: str, many: str) -> str:
    """`1 user needs`, `3 users need`: the count with the words that agree with it."""
    return f"{count} {one if count == 1 else many}"
