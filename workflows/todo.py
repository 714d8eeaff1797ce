"""Each affected user's own to-do list, derived from their plan outcome and their Azure DevOps data.

The procedure's "Inform users of the completed change" section, made personal: a user only sees the
items that apply to them, written with their organization, their work account and their case: the items'
keys, their templates, and the first item of someone with no way in yet. How a stored body is reworded as
their case moves on is `workflows.item_rewording`'s; what they are told in sentences rather than items (the
advance notice, the notes above the list) is `workflows.informing`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, Protocol, TypeVar

from workflows.directory import Tenant
from workflows.identities import is_guest, mailbox
from workflows.invitation_email import FROM, REDEMPTION_PAGE, SUBJECT
from workflows.item_rewording import (
    ADMINS_CHECKING,
    LINK_FETCHED,
    MAPPED_FIRST,
    PRESS_IT_HERE,
    SENT_IF_NOT,
    SETTLED_WITH_YOU,
    TELL_THE_ADMINS,
    THEN_PRESS_IT,
    history_advice,
)
from workflows.plan import PlannedUser
from workflows.tokens import TokenAdvice, token_advice

_DOCS = "https://learn.microsoft.com/azure/devops/organizations/accounts"
ACCEPT_INVITATION = "accept-invitation"
"""The item of an invited person's list: accepting the B2B invitation is how they get in."""
INVITATION_IN_DOUBT = "look-for-invitation"
"""The item of someone whose invitation Microsoft was asked for and never confirmed: it may have gone out, the
admins are checking, and their next `invite` turns it into *Accept the invitation* (or *Sign in*, for an
account it finds), or back into *Ask for an account* if Microsoft refuses it
(`workflows.stages.late_invitees`). A wait for the admins (`workflows.waiting`), whose one reminder is to look
for it."""
CHOOSING_ITEM = "choose-work-account"
"""The item of someone several directory accounts match, until an admin decides which is theirs."""
ENABLE_ACCOUNT = "enable-directory-account"
"""The item of someone whose only directory account is disabled."""
ENABLE_ITEM = "Tell the admins if you still need access"
"""The title of the item of someone whose only directory account is disabled (`faq._sign_in` names it)."""
OPTIONAL_ITEMS = frozenset({"re-add-ssh-keys", "rename-microsoft-account"})
"""Items the procedure makes conditional ("If you use SSH tokens", "If you don't want to be prompted to
choose between accounts"): the list offers them, marked optional, and nobody is chased for them. Reminders,
progress, the digest and `complete` count the others (`required`)."""
ACCOUNT_BOUND_ITEMS = frozenset({"clear-git-credentials", "re-add-ssh-keys"})
"""Items done for the account the person signs in with (the cached Git sign-in, the SSH keys the procedure
says to add "for the Azure AD user"): another account decided for them opens them again."""


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


_Item = TypeVar("_Item", bound=_Keyed)


def required(items: Iterable[_Item]) -> list[_Item]:
    """The items someone is asked to finish: all but the optional ones."""
    return [item for item in items if item.key not in OPTIONAL_ITEMS]


@dataclass(frozen=True)
class TodoTemplate:
    key: str
    title: str
    body: str
    link: str


def todo_items(
    user: PlannedUser,
    subscriber: bool,
    *,
    organization: str,
    tenant: Tenant,
    invited_as: str | None,
    after_connecting: bool = False,
    maybe_invited_as: str | None = None,
    taken_back: str = "",
) -> list[TodoTemplate]:
    """The items this user must do after the organization is connected, most urgent first.

    `subscriber`: their Azure DevOps access comes from a Visual Studio subscription. `invited_as` is the
    address a B2B invitation went to, None if the bot sent none; `maybe_invited_as`, with none sent, the
    address of one Microsoft never confirmed, which may have gone out. `after_connecting`: their directory
    account (or invitation) came after the connection, so Connect did not carry their identity over: it is
    a new one, and their history stays with the old one until it is mapped. `taken_back`: what takes back
    an earlier cancel's "ignore the invitation" (`workflows.stages.ignored_invitations`), which opens the
    item that asks them to accept it.
    """
    work_account = signs_in_as(user)
    late = after_connecting and user.outcome in ("auto", "map", "invite")
    items = _access_items(
        user, organization, tenant, work_account, invited_as, late=late, maybe_invited_as=maybe_invited_as
    )
    if taken_back and items and items[0].key in (ACCEPT_INVITATION, INVITATION_IN_DOUBT):
        items[0] = replace(items[0], body=f"{taken_back} {items[0].body}")
    if user.outcome == "disabled":
        # Whoever has only a disabled account cannot sign in, so nothing done for an account is theirs to do:
        # the item says how to get access back, or that someone who left has nothing to do.
        return items
    if user.outcome in ("auto", "map"):
        mapped_first = user.outcome == "map" and not late
        items.append(
            _sign_in(organization, work_account, _account_kind(user), late=late, mapped=mapped_first)
        )
    items.append(_git_credentials(organization, _account_kind(user)))
    items.append(_ssh_keys(organization))
    tokens = person_tokens(user, invited_as, after_connecting=late)
    if tokens is not None and tokens.renew:
        items.append(_recreate_pats(organization, tokens))
    if _msa_uses_work_address(user, tenant):
        items.append(_rename_microsoft_account(user.principal_name))
    if subscription_moves(user, subscriber=subscriber):
        items.append(_visual_studio(work_account))
    return items


def _directory(tenant: Tenant) -> str:
    """The directory as its people know it: its name, else its domain."""
    return tenant.display_name or tenant.default_domain or "your company's directory"


def _access_items(
    user: PlannedUser,
    organization: str,
    tenant: Tenant,
    work_account: str,
    invited_as: str | None,
    *,
    late: bool,
    maybe_invited_as: str | None,
) -> list[TodoTemplate]:
    directory = _directory(tenant)
    if user.outcome == "invite" and invited_as is None and maybe_invited_as is not None:
        return [invitation_in_doubt(organization, tenant, maybe_invited_as)]
    if user.outcome == "invite" and invited_as is None:
        return [ask_for_access(organization, tenant, user.principal_name)]
    if user.outcome == "invite":
        why = (
            f"{organization} already signs in with {directory} accounts: accepting gets your access back."
            + history_advice(f"your guest account {invited_as}")
            if late
            else "Without it you lose access (your history is kept)."
        )
        return [
            TodoTemplate(
                key=ACCEPT_INVITATION,
                title="Accept the invitation to the directory",
                body=(
                    f"Microsoft sent an invitation email from {FROM} to {invited_as}"
                    f" to join {directory} as a guest. Open it and select *Accept invitation*, then sign in"
                    f" to https://dev.azure.com/{organization} with that same address. {why} No email?"
                    f" Check your spam folder{THEN_PRESS_IT}"
                ),
                link=REDEMPTION_PAGE,
            )
        ]
    if user.outcome == "disabled":
        return [
            TodoTemplate(
                key=ENABLE_ACCOUNT,
                title=ENABLE_ITEM,
                # Whoever left the company is who a disabled account usually belongs to (Microsoft's FAQ):
                # what applies to them is nothing, not reviving it.
                body=(
                    f"Your address matches the account {work_account} in {directory}, but that account is"
                    f" disabled, so you cannot sign in to {organization} after the change. If you still need"
                    f" access, {SETTLED_WITH_YOU} (your directory administrator enabling that account, or"
                    " another account they map you to)."
                    " If you have left, there is nothing to do: your history is kept."
                ),
                link=f"{_DOCS}/faq-azure-access",
            )
        ]
    if user.outcome == "ambiguous":
        return [
            TodoTemplate(
                key=CHOOSING_ITEM,
                title="Tell the admins which work account is yours",
                body=(
                    f"Several accounts in {directory} share your address {user.principal_name}"
                    f"{candidates(user)}, so the bot cannot tell which one you use. Tell the migration"
                    f" admins which one you sign in with every day{PRESS_IT_HERE}: they map you to it."
                ),
                link=f"{_DOCS}/faq-azure-access",
            )
        ]
    return []


ASK_FOR_ACCESS = "ask-for-access"

InvitationRefusal = Literal["", "settings", "microsoft"]
"""Why the invitation the admins asked for did not go out, in the words a person needs: the directory's
guest invitation settings refused it (a 403), or Microsoft refused it otherwise; "" when none was refused."""

_REFUSED = {
    "settings": "the directory's settings for guest invitations refused it",
    "microsoft": "Microsoft refused to send it",
}


def ask_for_access(
    organization: str, tenant: Tenant, principal_name: str, refused: InvitationRefusal = ""
) -> TodoTemplate:
    """The item of someone with no directory account and no invitation; `refused`: the one asked for them
    was refused, which they hear in plain words (the admins' fix is theirs, not the person's)."""
    directory = _directory(tenant)
    why = (
        f" No invitation went out to you after all: {_REFUSED[refused]}, and the migration admins know."
        if refused
        else ""
    )
    return TodoTemplate(
        key=ASK_FOR_ACCESS,
        title="Ask for an account in the directory",
        body=(
            f"{organization} now signs in with {directory} accounts, and {principal_name} has none, so you"
            f" cannot sign in any more (your history is kept).{why} Ask the migration admins to invite"
            f" {principal_name} as a guest, or your directory administrator for a work account"
            f"{TELL_THE_ADMINS}"
        ),
        link=f"{_DOCS}/faq-azure-access",
    )


def invitation_in_doubt(
    organization: str, tenant: Tenant, address: str, *, mailed: bool = False
) -> TodoTemplate:
    """Their invitation to `address` may have gone out: what it looks like, as their FAQ answer and `todo`
    say (`what_happens`), and that the admins' `invite` settles it. `mailed`: it did go out (the directory
    shows their guest still to accept, `interrupted_invitations.mailed`), and only its link is missing,
    which that `invite` fetches."""
    directory = _directory(tenant)
    if mailed:
        sent = (
            f"Microsoft sent your invitation to join {directory} as a guest to {address}. Look for mail from"
            f" {FROM}, subject {SUBJECT}, in junk or spam too"
        )
        settled = LINK_FETCHED
    else:
        sent = (
            f"Your invitation to join {directory} as a guest may have gone out to {address}: Microsoft did"
            f" not confirm it{ADMINS_CHECKING}. Look for mail from {FROM}, subject {SUBJECT}, in junk or"
            " spam too"
        )
        settled = f"{SENT_IF_NOT}."
    return TodoTemplate(
        key=INVITATION_IN_DOUBT,
        title="Look for your invitation email",
        body=(
            f"{organization} now signs in with {directory} accounts. {sent}, select *Accept invitation*, then"
            f" sign in to https://dev.azure.com/{organization} with that same address. Until then you cannot"
            f" sign in (your history is kept). {settled} Anything unclear: ask the migration"
            f" admins{PRESS_IT_HERE}."
        ),
        link=REDEMPTION_PAGE,
    )


def candidates(user: PlannedUser) -> str:
    """The sign-in names of the accounts an ambiguous person's address matches: told only to them, in
    private (the advance notice and their list are direct messages), as accounts holding their own address."""
    return f" ({', '.join(user.candidate_names)})" if user.candidate_names else ""


def _sign_in(
    organization: str, work_account: str, kind: str, *, late: bool, mapped: bool = False
) -> TodoTemplate:
    """`mapped`: Connect did not carry their identity over, and the admins map it by hand afterwards: the
    mapping comes first, so the item says to wait for it and what needs no sign-in meanwhile."""
    return TodoTemplate(
        key="sign-in-work-account",
        title=f"Sign in with your {kind}",
        body=(
            (MAPPED_FIRST.format(account=work_account) if mapped else "")
            + "Sign out of Azure DevOps everywhere. Open a private browser window first, go to"
            f" https://dev.azure.com/{organization} and sign in as {work_account}. If the people picker or"
            " work items ask you to sign in or show users as not valid, clear the browser cache and cookies,"
            " close the browser and reopen it." + (history_advice(work_account) if late else "")
        ),
        link=f"{_DOCS}/connect-organization-to-azure-ad",
    )


def _git_credentials(organization: str, kind: str) -> TodoTemplate:
    return TodoTemplate(
        key="clear-git-credentials",
        title="Clear your Git credential cache",
        body=(
            "If you use Git or Visual Studio with this organization, clear the cached sign-in on each"
            " computer: run `git-credential-manager azure-repos clear-cache` (current Git Credential"
            " Manager); with the old Git Credential Manager for Windows delete"
            " `%LocalAppData%\\GitCredentialManager\\tenant.cache`. The next `git fetch` from"
            f" dev.azure.com/{organization} asks you to sign in with your {kind}."
        ),
        link="https://github.com/git-ecosystem/git-credential-manager/blob/main/docs/azrepos-users-and-tokens.md",
    )


def _ssh_keys(organization: str) -> TodoTemplate:
    return TodoTemplate(
        key="re-add-ssh-keys",
        title="Re-add your SSH keys (if you use SSH)",
        body=(
            "Microsoft's procedure asks SSH users to add their public key for the account they sign in"
            " with after the change. If you clone over SSH and git refuses your key, add it: in"
            f" https://dev.azure.com/{organization} select your profile picture > User settings >"
            " SSH public keys > New key. Nothing to do if you only use HTTPS."
        ),
        link="https://learn.microsoft.com/azure/devops/repos/git/use-ssh-keys-to-authenticate",
    )


def person_tokens(
    user: PlannedUser, invited_as: str | None, *, after_connecting: bool = False, case: str | None = "first"
) -> TokenAdvice | None:
    """`workflows.tokens.token_advice` for a person of the plan."""
    account = user.match.user_principal_name if user.match else None
    return token_advice(
        user.outcome,
        guest=is_guest(user.outcome, account),
        invited_as=invited_as,
        own_addresses=(user.principal_name, user.mail_address),
        after_connecting=after_connecting,
        case=case,
    )


def _recreate_pats(organization: str, tokens: TokenAdvice) -> TodoTemplate:
    return TodoTemplate(
        key="recreate-pats",
        title="Recreate your personal access tokens",
        body=(
            f"{tokens.reason}. Tokens you made before stop working: in"
            f" https://dev.azure.com/{organization} select User settings > Personal access tokens > New"
            " token, give it the same scopes as before, copy it (it is shown once) and replace it in your"
            " scripts, pipelines and tools."
        ),
        link=f"{_DOCS}/use-personal-access-tokens-to-authenticate",
    )


def _rename_microsoft_account(address: str) -> TodoTemplate:
    return TodoTemplate(
        key="rename-microsoft-account",
        title="Rename your personal Microsoft account",
        body=(
            f"Your personal Microsoft account uses your work address {address}, so every sign-in asks you"
            " to pick between a work and a personal account. At https://account.microsoft.com select Your"
            " info > Edit account info > Add email, make the new personal address the primary alias, then"
            f" remove {address} from it."
        ),
        link="https://support.microsoft.com/account-billing/change-the-email-address-or-phone-number-for-your-microsoft-account-ec726e2d-ee4c-4b2c-8b3f-0ba4d9e54f4b",
    )


def _visual_studio(work_account: str) -> TodoTemplate:
    return TodoTemplate(
        key="visual-studio-subscription",
        title="Keep your Visual Studio subscription benefits",
        body=(
            "Your access comes from a Visual Studio subscription tied to your Microsoft account. At"
            " https://my.visualstudio.com select Subscriptions > Add alternate account and add"
            f" {work_account},"
            " or ask your subscription administrator to reassign the subscription to that address in"
            " https://manage.visualstudio.com."
        ),
        link="https://learn.microsoft.com/visualstudio/subscriptions/vs-alternate-identity",
    )


def _account_kind(user: PlannedUser) -> str:
    account = user.match.user_principal_name if user.match else None
    return "guest account" if is_guest(user.outcome, account) else "work account"


def subscription_moves(user: PlannedUser, *, subscriber: bool) -> bool:
    """A Visual Studio subscriber whose sign-in address changes: the benefits follow only matching emails."""
    if not subscriber:
        return False
    today = {address.casefold() for address in (user.principal_name, user.mail_address) if address}
    return signs_in_as(user).casefold() not in today


def signs_in_as(user: PlannedUser) -> str:
    """What the person types to sign in: a guest signs in with their own address, not the #EXT# name."""
    account = mailbox(user.match.user_principal_name) if user.match else None
    return account or user.mail_address or user.principal_name


def _msa_uses_work_address(user: PlannedUser, tenant: Tenant) -> bool:
    """A personal account on a company domain collides with the work account at every sign-in."""
    domain = user.principal_name.rpartition("@")[2].strip().casefold()
    return bool(domain) and domain in {verified.casefold() for verified in tenant.verified_domains}
