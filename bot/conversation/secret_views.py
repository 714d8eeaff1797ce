"""A secret typed to the bot: the sender is told, privately, to change it now (walk38: a password posted in a
channel was masked in what the bot kept and quoted, yet nobody told Ivan everyone there had read it). The
note never repeats the secret, and nothing here logs the message."""

from __future__ import annotations

from bot.conversation.messages import Outgoing, say
from faq.redaction import CLIENT_SECRET, PASSWORD, PAT, TOKEN

_WHAT = {
    PASSWORD: "a password",
    PAT: "a personal access token",
    CLIENT_SECRET: "a client secret",
    TOKEN: "a token",
}
_CHANGE_PASSWORD = (
    "Change it now: a work account's at https://mysignins.microsoft.com/security-info/password/change, a"
    " personal Microsoft account's at https://account.live.com/password/change; a password of anything else"
    " where you sign in to it."
)
_CHANGE_CLIENT_SECRET = (
    "Replace it now: Microsoft Entra admin center > App registrations > the application > Certificates &"
    " secrets: add a new secret, put it where the old one was used, then delete the old one."
)
_REVOKE_ANY = "If it is a real one, revoke it where it was made and make a new one."


def posted_secret(kind: str, *, in_channel: bool, organization: str | None = None) -> Outgoing:
    """A private note on a message that gives a secret of this `kind` away (`faq.redaction.leaked`). In a
    channel everyone there has read it: what to do, now. In a direct message only the bot has, which keeps
    it masked: a shorter note. `organization`: the channel's migration, for a PAT's own revoke page."""
    what = _WHAT[kind]
    if not in_channel:
        return say(
            f"Your message holds {what}: I keep and pass on questions only with it masked. If it is real, it"
            " is safer changed, since it was written down.",
            private=True,
        )
    return say(
        f"Your message in the channel holds {what}, and everyone in the channel can read it: delete that"
        f" message. {_what_to_do(kind, organization)} I kept it masked, so nobody reads it from me.",
        private=True,
    )


def _what_to_do(kind: str, organization: str | None) -> str:
    if kind == PASSWORD:
        return _CHANGE_PASSWORD
    if kind == PAT:
        page = f"https://dev.azure.com/{organization or 'YOUR-ORGANIZATION'}/_usersSettings/tokens"
        return (
            f"Revoke it now: at {page} (User settings > Personal access tokens) select it and Revoke, then"
            " make a new one."
        )
    if kind == CLIENT_SECRET:
        return _CHANGE_CLIENT_SECRET
    return _REVOKE_ANY
