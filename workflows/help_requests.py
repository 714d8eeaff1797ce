"""The words a person sends the admins from chat: "I need help with this item", their own question, or
which of several directory accounts is theirs; once a day each, never a person's accounts in a channel."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from storage import Database
from storage.outbox import NewMessage, enqueue_all
from workflows.notices import CHANNEL_PREFIX
from workflows.plan import PlannedUser
from workflows.results import Actor, MigrationStatus, TodoEntry
from workflows.schedules import commit_quietly

HELP_MESSAGE = "help_request"


class HelpRequests:
    """Queues the askers' words to the admins. `now` is the injected clock."""

    def __init__(self, database: Database, now: Callable[[], datetime]) -> None:
        self._database = database
        self._now = now

    def ask_for_help(
        self, item: TodoEntry, asker: Actor, recipients: Sequence[str], *, choosing: PlannedUser | None = None
    ) -> bool:
        """Queue "ASKER needs help with ITEM" to the admins (`channel:ID` or emails), once per item a day;
        `choosing`: the asker, while several directory accounts share their address (the notice offers
        each, to decide with).

        False when the admins were already told today about this item: a second click pings nobody.
        """
        about = {"title": item.title, "item_id": item.id, "key": item.key, **_choices(choosing)}
        email = item.email or asker.email  # an address to write to, not a guest's #EXT# name
        whose = (item.migration_id, item.organization, asker.name or email, email)
        return self._tell_admins(f"help-{item.id}", whose, about, recipients)

    def ask_admins(
        self, migration: MigrationStatus, asker: Actor, email: str, question: str, recipients: Sequence[str]
    ) -> bool:
        """Queue the asker's own question to the admins of `migration`, once a day per question; `email` is
        where the admins can answer them."""
        digest = hashlib.sha256(" ".join(question.casefold().split()).encode()).hexdigest()[:16]
        whose = (migration.id, migration.organization, asker.name or email, email)
        key = f"question-{migration.id}-{email.casefold()}-{digest}"
        return self._tell_admins(key, whose, {"question": question}, recipients)

    def tell_choice(
        self,
        migration: MigrationStatus,
        asker: Actor,
        email: str,
        person: PlannedUser,
        account: tuple[str, str],
        recipients: Sequence[str],
    ) -> bool:
        """Queue "ASKER says ACCOUNT (object id, sign-in name) is theirs" to the admins of `migration`, with
        every account that shares their address to decide with, once a day per account: the decision stays
        the admins' (`decide`). `email` is where the admins can answer them."""
        whose = (migration.id, migration.organization, asker.name or email, email)
        key = f"choice-{migration.id}-{person.id}-{account[0]}"
        return self._tell_admins(key, whose, {"chose": account[1], **_choices(person)}, recipients)

    def _tell_admins(
        self, key: str, whose: tuple[int, str, str, str], about: dict[str, Any], recipients: Sequence[str]
    ) -> bool:
        """`whose`: the migration's id and organization, the asker's name and address."""
        now = self._now()
        migration_id, organization, name, email = whose
        with self._database.session() as session:
            whom = {"migration_id": migration_id, "organization": organization, "name": name, "email": email}
            today = now.date().isoformat()
            privately = any(not recipient.startswith(CHANNEL_PREFIX) for recipient in recipients)
            messages = [
                NewMessage(f"{key}-{today}-{recipient}", recipient, HELP_MESSAGE, whom | shown)
                for recipient in recipients
                for shown in [_shown_to(recipient, about, privately=privately)]
            ]
            queued = enqueue_all(session, messages, now=now)
            fresh = any(message.id is None for message in queued)
            return commit_quietly(session) and fresh


def _choices(person: PlannedUser | None) -> dict[str, Any]:
    """What a word to the admins carries to decide for someone several directory accounts match: their
    entitlement id and each account's object id and sign-in name, as `decide` takes them."""
    if person is None:
        return {}
    accounts = zip(person.candidates, person.candidate_names, strict=False)
    return {"person": person.id, "choices": [[account, name] for account, name in accounts]}


def _shown_to(recipient: str, about: dict[str, Any], *, privately: bool) -> dict[str, Any]:
    """What a word to the admins says where `recipient` reads it. A channel never holds someone's accounts
    to choose between, nor the one they chose: people other than admins post there. It hears only that they
    said which is theirs, or need a decision (`withheld`), and whether each admin has the accounts, with a
    button for each, in a direct message (`sent_privately`)."""
    if not recipient.startswith(CHANNEL_PREFIX) or not about.get("choices"):
        return about
    kept = {key: value for key, value in about.items() if key not in ("choices", "person", "chose")}
    return kept | {"withheld": "chose" if about.get("chose") else "help", "sent_privately": privately}
