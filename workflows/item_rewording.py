"""An item's body after it was written: the words the item templates (`workflows.todo`) share and that are
later found again in a stored body, and the rewriting of that body as the person's case moves on.

A body is stored as it was sent, so what changes it afterwards looks for these exact words: the pointers to
the item's *I need help* button (gone on a completed migration's list), the admins' step on an invitation
that may have gone out, the wait for a mapping by hand (ticked once Azure DevOps shows it), and the advice on
earlier history (kept once an invitation's item is done, until Azure DevOps shows that history mapped).
"""

from __future__ import annotations

import re

from workflows.mapping import RESOLVE_PAGE

TELL_THE_ADMINS = "; press *I need help* here to tell the admins."
THEN_PRESS_IT = ", then press *I need help*."
SETTLED_WITH_YOU = "press *I need help* here: the migration admins settle it with you"
PRESS_IT_HERE = " (press *I need help* here)"
_ASK_THEM = "; press *I need help* to ask them."
_WITHOUT_THE_BUTTON = {
    TELL_THE_ADMINS: ".",
    THEN_PRESS_IT: ", then ask the migration admins to send it again.",
    SETTLED_WITH_YOU: "ask the migration admins: they settle it with you",
    PRESS_IT_HERE: "",
    _ASK_THEM: ".",
}
"""How each item's words pointing to its *I need help* button read on the list of a completed migration,
which has no buttons (nobody would answer them): whom to ask instead is said once, above its items."""


def without_help_button(body: str) -> str:
    """An item's body as the list of a completed migration shows it: no button to press."""
    for pointer, closed in _WITHOUT_THE_BUTTON.items():
        body = body.replace(pointer, closed)
    return body


ADMINS_CHECKING = ", and the migration admins are checking"
SENT_IF_NOT = "If none went out, the admins send it, and I tell you here"
"""What follows an invitation Microsoft never confirmed, in the words of its item and its one reminder."""


_CHECKED_WITH_YOU = "the migration admins check it with you"
"""What a mapping to another account than planned is to the person while the migration runs: the admins were
told, and settle it with them (`on_a_closed_list` says whom to ask instead once nobody follows it)."""


def on_a_closed_list(body: str) -> str:
    """An item's body as the list of a completed migration shows it: no button to press
    (`without_help_button`), and no step of the admins to wait for, as `invite` no longer runs for it, nor
    a check of a mapping they no longer follow: whom to ask is said above the items."""
    for step in (ADMINS_CHECKING, f" {SENT_IF_NOT}.", f" {LINK_FETCHED}"):
        body = body.replace(step, "")
    return without_help_button(body.replace(_CHECKED_WITH_YOU, _CHECK_IT_CLOSED))


_CHECK_IT_CLOSED = "ask whom this list names above to check it with you"


def accepted(body: str, organization: str, *, seen: bool) -> str:
    """The body of an invitation's item done (`ACCEPT_INVITATION`, `INVITATION_IN_DOUBT`), as behind them:
    its steps no longer apply (*No email? Check your spam folder*, the admins checking or fetching its link),
    what it says of their earlier history (`history_advice`, a late invitee's, or where the watch saw it
    mapped since: `history_shown`) still does. Unless `seen`: ticked by a sign-in, which `verification`
    sees on their own entitlement, the one their history hangs on, once it shows a directory identity. So
    that history is on a directory account already, and the advice to map it no longer holds; which
    account `verification` does not record (Support may have mapped them to another than the one invited),
    so that sentence names none, and where the watch saw the mapping (an account the admins check with
    them, perhaps) says more."""
    done, sign_in, account = (
        ("You are in", "I can see you signed in", "a directory account")
        if seen
        else ("You accepted your invitation, you said", "you sign in", "the address it came to")
    )
    behind = f"{done}: {sign_in} to https://dev.azure.com/{organization} with {account}."
    history = _history_in(body)
    if seen and history.startswith(f" {_EARLIER_HISTORY}"):
        history = f" {_HISTORY_ON_THAT_ACCOUNT}"
    return behind + without_help_button(history)


_HISTORY_ON_THAT_ACCOUNT = (
    "Azure DevOps shows your old identity, with your earlier work history, on that account now: nothing is"
    " left to map."
)
"""Where a late invitee's earlier history is once a sign-in was seen on their old identity (`accepted`)."""


def link_fetched(who: str) -> str:
    """What `who`, the admins, do for someone whose invitation email went out with its link lost
    (`interrupted_invitations.mailed`), in the words of their item, list and reminder alike."""
    return (
        f"{who} fetch your own link to accept it at their next `invite`, with no second email, and I tell you"
        " here"
    )


LINK_FETCHED = f"{link_fetched('The migration admins')}."


MAPPED_FIRST = (
    "First the migration admins map your old identity to {account} (" + RESOLVE_PAGE + " > *Resolve*), which"
    " keeps your history yours: until they have, Azure DevOps refuses {account}. Meanwhile do the items"
    " that need no sign-in, such as clearing your Git credential cache. Once they have: "
)
"""How the sign-in item of someone mapped by hand opens: the order their case really has."""


def mapping_seen(
    body: str,
    account: str,
    *,
    planned: str | None,
    elsewhere: bool,
    was: str | None = None,
    was_elsewhere: bool = False,
) -> str:
    """The sign-in item of someone mapped by hand once Azure DevOps shows the mapping to `account`: its
    opening wait ticked, or (`was`: the account of the mapping it showed before, `was_elsewhere` when that
    was a wrong one it warned of) what it said of that (`planned`: the account the plan named, which the
    item was written for). Someone whose account came after the connection had no wait: the end of their
    item says where their earlier history is now (`history_shown`)."""
    opening = (
        _mapping_shown(was, planned, elsewhere=was_elsewhere)
        if was
        else MAPPED_FIRST.format(account=planned or account)
    )
    # an item reworded before its opening lost its tick (a tick on an open item reads as done: walk37 19)
    for said in (opening, f"{_TICKED}{opening}"):
        if body.startswith(said):
            return _mapping_shown(account, planned, elsewhere=elsewhere) + body.removeprefix(said)
    # written without the wait: for someone whose account came after the connection, its advice on their
    # earlier history (`history_advice`), or what it said of a mapping seen before, ends it
    return history_shown(body, account, elsewhere=elsewhere)


_TICKED = "✅ "


def _mapping_shown(account: str, planned: str | None, *, elsewhere: bool) -> str:
    if not elsewhere:
        return (
            f"The migration admins mapped your old identity to {account}, which keeps your history yours:"
            " Azure DevOps lets you in with it now. "
        )
    return (
        f"⚠️ Azure DevOps shows your old identity mapped to {account}, not to {planned}: {_CHECKED_WITH_YOU}."
        f" If {account} is yours, sign in with it; if not, ask them first. "
    )


def history_shown(body: str, account: str, *, elsewhere: bool) -> str:
    """A late item (a sign-in item, or an invitation's) once Azure DevOps shows the mapping to `account`: its
    advice on their earlier history (`history_advice`), or what it said of a mapping seen before, replaced
    in place by where Azure DevOps shows that history now: on `account`, as planned, or (`elsewhere`) on
    another than the one the item has them sign in with, which the admins check with them; unchanged if it
    holds neither (another case, or words of before). Applied twice, the second changes nothing."""
    said = _history_said(body)
    if said is None:
        return body
    before, after = body[: said[0]], body[said[1] :]
    shown = f"{_HISTORY_SHOWN} {account}"
    if not elsewhere:
        return f"{before} ✅ {shown}: {_STAYS_YOURS}{after}"
    # the address the item has them sign in as (`todo._sign_in`) or was invited at (`todo._access_items`),
    # not the plan's name for it: a guest's is `#EXT#`, which they never type
    signs_in_as = re.search(r" and sign in as (\S+)\. | email from .+? to (\S+) to join ", body)
    theirs = f", not to {signs_in_as.group(1) or signs_in_as.group(2)}" if signs_in_as else ""
    not_yours = f"If {account} is not yours, {_NOT_WITH_IT}"
    return f"{before} ⚠️ {shown}{theirs}: {_CHECKED_WITH_YOU}. {not_yours}{after}"


HISTORY_WORDS = "earlier work history"
"""What every body that says anything of earlier history holds (`_HISTORY_SAID`, `_HISTORY_ON_THAT_ACCOUNT`):
only the items of someone whose way in came after the connection say it (`history_advice`)."""
_EARLIER_HISTORY = "Your earlier work history stays with your Microsoft account"
_HISTORY_SHOWN = "Azure DevOps shows your old identity, with your earlier work history, mapped to"
_STAYS_YOURS = "it stays yours."
_NOT_WITH_IT = "do not sign in with it."
_HISTORY_SAID = (
    (f" {_EARLIER_HISTORY}", _ASK_THEM),
    (f" ✅ {_HISTORY_SHOWN}", _STAYS_YOURS),
    (f" ⚠️ {_HISTORY_SHOWN}", _NOT_WITH_IT),
)
"""How what a late item says of earlier history opens and ends: the advice of `history_advice`, or a mapping
seen since (`history_shown`)."""


def history_advice(account: str) -> str:
    """The procedure's FAQ on disconnected users who now have a directory identity."""
    return (
        f" {_EARLIER_HISTORY}: to keep it yours, the migration admins can map it to {account}"
        f" ({RESOLVE_PAGE} > Resolve, or Microsoft Support if that fails){_ASK_THEM}"
    )


def _history_in(body: str) -> str:
    """What `body` says of earlier history (`_HISTORY_SAID`), if anything (a body stored in other words says
    nothing)."""
    said = _history_said(body)
    return "" if said is None else body[said[0] : said[1]]


def _history_said(body: str) -> tuple[int, int] | None:
    """Where in `body` what it says of earlier history (`_HISTORY_SAID`) starts and ends, if it says any."""
    for opening, ending in _HISTORY_SAID:
        start = body.find(opening)
        end = body.find(ending, start) if start >= 0 else -1
        if end >= 0:
            return start, end + len(ending)
    return None
