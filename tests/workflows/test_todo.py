"""Each person's to-do list follows their case: the procedure's "inform users" rules, one by one."""

from __future__ import annotations

from workflows.directory import OrgUser, Tenant
from workflows.plan import Match, PlannedUser
from workflows.todo import todo_items, todo_notes

TENANT = Tenant(
    id="t-1", display_name="Fabrikam", verified_domains=("fabrikam.com", "fabrikam.onmicrosoft.com")
)


def planned(
    outcome: str, principal: str = "pat@outlook.com", upn: str | None = "pat@fabrikam.com"
) -> PlannedUser:
    match = Match(id="g-1", user_principal_name=upn, by="mail") if upn else None
    return PlannedUser(id="e-1", principal_name=principal, outcome=outcome, match=match)  # type: ignore[arg-type]


def keys(user: PlannedUser, org_user: OrgUser | None = None, invited_as: str | None = None) -> list[str]:
    items = todo_items(user, org_user, organization="fabrikam-fiber", tenant=TENANT, invited_as=invited_as)
    return [item.key for item in items]


def test_everyone_who_keeps_access_signs_in_again_and_clears_git_and_ssh() -> None:
    assert keys(planned("auto")) == ["sign-in-work-account", "clear-git-credentials", "re-add-ssh-keys"]


def test_only_users_mapped_by_hand_or_invited_as_guests_recreate_their_tokens() -> None:
    assert "recreate-pats" in keys(planned("map"))
    assert "recreate-pats" in keys(planned("invite", upn=None), invited_as="pat@outlook.com")
    assert "recreate-pats" not in keys(planned("invite", upn=None))  # no invitation, no account yet
    assert "recreate-pats" not in keys(planned("auto"))
    assert any("no need to recreate" in note for note in todo_notes(planned("auto")))


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
    items = todo_items(guest, None, organization="fabrikam-fiber", tenant=TENANT, invited_as=None)
    sign_in = next(item for item in items if item.key == "sign-in-work-account")
    assert "sign in as bob@outlook.com" in sign_in.body
    assert "#EXT#" not in sign_in.body


def test_an_invitation_names_the_address_it_was_sent_to() -> None:
    user = PlannedUser(id="e-3", principal_name="pat@outlook.com", outcome="invite", match=None)
    items = todo_items(
        user, None, organization="fabrikam-fiber", tenant=TENANT, invited_as="pat.p@outlook.com"
    )
    assert "to pat.p@outlook.com" in items[0].body
