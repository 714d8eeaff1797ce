"""The FAQ answers each person for their own case, from the same records as their notices and to-do list
(their invitation: tests/bot/test_invitation_case.py)."""

from __future__ import annotations

from faq._sign_in import NOT_MAPPED_TITLE
from tests.bot.conftest import Chat, started, text_of
from tests.bot.conftest import notified as lists_sent

DANA, LEE, ERIN, KIM = "dana@fabrikam.com", "lee@fabrikam.com", "erin.eng@gmail.com", "kim@fabrikam.com"
PATS = "do my personal access tokens keep working?"
EVERY_CASE = "First connection, your email matched"


def test_an_organization_found_connected_is_answered_as_the_first_connection_its_lists_describe(
    chat: Chat,
) -> None:
    chat.portal_connect()  # someone connected it before the bot was asked
    started(chat)
    assert chat.state() == "connected"
    chat.say(DANA, "invite")  # after the connection: Erin's guest identity is a new one
    chat.say(DANA, "notify")
    listed = flat(text_of(chat.say(ERIN, "todo", in_dm=True)))
    assert "Recreate your personal access tokens Your directory account or invitation came after" in listed
    answer = flat(text_of(chat.say(ERIN, PATS, in_dm=True)))
    assert "Yes: your directory account or invitation came after the organization was connected" in answer
    assert "Switching directories" not in answer and EVERY_CASE not in answer


IVAN, BOB = "ivan@fabrikam.com", "bob.builder@outlook.com"
VISUAL_STUDIO = "do I keep my Visual Studio subscription?"


def notified(chat: Chat) -> dict[str, str]:
    """Everyone's to-do list after the connection, by the address it went to."""
    lists = lists_sent(chat)
    return {message.to.email: text_of([message]) for message in lists if hasattr(message.to, "email")}


def flat(text: str) -> str:
    """The text with the console's wrapping undone."""
    return " ".join(text.split())


VISUAL_STUDIO_TITLE = "Visual Studio (MSDN) subscriptions after the switch"


def test_a_subscriber_who_keeps_his_address_is_told_the_same_by_his_list_and_the_faq(chat: Chat) -> None:
    ivan = notified(chat)[IVAN]
    assert "Keep your Visual Studio subscription benefits" not in ivan  # no "add ivan@ as alternate"
    assert (
        "• Your Visual Studio subscription benefits carry over: you keep signing in as ivan@fabrikam.com, so"
        " if the subscription is assigned to that address there is nothing to do. "
    ) in flat(ivan)
    answer = flat(text_of(chat.say(IVAN, VISUAL_STUDIO, in_dm=True)))
    assert answer.startswith(
        f"{VISUAL_STUDIO_TITLE} Your work account has the same address you sign in with today, so if your"
        " subscription uses that address your benefits carry over with nothing to do. Your Visual Studio"
    )


def test_guests_hear_about_their_guest_account_never_a_work_account_they_do_not_have(chat: Chat) -> None:
    lists = notified(chat)
    bob = lists[BOB]
    assert "Sign in with your guest account" in bob and "work account" not in bob
    assert "work account" not in lists[ERIN]
    for guest in (ERIN, BOB):
        answer = flat(text_of(chat.say(guest, VISUAL_STUDIO, in_dm=True)))
        assert answer.startswith(
            f"{VISUAL_STUDIO_TITLE} You keep signing in with your own address, as a guest of the directory,"
            " so if your subscription uses that address your benefits carry over with nothing to do. Your"
        ), guest


def test_someone_who_needs_no_new_token_is_not_given_the_steps_to_make_one(chat: Chat) -> None:
    notified(chat)
    answer = flat(text_of(chat.say(DANA, "do I need to recreate my personal access tokens?", in_dm=True)))
    assert answer.startswith(
        "Do I need new personal access tokens? No need: your Microsoft account and your work account share"
        " one address, so your identity carries over and your existing PATs keep working. Microsoft's page: "
    )


LOCKED_OUT_TITLE = "Locked out right after connecting or switching the directory"


def test_after_connecting_cannot_sign_in_is_each_persons_own_case(chat: Chat) -> None:
    notified(chat)
    cases = {
        BOB: "You are a guest of the directory: you have no work account, so sign in with your own address",
        DANA: "You have a work account in the directory",
    }
    for who, their_case in cases.items():
        for question in ("I can't sign in anymore", "I cannot sign in to Azure DevOps anymore"):
            answer = flat(text_of(chat.say(who, question, in_dm=True)))
            assert answer.startswith(f"{LOCKED_OUT_TITLE} {their_case}"), (who, answer[:200])
        # Kim is mapped by hand, and Azure DevOps still shows her on her Microsoft account: signing in
        # with her work account waits for the admins (walk34 finding 1)
        kims = flat(text_of(chat.say(KIM, question, in_dm=True)))
        assert kims.startswith(f"{NOT_MAPPED_TITLE} fabrikam-fiber now signs in with directory"), kims
    assert "Admin tip: `/aad status`" in flat(text_of(chat.say(DANA, "I can't sign in anymore", in_dm=True)))
    assert "Admin tip" not in flat(text_of(chat.say(KIM, "I can't sign in anymore", in_dm=True)))


def test_an_invited_guest_locked_out_after_connecting_is_sent_to_her_invitation(chat: Chat) -> None:
    notified(chat)
    answer = flat(text_of(chat.say(ERIN, "I can't sign in anymore", in_dm=True)))
    assert answer.startswith(
        f"{LOCKED_OUT_TITLE} You were invited as a guest: Azure DevOps lets you in once you have accepted the"
        " invitation email from Microsoft Invitations"
    )
    assert "not a work account" in answer


def test_near_domain_sign_in_trouble_is_still_declined_inside_the_migration(chat: Chat) -> None:
    notified(chat)
    for who in (KIM, ERIN, DANA):
        for question in (
            "I can't sign in to my laptop anymore",
            "I forgot my laptop password and I'm locked out",
            "how do I create a service connection",  # near-domain, not about the move
            "how much does a basic license cost",
        ):
            answer = flat(text_of(chat.say(who, question, in_dm=True)))
            assert answer.startswith("Sorry, I don't know the answer to that one."), (who, question)


SSH = "will my ssh keys keep working?"
SUPPORT_CLEARS = "Support clear"


def test_the_ssh_answer_says_of_each_identity_what_the_token_answer_and_the_list_say(chat: Chat) -> None:
    """Erin, invited at her own address before the connection, keeps her identity: her SSH answer must not
    say she gets a different one while her token answer says it carries over (walk 25, finding 5). Kim,
    mapped by hand, gets a new identity and adds her key again. Neither connects from another directory,
    so neither hears of Support clearing the keys."""
    lists = notified(chat)
    erin_tokens = flat(text_of(chat.say(ERIN, PATS, in_dm=True)))
    assert "so your identity carries over" in erin_tokens
    erin = flat(text_of(chat.say(ERIN, SSH, in_dm=True)))
    assert "different identity" not in erin and "new identity" not in erin and "work account" not in erin
    assert erin.startswith(
        "SSH keys after the switch Your key may well keep working: you join as a guest with your own"
        " address erin.eng@gmail.com, so your identity carries over, just as your personal access tokens keep"
        " working."
    )
    kim = flat(text_of(chat.say(KIM, SSH, in_dm=True)))
    assert kim.startswith("SSH keys after the switch You need to add your key again: your identity is mapped")
    assert "Yes: your identity is mapped" in flat(text_of(chat.say(KIM, PATS, in_dm=True)))
    for who, answer in ((ERIN, erin), (KIM, kim)):
        assert "your to-do list has that step" in answer and "Re-add your SSH keys" in lists[who], who
        assert SUPPORT_CLEARS not in answer and EVERY_CASE not in answer, who
    assert SUPPORT_CLEARS not in flat(text_of(chat.say(DANA, SSH, in_dm=True)))  # an admin, first connection


PAT_IN_A_VARIABLE_GROUP = "my pipelines use a PAT in a variable group, will they break after the migration?"


def test_a_token_in_a_variable_group_is_answered_by_whose_tokens_stop_working(chat: Chat) -> None:
    """The service connections' "nothing to do" is not the answer for the PAT of someone mapped by hand
    (walk 25, finding 12): their own tokens stop working, as their list says."""
    lists = notified(chat)
    assert "Recreate your personal access tokens" in lists[KIM]
    kim = flat(text_of(chat.say(KIM, PAT_IN_A_VARIABLE_GROUP, in_dm=True)))
    assert (
        "Your own personal access tokens stop working after the change (your identity is mapped by hand to"
    ) in kim
    assert "fails until you make a new token and put it there" in kim
    dana = flat(text_of(chat.say(DANA, PAT_IN_A_VARIABLE_GROUP, in_dm=True)))
    assert "Recreate your personal access tokens" not in lists[DANA]
    assert "Your own personal access tokens keep working (your Microsoft account and your work" in dana
    assert "stop working after the change" not in dana


GUS, HANA = "gus@fabrikam.com", "hana@contoso.com"
STORY = "why can't I sign in anymore? I get AADSTS50057"


def test_someone_decided_out_hears_that_decision_from_todo_and_from_the_faq(chat: Chat) -> None:
    """Gus lost access by an admin's decision: `todo` and his questions say so, who decided and whom to
    ask (walk 25, finding 12), as his notice did; not who else lost access."""
    notified(chat)
    before = flat(text_of(chat.say(GUS, STORY, in_dm=True)))
    chat.say(LEE, f"decide fabrikam-fiber {GUS} no-access")
    chat.say(LEE, f"decide fabrikam-fiber {HANA} no-access")
    todo = flat(text_of(chat.say(GUS, "todo", in_dm=True)))
    assert todo == (
        "You have no to-do list. Lee, a migration admin, decided that you lose access to fabrikam-fiber. Your"
        " work items, commits and history stay in the organization under your old name. Nothing for you to"
        " do; if you still need access, ask Lee."
    )
    for question in (STORY, "I can't sign in anymore"):
        answer = flat(text_of(chat.say(GUS, question, in_dm=True)))
        assert answer.startswith(
            "You no longer have access to fabrikam-fiber Lee, a migration admin, decided that you lose access"
            " to fabrikam-fiber, as I told you, so you cannot sign in to it any more"
        ), question
        assert "ask Lee" in answer and "hana" not in answer.casefold()
    assert "Lee, a migration admin" not in before  # his account was only disabled, not decided, then
    kims = flat(text_of(chat.say(KIM, "todo", in_dm=True)))
    assert kims.casefold().startswith("your to-do list for fabrikam-fiber")


def test_someone_decided_out_is_not_given_the_steps_of_those_who_keep_access(chat: Chat) -> None:
    """Gus's questions about what to do, an error or Visual Studio are answered as `todo` answers him (walk
    27, finding 1): who decided and whom to ask, not the checklist for the people who keep access."""
    notified(chat)
    chat.say(LEE, f"decide fabrikam-fiber {GUS} no-access")
    for question in ("what do I have to do?", "my pipeline fails with TF400813 now", VISUAL_STUDIO):
        answer = flat(text_of(chat.say(GUS, question, in_dm=True)))
        assert answer.startswith(
            "You no longer have access to fabrikam-fiber Lee, a migration admin, decided that you lose access"
        ), question
        assert "work account" not in answer and "git-credential-manager" not in answer, question


def test_someone_decided_out_who_asks_in_a_channel_hears_it_in_private(chat: Chat) -> None:
    """That Lee decided Gus loses access is for Gus: asked in a channel, the answer is his alone, and
    someone else's answer there stays public."""
    notified(chat)
    chat.say(LEE, f"decide fabrikam-fiber {GUS} no-access")
    in_channel = chat.say(GUS, STORY)
    assert "Lee, a migration admin, decided that you lose access" in flat(text_of(in_channel))
    assert [outgoing.message.private for outgoing in in_channel] == [True]
    assert [outgoing.message.private for outgoing in chat.say(KIM, "how do I accept my invitation?")] == [
        False
    ]


CAROL = "carol.w@outlook.com"
PIPELINE = "my pipeline fails with TF400813 now"


def test_a_failing_pipeline_is_answered_by_whether_the_askers_tokens_still_work(chat: Chat) -> None:
    """Carol, mapped by hand, made her tokens under the identity she leaves: her answer names them first
    (procedure: regenerate tokens for the users who are mapped). Ivan's tokens keep working: his answer is
    the pipeline's own connections (walk 27, finding 2)."""
    assert "Recreate your personal access tokens" in notified(chat)["carol@fabrikam.com"]
    carol = flat(text_of(chat.say(CAROL, PIPELINE, in_dm=True)))
    assert carol.startswith("This sounds like: Do I need new personal access tokens? Yes:"), carol
    assert "The PATs you made before stop working" in carol and "Change owner" not in carol
    ivan = flat(text_of(chat.say(IVAN, PIPELINE, in_dm=True)))
    assert ivan.startswith("This sounds like: Service connections"), ivan
    assert "Your own personal access tokens keep working" in ivan and "Change owner" not in ivan


def test_i_did_it_already_shows_the_open_items_and_how_to_tick_one_off(chat: Chat) -> None:
    """ "I did it already" in a direct message is a tick without a number: the person's open items, each
    with its `done N`, not an admins' FAQ page (walk 27, finding 3); someone with no list hears why."""
    notified(chat)
    chat.say(CAROL, "done 1", in_dm=True)
    for said in ("I did it already", "done", "all finished!"):
        reply = flat(text_of(chat.say(CAROL, said, in_dm=True)))
        assert reply.startswith("Which one did you do? Say `done N` with its number"), said
        assert "`done 1`" not in reply and "`done 2`" in reply and "disconnected" not in reply, said
    chat.say(LEE, f"decide fabrikam-fiber {GUS} no-access")
    gus = flat(text_of(chat.say(GUS, "I did it already", in_dm=True)))
    assert gus.startswith("You have no to-do list. Lee, a migration admin, decided"), gus
    asked = flat(text_of(chat.say(CAROL, "did I do it?", in_dm=True)))
    assert not asked.startswith("Which one"), asked


def test_the_checklist_and_the_lock_out_answer_say_which_account_for_the_askers_case(chat: Chat) -> None:
    """Each is told the account they sign in with, not both ways (walk 27, finding 8): Carol, mapped by
    hand to her work account, has no Microsoft account at her work address to rename; Bob, a guest, has no
    work account; Ivan's Microsoft account holds his work address, so the rename is his."""
    notified(chat)
    both_ways = "guest of the directory: with"
    carol = flat(text_of(chat.say(CAROL, "what do I have to do?", in_dm=True)))
    assert "sign in to https://dev.azure.com/fabrikam-fiber with your work account" in carol
    assert both_ways not in carol and "(a guest: with" not in carol
    assert "rename your Microsoft account" not in carol
    assert "4. If you are asked to pick between accounts: choose Work or school account. " in carol
    bob = flat(text_of(chat.say(BOB, "what do I have to do?", in_dm=True)))
    assert "fabrikam-fiber with your own address, the one the invitation went to" in bob
    assert both_ways not in bob and "choose Work or school account" not in bob
    ivan = flat(text_of(chat.say(IVAN, "what do I have to do?", in_dm=True)))
    assert "rename your Microsoft account to stop the question" in ivan and both_ways not in ivan
    locked_out = flat(text_of(chat.say(CAROL, "I can't sign in anymore", in_dm=True)))
    # not mapped yet (walk34 finding 1): her work account, once the admins have mapped her to it
    assert locked_out.startswith(NOT_MAPPED_TITLE) and both_ways not in locked_out
    assert "Once it is done, sign in with your work account as your to-do list says." in locked_out


def test_only_a_refused_token_makes_a_pipeline_question_the_askers_tokens_case(chat: Chat) -> None:
    """A code another topic documents keeps that topic, a failure that is no token's stays declined, and a
    sign-in complaint keeps the lock-out answer, for Carol (tokens to renew) and Ivan (tokens kept) alike
    (rev34 #1); "401"/"unauthorized" from a pipeline is still their tokens' case."""
    notified(chat)
    expected = {
        "my pipeline fails with AADSTS50020": "This sounds like: My email is not found in the directory",
        "my pipeline fails with VS30063": "This sounds like: Git or Visual Studio cannot authenticate",
        "my build fails with TF30063": "This sounds like: Git or Visual Studio cannot authenticate",
        "why does my build pipeline fail with npm error?": "Sorry, I don't know the answer to that one.",
        "pipeline agent offline, jobs not running": "Sorry, I don't know the answer to that one.",
        "I can't sign in, my release pipeline is broken too": LOCKED_OUT_TITLE,
        "I can't sign in and my pipeline gets 401 too": LOCKED_OUT_TITLE,
    }
    tokens = {CAROL: "Do I need new personal access tokens? Yes:", IVAN: "Service connections"}
    for who, their_tokens in tokens.items():
        for question, start in expected.items():
            if who == CAROL and start == LOCKED_OUT_TITLE:  # not mapped yet: that is her lock-out (walk34 1)
                start = NOT_MAPPED_TITLE
            answer = flat(text_of(chat.say(who, question, in_dm=True)))
            assert answer.startswith(start), (who, question, answer[:120])
        for question in ("my pipeline gets 401 Unauthorized since yesterday", "build failing TF400813"):
            answer = flat(text_of(chat.say(who, question, in_dm=True)))
            assert answer.startswith(f"This sounds like: {their_tokens}"), (who, question, answer[:120])


def test_in_a_channel_an_answer_fitted_to_the_askers_case_is_hers_alone(chat: Chat) -> None:
    """What Carol's records make of an answer (mapped by hand, her tokens stop working, no rename) is hers:
    asked in the channel it is private, as an answer naming her address is; what anyone there would be
    told stays public (rev34 #3)."""
    notified(chat)
    for question in ("what do I have to do after the switch?", PIPELINE):
        (reply,) = chat.say(CAROL, question)  # in the migration's channel
        assert reply.message.private, question
    assert "The PATs you made before stop working" in flat(text_of(chat.say(CAROL, PIPELINE)))
    for question in ("is there any downtime?", "how do I clear the git credential cache?"):
        (reply,) = chat.say(CAROL, question)
        assert not reply.message.private, question


def test_what_answers_something_else_is_no_tick(chat: Chat) -> None:
    """ "fixed", "it's fixed now" (a problem gone) and a bare "I did" (a yes to "Did you mean…?") are no
    step done: Carol and Dana get no list of open items for them; "I did it already" still is (rev34 #6)."""
    notified(chat)
    for who in (CAROL, DANA):
        for said in ("fixed", "it's fixed now", "I did"):
            reply = flat(text_of(chat.say(who, said, in_dm=True)))
            assert not reply.startswith("Which one did you do?"), (who, said, reply[:120])
    done = flat(text_of(chat.say(CAROL, "I did it already", in_dm=True)))
    assert done.startswith("Which one did you do? Say `done N` with its number"), done
