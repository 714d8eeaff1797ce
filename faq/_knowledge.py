"""The knowledge base: topics loaded from `knowledge.json`, checked once at load time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

# The ids outside checks compare against (shared/contracts/faq.md); the knowledge base must keep them.
CONTRACT_TOPICS: tuple[str, ...] = (
    "disconnected-users-matching-identity",
    "mapping-error",
    "invite-403",
    "vs-subscription",
    "identity-picker-sign-in",
    "work-items-invalid-users",
    "email-not-found",
    "members-lose-access-warning",
    "git-credential-cache",
    "regenerate-pat",
    "ssh-keys",
    "account-picker-prompt",
    "guest-vs-member",
    "historic-user",
    "billing-subscription",
    "disconnect-first",
    "downtime",
    "invite-propagation",
    "who-can-connect",
    "owner-locked-out",
    "service-connections",
    "what-is-kept",
    "disconnect-directory",
    "directory-not-listed",
    "support-request",
    "tfvc-workspaces",
    "upn-change",
)

OUTCOMES = frozenset({"auto", "map", "invite", "disabled", "ambiguous"})
PHASES = frozenset({"before", "connecting", "after"})
# The asker's case: leaving Microsoft accounts for a directory, or switching from one directory to another.
CASES = frozenset({"first", "switch"})
# Whom a topic is written for: the admins running the move, or the people being moved (their own steps).
ADMINS, PEOPLE = "admins", "people"
AUDIENCES = frozenset({ADMINS, PEOPLE})


class KnowledgeError(ValueError):
    """The knowledge base file is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Note:
    """Extra text for askers matching every condition given (None means "any")."""

    text: str
    outcomes: frozenset[str] | None = None
    phases: frozenset[str] | None = None
    admin: bool | None = None
    cases: frozenset[str] | None = None
    guest: bool | None = None
    unless_tokens: str | None = None
    """`RENEW` or `KEEP`: left out for an asker whose tokens the bot knows to be in that case (a note on
    making new tokens is noise to someone whose own list says theirs keep working)."""
    tokens: str | None = None
    """`RENEW` or `KEEP`: only for an asker whose tokens the bot knows to be in that case, with the reason at
    `WHY_PLACE`, as their own list gives it: a topic that is not about tokens can still say what becomes of
    theirs ("the PAT in my variable group") without replacing its own answer as a token `Case` would."""


@dataclass(frozen=True)
class Case:
    """One of the answers a topic gives depending on who asks: only this one when the asker is known to be in
    it, all those the asker may be in (each after its `when`) otherwise, so no reply says both yes and no."""

    when: str
    """Who this is, as a label for an asker whose case is unknown ("First connection, same email")."""
    text: str
    outcomes: frozenset[str] | None = None
    cases: frozenset[str] | None = None
    alone: bool = False
    """For an asker known to be in this case, its text is the whole answer: "No need" followed by the steps
    to make a new token would say both."""
    tokens: str | None = None
    """`RENEW` or `KEEP`: the case of an asker whose personal access tokens the bot knows about, as their own
    to-do list has them (`workflows.tokens`), with the reason at `WHY_PLACE`. Such a case replaces the others,
    and is never shown to an asker the bot knows nothing of."""
    guest: bool | None = None
    """True: for a guest of the directory; False: for a member of it (who, in the directory, is not a guest
    is known only with the asker's outcome); None: either."""
    admin: bool | None = None
    """True: for the migration's admins (its owner among them); False: for anyone else in it, to whom the
    owner's way back in is not theirs to take; None: either. Outside a migration the bot does not know."""


CASES_PLACE = "{cases}"
"""The answer line where the asker's case goes."""
WHY_PLACE = "{why}"
"""Where a token case puts the reason the asker's tokens stop or keep working."""
RENEW, KEEP = "renew", "keep"


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    phrasings: tuple[str, ...]
    answer: str
    link: str
    related: tuple[str, ...]
    notes: tuple[Note, ...]
    only_about_the_move: bool = False
    """Answer only a message that mentions the move: the same words without it are an everyday question
    ("create a service connection"), not this topic."""
    long_only_about_the_move: bool = False
    """Answer a long message (a story, `LONG_FROM` and longer) only when it mentions the move: a one-line
    question asked of this bot is about the move, but a whole story of SSH or Git trouble that never names
    it is about something else (docs/faq-eval.md, round 10)."""
    cases: tuple[Case, ...] = ()
    """What differs by the asker's outcome or migration, shown at the answer's `{cases}` line."""
    audience: str | None = None
    """`ADMINS` or `PEOPLE` (the people being moved) when the topic is written for one of them; None: for
    everyone. Inside a migration, someone who is not an admin is offered the people's topic first when it is
    nearly as close as an admins' one (`faq._asker`)."""
    ranked: bool = True
    """False: answered only when a recogniser knows the question by its words (`faq._licences`); the index and
    the learned model never see it, so adding such a topic moves no ranking and no fit. Its phrasings are what
    the recogniser is tested on."""


def _strings(entry: dict[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = entry.get(field)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise KnowledgeError(f"{where}: `{field}` must be a non-empty list of non-empty strings")
    return tuple(value)


def _tokens_case(entry: dict[str, Any], field: str, where: str) -> str | None:
    """`entry`'s `field`: `RENEW`, `KEEP`, or None when it is left out."""
    value = entry.get(field)
    if value is not None and value not in (RENEW, KEEP):
        raise KnowledgeError(f"{where}: `{field}` must be {RENEW!r} or {KEEP!r}")
    return None if value is None else str(value)


def _tokens_with_why(raw: dict[str, Any], kind: str, where: str) -> str | None:
    """A note's or case's `tokens`, whose text, and only then, gives the reason at `WHY_PLACE`."""
    tokens = _tokens_case(raw, "tokens", where)
    if (tokens is not None) != (WHY_PLACE in raw["text"]):
        raise KnowledgeError(f"{where}: a `tokens` {kind} needs {WHY_PLACE!r} in its text, and only it")
    return tokens


def _choices(note: dict[str, Any], field: str, allowed: frozenset[str], where: str) -> frozenset[str] | None:
    if field not in note:
        return None
    values = frozenset(_strings(note, field, where))
    unknown = values - allowed
    if unknown:
        raise KnowledgeError(f"{where}: unknown {field} {sorted(unknown)}; use some of {sorted(allowed)}")
    return values


def _note(raw: Any, where: str) -> Note:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"]:
        raise KnowledgeError(f"{where}: each `for` note needs a non-empty `text`")
    for flag in ("admin", "guest"):
        if raw.get(flag) is not None and not isinstance(raw[flag], bool):
            raise KnowledgeError(f"{where}: `{flag}` must be true or false")
    tokens = _tokens_with_why(raw, "note", where)
    return Note(
        text=raw["text"],
        outcomes=_choices(raw, "outcome", OUTCOMES, where),
        phases=_choices(raw, "phase", PHASES, where),
        admin=raw.get("admin"),
        cases=_choices(raw, "case", CASES, where),
        guest=raw.get("guest"),
        unless_tokens=_tokens_case(raw, "unless_tokens", where),
        tokens=tokens,
    )


def _case(raw: Any, where: str) -> Case:
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(key), str) and raw[key] for key in ("when", "text")
    ):
        raise KnowledgeError(f"{where}: each `cases` entry needs a non-empty `when` and `text`")
    unknown = sorted(set(raw) - {"when", "text", "outcome", "case", "alone", "tokens", "guest", "admin"})
    if unknown:
        raise KnowledgeError(
            f"{where}: a `cases` entry depends only on outcome, case, guest, admin and tokens, not {unknown}"
        )
    for flag in ("admin", "guest"):
        if raw.get(flag) is not None and not isinstance(raw[flag], bool):
            raise KnowledgeError(f"{where}: `{flag}` must be true or false")
    tokens = _tokens_with_why(raw, "case", where)
    return Case(
        when=raw["when"],
        text=raw["text"],
        outcomes=_choices(raw, "outcome", OUTCOMES, where),
        cases=_choices(raw, "case", CASES, where),
        alone=raw.get("alone") is True,
        tokens=tokens,
        guest=raw.get("guest"),
        admin=raw.get("admin"),
    )


def _topic(raw: Any, position: int) -> Topic:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise KnowledgeError(f"topic #{position}: needs a string `id`")
    where = f"topic {raw['id']!r}"
    for field in ("title", "link"):
        if not isinstance(raw.get(field), str) or not raw[field]:
            raise KnowledgeError(f"{where}: `{field}` must be a non-empty string")
    if not raw["link"].startswith("https://"):
        raise KnowledgeError(f"{where}: `link` must be an https URL")
    notes = raw.get("for", [])
    if not isinstance(notes, list):
        raise KnowledgeError(f"{where}: `for` must be a list")
    cases = raw.get("cases", [])
    if not isinstance(cases, list):
        raise KnowledgeError(f"{where}: `cases` must be a list")
    answer = _strings(raw, "answer", where)
    audience = raw.get("audience")
    if audience is not None and audience not in AUDIENCES:
        raise KnowledgeError(
            f"{where}: `audience` must be one of {sorted(AUDIENCES)}, or left out for everyone"
        )
    if not isinstance(raw.get("ranked", True), bool):
        raise KnowledgeError(f"{where}: `ranked` must be true or false")
    if bool(cases) != (CASES_PLACE in answer):
        raise KnowledgeError(f"{where}: an answer with `cases` needs a line {CASES_PLACE!r}, and only then")
    return Topic(
        id=raw["id"],
        title=raw["title"],
        phrasings=_strings(raw, "phrasings", where),
        answer="\n".join(answer),
        link=raw["link"],
        related=tuple(raw.get("related", ())),
        notes=tuple(_note(note, where) for note in notes),
        only_about_the_move=raw.get("only_about_the_move") is True,
        long_only_about_the_move=raw.get("long_only_about_the_move") is True,
        cases=tuple(_case(case, where) for case in cases),
        audience=audience,
        ranked=raw.get("ranked", True),
    )


def parse_topics(document: Any) -> tuple[Topic, ...]:
    """Validate a knowledge document (the parsed JSON) and return its topics."""
    if not isinstance(document, dict) or not isinstance(document.get("topics"), list):
        raise KnowledgeError("the knowledge base needs a `topics` list")
    topics = tuple(_topic(raw, position) for position, raw in enumerate(document["topics"], start=1))
    ids = [topic.id for topic in topics]
    duplicates = sorted({topic_id for topic_id in ids if ids.count(topic_id) > 1})
    if duplicates:
        raise KnowledgeError(f"duplicate topic ids: {duplicates}")
    for topic in topics:
        unknown = [related for related in topic.related if related not in ids or related == topic.id]
        if unknown:
            raise KnowledgeError(f"topic {topic.id!r}: `related` names unknown or own ids {unknown}")
    return topics


def parse_off_topic(document: Any) -> tuple[str, ...]:
    """Subjects the bot does not cover; similarity to them counts against answering."""
    if not isinstance(document, dict) or "off_topic" not in document:
        return ()
    return _strings(document, "off_topic", "the knowledge base")


def parse_pages(document: Any, topic_ids: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Validate a pages document (`pages.json`, the parsed JSON): per topic id, its sections' text. Each
    section names one of the document's `pages`, so where every line comes from stays written down."""
    if not isinstance(document, dict) or not isinstance(document.get("pages"), dict):
        raise KnowledgeError("the pages document needs a `pages` table (where each section comes from)")
    sections = document.get("topics")
    if not isinstance(sections, dict):
        raise KnowledgeError("the pages document needs a `topics` table")
    parsed: dict[str, tuple[str, ...]] = {}
    for topic_id, entries in sections.items():
        if topic_id not in topic_ids:
            raise KnowledgeError(f"pages: unknown topic {topic_id!r}")
        if not isinstance(entries, list) or not entries:
            raise KnowledgeError(f"pages of {topic_id!r}: a non-empty list of sections")
        texts = []
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("page") not in document["pages"]:
                raise KnowledgeError(f"pages of {topic_id!r}: each section names one of the `pages`")
            if not isinstance(entry.get("text"), str) or not entry["text"]:
                raise KnowledgeError(f"pages of {topic_id!r}: each section needs a non-empty `text`")
            texts.append(entry["text"])
        parsed[topic_id] = tuple(texts)
    return parsed


# Where Microsoft keeps the pages about an organization's directory (connecting, switching, disconnecting,
# their FAQ); the general sign-in troubleshooting page and the includes quoted from are elsewhere.
_MOVE_PAGES_FOLDER = PurePosixPath("docs/organizations/accounts")


@cache
def _pages_document() -> Any:
    return json.loads(resources.files("faq").joinpath("pages.json").read_text(encoding="utf-8"))


@cache
def bundled_pages() -> dict[str, tuple[str, ...]]:
    """Sections of Microsoft's documentation per topic, shipped with the package (`pages.json`)."""
    return parse_pages(_pages_document(), frozenset(topic.id for topic in bundled_topics()))


@cache
def bundled_move_pages() -> frozenset[str]:
    """The names of Microsoft's pages about the move itself that `pages.json` quotes, as the last part of
    their address reads ("disconnect-organization-from-azure-ad")."""
    paths = (PurePosixPath(page["path"]) for page in _pages_document()["pages"].values())
    return frozenset(path.stem for path in paths if path.parent == _MOVE_PAGES_FOLDER)


@cache
def _bundled_document() -> Any:
    return json.loads(resources.files("faq").joinpath("knowledge.json").read_text(encoding="utf-8"))


@cache
def bundled_topics() -> tuple[Topic, ...]:
    """The knowledge base shipped with the package."""
    return parse_topics(_bundled_document())


@cache
def bundled_off_topic() -> tuple[str, ...]:
    return parse_off_topic(_bundled_document())
