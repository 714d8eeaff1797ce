"""Offline answers to migration questions, with an honest "I don't know"."""

from faq._compose import ASK_AN_ADMIN, AskerContext
from faq._knowledge import CONTRACT_TOPICS, KnowledgeError, Topic
from faq.answerer import Answer, FaqAnswerer, default_answerer
from faq.unanswered import InMemoryUnansweredLog, UnansweredLog, UnansweredQuestion

__all__ = [
    "ASK_AN_ADMIN",
    "CONTRACT_TOPICS",
    "Answer",
    "AskerContext",
    "FaqAnswerer",
    "InMemoryUnansweredLog",
    "KnowledgeError",
    "Topic",
    "UnansweredLog",
    "UnansweredQuestion",
    "default_answerer",
]
