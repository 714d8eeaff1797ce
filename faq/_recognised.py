"""Questions known by their words, not ranked: the asker's own case, and the topics a whole message names."""

from __future__ import annotations

from faq import _connect_for_me, _deleting, _happening, _kept, _licences, _own_case, _reading
from faq._answer import Answer
from faq._compose import AskerContext
from faq._ranking import Knowledge


def own_case(text: str, context: AskerContext, knowledge: Knowledge) -> Answer | None:
    """The answer to a question only the asker's own case answers (`faq._own_case`); None for any other,
    or when the bot knows no case of theirs."""
    if _own_case.asks_which_account(text):
        topic, said = _own_case.ACCOUNT_TOPIC, _own_case.which_account(context)
    elif _own_case.asks_whats_going_on(text):
        topic, said = _happening.TOPIC, _own_case.going_on(context)
    else:
        return None
    if said is None or topic not in knowledge.topics:
        return None
    return Answer(topic, 1.0, said, [], knowledge.topics[topic].link or None, own_case=True)


def topic(text: str, reading: _reading.Reading) -> str | None:
    """The topic the words of the whole message name: "what happens to my pull requests?" (`faq._kept`),
    "do the guests we invite need a paid license?" (`faq._licences`), "we can't delete our old tenant, Azure
    DevOps's application is in it" (`faq._deleting`), "can you click Connect for me?"
    (`faq._connect_for_me`)."""
    return (
        _connect_for_me.TOPIC
        if _connect_for_me.asks_the_bot_to_connect(text)
        else _kept.TOPIC
        if _kept.asks_what_happens_to_their_work(text)
        else _licences.TOPIC
        if _licences.asks_whether_guests_need_one(text)
        else _deleting.TOPIC
        if _deleting.asks_about_deleting_its_directory(reading)
        else None
    )
