"""The contract's matching rules as properties: `build_plan` agrees with a plain reading of the rules.

The oracle below is written from `shared/contracts/plan-and-scenario.md` ("Matching rules"), slowly and
literally (every candidate compared with every key), so that it shares no shortcut with
`workflows/plan_matching.py`.
Addresses come from a small pool so that users collide by UPN, mail, other mails and proxies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.plan.snapshots import build
from workflows.decisions import apply
from workflows.directory import PENDING_ACCEPTANCE, DirectoryUser, OrgUser
from workflows.plan import NO_ACCESS, OUTCOMES, Check, Decision, Match, Plan, PlannedUser
from workflows.plan_matching import build_plan

FIELDS = ("upn", "mail", "otherMails", "proxyAddresses")
LOCAL_PARTS = ("ann", "bob", "cy", "straße", "strasse")
DOMAINS = ("a.com", "B.com")


def _spelled(before: str, case: Callable[[str], str], local_part: str, domain: str, after: str) -> str:
    """The same key as Microsoft may return it: other case, stray white space."""
    return f"{before}{case(f'{local_part}@{domain}')}{after}"


# Every spelling drawn at once from one pool (a draw per part cost five of Hypothesis's choices per address,
# most of these tests' time): the same addresses, each as likely, simplest first for shrinking.
SPELLINGS = tuple(
    _spelled(*parts)
    for parts in itertools.product(
        ("", " ", "\t"), (str.lower, str.upper, str.title), LOCAL_PARTS, DOMAINS, ("", " ")
    )
)
PROXY_PREFIXES = ("SMTP:", "smtp:", "Smtp:", "x500:", "sip:", "SIP:")
addresses = st.sampled_from(SPELLINGS)
proxies = st.sampled_from(tuple(prefix + address for prefix in PROXY_PREFIXES for address in SPELLINGS))


# Strategies built once, drawn many times (a strategy built inside a draw is validated on every draw).
_principal_names = st.lists(addresses, max_size=8, unique_by=lambda a: a.strip().casefold())
_details = st.tuples(
    st.none() | addresses,
    st.lists(addresses, max_size=3).map(tuple),
    st.lists(proxies, max_size=2).map(tuple),
    st.sampled_from(("Member", "Guest", "guest")),
    st.sampled_from((True, True, False)),
    st.sampled_from((None, "Accepted", PENDING_ACCEPTANCE)),
)


@st.composite
def directory_users(draw: st.DrawFn) -> list[DirectoryUser]:
    users = []
    for position, upn in enumerate(draw(_principal_names)):
        mail, other_mails, proxy_addresses, user_type, account_enabled, external_user_state = draw(_details)
        users.append(
            DirectoryUser(
                id=f"g{position}",
                user_principal_name=upn,
                mail=mail,
                other_mails=other_mails,
                proxy_addresses=proxy_addresses,
                user_type=user_type,
                account_enabled=account_enabled,
                external_user_state=external_user_state,
            )
        )
    return users


org_users = st.lists(st.tuples(addresses, st.just("") | addresses), min_size=1, max_size=6)


def _key(value: str) -> str:
    return value.strip().casefold()


def _fields_holding(user: DirectoryUser, key: str) -> set[str]:
    held = set()
    if _key(user.user_principal_name) == key:
        held.add("upn")
    if user.mail and _key(user.mail) == key:
        held.add("mail")
    if any(_key(other) == key for other in user.other_mails):
        held.add("otherMails")
    for proxy in user.proxy_addresses:
        proxy = proxy.strip()
        if proxy[:5].lower() == "smtp:" and _key(proxy[5:]) == key:
            held.add("proxyAddresses")
    return held


@dataclass(frozen=True)
class Expected:
    outcome: str
    match_ids: frozenset[str]
    """Directory users the match may name (rule 4 lets the plan name any of the disabled candidates)."""
    by: frozenset[str]
    candidates: frozenset[str]


def expected(user: OrgUser, directory: list[DirectoryUser]) -> Expected:
    keys = {_key(user.principal_name)} | ({_key(user.mail_address)} if user.mail_address.strip() else set())
    keys.discard("")
    matched: dict[str, set[str]] = {}
    for candidate in directory:
        held = set().union(*(_fields_holding(candidate, key) for key in keys)) if keys else set()
        if held:
            matched[candidate.id] = held
    by_id = {candidate.id: candidate for candidate in directory}
    enabled = [i for i in matched if by_id[i].account_enabled]
    nothing: frozenset[str] = frozenset()
    for i in enabled:
        if _key(by_id[i].user_principal_name) == _key(user.principal_name):
            return Expected("auto", frozenset({i}), frozenset({"upn"}), nothing)
    if len(enabled) == 1:
        (i,) = enabled
        held = matched[i]
        if by_id[i].user_type.casefold() == "guest" and held & {"mail", "otherMails"}:
            return Expected(
                "auto", frozenset({i}), frozenset({"mail" if "mail" in held else "otherMails"}), nothing
            )
        return Expected("map", frozenset({i}), frozenset({next(f for f in FIELDS if f in held)}), nothing)
    if len(enabled) > 1:
        return Expected("ambiguous", nothing, nothing, frozenset(enabled))
    if matched:
        return Expected(
            "disabled",
            frozenset(matched),
            frozenset(next(f for f in FIELDS if f in held) for held in matched.values()),
            nothing,
        )
    return Expected("invite", nothing, nothing, nothing)


def _agrees(planned: PlannedUser, want: Expected) -> bool:
    if planned.outcome != want.outcome or frozenset(planned.candidates) != want.candidates:
        return False
    if planned.match is None:
        return not want.match_ids
    return planned.match.id in want.match_ids and planned.match.by in want.by


GUEST_BY_OTHER_MAIL = DirectoryUser(
    id="g0", user_principal_name="bob_a.com#EXT#@t.com", other_mails=("BOB@a.com",), user_type="Guest"
)
DISABLED_BY_MAIL = DirectoryUser(id="g1", user_principal_name="bob@b.com", account_enabled=False)


@settings(max_examples=3 * settings.default.max_examples)  # the rules in full: cheap, so more
@given(users=org_users, directory=directory_users())
# A blank other mail is skipped, not the end of the user's keys: the proxy after it still matches.
@example(
    users=[("bob@a.com", "")],
    directory=[
        DirectoryUser(
            id="g0", user_principal_name="x@t.com", other_mails=(" ",), proxy_addresses=("smtp:bob@a.com",)
        )
    ],
)
# Rule 2 when a second, disabled candidate is in play: the guest matched through otherMails (or mail) wins.
@example(users=[("bob@a.com", "bob@b.com")], directory=[GUEST_BY_OTHER_MAIL, DISABLED_BY_MAIL])
@example(
    users=[("bob@a.com", "bob@b.com")],
    directory=[replace(GUEST_BY_OTHER_MAIL, mail="bob@b.com"), DISABLED_BY_MAIL],
)
def test_every_user_gets_the_outcome_the_contract_gives(
    users: list[tuple[str, str]], directory: list[DirectoryUser]
) -> None:
    snapshot = build(list(users), directory)
    named = tuple(replace(user, display_name=f"User {user.id}") for user in snapshot.users)
    snapshot = replace(snapshot, users=named)
    plan = build_plan(snapshot, "admin@a.com")
    assert [planned.id for planned in plan.users] == [user.id for user in snapshot.users]
    for user, planned in zip(snapshot.users, plan.users, strict=True):
        want = expected(user, directory)
        assert _agrees(planned, want), (user, planned, want)
        if planned.match is not None:
            named = next(d for d in directory if d.id == planned.match.id)
            assert planned.match.user_principal_name == named.user_principal_name
        assert (planned.principal_name, planned.mail_address, planned.display_name) == (
            user.principal_name,
            user.mail_address,
            user.display_name,
        )


@given(users=org_users, directory=directory_users())
def test_counts_add_up_to_the_users_and_match_their_outcomes(
    users: list[tuple[str, str]], directory: list[DirectoryUser]
) -> None:
    plan = build_plan(build(list(users), directory), "admin@a.com")
    assert set(plan.counts) == set(OUTCOMES)
    assert plan.counts == {o: sum(1 for u in plan.users if u.outcome == o) for o in OUTCOMES}
    assert sum(plan.counts.values()) == len(users)
    assert (plan.connector, plan.tenant_name) == ("admin@a.com", "A")  # what the chat's plan view names
    assert plan.to_json()["counts"] == plan.counts


@given(users=org_users, directory=directory_users(), order=st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_order_microsoft_lists_the_directory_in(
    users: list[tuple[str, str]], directory: list[DirectoryUser], order: object
) -> None:
    shuffled = list(directory)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    first = build_plan(build(list(users), directory), "admin@a.com")
    second = build_plan(build(list(users), shuffled), "admin@a.com")
    assert [(u.outcome, frozenset(u.candidates)) for u in first.users] == [
        (u.outcome, frozenset(u.candidates)) for u in second.users
    ]
    decided = [u for u in first.users if u.outcome in ("auto", "map")]
    assert all(u.match == v.match for u, v in zip(first.users, second.users, strict=True) if u in decided)


@given(users=org_users, directory=directory_users(), data=st.data())
def test_an_admins_choice_among_several_accounts_places_them_as_if_it_were_their_only_one(
    users: list[tuple[str, str]], directory: list[DirectoryUser], data: st.DataObject
) -> None:
    """Rule 2 for the one an admin chose: a guest holding their address as mail or other mail is `auto`
    (their own address signs in to it), any other account `map`, whichever accounts were beside it; and
    `to-accept` while that account's invitation is pending. Connect carries an identity to one account at
    most: of several such guests, only the one holding the address as its mail is `auto`."""
    snapshot = build(list(users), directory)
    plan = build_plan(snapshot, "admin@a.com")
    by_id = {each.id: each for each in directory}
    for user, planned in zip(snapshot.users, plan.users, strict=True):
        if planned.outcome != "ambiguous":
            continue
        chosen = data.draw(st.sampled_from(planned.candidates))
        decided = apply(plan, [Decision(planned.id, chosen, "Dana")])
        placed = next(each for each in decided.users if each.id == planned.id)
        carried = [each for each in planned.candidates if expected(user, [by_id[each]]).outcome == "auto"]
        if len(carried) > 1:
            by_mail = [each for each in carried if expected(user, [by_id[each]]).by == {"mail"}]
            carried = by_mail if len(by_mail) == 1 else []
        outcome = "auto" if chosen in carried else "map"
        group = "to-accept" if by_id[chosen].external_user_state == PENDING_ACCEPTANCE else outcome
        assert (placed.outcome, placed.match.id if placed.match else None, placed.group) == (
            outcome,
            chosen,
            group,
        )
        assert apply(decided, []).users == plan.users  # undone, nothing of the decision stays


def _plan_of(users: list[tuple[str, str]], directory: list[DirectoryUser]) -> Plan:
    return build_plan(build(list(users), directory), "admin@a.com")


@given(users=org_users, directory=directory_users(), data=st.data())
def test_the_fingerprint_changes_with_any_outcome_match_user_or_check_status(
    users: list[tuple[str, str]], directory: list[DirectoryUser], data: st.DataObject
) -> None:
    plan = _plan_of(users, directory)
    index = data.draw(st.integers(0, len(plan.users) - 1))
    user = plan.users[index]
    other_outcome = data.draw(st.sampled_from([o for o in OUTCOMES if o != user.outcome]))
    check_at = data.draw(st.integers(0, len(plan.checks) - 1))
    check = plan.checks[check_at]
    other_status = data.draw(st.sampled_from([s for s in ("pass", "warn", "fail") if s != check.status]))

    def with_user(changed: PlannedUser) -> Plan:
        return replace(plan, users=(*plan.users[:index], changed, *plan.users[index + 1 :]))

    def with_check(changed: Check) -> Plan:
        return replace(plan, checks=(*plan.checks[:check_at], changed, *plan.checks[check_at + 1 :]))

    changed_plans = [
        with_user(replace(user, outcome=other_outcome)),  # type: ignore[arg-type]
        with_user(replace(user, id=user.id + "x")),
        with_user(replace(user, principal_name=user.principal_name + "x")),
        with_user(replace(user, match=None if user.match else Match("g-other", "other@a.com", "upn"))),
        with_check(replace(check, status=other_status)),  # type: ignore[arg-type]
        replace(plan, users=plan.users[:index] + plan.users[index + 1 :]),
        replace(plan, tenant_id=plan.tenant_id + "x"),
        replace(plan, organization=plan.organization + "x"),
    ]
    for changed in changed_plans:
        assert changed.fingerprint != plan.fingerprint, changed


@given(users=org_users, directory=directory_users(), order=st.randoms(use_true_random=False))
def test_the_fingerprint_ignores_order_wording_and_principal_name_case(
    users: list[tuple[str, str]], directory: list[DirectoryUser], order: object
) -> None:
    plan = _plan_of(users, directory)
    users_shuffled, checks_shuffled = list(plan.users), list(plan.checks)
    order.shuffle(users_shuffled)  # type: ignore[attr-defined]
    order.shuffle(checks_shuffled)  # type: ignore[attr-defined]
    reworded = replace(
        plan,
        users=tuple(
            replace(u, principal_name=u.principal_name.upper(), display_name="x") for u in users_shuffled
        ),
        checks=tuple(Check(c.code, c.status, "reworded") for c in checks_shuffled),
        tenant_name="another name",
    )
    assert reworded.fingerprint == plan.fingerprint


@given(users=org_users, directory=directory_users())
def test_the_json_form_is_the_contracts(users: list[tuple[str, str]], directory: list[DirectoryUser]) -> None:
    plan = _plan_of(users, directory)
    data = plan.to_json()
    assert set(data) == {"organization", "tenant_id", "users", "counts", "checks"}
    for planned, shown in zip(plan.users, data["users"], strict=True):
        match = planned.match
        assert shown == {
            "id": planned.id,
            "principal_name": planned.principal_name,
            "outcome": planned.outcome,
            "match": None
            if match is None
            else {"id": match.id, "user_principal_name": match.user_principal_name, "by": match.by},
            "candidates": list(planned.candidates),
        }
    for check, shown in zip(plan.checks, data["checks"], strict=True):
        expected = {"code": check.code, "status": check.status, "message": check.message}
        assert shown == (expected | {"fix": check.fix} if check.fix else expected)


def test_a_fix_is_told_once_in_the_message() -> None:
    assert Check("c", "fail", "Broken.", fix="Mend it.").message == "Broken. Mend it."
    assert Check("c", "fail", "Broken. Mend it.", fix="Mend it.").message == "Broken. Mend it."
    assert Check("c", "pass", "Fine.").message == "Fine."


def _targets(users: list[tuple[str, str]], directory: list[DirectoryUser]) -> dict[str, list[int]]:
    """The oracle's: for each directory account, the positions of the users rules 1 and 2 give it."""
    targets: dict[str, list[int]] = {}
    for position, user in enumerate(build(list(users), directory).users):
        want = expected(user, directory)
        if want.outcome in ("auto", "map"):
            (account,) = want.match_ids
            targets.setdefault(account, []).append(position)
    return targets


@given(users=org_users, directory=directory_users())
# Kim's two identities (walk33 finding 2): her old address is a proxy of the account her new MSA signs in as.
@example(
    users=[("cy@B.com", ""), ("cy@a.com", "")],
    directory=[DirectoryUser(id="g0", user_principal_name="cy@a.com", proxy_addresses=("smtp:cy@b.com",))],
)
def test_an_account_two_users_would_get_fails_the_check_until_all_but_one_are_decided_out(
    users: list[tuple[str, str]], directory: list[DirectoryUser]
) -> None:
    """Connect carries over one identity per account at most, and mapping a second to it fails: any account
    the rules give two users fails `shared-directory-account`. Deciding every `map` one out but one (an
    `auto` one's sign-in name carries it over whatever is decided) clears it, unless two are `auto`."""
    plan = _plan_of(users, directory)
    shared = {account: at for account, at in _targets(users, directory).items() if len(at) > 1}
    check = next(check for check in plan.checks if check.code == "shared-directory-account")
    assert (check.status == "fail") == bool(shared), check
    for account, at in shared.items():
        assert all(plan.users[i].principal_name in check.message for i in at)
        assert next(d for d in directory if d.id == account).user_principal_name in check.message
    out = []
    for at in shared.values():
        carried = [i for i in at if plan.users[i].outcome == "auto"]
        keeper = carried[0] if carried else at[0]
        out += [Decision(plan.users[i].id, NO_ACCESS, "Dana") for i in at if i != keeper]
    decided = apply(plan, out)
    still = next(check for check in decided.checks if check.code == "shared-directory-account")
    two_carried = any(sum(plan.users[i].outcome == "auto" for i in at) > 1 for at in shared.values())
    assert (still.status == "fail") == two_carried, still
    left = {decision.user_id for decision in out} - {user.id for user in plan.users if user.outcome == "auto"}
    assert {user.id for user in decided.users if user.group == "no-access"} == left
    assert [user.outcome for user in decided.users] == [user.outcome for user in plan.users]
    assert apply(decided, []).users == plan.users
