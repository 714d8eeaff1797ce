"""Deciding what a question is answered: the questions recognised before ranking, then the ranked topic
answered, framed or declined, and the cases the asker's own migration answers (their invitation, their
sign-in, what keeps them out)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from faq import (
    _answer,
    _asker,
    _compose,
    _declining,
    _deleting,
    _happening,
    _help_desk,
    _invitation,
    _language,
    _reading,
    _recognised,
    _sign_in,
    redaction,
)
from faq._answer import CLOSE_RUNNER_UP, Answer, after_title
from faq._calibration import LONG_FROM
from faq._compose import AskerContext
from faq._declining import WHAT_IT_IS
from faq._index import Ranking
from faq._knowledge import bundled_move_pages
from faq._ranking import Knowledge, about_a_topic, documents, other_question, rank

if TYPE_CHECKING:
    from faq.answerer import FaqAnswerer


def answer(answerer: FaqAnswerer, question: str, context: AskerContext | None = None) -> Answer:
    """`FaqAnswerer.answer`: what the message is, then what this asker is answered."""
    context = context or AskerContext()
    inside = context.migration is not None
    # A secret pasted into the question is no word of it ("my PAT is <token> stopped working"): read
    # without it, so what is asked is ranked as asked. It is masked again wherever the question is kept.
    reading = _reading.read(redaction.without_secrets(question), in_azure_devops=inside)
    text = reading.text  # as the patterns read it (`can’t` as `can't`); kept and rated as it came
    if context.case is None and reading.switching:
        context = replace(context, case="switch")
    knowledge = answerer._knowledge(context.organization)
    starters = _declining.starters(knowledge)
    if reading.unreadable:  # binary data or random characters: nothing for the admins to review either
        return Answer(None, 0.0, _compose.unreadable(starters, context), [topic.id for topic in starters])
    if _language.in_another_script(text):  # "ошибка 403 при приглашении": no topic's words but its codes
        # Read for its codes with the other script's letters left out ("出现TF400813错误"), by the rules
        # an English message's are: one topic's code decides the topic, as it does in English.
        coded = _reading.read(_language.latin_only(text), in_azure_devops=inside)
        decided = _declining.decided_by_code(knowledge.codes, coded, text)
        if decided is not None:
            note = _language.answered_note(coded.codes)
            return answerer._rated(_answer.chosen(knowledge, decided, context, opening=note), question)
        latin = rank(answerer.about, knowledge, reading, reading.text)
        reply, offered = _declining.in_another_language(
            knowledge.topics, knowledge.codes, latin, coded, starters, context
        )
        _declining.record_unanswered(answerer.unanswered, answerer._clock, question, offered, 0.0, context)
        other = Answer(None, 0.0, reply, [topic.id for topic in offered or starters])
        return answerer._kept(other, question, "declined", context)
    # "What is Entra ID?" (known before ranking, as below): the move's own topic, not a directory's.
    if _reading.asks_what_the_directory_is(text) and WHAT_IT_IS in knowledge.topics:
        explained = _answer.chosen(knowledge, WHAT_IT_IS, context)
        return answerer._rated(explained, question)
    # "hi, what is happening?", "will I lose access?" replying to the bot's notice, from someone on the
    # plan: their case, short; "will I lose access?" from someone no plan names: that.
    happening = _happening.reply(text, context)
    if happening is not None and answerer._asker_aware and _happening.TOPIC in knowledge.topics:
        link = knowledge.topics[_happening.TOPIC].link or None
        return answerer._rated(Answer(_happening.TOPIC, 1.0, happening, [], link, own_case=True), question)
    # "which account should I use?", "so what's going on with the migration?": the asker's own case
    # (`faq._own_case`), recognised by the words, not ranked; unknown to the bot, ranked as before.
    case = _recognised.own_case(text, context, knowledge) if answerer._asker_aware else None
    if case is not None:
        return answerer._rated(case, question)
    # Topics known by the words of the whole message, not ranked (`faq._recognised.topic`).
    recognised = _recognised.topic(text, reading)
    if recognised is not None and recognised in knowledge.topics:
        answer = _answer.chosen(knowledge, recognised, context)
        return answerer._rated(answer, question)
    # Asked inside a migration, a message is read as about the move; so is one that links one of
    # Microsoft's pages about it, or names Azure DevOps and tells of a move from one directory to another.
    # Of the real tuning questions 3 link such a page, all in scope; 4 in scope and 13 out of scope name
    # Azure DevOps and a switch, and reading those so answers 1 more in scope and no out-of-scope one
    # (docs/faq-eval.md, brief faq43). Only here: the calibration is fitted on the words alone.
    read_as_inside = (
        inside
        or (reading.switching and reading.names_azure_devops)
        or (bool(answerer._pages) and _reading.links_a_page(reading, bundled_move_pages()))
    )
    # "who are you?" (known before ranking, which it does not need), or nothing asked yet ("", "?!",
    # "hey bot"): what the bot is, and starting points.
    ranking = (
        None
        if reading.about_the_bot
        else rank(answerer.about, knowledge, reading, text, in_migration=read_as_inside)
    )
    if ranking is None or ranking.word_count == 0:
        return Answer(None, 0.0, _compose.introduction(starters, context), [topic.id for topic in starters])
    # An ungrounded question (the topics know too few of its words) has no meaningful confidence.
    judge = answerer.calibration.for_length(ranking.length)
    confidence = answerer.calibration.assess(ranking) if ranking.grounded else 0.0
    # "how do I delete my organization?": no step of the move and no topic's, whatever topic shares its
    # words (the stale users' "delete"): declined with its closest topics (`faq._deleting`).
    if _deleting.asks_how_to_delete_the_organization(reading):
        declined = _declining.declined(
            answerer.unanswered, answerer._clock, knowledge, question, confidence, ranking, context, reading
        )
        return answerer._kept(declined, question, "declined", context)
    # "I never got the invitation email" is answered by who asks, not by its words (`faq._invitation`).
    # So is an invitee's "I can't accept the invitation, it won't let me sign in".
    if _invitation.missing_invitation(text) or (
        answerer._asker_aware and _asker.own_invitation_trouble(text, context)
    ):
        invitation = _invitation_reply(answerer._asker_aware, knowledge, confidence, ranking, context)
        if invitation is not None:
            return answerer._rated(invitation, question)
    # "should I accept the invitation?": their invitation, yes first (not the admins' invite settings).
    if _invitation.asks_whether_to_accept(text):
        accept = _invitation.accept_it(context) if answerer._asker_aware else ""
        invitation = _invitation_reply(
            answerer._asker_aware, knowledge, confidence, ranking, context, opening=accept
        )
        if invitation is not None:
            return answerer._rated(invitation, question)
    # "My account is disabled, what do I do?" from someone the plan found so: their list's first item.
    disabled = _sign_in.account_disabled(context) if answerer._asker_aware else None
    if disabled is not None and _asker.says_own_account_disabled(text, context):
        topic_id = _asker.LOCKED_OUT if _asker.LOCKED_OUT in knowledge.topics else None
        return answerer._rated(Answer(topic_id, confidence, disabled, [], None), question)
    # "I can't sign in, it says not authorized" from someone the admins have yet to map by hand: that. Not
    # a pipeline's refused token, nor an error code another topic documents.
    unmapped = _sign_in.not_mapped_yet(context) if answerer._asker_aware else None
    if (
        unmapped is not None
        and _asker.cannot_sign_in(text)
        and _asker.refused_in_short(text, ranking)
        and not reading.codes
    ):
        topic_id = _asker.LOCKED_OUT if _asker.LOCKED_OUT in knowledge.topics else None
        return answerer._rated(Answer(topic_id, confidence, unmapped, [], None), question)
    # "git push fails with 401" from someone whose list opens with what only others can unblock (their
    # invitation, a disabled account, the admins' choice of account): that is the likely cause, said
    # before whatever the topic says.
    blocked = _blocked_first(answerer._asker_aware, text, context)
    # "My pipeline is refused its token now": what breaks it for this asker is whether their tokens
    # still work. Not for a message about none of the topics ("my agent is offline"): it stays declined.
    automation = (
        _asker.own_automation_trouble(text, ranking, context, knowledge.topics)
        if answerer._asker_aware and about_a_topic(ranking)
        else None
    )
    if automation is not None:
        ranking = _asker.first(ranking, automation)
        answer = _answer.answered(
            knowledge, automation, confidence, ranking, context, framed=True, opening=blocked
        )
        return answerer._rated(answer, question)
    # Inside a migration an error code the best topic documents says which situation it is: the asker
    # is in the move, unlike most public threads quoting the same code. Answered, framed when unsure, when
    # the code is pasted with a few words: a longer message is weighed by its own words, as anywhere else.
    documented = (
        inside
        and len(text) <= _reading.PASTED_LINE_CHARS
        and bool(ranking.topics)
        and documents(knowledge, ranking, reading)
    )
    # Someone being moved gets the topic written for them before an admins' topic barely closer (not
    # when a code the admins' topic documents says which situation it is). It is the context's choice,
    # not the similarity's: framed.
    own = (
        None if documented else _own_topic(answerer._asker_aware, knowledge, ranking, reading, text, context)
    )
    if own is not None:
        ranking = _asker.first(ranking, own)
    # A line quoted from the best topic's own Microsoft page (`> ...`) says which section of the move's
    # documentation the asker is at: answered, framed when unsure, whatever the learned model doubts. Of
    # the real tuning questions, 4 quote their first topic's page, all in scope and ranked right; no
    # out-of-scope one does (docs/faq-eval.md, brief faq43).
    quotes_its_page = bool(reading.quoted) and knowledge.index.quotes_the_page(
        reading.quoted, ranking.topics[0].topic_id if ranking.topics else ""
    )
    answered = (
        ranking.top > 0
        and ranking.grounded
        and (confidence >= judge.framed_threshold or documented or quotes_its_page)
    )
    # "I can't sign in anymore" from someone in the migration is their own case at its stage, however few
    # words it shares with the topic.
    phase = (
        _asker.own_sign_in_trouble(text, ranking, context, knowledge.topics, answered=answered)
        if answerer._asker_aware
        else None
    )
    if phase is not None:
        answer = _sign_in_trouble(knowledge, phase, confidence, ranking, context)
        return answerer._rated(answer, question)
    # "who do I call when I'm stuck?", unless a topic surely answers it ("can't find my email, who do I
    # talk to" is the topic's): the admins' own answer where they wrote one, else who they are, kept for
    # their review so that they can write it (`faq._help_desk`).
    if _help_desk.asks_for_a_person(text) and not (answered and confidence >= judge.threshold):
        theirs = _help_desk.taught(knowledge.topics)
        if theirs is not None:
            return answerer._rated(_answer.chosen(knowledge, theirs.id, context), question)
        _declining.record_unanswered(answerer.unanswered, answerer._clock, question, [], 0.0, context)
        untaught = Answer(None, 0.0, _help_desk.untaught(context), [])
        return answerer._kept(untaught, question, "declined", context)
    if answered:
        # A code only this topic documents ("AADSTS50020") says which topic it is: answered as certain,
        # unless a pipeline or a script got it (its service connection's, which the topic may not be).
        certain = (
            documented
            and _declining.decided_by_code(knowledge.codes, reading, text) == ranking.topics[0].topic_id
        )
        framed = not certain and (confidence < judge.threshold or own is not None)
        also = other_question(answerer.calibration, knowledge, reading, ranking)
        best = knowledge.topics[ranking.topics[0].topic_id]
        # A topic with a note for their outcome says their case already; the lock-out one then tells an
        # invitee where theirs stands, as for "I can't sign in".
        said = bool(blocked) and _compose.speaks_to_their_outcome(best, context)
        own_case = _invitation.why_refused(context) if said and best.id == _asker.LOCKED_OUT else ""
        unsure_when = _sign_in.before_or_after(text, context) if best.id == _asker.LOCKED_OUT else ""
        answer = _answer.answered(
            knowledge,
            best.id,
            confidence,
            ranking,
            context,
            framed,
            also,
            own=own_case,
            opening="" if said else blocked or unsure_when,
        )
        return answerer._rated(answer, question)
    if (
        blocked
        and about_a_topic(ranking)
        and _asker.refused_in_short(text, ranking)
        and _asker.LOCKED_OUT in knowledge.topics
    ):  # not "I don't know" when their own list says why they are refused
        answer = _sign_in_trouble(knowledge, "after", confidence, ranking, context)
        return answerer._rated(answer, question)
    # "AADSTS50020 'Пользователь не найден в каталоге'" pasted inside a migration: the quote's words are
    # none the topics know, so the ranking doubts the topic the code says alone (answered in English).
    decided = (
        _declining.decided_by_code(knowledge.codes, reading, text)
        if inside and len(text) <= _reading.PASTED_LINE_CHARS and _language.quotes_another_script(text)
        else None
    )
    if decided is not None:
        return answerer._rated(_answer.chosen(knowledge, decided, context), question)
    declined = _declining.declined(
        answerer.unanswered, answerer._clock, knowledge, question, confidence, ranking, context, reading
    )
    return answerer._kept(declined, question, "declined", context)


def _own_topic(
    asker_aware: bool,
    knowledge: Knowledge,
    ranking: Ranking,
    reading: _reading.Reading,
    question: str,
    context: AskerContext,
) -> str | None:
    """The topic for the people being moved to answer first for this asker (`faq._asker.own_topic`)."""
    if not asker_aware:
        return None
    known_share = partial(knowledge.index.known_share, reading.told or question)
    return _asker.own_topic(ranking, knowledge.topics, context, CLOSE_RUNNER_UP, known_share)


def _invitation_reply(
    asker_aware: bool,
    knowledge: Knowledge,
    confidence: float,
    ranking: Ranking,
    context: AskerContext,
    opening: str = "",
) -> Answer | None:
    """ "I never got the invitation email": the asker's own case when the migration knows them (their
    invitation, or why they need none), else every case briefly, in a short message only (a long story
    names its own subject). `opening`: said first, under the title."""
    topic = knowledge.topics.get(_invitation.TOPIC)
    if topic is None:
        return None
    if asker_aware:
        text = _invitation.own_case(context)
        if text is not None:
            text = after_title(text, opening)
            return Answer(topic.id, confidence, text, [], _invitation.REDEMPTION_PAGE)
        if context.migration is not None and context.outcome is not None:  # the topic has their note
            ranking = _asker.first(ranking, topic.id)
            return _answer.answered(knowledge, topic.id, confidence, ranking, context, opening=opening)
    if ranking.length >= LONG_FROM:
        return None
    text = after_title(_invitation.every_case(context), opening)
    return Answer(topic.id, confidence, text, [], _invitation.REDEMPTION_PAGE)


def _sign_in_trouble(
    knowledge: Knowledge, phase: str, confidence: float, ranking: Ranking, context: AskerContext
) -> Answer:
    """Someone in the migration cannot sign in. Before connecting the move changed nothing: what usually
    causes it. After, their own lock-out: the topic's notes say what applies to their outcome, and an
    invitee hears where their invitation stands. Once Connect is approved, how to sign in until it is
    connected, then the lock-out answer as it reads once connected. Someone the plan does not name hears
    so, and to ask an admin."""
    topic = knowledge.topics[_asker.LOCKED_OUT]
    if context.off_the_plan:
        return Answer(topic.id, confidence, _sign_in.not_on_the_plan(context), [], None)
    lost = _sign_in.lost_access(context)
    if lost is not None:
        return Answer(topic.id, confidence, lost, [], None)
    if phase == "before":
        text = _sign_in.not_connected_yet(context, topic.link)
        return Answer(topic.id, confidence, text, [], topic.link or None)
    locked_out = _asker.first(ranking, topic.id)
    own = _invitation.why_refused(context)
    if phase == "connecting":
        opening = _sign_in.while_connecting(context)
        connected = replace(context, stage="connected")
        return _answer.answered(
            knowledge, topic.id, confidence, locked_out, connected, own=own, opening=opening
        )
    return _answer.answered(knowledge, topic.id, confidence, locked_out, context, own=own)


def _blocked_first(asker_aware: bool, question: str, context: AskerContext) -> str:
    """What keeps the asker out, when they say they are refused once connected and their own list opens
    with an item only others can unblock ("" otherwise)."""
    if not asker_aware or not _asker.refused(question):
        return ""
    return _invitation.not_accepted_yet(context) or _sign_in.blocked_first(context) or ""
