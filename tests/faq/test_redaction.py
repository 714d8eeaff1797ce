"""Secrets are redacted before a question is kept or shown to admins; plain words after "Bearer" are not."""

from __future__ import annotations

import base64
import random
import re
import string

import pytest

from faq.redaction import KEPT_CHARS, redact

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiI0OTliODRhYyJ9.c2lnbmF0dXJlLXBhcnQ"
PAT = "u5yvdw3kqzl7ge2xj4mrsb6tnoahcfpiu5yvdw3kqzl7ge2xj4mr"  # 52 characters of base32
PAT_WITHOUT_DIGITS = "uyvdwkqzlgexjmrsbtnoahcfpiuyvdwkqzlgexjmrsbtnoahcfpi"
CLIENT_SECRET = "Xy78Q~h2Lq.Zr-3KfT_9wDmN4pVbC1sYeJ0uAoGi"
PAT_84 = "3kL9qXv2Tz8mBn4Rw7Yc1Hd6Jf0Gs5Pa9Ue3Ki7Oo2Ql8Mx4Nb6Vt1Zr5Wy0AZDO3Cj7Dh2Eg9Fk4Il6Lm1Np8Sq"
SLACK_BOT_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP_TOKEN = "xapp-1-A0123456789-1234567890123-0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978"
STORAGE_KEY = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0g+/xyz12=="


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
    # pasted bare, with no word before them that names a secret
    (  # walk31: Erin's question, as it reached Ask an admin
        f"git push fails with 401, I use the token {PAT} in my remote url https://erin:{PAT}@dev.azure.com/"
        "fabrikam-fiber/_git/web - do I need a new one?",
        "git push fails with 401, I use the token [redacted] in my remote url https://erin:[redacted]@"
        "dev.azure.com/fabrikam-fiber/_git/web - do I need a new one?",
    ),
    (f"git push with {PAT_84} fails", "git push with [redacted] fails"),
    (f"Slack says invalid_auth for {SLACK_BOT_TOKEN}", "Slack says invalid_auth for [redacted]"),
    (f"socket mode: {SLACK_APP_TOKEN} refused", "socket mode: [redacted] refused"),
    (f"I set {CLIENT_SECRET} in the service connection", "I set [redacted] in the service connection"),
    (f"it is {STORAGE_KEY} now", "it is [redacted] now"),
    (f"curl -H 'Authorization: Bearer {JWT}'", "curl -H 'Authorization: Bearer [redacted]'"),
    (f"{PAT} in https://dev.azure.com/fabrikam", "[redacted] in https://dev.azure.com/fabrikam"),
    ("GitHub says ghp_x7Kq2mZ9vB4nL8wR1tY6uP3sD5fG0hJ2kC4e is bad", "GitHub says [redacted] is bad"),
    # rev44: passwords typed as passphrases, long and made of words, with no path's or name's structure
    (
        "I log in with Correct-Horse-Battery-Staple-2024 and it says 401",
        "I log in with [redacted] and it says 401",
    ),
    ("svc-build uses WelcomeToFabrikam2024 and fails", "svc-build uses [redacted] and fails"),
    ("I typed BlueElephantRunning42 into the prompt", "I typed [redacted] into the prompt"),
    ("used Fabrikam.Summer.2024 to sign in", "used [redacted] to sign in"),
    ("used Welcome.To.Fabrikam1 to sign in", "used [redacted] to sign in"),
    ("my new one is correct-horse-battery-staple-42", "my new one is [redacted]"),
    # a password said in words: masked to the clause's end or the first word of prose, the rest kept
    ("my password is correct horse battery staple", "my password is [redacted]"),
    ("password: hunter two 2", "password: [redacted]"),
    (
        "my password is correct horse battery staple and git push fails",
        "my password is [redacted] and git push fails",
    ),
    ("Password: Correct Horse Battery Staple 2024, what now?", "Password: [redacted], what now?"),
    ("the admin password was blue river stone 7 until May", "the admin password was [redacted] until May"),
    ("pwd: red fox jumps high", "pwd: [redacted]"),
    ("my passphrase is: purple monkey dishwasher", "my passphrase is: [redacted]"),
    # a URL's user without a password: git takes a password or a PAT there too
    (
        "git remote set-url origin https://Winter2024Fabrikam@dev.azure.com/x/_git/y",
        "git remote set-url origin https://[redacted]@dev.azure.com/x/_git/y",
    ),
    (
        "git clone https://hunter2@dev.azure.com/fabrikam",
        "git clone https://[redacted]@dev.azure.com/fabrikam",
    ),
]
# What the admins need to read an error, though long and mixing letters and digits: endpoint paths, URLs
# without credentials, error codes, versions, and the ids of tenants, organizations, applications and
# requests. None of them lets anyone in: the bot itself shows a directory's tenant id in its links, and a
# support request asks for it. Most are from the real questions (faq/eval/real-questions.jsonl).
NAMES = [
    "Git for VSTS via Azure AD 401 for endpoint ServiceDefinitions/LocationService2",
    "But I get 401 calling ServiceDefinitions/LocationService2 endpoint",
    "failed to find Identity Service for 'https://phntt.visualstudio.com/' via location service"
    " [401 Unauthorized].",
    "https://login.microsoftonline.com/3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11/oauth2/v2.0/authorize fails",
    "https://myapps.microsoft.com/?tenantid=3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11 shows nothing",
    "Request Id: 2f86285f-33b3-4139-aacf-35c5f0d6d5d3 Correlation Id: 785a37cc-ed23-4ff9-a0d9-c42344605600",
    "AADSTS700016: Application with identifier '499b84ac-1321-427f-aa17-267ca6975798' was not found",
    "GET https://dev.azure.com/fabrikam/_apis/git/repositories?api-version=7.1-preview.1 returns 401",
    "https://pkgs.dev.azure.com/fabrikam/_packaging/feed/nuget/v3/index.json gives 401",
    "java.util.concurrent.ExecutionException: com.microsoft.aad.adal4j.AuthenticationException",
    "https://docs.microsoft.com/en-us/azure/active-directory/b2b/direct-federation",
    "see https://github.com/nkdAgility/azure-devops-migration-tools/blob/5e94e380c30f381af05c6e560209c2a43ea5b1e3/"
    "src/MigrationTools.Clients.AzureDevops.ObjectModel/TfsExtensions.cs#L68",
    "error_description=AADSTS90072%3a+The+user+doesn%27t+exist+in+the+directory",
    "vsts-agent-win-x64-2.144.0 on Windows Server 2016",
    "C:/Users/xxx/AppData/Roaming/Code/User/globalStorage/ms-azure-devops.azure-pipelines/1ESPTSchema",
    "tenant xxxxxxxx-xxxx-xxxx-xxxx-2c4a80df089f, as the portal shows it",
    "https://spsprodweu4.vssps.visualstudio.com/_signin fails with TF400813",
    "com.microsoft.aad.adal4j.AuthenticationException: AADSTS50020",  # a dotted namespace
    "I sign in as admin@david342.onmicrosoft.com",  # a host
    "GET _apis/projects?api-version=6.1-preview fails",  # a version
    # Azure DevOps' own clone URL names the organization as its user, ssh's names `git`
    "git clone https://fabrikam@dev.azure.com/fabrikam/Fabrikam2024/_git/web fails",
    "ssh://git@ssh.dev.azure.com:v3/fabrikam/Fabrikam2024/web",
    # an error code after a credential's name is what the service said of it, which the answer needs (rev81)
    "PAT TF401019 when I clone, why?",
    "Git credential manager token TF401019 after the switch",
    "bearer token AADSTS50020 in the pipeline",
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
    # several words after "password is" or ":" that say something of it, not a password said in words
    "my password is not working",
    "password is expired",
    "my password is getting rejected constantly",
    "password is stored plain text somewhere",
    "my password is 12 characters long now",
    "password is incorrect error message shows",
    "my password is expired Monday morning",
    "password is correct but sign in fails",
    "password: prompted again and again",
    "my password is the same as my Windows one",
    "the password is Windows Hello PIN",
    "password: written on paper",
    # secrets not told apart from prose, each for a reason above: a lower-case word reads as English, a name
    # of four letters is too short to tell
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


@pytest.mark.parametrize("question", NAMES)
def test_what_an_error_names_stays_as_typed(question: str) -> None:
    assert redact(question) == question


def _generated(rng: random.Random) -> list[str]:
    """Keys as generators make them: base64 (storage and signing keys), URL-safe base64, hex, base62, and
    the shapes of PATs, client secrets and Slack tokens."""
    base62 = string.ascii_letters + string.digits
    return [
        base64.b64encode(rng.randbytes(rng.randint(24, 64))).decode(),
        base64.urlsafe_b64encode(rng.randbytes(rng.randint(24, 48))).decode().rstrip("="),
        rng.randbytes(rng.randint(16, 32)).hex(),
        "".join(rng.choices(base62, k=rng.randint(32, 64))),
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz234567", k=52)),
        "".join(rng.choices(base62, k=84)),
        "".join(rng.choices(base62, k=3)) + "8Q~" + "".join(rng.choices(base62 + "._-~", k=34)),
        "xoxb-" + "".join(rng.choices(string.digits, k=12)) + "-" + "".join(rng.choices(base62, k=24)),
    ]


def test_generated_keys_pasted_bare_are_masked() -> None:
    """A key with no word naming it is told by its shape. 3,000 of each kind, seeded: any one kept fails.
    Not one of letters only (about 1 in 700 of the base64 ones), which reads as a word, as it always did."""
    rng = random.Random(52)
    for _ in range(3000):
        for key in filter(re.compile(r"\d").search, _generated(rng)):
            kept = redact(f"it fails with {key} since Monday")
            assert kept == "it fails with [redacted] since Monday", key


def _keys_in_paths(rng: random.Random) -> list[str]:
    """Keys a path could end with: base62 of 20 characters (rev44's) and longer, base64, URL-safe
    base64, hex."""
    base62 = string.ascii_letters + string.digits
    return [
        "".join(rng.choices(base62, k=20)),
        "".join(rng.choices(base62, k=rng.randint(21, 64))),
        base64.b64encode(rng.randbytes(rng.randint(15, 48))).decode(),
        base64.urlsafe_b64encode(rng.randbytes(rng.randint(15, 48))).decode().rstrip("="),
        rng.randbytes(rng.randint(10, 32)).hex(),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "GET https://dev.azure.com/fabrikam/_apis/ServiceEndpoint/Endpoints/{} returns 401",
        "C:/Users/erin/AppData/Roaming/{}/config is read",
    ],
)
def test_a_key_ending_a_readable_path_is_masked_with_the_path(path: str) -> None:
    """rev44: a path's names do not carry the key after them (fix52 kept 1,207 in 3,000). Each piece that
    could be a key is judged on its own. 3,000 of each kind, seeded: any one kept fails."""
    rng = random.Random(55)
    for _ in range(3000):
        for key in filter(re.compile(r"\d").search, _keys_in_paths(rng)):
            assert key not in redact(path.format(key)), key


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
