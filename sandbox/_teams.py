"""Microsoft Teams as the bot meets it: Bot Framework auth, the Bot Connector, Graph app installations.

Served under the real hosts (`{base}/login.botframework.com/...`, `{base}/smba.trafficmanager.net/...`,
`{base}/graph.microsoft.com/v1.0/users/{id}/teamwork/installedApps`). The scenario's directory users are
the Teams users (their `aadObjectId` is their Graph id); an optional `teams` section names who has the
app installed already and who blocked the bot: `{"installed": [UPN...], "blocked": [UPN...]}`, and may
lower the per-tenant limit (`"tenantLimitPerSecond": N`, Microsoft's 30 by default) for tests.
`POST /_sandbox/teams/leave` (`{"from": UPN, "how": "block" | "remove"}`) has a person block the bot or
remove the app later. The connector then refuses to write to them as Microsoft documents it (403
`ConversationBlockedByUser`, or `BotNotInConversationRoster` once the app is gone); writing to the bot
again lifts a block.
An activity the bot sends with both `text` and attachments becomes two messages, the text and the cards,
answered 202 with no id, as Teams splits it (the bot could not update either). The record of each keeps
its `summary`, what Teams shows in the notification for a card.
A channel is threads, as in Teams: a person's post, or a reply under one (`POST /_sandbox/teams/message`
with `"thread": POST-ID`), reaches the bot with the conversation id `CHANNEL;messageid=FIRST-POST` (so
does a click on a card in a thread); the bot posts in a thread by writing to that id, and starts a post
of its own with the channel's id alone. A card an invoke's answer returns takes the clicked card's place
for the clicker alone, until the bot updates the message; a message answer leaves the card as it is.
Directory users who cannot use Teams in the tenant (a disabled account, a guest whose `externalUserState`
is still `PendingAcceptance`) cannot act as people here (403), and the connector refuses to open a chat
with them (403 `AclCheckFailed`, as Teams answered bots for guests outside its roster).
Activities sent to the bot are signed RS256 JWTs with the Bot Framework's claims, under a key published
in the OpenID metadata's JWKS with the `msteams` endorsement, as the Bot Connector service signs them.
The JWKS also lists a key endorsed only for Web Chat (as Microsoft's lists keys for every channel), so
that a test can sign a Teams activity with a real published key that is not Teams'.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox._state import State
from sandbox._teams_limits import GRAPH_INSTALLS, PER_CONVERSATION, PER_TENANT, SlidingLimits

if TYPE_CHECKING:  # PyJWT and cryptography (0.15 s of CPU to import) only once Teams is played
    from cryptography.hazmat.primitives.asymmetric import rsa

BOT_FRAMEWORK_HOST = "login.botframework.com"
CONNECTOR_HOST = "smba.trafficmanager.net"
SERVICE_URL = f"https://{CONNECTOR_HOST}/amer/"
ISSUER = "https://api.botframework.com"
OPENID_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
CHANNEL_CONVERSATION = "19:aadbot-migration@thread.tacv2"
TEAM_ID = "19:aadbot-team@thread.tacv2"
_ACTIVITY_TOKEN_LIFETIME = 3600
BOT_SECRET = "sandbox-secret"
"""The client secret of the bot's app registration, unless its registration gives another."""
TEAMS_CHANNEL = "msteams"
OTHER_CHANNEL = "webchat"

_PROCESS_KEYS: list[rsa.RSAPrivateKey] = []
_PROCESS_KEYS_LOCK = threading.Lock()


def _process_key(position: int) -> rsa.RSAPrivateKey:
    """The process's signing key at `position` (Teams' own, the other channel's), made on first use: a
    2048-bit key costs a tenth of a second of CPU, and most sandboxes never play Teams. A reset sandbox
    publishes the same keys under new key ids, as the Bot Framework keeps a key across many key sets; a
    token signed for an earlier world names a key id the new one does not publish."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    with _PROCESS_KEYS_LOCK:
        while len(_PROCESS_KEYS) <= position:
            _PROCESS_KEYS.append(rsa.generate_private_key(65537, 2048))
        return _PROCESS_KEYS[position]


@dataclass
class SentActivity:
    """What the bot posted through the connector, as it stands after its updates."""

    id: str
    conversation_id: str
    body: dict[str, Any]
    thread: str | None = None
    """The id of the channel post it replies under (None: a post of its own, or a personal chat's)."""


@dataclass
class Conversation:
    id: str
    kind: str
    """`personal` or `channel`"""
    user: str | None = None
    """The directory user's UPN in a personal conversation."""


@dataclass
class TeamsWorld:
    """Everything the emulated Teams remembers; its own lock (requests to the bot are made unlocked)."""

    state: State
    lock: threading.RLock = field(default_factory=threading.RLock)
    bot_endpoint: str | None = None
    app_id: str | None = None
    installed: set[str] = field(default_factory=set)
    """Directory user ids who have the app in their personal scope."""
    blocked: set[str] = field(default_factory=set)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    activities: dict[str, SentActivity] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    """Every send and update, oldest first, for `GET /_sandbox/teams/activities`."""
    posts: set[str] = field(default_factory=set)
    """The channel's posts (people's and the bot's): each starts a thread replies can go under."""
    views: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(activity id, user id): the card an invoke's answer put in place of that card for that person
    alone, until the bot updates the message."""
    operations: list[float] = field(default_factory=list)
    """When each connector operation was accepted (the rate limits count these)."""
    throttled: int = 0
    key_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    other_channel_key_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _numbered: int = 0
    """Activity ids given so far (a number, not an iterator, so that `Sandbox.save` copies it)."""
    _bearers: dict[tuple[str, str | None], tuple[float, str]] = field(default_factory=dict)
    """Per service URL and app id, when the token `bearer` sends was signed, and the token."""

    def __post_init__(self) -> None:
        clock = self.state.clock
        self.per_conversation = SlidingLimits(PER_CONVERSATION, clock)
        section = self.state.data.get("teams") or {}
        tenant_limit = int(section.get("tenantLimitPerSecond") or 0)
        self.per_tenant = SlidingLimits(((1.0, tenant_limit),) if tenant_limit else PER_TENANT, clock)
        self.installs = SlidingLimits(GRAPH_INSTALLS, clock)
        self.installed, self.blocked = self._scenario_people("installed"), self._scenario_people("blocked")
        self.conversations[CHANNEL_CONVERSATION] = Conversation(CHANNEL_CONVERSATION, "channel")

    def _scenario_people(self, which: str) -> set[str]:
        """The directory ids of the people the scenario's `teams` section lists under `which`."""
        section = self.state.data.get("teams") or {}
        return {self._user_id(upn) for upn in section.get(which, []) if self._user_id(upn)}

    def untouched(self) -> bool:
        """Nothing happened in Teams yet but the bot's registration: no message, card, chat, view, install
        or person leaving since the scenario was given."""
        with self.lock:
            return (
                not self.log
                and not self.posts
                and not self.views
                and not self.operations
                and not self.throttled
                and self.conversations.keys() == {CHANNEL_CONVERSATION}
                and self.installed == self._scenario_people("installed")
                and self.blocked == self._scenario_people("blocked")
            )

    @property
    def key(self) -> rsa.RSAPrivateKey:
        """The key Teams signs its requests to the bot with."""
        return _process_key(0)

    @property
    def other_channel_key(self) -> rsa.RSAPrivateKey:
        return _process_key(1)

    @property
    def catalog_id(self) -> str:
        """The id the organization's app catalog gave the uploaded app (not its manifest id)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"catalog/{self.app_id}"))

    def _user_id(self, key: str) -> str:
        user = self.state.find_directory_user(key)
        return str(user["id"]) if user else ""

    # ------------------------------------------------------------ people

    def user(self, key: str) -> dict[str, Any] | None:
        """A directory user by UPN, object id, or their Teams id (`29:...`)."""
        if key.startswith("29:"):
            key = next((u["id"] for u in self.state.directory_users if teams_id(str(u["id"])) == key), key)
        with self.state.lock:
            return self.state.find_directory_user(key)

    def personal_conversation(self, user: dict[str, Any]) -> Conversation:
        """The one 1:1 chat between the bot and a user: Teams gives the same id every time it is asked."""
        digest = hashlib.sha256(f"{self.app_id}|{user['id']}".encode()).hexdigest()[:32]
        conversation_id = f"a:1{digest}"
        with self.lock:
            conversation = self.conversations.get(conversation_id)
            if conversation is None:
                conversation = Conversation(conversation_id, "personal", str(user["userPrincipalName"]))
                self.conversations[conversation_id] = conversation
            return conversation

    def account(self, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": teams_id(str(user["id"])),
            "name": user.get("displayName") or user["userPrincipalName"],
            "aadObjectId": user["id"],
        }

    # ------------------------------------------------------------ the connector's record

    def record(self, op: str, activity: SentActivity) -> None:
        conversation = self.conversations[activity.conversation_id]
        self.log.append(
            {
                "id": activity.id,
                "op": op,
                "conversation": {
                    "id": conversation.id,
                    "conversationType": conversation.kind,
                    "user": conversation.user,
                },
                "thread": activity.thread,
                "text": activity.body.get("text"),
                "summary": activity.body.get("summary"),
                "attachments": activity.body.get("attachments") or [],
            }
        )

    def next_activity_id(self) -> str:
        with self.lock:
            self._numbered += 1
            return f"1{int(time.time() * 1000)}{self._numbered:06d}"

    # ------------------------------------------------------------ signing

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": f"https://{BOT_FRAMEWORK_HOST}{KEYS_PATH}",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def keys(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        published = []
        for key_id, key, channel in (
            (self.key_id, self.key, TEAMS_CHANNEL),
            (self.other_channel_key_id, self.other_channel_key, OTHER_CHANNEL),
        ):
            public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            public.update(kid=key_id, use="sig", endorsements=[channel])
            published.append(public)
        return {"keys": published}

    def bearer(self, service_url: str) -> str:
        """The token for the next request to the bot: the Bot Framework signs one and sends it until it
        nears its expiry, not one per activity (an RSA signature, a third of a millisecond of CPU each)."""
        now = self.state.clock()
        with self.lock:
            audience = (service_url, self.app_id)  # a bot registered anew may have another app id
            kept = self._bearers.get(audience)
            if kept is not None and kept[0] <= now < kept[0] + _ACTIVITY_TOKEN_LIFETIME / 2:
                return kept[1]
            token = self.sign(service_url)
            self._bearers[audience] = (now, token)
            return token

    def sign(
        self, service_url: str, *, changes: dict[str, Any] | None = None, channel: str = "msteams"
    ) -> str:
        """A Bot Connector token for one request to the bot; `changes` alter claims (None drops one);
        `channel` chooses the published key endorsed for that channel (`msteams` or `webchat`)."""
        import jwt

        now = int(self.state.clock())
        claims: dict[str, Any] = {
            "serviceurl": service_url,
            "nbf": now - 5,
            "exp": now + _ACTIVITY_TOKEN_LIFETIME,
            "iss": ISSUER,
            "aud": self.app_id,
        }
        claims.update(changes or {})
        claims = {name: value for name, value in claims.items() if value is not None}
        if channel == OTHER_CHANNEL:
            key, key_id = self.other_channel_key, self.other_channel_key_id
        else:
            key, key_id = self.key, self.key_id
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id})


def threaded(conversation_id: str, thread: str | None) -> str:
    """The conversation id Teams gives an activity in a channel thread: the channel's, `;messageid=` the
    thread's first post (the Teams SDK's `to_threaded_conversation_id`); a post goes to the thread its
    conversation id names, or starts one without it."""
    return f"{conversation_id};messageid={thread}" if thread else conversation_id


def teams_id(user_id: str) -> str:
    """The user's id as this bot sees it in activities (Teams' pairwise `29:` id)."""
    return "29:1" + hashlib.sha256(user_id.encode()).hexdigest()[:40]


def mri(user_id: str) -> str:
    """The user's Teams MRI, which `refresh.userIds` may name."""
    return f"8:orgid:{user_id}"
