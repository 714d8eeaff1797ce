"""`aadbot teams-package`: the Teams app package, a zip of `manifest.json` and its two icons.

The manifest follows Microsoft's published schema (v1.29): a bot for the personal and team scopes,
its words as `commandLists` (hints in the compose box, at most 10 per list), `validDomains` for the
bot's own host, and `webApplicationInfo` naming the app registration. The icons are drawn here: a
192×192 colour icon and a 32×32 white outline on a transparent background, as Teams requires.

Each build gets a higher `version` (its UTC build time, unless `--version` says otherwise): the Teams
admin center takes a package as an update of the uploaded app only when its version is higher.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.settings import SettingsError
from bot.teams.settings import GUID

MANIFEST_VERSION = "1.29"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
CATALOG_UPLOAD = "Teams admin center > Teams apps > Manage apps > Actions > Upload new app"
"""Not a personal upload (Apps > Manage your apps): the bot installs itself for each person through
Graph, which finds only apps in the organization's catalog (README, Teams setup)."""
ACCENT = (0x4F, 0x52, 0xB2)
"""Teams' own purple, so the icon sits well in the app bar."""
COMMANDS: dict[str, list[tuple[str, str]]] = {
    "team": [
        ("start", "start ORG TENANT: begin moving an organization to the directory"),
        ("status", "where the migration stands and what comes next"),
        ("plan", "who keeps access, who is mapped, who loses access"),
        ("invite", "invite the missing users as guests"),
        ("request-approval", "ask another admin to approve connecting"),
        ("notify", "send every affected user their own to-do list"),
        ("progress", "who has done what (sent to you privately)"),
        ("ask", "ask QUESTION: an answer from the migration FAQ"),
        ("help", "every word I understand"),
    ],
    "personal": [
        ("todo", "your own to-do list"),
        ("done", "done N: tick item N of your list off"),
        ("snooze", "snooze 1d|1w: remind me of my list in a day or a week"),
        ("need-help", "need-help N: stuck on item N? I answer and tell the admins"),
        ("status", "where the migration stands"),
        ("ask", "ask QUESTION: an answer from the migration FAQ"),
        ("help", "every word I understand"),
    ],
}


PROJECT_URL = "https://github.com/aadbot/aadbot"
PRIVACY_URL = f"{PROJECT_URL}#privacy-and-terms-of-use"
"""README's *Privacy and terms of use*: what the bot keeps and whose terms apply, until the admin gives
their organization's own pages."""
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class Publisher:
    """Who publishes the app, as users read it in the app's About tab."""

    name: str = "aadbot"
    website_url: str = PROJECT_URL
    privacy_url: str = PRIVACY_URL
    terms_url: str = PRIVACY_URL


def built_version(now: datetime) -> str:
    """`YEAR.MONTHDAY.HOURMINUTE` of the UTC build time: each later build is higher, every part a plain
    number (no leading zero, as semver asks) well inside the 32 bits Teams reads a part into."""
    moment = now.astimezone(UTC)
    return f"{moment.year}.{moment.month * 100 + moment.day}.{moment.hour * 100 + moment.minute}"


def manifest(
    app_id: str, *, version: str, domain: str | None = None, publisher: Publisher = Publisher()
) -> dict[str, Any]:
    """The manifest for a bot registered as `app_id`, served at `domain` (its host name)."""
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": publisher.name,
            "websiteUrl": publisher.website_url,
            "privacyUrl": publisher.privacy_url,
            "termsOfUseUrl": publisher.terms_url,
        },
        "name": {"short": "aadbot", "full": "aadbot: Azure DevOps to Microsoft Entra ID"},
        "description": {
            "short": "Moves an Azure DevOps organization to Microsoft Entra ID, safely.",
            "full": (
                "Checks the prerequisites, compares the organization's users with the directory, invites the"
                " missing ones, asks another admin for approval before connecting, guides the portal step,"
                " and sends every affected person their own to-do list. Answers questions about the move."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": [scope], "commands": [{"title": t, "description": d} for t, d in commands]}
                    for scope, commands in COMMANDS.items()
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [domain] if domain else [],
        "webApplicationInfo": {"id": app_id, "resource": f"api://botid-{app_id}"},
    }


def build_package(
    out: Path, app_id: str, *, version: str, domain: str | None = None, publisher: Publisher = Publisher()
) -> dict[str, Any]:
    """Write the package to `out`; the manifest written."""
    content = manifest(app_id, version=version, domain=domain, publisher=publisher)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(content, indent=2))
        colour, outline = _icons()
        package.writestr("color.png", colour)
        package.writestr("outline.png", outline)
    return content


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "teams-package",
        help="build the Teams app package (manifest.json and icons) for the organization's app catalog",
        description="The Teams app package for the bot registered as TEAMS_APP_ID (or --app-id).",
    )
    parser.add_argument("--out", required=True, metavar="FILE.zip", help="where to write the package")
    parser.add_argument("--app-id", help="the bot's Entra app (client) id; default TEAMS_APP_ID")
    parser.add_argument(
        "--domain",
        help="the bot's host name (validDomains), or any address on it, e.g. bot.example.com; "
        "default the host of AADBOT_PUBLIC_URL",
    )
    parser.add_argument(
        "--version",
        help="the app's version, MAJOR.MINOR.PATCH, higher than the uploaded one's; "
        "default the UTC build time, YEAR.MONTHDAY.HOURMINUTE",
    )
    defaults = Publisher()
    parser.add_argument("--developer-name", default=defaults.name, help="the publisher users see")
    parser.add_argument("--website-url", default=defaults.website_url, help="the publisher's page")
    parser.add_argument("--privacy-url", default=defaults.privacy_url, help="the privacy statement")
    parser.add_argument("--terms-url", default=defaults.terms_url, help="the terms of use")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    app_id = (args.app_id or os.environ.get("TEAMS_APP_ID", "")).strip()
    if not GUID.match(app_id):
        raise SettingsError(
            "teams-package needs the bot's app id, a GUID: pass --app-id or set TEAMS_APP_ID to the "
            "Application (client) id of the bot's app registration."
        )
    domain = _domain(args.domain, os.environ.get("AADBOT_PUBLIC_URL", ""))
    version = (args.version or built_version(datetime.now(UTC))).strip()
    if not _SEMVER.match(version):
        raise SettingsError(
            f"--version {version!r} is not MAJOR.MINOR.PATCH (three whole numbers, e.g. 1.4.0), as Teams "
            "asks; give one higher than the version of the app already uploaded."
        )
    publisher = Publisher(
        args.developer_name.strip()[:32] or Publisher.name,
        _https("--website-url", args.website_url),
        _https("--privacy-url", args.privacy_url),
        _https("--terms-url", args.terms_url),
    )
    out = Path(args.out)
    if not out.parent.is_dir():
        raise SettingsError(f"--out {out}: the folder {out.parent} does not exist.")
    build_package(out, app_id, version=version, domain=domain, publisher=publisher)
    domains = (
        f"validDomains: {domain}"
        if domain
        else "validDomains: none (no --domain and no AADBOT_PUBLIC_URL). The bot needs none: it has no"
        " tabs or dialogs, and its download links open in the browser."
    )
    print(
        f"wrote {out}, version {version}: upload it to your organization's app catalog ({CATALOG_UPLOAD}),"
        " then add it to the team of your migration channel. To replace an uploaded package, build again"
        " (a later build has a higher version) and choose the app there, then Upload file.\n"
        f"{domains}\n"
        f"publisher: {publisher.name}, {publisher.website_url} (privacy: {publisher.privacy_url}, terms:"
        f" {publisher.terms_url}); users see these in the app's About tab"
        + (
            ""
            if publisher != Publisher()
            else ", so give your organization's own with --developer-name,"
            " --website-url, --privacy-url and --terms-url"
        )
    )
    return 0


def _domain(given: str | None, public_url: str) -> str | None:
    """The host name in `given` (a host, or any address on it), else in AADBOT_PUBLIC_URL: validDomains
    lists host names, with no scheme, port or path."""
    text = (given or public_url).strip()
    if not text:
        return None
    host = (urlsplit(text if "://" in text else f"//{text}").hostname or "").rstrip(".")
    if not _HOST.match(host):
        what = f"--domain {given!r}" if given else f"AADBOT_PUBLIC_URL={public_url!r}"
        raise SettingsError(
            f"{what} names no host the bot could be served at: give its host name, or any address on it, "
            "e.g. --domain bot.example.com or --domain https://bot.example.com/api/messages."
        )
    return host


def _https(option: str, url: str) -> str:
    url = url.strip()
    if not url.lower().startswith("https://") or not urlsplit(url).hostname:
        raise SettingsError(
            f"{option} {url!r} is not an https:// address: Teams shows it in the app's About tab, "
            "e.g. https://contoso.com/privacy."
        )
    return url


# ------------------------------------------------------------ icons


@functools.cache
def _icons() -> tuple[bytes, bytes]:
    """The colour and outline icons: the same in every package, so drawn once (pixel by pixel, it is slow)."""
    return png(192, _colour_pixel), png(32, _outline_pixel)


def png(size: int, pixel: Callable[[float, float], tuple[int, int, int, int]]) -> bytes:
    """A square RGBA PNG whose pixels `pixel(x, y)` gives, with x and y from 0 to 1."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            rows.extend(pixel((x + 0.5) / size, (y + 0.5) / size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _in_key(x: float, y: float) -> bool:
    """A key: a ring with a shaft and two teeth (the identity being moved)."""
    ring = (x - 0.34) ** 2 + (y - 0.5) ** 2
    if 0.012 <= ring <= 0.04:
        return True
    shaft = 0.5 <= x <= 0.84 and 0.46 <= y <= 0.54
    teeth = (0.66 <= x <= 0.71 or 0.76 <= x <= 0.81) and 0.54 <= y <= 0.66
    return shaft or teeth


def _colour_pixel(x: float, y: float) -> tuple[int, int, int, int]:
    return (255, 255, 255, 255) if _in_key(x, y) else (*ACCENT, 255)


def _outline_pixel(x: float, y: float) -> tuple[int, int, int, int]:
    return (255, 255, 255, 255) if _in_key(x, y) else (0, 0, 0, 0)
