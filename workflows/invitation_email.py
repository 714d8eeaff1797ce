"""How Microsoft's B2B invitation email shows in a mailbox: the one wording of every message that tells
someone what to look for (their notice and to-do list, the FAQ's replies).

Microsoft's "B2B invitation email layout and language settings" page
(https://learn.microsoft.com/entra/external-id/invitation-email-elements, dated 12/05/2025, read 29 November
2026): the From line is now "Microsoft Invitations on behalf of <primary domain>" with the address
invites@<primary domain>.onmicrosoft.com; before December 2025 it was Microsoft Invitations,
invites@microsoft.com. The subject is "<inviter> invited you to collaborate with <primary domain>".
MicrosoftDocs/entra-docs pull request 1994 (June 2026) adds sending from the directory's own domain, falling
back to microsoft.com. So the address depends on the directory and the date, and the primary domain is not
the directory's name the bot reads; what every version shows is the sender's name, which is what people are
told to search for.
"""

SENDER = "Microsoft Invitations"
FROM = f'"{SENDER} on behalf of" the company'
"""Who the email is from, as the inbox shows it, after "from"."""
SUBJECT = '"... invited you to collaborate with ..."'
REDEMPTION_PAGE = "https://learn.microsoft.com/entra/external-id/redemption-experience"
NONE_CAME_ONCE_CLOSED = (
    "if none came, an admin can still invite you by hand, in the Microsoft Entra admin center"
)
"""What someone whose invitation may never have gone out can do once the migration is completed, and the
bot's `invite` no longer runs: their `todo` and the FAQ say it alike."""
"""Microsoft's page on accepting an invitation, with or without the email."""
