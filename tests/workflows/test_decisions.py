"""The admins' decisions applied to plans: what they change, what they leave, and how they are stored."""

from __future__ import annotations

from dataclasses import replace

from tests.workflows.fakes import DANA, FakeMicrosoft
from workflows import _plan_codec, decisions
from workflows.directory import PENDING_ACCEPTANCE, DirectoryUser
from workflows.plan import NO_ACCESS, Decision, Match, Plan, PlannedUser
from workflows.plan_matching import build_plan

HANA = "hana@contoso.com"


HANAS_GUEST = DirectoryUser(
    id="g-guest", user_principal_name="hana_contoso.com#EXT#@fabrikam.com", mail=HANA, user_type="Guest"
)


def plan_with_hana(guest: DirectoryUser = HANAS_GUEST, also: tuple[DirectoryUser, ...] = ()) -> Plan:
    """Fabrikam, with Hana's address on two enabled accounts (her guest and a member), and Lee's only account
    disabled."""
    microsoft = FakeMicrosoft()
    microsoft.users.append(replace(microsoft.users[2], id="e-hana", principal_name=HANA, mail_address=HANA))
    microsoft.directory += [
        guest,
        DirectoryUser(id="g-hart", user_principal_name="hana.hart@fabrikam.com", other_mails=(HANA,)),
        *also,
    ]
    microsoft.directory = [replace(user, account_enabled=user.id != "g-lee") for user in microsoft.directory]
    return build_plan(microsoft.snapshot("fabrikam", "fabrikam.com", DANA), DANA)


def hana_in(plan: Plan) -> PlannedUser:
    return next(user for user in plan.users if user.id == "e-hana")


def person(plan: Plan, principal_name: str) -> tuple[str, str, str, str]:
    user = next(user for user in plan.users if user.principal_name == principal_name)
    return user.outcome, user.match.user_principal_name if user.match else "", user.decided_by, user.id


def test_the_plan_names_each_candidate_and_asks_for_a_decision_on_the_unplaced() -> None:
    plan = plan_with_hana()
    hana = next(user for user in plan.users if user.principal_name == HANA)
    assert (hana.candidates, hana.candidate_names) == (
        ("g-guest", "g-hart"),
        ("hana_contoso.com#EXT#@fabrikam.com", "hana.hart@fabrikam.com"),
    )
    assert [user.principal_name for user in plan.undecided] == ["lee@fabrikam.com", HANA]


def test_a_chosen_account_maps_the_person_and_a_changed_mind_replaces_it() -> None:
    plan = plan_with_hana()
    chosen = decisions.apply(plan, [Decision("e-hana", "g-hart", "Dana")])
    assert person(chosen, HANA)[:3] == ("map", "hana.hart@fabrikam.com", "Dana")
    assert next(u for u in chosen.users if u.principal_name == HANA).match == Match(
        "g-hart", "hana.hart@fabrikam.com", decisions.DECIDED
    )
    changed = decisions.apply(chosen, [*chosen.decisions, Decision("e-hana", NO_ACCESS, "Lee")])
    assert person(changed, HANA)[:3] == ("ambiguous", "", "Lee")
    assert changed.decisions == (Decision("e-hana", NO_ACCESS, "Lee"),)
    assert [user.principal_name for user in changed.undecided] == ["lee@fabrikam.com"]
    assert len({plan.fingerprint, chosen.fingerprint, changed.fingerprint}) == 3


def test_letting_a_disabled_person_go_changes_the_fingerprint_and_an_unfitting_decision_changes_nothing() -> (
    None
):
    plan = plan_with_hana()
    gone = decisions.apply(plan, [Decision("e-lee", NO_ACCESS, "Dana")])
    assert person(gone, "lee@fabrikam.com")[:3] == ("disabled", "lee@fabrikam.com", "Dana")
    assert gone.fingerprint != plan.fingerprint
    # An account that is not theirs, or a person the plan places by itself: kept, but nothing changes.
    kept = decisions.apply(plan, [Decision("e-lee", "g-hart", "Dana"), Decision("e-ann", NO_ACCESS, "Dana")])
    assert kept.users == plan.users and kept.fingerprint == plan.fingerprint
    assert len(kept.decisions) == 2


def test_a_plan_without_decisions_keeps_its_fingerprint_and_decisions_survive_storage() -> None:
    plan = plan_with_hana()
    assert decisions.apply(plan, []).fingerprint == plan.fingerprint
    decided = decisions.apply(
        plan, [Decision("e-hana", "g-guest", "Dana"), Decision("e-lee", NO_ACCESS, "Lee")]
    )
    stored = _plan_codec.encode(decided)
    assert _plan_codec.decode(stored) == decided
    assert _plan_codec.undecided(stored) == 0
    assert _plan_codec.undecided(_plan_codec.encode(plan)) == 2
    older = {
        key: value for key, value in _plan_codec.encode(plan).items() if key not in ("undecided", "decisions")
    }
    assert _plan_codec.undecided(older) == 2  # a plan stored before decisions existed
    assert _plan_codec.decode(older).decisions == ()


def test_choosing_a_guest_whose_invitation_is_pending_leaves_the_person_to_accept_it() -> None:
    """Alone, Hana's pending guest would make her `to-accept`: chosen among two accounts, the same, and the
    stored plan names her among those to accept (what `notify` gives *Accept the invitation* to)."""
    plan = plan_with_hana(guest=replace(HANAS_GUEST, external_user_state=PENDING_ACCEPTANCE))
    stored = _plan_codec.encode(decisions.apply(plan, [Decision("e-hana", "g-guest", "Dana")]))
    assert hana_in(_plan_codec.decode(stored)).group == "to-accept"
    assert _plan_codec.to_accept(stored) == {"e-hana"}
    # another account, or no decision: nothing of the pending guest stays
    assert hana_in(decisions.apply(plan, [Decision("e-hana", "g-hart", "Dana")])).group == "map"
    assert hana_in(decisions.apply(_plan_codec.decode(stored), [])).group == "ambiguous"


def test_of_two_guests_holding_her_address_only_the_one_holding_it_as_mail_carries_her_identity() -> None:
    """Connect carries an identity over to one account at most: the guest whose mail is her address."""
    second = DirectoryUser(
        id="g-other",
        user_principal_name="hana_other#EXT#@fabrikam.com",
        other_mails=(HANA,),
        user_type="Guest",
    )
    plan = plan_with_hana(also=(second,))
    assert hana_in(plan).candidates == ("g-guest", "g-hart", "g-other")
    placed = {
        chosen: hana_in(decisions.apply(plan, [Decision("e-hana", chosen, "Dana")])).outcome
        for chosen in hana_in(plan).candidates
    }
    assert placed == {"g-guest": "auto", "g-hart": "map", "g-other": "map"}
    # two guests holding it as mail: Connect's choice cannot be told, so neither is said to carry it
    both = plan_with_hana(also=(replace(second, mail=HANA, other_mails=()),))
    assert hana_in(both).carried_over == ()
