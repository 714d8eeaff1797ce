"""The full list behind a Teams card, as a file: a short-lived signed link served by `aadbot serve`.

Slack attaches a CSV to the message. A Teams bot cannot put a file in a channel without SharePoint, so
the card carries an `Action.OpenUrl` "Download FILENAME" to `GET /files/{token}` on this
server. The file is stored when the card is made, for an hour. The token is `ID.EXPIRES.SIGNATURE`:
a random 128-bit id, the expiry (Unix seconds) and an HMAC-SHA256 over both and what the file is bound
to: its migration (organization) and its audience, the person of a personal chat or the channel it was
posted in. The key is derived from the bot's app password, which every `serve` process has, so any of
them serves any link. Nothing else is in the URL. A forged or altered link gets 403, an expired one
410, each with a page saying what to do. Nothing checks who opens a link: it is a bearer link, good for
an hour to whoever has it (README, *Lists as files*).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import delete
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.conversation.messages import Attachment, Message
from bot.teams.store import ConversationRef
from storage import Database, TeamsFile

FILES_PATH = "/files/{token}"
LINK_LIFETIME = timedelta(hours=1)
KEEP_EXPIRED = timedelta(days=1)
"""Expired files stay a day, so that a late click is told "expired" rather than "not valid"."""
_TOKEN = re.compile(r"^([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
_KEY_LABEL = b"aadbot teams file links v1"

_FORGED = (
    "This download link is not valid",
    "Links to lists are made by the bot for one chat and can't be changed. Ask the bot for the list "
    "again (the command that showed it, for example <code>plan</code>) and use the new link.",
)
_EXPIRED = (
    "This download link has expired",
    "Links to lists last an hour, so that old copies of people's addresses don't linger. Ask the bot "
    "for the list again (the command that showed it, for example <code>plan</code>) for a fresh link.",
)


def link_key(app_password: str) -> bytes:
    """The links' signing key, derived from the bot's app password (never the password itself)."""
    return hmac.digest(app_password.encode(), _KEY_LABEL, hashlib.sha256)


class FileLinks:
    def __init__(
        self,
        database: Database,
        key: bytes,
        *,
        clock: Callable[[], datetime],
        public_url: str | None = None,
    ) -> None:
        self._database = database
        self._key = key
        self._clock = clock
        self.public_url = public_url
        """Where Teams users reach this server (`AADBOT_PUBLIC_URL`); `serve` fills in its own address."""

    def route(self) -> Route:
        return Route(FILES_PATH, self.serve, methods=["GET"])

    async def links(self, message: Message, ref: ConversationRef) -> dict[str, str]:
        """A download link for each file of `message`, for the audience of the conversation `ref`."""
        files = [block for block in message.blocks if isinstance(block, Attachment)]
        if not files or not self.public_url:
            return {}
        personal = ref.kind == "personal" and ref.user_id
        audience = ref.user_id if personal and ref.user_id else f"conversation:{ref.conversation_id}"
        return {
            attachment.filename: await asyncio.to_thread(self.issue, attachment, audience)
            for attachment in files
        }

    def issue(self, attachment: Attachment, audience: str) -> str:
        """Store the file and return its link (blocking)."""
        file_id = secrets.token_hex(16)
        now = self._clock()
        expires = now + LINK_LIFETIME
        with self._database.session() as session:
            session.execute(delete(TeamsFile).where(col(TeamsFile.expires_at) < now - KEEP_EXPIRED))
            session.add(
                TeamsFile(
                    id=file_id,
                    organization=attachment.organization,
                    requester=audience,
                    filename=attachment.filename,
                    content=attachment.content,
                    expires_at=expires,
                )
            )
            session.commit()
        seconds = int(expires.timestamp())
        signature = self._sign(file_id, seconds, attachment.organization, audience)
        return f"{str(self.public_url).rstrip('/')}/files/{file_id}.{seconds}.{signature}"

    async def serve(self, request: Request) -> Response:
        """`GET /files/{token}`: the file, or a page saying why not."""
        found = _TOKEN.match(request.path_params.get("token", ""))
        if found is None:
            return _page(403, *_FORGED)
        file_id, seconds, signature = found.group(1), int(found.group(2)), found.group(3)
        row = await asyncio.to_thread(self._row, file_id)
        if row is None or not hmac.compare_digest(
            signature, self._sign(file_id, seconds, row.organization, row.requester)
        ):
            return _page(403, *_FORGED)
        if int(row.expires_at.timestamp()) != seconds:
            return _page(403, *_FORGED)
        if self._clock() >= row.expires_at:
            return _page(410, *_EXPIRED)
        disposition = f'attachment; filename="{_safe_filename(row.filename)}"'
        return Response(
            row.content.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": disposition,
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    def _row(self, file_id: str) -> TeamsFile | None:
        with self._database.session() as session:
            row = session.get(TeamsFile, file_id)
            if row is not None:
                session.expunge(row)
            return row

    def _sign(self, file_id: str, seconds: int, organization: str, audience: str) -> str:
        signed = "\n".join((file_id, str(seconds), organization, audience)).encode()
        digest = hmac.digest(self._key, signed, hashlib.sha256)
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _safe_filename(filename: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "list.csv"


def _page(status: int, title: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1><p>{body}</p></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
