"""Each person's to-do list follows their case: the procedure's "inform users" rules, one by one."""

from __future__ import annotations

import pytest

from workflows.directory import OrgUser, Tenant
from workflows.informing import advance_notice, todo_notes
from workflows.item_rewording import MAPPED_FIRST, mapping_seen, without_help_button
from workflows.plan import Match, PlannedUser
from workflows.todo import TodoTemplate, todo_items

TENANT = Tenant(
    id="t-1", display_name="Fabrikam", verified_domains=("fabrikam.com", "fabrikam.onmicrosoft.com")
)


def planned(
    outcome: str, principal: str = "pat@outlook.com", upn: str | None = "pat@fabrikam.com"
) -> PlannedUser:
    match = Match(id="g-1", user_principal_name=upn, by="mail") if upn else None
    return PlannedUser(id="e-1", principal_name=principal, outcome=outcome, match=match)  # type: ignore[arg-type]


def keys(user: PlannedUser, org_user: OrgUser | None = None, invited_as: str | None = None) -> list[str]:
    subscriber = org_user is not None and org_user.is_visual_studio_subscriber
    items = todo_items(user, subscriber, organization="fabrikam-fiber", tenant=TENANT, invited_as=invited_as)
    return [item.key for item in items]


def listed(user: PlannedUser, invited_as: str | None, *, after_connecting: bool) -> list[TodoTemplate]:
    """The list of someone without a Visual Studio subscription."""
    return todo_items(
        user,
        False,
        organization="fabrikam-fiber",
        tenant=TENANT,
        invited_as=invited_as,
        after_connecting=after_connecting,
    )


def test_everyone_who_keeps_access_signs_in_again_and_clears_git_and_ssh() -> None:
    assert keys(planned("auto")) == ["sign-in-work-account", "clear-git-credentials", "re-add-ssh-keys"]


@pytest.mark.parametrize(
    ("user", "invited_as", "after_connecting", "recreates"),
    [
        (planned("auto"), None, False, False),  # emails match: Connect carries the identity over
        (planned("auto"), None, True, True),  # a directory account after connecting: a new identity
        (planned("auto", upn="pat_outlook.com#EXT#@fabrikam.onmicrosoft.com"), None, False, False),
        (planned("map"), None, False, True),  # mapped by hand
        (planned("map"), None, True, True),
        (planned("invite", upn=None), "pat@outlook.com", False, False),  # a guest under their own address
        (planned("invite", upn=None), "PAT@outlook.com ", False, False),
        (planned("invite", upn=None), "pat.p@outlook.com", False, True),  # another address: mapped
        (planned("invite", upn=None), "pat@outlook.com", True, True),  # invited after connecting
        (planned("invite", upn=None), None, False, False),  # no invitation, no account yet
        (planned("invite", upn=None), None, True, False),
        (planned("disabled"), None, False, False),
        (planned("ambiguous", upn=None), None, False, False),  # the decision brings it (relisting)
    ],
)
def test_only_people_mapped_by_hand_recreate_their_tokens_as_microsoft_says(
    user: PlannedUser, invited_as: str | None, after_connecting: bool, recreates: bool
) -> None:
    """ "You don't need to regenerate tokens if your emails match. You do need to regenerate new tokens
    for the Azure AD users who need to be mapped." No list or note says otherwise."""
    items = listed(user, invited_as, after_connecting=after_connecting)
    notes = todo_notes(user, after_connecting=after_connecting, invited_as=invited_as)
    assert ("recreate-pats" in [item.key for item in items]) is recreates
    keep_working = [note for note in notes if "tokens keep working" in note]
    assert not (recreates and keep_working)  # never both "recreate" and "they keep working"
    if (
        not recreates
        and user.outcome in ("auto", "invite")
        and not after_connecting
        and (invited_as or user.outcome == "auto")
    ):
        assert keep_working


def test_the_advance_notice_tells_a_guest_under_their_own_address_their_tokens_keep_working() -> None:
    user = planned("invite", upn=None)
    own = " ".join(advance_notice(user, organization="o", tenant="Fabrikam", invited_as="pat@outlook.com"))
    other = " ".join(advance_notice(user, organization="o", tenant="Fabrikam", invited_as="p2@outlook.com"))
    assert "tokens keep working" in own and "must be made again" not in own
    assert "must be made again" in other


def test_a_microsoft_account_on_a_company_domain_is_told_to_rename_it() -> None:
    assert "rename-microsoft-account" in keys(planned("auto", principal="Pat@Fabrikam.com"))
    assert "rename-microsoft-account" not in keys(planned("auto", principal="pat@outlook.com"))


def test_visual_studio_subscribers_keep_their_benefits() -> None:
    subscriber = OrgUser(
        id="e-1", principal_name="pat@outlook.com", licensing_source="msdn", msdn_license_type="enterprise"
    )
    basic = OrgUser(id="e-1", principal_name="pat@outlook.com", licensing_source="account")
    assert "visual-studio-subscription" in keys(planned("auto"), subscriber)
    assert "visual-studio-subscription" not in keys(planned("auto"), basic)


def test_users_without_a_usable_directory_account_get_what_to_do_and_whom_to_ask() -> None:
    assert keys(planned("invite", upn=None), invited_as="pat@outlook.com")[0] == "accept-invitation"
    assert keys(planned("invite", upn=None))[0] == "ask-for-access"  # nobody sent an invitation
    assert keys(planned("disabled"))[0] == "enable-directory-account"
    assert keys(planned("ambiguous", upn=None))[0] == "choose-work-account"
    assert "sign-in-work-account" not in keys(planned("invite", upn=None))


def test_a_guest_signs_in_with_their_own_address_not_the_ext_name() -> None:
    guest = PlannedUser(
        id="e-2",
        principal_name="bob@outlook.com",
        outcome="auto",
        match=Match(id="g-2", user_principal_name="bob_outlook.com#EXT#@fabrikam.onmicrosoft.com", by="mail"),
        mail_address="bob@outlook.com",
    )
    items = todo_items(guest, False, organization="fabrikam-fiber", tenant=TENANT, invited_as=None)
    sign_in = next(item for item in items if item.key == "sign-in-work-account")
    assert "sign in as bob@outlook.com" in sign_in.body
    assert "#EXT#" not in sign_in.body


def test_an_invitation_names_the_address_it_was_sent_to() -> None:
    user = PlannedUser(id="e-3", principal_name="pat@outlook.com", outcome="invite", match=None)
    items = todo_items(
        user, False, organization="fabrikam-fiber", tenant=TENANT, invited_as="pat.p@outlook.com"
    )
    assert "to pat.p@outlook.com" in items[0].body


def test_leaving_another_directory_everyone_is_told_to_make_new_tokens() -> None:
    """Tokens belong to the old directory's identity, whoever keeps their address."""
    for user in (planned("auto"), planned("map"), planned("invite", upn=None)):
        notice = " ".join(
            advance_notice(
                user, organization="o", tenant="Fabrikam", invited_as="pat@outlook.com", case="switch"
            )
        )
        assert "instead of another directory's accounts" in notice
        assert "must be made again" in notice and "keep working" not in notice, user.outcome


@pytest.mark.parametrize(
    ("user", "invited_as", "after_connecting", "pressing", "asking"),
    [
        (  # the history
            planned("auto"),
            None,
            True,
            " if that fails); press *I need help* to ask them.",
            " if that fails).",
        ),
        (  # ask for an account
            planned("invite", upn=None),
            None,
            False,
            " for a work account; press *I need help* here to tell the admins.",
            " for a work account.",
        ),
        (  # no email?
            planned("invite", upn=None),
            "pat@outlook.com",
            False,
            " Check your spam folder, then press *I need help*.",
            " Check your spam folder, then ask the migration admins to send it again.",
        ),
        (
            planned("disabled"),
            None,
            False,
            " If you still need access, press *I need help* here: the migration admins settle it with you"
            " (your directory administrator enabling that account, or another account they map you to).",
            " If you still need access, ask the migration admins: they settle it with you (your directory"
            " administrator enabling that account, or another account they map you to).",
        ),
        (
            planned("ambiguous", upn=None),
            None,
            False,
            " which one you sign in with every day (press *I need help* here): they map you to it.",
            " which one you sign in with every day: they map you to it.",
        ),
    ],
)
def test_on_a_completed_migrations_list_no_item_points_to_a_button_it_no_longer_has(
    user: PlannedUser, invited_as: str | None, after_connecting: bool, pressing: str, asking: str
) -> None:
    """Every pointer to *I need help* reads without the button once the migration is completed (the list
    then names whom to ask), and the rest of the item as it was."""
    items = listed(user, invited_as, after_connecting=after_connecting)
    (pointing,) = [item.body for item in items if "*I need help*" in item.body]
    before, found, after = pointing.partition(pressing)
    assert found and without_help_button(pointing) == before + asking + after


def test_a_mapped_sign_in_item_still_open_opens_without_a_tick_even_when_reworded_before() -> None:
    """A ✅ at the head of an open item reads as done (walk37 19): the mapping is said in words, and an item
    that a wrong mapping reworded earlier, with the tick, is reworded all the same."""
    steps = "Sign out of Azure DevOps everywhere."
    body = MAPPED_FIRST.format(account="kim@fabrikam.com") + steps
    mapped = mapping_seen(body, "kim@fabrikam.com", planned="kim@fabrikam.com", elsewhere=False)
    assert mapped == (
        "The migration admins mapped your old identity to kim@fabrikam.com, which keeps your history yours:"
        f" Azure DevOps lets you in with it now. {steps}"
    )
    ticked_before = f"✅ {mapped}"
    again = mapping_seen(
        ticked_before,
        "kim.kay@fabrikam.com",
        planned="kim@fabrikam.com",
        elsewhere=True,
        was="kim@fabrikam.com",
    )
    assert again == (
        "⚠️ Azure DevOps shows your old identity mapped to kim.kay@fabrikam.com, not to kim@fabrikam.com: the"
        " migration admins check it with you. If kim.kay@fabrikam.com is yours, sign in with it; if not, ask"
        f" them first. {steps}"
    )
