"""Getting people ready before the connection: `invite`, `announce`, an admin's `decide` for someone the
plan cannot place, and `stale-users` / `remove-users` for those who left."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from bot.conversation import announcement_views, decision_views, invitation_views, removal_views
from bot.conversation.closing_views import CONFIRM
from bot.conversation.commands import Command
from bot.conversation.dates import day_and_time
from bot.conversation.desk import Handler, Stage, number
from bot.conversation.messages import Outgoing, tell_privately
from bot.conversation.plan_views import UNDECIDED_FLAG
from bot.conversation.progress_line import REPLY_SAYS_WHY, ProgressLine
from bot.conversation.quoting import untick
from storage import AuditEntry
from workflows.directory import OrgUser
from workflows.errors import WorkflowError
from workflows.results import BOT, Actor
from workflows.stages.removal import why_not_removable

STALE_FLAG = "--stale"
LIST_FLAG = "--list"
MAX_DAYS = 36_500

_DECIDE_USAGE = (
    "Say `decide [ORG] PERSON ACCOUNT`: their Azure DevOps address and the sign-in name of the account that"
    " is theirs (or `no-access`), e.g. `decide hana@contoso.com hana.hart@fabrikam.com`; `plan` lists them."
)
REMOVE_USAGE = (
    "Say `remove-users ORG USER_ID...` with the ids listed by `stale-users`; I ask before removing anyone."
)


class Preparing(Stage):
    """What Microsoft puts before connecting: guests invited, users told, decisions made, leavers gone."""

    def handlers(self) -> dict[str, Handler]:
        return {
            "invite": self._invite,
            "announce": self._announce,
            "decide": self._decide_account,
            "stale-users": self._stale_users,
            "remove-users": self._remove_users,
        }

    def _invite(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        # in a channel the reply, with each person's result, goes to the admin alone (`invited`); in a
        # direct message it is right below the line
        asked = actor.name or actor.email
        why = f"I send why to {asked} alone" if channel is not None else REPLY_SAYS_WHY
        line = ProgressLine(self._desk.outbox, command.reply_to, why=why)
        result = self._desk.service.invite(command.arg(0), actor, line)
        answer = invitation_views.invited(result, self._desk.told(result.status), shared=channel is not None)
        if channel is None or line.shown:  # the progress line's last version says how many
            return answer
        return [*invitation_views.invited_in_channel(result, actor, channel), *answer]

    def _announce(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        organization = self._desk.named_organization(command)
        if organization is None and command.args:
            self._desk.refuse_misspelled(command, "announced nothing")
        when = command.args[1:] if organization else command.args
        result = self._desk.service.announce(organization, actor, " ".join(when))
        return [*announcement_views.announced(result, shared=channel is not None), *self._desk.outbox.flush()]

    def _decide_account(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`decide [ORG] PERSON ACCOUNT`, typed, or a button (under `plan`, or on a word to the admins) that
        only decides for someone nobody decided for yet (`UNDECIDED_FLAG`)."""
        args = command.args
        pressed = len(args) == 4 and args[-1] == UNDECIDED_FLAG
        if pressed:
            args = args[:-1]
        if len(args) not in (2, 3):
            raise WorkflowError(_DECIDE_USAGE)
        if len(args) == 2 and self._desk.named_organization(command) is not None:
            raise WorkflowError(f"Whose account, and which one? {_DECIDE_USAGE}")  # `decide ORG PERSON`
        organization = args[0] if len(args) == 3 else None
        person, choice = args[-2:]
        result = self._desk.service.decide_account(organization, person, choice, actor, undecided=pressed)
        told = self._desk.told(result.status)
        answers = decision_views.account_decided_answers(result, told, shared=channel is not None)
        return [*answers, *self._desk.outbox.flush()]

    def _stale_users(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        organization, days = _organization_and_days(command)
        if organization is not None and days is None and self._desk.named_organization(command) is None:
            raise WorkflowError(
                f"`{organization}` is neither a migration I know nor a number of days, so I listed nobody."
                f" {STALE_USAGE} `status` names the migrations."
            )
        status = self._desk.service.status(organization)
        users = self._removable_stale_users(status.organization, days)
        return [removal_views.stale_users(status, users, days, list_fingerprint(users))]

    def _removable_stale_users(self, organization: str, days: int | None) -> list[OrgUser]:
        """Stale users but the owner and administrators, whom a removal never touches."""
        admins = set(self._desk.service.approver_emails(organization, exclude=BOT))
        return [
            user
            for user in self._desk.service.stale_users(organization, days)
            if not {user.principal_name.casefold(), user.mail_address.casefold()} & admins
        ]

    def _remove_users(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`remove-users ORG ID...` typed, or the button under `stale-users`: that very list, unchanged."""
        if len(command.args) < 2:
            raise WorkflowError(REMOVE_USAGE)
        organization, *rest = command.args
        if rest[0] != STALE_FLAG:
            return self._remove_typed(actor, organization, command, channel)
        if len(rest) != 4 or rest[2] != LIST_FLAG or not rest[1].isdecimal():
            raise WorkflowError("Use the *Remove* button under `stale-users`, or `remove-users ORG ID...`.")
        days = number(rest[1], "", maximum=MAX_DAYS)
        status = self._desk.service.status(organization)
        if not _LIST_ID.fullmatch(rest[3]):  # no list was ever shown with it: a typo, not a change
            raise WorkflowError(
                f"I know no list `{untick(rest[3])}`, so I removed nobody. Press the button under"
                f" `stale-users {status.organization}`, which names its list, or say `remove-users"
                f" {status.organization} USER...`."
            )
        users = self._removable_stale_users(status.organization, days)
        fingerprint = list_fingerprint(users)
        if fingerprint != rest[3]:
            removal = self._removal_of(status.organization, users, rest[3])
            if removal is not None:  # its button pressed again, or by a second admin
                who = removal.actor_name or removal.actor_email
                raise WorkflowError(
                    f"Already removed, by {who} on {day_and_time(removal.at)}: nobody was left to remove"
                    f" from that list. `stale-users {status.organization}` lists whoever is stale now."
                )
            changed = tell_privately(
                "The list changed since it was shown (someone signed in, or was removed), so I removed"
                " nobody. Here it is as it stands now."
            )
            return [changed, removal_views.stale_users(status, users, days, fingerprint)]
        ids = [user.id for user in users]
        return [self._removed(status.organization, ids, actor, command, channel)]

    def _removal_of(self, organization: str, users: Sequence[OrgUser], shown: str) -> AuditEntry | None:
        """The removal that took the people of the list `shown` (its fingerprint) away, leaving `users`: the
        newest `remove-users` whose ids, with those still stale, make that list again."""
        still = {user.id for user in users}
        for entry in reversed(self._desk.service.audit_trail(organization)):
            taken = {str(user_id) for user_id in entry.details.get("user_ids", ())}
            if entry.action == "remove_users" and _ids_fingerprint(still | taken) == shown:
                return entry
        return None

    def _removed(
        self, organization: str, user_ids: list[str], actor: Actor, command: Command, channel: str | None
    ) -> Outgoing:
        line = ProgressLine(self._desk.outbox, command.reply_to)
        result = self._desk.service.remove_users(organization, user_ids, actor, line)
        return removal_views.removed(result, self._desk.told(result.status), shared=channel is not None)

    def _remove_typed(
        self, actor: Actor, organization: str, command: Command, channel: str | None
    ) -> list[Outgoing]:
        """`remove-users ORG ID...`: it takes access at once, so typed ids too are removed once confirmed."""
        user_ids = typed_user_ids(command)
        if command.args[-1] == CONFIRM:
            return [self._removed(organization, user_ids, actor, command, channel)]
        status = self._desk.service.status(organization)
        if (why := why_not_removable(status.state, status.organization)) is not None:
            raise WorkflowError(why)  # before asking to confirm what would be refused
        users = self._desk.service.plan(status.organization).users
        wanted = self._desk.service.removable(status.organization, users, user_ids)
        names = {user.id: user.principal_name for user in users}
        return [removal_views.confirm_removal(status.organization, wanted, names)]


def typed_user_ids(command: Command) -> list[str]:
    """The ids of `remove-users ORG ID... [confirm]`, at least one."""
    ids = list(command.args[1:])
    ids = ids[:-1] if ids and ids[-1] == CONFIRM else ids
    if not ids:
        raise WorkflowError(REMOVE_USAGE)
    return ids


_LIST_ID = re.compile("[0-9a-f]{16}")
"""What `list_fingerprint` gives."""


def list_fingerprint(users: Sequence[OrgUser]) -> str:
    """Stands for exactly these users: a button carries it instead of thousands of ids."""
    return _ids_fingerprint({user.id for user in users})


def _ids_fingerprint(ids: set[str]) -> str:
    joined = "\n".join(sorted(ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


STALE_USAGE = (
    "Say `stale-users [ORG] [DAYS]` with a whole number of days, 1 or more, without a sign-in, e.g."
    " `stale-users 120` (90 if you leave it out)."
)


def _organization_and_days(command: Command) -> tuple[str | None, int | None]:
    """`stale-users [ORG] [DAYS]`: a lone word is the organization unless it is a number (signed ones too:
    `-5` is a mistaken number of days, not the name of a migration)."""
    if not command.args:
        return None, None
    if len(command.args) == 1 and not command.args[0].lstrip("+-").isdigit():
        return command.args[0], None
    organization, days = (None, *command.args) if len(command.args) == 1 else command.args[:2]
    if not days.isdecimal():
        raise WorkflowError(f"`{days}` is not a number of days. {STALE_USAGE}")
    return organization, number(days, "", maximum=MAX_DAYS)
