"""What the FAQ tells a person about their personal access tokens is what their own notice or to-do list tells
them (one rule, `workflows.tokens`), for each kind of person in the fabrikam scenario. Every assertion reads
that person's own messages only: never a message to someone else in the same output."""

from __future__ import annotations

from bot.conversation.messages import Outgoing
from tests.bot.conftest import ORG, Chat, started, text_of

DANA, LEE, ANN, BOB = "dana@fabrikam.com", "lee@fabrikam.com", "ann@fabrikam.com", "bob.builder@outlook.com"
KIM, ERIN, FRANK = "kim@fabrikam.com", "erin.eng@gmail.com", "frank.f@outlook.com"
PATS = "do I need new personal access tokens?"

KEEP_ON_LIST = "and your personal access tokens keep working: no need to recreate them."
RENEW_ON_LIST = "Recreate your personal access tokens"
SAME_ADDRESS = "your Microsoft account and your work account share one address, so your identity carries over"
OWN_GUEST = "you are a guest of the directory with your own address, so your identity carries over"
MAPPED = "your identity is mapped by hand to your directory account"
LATE = (
    "your directory account or invitation came after the organization was connected, so Connect did not carry"
    " your identity over: you sign in with a new one"
)
SWITCH = (
    "tokens belong to the old directory's identity, and Microsoft says to make new ones after a directory"
    " switch"
)


def flat(text: str) -> str:
    """The text with the console's wrapping undone."""
    return " ".join(text.split())


def sentence(why: str) -> str:
    return why[:1].upper() + why[1:]


def own(outgoing: list[Outgoing], email: str) -> str:
    """The one message in `outgoing` sent to `email` (a direct message), flattened."""
    (mine,) = [message for message in outgoing if getattr(message.to, "email", None) == email]
    return flat(text_of([mine]))


def answer(chat: Chat, email: str) -> str:
    return flat(text_of(chat.say(email, PATS, in_dm=True)))


def notify(chat: Chat, *, invite_first: bool = True) -> list[Outgoing]:
    """Started, (everyone invited,) approved, connected in the portal and seen by the watch: the lists."""
    started(chat)
    if invite_first:
        chat.say(DANA, "invite")
    chat.click(LEE, chat.say(DANA, f"request-approval {ORG} anyway"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    return chat.say(DANA, "notify")


def assert_kept(listed: str, answered: str, why: str) -> None:
    assert f"{sentence(why)} {KEEP_ON_LIST}" in listed and RENEW_ON_LIST not in listed
    assert f"No need: {why} and your existing PATs keep working." in answered
    assert "Yes:" not in answered and "New Token" not in answered


def assert_renewed(listed: str, answered: str, why: str) -> None:
    assert f"{RENEW_ON_LIST} {sentence(why)}. Tokens you made before stop working" in listed
    assert "keep working" not in listed
    assert f"Yes: {why}. The PATs you made before stop working" in answered
    assert "keep working" not in answered and "No need" not in answered


def test_people_whose_sign_in_stays_the_same_keep_their_tokens_in_their_list_and_the_faq(chat: Chat) -> None:
    lists = notify(chat)
    assert_kept(own(lists, ANN), answer(chat, ANN), SAME_ADDRESS)
    assert_kept(own(lists, BOB), answer(chat, BOB), OWN_GUEST)


def test_someone_mapped_by_hand_is_told_to_recreate_them_in_both(chat: Chat) -> None:
    started(chat)
    before = answer(chat, KIM)  # in the plan as kim@fabrikam-old.com, known by her directory account
    lists = notify(chat)
    assert_renewed(own(lists, KIM), answer(chat, KIM), MAPPED)
    assert f"Yes: {MAPPED}. The PATs you made before stop working" in before


def test_a_guest_invited_at_her_own_address_before_connecting_keeps_them_as_her_notice_and_list_say(
    chat: Chat,
) -> None:
    started(chat)
    chat.say(DANA, "invite")  # remakes the plan: Erin now matches her guest account, still to accept
    why = f"you join as a guest with your own address {ERIN}, so your identity carries over"
    notice = own(chat.say(DANA, f"announce {ORG} Friday 14:00 UTC"), ERIN)
    assert f"{sentence(why)} and your personal access tokens keep working." in notice
    assert "must be made again" not in notice
    assert f"No need: {why} and your existing PATs keep working." in answer(chat, ERIN)
    chat.click(LEE, chat.say(DANA, "request-approval"), "Approve")
    chat.portal_connect()
    chat.runtime.conversation.watch()
    lists = chat.say(DANA, "notify")
    assert_kept(own(lists, ERIN), answer(chat, ERIN), why)


def test_a_guest_invited_after_connecting_is_told_to_make_new_ones_by_her_list_and_the_faq(
    chat: Chat,
) -> None:
    notify(chat, invite_first=False)
    chat.say(DANA, "invite")  # after the connection: a new guest identity
    listed = flat(text_of(chat.say(ERIN, "todo", in_dm=True)))
    assert_renewed(listed, answer(chat, ERIN), LATE)


def test_guests_still_to_accept_an_earlier_migrations_invitation_keep_them_in_both(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "invite")
    chat.say(DANA, f"cancel {ORG}")
    lists = notify(chat, invite_first=False)  # this migration invited nobody: the plan has them to accept
    why = f"you join as a guest with your own address {FRANK}, so your identity carries over"
    assert "Accept the invitation to the directory" in own(lists, FRANK)
    assert_kept(own(lists, FRANK), answer(chat, FRANK), why)


def test_an_organization_leaving_another_directory_tells_everyone_to_make_new_ones(chat: Chat) -> None:
    chat.portal_connect(tenant="5e1f0c2a-0000-4000-8000-0000000000aa")  # another company's directory
    started(chat)
    assert chat.state() == "blocked"
    notices = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    for person in (ANN, BOB, "kim@fabrikam-old.com"):  # before connecting, by their Azure DevOps address
        notice = own(notices, person)
        assert "instead of another directory's accounts" in notice
        assert f"{sentence(SWITCH)}: personal access tokens you made before stop working" in notice
        assert "keep working" not in notice
        answered = answer(chat, person)
        assert f"Yes: {SWITCH}. The PATs you made before stop working" in answered
        assert "keep working" not in answered


def test_leaving_another_directory_no_one_is_told_of_a_microsoft_account_to_rename(chat: Chat) -> None:
    """In a switch the account left behind is the old directory's: the checklist says so, and asks no one to
    rename a Microsoft account their notice never mentions (rev34 #2). Ann is matched (auto), Kim mapped."""
    chat.portal_connect(tenant="5e1f0c2a-0000-4000-8000-0000000000aa")  # another company's directory
    started(chat)
    notices = chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    for person in (ANN, "kim@fabrikam-old.com"):
        assert "Microsoft account" not in own(notices, person)
        checklist = flat(text_of(chat.say(person, "what do I have to do after the switch?", in_dm=True)))
        assert "with your work account of the new directory" in checklist, checklist
        assert "not your old directory's account" in checklist and "Microsoft account" not in checklist
        assert "choose Work or school account." in checklist
