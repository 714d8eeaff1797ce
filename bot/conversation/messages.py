"""What the bot says, described once; each surface (console, Slack, Teams) renders it its own way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from faq.redaction import redact

ButtonStyle = Literal["primary", "danger", "default"]
ADDRESS = re.compile(r"[\w.+'#-]+@[\w-]+(?:\.[\w-]+)+")
"""A sign-in name as written, a guest's `#EXT#` one included; a full stop after it ends the sentence.
People's names are their addresses, so text with one names someone."""
MAX_BUTTON_VALUE = 2000
"""The longest value a button may carry on every surface (Slack's limit is the strictest)."""


@dataclass(frozen=True)
class Text:
    markdown: str
    """Slack-flavoured markdown: *bold*, _italic_, `code`, <url|label> links are not used."""


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Facts:
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    """A command word (`invite`, `approve`, `done`...) the surface sends back when clicked."""
    value: str = ""
    style: ButtonStyle = "default"
    confirm: str = ""
    """A question the surface asks before acting (removals): empty for none."""
    url: str = ""
    """A web page the button opens instead of sending `action` back (a link button): empty for none.
    Links only one person may see (an invitation's own link) go in buttons of their direct messages."""


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    title: str
    organization: str = ""
    """The migration the file belongs to (a surface that serves files binds the file to it)."""


Block = Text | Heading | Facts | Table | Actions | Attachment


@dataclass(frozen=True)
class Message:
    summary: str
    """One line that stands for the whole message (notifications, screen readers, logs)."""
    blocks: tuple[Block, ...] = ()
    private: bool = False
    """Only the person it answers may see it (mistakes, their own list, lists of people's addresses):
    Slack makes it ephemeral, a surface without ephemeral messages sends it by direct message."""
    impersonal: bool = False
    """A private reply about nobody's case, the same whoever asked: what went wrong with the words they
    used and how to put it right (`tell_privately`), or help. The only private reply a surface without
    ephemeral messages may leave where it was asked (its buttons for the asker alone), when it names no
    address. Any other (their own list or reminders, who was invited, a count's names) goes to them alone,
    however short."""

    @property
    def buttons(self) -> tuple[Button, ...]:
        return tuple(
            button for block in self.blocks if isinstance(block, Actions) for button in block.buttons
        )


@dataclass(frozen=True)
class Reply:
    """To whoever spoke, where they spoke."""


@dataclass(frozen=True)
class DirectMessage:
    email: str
    """People are addressed by email: each surface maps it to its own user id."""
    also: tuple[str, ...] = field(default=(), compare=False)
    """The same person's other addresses, tried in this order when no chat account has `email`; like
    `directory_id`, a way to find the person `email` names, not part of who it is."""
    directory_id: str | None = field(default=None, compare=False)
    """Their directory object id when known: Teams knows people by it, whatever their addresses."""
    candidates: tuple[str, ...] = field(default=(), compare=False)
    """Without one: the object ids of the directory accounts that may be theirs (the plan found several)."""

    @property
    def addresses(self) -> tuple[str, ...]:
        return (self.email, *self.also)

    @property
    def directory_keys(self) -> tuple[str, ...]:
        """What a directory finds them by, in order: the object id is who they are; their addresses may
        name them when the plan had none, and so may each account it could not choose between."""
        ids = (self.directory_id,) if self.directory_id else self.candidates
        return (*ids, *self.addresses)


@dataclass(frozen=True)
class Channel:
    channel: str | None = None
    """The channel the migration was started in when None."""


Audience = Reply | DirectMessage | Channel


@dataclass(frozen=True)
class Outgoing:
    message: Message
    to: Audience = field(default_factory=Reply)
    updates: str | None = None
    """Messages that share this key are copies of one thing (an approval prompt): update them all."""
    revises: bool = False
    """As the answer to a click, the clicked message as it now stands (a to-do list after *Done*): a surface
    that can may put it in the clicked message's place. Any other answer leaves that message as it is."""
    in_thread_only: bool = False
    """A reply that the channel it was asked in gets as a notice too, posted at the channel's top: a surface
    gives it only to words said in a thread of that channel (a reply under a post), which the notice does
    not reach; said at the top (a post of its own, a slash command, a click, the console) it would say it
    twice."""


def say(
    summary: str,
    *blocks: Block,
    to: Audience | None = None,
    updates: str | None = None,
    private: bool = False,
    revises: bool = False,
    impersonal: bool = False,
) -> Outgoing:
    message = Message(summary, blocks or (Text(summary),), private, impersonal)
    return Outgoing(message, to or Reply(), updates, revises)


def tell_privately(summary: str, *blocks: Block) -> Outgoing:
    """A reply only the person who spoke sees: what went wrong, and how to put it right (`impersonal`)."""
    return Outgoing(Message(summary, blocks or (Text(summary),), private=True, impersonal=True))


def for_you_alone(what: str) -> str:
    """Where `what` a channel's answer leaves out goes (people's names are their addresses): to whoever
    asked alone. Said as what the bot does, not as done: that message may not arrive (Teams then says in
    the thread that it could not deliver it, Slack says so to them privately)."""
    return f"📬 {what} I send to you alone, in a message only you see."


_FAILED_TURN_ECHO_CHARS = 80


def failed_turn_echo(what: str) -> str:
    """The words a failed turn was handling, as its log line and its reply name them on every surface:
    redacted whole, then only their beginning, since the person knows the rest. Redacted first: a token cut
    short no longer looks like one (rev78, fix143)."""
    said = redact(what)
    return said if len(said) <= _FAILED_TURN_ECHO_CHARS else said[: _FAILED_TURN_ECHO_CHARS - 1] + "…"


SENT_AGAIN = "Sent again, in case my earlier message did not reach you."


def sent_again(message: Message) -> Message:
    """A message whose first send its chat platform could not confirm, sent again at an admin's word
    (`retry-failed`): it says so first, so that whoever got both knows the second is the same, as it now
    stands."""
    return replace(
        message, summary=f"{SENT_AGAIN} {message.summary}", blocks=(Text(SENT_AGAIN), *message.blocks)
    )


_ASIDE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
"""`(MSA email = work email)`, `[Contractor]`: notes admins put into Azure DevOps display names."""


_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "sir", "dame", "rev"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "dds", "msc", "bsc"})


_JOB_WORDS = frozenset(
    {
        *("admin", "administrator", "analyst", "architect", "chief", "consultant", "contractor"),
        *("coordinator", "developer", "director", "engineer", "head", "intern", "lead", "manager"),
        *("officer", "president", "principal", "senior", "specialist", "staff", "vp"),
    }
)
_JOINED = re.compile(r"\s[\u2014\u2013\-|&/]\s|[|&]")
"""A dash, `|`, `&` or `/` between words: "Principal Engineer — Platform & Reliability", never a name."""


def _a_job_title(part: str) -> bool:
    """`Principal Engineer — Platform`, `Head of IT`: what some directories put after a comma, where the
    surname-first form has given names ("Hi Principal," greeted a 20,000-person walk's every list)."""
    return bool(_JOINED.search(part)) or any(_bare(word) in _JOB_WORDS for word in part.split())


def _bare(word: str) -> str:
    return word.strip(".").casefold()


def greeting_name(display_name: str) -> str:
    """Who a direct message greets: `Ann` for "Ann (MSA email = work email)", `Kim` for "Lee, Kim" (the
    directory's surname-first form), "Dr. Ann Smith", "Ann Smith, PhD" and "Ann Smith, Head of IT"; empty
    when the display name leaves no name (greet the address)."""
    name = " ".join(_ASIDE.sub(" ", display_name).split())
    parts = [part for part in name.split(",") if {_bare(word) for word in part.split()} - _SUFFIXES]
    parts = parts[:1] + [part for part in parts[1:] if not _a_job_title(part)]
    words = (parts[1] if len(parts) > 1 else parts[0] if parts else "").split()
    while len(words) > 1 and _bare(words[0]) in _TITLES:
        words = words[1:]
    return words[0] if words and any(char.isalpha() for char in words[0]) else ""
