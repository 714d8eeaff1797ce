"""Whoever is stuck: `help` for the next steps, `ask` for the FAQ, and the two ways a person's question
reaches the admins (`need-help` on an item of their list, *Ask an admin* under an answer)."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import faq_views, help_views, item_help_views, todo_item_views
from bot.conversation.commands import USAGE_OF, USAGES, Command
from bot.conversation.desk import Desk, Handler, Stage
from bot.conversation.faq_review import FaqReview
from bot.conversation.messages import Block, Outgoing
from bot.conversation.quoting import untick
from bot.conversation.stages.after_connecting import own_item
from bot.conversation.understanding import Suggestion, reads_like_question, suggestions
from bot.conversation.unnamed import names_anyone
from faq import HOW_TO_REACH_A_PERSON, AskerContext, accept_invitation_help
from faq.redaction import redact
from workflows.directory import MicrosoftError
from workflows.errors import WorkflowError
from workflows.identities import mailbox
from workflows.notices import CHANNEL_PREFIX
from workflows.results import Actor, MigrationStatus
from workflows.stages.todo_lists import newest_list
from workflows.todo import (
    ACCEPT_INVITATION,
    ASK_FOR_ACCESS,
    CHOOSING_ITEM,
    ENABLE_ACCOUNT,
    INVITATION_IN_DOUBT,
)
from workflows.tokens import case_of

MY_ACCOUNT_USAGE = (
    f"Say `{todo_item_views.MY_ACCOUNT} ACCOUNT` with the sign-in name of the directory account you use every"
    f" day, or `{todo_item_views.MY_ACCOUNT}` alone to choose it with a button."
)

ITEM_TOPICS = {
    "sign-in-work-account": "identity-picker-sign-in",
    "clear-git-credentials": "git-credential-cache",
    "re-add-ssh-keys": "ssh-keys",
    "recreate-pats": "regenerate-pat",
    "rename-microsoft-account": "account-picker-prompt",
    "visual-studio-subscription": "vs-subscription",
    ASK_FOR_ACCESS: "email-not-found",
    ENABLE_ACCOUNT: "email-not-found",
    CHOOSING_ITEM: "disconnected-users-matching-identity",
    ACCEPT_INVITATION: "email-not-found",
    INVITATION_IN_DOUBT: "email-not-found",
}
"""The FAQ topic that answers "I need help" on each kind of to-do item (accepting the invitation is answered
with the person's own invitation when the migration recorded it: `faq.accept_invitation_help`)."""
_OWN_INVITATION_ITEMS = frozenset({ACCEPT_INVITATION, INVITATION_IN_DOUBT})
"""The items about an invitation the migration asked for: answered with where it stands."""


class Helping(Stage):
    """Help, answers, and questions passed on to the admins, with the asker's migration as context."""

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self._review = FaqReview(desk.answerer, self._asker_context)

    def handlers(self) -> dict[str, Handler]:
        """With the FAQ review's: rating an answer, and the admins' `faq review`."""
        return {
            "help": self._help,
            "ask": self._ask,
            faq_views.ASK_ADMIN: self._ask_admin,
            "need-help": self._need_help,
            todo_item_views.MY_ACCOUNT: self._my_account,
            **self._review.handlers(),
        }

    def _help(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`help`: this person's next steps; `help all`: every word; `help WORD`: one word in detail."""
        topic = (command.arg(0) or "").casefold()
        if not topic:
            return [self._help_now(actor, channel)]
        if topic == "all":
            return [help_views.help_all()]
        if topic in USAGE_OF:
            return [help_views.help_word(USAGE_OF[topic])]
        if reads_like_question(command.text):  # "help, my pipelines stopped"
            return self._ask(actor, Command("ask", command.args, command.text), channel)
        meant = suggestions(Command(topic, (), ""), [usage.word for usage in USAGES])
        if meant:
            return [help_views.did_you_mean(f"help {topic}", [Suggestion("help", s.word) for s in meant])]
        return [help_views.not_understood(topic)]

    def _help_now(self, actor: Actor, channel: str | None) -> Outgoing:
        administered, approvable = self._desk.next_steps(actor)
        entries = self._desk.service.todo_list(actor)
        return help_views.help_now(administered, entries, approvable, channel=channel)

    def _ask(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        context = self._asker_context(actor, channel)
        topic, _, asked = command.text.strip().partition(faq_views.ASKED.strip())
        if self._desk.answerer.knows(topic.strip(), context.organization):  # a suggested topic's button
            answer = self._desk.answerer.explain(topic.strip(), context)
            asked = asked.strip()  # the question it answers, carried by the button: never the topic's id
        else:
            answer = self._desk.answerer.answer(command.text, context)
            asked = command.text
        # *Ask an admin* carries the question back; `ask TOPIC-ID` typed asks none, and its answer still says
        # to press that button (rev78): the topic's title is the question then
        carried = asked or answer.answer.partition("\n")[0]
        question = redact(carried) if context.admins and carried else None
        # In a channel, a reply naming anyone's address (the asker's invitation or what they sign in with;
        # never the admins': walk39 d, `AskerContext.in_channel`), telling them they lose access (which
        # would announce it to everyone there), or fitted to their own case (mapped by hand, their tokens
        # stop working, their case in short) is for their eyes only.
        private = channel is not None and (
            bool(context.lost_access_by)
            or answer.own_case
            or names_anyone(answer.answer)
            or (answer.topic is not None and self._desk.answerer.fitted(answer.topic, context))
        )
        answered = self._review.answered(actor, answer)
        return [faq_views.answer(answered, question=question, asked=redact(asked), private=private)]

    def _ask_admin(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """*Ask an admin* under an answer: the question goes where need-help goes, with an address to write
        back to. The question is redacted as a kept one is: the admins' channel is no place for a secret."""
        question = redact(command.text.strip())
        if not question:
            raise WorkflowError("Ask your question first; then *Ask an admin* under my answer passes it on.")
        try:
            migration, inside = self._migration_of(actor, channel)
        except WorkflowError:
            migration, inside = None, False
        if migration is None or not (
            inside or self._desk.service.standing_of(migration.organization, actor).outcome
        ):
            raise WorkflowError(
                "I don't know which migration you are part of, so I can't pass your question on."
                f" {HOW_TO_REACH_A_PERSON}"
            )
        entries = newest_list(self._desk.service.todo_list(actor))
        email = entries[0].email if entries else actor.email
        fresh = self._desk.tracking.help_requests.ask_admins(
            migration, actor, email, question, self._recipients(migration, actor)
        )
        admins = self._desk.admins(migration.organization, actor)
        return [
            faq_views.passed_on(migration.organization, admins, again=not fresh),
            *self._desk.outbox.flush(),
        ]

    def _need_help(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        item = own_item(self._desk, actor, command.arg(0), "need-help")
        migration = self._desk.service.status(item.organization)
        # which account is theirs: their choices to press, and the admins' notice a button to decide each
        service = self._desk.service
        choosing = service.awaiting_choice(item.organization, actor) if item.key == CHOOSING_ITEM else None
        recipients = self._recipients(migration, actor)
        context = self._context_in(migration, actor, inside=True, privately=channel is None)
        # the answer says nothing of *Ask an admin*: the card has no such button, and ends saying who was told
        context = replace(context, admins_told=bool(recipients))
        admins = context.admins  # read for this migration just above (`inside`)
        text = accept_invitation_help(context) if item.key in _OWN_INVITATION_ITEMS else None
        answer: str | list[Block]
        if choosing is not None:
            answer = item_help_views.account_choices(
                item_help_views.Choosing.of(item.organization, choosing), choosing.address, admins
            )
        elif text is not None:
            answer = text
        else:
            topic = ITEM_TOPICS.get(item.key)
            found = (
                self._desk.answerer.explain(topic, context)
                if topic
                else self._desk.answerer.answer(item.title, context)
            )
            answer = found.answer
        fresh = self._desk.tracking.help_requests.ask_for_help(item, actor, recipients, choosing=choosing)
        told = item_help_views.help_for_item(
            item, answer, admins, admins_told=bool(recipients), again=not fresh
        )
        return [*told, *self._desk.outbox.flush()]

    def _my_account(self, actor: Actor, command: Command, channel: str | None) -> list[Outgoing]:
        """`my-account [ORG] [ACCOUNT]`: someone several directory accounts match says which one is theirs
        (*Choose my account* on their list, its buttons, or their own words in a direct message:
        `bot.conversation.account_choice`). The admins are told, with a button to decide; the decision
        stays theirs, as `decide`."""
        if len(command.args) > 2:
            raise WorkflowError(MY_ACCOUNT_USAGE)
        if len(command.args) == 2:
            organization = self._desk.known_organization(command, "told nobody", usage=MY_ACCOUNT_USAGE)
        else:
            organization = self._desk.named_organization(command)
        account = command.arg(1) if organization is not None else command.arg(0)
        migration = (
            self._desk.service.status(organization) if organization else self._migration_of(actor, channel)[0]
        )
        person = self._desk.service.awaiting_choice(migration.organization, actor)
        if person is None:
            raise WorkflowError(
                f"There is no account for you to choose in {migration.organization}: your address matches one"
                " directory account, or the migration admins have already recorded which one is yours. `todo`"
                " shows what is left for you to do."
            )
        choosing = item_help_views.Choosing.of(migration.organization, person)
        admins = self._desk.admins(migration.organization, actor)
        list_to_come = self._desk.service.list_to_come(migration.organization, actor)
        if account is None:
            return [
                item_help_views.choose_account(choosing, person.address, admins, list_to_come=list_to_come)
            ]
        wanted = account.casefold()
        chosen = next((each for each in choosing.accounts if wanted in map(str.casefold, each)), None)
        if chosen is None:
            raise WorkflowError(
                f"`{untick(account)}` is not one of the accounts that share your address: {choosing.names}."
                f" Say `{todo_item_views.MY_ACCOUNT}` to choose one with a button."
            )
        recipients = self._recipients(migration, actor)
        fresh = self._desk.tracking.help_requests.tell_choice(
            migration, actor, person.address, person, chosen, recipients
        )
        shown = chosen[1] if mailbox(chosen[1]) else f"the guest account {chosen[1]}"
        passed = item_help_views.choice_passed_on(
            shown, admins, admins_told=bool(recipients), again=not fresh, list_to_come=list_to_come
        )
        return [passed, *self._desk.outbox.flush()]

    def _recipients(self, migration: MigrationStatus, actor: Actor) -> list[str]:
        """Where a word to the admins goes: each admin by direct message, with who spoke and where to write
        to them; the migration's channel, where people other than admins post, hears only that someone
        did (`workflows.help_requests`), and only when an admin was told: else it would promise what
        nobody got (walk39 b)."""
        admins = self._desk.service.approver_emails(migration.organization, exclude=actor)
        if not admins:
            return []
        return [*([f"{CHANNEL_PREFIX}{migration.channel_id}"] if migration.channel_id else []), *admins]

    def _asker_context(self, actor: Actor, channel: str | None = None) -> AskerContext:
        try:
            status, inside = self._migration_of(actor, channel)
        except WorkflowError:
            # none in progress, or several and no plan names the asker: then they are off every plan, with no
            # one organization to name ("will I lose access?" says so: `faq._happening.not_among_users`), once
            # every one of them has a plan (a migration whose users were never read may yet name them)
            return AskerContext(off_the_plan=self._every_plan_read())
        return self._context_in(status, actor, inside=inside, privately=channel is None)

    def _every_plan_read(self) -> bool:
        """Several migrations are in progress, each with a plan: the users of every one of them were read."""
        service = self._desk.service
        names = service.organizations()
        return len(names) > 1 and all(service.status(name).plan_fingerprint is not None for name in names)

    def _context_in(
        self, status: MigrationStatus, actor: Actor, *, inside: bool, privately: bool
    ) -> AskerContext:
        """What the bot knows of `actor` in this migration; `inside`: asked within it (its channel, or their
        own list); `privately`: in a direct message, the only place their invitation's own link is shown."""
        standing = self._desk.service.standing_of(status.organization, actor)
        invitation = standing.invitation
        if invitation is not None and not privately:
            invitation = replace(invitation, redeem_url=None)
        try:
            is_admin = self._desk.may_administer(status.organization, actor)
        except (WorkflowError, MicrosoftError):
            is_admin = False  # an answer must not depend on Azure DevOps being up
        # someone of the migration (in its channel, on its plan) can have a question passed to its admins
        admins = self._desk.admins(status.organization, actor) if inside or standing.outcome else ()
        return AskerContext(
            outcome=standing.outcome,
            guest=standing.guest,
            renew_tokens=standing.tokens.renew if standing.tokens else None,
            tokens_why=standing.tokens.why if standing.tokens else "",
            stage=status.state,
            organization=status.organization,
            is_admin=is_admin,
            case=case_of(status.checks),
            migration=status.organization if inside or admins else None,
            admins=admins,
            invitation=invitation,
            signs_in_as=standing.signs_in_as,
            announcement=standing.announcement,
            off_the_plan=standing.outcome is None and status.plan_fingerprint is not None,
            lost_access_by=standing.lost_access_by,
            awaits_mapping=standing.awaits_mapping,
            account=standing.account,
            signed_in=standing.signed_in,
            list_to_come=standing.list_to_come,
            in_channel=not privately,
        )

    def _migration_of(self, actor: Actor, channel: str | None) -> tuple[MigrationStatus, bool]:
        """The migration a question is asked within (its channel, or the asker's to-do list), and whether it
        is; otherwise the one in progress, or of several the newest whose plan names the asker."""
        if channel:
            for status in self._desk.service.migrations():
                if status.channel_id == channel and status.active:
                    return status, True
        entries = self._desk.service.todo_list(actor)
        if entries:
            return self._desk.service.status(entries[0].organization), True
        try:
            return self._desk.service.status(None), False
        except WorkflowError:  # none in progress, or several: only one naming the asker is theirs
            planned = self._planned_in(actor)
            if planned is None:
                raise
            return self._desk.service.status(planned), False

    def _planned_in(self, actor: Actor) -> str | None:
        """The newest migration in progress whose plan names `actor`: one standing read per migration, paid
        only when several are in progress and the asker has no list yet."""
        service = self._desk.service
        return next(
            (name for name in service.organizations() if service.standing_of(name, actor).outcome), None
        )
