"""Two questions only the asker's own case answers (walk38): "which account should I use?" and "what's going
on?" in its looser forms ("so what's going on with the migration?"). Both were declined: no topic's words
fit them. They are recognised by their words, not ranked, so no topic's weights or calibration move
(docs/faq-eval.md); the tight forms of the second are `faq._happening`'s, whose answer this reuses."""

from __future__ import annotations

import re

from faq import _happening, _sign_in
from faq._compose import AskerContext, phase_of, way_to_a_person
from faq._text import GREETING

TITLE = "Which account you sign in with"
ACCOUNT_TOPIC = "account-picker-prompt"
"""The topic "which account should I use?" is rated and reviewed under: the one about that choice."""

_OPENING = rf"^\W*{GREETING}(?:(?:so|and|ok|okay|sorry|but)\W+)?"
_ACCOUNT = r"(?:account|e-?mail|address|login|log-?in|user(?:name)?|identity|id)"
_USE = (
    r"(?:use|sign(?: |-)?in(?: with)?|log(?: |-)?in(?: with)?|login with|pick|choose|select|enter|type"
    r"|use to (?:sign|log)(?: |-)?in)"
)
# What may follow "which account should I use": words about signing in only. "…for the service connection",
# "…for the build agent", "…in the pipeline yaml" ask which identity a tool runs as, no personal sign-in
# (rev78: those got the asker's own sign-in account).
_SIGN_IN_TAIL = (
    r"(?:now|today|then|here|(?:from )?now on|instead"
    r"|(?:in order )?to (?:sign|log)(?: |-)?in(?: (?:now|with))?"
    r"|(?:after|for|during|in) (?:the |this )?(?:migration|move|switch|change|connection)"
    r"|(?:for|with|on|in|to (?:sign|log)(?: |-)?in to) (?:azure devops|devops|ado|dev\.azure\.com)"
    r"|when (?:it|we|the organi[sz]ation) (?:is|are) (?:connected|moved|migrated))"
)
_WHICH_ACCOUNT = re.compile(
    rf"(?i){_OPENING}(?:"
    rf"(?:which|what) {_ACCOUNT} (?:should|do|must|shall|am i supposed to|can|will|would) (?:i )?"
    rf"(?:be )?{_USE}"
    rf"|(?:which|what) {_ACCOUNT} is (?:mine|my work account|the right one|the one to use)"
    rf"|(?:which|what) (?:work |directory |microsoft )?{_ACCOUNT} (?:is|do i) (?:mine|have)"
    rf"|what (?:should|do|must) i (?:sign|log)(?: |-)?in (?:with|as)"
    rf")\b(?: {_SIGN_IN_TAIL})?\W*$"
)
_ABOUT = (
    r"(?:the |this |our |my )?(?:migration|move|switch|change|org(?:ani[sz]ation)?|account|access"
    r"|azure devops|devops|ado|it|this|that|me)"
)
_WHATS_GOING_ON = re.compile(
    rf"(?i){_OPENING}(?:"
    r"what(?:'s|s| is| are)? (?:happening|going on|up)"
    rf"(?: (?:here|now|with {_ABOUT}|to {_ABOUT}))?(?: (?:here|now|then|exactly|today))?"
    r"|what(?:'s|s| is) the (?:status|situation|news|plan)"
    rf"(?: (?:of|with|for|on) {_ABOUT})?"
    r"|where (?:are we|do we stand|is it)(?: (?:at|with|on) {_ABOUT})?"
    r")\W*$"
)
_SHORT = 100


def asks_which_account(text: str) -> bool:
    """Whether a short message asks which account to sign in with."""
    return len(text) <= _SHORT and _WHICH_ACCOUNT.search(text) is not None


def asks_whats_going_on(text: str) -> bool:
    """Whether a short message only asks what is going on, in any of the looser ways people say it."""
    return len(text) <= _SHORT and _WHATS_GOING_ON.search(text) is not None


def going_on(context: AskerContext) -> str | None:
    """Their case in short (`faq._happening`); for someone the plan does not name, asking in the migration's
    channel, that. None when the bot knows no case of theirs: elsewhere the words say nothing of the move."""
    if _off_the_plan_inside(context):
        return _happening.not_among_users(context)
    return _happening.reply("what is happening?", context)  # its own tight form: their case in short


def which_account(context: AskerContext) -> str | None:
    """The account the asker signs in with, as their list has it, before and after connecting; None when
    the bot knows no case of theirs in a migration under way."""
    if _off_the_plan_inside(context):
        # the same case as "what's going on?" tells them, under this question's title, not that one's
        _, _, unseen = _happening.not_among_users(context).partition("\n")
        return "\n".join([TITLE, unseen])
    phase = phase_of(context.stage)
    if context.migration is None or context.outcome is None or phase is None:
        return None
    lost = _sign_in.lost_access(context)
    if lost is not None:
        return lost
    account = _account(context, after=phase in ("connecting", "after"))
    if account is None:
        return None
    # no way to a person once the admins were told (`way_to_a_person` says ""): no empty line for it
    return "\n".join(line for line in (TITLE, account, way_to_a_person(context)) if line)


def _off_the_plan_inside(context: AskerContext) -> bool:
    """Someone the plan does not name, asking within the migration (its channel)."""
    return context.off_the_plan and context.migration is not None


def _account(context: AskerContext, *, after: bool) -> str | None:
    organization = context.organization or "your organization"
    today = context.signs_in_as or "the account you use now"
    until = "" if after else f"Until {organization} is connected, sign in as today, with {today}. "
    if context.outcome == _sign_in.AMBIGUOUS:
        where, told = (
            (_sign_in.CHOOSE_BEFORE_THE_LIST, "`todo` shows it once they have")
            if context.list_to_come
            else (f"*{_sign_in.CHOOSE_ITEM}* on your list, or say `my-account`", "I tell you when they have")
        )
        return (
            f"{until}Several directory accounts match your address, and only the admins can record which one"
            f" is yours: tell them which one you sign in with every day ({where}). {told}."
        )
    if context.outcome == _sign_in.DISABLED:
        when = "" if after else "once connected "
        where = (
            _sign_in.ENABLE_BEFORE_THE_LIST
            if context.list_to_come
            else f"*{_sign_in.ENABLE_ITEM}* on your list"
        )
        return (
            f"{until}The directory account that matches your address is disabled: {when}you cannot sign in"
            f" until it is enabled or the admins give you another ({where})."
        )
    invitation = context.invitation
    if context.outcome == "invite" or context.guest:
        # the address they were invited at, else the one they sign in with: never the directory's own name
        # for a guest (`…_outlook.com#EXT#@…`), which nobody types (rev78)
        address = invitation.address if invitation else today
        accept = (
            "" if invitation is None or invitation.accepted else ", once you have accepted your invitation"
        )
        return (
            f"{until}{'Sign' if after else 'Once it is connected, sign'} in with {address}, your own address"
            f" (a guest of the directory has no work account){accept}."
        )
    if not context.account:
        return None
    mapped = (
        ", once the admins have mapped your old identity to it (I tell you when)"
        if context.outcome == "map" and (context.awaits_mapping or not after)
        else ""
    )
    return (
        f"{until}{'Sign' if after else 'Once it is connected, sign'} in with your work account"
        f' {context.account}{mapped}, not a personal Microsoft account: pick "Work or school account" if'
        " asked."
    )
