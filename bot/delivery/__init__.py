"""Delivering the outbox, platform-neutral: a paced worker, exactly once across crashes, and reminders."""

from bot.delivery.notices import CHAT_MESSAGE, ChatNotice
from bot.delivery.outboxes import BackgroundOutbox, CollectingSender, InlineOutbox, NoticeOutbox
from bot.delivery.sender import NOT_IN_CHAT, DeliveryFailed, Envelope, Receipt, Sender
from bot.delivery.settings import DeliverySettings
from bot.delivery.worker import OutboxWorker

__all__ = [
    "CHAT_MESSAGE",
    "NOT_IN_CHAT",
    "BackgroundOutbox",
    "ChatNotice",
    "CollectingSender",
    "DeliveryFailed",
    "DeliverySettings",
    "Envelope",
    "InlineOutbox",
    "NoticeOutbox",
    "OutboxWorker",
    "Receipt",
    "Sender",
]
