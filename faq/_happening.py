"""A person replying to the bot's own advance notice ("hi, what is happening?", "what happens to me?",
"will I lose access?"): their case in short, what is coming, whether they keep access, what they must do and
where their to-do list is, instead of "I don't know" or the lock-out advice for whoever clicks Connect. Only
for someone the migration's plan names; the words alone say nothing of the move (walk33, finding 13; walk34,
finding 4). Someone no plan names who asks what the move does to them hears that, and what it likely means."""

from __future__ import annotations

import re

from faq import _invitation, _sign_in
from faq._compose import CANCELLED, AskerContext, organization_url, phase_of, way_to_a_person
from faq._text import GREETING, OPENING

TOPIC = "what-is-this-migration"
TITLE = "What is happening for you"

_WHAT_IS_HAPPENING = re.compile(
    rf"(?i)^\W*{GREETING}(?:"
    r"what(?:'s| is| are)? (?:happening|going on)(?: here)?"
    r"|what(?:'s| is) (?:this|that)(?: (?:about|for|message|notice))?"
    r"|what(?:'s| is) (?:this|that) all about|what does (?:this|that) mean"
    r")\W*$"
)
_THE_MOVE = r"(?:this|it|the (?:switch|move|migration|change|connection))"
_WHAT_HAPPENS_TO_THEM = re.compile(
    rf"(?i){OPENING}(?:"
    r"what (?:will |would |is going to |does )?happen(?:s|ing)? (?:to|for|with) (?:me|my (?:account|access"
    r"|user(?: account)?|login|sign-?in|identity|profile))"
    r"|(?:will|do|would|am|shall) i (?:be )?(?:going to )?(?:lose|keep|still have|losing|keeping)"
    r" (?:my )?access"
    r"(?: to (?:it|azure devops|devops|ado|the org(?:anization)?))?"
    rf"|(?:am i|are we) affected(?: by {_THE_MOVE})?"
    rf"|(?:does|will|would|how (?:does|will)) {_THE_MOVE} affect me"
    rf"|what does {_THE_MOVE} mean for me"
    rf")(?: (?:now|then|after (?:that|{_THE_MOVE})|when (?:we|you) (?:connect|switch)))?\W*$"
)
"""The whole message asks what the move does to the asker themselves, not to their work ("what happens to my
pull requests?" is `faq._kept`'s)."""
_SHORT = 80


def reply(text: str, context: AskerContext) -> str | None:
    """The asker's case in short when the whole message only asks what is going on ("hi, what is
    happening?", "what's this?") or what it does to them ("what happens to me?", "will I lose access?"); for
    someone no plan names, the second only, as they were sent no notice to ask about. None otherwise."""
    if len(text) > _SHORT:
        return None
    about_them = _WHAT_HAPPENS_TO_THEM.match(text) is not None
    if context.off_the_plan and about_them:
        return not_among_users(context)
    return _in_short(context) if about_them or _WHAT_IS_HAPPENING.match(text) is not None else None


def not_among_users(context: AskerContext) -> str:
    """For someone the plan of the migration under way does not name (with no `organization`: several are
    under way, and none names them), asking what the move does to them: that, what it likely means, how to
    check and whom to ask. Nothing of anyone else's case."""
    organization = context.organization
    if organization:
        seen = (
            f"I do not see you among the Azure DevOps users of {organization}, which I read to plan its move"
            " to the company directory, Microsoft Entra ID (formerly Azure Active Directory)."
        )
        user_of = f"a user of {organization}"
    else:
        seen = (
            "Several Azure DevOps organizations are moving to the company directory, Microsoft Entra ID"
            " (formerly Azure Active Directory), and I do not see you among the users of any of them."
        )
        user_of = "a user of any of them"
    likely = (
        f"Most likely you are not {user_of}, or no longer (the admins may have removed you, for example as"
        " inactive): then the move changes nothing for you. Or you sign in to Azure DevOps with another"
        " address than the one I know you by here: then the move may concern you under that address, and an"
        " admin can tell you how."
    )
    check = (
        f"To check: open {organization_url(organization)} and select your picture at the top right, which"
        " shows the address you sign in with. The organization's users are listed under Organization"
        " settings > Users, where an admin can add you if you should have access."
    )
    return "\n".join([TITLE, seen, likely, check, way_to_a_person(context)])


def _in_short(context: AskerContext) -> str | None:
    """Their case in short, for someone the plan names in a migration under way; None otherwise."""
    phase = phase_of(context.stage)
    if context.migration is None or context.outcome is None or phase in (None, CANCELLED):
        return None
    lost = _sign_in.lost_access(context)
    if lost is not None:
        return lost
    organization = context.organization or "your organization"
    url = organization_url(context.organization)
    if phase == "after":
        coming = (
            f"{organization} is now connected to the company directory, Microsoft Entra ID (formerly Azure"
            f" Active Directory): you sign in to {url} with your account in it."
        )
    else:
        now = "the switch is being made now" if phase == "connecting" else _sign_in.announced_date(context)
        account = context.signs_in_as or "the account you use now"
        coming = (
            f"{organization} is moving to the company directory, Microsoft Entra ID (formerly Azure Active"
            f" Directory): {now}. Until it is connected you sign in to {url} as today, with {account}."
        )
    todo = (
        "Type `todo` for your own to-do list."
        if phase == "after"
        else "I send you your own to-do list by direct message once it is connected."
    )
    access = _access(context, organization)
    return "\n".join([TITLE, coming, access, _what_to_do(context, phase), todo, way_to_a_person(context)])


def _access(context: AskerContext, organization: str) -> str:
    """Whether they keep access, by the plan's outcome for them: what "will I lose access?" asks first."""
    if context.outcome == _sign_in.DISABLED:
        return (
            f"You lose access to {organization} once it is connected, unless your directory"
            " account is enabled or the admins give you another one. Your work and history are kept."
        )
    if context.outcome == _sign_in.AMBIGUOUS:
        return (
            f"You keep access to {organization} once the admins know which directory account is"
            " yours. Your work and history are kept."
        )
    invitation = context.invitation
    if (context.outcome == "invite" or invitation is not None) and not (invitation and invitation.accepted):
        return (
            f"You keep access to {organization} once you accept your invitation. Your work and"
            " history are kept."
        )
    return f"You keep access to {organization}, with your work and history."


def _what_to_do(context: AskerContext, phase: str) -> str:
    """What the move asks of them, by the plan's outcome for them, before or after connecting."""
    if context.outcome == _sign_in.DISABLED:
        words = (
            _sign_in.ENABLE_BEFORE_THE_LIST
            if context.list_to_come
            else f"*{_sign_in.ENABLE_ITEM}* on your list has the words to use"
        )
        return (
            "What you must do: your directory account is disabled; ask your directory administrator to enable"
            f" it ({words})."
        )
    if context.outcome == _sign_in.AMBIGUOUS:
        where = (
            _sign_in.CHOOSE_BEFORE_THE_LIST
            if context.list_to_come
            else f"*{_sign_in.CHOOSE_ITEM}* on your list"
        )
        return (
            "What you must do: several directory accounts match your address; tell the admins which one you"
            f" sign in with ({where})."
        )
    if context.outcome == "invite" or context.invitation is not None:
        invitation = context.invitation
        if invitation is not None and invitation.accepted:
            return (
                "What you must do: nothing more; you accepted your invitation, sign in with"
                f" {invitation.address}."
            )
        return (
            "What you must do: accept your invitation to the directory as a guest; until you do, you cannot"
            " sign in once the organization is connected. "
            + (
                _invitation.accept_invitation_help(context)
                or "It comes by email; `todo` shows where it stands."
            )
        )
    tokens = f" Then make new personal access tokens: {context.tokens_why}." if context.renew_tokens else ""
    when = "now" if phase == "after" else "nothing before the switch; after it,"
    if context.guest:
        return f"What you must do: {when} keep signing in with your own address.{tokens}"
    if context.signed_in:  # ticked on their list: told as to do, it reads as if the tick was lost (walk39)
        tokens = f" Make new personal access tokens: {context.tokens_why}." if context.renew_tokens else ""
        return f"What you must do: nothing more to sign in; you signed in with your work account.{tokens}"
    mapped = (
        " An admin maps your old identity to your work account by hand after connecting, so your history"
        " follows you."
        if context.outcome == "map"
        else ""
    )
    return (
        f'What you must do: {when} sign in with your work account (pick "Work or school account" if'
        f" asked).{mapped}{tokens}"
    )
