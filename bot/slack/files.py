"""Sharing an outbox message's files once, across a retry and a process killed mid-send.

`files_upload_v2` uploads and shares in one call, so a share whose answer was lost (a 429 or a timeout
on a later step, a kill before the send was recorded) left nothing to tell it from one never made: the
retry shared the file again. Here the three steps of Slack's upload are taken apart: each file is
uploaded (`files.getUploadURLExternal`, then its bytes), the ids are kept (`SlackState.add_uploaded`),
and only then is everything shared in one message (`files.completeUploadExternal`), all or nothing; a
share Slack answered ok is recorded (`SlackState.mark_shared`), and a retry shares nothing after it.
Slack finishes a share after answering it (slackapi/bolt-js#2115, python-slack-sdk#1329): for seconds
the history may not show it yet, so it is looked for there only when its answer never came: a retry
that found the message's post again looks in the history it read for a message carrying one of the kept
ids and shares nothing if there is one; otherwise it uploads afresh, as an upload never completed cannot
be known to complete.

`bot.slack.delivery` still shares with `files_upload_v2`: it answers whoever is waiting, once, with no
outbox row, idempotency key or retry of the whole reply, so there is no earlier attempt to find, and it
shares in a thread (`thread_ts`), which the outbox never does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.messages import Attachment
from bot.slack.state import MessageCopy, SlackState


class UploadRefused(Exception):
    """Slack's upload URL answered, with another HTTP status than 200: the file is not uploaded."""

    def __init__(self, status: int) -> None:
        super().__init__(f"Slack's upload URL answered HTTP {status}")
        # a 4xx refuses this file as it is (too large, say): a fresh URL refuses it again; a timeout, a
        # limit or a 5xx may pass on the next try
        self.permanent = 400 <= status < 500 and status not in (408, 429)


class FileShares:
    def __init__(self, client: AsyncWebClient, state: SlackState | None, log: logging.Logger) -> None:
        self._client = client
        self._state = state
        """None (tests and the console only): nothing is kept, so a retry shares the files again."""
        self._log = log
        """The sender's: operators read what a retry did not do again beside its "already posted"."""

    async def posted(self, key: str, post: MessageCopy) -> None:
        """Records `post` as the message `key`'s own, its files not shared yet: a retry that finds it as a
        known copy, unable to read the history, then knows it is no earlier message's (`own`)."""
        if self._state is not None:
            await self._state.add_uploaded(key, post.channel, ())

    async def own(self, key: str, post: MessageCopy) -> bool:
        """Whether the message `key` posted `post` (`posted`), as far as the kept state says."""
        return self._state is not None and await self._state.uploaded(key, post.channel) is not None

    async def share(
        self,
        key: str,
        post: MessageCopy,
        attachments: Sequence[Attachment],
        history: Sequence[Mapping[str, Any]] | None,
        *,
        again: bool,
    ) -> None:
        """Shares `attachments` beside the message `key` posted as `post`. `again`: the post is an earlier
        attempt's, which may have shared them; `history`: the conversation's newest messages, if read."""
        if again and self._state is not None:
            kept = await self._state.uploaded(key, post.channel)
            if kept is not None and kept.shared:
                self._already_shared(post)
                return
            if kept is not None and kept.file_ids:
                if history is None:
                    self._log.warning(
                        "the files of the post in %s may have been shared (no answer came) and its history"
                        " cannot be read to check: not shared again",
                        post.channel,
                    )
                    return
                if _shared(history, post.ts, kept.file_ids):
                    self._already_shared(post)
                    await self._state.mark_shared(key, post.channel)
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
        if self._state is not None:
            await self._state.mark_shared(key, post.channel)

    def _already_shared(self, post: MessageCopy) -> None:
        self._log.info("the files of the post in %s were shared already; not shared again", post.channel)

    async def _upload(self, attachment: Attachment) -> str:
        """The id of the file, uploaded but not shared yet."""
        data = attachment.content.encode()
        filename = attachment.filename
        response = await self._client.files_getUploadURLExternal(filename=filename, length=len(data))
        # slack_sdk's own second step of files_upload_v2: the client's session, proxy and TLS settings, and
        # its logger, held above DEBUG, where slack_sdk logs the upload URL (a link to write the file)
        uploaded = await self._client._upload_file(
            url=str(response["upload_url"]),
            data=data,
            logger=self._client._logger,
            timeout=self._client.timeout,
            proxy=self._client.proxy,
            ssl=self._client.ssl,
        )
        if uploaded.status != 200:
            raise UploadRefused(uploaded.status)
        return str(response["file_id"])


def _shared(history: Sequence[Mapping[str, Any]], since: str, file_ids: frozenset[str]) -> bool:
    """Whether a message after the post `since` carries one of `file_ids`."""
    return any(
        str(file.get("id")) in file_ids
        for message in history
        if float(message.get("ts") or 0) > float(since)
        for file in message.get("files") or []
    )
