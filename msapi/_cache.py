"""msal's token cache persisted to one owner-only file, shared by every process that signs in."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import msal

from workflows.directory import MicrosoftError


class PersistedTokenCache:
    """A `msal.SerializableTokenCache` read from `path` when it changes and written back 0600.

    Re-reading a changed file lets a running bot pick up a sign-in that `aadbot signin` saved
    meanwhile. Writes replace the file atomically, so a reader never sees half a cache.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.cache = msal.SerializableTokenCache()
        self._loaded_stamp: tuple[int, int] | None = None
        self.refresh()

    def refresh(self) -> None:
        """Load the file again if another process rewrote it since the last load or save."""
        stamp = self._stamp()
        if stamp is None or stamp == self._loaded_stamp:
            return
        assert self.path is not None  # a stamp exists only for a file
        try:
            self.cache.deserialize(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a token cache"
            raise MicrosoftError(
                f"the token cache {self.path} is unreadable ({reason}): delete it and sign in again"
            ) from None
        self._loaded_stamp = stamp

    def save(self) -> None:
        if self.path is None or not self.cache.has_state_changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file owner-only from the first byte: the cache holds tokens.
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(self.cache.serialize())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._loaded_stamp = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_size
