"""The stored form of a plan: `Plan.to_json` plus what the bot needs to rebuild it exactly."""

from __future__ import annotations

from typing import Any

from workflows.plan import Check, Match, Plan, PlannedUser


def encode(plan: Plan) -> dict[str, Any]:
    data = plan.to_json()
    data["connector"] = plan.connector
    data["tenant_name"] = plan.tenant_name
    for user_data, user in zip(data["users"], plan.users, strict=True):
        user_data["display_name"] = user.display_name
        user_data["mail_address"] = user.mail_address
    return data


def decode(data: dict[str, Any]) -> Plan:
    return Plan(
        organization=data["organization"],
        tenant_id=data["tenant_id"],
        users=tuple(_user(user) for user in data["users"]),
        checks=tuple(
            Check(
                code=check["code"], status=check["status"], message=check["message"], fix=check.get("fix", "")
            )
            for check in data["checks"]
        ),
        connector=data.get("connector", ""),
        tenant_name=data.get("tenant_name", ""),
    )


def _user(data: dict[str, Any]) -> PlannedUser:
    match = data.get("match")
    return PlannedUser(
        id=data["id"],
        principal_name=data["principal_name"],
        outcome=data["outcome"],
        match=Match(id=match["id"], user_principal_name=match["user_principal_name"], by=match["by"])
        if match
        else None,
        candidates=tuple(data.get("candidates", ())),
        display_name=data.get("display_name", ""),
        mail_address=data.get("mail_address", ""),
    )
