"""Secrets are redacted before a question is kept or shown to admins; plain words after "Bearer" are not."""

from __future__ import annotations

import pytest

from faq.redaction import KEPT_CHARS, redact

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiI0OTliODRhYyJ9.c2lnbmF0dXJlLXBhcnQ"
PAT = "u5yvdw3kqzl7ge2xj4mrsb6tnoahcfpiu5yvdw3kqzl7ge2xj4mr"  # 52 characters of base32
PAT_WITHOUT_DIGITS = "uyvdwkqzlgexjmrsbtnoahcfpiuyvdwkqzlgexjmrsbtnoahcfpi"
CLIENT_SECRET = "Xy78Q~h2Lq.Zr-3KfT_9wDmN4pVbC1sYeJ0uAoGi"


# Each secret in a shape people paste, with what is kept of the question around it.
SECRETS = [
    ("Authorization: Basic dXNlcjpwYXNzd29yZA== fails", "Authorization: Basic [redacted] fails"),
    ("Authorization: Basic dXNlcjpwYXNz fails", "Authorization: Basic [redacted] fails"),
    (
        f"curl -H 'Authorization: Bearer {JWT}' returns 401",
        "curl -H 'Authorization: Bearer [redacted]' returns 401",
    ),
    (f"the token {JWT} expired", "the token [redacted] expired"),
    (f"my PAT {PAT} stopped working", "my PAT [redacted] stopped working"),
    (f"my PAT {PAT_WITHOUT_DIGITS} stopped working", "my PAT [redacted] stopped working"),
    (f"client secret {CLIENT_SECRET} is rejected", "client secret [redacted] is rejected"),
    # a URL's user:password, the user and host kept
    (
        "git clone https://bob:Hunter2x@dev.azure.com/org/p/_git/r fails",
        "git clone https://bob:[redacted]@dev.azure.com/org/p/_git/r fails",
    ),
    (
        "git clone https://pat:abcdefghijkl@dev.azure.com/org",
        "git clone https://pat:[redacted]@dev.azure.com/org",
    ),
    ("https://:abcdefghij@dev.azure.com/x", "https://:[redacted]@dev.azure.com/x"),
    ("postgres://user:hunter2@db:5432/x", "postgres://user:[redacted]@db:5432/x"),
    # command-line flags
    ("az login -u bob -p Hunter2x fails", "az login -u bob -p [redacted] fails"),
    (
        "az login --service-principal -u app -p Xy7~abc --tenant t",
        "az login --service-principal -u app -p [redacted] --tenant t",
    ),
    ("sqlcmd -S db -U sa -P hunter", "sqlcmd -S db -U sa -P [redacted]"),
    ("az login --password hunter", "az login --password [redacted]"),
    ("az login --password=hunter", "az login --password=[redacted]"),
    ("az ad sp create --client-secret Xy78Q~h2Lq", "az ad sp create --client-secret [redacted]"),
    ("az devops login --token hunter", "az devops login --token [redacted]"),
    ("curl -u bob:hunter https://x", "curl -u bob:[redacted] https://x"),
    # assignments, whatever comes before the secret's word in the name
    ("client_secret=abc fails", "client_secret=[redacted] fails"),
    ("export AZURE_CLIENT_SECRET=hunter~two fails", "export AZURE_CLIENT_SECRET=[redacted] fails"),
    ("AZURE_DEVOPS_EXT_PAT=abcdefghijkl", "AZURE_DEVOPS_EXT_PAT=[redacted]"),
    ("$env:AZURE_DEVOPS_EXT_PAT = 'hunterTwo'", "$env:AZURE_DEVOPS_EXT_PAT = [redacted]"),
    ("export SYSTEM_ACCESSTOKEN=abc", "export SYSTEM_ACCESSTOKEN=[redacted]"),
    ('"AZURE_CLIENT_SECRET": "abc"', '"AZURE_CLIENT_SECRET": [redacted]'),
    ("AZURE_CLIENT_SECRET: Xy78Q~h2Lq", "AZURE_CLIENT_SECRET: [redacted]"),
    ('{"secret": "abc"} in the pipeline', '{"secret": [redacted]} in the pipeline'),
    (
        "Server=db;User ID=sa;Password=p4ss;Encrypt=true",
        "Server=db;User ID=sa;Password=[redacted];Encrypt=true",
    ),
    ("Host=db;Username=sa;Pass=Hunter2x fails", "Host=db;Username=sa;Pass=[redacted] fails"),
    ("AccountName=x;AccountKey=abc/def+ghi==;", "AccountName=x;AccountKey=[redacted];"),
    ("the mypassword=hunter flag", "the mypassword=[redacted] flag"),
    ("passwords = hunter", "passwords = [redacted]"),
    ("ocp-apim-subscription-key: 0123abcd", "ocp-apim-subscription-key: [redacted]"),
    ("refresh_token=abc", "refresh_token=[redacted]"),
    ("password=1234", "password=[redacted]"),
    # a SAS signature, whole
    (
        "https://x.blob.core.windows.net/c?sv=2022&sig=AbCdEf%2BgHi%3D&se=1",
        "https://x.blob.core.windows.net/c?sv=2022&sig=[redacted]&se=1",
    ),
    # said in words
    ("my password is Hunter2! why?", "my password is [redacted] why?"),
    ("user: admin pass: hunter2", "user: admin pass: [redacted]"),
    ("pwd: hunter2", "pwd: [redacted]"),
    ("Password: Summer2024!", "Password: [redacted]"),
    ("password hunter2 doesn't work", "password [redacted] doesn't work"),
    ("password was hunter2", "password was [redacted]"),
    ("I reset it and my password is now Abc12345", "I reset it and my password is now [redacted]"),
    ("token is: abc123", "token is: [redacted]"),
    ("the api key is AIzaSy12", "the api key is [redacted]"),
    ("my PAT (abcd1234efgh) fails", "my PAT [redacted] fails"),
    ("password: 'hunter'", "password: [redacted]"),
    ("use token `abc`", "use token [redacted]"),
    ("the secret token: Abc12345 ok", "the secret token: [redacted] ok"),  # "token" is not the secret's value
    ("password: Abc12345 token: Xyz98765", "password: [redacted] token: [redacted]"),
    # a password that is a name, after "is" or ":"
    ("my password is Fabrikam", "my password is [redacted]"),
    ("my pwd is Fabrikam and it fails", "my pwd is [redacted] and it fails"),
    ("password: Fabrikam", "password: [redacted]"),
    ("password: Fabrikam1", "password: [redacted]"),
    ("the secret was Contoso until today", "the secret was [redacted] until today"),
    (
        "az webapp deployment user set --user-name bob --password Fabrikam",
        "az webapp deployment user set --user-name bob --password [redacted]",
    ),
    ("Password is Fabrikam", "Password is [redacted]"),
    ("password is Fabrikam!", "password is [redacted]"),
    ("password is Summer", "password is [redacted]"),
    ("my password is Hunter", "my password is [redacted]"),
    ("my password is Qwerty", "my password is [redacted]"),
    ("my password is Monkey.", "my password is [redacted]"),
    ("my password is Ångström", "my password is [redacted]"),
    ("my password is: Fabrikam", "my password is: [redacted]"),
    ("passwd: Fabrikam", "passwd: [redacted]"),
    ("my password = Fabrikam", "my password = [redacted]"),
    ("my password is Contoso2024", "my password is [redacted]"),
    ("my password is HUNTER2", "my password is [redacted]"),
    ("git clone https://user:Fabrikam@dev.azure.com/x", "git clone https://user:[redacted]@dev.azure.com/x"),
    # a word after a credential's flag, on any command line
    ("--password Fabrikam", "--password [redacted]"),
    ("--password Fabrikam123", "--password [redacted]"),
    ("--password hunter", "--password [redacted]"),
    ("az devops login --token mytoken", "az devops login --token [redacted]"),
    (
        "az webapp deployment user set --user-name bob --password letmein",
        "az webapp deployment user set --user-name bob --password [redacted]",
    ),
    (
        "az ad sp credential reset --id x --password secretvalue",
        "az ad sp credential reset --id x --password [redacted]",
    ),
    ("psql --host db --password hunter", "psql --host db --password [redacted]"),
    (
        "az devops service-endpoint create --token abcdefghijklmnop",
        "az devops service-endpoint create --token [redacted]",
    ),
    ("npx vsts-npm-auth --password letmein", "npx vsts-npm-auth --password [redacted]"),
    ("my script runs: tool --password letmein --org x", "my script runs: tool --password [redacted] --org x"),
    # rev40's probes: a word in -ed or of five letters is a password as well as a state
    ("my password is Summer2024", "my password is [redacted]"),
    ("my password is Seabed", "my password is [redacted]"),
    ("my password is Speed", "my password is [redacted]"),
    ("my password is Wicked", "my password is [redacted]"),
    ("my password is Kindred", "my password is [redacted]"),
    ("my password is Hundred", "my password is [redacted]"),
    ("my password is Mildred", "my password is [redacted]"),
    ("my password is Alfred", "my password is [redacted]"),
    ("my password is Winifred", "my password is [redacted]"),
    ("my password is Jacked", "my password is [redacted]"),
    ("the admin password was Marigold", "the admin password was [redacted]"),
    ("PAT: Ohmygod", "PAT: [redacted]"),
    ("my PAT is ghp_abcdefghijklmnopqrstuvwxyz0123456789", "my PAT is [redacted]"),
    ("token: 7f3c9a0b1d2e4f5a6b7c8d9e0f1a2b3c", "token: [redacted]"),
    ("psql --host db --password speed", "psql --host db --password [redacted]"),
    ("az login -u bob -p Sacred", "az login -u bob -p [redacted]"),
    ("az ad sp create-for-rbac --password wicked", "az ad sp create-for-rbac --password [redacted]"),
    # after a flag, a word said of a password is its value: only a question about the flag is kept
    ("run.sh --token strong", "run.sh --token [redacted]"),
    ("tool --client-secret old", "tool --client-secret [redacted]"),
    ("tool --password new", "tool --password [redacted]"),
    ("tool --password blank", "tool --password [redacted]"),
    (
        "git clone https://bob:Tr0ub4dor@dev.azure.com/org/p/_git/r",
        "git clone https://bob:[redacted]@dev.azure.com/org/p/_git/r",
    ),
    ("Password=Autumn99;Server=db", "Password=[redacted];Server=db"),
    ("my password is now Fluffy", "my password is now [redacted]"),
    ("client secret: Q~abc.DEF_ghi-JKL", "client secret: [redacted]"),
    ("password: 'letmein'", "password: [redacted]"),
    ("the storage key is Zm9vYmFyYmF6cXV4MTIzNA==", "the storage key is [redacted]"),
    ("my api key is Pineapple", "my api key is [redacted]"),
    ("access token was Bluebird", "access token was [redacted]"),
    ("--password=hello", "--password=[redacted]"),
    ("curl -u alice:Winter22 https://dev.azure.com", "curl -u alice:[redacted] https://dev.azure.com"),
    ("password is Samesite", "password is [redacted]"),  # rev40 read it as prose: a name all the same
]
# Questions about secrets, with nothing secret in them.
PROSE = [
    "Bearer give me the pipelines list",
    "why does the Bearer authentication fail after the switch",
    "what does basic licence mean here",
    "is a bearer token still valid after connecting?",
    "password: how do I reset it after the move?",
    "password: 8 chars minimum?",
    "password: re-enter it?",
    "password=? what",
    "the token is expired, and is my password safe?",
    "passwords and secrets: where do they go?",
    "my token is 2 days old",
    "my password is 12 characters, is that ok?",
    "the PAT is expired",
    "the PAT is v2 format?",
    "my PAT is now expired",
    "the password is e-mailed to me",
    "the secret is out",
    "the secret to a good migration is planning",
    "PAT scopes: Code (Read)",
    "PAT scopes: Code (Read & write), Build (Read)",
    "What is the PAT: is it needed?",
    "pat: 90-day expiry ok?",
    "Token: N/A",
    "token: expired-yesterday?",
    "my secret is: I don't know",
    "secret: it's in Key Vault",
    "is the api-key re-used?",
    "what does PAT=1 do?",
    "the key=value pairs",
    "primary key: id",
    "PAT token is required?",
    "the token is GitHub-issued",
    "az repos list -p Fabrikam",  # `-p` names the project outside a login
    "docker run -p 8080:80 nginx",
    "https://dev.azure.com/fabrikam/_git/web fails",
    "what does --password do?",  # a question about the flag, not its value
    "is --client-secret required for a service principal?",
    "how do I reset my password?",
    "git@ssh.dev.azure.com's password:\nPermission denied, try again.",  # ssh's prompt, then its reply
    "fatal: Failed to create PAT: FailedToReadTenantPolicy",  # an error's code, in camel case
    "the Web Account Manager token Broker crashes",  # a name after a bare space names something else
    "my password is NOT accepted",
    # a word said of a password's state or kind, capitalised, is not the password
    "my password is Expired",
    "the password is Required for login",
    "password: Reset via SSPR",
    "My password is Wrong?",
    "my password is Correct but it fails",
    "My PAT was Revoked yesterday",
    "my PAT was Revoked yesterday, git push gives 401",
    "my token was Rejected",
    "the token is Invalid",
    "Password: Incorrect",
    "Error: token: Expired",
    "Secret: Missing in pipeline",
    "The password is Hidden in the portal",
    "password was Changed by IT",
    "my password is Temporary",
    "PAT: Unauthorized",
    "token: Forbidden when pushing",
    "my pat is Expired. What now?",
    "password: Required",
    "client secret: Expires in 2 days",
    "secret was Deleted",
    "Access token: Expired, please renew it",
    "Build pass: Succeeded",
    "Signature: Verified",
    "my token is Bearer",
    "PAT is Full access",
    "Token: Personal access token",
    "my password is Valid until Friday",
    "password is fabrikam",  # a password in lower case reads as English: kept, as the docstring says
    # the first word of a longer name names a thing
    "my password is Windows Hello",
    "the secret is Azure KeyVault",
    "password: Azure AD account",
    # a question about the flag
    "--password Expired",
    "--password Required when using -u",
    "does --token work with az devops login?",
    "what is --password for?",
    "--password Required?",
    "is --password Optional?",
    "what does --password Mean in this command",
    # rev40's probes: participles and adjectives said of a secret, listed, -en ones too
    "my token is Valid until Friday",
    "my token is Valid",
    "my password is Valid",  # a password "Valid" reads as the state: kept, as "token is Valid" is
    "my password is Locked",
    "PAT: Unauthorized when I push",
    "Password: Incorrect, it says",
    "my password is Compromised, what now?",
    "my password is Outdated",
    "my token is Useless now",
    "my password is Gone after the migration",
    "my password is Unchanged",
    "my token is Stale",
    "my password is Blocked",
    "is --token required for the pipeline?",
    "does --password accept a file?",
    "my password is Synced from on-prem",
    "the PAT is Disabled",
    "my token is Readonly",
    "my password is Different from my email one",
    "the secret is Rotated weekly",
    "my password is Managed by Intune",
    "my token is Scoped to one project",
    "my password was Forgotten",
    "password was Forgotten",
    "token is Frozen",
    "password is Written on a sticky note",
    "my password is Changing",
    "Password: Never expires is set",
    "my password is Mine, not the company's",
    "Token: Bearer",
    "my PAT is Fine for clone but not push",
    # secrets not told apart from prose, each for a reason above: two capitalised words name a thing
    # ("Windows Hello"), a lower-case word reads as English, a name of four letters is too short to tell
    "my password is Purple Monkey",
    "my password is tigerlily",
    "my password is Brad",
]


@pytest.mark.parametrize(("question", "kept"), SECRETS)
def test_a_secret_is_redacted_and_the_words_around_it_kept(question: str, kept: str) -> None:
    assert redact(question) == kept


@pytest.mark.parametrize("question", PROSE)
def test_a_question_about_secrets_without_one_stays_as_typed(question: str) -> None:
    assert redact(question) == question


@pytest.mark.parametrize("question", [kept for _, kept in SECRETS] + PROSE)
def test_redacting_again_changes_nothing(question: str) -> None:
    """What was stored redacted is redacted again when read (`faq review`): it must not be garbled."""
    assert redact(question) == question


def test_a_secret_past_the_kept_length_never_survives_the_cut() -> None:
    question = "x " * (KEPT_CHARS // 2 - 5) + f"Bearer {JWT}"
    assert JWT[:12] not in redact(question) and len(redact(question)) <= KEPT_CHARS


TICKET = "RJbB0sjRxmqjcaOVVfnIW4LLO6iJlpzB%252b6oYJtPBSQs%253d"
EMAILED = f"https://invitations.microsoft.com/redeem/?tenant=04dcc6ab&user=7bf5a9b4&ticket={TICKET}&ver=2.0"
GRAPHS = (  # Graph's inviteRedeemUrl: the emailed link, percent-encoded in `rd`
    "https://login.microsoftonline.com/redeem?rd=https%3a%2f%2finvitations.microsoft.com%2fredeem%2f"
    f"%3ftenant%3d04dcc6ab%26user%3d7bf5a9b4%26ticket%3d{TICKET}%26ver%3d2.0"
)
WRAPPED = "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Flogin.microsoftonline.com%2Fredeem%3Frd%3Dx"


@pytest.mark.parametrize(
    "link",
    [
        EMAILED,
        GRAPHS,
        "https://login.microsoftonline.com/redeem?rd=Ab3dEfGh12IjKlMn",  # the sandbox's, short
        "login.microsoftonline.com/redeem?rd=abcdefghijklmnop",  # pasted without its scheme
        "https%3A%2F%2Finvitations.microsoft.com%2Fredeem%2F%3Fticket%3Dabc",
        "https%253A%252F%252Flogin.microsoftonline.com%252Fredeem%253Frd%253Dabc",  # encoded twice
        WRAPPED,
        "HTTPS://LOGIN.MICROSOFTONLINE.COM/REDEEM?RD=ABC",
    ],
)
def test_a_pasted_link_to_accept_an_invitation_is_masked_whole_and_the_words_kept(link: str) -> None:
    for question, kept in (
        (f"I clicked {link} and it says the invitation expired", "I clicked {} and it says the invitation"),
        (f"I opened {link}, then {link}: both fail", "I opened {0}, then {0}: both fail"),  # punctuation kept
        (f"this link <{link}|here> fails", "this link <{}|here> fails"),  # as Slack sends a pasted link
        (f'<a href="{link}">{link}</a> fails', '<a href="{0}">{0}</a> fails'),  # as Teams sends it
    ):
        assert redact(question).startswith(kept.format("[redacted invitation link]")), question


@pytest.mark.parametrize(
    "question",
    [
        "https://myapps.microsoft.com/?tenantid=04dcc6ab shows nothing, should I redeem it?",
        "https://login.microsoftonline.com/common says redeem your invitation first",
        "how do I redeem the invitation from invitations.microsoft.com?",
    ],
)
def test_other_microsoft_links_and_the_word_redeem_are_kept(question: str) -> None:
    assert redact(question) == question
