"""What the FAQ says in chat: answers with their rating buttons, and the admins' review list."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation.messages import Actions, Block, Button, Heading, Message, Outgoing, Text, say
from bot.conversation.quoting import quoted
from faq import ASK_AN_ADMIN, Answer, Topic
from faq.feedback import NEW_PLACE_WORD, PLACE_WORDS, FeedbackItem, Paging

ASK_ADMIN = "ask-admin"
"""The *Ask an admin* button under an answer: it carries the question to the migration's admins."""
_QUESTION_CARRIED = 500
"""Characters of the question a button carries (Slack takes 2,000 in a button's value)."""
ASKED = " // asked: "
"""Between a topic button's topic and the question it answers, which its *Ask an admin* passes on."""
RATE_HELPFUL = "faq-helpful"
RATE_NOT_HELPFUL = "faq-not-helpful"
HELPFUL, NOT_HELPFUL = "Helpful", "Not helpful"
RATING_OF_LABEL = {HELPFUL.casefold(): RATE_HELPFUL, NOT_HELPFUL.casefold(): RATE_NOT_HELPFUL}
"""A rating button's label typed alone (as the console shows it) rates the asker's last answer."""
REVIEW_WORD = "faq"
MORE_WORD = "more"
"""`faq review more N`: the questions listed after question N (in the admin's paging when it showed N);
`faq review more N PLACE MARK` as a page gives them, those after it in its paging (`faq.feedback.Paging`);
`faq review more` alone: those after the admin's last page."""
REVIEW_PAGE = 10
"""Questions a review page shows: each is up to `_EXCERPT` characters with its buttons."""
_EXCERPT = 300


def answer(
    answer: Answer, *, question: str | None = None, asked: str = "", private: bool = False
) -> Outgoing:
    """The answer; one-click topics when it is declined or only likely, else the one its text offers for a
    second question ("Pick it below"); Helpful / Not helpful when kept; *Ask an admin* with the `question`
    when the asker's migration has admins to pass it to. `asked`: the words it answers, quoted under it: a
    person typing several lines quickly gets the answers as each is ready, not always in order, and "Sorry,
    I don't know the answer to that one" named no question. `private`: only the asker sees it (it names
    their own address)."""
    blocks: list[Block] = [Text(answer.answer)]
    if asked.strip():
        blocks.append(Text(f"↩️ In answer to: “{excerpt(asked)}”"))
    unsure = answer.topic is None or answer.framed
    offered = answer.alternatives[:3] if unsure else [answer.also] if answer.also else []
    carried = " ".join(question.split())[:_QUESTION_CARRIED] if question else ""
    if offered:
        values = {topic: f"{topic}{ASKED}{carried}" if carried else topic for topic in offered}
        blocks.append(Actions(tuple(Button(_label(topic), "ask", values[topic]) for topic in offered)))
    buttons: list[Button] = []
    if answer.rating is not None:
        buttons += [
            Button(HELPFUL, RATE_HELPFUL, answer.rating, "primary"),
            Button(NOT_HELPFUL, RATE_NOT_HELPFUL, answer.rating),
        ]
    if carried:
        buttons.append(Button(ASK_AN_ADMIN, ASK_ADMIN, carried))
    if buttons:
        blocks.append(Actions(tuple(buttons)))
    return Outgoing(Message(answer.answer.split("\n", 1)[0], tuple(blocks), private))


def passed_on(organization: str, admins: Sequence[str], *, again: bool) -> Outgoing:
    """The reply to *Ask an admin*."""
    if again:
        return say(f"The admins of the {organization} migration already have this question from you today.")
    to = f" ({', '.join(admins)})" if admins else ""
    return say(
        f"I passed your question to the admins of the {organization} migration{to}; one of them will"
        " answer you.",
        private=True,
    )


def rated(item: FeedbackItem, helpful: bool, *, admins: bool) -> Outgoing:
    """The reply to a rating. Not helpful keeps the question for `faq review`, which the admins read when
    they choose to: nobody is told, so the reply says so and, where there are admins to ask, offers
    *Ask an admin* with the (redacted) question."""
    if helpful:
        return say("Thanks, glad it helped.")
    if item.status != "open":
        return say("Thanks. An admin already looked at this question.")
    kept = (
        "Thanks for telling me. I keep your question for the admins to review: they can point me to a better"
        " answer the next time they look."
    )
    if not admins:
        return say(kept)
    text = f"{kept} To hear from one of them, press *{ASK_AN_ADMIN}* and I pass it on now."
    button = Button(ASK_AN_ADMIN, ASK_ADMIN, " ".join(item.question.split())[:_QUESTION_CARRIED])
    return Outgoing(Message(text, (Text(text), Actions((button,)))))


def review(
    items: Sequence[FeedbackItem],
    organization: str | None,
    *,
    total: int | None = None,
    later: int = 0,
    after: int | None = None,
    last: Paging | None = None,
) -> Outgoing:
    """A page of the open questions for the admins, each with one-click choices and the commands for the
    rest: `total` waiting in all, `later` of them listed after this page, which comes after question
    `after` (None: the first page) and ends at `last` in its paging. Only the admin who asked sees it:
    people asked some of these questions in a direct message."""
    where = f" for {organization}" if organization else ""
    total = len(items) if total is None else total
    if not total:
        return say(
            f"No questions waiting for review{where}. Declined and not-helpful ones appear here.",
            private=True,
        )
    count = f"{total} question" if total == 1 else f"{total} questions"
    if not items:
        return say(
            f"No more questions after #{after}: `faq review` lists the {count} waiting{where} from the top.",
            private=True,
        )
    blocks: list[Block] = [Heading(f"{count} waiting for review{where}")]
    if len(items) < total:
        first = max(1, total - later - len(items) + 1)
        blocks.append(
            Text(
                f"Here {first} to {first + len(items) - 1}: those rated *{NOT_HELPFUL}* first (my answer"
                " failed someone), then those I declined, each oldest first"
                + (", then those rated or asked since you began." if _new(last) else ".")
            )
        )
    for item in items:
        why = _why_in_review(item)
        blocks.append(Text(f"*#{item.id}* ({why}):\n> {excerpt(item.question)}"))
        buttons = [
            Button(f"#{item.id}: {_label(topic)}", REVIEW_WORD, f"review attach {item.id} {topic}")
            for topic in item.closest[:2]
            if topic != item.topic
        ]
        buttons.append(Button(f"#{item.id}: dismiss", REVIEW_WORD, f"review dismiss {item.id}"))
        blocks.append(Actions(tuple(buttons)))
    if later and last is not None:
        # the place and mark too: a question rated meanwhile is neither skipped nor shown again
        more = f"review {MORE_WORD} {last.item_id} {PLACE_WORDS[last.place]} {last.mark}"
        blocks.append(Text(f"{later} more after these: `faq {more}`, or the button."))
        blocks.append(Actions((Button(f"Next {min(later, REVIEW_PAGE)}", REVIEW_WORD, more),)))
    blocks.append(
        Text(
            "Attach another topic: `faq review attach N TOPIC`. Answer in your own words (for example where"
            " your help desk is): `faq review answer N TEXT`. Dismiss: `faq review dismiss N`. From then"
            " on I answer that question that way for this organization."
        )
    )
    return Outgoing(Message(f"{count} to review in the FAQ", tuple(blocks), private=True))


def _new(last: Paging | None) -> bool:
    """Whether the page reaches the questions that began to wait after its paging began."""
    return last is not None and PLACE_WORDS[last.place] == NEW_PLACE_WORD


def topics(known: Sequence[Topic]) -> Outgoing:
    """`faq review topics`: every topic an admin may attach a question to, by id and title."""
    lines = "\n".join(f"`{topic.id}`: {topic.title}" for topic in sorted(known, key=lambda topic: topic.id))
    return say(
        f"{len(known)} topics to attach",
        Text(f"{lines}\nAttach one with `faq review attach N TOPIC`."),
        private=True,
    )


def _why_in_review(item: FeedbackItem) -> str:
    if item.kind == "declined":
        return "I declined it"
    if item.topic is None:  # the answer rated was my "I don't know"
        return "rated not helpful; I had declined it"
    return f"rated not helpful (answered `{item.topic}`)"


def resolved(item: FeedbackItem) -> Outgoing:
    if item.status == "attached":
        return say(
            f"#{item.id} now answers with `{item.resolution_topic}` from now on. Thanks.", private=True
        )
    if item.status == "answered":
        return say(f"#{item.id} now gets your answer from now on. Thanks.", private=True)
    return say(f"#{item.id} dismissed.", private=True)


def _label(topic: str) -> str:
    return topic.replace("-", " ")


def excerpt(question: str) -> str:
    """A person's question as the admins see it: `quoted`, and cut to `_EXCERPT` characters."""
    flat = quoted(question)
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 3] + "..."
