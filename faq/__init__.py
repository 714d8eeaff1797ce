"""Offline answers to migration questions, with an honest "I don't know"."""

from faq._compose import ASK_AN_ADMIN, HOW_TO_REACH_A_PERSON, AskerContext, OwnInvitation, admins_named
from faq._invitation import accept_invitation_help
from faq._knowledge import CONTRACT_TOPICS, KnowledgeError, Topic
from faq.answerer import Answer, FaqAnswerer, default_answerer
from faq.unanswered import InMemoryUnansweredLog, UnansweredLog, UnansweredQuestion

__all__ = [
    "ASK_AN_ADMIN",
    "CONTRACT_TOPICS",
    "HOW_TO_REACH_A_PERSON",
    "Answer",
    "AskerContext",
    "FaqAnswerer",
    "InMemoryUnansweredLog",
    "KnowledgeError",
    "OwnInvitation",
    "Topic",
    "UnansweredLog",
    "UnansweredQuestion",
    "accept_invitation_help",
    "admins_named",
    "default_answerer",
]
