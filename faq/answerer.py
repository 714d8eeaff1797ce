"""Answering one question: rank the topics, calibrate, then answer or decline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from faq import (
    _about,
    _asker,
    _compose,
    _connect_for_me,
    _declining,
    _deleting,
    _happening,
    _help_desk,
    _invitation,
    _kept,
    _language,
    _licences,
    _own_case,
    _reading,
    _sign_in,
    redaction,
)
from faq._about import AboutModel
from faq._calibration import LONG_FROM, Calibration, bundled_calibration
from faq._compose import AskerContext
from faq._declining import MAX_ALTERNATIVES
from faq._index import (
    LATER_QUESTION_WEIGHT,
    PASTED_SHARE_WEIGHT,
    QUOTED_WEIGHT,
    TOLD_SENTENCE_WEIGHT,
    Ranking,
    TopicIndex,
)
from faq._knowledge import (
    PEOPLE,
    Topic,
    bundled_move_pages,
    bundled_off_topic,
    bundled_pages,
    bundled_topics,
)
from faq._reading import ERROR_CODE
from faq.feedback import (
    LOCAL_TOPIC_PREFIX,
    FeedbackError,
    FeedbackItem,
    FeedbackStore,
    Kind,
    clean_question,
    with_learned,
)
from faq.unanswered import InMemoryUnansweredLog, UnansweredLog

# A runner-up is worth offering when it is nearly as similar as the chosen topic.
_CLOSE_RUNNER_UP = 0.6
# In a message that asks two things, the first question decides alone when its best topic leads by this much.
_CLEAR_MAIN_QUESTION = 0.1
_WHAT_IT_IS = "what-is-this-migration"  # says what Microsoft Entra ID is, and that it was Azure AD
_STARTER_TOPICS = (_WHAT_IT_IS, "after-switch-checklist", "downtime")
# A declined question offers its closest topics only when it is about one of them at all: grounded, and
# nearer the topics than the subjects the bot does not cover. Otherwise ("what's the weather?") the topics
# would only look related. Over the evaluation sets, 0.8 hides the right topic for 6 of the 605 in-scope
# questions that have it among the closest three (docs/faq-eval.md, round 9b).
_OFF_TOPIC_SHARE = 0.8
# A question about none of the topics offers its closest ones only when they score at least this ("branch
# policies" ranks the Connect list's topic at 0.10, "what's the weather?" TFVC workspaces at 0.01): below,
# they are only the least unrelated, and the starting topics are offered instead. Of the 301 evaluation
# questions declined as about no topic, 4 are in scope, their topic among the closest three, scoring 0.26 to
# 0.44; 174 score below 0.15 (docs/faq-eval.md, brief faq45; chosen on those rows).
_NEAR_ENOUGH_TO_OFFER = 0.15
# Inside a migration a message is read as about the move, unless the learned model is this sure it is about
# something else ("how do I create a service connection", "how much does a Basic license cost"): then it is
# judged as anywhere else. Chosen among -3, -2, -1.5, -1 and -0.5 with each question's log-odds from a model
# not fitted on it: the most such questions declined for no model-written in-scope question lost
# (docs/faq-eval.md, "Near-domain questions inside a migration"). Chosen again among -1.5, -1.25, -1, -0.75
# and -0.5 after round 12's refit (the model reads quoted lines, the long messages' thresholds fell): the
# most declined for no in-scope question lost inside, real or model-written (docs/faq-eval.md, round 13).
_CLEARLY_ELSEWHERE = -1.25


@dataclass(frozen=True)
class Answer:
    topic: str | None  # None: the bot does not know
    score: float  # calibrated confidence in [0, 1]
    answer: str
    alternatives: list[str] = field(default_factory=list)
    link: str | None = None
    framed: bool = False
    """Likely but not certain: the answer says "This sounds like ..." and offers the alternatives."""
    ask_id: int | None = None
    """Under which id the question is kept for review (declined questions, when a store is wired)."""
    rating: str | None = None
    """What the Helpful / Not helpful buttons send back to `FaqAnswerer.rate` (None: ratings not kept)."""
    also: str | None = None
    """The topic of a second question in the same message, which the answer offers after its own ("Pick it
    below"): the chat puts its button under the answer, sure or not."""
    own_case: bool = False
    """Said of the asker's own case alone (`faq._happening`), even where it names no address of theirs: in a
    channel, for their eyes only."""

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "score": round(self.score, 3),
            "answer": self.answer,
            "alternatives": list(self.alternatives),
            "link": self.link,
            "framed": self.framed,
        }


@cache
def _bundled_index() -> TopicIndex:
    return TopicIndex(bundled_topics(), bundled_off_topic(), bundled_pages())


@cache
def _bundled_about() -> AboutModel:
    return _about.bundled_model()


class _Knowledge:
    """The topics one organization sees (the bundled ones plus what its admins taught) and their index.

    The index is built when a question first needs it: about 0.15 s of CPU, which a process that answers
    no question (most `serve` starts) never spends. The topics are read and checked at once, so a broken
    knowledge base still fails where the answerer is made."""

    def __init__(self, topics: dict[str, Topic], build_index: Callable[[], TopicIndex]) -> None:
        self.topics = topics
        # The error codes each topic documents: its title and phrasings name them ("TF400813: ..."), or its
        # answer explains them. An answer's code ranks nothing (phrasings teach the ranker and the learned
        # model, so each new one moves the refit: docs/faq-eval.md, round 22); it says which topic to offer.
        self.codes = {
            topic.id: frozenset(
                code.upper()
                for text in (topic.title, *topic.phrasings, topic.answer)
                for code in ERROR_CODE.findall(text)
            )
            for topic in topics.values()
        }
        self._build_index = build_index
        self._index: TopicIndex | None = None
        self._building = threading.Lock()

    @property
    def index(self) -> TopicIndex:
        # Several first questions at once build it once (`cached_property` has no lock since Python 3.12).
        if self._index is None:
            with self._building:
                if self._index is None:
                    self._index = self._build_index()
        return self._index


class FaqAnswerer:
    """Built once; `answer` is cheap and never raises on odd input."""

    def __init__(
        self,
        topics: Sequence[Topic] | None = None,
        *,
        off_topic: Sequence[str] = (),
        calibration: Calibration | None = None,
        about: AboutModel | None = None,
        unanswered: UnansweredLog | None = None,
        feedback: FeedbackStore | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        asker_aware: bool = True,
    ) -> None:
        """`asker_aware=False` leaves out the choices made for a known asker (`faq._asker`), to measure
        them (`faq.asker_effect`)."""
        base = bundled_topics() if topics is None else tuple(topics)
        self._off_topic = tuple(bundled_off_topic() if topics is None else off_topic)
        # Microsoft's page sections belong to the bundled topics: a knowledge base given here has none.
        self._pages = bundled_pages() if topics is None else {}
        index = _bundled_index if topics is None else partial(TopicIndex, base, self._off_topic)
        self._base = _Knowledge({topic.id: topic for topic in base}, index)
        self.calibration = calibration or bundled_calibration()
        self.about = about or _bundled_about()
        self.unanswered = unanswered
        self.feedback = feedback
        self._clock = clock
        self._asker_aware = asker_aware
        self._taught: dict[str | None, tuple[int, _Knowledge]] = {}
        self._lock = threading.Lock()

    @property
    def topics(self) -> dict[str, Topic]:
        return dict(self._base.topics)

    def rank(self, question: str, reading: _reading.Reading | None = None) -> Ranking:
        """The topics ranked for `question`, its asking sentences weighed above the story around them.

        `reading`: the question as `faq._reading.read` reads it, when the caller has read it already."""
        return self._rank(self._base, _reading.read(question) if reading is None else reading, question)

    def answer(self, question: str, context: AskerContext | None = None) -> Answer:
        context = context or AskerContext()
        inside = context.migration is not None
        # A secret pasted into the question is no word of it ("my PAT is <token> stopped working"): read
        # without it, so what is asked is ranked as asked. It is masked again wherever the question is kept.
        reading = _reading.read(redaction.without_secrets(question), in_azure_devops=inside)
        text = reading.text  # as the patterns read it (`can’t` as `can't`); kept and rated as it came
        if context.case is None and reading.switching:
            context = replace(context, case="switch")
        knowledge = self._knowledge(context.organization)
        starters = _starters(knowledge)
        if reading.unreadable:  # binary data or random characters: nothing for the admins to review either
            return Answer(None, 0.0, _compose.unreadable(starters, context), [topic.id for topic in starters])
        if _language.in_another_script(text):  # "ошибка 403 при приглашении": no topic's words but its codes
            # Read for its codes with the other script's letters left out ("出现TF400813错误"), by the rules
            # an English message's are: one topic's code decides the topic, as it does in English.
            coded = _reading.read(_language.latin_only(text), in_azure_devops=inside)
            decided = _declining.decided_by_code(knowledge.codes, coded, text)
            if decided is not None:
                note = _language.answered_note(coded.codes)
                return self._rated(self._chosen(knowledge, decided, context, opening=note), question)
            latin = self._rank(knowledge, reading, reading.text)
            reply, offered = _declining.in_another_language(
                knowledge.topics, knowledge.codes, latin, coded, starters, context
            )
            _declining.record_unanswered(self.unanswered, self._clock, question, offered, 0.0, context)
            other = Answer(None, 0.0, reply, [topic.id for topic in offered or starters])
            return self._kept(other, question, "declined", context)
        # "What is Entra ID?" (known before ranking, as below): the move's own topic, not a directory's.
        if _reading.asks_what_the_directory_is(text) and _WHAT_IT_IS in knowledge.topics:
            explained = self._chosen(knowledge, _WHAT_IT_IS, context)
            return self._rated(explained, question)
        # "hi, what is happening?", "will I lose access?" replying to the bot's notice, from someone on the
        # plan: their case, short; "will I lose access?" from someone no plan names: that.
        happening = _happening.reply(text, context)
        if happening is not None and self._asker_aware and _happening.TOPIC in knowledge.topics:
            link = knowledge.topics[_happening.TOPIC].link or None
            return self._rated(Answer(_happening.TOPIC, 1.0, happening, [], link, own_case=True), question)
        # "which account should I use?", "so what's going on with the migration?": the asker's own case
        # (`faq._own_case`), recognised by the words, not ranked; unknown to the bot, ranked as before.
        case = self._own_case(text, context, knowledge) if self._asker_aware else None
        if case is not None:
            return self._rated(case, question)
        # Topics known by the words of the whole message, not ranked: "what happens to my pull requests?"
        # (`faq._kept`), "do the guests we invite need a paid license?" (`faq._licences`), "we can't delete
        # our old tenant, Azure DevOps's application is in it" (`faq._deleting`), "can you click Connect for
        # me?" (`faq._connect_for_me`).
        recognised = (
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
        if recognised is not None and recognised in knowledge.topics:
            answer = self._chosen(knowledge, recognised, context)
            return self._rated(answer, question)
        # Asked inside a migration, a message is read as about the move; so is one that links one of
        # Microsoft's pages about it, or names Azure DevOps and tells of a move from one directory to another.
        # Of the real tuning questions 3 link such a page, all in scope; 4 in scope and 13 out of scope name
        # Azure DevOps and a switch, and reading those so answers 1 more in scope and no out-of-scope one
        # (docs/faq-eval.md, brief faq43). Only here: the calibration is fitted on the words alone.
        read_as_inside = (
            inside
            or (reading.switching and reading.names_azure_devops)
            or (bool(self._pages) and _reading.links_a_page(reading, bundled_move_pages()))
        )
        # "who are you?" (known before ranking, which it does not need), or nothing asked yet ("", "?!",
        # "hey bot"): what the bot is, and starting points.
        ranking = (
            None
            if reading.about_the_bot
            else self._rank(knowledge, reading, text, in_migration=read_as_inside)
        )
        if ranking is None or ranking.word_count == 0:
            return Answer(
                None, 0.0, _compose.introduction(starters, context), [topic.id for topic in starters]
            )
        # An ungrounded question (the topics know too few of its words) has no meaningful confidence.
        judge = self.calibration.for_length(ranking.length)
        confidence = self.calibration.assess(ranking) if ranking.grounded else 0.0
        # "how do I delete my organization?": no step of the move and no topic's, whatever topic shares its
        # words (the stale users' "delete"): declined with its closest topics (`faq._deleting`).
        if _deleting.asks_how_to_delete_the_organization(reading):
            declined = self._declined(knowledge, question, confidence, ranking, context, reading)
            return self._kept(declined, question, "declined", context)
        # "I never got the invitation email" is answered by who asks, not by its words (`faq._invitation`).
        # So is an invitee's "I can't accept the invitation, it won't let me sign in".
        if _invitation.missing_invitation(text) or (
            self._asker_aware and _asker.own_invitation_trouble(text, context)
        ):
            invitation = self._invitation_reply(knowledge, confidence, ranking, context)
            if invitation is not None:
                return self._rated(invitation, question)
        # "should I accept the invitation?": their invitation, yes first (not the admins' invite settings).
        if _invitation.asks_whether_to_accept(text):
            accept = _invitation.accept_it(context) if self._asker_aware else ""
            invitation = self._invitation_reply(knowledge, confidence, ranking, context, opening=accept)
            if invitation is not None:
                return self._rated(invitation, question)
        # "My account is disabled, what do I do?" from someone the plan found so: their list's first item.
        disabled = _sign_in.account_disabled(context) if self._asker_aware else None
        if disabled is not None and _asker.says_own_account_disabled(text, context):
            topic_id = _asker.LOCKED_OUT if _asker.LOCKED_OUT in knowledge.topics else None
            return self._rated(Answer(topic_id, confidence, disabled, [], None), question)
        # "I can't sign in, it says not authorized" from someone the admins have yet to map by hand: that. Not
        # a pipeline's refused token, nor an error code another topic documents.
        unmapped = _sign_in.not_mapped_yet(context) if self._asker_aware else None
        if (
            unmapped is not None
            and _asker.cannot_sign_in(text)
            and _asker.refused_in_short(text, ranking)
            and not reading.codes
        ):
            topic_id = _asker.LOCKED_OUT if _asker.LOCKED_OUT in knowledge.topics else None
            return self._rated(Answer(topic_id, confidence, unmapped, [], None), question)
        # "git push fails with 401" from someone whose list opens with what only others can unblock (their
        # invitation, a disabled account, the admins' choice of account): that is the likely cause, said
        # before whatever the topic says.
        blocked = self._blocked_first(text, context)
        # "My pipeline is refused its token now": what breaks it for this asker is whether their tokens
        # still work. Not for a message about none of the topics ("my agent is offline"): it stays declined.
        automation = (
            _asker.own_automation_trouble(text, ranking, context, knowledge.topics)
            if self._asker_aware and _about_a_topic(ranking)
            else None
        )
        if automation is not None:
            ranking = _asker.first(ranking, automation)
            answer = self._answered(
                knowledge, automation, confidence, ranking, context, framed=True, opening=blocked
            )
            return self._rated(answer, question)
        # Inside a migration an error code the best topic documents says which situation it is: the asker
        # is in the move, unlike most public threads quoting the same code. Answered, framed when unsure, when
        # the code is pasted with a few words: a longer message is weighed by its own words, as anywhere else.
        documented = (
            inside
            and len(text) <= _reading.PASTED_LINE_CHARS
            and bool(ranking.topics)
            and self._documents(knowledge, ranking, reading)
        )
        # Someone being moved gets the topic written for them before an admins' topic barely closer (not
        # when a code the admins' topic documents says which situation it is). It is the context's choice,
        # not the similarity's: framed.
        own = None if documented else self._own_topic(knowledge, ranking, reading, text, context)
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
            if self._asker_aware
            else None
        )
        if phase is not None:
            answer = self._sign_in_trouble(knowledge, phase, confidence, ranking, context)
            return self._rated(answer, question)
        # "who do I call when I'm stuck?", unless a topic surely answers it ("can't find my email, who do I
        # talk to" is the topic's): the admins' own answer where they wrote one, else who they are, kept for
        # their review so that they can write it (`faq._help_desk`).
        if _help_desk.asks_for_a_person(text) and not (answered and confidence >= judge.threshold):
            theirs = _help_desk.taught(knowledge.topics)
            if theirs is not None:
                return self._rated(self._chosen(knowledge, theirs.id, context), question)
            _declining.record_unanswered(self.unanswered, self._clock, question, [], 0.0, context)
            untaught = Answer(None, 0.0, _help_desk.untaught(context), [])
            return self._kept(untaught, question, "declined", context)
        if answered:
            # A code only this topic documents ("AADSTS50020") says which topic it is: answered as certain,
            # unless a pipeline or a script got it (its service connection's, which the topic may not be).
            certain = (
                documented
                and _declining.decided_by_code(knowledge.codes, reading, text) == ranking.topics[0].topic_id
            )
            framed = not certain and (confidence < judge.threshold or own is not None)
            also = self._other_question(knowledge, reading, ranking)
            best = knowledge.topics[ranking.topics[0].topic_id]
            # A topic with a note for their outcome says their case already; the lock-out one then tells an
            # invitee where theirs stands, as for "I can't sign in".
            said = bool(blocked) and _compose.speaks_to_their_outcome(best, context)
            own_case = _invitation.why_refused(context) if said and best.id == _asker.LOCKED_OUT else ""
            unsure_when = _sign_in.before_or_after(text, context) if best.id == _asker.LOCKED_OUT else ""
            answer = self._answered(
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
            return self._rated(answer, question)
        if (
            blocked
            and _about_a_topic(ranking)
            and _asker.refused_in_short(text, ranking)
            and _asker.LOCKED_OUT in knowledge.topics
        ):  # not "I don't know" when their own list says why they are refused
            answer = self._sign_in_trouble(knowledge, "after", confidence, ranking, context)
            return self._rated(answer, question)
        # "AADSTS50020 'Пользователь не найден в каталоге'" pasted inside a migration: the quote's words are
        # none the topics know, so the ranking doubts the topic the code says alone (answered in English).
        decided = (
            _declining.decided_by_code(knowledge.codes, reading, text)
            if inside and len(text) <= _reading.PASTED_LINE_CHARS and _language.quotes_another_script(text)
            else None
        )
        if decided is not None:
            return self._rated(self._chosen(knowledge, decided, context), question)
        declined = self._declined(knowledge, question, confidence, ranking, context, reading)
        return self._kept(declined, question, "declined", context)

    def _own_case(self, text: str, context: AskerContext, knowledge: _Knowledge) -> Answer | None:
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

    def explain(self, topic_id: str, context: AskerContext | None = None) -> Answer:
        """A topic's answer chosen directly, e.g. from a suggestion button. Unknown ids raise KeyError."""
        context = context or AskerContext()
        knowledge = self._knowledge(context.organization)
        return self._chosen(knowledge, topic_id, context)

    def fitted(self, topic_id: str, context: AskerContext) -> bool:
        """Whether this topic's answer to this asker says something of their own case: it is not the one
        anyone in their migration gets (`AskerContext.in_general`)."""
        knowledge = self._knowledge(context.organization)  # read once for both: `in_general` keeps it
        mine = self._chosen(knowledge, topic_id, context).answer
        general = self._chosen(knowledge, topic_id, context.in_general())
        return mine != general.answer

    def knows(self, topic_id: str, organization: str | None = None) -> bool:
        """Whether `topic_id` is a topic this organization's askers can be shown (bundled or taught)."""
        if topic_id in self._base.topics:
            return True
        # only a topic the admins wrote is new (`with_learned`): any other words (a whole question, as
        # every question typed is first tried as a suggestion's id) need no read of what they taught
        return topic_id.startswith(LOCAL_TOPIC_PREFIX) and topic_id in self._knowledge(organization).topics

    def rate(self, rating: str, helpful: bool, organization: str | None = None) -> FeedbackItem:
        """The asker's Helpful / Not helpful on an answer's `rating`. FeedbackError when it makes no sense."""
        if self.feedback is None:
            raise FeedbackError("Ratings are not kept on this installation.")
        kept = rating.strip().lstrip("#")
        if kept.isdecimal() and len(kept) < 12:
            try:
                return self.feedback.rate(int(kept), helpful, self._clock())
            except FeedbackError:  # the store's words send an admin to `faq review`, which is not theirs
                raise FeedbackError(
                    f"I have no question number {kept} to rate. Use the Helpful or Not helpful button under"
                    " an answer, or type the words it shows."
                ) from None
        topic, _, question = rating.strip().partition(" ")
        if not self.knows(topic, organization) or not question.strip():
            raise FeedbackError(
                "Use the Helpful or Not helpful button under an answer, or type the words it shows."
            )
        closest = [item.topic_id for item in self.rank(question).topics[:3] if item.topic_id != topic]
        item_id = self.feedback.record(
            organization=organization,
            question=question,
            kind="helpful" if helpful else "not-helpful",
            topic=topic,
            closest=closest,
            at=self._clock(),
        )
        return self.feedback.rate(item_id, helpful, self._clock())

    def _knowledge(self, organization: str | None) -> _Knowledge:
        """The base knowledge, plus what the organization's admins taught in `faq review` (cached)."""
        if self.feedback is None:
            return self._base
        version, learned = self.feedback.learned(organization)
        if not learned:
            return self._base
        with self._lock:
            cached = self._taught.get(organization)
            if cached is not None and cached[0] == version:
                return cached[1]
            topics = with_learned(list(self._base.topics.values()), learned)
            knowledge = _Knowledge(
                {topic.id: topic for topic in topics},
                partial(TopicIndex, topics, self._off_topic, self._pages),
            )
            self._taught[organization] = (version, knowledge)
            return knowledge

    def _rank(
        self, knowledge: _Knowledge, reading: _reading.Reading, question: str, *, in_migration: bool = False
    ) -> Ranking:
        """Asked inside a migration, a message is about the move whatever its words ("what happens to my
        pipelines?" in the migration's channel), unless the learned model reads it as clearly about something
        else (`_CLEARLY_ELSEWHERE`); a topic kept for the move (`only_about_the_move`) still needs the message
        to name the move, to read as about it by itself, or to ask what becomes of something. Anywhere, asking
        what becomes of something ("what happens to our projects?") may be answered by a topic kept for the
        move, the one change this bot is about, and the calibration then weighs it as a message about the
        move; the learned log-odds stay as they are (docs/faq-eval.md, rounds "faqfix" and "asker", and
        "Near-domain questions inside a migration")."""
        about = self.about.read(reading)
        # What lets a topic kept for the move (`only_about_the_move`) answer: the message names the move, or,
        # inside a migration, the learned model reads it as about the move as much as a typical real question
        # about it ("are pipelines impacted?"), not only by the migration's floor ("how much are basic
        # licenses per user").
        says_the_move = reading.about_the_move or (in_migration and about >= self.about.in_migration)
        if in_migration and about >= _CLEARLY_ELSEWHERE:
            reading = replace(reading, about_the_move=True)
            about = max(about, self.about.in_migration)
        main = reading.asked[0] if reading.asked else None
        weighed = [
            (
                sentence,
                1.0
                if sentence == main
                else LATER_QUESTION_WEIGHT
                if sentence in reading.asked
                else TOLD_SENTENCE_WEIGHT,
            )
            for sentence in reading.sentences
        ] + [(sentence, QUOTED_WEIGHT) for sentence in reading.quoted]  # which page section the asker is at
        sentences = [
            (sentence, weight * PASTED_SHARE_WEIGHT if _reading.pasted(sentence) else weight)
            for sentence, weight in weighed
        ]
        ranking = knowledge.index.rank(reading.told or question, sentences)
        # Quoting or closely paraphrasing a topic's Microsoft page (each about connecting, switching or
        # leaving a directory) lets a topic kept for the move answer, as naming the move does; what the
        # calibration reads stays the reading's (docs/faq-eval.md, round 12).
        cites_the_page = ranking.cites_the_page
        if len(reading.asked) > 1:  # two questions in one: the first one asked is the main one
            main_only = replace(knowledge.index.rank(main or ""), about_the_move=reading.about_the_move)
            if main_only.grounded and main_only.margin >= _CLEAR_MAIN_QUESTION:
                ranking = main_only
        ranking = replace(
            ranking, about_the_move=reading.about_the_move, tells_the_move=reading.tells_the_move, about=about
        )
        if reading.codes_elsewhere:  # which application refused? The other words cannot tell a topic
            ranking = replace(ranking, anchored=False)
        best = knowledge.topics.get(ranking.topics[0].topic_id) if ranking.topics else None
        # Inside a migration, the migration says it for a long story of Git or SSH trouble, not for a topic
        # whose words are everyday ones.
        named = cites_the_page or (
            says_the_move if best is not None and best.only_about_the_move else reading.about_the_move
        )
        if best is not None and _only_about_the_move(best, ranking) and not named:
            if reading.asks_what_becomes:
                ranking = replace(ranking, about_the_move=True)
            else:
                ranking = replace(ranking, anchored=False)  # the topic's words, but not about the move
        return ranking

    def _own_topic(
        self,
        knowledge: _Knowledge,
        ranking: Ranking,
        reading: _reading.Reading,
        question: str,
        context: AskerContext,
    ) -> str | None:
        """The topic for the people being moved to answer first for this asker (`faq._asker.own_topic`)."""
        if not self._asker_aware:
            return None
        known_share = partial(knowledge.index.known_share, reading.told or question)
        return _asker.own_topic(ranking, knowledge.topics, context, _CLOSE_RUNNER_UP, known_share)

    def _invitation_reply(
        self,
        knowledge: _Knowledge,
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
        if self._asker_aware:
            text = _invitation.own_case(context)
            if text is not None:
                text = _after_title(text, opening)
                return Answer(topic.id, confidence, text, [], _invitation.REDEMPTION_PAGE)
            if context.migration is not None and context.outcome is not None:  # the topic has their note
                ranking = _asker.first(ranking, topic.id)
                return self._answered(knowledge, topic.id, confidence, ranking, context, opening=opening)
        if ranking.length >= LONG_FROM:
            return None
        text = _after_title(_invitation.every_case(context), opening)
        return Answer(topic.id, confidence, text, [], _invitation.REDEMPTION_PAGE)

    def _sign_in_trouble(
        self, knowledge: _Knowledge, phase: str, confidence: float, ranking: Ranking, context: AskerContext
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
            return self._answered(
                knowledge, topic.id, confidence, locked_out, connected, own=own, opening=opening
            )
        return self._answered(knowledge, topic.id, confidence, locked_out, context, own=own)

    def _blocked_first(self, question: str, context: AskerContext) -> str:
        """What keeps the asker out, when they say they are refused once connected and their own list opens
        with an item only others can unblock ("" otherwise)."""
        if not self._asker_aware or not _asker.refused(question):
            return ""
        return _invitation.not_accepted_yet(context) or _sign_in.blocked_first(context) or ""

    @staticmethod
    def _documents(knowledge: _Knowledge, ranking: Ranking, reading: _reading.Reading) -> bool:
        """Whether the ranking's best topic documents an error code the message carries."""
        return not knowledge.codes[ranking.topics[0].topic_id].isdisjoint(reading.codes)

    def _other_question(self, knowledge: _Knowledge, reading: _reading.Reading, main: Ranking) -> str | None:
        """A second question in the same message about another topic, worth offering as well."""
        for sentence in reading.asked[1:]:
            ranking = knowledge.index.rank(sentence)
            if (
                not ranking.grounded
                or not ranking.topics
                or ranking.topics[0].topic_id == main.topics[0].topic_id
            ):
                continue
            as_main = replace(
                ranking,
                about_the_move=main.about_the_move,
                tells_the_move=main.tells_the_move,
                about=main.about,
            )
            confidence = self.calibration.assess(as_main)
            if confidence >= self.calibration.for_length(ranking.length).framed_threshold:
                return ranking.topics[0].topic_id
        return None

    def _chosen(
        self, knowledge: _Knowledge, topic_id: str, context: AskerContext, opening: str = ""
    ) -> Answer:
        """The topic's answer where the topic is known without ranking: certain, with no other to suggest."""
        return self._answered(knowledge, topic_id, 1.0, Ranking([], 0.0), context, opening=opening)

    def _answered(
        self,
        knowledge: _Knowledge,
        topic_id: str,
        confidence: float,
        ranking: Ranking,
        context: AskerContext,
        framed: bool = False,
        also: str | None = None,
        own: str = "",
        opening: str = "",
    ) -> Answer:
        topic = knowledge.topics[topic_id]
        lost = _sign_in.lost_access(context)
        if lost is not None and _for_those_who_keep_access(topic):
            # README: their answers say what `todo` says, who decided and whom to ask, not steps for others
            return Answer(topic.id, confidence, lost, [], None, framed)
        close = [item.topic_id for item in ranking.topics[1:] if item.score >= _CLOSE_RUNNER_UP * ranking.top]
        if framed:  # unsure: the next best topics are the one-click way out
            close = [item.topic_id for item in ranking.topics[1:MAX_ALTERNATIVES] if item.score > 0] + close
        first = [also] if also else []
        alternatives = list(dict.fromkeys(first + close + list(topic.related)))[:MAX_ALTERNATIVES]
        also_topic = knowledge.topics[also] if also else None
        opening = opening or _sign_in.lost_access_opening(context) or ""
        closer = [knowledge.topics[other] for other in alternatives]
        text = _compose.answered(
            topic, context, framed=framed, also=also_topic, closer=closer, own=own, opening=opening
        )
        return Answer(topic.id, confidence, text, alternatives, topic.link or None, framed, also=also)

    def _declined(
        self,
        knowledge: _Knowledge,
        question: str,
        confidence: float,
        ranking: Ranking,
        context: AskerContext,
        reading: _reading.Reading,
    ) -> Answer:
        closest = [
            knowledge.topics[item.topic_id] for item in ranking.topics[:MAX_ALTERNATIVES] if item.score > 0
        ]
        _declining.record_unanswered(self.unanswered, self._clock, question, closest, confidence, context)
        documenting = [
            knowledge.topics[topic_id]
            for topic_id in _declining.documenting(knowledge.codes, reading.codes_elsewhere)
        ][:MAX_ALTERNATIVES]
        lost = _sign_in.lost_access(context)
        if lost is not None and (documenting or _about_a_topic(ranking)):  # not "I don't know" why
            return Answer(None, confidence, lost, [])  # no topic for the people who keep access is theirs
        if documenting:  # in case it was Azure DevOps after all: the code's own topic
            text = _compose.sign_in_code_elsewhere(reading.codes_elsewhere[0], documenting, context)
            return Answer(None, confidence, text, [topic.id for topic in documenting])
        # About none of the topics ("how do I set branch policies?"): what the bot is for, and still the
        # closest topics (or where to start), which the contract promises every decline offers.
        if not _about_a_topic(ranking):
            near = ranking.top >= _NEAR_ENOUGH_TO_OFFER and bool(closest)
            offered = closest if near else _starters(knowledge)
            text = _compose.outside(offered, context, closest=near)
            return Answer(None, confidence, text, [topic.id for topic in offered])
        return Answer(None, confidence, _compose.declined(closest, context), [topic.id for topic in closest])

    def _rated(self, answer: Answer, question: str) -> Answer:
        """An answer with what its rating buttons carry. Answers are not written down (that costs a disk
        write per question); the buttons carry the question, and a rating writes it then."""
        if self.feedback is None:
            return answer
        return replace(answer, rating=f"{answer.topic} {clean_question(question)}")

    def _kept(self, answer: Answer, question: str, kind: Kind, context: AskerContext) -> Answer:
        """The answer with the id its rating buttons carry, once the question is kept for review."""
        if self.feedback is None:
            return answer
        ask_id = self.feedback.record(
            organization=context.organization,
            question=question,
            kind=kind,
            topic=answer.topic,
            closest=answer.alternatives,
            at=self._clock(),
        )
        return replace(answer, ask_id=ask_id, rating=f"#{ask_id}")


def _after_title(text: str, line: str) -> str:
    """`text` with `line` after its first line, its title (nothing added for an empty `line`)."""
    if not line:
        return text
    title, _, rest = text.partition("\n")
    return f"{title}\n{line}\n{rest}" if rest else f"{title}\n{line}"


def _starters(knowledge: _Knowledge) -> list[Topic]:
    """Where to start, offered when nothing in the message points at a topic."""
    return [knowledge.topics[topic_id] for topic_id in _STARTER_TOPICS if topic_id in knowledge.topics]


def _only_about_the_move(topic: Topic, ranking: Ranking) -> bool:
    """Whether this topic is answered only when the message mentions the move (for some topics, only a long
    message has to say it)."""
    return topic.only_about_the_move or (topic.long_only_about_the_move and ranking.length >= LONG_FROM)


def _for_those_who_keep_access(topic: Topic) -> bool:
    """Whether a topic says what to do to keep working after the move (the people's topics, and getting
    back in once locked out): none of it is for someone an admin decided loses access. A topic for everyone
    (what the move is, its downtime, what is kept) is still theirs to read."""
    return topic.audience == PEOPLE or topic.id == _asker.LOCKED_OUT


def _about_a_topic(ranking: Ranking) -> bool:
    """Whether the question is about one of the topics at all, however unsure the ranking is."""
    return ranking.grounded and ranking.off_topic < _OFF_TOPIC_SHARE * ranking.top


@cache
def default_answerer() -> FaqAnswerer:
    """The shared answerer over the bundled knowledge base, keeping declined questions in memory."""
    return FaqAnswerer(unanswered=InMemoryUnansweredLog())
