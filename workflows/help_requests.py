"""The words a person sends the admins from chat: "I need help with this item", their own question, or
which of several directory accounts is theirs; once a day each, never who spoke in a channel."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from storage import Database, Migration, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_threads import message_thread, supersede
from workflows.identities import directory_account, mailbox
from workflows.notices import CHANNEL_PREFIX
from workflows.plan import PlannedUser
from workflows.results import Actor, MigrationStatus
from workflows.results_todo_lists import TodoEntry
from workflows.schedules import commit_quietly

HELP_MESSAGE = "help_request"
CHOICE_SETTLED = "account_choice_settled"
"""An admin's card offering to decide for someone, once an admin has: who decided what, no buttons."""
CHOICE_THREAD = "account-choice"


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
        whom = _whom(item.migration_id, item.organization, asker, item.email or asker.email)
        return self._tell_admins(f"help-{item.id}", whom | about, recipients)

    def ask_admins(
        self, migration: MigrationStatus, asker: Actor, email: str, question: str, recipients: Sequence[str]
    ) -> bool:
        """Queue the asker's own question to the admins of `migration`, once a day per question; `email` is
        where the admins can answer them."""
        digest = hashlib.sha256(" ".join(question.casefold().split()).encode()).hexdigest()[:16]
        whom = _whom(migration.id, migration.organization, asker, email)
        key = f"question-{migration.id}-{email.casefold()}-{digest}"
        return self._tell_admins(key, whom | {"question": question}, recipients)

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
        whom = _whom(migration.id, migration.organization, asker, email)
        key = f"choice-{migration.id}-{person.id}-{account[0]}"
        return self._tell_admins(key, whom | {"chose": account[1], **_choices(person)}, recipients)

    def _tell_admins(self, key: str, about: dict[str, Any], recipients: Sequence[str]) -> bool:
        """`about`: whose words (`_whom`) and what they say."""
        now = self._now()
        with self._database.session() as session:
            today = now.date().isoformat()
            privately = any(not recipient.startswith(CHANNEL_PREFIX) for recipient in recipients)
            cards = _cards(about, f"{key}-{today}", recipients)
            messages = [
                NewMessage(
                    f"{key}-{today}-{recipient}", recipient, HELP_MESSAGE, shown | cards.get(recipient, {})
                )
                for recipient in recipients
                for shown in [_shown_to(recipient, about, privately=privately)]
            ]
            queued = enqueue_all(session, messages, now=now)
            fresh = any(message.id is None for message in queued)
            return commit_quietly(session) and fresh


def _whom(migration_id: int, organization: str, asker: Actor, listed: str) -> dict[str, Any]:
    """Whose words they are: their migration, their name, the address Azure DevOps lists them under
    (`listed`, one an admin can write to) and, when chat reaches them at another (mapped to a work account
    since: walk37 20), that one as `reach`. A guest speaking as their `#EXT#` name has no other mailbox."""
    whom = {"migration_id": migration_id, "organization": organization, "name": asker.name or listed}
    reach = mailbox(asker.email)
    if reach and reach.casefold() != listed.casefold():
        whom["reach"] = reach
    return whom | {"email": listed}


def _choices(person: PlannedUser | None) -> dict[str, Any]:
    """What a word to the admins carries to decide for someone several directory accounts match: their
    entitlement id and each account's object id and sign-in name, as `decide` takes them."""
    if person is None:
        return {}
    accounts = zip(person.candidates, person.candidate_names, strict=False)
    return {"person": person.id, "choices": [[account, name] for account, name in accounts]}


def _cards(about: dict[str, Any], key: str, recipients: Sequence[str]) -> dict[str, dict[str, Any]]:
    """For a word that offers each admin a button per account (`choices`): the thread its copies share,
    which a decision updates (`settle_choices`), and who sees the buttons (Teams shows a shared card's to
    those it names). None for the channel, which is shown no account."""
    if not about.get("choices"):
        return {}
    admins = [recipient for recipient in recipients if not recipient.startswith(CHANNEL_PREFIX)]
    thread = f"{CHOICE_THREAD}:{about['migration_id']}:{about['person']}:{key}"
    return {admin: {"updates": thread, "shared_with": admins} for admin in admins}


def settle_choices(
    session: Session, migration: Migration, person: PlannedUser, decision: int, now: datetime
) -> None:
    """An admin decided for `person` (`decision`: its audit entry): every admin's card that offered to decide
    for them says who decided what, without its buttons (a stale press would overwrite the decision: walk37
    2). A card not begun is never sent; one sent, or that may be, is updated."""
    prefix = f"{CHOICE_THREAD}:{migration.id}:{person.id}:"
    cards = session.exec(
        select(OutboundMessage).where(
            OutboundMessage.kind == HELP_MESSAGE,
            OutboundMessage.migration_id == migration.id,
            message_thread.startswith(prefix, autoescape=True),
        )
    ).all()
    account = directory_account(person)
    decided = {
        "person_address": person.principal_name,
        "account": "" if person.loses_access or account is None else account.user_principal_name,
        "decided_by": person.decided_by,
    }
    settled = []
    for card in cards:
        thread = str(card.payload["updates"])
        if card.status == "pending" and not card.in_flight and not card.uncertain:
            supersede(session, kinds=(HELP_MESSAGE,), thread=thread, before=now)
        elif card.status in ("pending", "sent"):
            kept = {key: card.payload[key] for key in _SETTLED_KEEPS if key in card.payload}
            payload = kept | decided | {"updates": thread}
            settled.append(
                NewMessage(f"{card.idempotency_key}-{decision}", card.recipient, CHOICE_SETTLED, payload)
            )
    enqueue_all(session, settled, now=now)


_SETTLED_KEEPS = ("migration_id", "organization", "name", "email", "reach", "chose")
"""What a settled card says again of the card it updates: whose it was, and what they said was theirs."""


def _shown_to(recipient: str, about: dict[str, Any], *, privately: bool) -> dict[str, Any]:
    """What a word to the admins says where `recipient` reads it. A channel, where people other than admins
    post, never holds who spoke (their name is their address), what they asked, nor their accounts: it
    hears only what kind of word it was (`withheld`), the item it is about, and whether each admin has the
    rest in a direct message (`sent_privately`), walk39 b."""
    if not recipient.startswith(CHANNEL_PREFIX):
        return about
    kind = _kind(about)
    kept = {key: about[key] for key in ("migration_id", "organization", "title", "key") if key in about}
    return kept | {"withheld": kind, "sent_privately": privately}


def _kind(about: dict[str, Any]) -> str:
    """What a channel's copy says someone did: said which account is theirs ("chose"), needs a decision
    between their accounts ("help", as copies queued before the others were told apart say), asked a
    question, or needs help with an item of their list."""
    if about.get("chose"):
        return "chose"
    if about.get("choices"):
        return "help"
    return "question" if about.get("question") else "item"
