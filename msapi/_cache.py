"""msal's token cache persisted to one owner-only file, shared by every process that signs in."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from workflows.directory import MicrosoftError

if TYPE_CHECKING:
    import msal


class PersistedTokenCache:
    """A `msal.SerializableTokenCache` read from `path` when it changes and written back 0600.

    Re-reading a changed file lets a running bot pick up a sign-in that `aadbot signin` saved
    meanwhile. Writes replace the file atomically, so a reader never sees half a cache.

    msal (with requests, 0.15 s of CPU to import) is imported by the first token or the first file to
    read: a process that never signs in (`serve` until a Microsoft call, the emulator's runs) skips it,
    and an unreadable file is still reported when the cache is made.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._cache: msal.SerializableTokenCache | None = None
        self._loaded_stamp: tuple[int, int] | None = None
        self.refresh()

    @property
    def cache(self) -> msal.SerializableTokenCache:
        if self._cache is None:
            import msal

            self._cache = msal.SerializableTokenCache()
        return self._cache

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
        if self.path is None or self._cache is None or not self._cache.has_state_changed:
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
