"""Real questions are long: a story, a quoted line of Microsoft's page, a log, then one or two questions."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

from faq import AskerContext, FaqAnswerer, _text
from faq._calibration import bundled_calibration
from faq._reading import pasted, read

STORY = (
    "We are a team of twelve and we have used Azure DevOps with personal accounts for years. Last week"
    " IT finally connected our organization to the company's Entra tenant and most things went fine."
)


def test_reading_separates_what_is_asked_from_the_story_the_quotes_and_the_footer() -> None:
    text = (
        f"{STORY}\n\n> Clear the cache for the Git Credential Manager if you use Visual Studio.\n\n"
        "Since then the build agent log shows TF400813 and AADSTS50020 for our service account.\n"
        "```\n2026-01-01 ERROR VS30063: You are not authorized to access https://dev.azure.com/x\n```\n"
        "Do we have to create new personal access tokens?\n\n---\n#### Document Details\n* ID: 1234"
    )
    reading = read(text)
    assert reading.asked == ("Do we have to create new personal access tokens?",)
    # Quoted documentation is never what is asked: it is context, after the asker's own words.
    assert reading.quoted == ("Clear the cache for the Git Credential Manager if you use Visual Studio.",)
    assert reading.quoted[0] not in reading.sentences
    assert reading.told.index("service account") < reading.told.index("Credential Manager")
    assert "Document Details" not in reading.told and "2026-01-01" not in reading.told
    assert reading.codes == ("TF400813", "AADSTS50020", "VS30063")
    assert "VS30063" in reading.told  # a code seen only in a pasted log still counts


def test_a_sentence_asks_by_its_first_word_not_by_a_word_that_starts_like_one() -> None:
    telling_sentences = ("However, the org exists.", "Documentation issues:", "Maybe the owner left.")
    for telling in telling_sentences:
        assert read(f"{telling} We connected last week.").asked == ()
    asking_sentences = ("Can't we reuse the tokens.", "Whats the timeline.", "Isn't there a way to keep it.")
    for asking in asking_sentences:
        assert read(f"We connected last week. {asking}").asked == (asking,)


def test_entra_sign_in_codes_count_only_when_the_message_is_about_azure_devops() -> None:
    assert "AADSTS50034" not in read("My SharePoint app fails with AADSTS50034, why?").codes
    assert read("Azure DevOps sign-in fails with AADSTS50034 since the switch").codes == ("AADSTS50034",)


def test_the_askers_case_is_read_from_the_message() -> None:
    assert read("We are switching the directory to the new tenant next week, what about PATs?").switching
    assert not read("We connect our organization to Entra for the first time, what about PATs?").switching


def test_the_question_sentence_outweighs_a_long_story_about_something_else() -> None:
    answerer = FaqAnswerer()
    question = (
        f"{STORY} Our builds kept running and the boards look normal, and the wiki is fine as well."
        " The one thing that broke: what do I do with my SSH keys now that git over SSH says"
        " permission denied?"
    )
    assert answerer.answer(question).topic == "ssh-keys"


def test_an_error_code_is_a_strong_signal() -> None:
    answerer = FaqAnswerer()
    answer = answerer.answer(
        "Right after we connected the tenant every page shows TF400813 for me, and I'm the owner. Help?"
    )
    assert answer.topic == "owner-locked-out"


def test_a_pasted_log_line_does_not_outweigh_what_the_asker_asks() -> None:
    """The log line's words are the tool's ("not authorized to access this resource" is the lock-out's
    message); its code still counts, the asker asks about the credential cache."""
    message = (
        "After the switch to the new directory I ran the clone again.\n"
        "`remote: TF400813: The user is not authorized to access this resource. fatal: Authentication"
        " failed`\n"
        "Should we clear the cached credentials in Git Credential Manager?"
    )
    reading = read(message)
    assert [pasted(sentence) for sentence in reading.sentences] == [False, True, False]
    assert reading.codes == ("TF400813",)
    assert FaqAnswerer().rank(message).topics[0].topic_id == "git-credential-cache"


def test_a_sentence_with_a_short_code_span_is_the_askers_own() -> None:
    assert not pasted("I ran `git pull` and it asked for my password again, after we connected to Entra.")
    assert pasted("`git: 'credential-manager-core' is not a git command.`")
    assert pasted("Output: `TF30063: You are not authorized to access https://dev.azure.com/fabrikam")


def test_two_questions_in_one_answer_the_first_and_offer_the_second() -> None:
    answerer = FaqAnswerer()
    question = (
        "Will there be any downtime while the organization is connected to Entra?"
        " Also, do my SSH keys keep working after the switch?"
    )
    answer = answerer.answer(question)
    assert answer.topic == "downtime"
    assert answer.alternatives[0] == "ssh-keys" and answer.also == "ssh-keys"
    assert "You also asked about: SSH keys after the switch. Pick it below for that answer." in answer.answer
    printed = answerer.answer(question, AskerContext(in_chat=False)).answer  # `aadbot ask`: no buttons below
    assert (
        "You also asked about: SSH keys after the switch. Ask me that on its own for its answer." in printed
    )


def test_a_likely_topic_is_framed_with_one_click_alternatives() -> None:
    sure = bundled_calibration()
    unsure = type(sure)(sure.slope_top, sure.slope_margin, sure.bias, threshold=2.0, framed_threshold=0.0)
    answer = FaqAnswerer(calibration=unsure).answer("do my ssh keys still work after the switch?")
    assert answer.framed and answer.topic == "ssh-keys"
    assert answer.answer.startswith("This sounds like: SSH keys")
    assert len(answer.alternatives) >= 2 and answer.to_json()["framed"] is True
    assert "Not what you meant? Pick a closer topic below." in answer.answer
    printed = FaqAnswerer(calibration=unsure).answer(
        "do my ssh keys still work after the switch?", AskerContext(in_chat=False)
    )
    named = "; ".join(FaqAnswerer().explain(topic).answer.split("\n", 1)[0] for topic in printed.alternatives)
    assert f"Not what you meant? Closer topics: {named}. Ask me about one of them." in printed.answer
    assert "topic below" not in printed.answer  # `aadbot ask` prints no buttons


def test_near_domain_questions_are_still_declined() -> None:
    answerer = FaqAnswerer()
    for question in (
        "How do I create an Azure Resource Manager service connection for a new pipeline?",
        "How much does a Basic license cost per user per month?",
        "Our YAML pipeline fails on the restore step with a timeout, how do we retry it?",
    ):
        assert answerer.answer(question).topic is None, question


def test_regenerate_pat_says_regenerate_after_a_directory_switch() -> None:
    answerer = FaqAnswerer()
    switch = answerer.answer("do I need new PATs?", AskerContext(outcome="auto", case="switch"))
    assert "Microsoft says to regenerate PATs" in switch.answer
    assert "existing PATs keep working" not in switch.answer
    first = answerer.answer("do I need new PATs?", AskerContext(outcome="auto", case="first"))
    assert "your existing PATs keep working" in first.answer
    unknown = answerer.answer("do I need new PATs?")
    assert "- First connection, your email matched: No need" in unknown.answer
    assert "- Switching directories: Yes" in unknown.answer
    from_text = answerer.answer("We are switching to another tenant, do I need new PATs?")
    assert "Microsoft says to regenerate PATs" in from_text.answer
    assert "keep working" not in from_text.answer


def test_every_new_topic_links_a_microsoft_page_and_is_personalised_somewhere() -> None:
    answerer = FaqAnswerer()
    new = (
        "owner-locked-out",
        "service-connections",
        "what-is-kept",
        "disconnect-directory",
        "directory-not-listed",
        "support-request",
        "tfvc-workspaces",
        "upn-change",
    )
    for topic in new:
        answer = answerer.explain(topic, AskerContext(organization="fabrikam"))
        assert answer.link and answer.link.startswith("https://learn.microsoft.com/"), topic
        assert answer.link in answer.answer
    switched = answerer.explain("service-connections", AskerContext(case="switch"))
    assert "Create new Azure Resource Manager service connections" in switched.answer
    assert "Nothing to do" not in switched.answer
    assert (
        "dev.azure.com/fabrikam"
        in answerer.explain("tfvc-workspaces", AskerContext(organization="fabrikam")).answer
    )


def test_a_huge_pasted_log_with_the_question_at_the_end_is_still_answered() -> None:
    log = "2026-11-28 09:00:01 ERROR agent worker 17 lost its connection to the server. " * 20_000
    answer = FaqAnswerer().answer(f"{log}\nDo my PATs keep working after the switch to Entra?")
    assert answer.topic == "regenerate-pat"


class _Pasted(str):
    """A question that can be watched for who still holds it (a plain str takes no weak reference)."""


def test_a_long_question_is_not_kept_once_answered() -> None:
    """`serve` runs for weeks: a cache of prepared texts keyed by whole pastes held thousands of them."""
    pasted = _Pasted("our nightly build failed again with the same error " * 1000)
    assert len(pasted) > _text.MAX_SCORED_CHARS
    watched = weakref.ref(pasted)
    prepared = _text.prepare(pasted)
    assert prepared == _text.prepare(str(pasted)[: _text.MAX_SCORED_CHARS])
    del pasted
    gc.collect()
    assert watched() is None


def test_telling_the_move_is_read_apart_from_merely_naming_a_directory() -> None:
    assert read("Since IT linked our organization to Azure AD, pushes fail. Why?").tells_the_move
    assert read("We are moving the organization to another tenant next month.").tells_the_move
    assert not read("Our organization is backed by Azure AD. Why do pushes fail?").tells_the_move
    assert not read("I connect to Azure using my AAD account and get a 401, why?").tells_the_move


def test_telling_the_move_stays_within_one_sentence() -> None:
    """A verb of moving and the directory in two sentences tell nothing: "I attached the screenshot. Azure AD
    ..." is not an organization attached to Azure AD (docs/faq-eval.md, rounds 32 and 33)."""
    assert not read("I attached the screenshot. Azure AD shows my account as enabled.").tells_the_move
    assert not read("flagged disconnected in devops? they're def in AAD").tells_the_move
    assert not read("We connected the VPN\nAzure AD sign-in works in the browser").tells_the_move
    assert read("We moved dev.azure.com/fabrikam to the new tenant, why do pushes fail?").tells_the_move


GIT_STORY = (
    "Pushing to our repository from the command line now fails with Authentication failed, and the Git"
    " Credential Manager prompt opens with my personal account every time. I removed the entry from Windows"
    " Credential Manager and reinstalled Git, nothing changed. How do I get git to use my work account?"
)


def test_a_credential_story_is_answered_when_it_tells_that_the_organization_was_moved() -> None:
    """The learned model doubts Git Credential Manager stories (most public ones are not about the move);
    a sentence telling the move lifts that doubt, a directory merely named far less. Since round 35b's refit
    (the long part's framed threshold 0.540 -> 0.422) a named directory may frame the story as likely, never
    surely: 0.46 against the told story's 0.75 (docs/faq-eval.md)."""
    answerer = FaqAnswerer()
    told = answerer.answer(f"Since our admin connected the organization to Azure AD, git broke. {GIT_STORY}")
    assert told.topic == "git-credential-cache"
    assert answerer.answer(GIT_STORY).topic is None
    named = answerer.answer(f"Our organization is backed by Azure AD. {GIT_STORY}")
    assert named.topic is None or named.framed
    assert named.score < told.score - 0.2


def test_a_credential_story_with_an_attachment_is_not_read_as_telling_the_move() -> None:
    answerer = FaqAnswerer()
    told = answerer.answer(f"Since our admin connected the organization to Azure AD, git broke. {GIT_STORY}")
    for opening in (
        "I attached the screenshot. Azure AD shows my account as enabled.",
        "The log is attached! Azure AD sign-in works in the browser.",
        "I connected my laptop to the VPN. Our Azure AD admin says nothing changed.",
    ):
        answer = answerer.answer(f"{opening} {GIT_STORY}")
        assert answer.topic is None or answer.framed, opening
        assert answer.score < told.score - 0.2, opening


def test_round_9_probes_stay_at_what_was_measured_once() -> None:
    """Paraphrases of round 8's missed situations, written before round 9's tuning and scored once at its end
    (8/11 answered right, 3/4 declined: docs/faq-eval.md); tuning material from then on."""
    probes = json.loads(Path(__file__).with_name("eval_round9_probes.json").read_text(encoding="utf-8"))
    answerer = FaqAnswerer()
    right = sum(answerer.answer(p["question"]).topic == p["topic"] for p in probes["in_scope"])
    declined = sum(answerer.answer(p["question"]).topic is None for p in probes["out_of_scope"])
    assert right >= 8 and declined >= 3


SSH_STORY = (
    "I generated a new key pair on my laptop and added the public key to my Azure DevOps profile this"
    " morning. When I clone over SSH the host asks for a password and then says Permission denied,"
    " although the same key works with GitHub. Why is it asking for a password?"
)


def test_a_long_ssh_story_that_never_mentions_the_move_is_not_taken_for_the_move() -> None:
    """A one-line SSH question asked of this bot is about the move; a whole story of SSH trouble that never
    names it is about something else (round 10: such stories were answered `ssh-keys`)."""
    answerer = FaqAnswerer()
    assert answerer.topics["ssh-keys"].long_only_about_the_move
    assert answerer.answer(SSH_STORY).topic is None
    told = answerer.answer(f"Last week our organization was connected to the company's Entra ID. {SSH_STORY}")
    assert told.topic == "ssh-keys"
    assert answerer.answer("do I need to re-upload my ssh pub key").topic == "ssh-keys"
    # Inside a migration every message is about the move, the story too.
    assert answerer.answer(SSH_STORY, AskerContext(migration="fabrikam")).topic == "ssh-keys"


def test_quoting_a_topics_microsoft_page_places_a_long_story_in_the_move() -> None:
    """The story above never names the move and is declined; quoting the lines of Microsoft's page on
    SSH keys after a directory change says where the asker is (docs/faq-eval.md, round 12). A quote that
    merely shares a few words with the page does not."""
    answerer = FaqAnswerer()
    page_lines = (
        "> In Azure DevOps, open your profile, and then select Security."
        " Select SSH public keys, and then select Add."
    )
    quoting = answerer.answer(f"{page_lines}\n\n{SSH_STORY}")
    assert quoting.topic == "ssh-keys"
    assert answerer.answer(f"> Open your profile, and then select Security.\n\n{SSH_STORY}").topic is None
