"""What the FAQ says in chat: answers with their rating buttons, and the admins' review list."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation.messages import Actions, Block, Button, Heading, Message, Outgoing, Text, say
from faq import Answer
from faq.feedback import FeedbackItem

RATE_HELPFUL = "faq-helpful"
RATE_NOT_HELPFUL = "faq-not-helpful"
HELPFUL, NOT_HELPFUL = "Helpful", "Not helpful"
RATING_OF_LABEL = {HELPFUL.casefold(): RATE_HELPFUL, NOT_HELPFUL.casefold(): RATE_NOT_HELPFUL}
"""A rating button's label typed alone (as the console shows it) rates the asker's last answer."""
REVIEW_WORD = "faq"
_EXCERPT = 300


def answer(answer: Answer) -> Outgoing:
    """The answer; one-click topics when it is declined or only likely; Helpful / Not helpful when kept."""
    blocks: list[Block] = [Text(answer.answer)]
    if (answer.topic is None or answer.framed) and answer.alternatives:
        blocks.append(
            Actions(tuple(Button(_label(topic), "ask", topic) for topic in answer.alternatives[:3]))
        )
    if answer.rating is not None:
        blocks.append(
            Actions(
                (
                    Button(HELPFUL, RATE_HELPFUL, answer.rating, "primary"),
                    Button(NOT_HELPFUL, RATE_NOT_HELPFUL, answer.rating),
                )
            )
        )
    return Outgoing(Message(answer.answer.split("\n", 1)[0], tuple(blocks)))


def rated(item: FeedbackItem, helpful: bool) -> Outgoing:
    if helpful:
        return say("Thanks, glad it helped.")
    if item.status != "open":
        return say("Thanks. An admin already looked at this question.")
    return say(
        "Thanks for telling me. I passed your question on to the admins: they can point me to a better"
        " answer. Meanwhile, ask an admin in the migration channel if it is urgent."
    )


def review(items: Sequence[FeedbackItem], organization: str | None) -> Outgoing:
    """Open questions for the admins, each with one-click choices and the commands for the rest."""
    where = f" for {organization}" if organization else ""
    if not items:
        return say(f"No questions waiting for review{where}. Declined and not-helpful ones appear here.")
    count = f"{len(items)} question" if len(items) == 1 else f"{len(items)} questions"
    blocks: list[Block] = [Heading(f"{count} waiting for review{where}")]
    for item in items:
        why = _why_in_review(item)
        blocks.append(Text(f"*#{item.id}* ({why}):\n> {_excerpt(item.question)}"))
        buttons = [
            Button(f"#{item.id}: {_label(topic)}", REVIEW_WORD, f"review attach {item.id} {topic}")
            for topic in item.closest[:2]
            if topic != item.topic
        ]
        buttons.append(Button(f"#{item.id}: dismiss", REVIEW_WORD, f"review dismiss {item.id}"))
        blocks.append(Actions(tuple(buttons)))
    blocks.append(
        Text(
            "Attach another topic: `faq review attach N TOPIC`. Answer in your own words (for example where"
            " your help desk is): `faq review answer N TEXT`. Dismiss: `faq review dismiss N`. From then"
            " on I answer that question that way for this organization."
        )
    )
    return Outgoing(Message(f"{count} to review in the FAQ", tuple(blocks)))


def _why_in_review(item: FeedbackItem) -> str:
    if item.kind == "declined":
        return "I declined it"
    if item.topic is None:  # the answer rated was my "I don't know"
        return "rated not helpful; I had declined it"
    return f"rated not helpful (answered `{item.topic}`)"


def resolved(item: FeedbackItem) -> Outgoing:
    if item.status == "attached":
        return say(f"#{item.id} now answers with `{item.resolution_topic}` from now on. Thanks.")
    if item.status == "answered":
        return say(f"#{item.id} now gets your answer from now on. Thanks.")
    return say(f"#{item.id} dismissed.")


def _label(topic: str) -> str:
    return topic.replace("-", " ")


def _excerpt(question: str) -> str:
    flat = " ".join(question.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 3] + "..."
