"""Sharing an outbox message's files once, across a retry and a process killed mid-send.

`files_upload_v2` uploads and shares in one call, so a share whose answer was lost (a 429 or a timeout
on a later step, a kill before the send was recorded) left nothing to tell it from one never made: the
retry shared the file again. Here the three steps of Slack's upload are taken apart: each file is
uploaded (`files.getUploadURLExternal`, then its bytes), the ids are kept (`SlackState.add_uploaded`),
and only then is everything shared in one message (`files.completeUploadExternal`), all or nothing.
A retry that found the message's post again looks in the history it read for a message carrying one of
the kept ids (Slack shows a share as a message with `files`, each with its `id`) and shares nothing if
there is one; otherwise it uploads afresh, as an upload never completed cannot be known to complete.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.messages import Attachment
from bot.slack.state import MessageCopy, SlackState

logger = logging.getLogger(__name__)


class FileShares:
    def __init__(self, client: AsyncWebClient, state: SlackState | None) -> None:
        self._client = client
        self._state = state
        """None (tests and the console only): nothing is kept, so a retry shares the files again."""

    async def share(
        self,
        key: str,
        post: MessageCopy,
        attachments: Sequence[Attachment],
        history: Sequence[Mapping[str, Any]] | None,
    ) -> None:
        """Shares `attachments` beside the message `key` posted as `post`. `history`: the conversation's
        newest messages when the post was found there again (an earlier attempt may have shared them)."""
        if history is not None and self._state is not None:
            uploaded = await self._state.uploaded(key, post.channel)
            if uploaded and _shared(history, post.ts, uploaded):
                logger.info("outbox message %s: its files were already shared; not sharing them again", key)
                return
        file_ids = [await self._upload(attachment) for attachment in attachments]
        if self._state is not None:
            await self._state.add_uploaded(key, post.channel, file_ids)
        await self._client.files_completeUploadExternal(
            files=[
                {"id": file_id, "title": attachment.title}
                for file_id, attachment in zip(file_ids, attachments, strict=True)
            ],
            channel_id=post.channel,
        )

    async def _upload(self, attachment: Attachment) -> str:
        """The id of the file, uploaded but not shared yet."""
        data = attachment.content.encode()
        filename = attachment.filename
        response = await self._client.files_getUploadURLExternal(filename=filename, length=len(data))
        # slack_sdk's own second step of files_upload_v2: the client's session, proxy and TLS settings
        uploaded = await self._client._upload_file(
            url=str(response["upload_url"]),
            data=data,
            logger=logger,
            timeout=self._client.timeout,
            proxy=self._client.proxy,
            ssl=self._client.ssl,
        )
        if uploaded.status != 200:
            raise SlackRequestError(f"Slack's upload URL answered {uploaded.status}")
        return str(response["file_id"])


def _shared(history: Sequence[Mapping[str, Any]], since: str, file_ids: frozenset[str]) -> bool:
    """Whether a message after the post `since` carries one of `file_ids`."""
    return any(
        str(file.get("id")) in file_ids
        for message in history
        if float(message.get("ts") or 0) > float(since)
        for file in message.get("files") or []
    )
