"""Writing the reply: the topic's answer made personal, or a polite "I don't know"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from faq._knowledge import CASES, CASES_PLACE, KEEP, OUTCOMES, RENEW, WHY_PLACE, Case, Note, Topic

CANCELLED = "cancelled"
"""The phase of a migration called off: nothing changes for anyone, and no note is written for it."""
# The workflow's states (`workflows.machine.STATES`, every one of them: tests/faq/test_stages.py) grouped by
# what they mean for the person asking. `failed` and `interrupted` only ever follow a step before connecting
# (an invitation round after connecting that fails or is interrupted returns to its connected step).
_PHASE_OF_STAGE = {
    **dict.fromkeys(
        (
            "draft",
            "checking_prerequisites",
            "planned",
            "blocked",
            "inviting",
            "waiting_for_invite_settings",
            "removing",
            "awaiting_approval",
            "failed",
            "interrupted",
        ),
        "before",
    ),
    "connecting": "connecting",
    **dict.fromkeys(
        ("connected", "inviting_after_connecting", "users_notified", "billing_checked", "completed"), "after"
    ),
    "cancelled": CANCELLED,
}

LOST_ACCESS = "no-access"
"""The outcome of someone an admin decided loses access, once told (`workflows.plan.NO_ACCESS`, not imported:
that module takes 0.15 s to import): no topic's note or case is for them, nothing of the move is theirs to
do."""
HOW_TO_REACH_A_PERSON = (
    "To reach a person, ask the admins running your organization's move to Microsoft Entra ID (its owner or"
    " Project Collection Administrators)."
)
"""For an asker in no known migration: the bot cannot name anyone, nor pass the question on."""
ASK_AN_ADMIN = "Ask an admin"
SIGN_IN_WITH_PLACE = "{sign_in_with}"
"""Where an answer says which account to sign in with (`_for_their_account`)."""
ACCOUNT_PICKER_PLACE = "{account_picker}"
"""Where an answer says what to pick when asked to choose between accounts."""
_SIGN_IN_WITH_EITHER = (
    "with your *work* account of the new directory, {instead} (a guest of the directory: with the address"
    " the invitation went to)"
)
_PICK_WORK = "If you are asked to pick between accounts: choose Work or school account"
# Only where the Microsoft account holds the work address (`auto`, or unknown), never in a switch from another
# directory: the rename stops the question.
_RENAME = ", and rename your Microsoft account to stop the question"
_ADMINS_NAMED = 3
_NO_ORGANIZATION_URL = "https://dev.azure.com/YOUR-ORGANIZATION"


class OwnInvitation(Protocol):
    """The asker's B2B invitation to the directory, as the migration recorded it (the bot passes
    `workflows.results_standing.InvitationStanding`)."""

    @property
    def address(self) -> str:
        """Where it goes, or went: the address they accept it with and then sign in with."""

    @property
    def directory(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...

    @property
    def sent(self) -> bool: ...

    @property
    def sent_at(self) -> datetime | None:
        """When it was sent (UTC); None when not sent yet, or sent by someone else."""

    @property
    def accepted(self) -> bool:
        """Their list shows it done: by a sign-in the bot saw (`verified`), or by their own tick."""

    @property
    def verified(self) -> bool:
        """A sign-in the bot saw shows it accepted."""

    @property
    def redeem_url(self) -> str | None:
        """Their own link to accept it, passed only for a reply nobody else sees (a direct message)."""

    @property
    def unconfirmed(self) -> bool:
        """Not sent as far as the bot knows, yet Microsoft's answer to sending it never came: it may have."""

    @property
    def unconfirmed_at(self) -> datetime | None:
        """With `unconfirmed`: when Microsoft was asked for it, the time its email would have come."""

    @property
    def mailed(self) -> bool:
        """With `unconfirmed`: it went out after all, and only its link to accept it is missing, which the
        admins' next `invite` fetches."""

    @property
    def checked_from(self) -> datetime | None:
        """With `unconfirmed`: from when Microsoft's directory shows whether it went out, so that the admins'
        `invite` finds out."""

    @property
    def read_at(self) -> datetime | None:
        """When the bot read it (UTC): the day an answer calls today; None when not known."""


class Announced(Protocol):
    """What the admins' advance notices told the asker of the connection's date (the bot passes
    `workflows.results_standing.Announcement`)."""

    @property
    def to_them(self) -> str | None:
        """The date the newest notice to them named (empty: none named); None when none reached them."""

    @property
    def latest(self) -> str | None:
        """The date the admins last announced, to anyone (empty: none named); None when never."""

    @property
    def passed(self) -> bool:
        """The date named (theirs, else the latest) is a day already over."""


@dataclass(frozen=True)
class AskerContext:
    """What the bot knows about the person asking; every field optional."""

    outcome: str | None = None  # plan outcome: auto, map, invite, disabled or ambiguous
    guest: bool = False
    """A guest of the directory (invited, or matched to a `#EXT#` account): they keep signing in with their
    own address and have no work account."""
    stage: str | None = None  # the migration's state name, e.g. "planned", "connecting", "users_notified"
    organization: str | None = None
    is_admin: bool = False
    case: str | None = None  # "first" (from Microsoft accounts) or "switch" (from another directory)
    migration: str | None = None
    """The organization whose migration the question is asked within (its channel, or the asker's to-do
    list); None when asked outside any."""
    admins: tuple[str, ...] = ()
    """That migration's admins' addresses, when the chat can pass the question to them (its *Ask an admin*
    button)."""
    renew_tokens: bool | None = None
    """Whether the asker must make new personal access tokens, as their own notice and to-do list say
    (`workflows.tokens`); None when the bot does not know."""
    tokens_why: str = ""
    """Why, a clause starting in lower case, put at a token case's `{why}`."""
    invitation: OwnInvitation | None = None
    """Their invitation, when the migration's plan invites them."""
    signs_in_as: str = ""
    """The sign-in name of their Azure DevOps identity, what they sign in with until the organization is
    connected; empty when the plan does not name them."""
    announcement: Callable[[], Announced] | None = None
    """What the admins' advance notices told them, read only by a reply that names the date; None when the
    bot does not know."""
    off_the_plan: bool = False
    """The migration's plan is made and does not name them: not a user of the organization, or removed from
    it (`remove-users`)."""
    lost_access_by: str = ""
    """Who decided they lose access (`decide ... no-access`), once the bot has told them so (`outcome` is
    then `LOST_ACCESS`); empty otherwise."""
    in_chat: bool = True
    """Asked in chat, where `help` is a word to type; False for `aadbot ask` on the command line."""
    awaits_mapping: bool = False
    """Mapped by hand, and Azure DevOps still shows them on their Microsoft account after the connection: the
    admins have yet to map them, so their work account is refused until then."""
    account: str = ""
    """The directory account their to-do list has them sign in with once connected; empty when it names
    none, or the bot does not know."""
    signed_in: bool = False
    """Their list's *Sign in with your work account* is ticked: that is done, not to do."""
    admins_told: bool = False
    """The `admins` were told already that the asker needs help (*I need help* on an item of their list): the
    reply says so itself, and carries no *Ask an admin* button to offer."""
    in_channel: bool = False
    """Asked in a channel, which people other than admins read: the way to a person names no admin's
    address, which is for direct messages (walk39 d)."""
    list_to_come: bool = False
    """Their to-do list has not gone out yet (`workflows.results_standing.Standing.list_to_come`): an answer
    points to `todo`, not to an item of that list."""

    def in_general(self) -> AskerContext:
        """What anyone in the same migration, with the same role, is told: nothing of this person's own case
        (their outcome, account, tokens, invitation, what they were told)."""
        return AskerContext(
            stage=self.stage,
            organization=self.organization,
            is_admin=self.is_admin,
            case=self.case,
            migration=self.migration,
            admins=self.admins,
            in_chat=self.in_chat,
            in_channel=self.in_channel,
        )


def phase_of(stage: str | None) -> str | None:
    return _PHASE_OF_STAGE.get(stage.strip().casefold()) if stage else None


def _outcome(context: AskerContext) -> str | None:
    return context.outcome if context.outcome in OUTCOMES else None


def _case(context: AskerContext) -> str | None:
    return context.case if context.case in CASES else None


def _applies(note: Note, context: AskerContext) -> bool:
    if note.outcomes is not None and _outcome(context) not in note.outcomes:
        return False
    if note.phases is not None and phase_of(context.stage) not in note.phases:
        return False
    if note.cases is not None and _case(context) not in note.cases:
        return False
    if note.guest is not None and note.guest != context.guest:
        return False
    if note.unless_tokens is not None and _tokens_case(context) == note.unless_tokens:
        return False
    if note.tokens is not None and _tokens_case(context) != note.tokens:
        return False
    return note.admin is None or note.admin == context.is_admin


def speaks_to_their_outcome(topic: Topic, context: AskerContext) -> bool:
    """Whether one of the topic's notes for a plan outcome applies to the asker: it says their case."""
    return any(note.outcomes is not None and _applies(note, context) for note in topic.notes)


def _may_be_in(case: Case, context: AskerContext) -> bool:
    """Whether the asker is in this case, or may be as far as the bot knows."""
    outcome, migration = _outcome(context), _case(context)
    # Whether someone is a guest of the directory is known with their outcome only (`AskerContext.guest`
    # is False for an asker the bot knows nothing of).
    guest = context.guest or outcome == "invite"
    return (
        (case.outcomes is None or outcome is None or outcome in case.outcomes)
        and (case.cases is None or migration is None or migration in case.cases)
        and (case.guest is None or outcome is None or case.guest == guest)
        and (case.admin is None or not _knows_the_role(context) or case.admin == context.is_admin)
    )


def _knows_the_role(context: AskerContext) -> bool:
    """Whether `is_admin` says who the asker is: the chat knows it of someone in a migration or on its plan;
    `aadbot ask` (its operator, admin or not) and an asker in no migration are not known."""
    return context.in_chat and (context.migration is not None or context.outcome is not None)


def _tokens_case(context: AskerContext) -> str | None:
    if context.renew_tokens is None or not context.tokens_why:
        return None
    return RENEW if context.renew_tokens else KEEP


def _with_cases(topic: Topic, context: AskerContext) -> str:
    """The answer with the asker's own case when known, otherwise every case they may be in after its
    label, at `{cases}`."""
    general = [case for case in topic.cases if case.tokens is None]
    own = _tokens_case(context)
    possible = (
        [case for case in topic.cases if own is not None and case.tokens == own]  # what their own list says
        or [case for case in general if _may_be_in(case, context)]
        or general
    )
    texts = [case.text.replace(WHY_PLACE, context.tokens_why) for case in possible]
    if len(possible) == 1 and possible[0].alone:
        return texts[0]
    if len(possible) == 1:
        return topic.answer.replace(CASES_PLACE, texts[0])
    return topic.answer.replace(
        CASES_PLACE, "\n".join(f"- {case.when}: {text}" for case, text in zip(possible, texts, strict=True))
    )


def _for_their_account(body: str, context: AskerContext) -> str:
    """The answer's sign-in words for the asker's account when the plan says which kind it is: a member of
    the directory signs in with their work account, a guest (invited, or matched to a `#EXT#` account) with
    their own address; only someone whose Microsoft account holds their work address (`auto`) is asked to
    pick between the two. For anyone else, both ways. In a switch from another directory the account left
    behind is that directory's, and no Microsoft account is involved: nothing to rename."""
    outcome = _outcome(context)
    guest = context.guest or outcome == "invite"
    member = not guest and outcome in {"auto", "map"}
    switch = _case(context) == "switch"
    instead = "not your old directory's account" if switch else "not your Microsoft account"
    if guest:
        sign_in_with = (
            "with your own address, the one the invitation went to (a guest of the directory has no work"
            " account)"
        )
        picker = "If you are asked to pick between accounts: choose the one you accepted the invitation with"
    elif member:
        sign_in_with = (
            f"with your *work* account of the new directory (the one your to-do list names), {instead}"
        )
        picker = _PICK_WORK + ("" if outcome == "map" or switch else _RENAME)
    else:
        sign_in_with = _SIGN_IN_WITH_EITHER.format(instead=instead)
        picker = _PICK_WORK + ("" if switch else _RENAME)
    return body.replace(SIGN_IN_WITH_PLACE, sign_in_with).replace(ACCOUNT_PICKER_PLACE, picker + ".")


def organization_url(organization: str | None) -> str:
    name = (organization or "").strip()
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name):
        return _NO_ORGANIZATION_URL
    return f"https://dev.azure.com/{name}"


def answered(
    topic: Topic,
    context: AskerContext,
    *,
    framed: bool = False,
    also: Topic | None = None,
    closer: Sequence[Topic] = (),
    own: str = "",
    opening: str = "",
) -> str:
    """Title, what applies to this asker first, then the general answer and the Microsoft page.

    `framed`: the topic is likely but not certain, so the reply says so and points at the alternatives.
    `also`: a second question in the same message, about another topic, offered after the answer.
    `closer`: when framed, the alternatives, named where no button shows them (`aadbot ask`).
    `own`: what the migration's records say of the asker's own case, after the topic's notes for it.
    `opening`: what the migration's stage says of the question, before the notes.
    """
    notes = [
        note.text.replace(WHY_PLACE, context.tokens_why) for note in topic.notes if _applies(note, context)
    ]
    personal = ([opening] if opening else []) + notes + ([own] if own else [])
    body = _with_cases(topic, context) if topic.cases else topic.answer
    body = _for_their_account(body.replace("{org_url}", organization_url(context.organization)), context)
    heading = f"This sounds like: {topic.title}" if framed else topic.title
    lines = [heading, *personal, body, *([f"Microsoft's page: {topic.link}"] if topic.link else [])]
    if also is not None:
        # Its button is under the answer in chat (`faq_views.answer`); `aadbot ask` prints no buttons.
        offer = (
            "Pick it below for that answer" if context.in_chat else "Ask me that on its own for its answer"
        )
        lines.append(f"You also asked about: {also.title}. {offer}.")
    elif framed and context.in_chat:
        lines.append("Not what you meant? Pick a closer topic below.")
    elif framed:  # `aadbot ask` prints no buttons
        named = "; ".join(other.title for other in closer)
        lines.append(
            f"Not what you meant? Closer topics: {named}. Ask me about one of them."
            if closer
            else "Not what you meant? Ask me in other words."
        )
    if context.admins or framed:
        lines.append(way_to_a_person(context))
    return "\n".join(lines)


def way_to_a_person(context: AskerContext) -> str:
    """Who can help, and how to reach them from here: the migration's admins when the asker is in one;
    nothing when they were told already (`AskerContext.admins_told`): the reply says so in its own words."""
    if not context.admins:
        return HOW_TO_REACH_A_PERSON
    if context.admins_told:
        return ""
    press = (
        f"To reach a person, press *{ASK_AN_ADMIN}* and I pass your question to the admins of the"
        f" {context.migration} migration"
    )
    if context.in_channel:
        return f"{press}, or ask me in a direct message for their addresses to write to."
    return f"{press}, or write to them: {admins_named(context.admins)}."


def admins_named(admins: Sequence[str]) -> str:
    """The first few admins to write to, and how many more: enough to reach a person, short however many."""
    named = ", ".join(admins[:_ADMINS_NAMED])
    if len(admins) > _ADMINS_NAMED:
        named += f" and {len(admins) - _ADMINS_NAMED} more"
    return named


def declined(closest: Sequence[Topic], context: AskerContext) -> str:
    lines = ["Sorry, I don't know the answer to that one."]
    if closest:
        lines.append("The closest topics I know about:")
        lines.extend(f"- {topic.title}" for topic in closest)
    lines.append(way_to_a_person(context))
    return "\n".join(lines)


def outside(topics: Sequence[Topic], context: AskerContext, *, closest: bool) -> str:
    """A decline for a question no topic is about ("what's the weather?"): what the bot is for, then topics
    all the same (the contract: a decline offers them), in case it was about the move: its `closest` ones
    when they are near it, else where to start."""
    lines = [
        "Sorry, I don't know the answer to that one.",
        "I only answer questions about moving this Azure DevOps organization to Microsoft Entra ID.",
        "The closest topics I know about:" if closest else "If it was about the move, start with:",
        *(f"- {topic.title}" for topic in topics),
        f"{_help_pointer(context)}.",
        way_to_a_person(context),
    ]
    return "\n".join(lines)


def sign_in_code_elsewhere(code: str, documenting: Sequence[Topic], context: AskerContext) -> str:
    """A decline for an Entra sign-in code with no word of Azure DevOps: every application that signs in
    with Entra shows these codes, so the bot cannot tell whether this one is about the move."""
    lines = [
        f"Sorry, I can't tell which application gave you {code}: every application that signs in with"
        " Microsoft Entra ID can. If it was Azure DevOps, since the move to Microsoft Entra ID, see:",
        *(f"- {topic.title}" for topic in documenting),
        way_to_a_person(context),
    ]
    return "\n".join(lines)


def introduction(starters: Sequence[Topic], context: AskerContext) -> str:
    """The reply to a greeting or to "who are you?": what the bot is and does, and where to start."""
    return _inviting(
        "I'm aadbot, a bot that takes this Azure DevOps organization to Microsoft Entra ID (the company's"
        " directory): I help the admins run the move, send each person their own to-do list, and answer"
        f" questions about it. {_help_pointer(context)}, or ask me a question",
        starters,
        context,
    )


def unreadable(starters: Sequence[Topic], context: AskerContext) -> str:
    """The reply to binary data or random characters: no guess at what they meant."""
    return _inviting(
        "Sorry, I could not read a question in that: it looks like random characters or binary data."
        " Ask me in a sentence",
        starters,
        context,
    )


def _help_pointer(context: AskerContext) -> str:
    if context.in_chat:
        return "Type `help` to see what you can do here"
    return "In chat with me (Slack or Teams), `help` shows what you can do there"


def _inviting(opening: str, starters: Sequence[Topic], context: AskerContext) -> str:
    lines = [f"{opening}, for example:", *(f"- {topic.title}" for topic in starters)]
    return "\n".join([*lines, way_to_a_person(context)])
