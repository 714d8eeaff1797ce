"""The asker's own invitation, for "I never got the invitation email". The words of such a message are those
of the admins' topics too (invite settings, an address missing from the directory), and every phrasing that
drew it to a topic cost other questions (docs/faq-eval.md, round 10); what the bot knows of the asker says
which case it is: invited and sent on a date to an address, not sent yet, accepted, or not invited at all."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from faq._compose import (
    ASK_AN_ADMIN,
    CANCELLED,
    AskerContext,
    OwnInvitation,
    organization_url,
    phase_of,
    way_to_a_person,
)
from faq._reading import ERROR_CODE
from workflows.invitation_email import FROM, NONE_CAME_ONCE_CLOSED, SENDER, SUBJECT
from workflows.invitation_email import REDEMPTION_PAGE as REDEMPTION_PAGE  # the answer's link

TOPIC = "email-not-found"
"""The contract's topic for someone the directory does not know yet: its answer says what to do when the
invitation email never came. The reply to the asker's own case answers under it."""
TITLE = "Your invitation to the directory"

_MY_APPS = "https://myapps.microsoft.com"

_NOUN = (
    r"(?:(?:the|an?|my|any|that|this|your)\s+)?(?:(?:microsoft|ms|email|e-mail|guest|b2b|entra|azure|devops"
    r"|directory|tenant)\s+){0,2}invit(?:e|ation)s?\b"
    # an invitation setting, an admin's tool, or invitations the asker sends ("get the invites out"), are not
    # theirs
    r"(?!\s+(?:settings?|options?|button|page|menu|polic\w*|roles?|permissions?|rights|tab|feature|api|list"
    r"|logs?|(?:e-?mail\s+)?templates?|status|report|quota|limits?|out|sent|through|working|accepted|to\s+go"
    r"|(?:to|for)\s+(?:the\s+|a\s+|an\s+|our\s+|my\s+)?(?:teams|zoom|meeting|call|calendar|event|webinar"
    r"|github|jira|slack|sharepoint|onedrive|workspace|channel)\b))"
)
# The asker (not a guest they invited, not "the user") has not received it, cannot find it, or it expired.
_MISSING = re.compile(
    r"(?i)\bi(?:'ve| have|'m| am)?(?:\s+(?:still|yet|just))?\s+"
    r"(?:never|still\s+haven'?t|haven'?t|have\s+not|didn'?t|did\s+not|don'?t|do\s+not|can'?t|cannot|can\s+not"
    r"|couldn'?t|could\s+not|unable\s+to|not)(?:\s+(?:yet|even|ever|been\s+able\s+to))?\s+"
    r"(?:get|got|gotten|receive[ds]?|find|found|see|seen|locate[ds]?|have|had)\s+"
    + _NOUN
    + r"|\bi(?:'m| am)\s+(?:still\s+)?waiting\s+(?:for|on)\s+"
    + _NOUN
    + r"|\bmy\s+(?:(?:microsoft|guest|b2b|email|e-mail)\s+)?invit(?:e|ation)(?:\s+(?:email|e-mail|mail|link"
    r"|message))?\s+(?:(?:has|had|is|was)\s+)?(?:never\s+(?:came|come|arrived|reached\s+me|showed\s+up)"
    r"|not\s+(?:arrived|come)|didn'?t\s+(?:arrive|come)|hasn'?t\s+(?:arrived|come)|expired|missing|gone)"
    r"|\bwhere(?:'s|\s+is)\s+my\s+invit(?:e|ation)\b"
    r"|\b(?:has|was|did)\s+my\s+invit(?:e|ation)\s+(?:(?:been|got|get|gone)\s+)?(?:sent|go\s+out|out)\b"
    r"|\bno\s+invit(?:e|ation)(?:\s+(?:email|e-mail|mail))?\s+(?:has\s+)?(?:arrived|came|reached\s+me"
    r"|in\s+my\s+(?:inbox|mailbox|mail))"
    r"|(?:^\W*the|\bmy)\s+invit(?:e|ation)\s+(?:email\s+|e-mail\s+|link\s+)?(?:has\s+|had\s+|is\s+)?expired"
    # the whole message: "no invitation email yet"
    r"|^\W*(?:still\s+)?no\s+invit(?:e|ation)(?:\s+(?:email|e-mail|mail))?(?:\s+yet)?\W*$"
)


_READ_AT_MOST = 1_000
"""Characters read from the start of a message: people say it there, and reading a 100 kB paste costs about
0.5 microseconds a character (30-80 ms)."""


# What may follow "to" or "for" in the rest of the asker's clause when the invitation is still theirs:
# themselves, joining, the directory or the move, a while ("for two days"). Anyone or anything else ("for our
# contractor", "to work with allowInvitesFrom", "for the vendor") makes it someone else's or an admin's.
_THEIRS_TO_OR_FOR = (
    r"(?:me|myself|join|access|accept|sign|log\s+in|get\s+in|it|you"
    r"|my\s+(?:own\s+)?(?:e-?mail|address|inbox|mailbox|account|gmail|outlook|hotmail|personal|guest)"
    r"|(?:the|our|your|this|that)\s+(?:[\w'-]+\s+)?(?:directory|tenant|organi[sz]ation|org|company|domain|entra"
    r"|azure|devops|ado|migration|move|guest\s+account|b2b)"
    r"|azure|entra|devops|ado|dev\.azure|microsoft"
    r"|(?:a|an|one|two|three|four|five|several|many|\d+|the\s+(?:past|last))\s+(?:\w+\s+)?"
    r"(?:minutes?|hours?|days?|weeks?|months?|while)|ages|days|weeks|hours)\b"
)
_SOMEONE_OR_SOMETHING_ELSE = re.compile(
    r"(?i)\b(?:to|for)\s+(?!" + _THEIRS_TO_OR_FOR + r")\S"
    r"|\b(?:meeting|call|stand-?up|sync|kick-?off|webinar|event|calendar|channel|zoom|review|workshop"
    r"|training|session|interview|demo|audit|portal|admin\s+cent(?:er|re)|graph)s?\b"
)
_CLAUSE_END = re.compile(r"(?i)[,;:.!?\n]|\b(?:and|but|so|because|since|although|though|while|when)\b")
# An invitation failing with a code or status is the admins' error topic ("... Graph says 403 Forbidden
# Authorization_RequestDenied"), whoever asks.
_AN_ERROR = re.compile(
    r"\b(?:[45]\d\d|[A-Z][A-Za-z]*_[A-Z][A-Za-z]+)\b|(?i:\b(?:forbidden|unauthori[sz]ed|exception)\b)"
)


def missing_invitation(question: str) -> bool:
    """Whether the asker says their own invitation never came, cannot be found, or expired ("how do I invite a
    guest?", "the invitation email to our vendor bounced", "I never got the invites out, Graph says 403":
    no)."""
    text = question[:_READ_AT_MOST]
    if not any(_theirs(text[match.end() :]) for match in _MISSING.finditer(text)):
        return False
    return ERROR_CODE.search(text) is None and _AN_ERROR.search(text) is None


# "should I accept the invitation?", "do I have to accept this invite?", "is it safe to accept it?": whether
# to accept their own, not how an admin's invitations work (`_NOUN` leaves their settings out).
_WHETHER_TO_ACCEPT = re.compile(
    r"(?i)\b(?:should|shall|must|can|may|could)\s+(?:i|we)\s+(?:really\s+|just\s+|safely\s+|go\s+ahead\s+and\s+)?"
    r"(?:accept|click\s+(?:on\s+)?accept|open)\b"
    r"|\b(?:do|will)\s+(?:i|we)\s+(?:need|have|want)\s+to\s+accept\b"
    r"|\bis\s+it\s+(?:safe|ok(?:ay)?|fine|alright|necessary|required|mandatory)\s+to\s+accept\b"
    r"|\bwhat\s+(?:happens\s+)?if\s+i\s+(?:don'?t\s+|do\s+not\s+)?accept\b"
    r"|\bis\s+(?:this|the|that|my)\s+invit(?:e|ation)\s+(?:email\s+)?(?:safe|legit(?:imate)?|real|genuine|a\s+scam"
    r"|phishing|spam)\b"
)
_AN_INVITATION = re.compile(r"(?i)" + _NOUN)


def asks_whether_to_accept(question: str) -> bool:
    """Whether the asker asks whether to accept their invitation ("should I accept the invitation?"); not
    about someone else's ("should I accept the invitation for our vendor?") nor an error, as
    `missing_invitation` reads them."""
    text = question[:_READ_AT_MOST]
    asked = _WHETHER_TO_ACCEPT.search(text)
    if asked is None or _AN_INVITATION.search(text) is None:
        return False
    return _theirs(text[asked.end() :]) and ERROR_CODE.search(text) is None and _AN_ERROR.search(text) is None


def accept_it(context: AskerContext) -> str:
    """The answer's first words to "should I accept the invitation?": yes, for an invitation of the move."""
    invitation = context.invitation
    if invitation is not None and invitation.accepted:
        return ""  # their own case says it is done
    if invitation is not None or context.outcome == "invite":
        return (
            "Yes, accept it, with the address it went to: it is how you get into the organization once it is"
            " connected to the company's directory."
        )
    if context.outcome is not None:
        return ""  # not invited: their own case says why they need none
    return (
        'Yes, if it comes from "Microsoft Invitations on behalf of" your company: accepting it, with the'
        " address it went to, is how you get into the organization once it is connected to the company's"
        " directory."
    )


def _theirs(after: str) -> bool:
    """Whether the rest of the clause after a match leaves the invitation the asker's own."""
    clause = _CLAUSE_END.split(after, maxsplit=1)[0]
    return _SOMEONE_OR_SOMETHING_ELSE.search(clause) is None


def own_case(context: AskerContext) -> str | None:
    """The reply for an asker the migration knows: their invitation (sent, not sent yet, accepted), or why
    they need none. None when it does not know them (`every_case`), or knows them invited without the
    invitation's record (then the topic's note for invitees)."""
    if context.migration is None or (context.outcome is None and context.invitation is None):
        return None
    if context.invitation is not None:
        lines = _invited(context.invitation, context)
    elif context.outcome in ("auto", "map"):
        lines = _not_invited(context)
    elif context.outcome == "disabled":
        where = "`todo` names them" if context.list_to_come else "your to-do list has the button for it"
        lines = [
            "You get no invitation: a directory account with your address exists but is disabled. If you"
            f" still need access, tell the migration admins ({where})."
        ]
    elif context.outcome == "ambiguous":
        lines = [
            "You get no invitation: several directory accounts match your address, and the admins choose the"
            " one you sign in with. Tell them its sign-in name."
        ]
    else:
        return None
    if context.is_admin:
        lines.append(_ADMIN_TIP)
    return "\n".join([TITLE, *lines, way_to_a_person(context)])


def accept_invitation_help(context: AskerContext) -> str | None:
    """Help with the to-do item *Accept the invitation*: the facts the reply to "I never got the invitation
    email" gives (sent on, to, accepting without the email). Asking for it tells the admins already, so it
    names no button to press. None when the migration has no record of their invitation."""
    if context.invitation is None:
        return None
    return "\n".join(_invited(context.invitation, replace(context, admins=())))


def every_case(context: AskerContext) -> str:
    """For an asker the bot does not know: which case they may be in, briefly."""
    return "\n".join(
        [
            TITLE,
            "Whether you get one depends on your case:",
            "- You have a work account in the company's directory (your address is the company's): you need"
            " no invitation. Sign in with that work account once the organization is connected.",
            "- Your address is not the company's (gmail.com, outlook.com, a partner's domain): you are"
            f" invited as a guest. The email comes from {FROM}, with an *Accept invitation* button. Look in"
            " junk, spam and quarantine too. Not there, or expired: ask the admins to send it again, or for"
            f" the directory's own apps link ({_MY_APPS}/?tenantid= and its id) to accept it there.",
            f"Microsoft's page: {REDEMPTION_PAGE}",
            way_to_a_person(context),
        ]
    )


def why_refused(context: AskerContext) -> str:
    """For an invitee refused at sign-in after connecting: where their invitation stands ("" for anyone
    else)."""
    invitation = context.invitation
    if invitation is None:
        return ""
    if invitation.verified:
        return (
            f"You have accepted your invitation: sign in with {invitation.address}. Still refused an hour"
            " later? Ask an admin."
        )
    if invitation.accepted:
        return (
            f"Your list shows your invitation ticked as accepted: sign in with {invitation.address}. Refused?"
            f" {_accept_without_the_email(invitation)}, or ask an admin."
        )
    if not invitation.sent and invitation.unconfirmed:
        called_off = phase_of(context.stage) == CANCELLED
        return _unconfirmed(invitation, "Yours", closed=_closed(context), called_off=called_off)
    if not invitation.sent:
        return f"Your invitation has not been sent yet: {_ask_admins(context, 'send it (`invite`)')}."
    when = f" on {_date(invitation.sent_at)}" if invitation.sent_at else ""
    return (
        f"Yours was sent{when} to {invitation.address} and is not accepted yet. Cannot find it?"
        f" {_accept_without_the_email(invitation)}."
    )


def not_accepted_yet(context: AskerContext) -> str | None:
    """For an invitee refused by Azure DevOps once connected ("git push fails with 401"), before what the
    topic says: their invitation, not accepted yet, is the likely cause, and how to accept it (their own
    link only where it may be shown: `OwnInvitation.redeem_url`). None when it is accepted, or not theirs."""
    invitation = context.invitation
    if invitation is None or invitation.accepted or phase_of(context.stage) != "after":
        return None
    if not invitation.sent and invitation.unconfirmed:
        return (
            "First, the likely cause: until you have accepted your invitation to"
            f" {invitation.directory}, Azure DevOps refuses you, whatever you sign in with."
            f" {_unconfirmed(invitation, 'Yours', closed=_closed(context))}"
        )
    if not invitation.sent:
        ask = _upper_first(_ask_admins(context, "send it (`invite`)"))
        return (
            f"First, the likely cause: your invitation to {invitation.directory} has not been sent yet, and"
            f" until you have accepted it Azure DevOps refuses you, whatever you sign in with. {ask}."
        )
    when = f" on {_date(invitation.sent_at)}" if invitation.sent_at else ""
    if invitation.redeem_url:
        how = (
            f"Your own link to accept it is {invitation.redeem_url}: open it and sign in with"
            f" {invitation.address} (keep it to yourself, it is your invitation)."
        )
    else:
        anyway = _lower_first(_accept_without_the_email(invitation))
        how = f"*Accept the invitation* on your to-do list says how, or without the email: {anyway}."
    return (
        f"First, the likely cause: your invitation to {invitation.directory}, sent{when} to"
        f" {invitation.address}, is not accepted yet, and until it is Azure DevOps refuses you, whatever you"
        f" sign in with. {how}"
    )


_ADMIN_TIP = (
    "Admin tip: someone else's invitation missing? `/aad status` shows who was invited; resend it in the"
    " Microsoft Entra admin center > Users > their guest account > B2B collaboration > Resend invitation."
)


def _invited(invitation: OwnInvitation, context: AskerContext) -> list[str]:
    address, directory = invitation.address, invitation.directory
    signing_in = f"sign in to {organization_url(context.organization)} with {address}, not a work account."
    if invitation.verified:
        return [
            f"You have accepted your invitation already: you signed in as {address}, a guest of {directory}."
            f" Just {signing_in}"
        ]
    accept_anyway = _accept_without_the_email(invitation)
    if invitation.accepted:
        return [
            f"Your to-do list shows *Accept the invitation* ticked: if you accepted it, just {signing_in}"
            f" Refused? It may not be accepted after all. {accept_anyway}."
        ]
    phase = phase_of(context.stage)
    if not invitation.sent and phase == CANCELLED:
        return [f"Your invitation was not sent. {_CALLED_OFF}"]
    if not invitation.sent and invitation.unconfirmed:
        if _closed(context):
            lines = [_unconfirmed(invitation, "Your invitation", closed=True)]
        elif invitation.mailed:
            lines = [_went_out(invitation, "Your invitation"), _LINK_FETCHED_NEXT]
        else:
            lines = [
                _may_have_gone_out(invitation, "Your invitation"),
                f"{_checked_from(invitation)} If none went out, that `invite` sends it; if one did, it first"
                " waits to see you in the directory, so you should not get a second one.",
            ]
        if phase == "after":
            lines.append(_REFUSED_UNTIL_ACCEPTED)
        return [*lines, f"Microsoft's page: {REDEMPTION_PAGE}"]
    if not invitation.sent:
        lines = [f"Your invitation has not been sent yet. {_when_sent(context)} It goes to {address}."]
        if phase == "after":
            lines.append(_REFUSED_UNTIL_ACCEPTED)
        return lines
    when = f" on {_date(invitation.sent_at)}" if invitation.sent_at else ""
    if phase == "before":
        meanwhile = (
            "Until the organization is connected nothing changes: keep signing in as you do today, and accept"
            " it before then, or you lose access at the switch (your work and history are kept)."
        )
    elif phase == CANCELLED:
        meanwhile = _CALLED_OFF
    else:
        meanwhile = f"Azure DevOps lets you in once you have accepted it: then {signing_in}"
    return [
        f"Your invitation was sent{when} to {address}. It comes from {FROM}, subject {SUBJECT}, with an"
        " *Accept invitation* button.",
        f'Search {address}\'s mailbox for "{SENDER}", in junk or spam too; if your mail is filtered, ask your'
        " mail administrator whether it is held in quarantine.",
        _without_the_email(invitation, accept_anyway, context),
        meanwhile,
        f"Microsoft's page: {REDEMPTION_PAGE}",
    ]


def _unconfirmed(
    invitation: OwnInvitation, subject: str, *, closed: bool = False, called_off: bool = False
) -> str:
    """An invitation whose answer Microsoft never gave, in short: what is known of it, and what the admins'
    next `invite` does about it; `closed`: the migration is over (`_closed`), so no `invite` comes, and the
    email, if it went out, is the way in, unless it was `called_off` and nothing changes for them."""
    if called_off:
        return f"{subject} may have gone out: Microsoft did not confirm it. {_CALLED_OFF}"
    if closed and invitation.mailed:
        return _went_out(invitation, subject)
    if closed:
        return _may_have_gone_out(invitation, subject, closed=True)
    if invitation.mailed:
        return f"{_went_out(invitation, subject)} {_LINK_FETCHED_NEXT}"
    return f"{_may_have_gone_out(invitation, subject)} {_CHECKED}"


def _closed(context: AskerContext) -> bool:
    """The migration is completed or cancelled: the admins' `invite` no longer runs for it."""
    return (context.stage or "").strip().casefold() in ("completed", "cancelled")


def _went_out(invitation: OwnInvitation, subject: str) -> str:
    """An invitation whose answer was lost and whose guest the directory shows since (`OwnInvitation.mailed`):
    its email went out, and what it looks like. Not when: the bot knows only when it asked for the link."""
    return (
        f"{subject} went out to {invitation.address}: Microsoft sent it from {FROM}, subject {SUBJECT}. Look"
        " in that mailbox, in junk or spam too, and accept it."
    )


def _may_have_gone_out(invitation: OwnInvitation, subject: str, *, closed: bool = False) -> str:
    """An invitation whose answer Microsoft never gave (`OwnInvitation.unconfirmed`): that it may have gone
    out, where and when, that the admins are checking (`closed`: that nobody does any more), and what the
    email looks like."""
    when = f" on {_date(invitation.unconfirmed_at)}" if invitation.unconfirmed_at else ""
    checking, otherwise = (
        (
            "the migration is closed, so nobody finds out any more nor sends it",
            f"; {NONE_CAME_ONCE_CLOSED}",
        )
        if closed
        else ("the admins are checking", "")
    )
    return (
        f"{subject} may have gone out to {invitation.address}{when}: Microsoft did not confirm it, and"
        f" {checking}. Look in that mailbox for mail from {FROM}, subject {SUBJECT}, in junk or spam too, and"
        f" accept it{otherwise}."
    )


_REFUSED_UNTIL_ACCEPTED = "The organization is connected: until you accept it, Azure DevOps refuses you."
_CHECKED = "If none went out, the admins' next `invite` sends it."
_LINK_FETCHED_NEXT = "The admins' next `invite` fetches your own link to accept it, with no second email."


def _checked_from(invitation: OwnInvitation) -> str:
    """When the admins can find out whether it went out: Microsoft's directory may not show a new guest at
    once."""
    moment, today = invitation.checked_from, invitation.read_at
    if moment is None:
        return "The admins' next `invite` finds out whether it did."
    when = f"{moment:%H:%M} UTC" if today is not None and today.date() == moment.date() else _date(moment)
    return f"Microsoft's directory shows whether it did from {when}, and the admins' next `invite` finds out."


def _without_the_email(invitation: OwnInvitation, accept_anyway: str, context: AskerContext) -> str:
    """Accepting without the email: first with their own link, when the bot has it and may show it here."""
    own = (
        f" Your own link to accept it is {invitation.redeem_url}: open it and sign in with"
        f" {invitation.address} (keep it to yourself, it is your invitation). Or:"
        if invitation.redeem_url
        else ""
    )
    return (
        f"Really not there, or the link expired: you need no email to accept it.{own} {accept_anyway}; or"
        f" {_ask_admins(context, 'send it again')}."
    )


def _when_sent(context: AskerContext) -> str:
    """When the invitations go out, from the migration's stage."""
    stage = (context.stage or "").casefold()
    if stage in ("inviting", "inviting_after_connecting"):
        return "The admins are sending the invitations right now: it should come within minutes."
    if stage == "waiting_for_invite_settings":
        return (
            "The admins are waiting for the directory's invite settings to take effect (up to an hour);"
            " then they send the invitations."
        )
    if phase_of(stage) == "before" and stage != "awaiting_approval":
        return "The admins send the invitations before they ask for approval to connect the organization."
    return f"{_upper_first(_ask_admins(context, 'send it (`invite`)'))}."


def _ask_admins(context: AskerContext, to: str) -> str:
    if context.admins and not context.admins_told:  # told: the reply has no button, and says they were
        return f"press *{ASK_AN_ADMIN}* and the admins {to}"
    return f"ask the migration admins to {to}"


def _not_invited(context: AskerContext) -> list[str]:
    if context.guest:
        return [
            "You need no invitation: the plan found you already a guest of the directory, with your own"
            " address. Sign in with that address, as you do today."
        ]
    phase = phase_of(context.stage)
    if phase == CANCELLED:
        return [f"You need no invitation. {_CALLED_OFF}"]
    after = phase in ("connecting", "after")
    return [
        "You need no invitation: you have a work account in the directory, and the plan matched you to it. "
        + (
            "Sign in with it (the one your to-do list names), not with your Microsoft account."
            if after
            else "Once the organization is connected you sign in with it; until then nothing changes."
        )
    ]


_CALLED_OFF = (
    "The migration was cancelled: nothing changes for you in Azure DevOps, keep signing in as you do today."
)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def _accept_without_the_email(invitation: OwnInvitation) -> str:
    """Accepting at the directory's own apps page. Without the directory's id there is no such link: a link
    that does not name the directory signs a guest in to their own (`REDEMPTION_PAGE`: "a direct link is
    tenant-specific")."""
    tenant = invitation.tenant_id.strip()
    if not tenant or not all(ch.isalnum() or ch in "-." for ch in tenant):
        return (
            f"Ask the admins for {invitation.directory}'s own apps link and accept the prompt there, signed"
            f" in as {invitation.address}"
        )
    return (
        f"Open {_MY_APPS}/?tenantid={tenant}, sign in with {invitation.address} and accept the prompt from"
        f" {invitation.directory}"
    )
