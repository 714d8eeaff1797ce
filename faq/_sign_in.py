"""Saying "I can't sign in anymore" when the organization is not connected yet. The move changes nobody's
sign-in before Connect, so the reply says where the migration stands and what usually causes the trouble
instead; once Connect is approved (`connecting`, until the bot sees the organization connected), how to
sign in until then and after. Someone the plan does not name is told so, whatever the stage, and someone an
admin decided loses access hears that decision, as their notice had it, whatever they ask."""

from __future__ import annotations

from faq._asker import refused_by_its_code
from faq._compose import CANCELLED, LOST_ACCESS, AskerContext, organization_url, phase_of, way_to_a_person

TITLE = "Your sign-in has not changed"
DISABLED_TITLE = "Your directory account is disabled"
DISABLED = "disabled"
AMBIGUOUS = "ambiguous"
"""The plan's outcomes of someone whose account an admin must still settle (`workflows.plan.UNDECIDED`, not
imported: that module takes 0.15 s to import)."""
# The first item of their to-do list (`workflows.todo`), by its title.
ENABLE_ITEM = "Tell the admins if you still need access"
CHOOSE_ITEM = "Tell the admins which work account is yours"
CHOOSE_BEFORE_THE_LIST = "*Choose my account* under `todo`, or say `my-account`"
"""Where someone several directory accounts match says which one is theirs while the list whose first item
(`CHOOSE_ITEM`) does it is still to come."""
ENABLE_BEFORE_THE_LIST = "`todo` names the admins to tell"
"""Whom someone whose only account is disabled tells that they still need access while the list whose first
item (`ENABLE_ITEM`) has the button for it is still to come: `todo` has their case's words, with the admins'
addresses."""
OFF_THE_PLAN = "The migration's plan does not name you"
_SIGN_OUT_EVERYWHERE = "https://aka.ms/VsSignout"
_RESET_MICROSOFT_ACCOUNT = "https://account.live.com/password/reset"

# What each state before connecting means to someone being moved (`workflows.machine.STATES`); unknown names
# get no stage rather than a wrong one.
_STAGE = {
    "draft": "the admins are checking its prerequisites",
    "checking_prerequisites": "the admins are checking its prerequisites",
    "planned": "the admins have made the plan",
    "blocked": "the admins are fixing a prerequisite",
    "inviting": "the admins are inviting guests to the directory",
    "waiting_for_invite_settings": "the admins are waiting for the directory's invite settings",
    "removing": "the admins are removing users who no longer need access",
    "awaiting_approval": "the admins are waiting for an approval to connect it",
    "failed": "a step failed and waits for the admins to resume it",
    "interrupted": "a step stopped part way when the bot restarted, and waits for the admins to resume it",
}


def not_connected_yet(context: AskerContext, link: str) -> str:
    """Before connecting: their sign-in is as it was, with which account, and the usual causes; `link` is
    Microsoft's page on signing-in trouble ("" when the knowledge base has none)."""
    organization = context.organization or "your organization"
    account = context.signs_in_as or "the account you use now"
    where = "; ".join(
        part for part in (_STAGE.get((context.stage or "").casefold(), ""), announced_date(context)) if part
    )
    first = context.case != "switch"  # from Microsoft accounts, not from another directory
    reset = (
        f"a Microsoft account: {_RESET_MICROSOFT_ACCOUNT}" if first else "your current directory's help desk"
    )
    causes = [
        f"Another account signed in to the browser: sign out everywhere ({_SIGN_OUT_EVERYWHERE}), open a"
        f" private window and sign in with {account}.",
        *(
            [
                "Asked to choose between a work or school account and a personal account: choose the personal"
                " account, the Microsoft account you have used so far."
            ]
            if first
            else []
        ),
        f"A forgotten password or a lost second factor: reset it where the account lives ({reset}), not in"
        " Azure DevOps.",
        "Removed from the organization, or your access level changed: "
        + ("check it" if context.is_admin else "an admin can check it")
        + " under Organization settings > Users.",
    ]
    return "\n".join(
        [
            TITLE,
            f"The move has not changed your sign-in: {organization} is not connected to the new directory yet"
            f" ({where}). Until then you sign in to {organization_url(context.organization)} as today, with"
            f" {account}.",
            "What usually causes it instead:",
            *(f"- {cause}" for cause in causes),
            *([f"Microsoft's page: {link}"] if link else []),
            way_to_a_person(context),
        ]
    )


def while_connecting(context: AskerContext) -> str:
    """Once Connect is approved: the opening of the lock-out answer, which reads as after connecting. The
    portal click may not have happened yet, so until the organization is connected they sign in as today."""
    organization = context.organization or "your organization"
    account = context.signs_in_as or "the account you use now"
    return (
        f"Connecting {organization} to the new directory is approved, and an admin makes the switch in its"
        f" settings. Until I send you your to-do list, which says it is connected, sign in to"
        f" {organization_url(context.organization)} as today, with {account}. Once it is connected, sign in"
        " as below: only members or guests of the new directory get in, and a guest keeps signing in with"
        " their own address."
    )


def before_or_after(question: str, context: AskerContext) -> str:
    """For Azure DevOps' refusal by its code ("TF400813") from someone whose migration the bot does not know:
    the lock-out answer is for after the switch, so first what holds before it ("" for anyone else: inside a
    migration the stage says which, `faq._asker.own_sign_in_trouble`)."""
    if phase_of(context.stage) is not None or not refused_by_its_code(question):
        return ""
    return (
        "If your organization has not just been connected to a directory (or switched to another one), the"
        " move is not the cause: you sign in as before, and Microsoft's page below lists the usual causes. If"
        " it has:"
    )


def not_on_the_plan(context: AskerContext) -> str:
    """For someone the migration's plan does not name: the move says nothing of their sign-in, and only an
    admin can tell whether they should have access."""
    organization = context.organization or "your organization"
    return "\n".join(
        [
            OFF_THE_PLAN,
            f"The plan for moving {organization} to the new directory does not name you: you were not one of"
            " its Azure DevOps users when it was made, or the admins removed you from it (for example as"
            " inactive). So I cannot tell what you sign in with. If you should have access, an admin can"
            " add you again under Organization settings > Users.",
            way_to_a_person(context),
        ]
    )


def account_disabled(context: AskerContext) -> str | None:
    """For someone whose directory account is disabled (the plan's `disabled`, no admin decision yet) saying
    so ("my account is disabled, what do I do?"): the first item of their to-do list (before it, `todo`), and
    whom to ask. None for anyone else."""
    if context.outcome != DISABLED or phase_of(context.stage) in (None, CANCELLED):
        return None
    organization = context.organization or "the organization"
    if phase_of(context.stage) == "after":
        so = f"so {organization} refuses you until it is enabled"
    else:
        so = f"so you could not sign in to {organization} once it is connected to the directory"
    if context.list_to_come:
        ask = (
            f"Until your to-do list comes, {ENABLE_BEFORE_THE_LIST}: if you still need access, tell them, and"
            " they settle it with you"
        )
    else:
        ask = (
            f"The first item of your to-do list, *{ENABLE_ITEM}*, says what to do: if you still need access,"
            " press *I need help* on it, and the migration admins settle it with you"
        )
    return "\n".join(
        [
            DISABLED_TITLE,
            f"Your address matches an account in the directory, but that account is disabled, {so}. {ask}"
            " (your directory administrator enabling that account, or another account they map you to). Your"
            " work and history are kept.",
            way_to_a_person(context),
        ]
    )


NOT_MAPPED_TITLE = "Your old identity is not mapped to your work account yet"


def not_mapped_yet(context: AskerContext) -> str | None:
    """For someone mapped by hand whom Azure DevOps still shows on their Microsoft account after the
    connection (`AskerContext.awaits_mapping`), refused when signing in: the mapping comes first, who does it
    and how long it takes (Microsoft's tutorial: *Resolve*, else Support). None for anyone else."""
    if not context.awaits_mapping or phase_of(context.stage) != "after":
        return None
    organization = context.organization or "the organization"
    admins = (
        f"the migration admins ({', '.join(context.admins)})" if context.admins else "the migration admins"
    )
    return "\n".join(
        [
            NOT_MAPPED_TITLE,
            f"{organization} now signs in with directory accounts, and Azure DevOps still shows you on your"
            " Microsoft account: your identity is one that is mapped by hand after connecting, and"
            f" {admins} have not mapped it to your work account yet. Until they have, {organization}"
            ' refuses your work account ("not authorized"); nothing on your side changes that, and'
            " clearing caches will not help.",
            "Mapping takes an admin a minute under Organization settings > Microsoft Entra ID (*Resolve* on"
            " the notice of disconnected users) and keeps your history yours; if Resolve fails, or the"
            " organization has more than 100 users, Microsoft Support maps it, which can take some days. They"
            " see you on their list of who still needs it. Once it is done, sign in with your work account as"
            " your to-do list says.",
            way_to_a_person(context),
        ]
    )


def blocked_first(context: AskerContext) -> str | None:
    """For someone refused by Azure DevOps once connected ("git push fails with 401") whose to-do list opens
    with an item only someone else can unblock, before what the topic says: that item is the likely cause.
    None for anyone else (an invitee: `faq._invitation.not_accepted_yet`)."""
    if phase_of(context.stage) != "after":
        return None
    if context.outcome == DISABLED:
        where = (
            "`todo` names them"
            if context.list_to_come
            else f"*{ENABLE_ITEM}*, the first item of your to-do list, has the button for it"
        )
        return (
            "First, the likely cause: your account in the directory is disabled, so Azure DevOps refuses it"
            f" whatever you sign in with. If you still need access, tell the migration admins: {where}."
        )
    if context.outcome == AMBIGUOUS:
        where = (
            CHOOSE_BEFORE_THE_LIST
            if context.list_to_come
            else f"*{CHOOSE_ITEM}*, the first item of your to-do list"
        )
        return (
            "First, the likely cause: several directory accounts match your address and the admins have not"
            " mapped you to yours yet, so Azure DevOps refuses you. Tell them which one you sign in with"
            f" every day: {where}."
        )
    return None


def lost_access(context: AskerContext) -> str | None:
    """For someone an admin decided loses access, once told (`LOST_ACCESS`): that decision, who made it and
    whom to ask, as the notice told them, instead of a sign-in answer or "I don't know". Nothing more: who
    else lost access, or why the admin decided so, is not theirs to read. None for anyone else."""
    if context.outcome != LOST_ACCESS:
        return None
    organization = context.organization or "the organization"
    return "\n".join(
        [
            f"You no longer have access to {organization}",
            f"{_decided(context)}, so you cannot sign in to it any more: no step on your side changes that."
            " Your work items, commits and history stay in the organization under your old name. If you"
            f" still need access, ask {_whom(context)}.",
            way_to_a_person(context),
        ]
    )


def lost_access_opening(context: AskerContext) -> str | None:
    """The line that opens any answer to someone who lost access (`lost_access`), before the topic's answer
    for the people who keep it."""
    if context.outcome != LOST_ACCESS:
        return None
    return f"{_decided(context)}: if you still need access, ask {_whom(context)}."


def _decided(context: AskerContext) -> str:
    name = context.lost_access_by
    who = f"{name}, a migration admin," if name else "A migration admin"
    organization = context.organization or "the organization"
    return f"{who} decided that you lose access to {organization}, as I told you"


def _whom(context: AskerContext) -> str:
    return context.lost_access_by or "the migration admins"


def announced_date(context: AskerContext) -> str:
    """What the advance notices said of the date, as far as they reached the asker."""
    told = context.announcement() if context.announcement is not None else None
    if told is None or told.latest is None:
        return "no date is announced yet"
    date = told.latest if told.to_them is None else told.to_them
    said = "it was announced" if told.passed else "it is announced"
    said += f" for {date}" if date else ", with no date yet"
    if told.to_them is None:
        said += ", but no notice of it reached you"
    if told.passed:
        said += "; that day is past, so ask an admin for the new date"
    return said
