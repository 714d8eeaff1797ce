"""After connecting: the Azure subscription that pays for the organization must live in the new
directory; if not, the admins get Microsoft's two ways to fix it (the reminders say by when)."""

from __future__ import annotations

from workflows.directory import MicrosoftError
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.results_closing import BillingResult
from workflows.stages.unit import Context, status, step

WHO_MOVES_IT = "a Project Collection Administrator who is also Owner or Contributor on the Azure subscription"
"""Who may change the subscription Azure DevOps bills (Microsoft's *Change Azure subscription used for
billing*): one person holding both."""


def while_unmoved(organization: str) -> str:
    """What a late move costs, as Microsoft's procedure says: no deadline penalty beyond purchases."""
    return (
        f"Until billing moves, what {organization} already pays for keeps working and renews each month,"
        " but nobody can buy or change its purchases."
    )


def check_billing(ctx: Context, organization: str | None, actor: Actor) -> BillingResult:
    """The subscription that pays for the organization must live in the new directory."""
    with ctx.database.session() as session:
        with step(ctx, session, organization, actor, "billing_confirmed") as unit:
            row = unit.row
            unit.flow.require("billing_confirmed", command="check-billing")
            unheld = False
            try:
                subscription_id = ctx.microsoft.billing_subscription_id(row.organization)
                subscription = (
                    ctx.microsoft.subscription(subscription_id, row.tenant_id) if subscription_id else None
                )
            except MicrosoftError as error:
                # a tenant without Resource Manager answers alike until a subscription is in it: no read to
                # try again, but the answer that it is not there yet
                if not error.lacks_resource_manager:
                    raise WorkflowError(
                        "I could not read the billing subscription, so nothing changed:"
                        f" {str(error).rstrip('.')}. Try again."
                    ) from None
                subscription, unheld = None, True
            target = row.directory_name
            ok = subscription_id is None or (
                subscription is not None and subscription.tenant_id.casefold() == row.tenant_id.casefold()
            )
            if ok:
                unit.flow.fire("billing_confirmed", details={"subscription_id": subscription_id})
        now_status = status(session, row)
    steps: tuple[str, ...] = ()
    if subscription_id is None:
        message = "No Azure subscription bills this organization; nothing to change."
    elif ok:
        message = f"Billing subscription {subscription_id} is already in {target}."
    else:
        if unheld:
            where = (
                f"not in {target}: Microsoft Entra ID says {target} has no Azure Resource Manager, which"
                " every directory that holds an Azure subscription has"
            )
        else:
            seen = f"in directory {subscription.tenant_id}" if subscription else "not visible to me"
            where = f"{seen}, not in {target}"
        message = (
            f"Billing subscription {subscription_id} is {where}."
            f" {while_unmoved(row.organization)} To move it:"
        )
        steps = (
            f"Associate subscription {subscription_id} with {target} in the Azure portal (Subscriptions >"
            " Change directory); that takes the subscription's Owner. If that is not you, ask the Owner to"
            f" change its directory, or to make you Owner or Contributor on a subscription in {target} for"
            " the next step.",
            "Or, in Organization settings > Billing, change the subscription Azure DevOps bills to one in"
            f" {target}; that takes {WHO_MOVES_IT}. Follow Microsoft's steps exactly, a wrong setup disrupts"
            " billing.",
            "Then run `check-billing` again.",
        )
    tenant_of_subscription = subscription.tenant_id if subscription else None
    return BillingResult(ok, subscription_id, tenant_of_subscription, steps, now_status, message)
