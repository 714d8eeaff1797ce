"""Tables, the engine and schema migrations (SQLite by default, PostgreSQL through AADBOT_DATABASE_URL)."""

from storage.audit import AuditTrailImmutable
from storage.database import DEFAULT_URL, Database, StorageError, open_database
from storage.models import (
    WITHOUT_PLAN,
    ActiveMigration,
    AffectedUser,
    Approval,
    ApprovalDecision,
    AuditEntry,
    Invitation,
    Migration,
    OutboundMessage,
    Reminder,
    SignInWatch,
    SlackMessageCopy,
    SlackProcessedRequest,
    TodoItem,
)
from storage.teams import (
    TeamsCardCopy,
    TeamsConversation,
    TeamsDispatch,
    TeamsFile,
    TeamsRateLane,
    TeamsSeenActivity,
    TeamsSharedCard,
)

__all__ = [
    "DEFAULT_URL",
    "WITHOUT_PLAN",
    "ActiveMigration",
    "AffectedUser",
    "Approval",
    "ApprovalDecision",
    "AuditEntry",
    "AuditTrailImmutable",
    "Database",
    "Invitation",
    "Migration",
    "OutboundMessage",
    "Reminder",
    "SignInWatch",
    "SlackMessageCopy",
    "SlackProcessedRequest",
    "StorageError",
    "TeamsCardCopy",
    "TeamsConversation",
    "TeamsDispatch",
    "TeamsFile",
    "TeamsRateLane",
    "TeamsSeenActivity",
    "TeamsSharedCard",
    "TodoItem",
    "open_database",
]
