"""The words people type, parsed once for every surface (`/aad WORDS`, a mention, the console)."""

from __future__ import annotations

import shlex
import unicodedata
from dataclasses import dataclass

from workflows.mapping import map_by_hand

SLASH_COMMAND = "/aad"


@dataclass(frozen=True)
class Usage:
    word: str
    arguments: str
    summary: str
    admin: bool = True
    example: str = ""
    """A whole command as someone would type it; `help WORD` shows it."""
    details: str = ""
    """What `help WORD` adds to the summary: when to use it, what happens, what is safe."""

    @property
    def synopsis(self) -> str:
        return f"{self.word} {self.arguments}".strip()

    @property
    def most_arguments(self) -> int | None:
        """How many words may follow; None when free text may (a reason, a date, a question, ids)."""
        names = self.arguments.replace("[", "").replace("]", "").split()
        if any(name in _FREE_TEXT or name.endswith("...") for name in names):
            return None
        return len(names)


_FREE_TEXT = frozenset({"REASON", "WHEN", "QUESTION"})
_ORG = "ORG may be left out while only one migration is in progress."
USAGES: tuple[Usage, ...] = (
    Usage(
        "rehearse",
        "[ORG TENANT]",
        "how to play the whole migration in the sandbox first",
        admin=False,
        example="rehearse fabrikam-fiber fabrikam.com",
        details="The commands that copy your organization and directory, read-only, into a file and play the"
        " migration on it in the sandbox, with your real users and nothing real touched.",
    ),
    Usage(
        "start",
        "ORG TENANT",
        "start migrating organization ORG to tenant TENANT (id or verified domain)",
        example="start fabrikam-fiber fabrikam.com",
        details="ORG is the name in https://dev.azure.com/ORG; TENANT the directory's tenant id or one of its"
        " verified domains. I check every prerequisite and compare the organization's users with the"
        " directory; nothing is changed yet.",
    ),
    Usage(
        "doctor",
        "ORG TENANT",
        "check that the bot's credentials can do everything the migration needs",
        example="doctor fabrikam-fiber fabrikam.com",
        details="Read-only: one check per capability (organization users, directory, invite settings,"
        " invitations, roles, billing, chat scopes). A missing permission is named as Microsoft spells it,"
        " with how to grant it. `start` runs it first.",
    ),
    Usage(
        "status",
        "[ORG]",
        "where the migration stands and what comes next",
        admin=False,
        example="status fabrikam-fiber",
        details="The stage, who started it, the plan's counts and, for its admins, the buttons for the next"
        f" step. {_ORG}",
    ),
    Usage(
        "plan",
        "[ORG]",
        "the per-user plan: who keeps access, who is mapped, who is invited",
        example="plan fabrikam-fiber",
        details="The first 25 users in chat and every user in the attached CSV, with their outcome and"
        f" directory account. {_ORG}",
    ),
    Usage(
        "recheck",
        "[ORG]",
        "check the prerequisites and rebuild the plan",
        example="recheck fabrikam-fiber",
        details="After fixing a failing check (or when the directory changed). A new plan voids a pending"
        " approval.",
    ),
    Usage(
        "announce",
        "[ORG] [WHEN]",
        "tell every affected user what will happen to them, and when",
        example="announce fabrikam-fiber Friday 14:00 UTC",
        details="Each person gets a direct message about their own case. Nobody is told twice, unless you"
        " give a new date. WHEN starts with a day I can read (2026-12-04, 4 December, Friday, tomorrow, in 3"
        " days, next week...), then your words if you like; a day already over, one I cannot read, a range"
        " (Mon-Fri) instead of the one day, or a mention of people or a channel, is refused. Alone, it"
        " tells whoever joined the plan since with the date they all have.",
    ),
    Usage(
        "invite",
        "[ORG]",
        "invite the users missing from the directory as B2B guests",
        example="invite fabrikam-fiber",
        details="Safe to repeat: nobody is invited twice. A 403 from the directory says which setting or"
        " role to change. After connecting it invites whoever still has no directory account, and their"
        " to-do lists then say to accept the invitation.",
    ),
    Usage(
        "decide",
        "[ORG] PERSON ACCOUNT",
        "decide for someone the plan cannot place: which directory account is theirs, or `no-access`",
        example="decide fabrikam-fiber hana@contoso.com hana.hart@fabrikam.com",
        details="PERSON is their Azure DevOps address; ACCOUNT the sign-in name of one of the accounts `plan`"
        " lists for them, or `no-access` when they knowingly lose access (their only account is disabled and"
        " stays so, or none is theirs). The plan then maps them to that account: the approval, their to-do"
        " list and their messages use it. Connecting maps nobody by hand: after it,"
        f" {map_by_hand()}. A changed plan voids a pending approval."
        " The buttons under `plan` do the same.",
    ),
    Usage(
        "request-approval",
        "[ORG] [anyway]",
        "ask another admin to approve connecting",
        example="request-approval fabrikam-fiber",
        details="Posts Approve / Reject here and to the other admins by direct message. The approval is"
        " bound to the current plan: any change voids it. While people the plan says to invite have no"
        " invitation it asks nothing and offers *Invite missing users*; `anyway` asks all the same.",
    ),
    Usage(
        "approve",
        "NUMBER",
        "approve a pending request by its number (the prompt's button does the same)",
        example="approve 7",
        details="Not by the admin who asked. Then the person who connects gets the portal steps.",
    ),
    Usage(
        "reject",
        "NUMBER [REASON]",
        "reject a pending request by its number",
        example="reject 7 wait for the Monday change window",
        details="The reason is shown to everyone who has the prompt.",
    ),
    Usage(
        "check-connection",
        "[ORG]",
        "check now whether the organization is connected",
        example="check-connection fabrikam-fiber",
        details="I also check on my own: after the approval every AADBOT_POLL_SECONDS (60 s unless set),"
        " before it less often; connected without an approval, every admin gets a 🚨 alarm at once."
        " This asks at once.",
    ),
    Usage(
        "notify",
        "[ORG]",
        "send every affected user their own to-do list",
        example="notify fabrikam-fiber",
        details="After connecting. Each person gets their list once; a live message here shows the delivery.",
    ),
    Usage(
        "check-sign-ins",
        "[ORG]",
        "read who signed in with their work account now (I also do it myself)",
        example="check-sign-ins fabrikam-fiber",
        details="After connecting I read the sign-ins every 15 minutes and everyone once a day; this reads"
        " everyone at once. Whoever signed in gets their item ticked as verified.",
    ),
    Usage(
        "progress",
        "[ORG] [csv]",
        "completion per item and per person, and where each to-do list stands",
        example="progress fabrikam-fiber",
        details="The people furthest behind in chat, everyone in the attached CSV (only you see it); `csv`"
        " attaches it even when everyone fits in chat.",
    ),
    Usage(
        "retry-failed",
        "[ORG]",
        "send again the to-do lists that could not be delivered or may not have arrived",
        example="retry-failed fabrikam-fiber",
        details="The failed ones, and those `progress` shows as *may have arrived* (chat did not confirm"
        " them, and the bot could not look), which say they are sent again in case the first did not arrive;"
        " so too what someone was told of their access before the lists. Nothing else goes twice, and"
        " nothing once the migration has ended.",
    ),
    Usage(
        "check-billing",
        "[ORG]",
        "check the billing subscription is in the new directory",
        example="check-billing fabrikam-fiber",
        details="If it is not, the steps to move it; admins are reminded before the month ends.",
    ),
    Usage(
        "complete",
        "[ORG] [confirm]",
        "close the migration",
        example="complete fabrikam-fiber",
        details="When billing is in the new directory. Reminders stop, so while anyone still has open items,"
        " no way in, or has not signed in with their work account, it names them and closes nothing until"
        " you press *Complete anyway* or say `complete ORG confirm`.",
    ),
    Usage(
        "stale-users",
        "[ORG] [DAYS]",
        "users with no sign-in for DAYS days (default 90)",
        example="stale-users fabrikam-fiber 120",
        details="Lists them with a button that removes exactly that list, after you confirm; the full list"
        " is attached as CSV.",
    ),
    Usage(
        "remove-users",
        "ORG USER... [confirm]",
        "remove users from the organization (after stale-users)",
        example="remove-users fabrikam-fiber 3f1c9a52-0000-4000-8000-000000000001",
        details="USER is an id from the `stale-users` CSV, an address, or a display name only one user has"
        " (`remove-users fabrikam-fiber gus@fabrikam.com`). It names them and removes nobody until you press"
        " the button and confirm, or say the same words ending in `confirm`. The owner and administrators"
        " are never removed. The button under `stale-users` does the same for the whole list.",
    ),
    Usage(
        "resume",
        "[ORG]",
        "go on after a failure",
        example="resume fabrikam-fiber",
        details="Runs the failed step again; every step is saved as it completes.",
    ),
    Usage(
        "connect-as-me",
        "[ORG]",
        "be the admin who connects, instead of the one who started (a guest, say)",
        example="connect-as-me fabrikam-fiber",
        details="Before connecting, for an admin who is an enabled Member of the directory and the owner or a"
        " Project Collection Administrator: the prerequisite checks are then for you (a failing"
        " connector-member or connector-admin check names who may), recorded in the audit trail. It checks"
        " the prerequisites again, which voids a pending approval.",
    ),
    Usage(
        "move-here",
        "[ORG]",
        "send the migration's notices to this channel from now on",
        example="move-here fabrikam-fiber",
        details="Type it in the channel every admin reads: a migration started in a direct message tells only"
        " its starter there, and each admin privately only what they must see (approved, connected, billing"
        " due, who could not be reached).",
    ),
    Usage(
        "cancel",
        "[ORG] [REASON]",
        "cancel the migration",
        example="cancel fabrikam-fiber wrong tenant",
        details="A reason needs the organization first, so a typo never cancels another migration; `cancel`"
        " alone only asks which one, with a button, and the *Cancel migration* button asks before it cancels."
        " Everyone told about the move or invited for it hears it is off, and whoever has the portal steps"
        " is told not to connect.",
    ),
    Usage(
        "todo",
        "",
        "your own to-do list",
        admin=False,
        example="todo",
        details='What you need to do after the move, with Done and I need help buttons. "What\'s left?"'
        " says the same, here or in a direct message.",
    ),
    Usage(
        "done",
        "ITEM",
        "tick off an item of your to-do list",
        admin=False,
        example="done 3",
        details="ITEM is the number in front of the item on your list (`todo` shows it); its Done button"
        ' does the same. Without ITEM (or "I did it already" in a direct message): your open items,'
        " each with its number.",
    ),
    Usage(
        "need-help",
        "ITEM",
        "help with an item of your to-do list; the admins are told",
        admin=False,
        example="need-help 3",
        details="You get the answer from the FAQ, and the migration admins hear you need a hand.",
    ),
    Usage(
        "my-account",
        "[ORG] [ACCOUNT]",
        "which of the directory accounts that share your address is yours; the admins are told",
        admin=False,
        example="my-account hana.hart@fabrikam.com",
        details="Only when several accounts in the directory share your address: without ACCOUNT I list them,"
        " each with a button. The migration admins record which one is yours; I tell you when they have.",
    ),
    Usage(
        "snooze",
        "[ITEM] 1d|1w",
        "put your reminders off by a day or a week",
        admin=False,
        example="snooze 1w",
        details="Puts off the reminders about your list; ITEM, if you give one, is a number on it. The"
        ' reminder\'s Snooze buttons do the same. `snooze` alone (or "remind me later"): when the next'
        " reminder comes, with a button for each.",
    ),
    Usage(
        "ask",
        "QUESTION",
        "ask anything about the move",
        admin=False,
        example="ask do I keep my Visual Studio subscription?",
        details="A question also works without `ask`, here or by direct message.",
    ),
    Usage(
        "faq",
        "review [more [N] | attach N TOPIC | answer N TEXT... | dismiss N | topics]",
        "teach the FAQ from the questions it declined or people rated Not helpful",
        example="faq review attach 4 owner-locked-out",
        details="Without more words: how many questions wait and the first 10, numbered, the ones rated Not"
        " helpful before the ones I declined; `more N` the next 10, listed after question N (its button does"
        " the same). `attach N TOPIC` answers question N and"
        " those like it with a FAQ topic; `answer N TEXT` with your own words (where your help desk is);"
        " `dismiss N` drops it; `topics` lists the topic ids. Only you see the list. Secrets are redacted"
        " before anything is kept.",
    ),
    Usage(
        "help",
        "[all | WORD]",
        "what you can do next; `help all` every word; `help WORD` one word",
        admin=False,
        example="help invite",
        details="Without a word: the next step of each migration you are part of.",
    ),
)
USAGE_OF = {usage.word: usage for usage in USAGES}
WORDS = frozenset(usage.word for usage in USAGES)


@dataclass(frozen=True)
class Command:
    word: str
    args: tuple[str, ...]
    text: str
    """Everything after the command word, as typed (questions keep their punctuation)."""
    problem: str | None = None
    """Why the words cannot be acted on at all, said back instead of running anything."""
    reply_to: str | None = None
    """The conversation the words came from (a channel, a direct message, a personal chat), where a long
    step's progress line goes; not the channel a migration runs in, which a direct message never is. None
    where nothing can be posted (Slack's App Home); the conversation sets it, parsing does not."""

    def arg(self, index: int) -> str | None:
        return self.args[index] if index < len(self.args) else None


_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})
_ZERO_WIDTH = frozenset("\u200b\u2060\ufeff")
"""Invisible and no space to the eye: a page breaking a long address, or a byte-order mark, puts them in."""


def typed_words(text: str) -> str:
    """What was typed after `/aad`, if it was typed at all (the console takes both).

    Unicode spaces (line and paragraph separators too) are spaces: a non-breaking one comes along when a
    command is pasted from a web page or Teams, and looks the same as any other. Zero-width characters
    are dropped: what they sit in reads as one word.
    """
    stripped = "".join(
        " " if unicodedata.category(char) in _SPACE_CATEGORIES else char
        for char in text
        if char not in _ZERO_WIDTH
    ).strip()
    if stripped.startswith(SLASH_COMMAND + " ") or stripped == SLASH_COMMAND:
        stripped = stripped[len(SLASH_COMMAND) :].strip()
    return stripped


def straight_apostrophes(text: str) -> str:
    """`can’t` as `can't`: phones and Teams type the apostrophe curly, and the patterns that read plain
    words (an own-list request, an account claimed) are written with the straight one."""
    return text.replace("\u2019", "'")


def parse(text: str) -> Command:
    """`start fabrikam-fiber fabrikam.com` -> Command("start", ...); nothing at all is `help`."""
    word, _, rest = typed_words(text).partition(" ")
    word = word.casefold().rstrip("?!.,:;")  # `status?` is `status`
    rest = rest.strip()
    try:
        args = tuple(shlex.split(rest))
    except ValueError:
        args = tuple(rest.split())
    if not word:
        return Command("help", (), "")
    return Command(word, args, rest, _problem(text, args))


MAX_NUMBER_DIGITS = 100
"""Longer runs of digits are no number anyone means; Python refuses to read them past 4,300 anyway."""
_TYPED_WHITESPACE = frozenset("\t\n\r")


def _problem(text: str, args: tuple[str, ...]) -> str | None:
    """Input no command can mean, refused before it reaches a database or a number parser."""
    control = next(
        (char for char in text if unicodedata.category(char) == "Cc" and char not in _TYPED_WHITESPACE), None
    )
    if control is not None:
        return (
            f"Your message contains an invisible control character (U+{ord(control):04X}), so I did nothing."
            " Type it again without it (pasting from a terminal or a document can bring one along)."
        )
    return next((too_long(arg) for arg in args if too_long(arg)), None)


def too_long(arg: str) -> str | None:
    """The refusal of a number, typed or a button's `#ID`, that is too long to be meant (and to read)."""
    digits = arg.removeprefix("#")
    if not (digits.isdecimal() and len(digits) > MAX_NUMBER_DIGITS):
        return None
    return (
        f"`{arg[:12]}…` has {len(digits):,} digits: far too long for any number I take, so I did"
        " nothing. `todo` lists your items with their numbers."
    )
