"""`POST /_sandbox/resolve`: an admin's *Resolve* of one disconnected user, mapping their identity by hand,
or (`support`) Microsoft Support's mapping of one already mapped.

Microsoft's tutorial: after connecting, Organization settings > Microsoft Entra ID lists the users Connect
did not carry over, and *Resolve* maps each to a directory account, which keeps their history. The user
entitlement stays the same one (its id, the storage key their history hangs on, and its last access: the
mapping is no sign-in), and shows the directory account's identity from then on, as after a sign-in
(`origin: aad`, the account's object id as `originId`, its sign-in name as `principalName`: the shape of
`UserEntitlement.user` in vsts-rest-api-specs memberEntitlementManagement 7.1; that a Resolve fills it so
is an assumption, which the spec does not show). Any enabled directory account that is not a member of the
organization yet may be chosen, the wrong person's included: the sandbox maps where it is told.

An account that is a member already (an entitlement shows its identity) is refused to an admin:
Microsoft's FAQ (MicrosoftDocs/azure-devops-docs docs/organizations/accounts/faq-azure-access.yml, commit
02d215df, the question "What if I get an error trying to map a user to an existing member of my
organization?") answers "You can map the user onto a different identity that isn't yet an active member
of the organization or add the existing user to your Azure AD. If you still need to map to the existing
Azure DevOps organization member, contact support." So Support can (`support`): what becomes of that
member's own entitlement Microsoft does not say; the sandbox assumes one identity keeps one entitlement,
so the member's own goes, and its user the mapped one's identity.

Whether *Resolve* lists someone mapped already Microsoft does not say either (as
`bot.conversation.sign_in_views` tells the admins, who are sent to Support instead): the sandbox offers
it to nobody mapped. That Support maps someone mapped already again, to another account, is an
assumption too: the tutorial (the procedure's FAQ, "Some users are disconnected, but they have matching
identities in Azure AD. What should I do?") sends disconnected users to Support "to map the current
identity to the new identity in Azure AD", and nothing published says Support refuses a second mapping.
`support` maps an entitlement already on the directory again, in the same way, however often.
"""

from __future__ import annotations

from typing import Any

from sandbox._signin import directory_account, on_directory
from sandbox._state import State


def resolve(
    state: State, organization: str, principal_name: str, account: str, *, support: bool = False
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of the control call: map `principal_name` (the address Azure DevOps shows
    for them: their Microsoft account's, or by `support` the directory account's they are mapped to) to the
    directory account `account` (its sign-in name or mail)."""
    old, wanted = principal_name.strip().casefold(), account.strip().casefold()
    if not state.is_organization(organization):
        return 404, {"error": f"unknown organization {organization!r}"}
    if not old or not wanted:
        return 400, {"error": "principalName (whom to map) and account (a directory account) are required"}
    with state.lock:
        if str(state.organization["connected_tenant_id"]).casefold() != str(state.tenant["id"]).casefold():
            return 409, {"error": f"{organization} is not connected to the directory: nobody to resolve"}
        entitlement = next(
            (e for e in state.entitlements if str(e["user"].get("principalName") or "").casefold() == old),
            None,
        )
        if entitlement is None:
            return 404, {"error": f"{principal_name!r} is not a user of {organization}"}
        if entitlement["user"].get("origin") != "msa" and not support:
            return 409, {"error": f"{principal_name!r} is on the directory already: nothing to resolve"}
        target = directory_account(state, wanted)
        if target is None:
            return 404, {"error": f"{account!r} is no enabled account of the directory"}
        if entitlement["user"].get("originId") == target["id"]:
            return 409, {"error": f"{principal_name!r} is mapped to {account!r} already"}
        member = next((e for e in state.entitlements if e["user"].get("originId") == target["id"]), None)
        if member is not None and not support:
            return 409, {
                "error": f"{account!r} is a member of {organization} already: map onto an account that is"
                " not one yet, or ask Microsoft Support"
            }
        if member is not None:
            state.entitlements.remove(member)
        on_directory(state, entitlement, target)
        return 200, {"organization": organization, "entitlement": entitlement}
