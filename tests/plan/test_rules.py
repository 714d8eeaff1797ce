"""The contract's matching rules, one by one, on small snapshots."""

from __future__ import annotations

import gc

import pytest

from tests.plan.snapshots import build, member
from workflows.plan import Match
from workflows.plan_matching import build_plan


def _only(user: tuple[str, str] | str, *directory: object) -> tuple[str, Match | None, tuple[str, ...]]:
    plan = build_plan(build([user], list(directory)), "admin@a.com")
    planned = plan.users[0]
    return planned.outcome, planned.match, planned.candidates


def test_rule1_upn_equals_principal_name_wins_over_everything() -> None:
    outcome, match, _ = _only(
        "ann@a.com",
        member("1", "ANN@a.com "),
        member("2", "other@a.com", mail="ann@a.com"),  # a second enabled candidate does not matter
    )
    assert (outcome, match) == ("auto", Match("1", "ANN@a.com ", "upn"))


def test_rule1_needs_an_enabled_user() -> None:
    outcome, match, _ = _only(
        "ann@a.com",
        member("1", "ann@a.com", account_enabled=False),
        member("2", "x@a.com", mail="ann@a.com"),
    )
    assert (outcome, match) == ("map", Match("2", "x@a.com", "mail"))


def test_keys_are_trimmed_and_case_folded() -> None:
    outcome, match, _ = _only(("  STRASSE@a.com ", ""), member("1", "straße@a.com".replace("ß", "ss")))
    assert outcome == "auto" and match is not None and match.by == "upn"
    outcome, _, _ = _only("Maße@a.com", member("1", "MASSE@a.com"))
    assert outcome == "auto"  # casefold turns ß into ss


def test_rule2_guest_matched_by_mail_or_other_mails_is_auto() -> None:
    guest = member("g", "bob_outlook.com#EXT#@a.onmicrosoft.com", mail="bob@outlook.com", user_type="Guest")
    assert _only("bob@outlook.com", guest)[:2] == (
        "auto",
        Match("g", guest.user_principal_name, "mail"),
    )
    other = member("g", "bob_x#EXT#@a.onmicrosoft.com", other_mails=("Bob@Outlook.com",), user_type="Guest")
    assert _only("bob@outlook.com", other)[:2] == (
        "auto",
        Match("g", other.user_principal_name, "otherMails"),
    )


def test_rule2_guest_matched_only_by_proxy_is_map() -> None:
    guest = member(
        "g", "g#EXT#@a.onmicrosoft.com", proxy_addresses=("smtp:bob@outlook.com",), user_type="Guest"
    )
    assert _only("bob@outlook.com", guest)[:2] == (
        "map",
        Match("g", guest.user_principal_name, "proxyAddresses"),
    )


def test_rule2_member_is_map_with_the_first_field_in_order() -> None:
    both = member("m", "carol@a.com", mail="carol@a.com", proxy_addresses=("SMTP:carol@a.com",))
    assert _only(("carol@outlook.com", "carol@a.com"), both)[:2] == (
        "map",
        Match("m", "carol@a.com", "upn"),
    )
    by_mail = member("m", "c.w@a.com", mail="carol@outlook.com", other_mails=("carol@outlook.com",))
    assert _only("carol@outlook.com", by_mail)[1] == Match("m", "c.w@a.com", "mail")
    by_other = member("m", "c.w@a.com", other_mails=("carol@outlook.com",))
    assert _only("carol@outlook.com", by_other)[1] == Match("m", "c.w@a.com", "otherMails")


def test_proxy_addresses_need_an_smtp_prefix_in_any_case() -> None:
    proxies = ("x500:/o=A/cn=kim@old.com", "sip:kim@old.com", "SmTp:KIM@old.com ")
    outcome, match, _ = _only("kim@old.com", member("m", "kim@a.com", proxy_addresses=proxies))
    assert (outcome, match) == ("map", Match("m", "kim@a.com", "proxyAddresses"))
    ignored = member("m", "kim@a.com", proxy_addresses=("x500:kim@old.com", "sip:kim@old.com", "kim@old.com"))
    assert _only("kim@old.com", ignored)[0] == "invite"


def test_rule3_two_enabled_candidates_are_ambiguous() -> None:
    outcome, match, candidates = _only(
        "hana@c.com",
        member("1", "hana_c#EXT#@a.onmicrosoft.com", mail="hana@c.com", user_type="Guest"),
        member("2", "hana@a.com", other_mails=("hana@c.com",)),
        member("3", "old@a.com", mail="hana@c.com", account_enabled=False),
    )
    assert (outcome, match, sorted(candidates)) == ("ambiguous", None, ["1", "2"])


def test_one_directory_user_matching_both_keys_is_one_candidate() -> None:
    outcome, match, _ = _only(("p@outlook.com", "p@a.com"), member("1", "p@a.com", mail="p@outlook.com"))
    assert outcome == "map" and match is not None and match.id == "1" and match.by == "upn"


def test_rule4_only_disabled_candidates() -> None:
    outcome, match, _ = _only("gus@a.com", member("d", "gus@a.com", account_enabled=False))
    assert (outcome, match) == ("disabled", Match("d", "gus@a.com", "upn"))


def test_rule5_no_candidate_is_invite() -> None:
    assert _only(("erin@gmail.com", ""), member("1", "erin@a.com"))[:2] == ("invite", None)


def test_empty_mail_address_is_not_a_key() -> None:
    assert _only(("erin@gmail.com", "  "), member("1", "x@a.com", mail=" "))[0] == "invite"


def test_plan_json_counts_and_order() -> None:
    snapshot = build(["a@a.com", "b@gmail.com", "c@a.com"], [member("1", "a@a.com"), member("3", "c@a.com")])
    plan = build_plan(snapshot, "admin@a.com").to_json()
    assert [u["principal_name"] for u in plan["users"]] == ["a@a.com", "b@gmail.com", "c@a.com"]
    assert plan["counts"] == {"auto": 2, "map": 0, "invite": 1, "disabled": 0, "ambiguous": 0}
    assert plan["users"][1] == {
        "id": "e1",
        "principal_name": "b@gmail.com",
        "outcome": "invite",
        "match": None,
        "candidates": [],
    }
    assert [c["code"] for c in plan["checks"]] == [
        "org-connection",
        "connector-member",
        "connector-admin",
        "duplicate-principal-names",
        "invite-permission",
        "user-count",
        "billing-subscription",
        "shared-directory-account",  # extensions of the contract's seven, after them
        "app-invite-permission",
    ]


def test_rule2_guest_whose_upn_and_mail_both_hold_the_mail_address_is_auto_by_mail() -> None:
    # Every field holding the key counts: the UPN being first must not hide the match through `mail`.
    guest = member("g", "bob@outlook.com", mail="bob@outlook.com", user_type="Guest")
    assert _only(("bob_live@outlook.com", "bob@outlook.com"), guest)[:2] == (
        "auto",
        Match("g", "bob@outlook.com", "mail"),
    )
    by_other = member("g", "bob@outlook.com", other_mails=("bob@outlook.com",), user_type="Guest")
    assert _only(("bob_live@outlook.com", "bob@outlook.com"), by_other)[:2] == (
        "auto",
        Match("g", "bob@outlook.com", "otherMails"),
    )
    as_member = member("m", "bob@outlook.com", mail="bob@outlook.com")
    assert _only(("bob_live@outlook.com", "bob@outlook.com"), as_member)[:2] == (
        "map",
        Match("m", "bob@outlook.com", "upn"),
    )


def test_a_disabled_only_candidate_names_the_first_field_it_matched_through() -> None:
    disabled = member("d", "x@a.com", other_mails=("gus@a.com",), account_enabled=False)
    assert _only("gus@a.com", disabled)[:2] == ("disabled", Match("d", "x@a.com", "otherMails"))


def test_matching_leaves_the_garbage_collector_as_it_found_it() -> None:
    assert gc.isenabled()
    build_plan(build(["a@a.com"], [member("1", "a@a.com")]), "admin@a.com")
    assert gc.isenabled()
    broken = build(["a@a.com"], [member("1", None)])  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        build_plan(broken, "admin@a.com")
    assert gc.isenabled()
    gc.disable()
    try:
        build_plan(build(["a@a.com"], [member("1", "a@a.com")]), "admin@a.com")
        assert not gc.isenabled()  # someone else turned it off: not ours to turn on
    finally:
        gc.enable()


def test_rule2_holds_beside_a_disabled_candidate_too() -> None:
    """A second, disabled candidate for the same person sends matching through the rules in full: the guest
    still counts by the field it matched through."""
    disabled = member("d", "old@a.com", mail="bob@outlook.com", account_enabled=False)
    by_mail = member("g", "bob#EXT#@a.onmicrosoft.com", mail="bob@outlook.com", user_type="Guest")
    assert _only("bob@outlook.com", disabled, by_mail)[:2] == (
        "auto",
        Match("g", by_mail.user_principal_name, "mail"),
    )
    by_proxy = member(
        "g", "g#EXT#@a.onmicrosoft.com", proxy_addresses=("smtp:bob@outlook.com",), user_type="Guest"
    )
    assert _only("bob@outlook.com", disabled, by_proxy)[:2] == (
        "map",
        Match("g", by_proxy.user_principal_name, "proxyAddresses"),
    )


def test_several_disabled_candidates_name_the_field_the_first_matched_through() -> None:
    first = member("d1", "x@a.com", other_mails=("gus@a.com",), account_enabled=False)
    second = member("d2", "gus@a.com", account_enabled=False)
    assert _only("gus@a.com", first, second)[:2] == ("disabled", Match("d1", "x@a.com", "otherMails"))
