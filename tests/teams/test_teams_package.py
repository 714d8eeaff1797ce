"""`aadbot teams-package`: a package Teams accepts, checked against Microsoft's published manifest schema."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.teams.package import CATALOG_UPLOAD, built_version
from tests.fakes.cli import Aadbot, Finished
from tests.teams.conftest import APP_ID

if TYPE_CHECKING:
    import jsonschema

SCHEMA = Path(__file__).parent / "data" / "MicrosoftTeams.schema.v1.29.json"


def _validator() -> jsonschema.protocols.Validator:
    """Draft 4, as the schema declares, plus `const`, which it uses (draft 6) for `manifestVersion`."""
    import jsonschema  # here: collecting this file need not import it (tests/test_start_up.py)

    schema = json.loads(SCHEMA.read_text())
    draft4 = jsonschema.Draft4Validator
    with_const = jsonschema.validators.extend(
        draft4, {"const": jsonschema.Draft7Validator.VALIDATORS["const"]}
    )
    return with_const(schema, format_checker=draft4.FORMAT_CHECKER)


def _png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 6)  # 8-bit RGBA
    chunks, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            chunks += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(chunks)
    pixels = []
    stride = 1 + width * 4
    for row in range(height):
        line = raw[row * stride + 1 : (row + 1) * stride]
        pixels.extend(tuple(line[i : i + 4]) for i in range(0, len(line), 4))  # type: ignore[misc]
    return width, height, pixels  # type: ignore[return-value]


def _build(
    aadbot: Aadbot, tmp_path: Path, *extra: str, environment: dict[str, str] | None = None
) -> Finished:
    return aadbot("teams-package", "--out", str(tmp_path / "aadbot.zip"), *extra, environment=environment)


def test_the_package_follows_microsofts_schema_with_the_icons_teams_asks_for(
    tmp_path: Path, aadbot: Aadbot
) -> None:
    done = _build(aadbot, tmp_path, "--app-id", APP_ID, "--domain", "https://bot.example.com/api/messages")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "aadbot.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest: dict[str, Any] = json.loads(package.read("manifest.json"))
        colour, outline = _png(package.read("color.png")), _png(package.read("outline.png"))
    _validator().validate(manifest)
    assert manifest["manifestVersion"] == "1.29" and manifest["$schema"].endswith(
        "/v1.29/MicrosoftTeams.schema.json"
    )
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal", "team"]
    assert all(len(commands["commands"]) <= 10 for commands in bot["commandLists"])
    assert {c["title"] for lists in bot["commandLists"] for c in lists["commands"]} >= {
        "start",
        "todo",
        "ask",
    }
    assert manifest["validDomains"] == ["bot.example.com"]
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://botid-{APP_ID}"}
    assert colour[:2] == (192, 192) and all(alpha == 255 for *_, alpha in colour[2])
    assert outline[:2] == (32, 32)
    assert {pixel for pixel in outline[2]} == {(0, 0, 0, 0), (255, 255, 255, 255)}  # white on transparent


def test_a_manifest_the_schema_refuses_is_caught(tmp_path: Path, aadbot: Aadbot) -> None:
    """The check can fail: Microsoft's schema refuses what Teams would refuse."""
    import jsonschema

    assert _build(aadbot, tmp_path, "--app-id", APP_ID).returncode == 0
    with zipfile.ZipFile(tmp_path / "aadbot.zip") as package:
        manifest = json.loads(package.read("manifest.json"))
    manifest["bots"][0]["scopes"] = ["everywhere"]
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(manifest)
    manifest = {**manifest, "manifestVersion": "1.28"}
    manifest["bots"][0]["scopes"] = ["personal"]
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(manifest)


def test_without_an_app_id_it_says_what_to_give(tmp_path: Path, aadbot: Aadbot) -> None:
    done = _build(aadbot, tmp_path)
    assert done.returncode == 2
    assert "TEAMS_APP_ID" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "aadbot.zip").exists()


def test_it_says_to_upload_to_the_organization_s_catalog_as_the_readme_does(
    tmp_path: Path, aadbot: Aadbot
) -> None:
    """A personal upload (Apps > Manage your apps) would leave the bot unable to install itself for people:
    Graph installs only apps in the organization's catalog."""
    done = _build(aadbot, tmp_path, "--app-id", APP_ID)
    assert done.returncode == 0, done.stderr
    assert "app catalog" in done.stdout and CATALOG_UPLOAD in done.stdout
    assert "Manage your apps" not in done.stdout
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert CATALOG_UPLOAD in readme


def test_help_says_serve_runs_teams_too(aadbot: Aadbot) -> None:
    listing = aadbot("--help").stdout
    serve = " ".join(listing[listing.index("    serve") :].split("\n    ")[0].split())
    assert "Slack" in serve and "Teams" in serve, listing


def _manifest(tmp_path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(tmp_path / "aadbot.zip") as package:
        return dict(json.loads(package.read("manifest.json")))


@pytest.mark.parametrize(
    "given",
    [
        "http://bot.example.com:8443/x",
        "https://bot.example.com/api/messages",
        "bot.example.com:8443",
        "bot.example.com/api/messages",
        "BOT.example.com",
    ],
)
def test_valid_domains_holds_the_host_of_whatever_address_is_given(
    tmp_path: Path, aadbot: Aadbot, given: str
) -> None:
    """Microsoft's schema: validDomains are host names (wildcards allowed), never a scheme, port or path."""
    done = _build(aadbot, tmp_path, "--app-id", APP_ID, "--domain", given)
    assert done.returncode == 0, done.stderr
    assert _manifest(tmp_path)["validDomains"] == ["bot.example.com"]
    assert "validDomains: bot.example.com" in done.stdout


@pytest.mark.parametrize("given", ["http://", "https:///api/messages", "bot example.com", "bot_example.com"])
def test_an_address_with_no_host_name_is_refused_saying_what_to_give(
    tmp_path: Path, aadbot: Aadbot, given: str
) -> None:
    done = _build(aadbot, tmp_path, "--app-id", APP_ID, "--domain", given)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"--domain {given!r} names no host" in done.stderr
    assert "e.g. --domain bot.example.com" in done.stderr
    assert not (tmp_path / "aadbot.zip").exists()


def test_without_a_domain_it_takes_the_public_url_s_host_or_says_none_is_listed(
    tmp_path: Path, aadbot: Aadbot
) -> None:
    done = _build(aadbot, tmp_path, "--app-id", APP_ID, environment={"AADBOT_PUBLIC_URL": ""})
    assert done.returncode == 0, done.stderr
    assert _manifest(tmp_path)["validDomains"] == []
    assert (
        "validDomains: none (no --domain and no AADBOT_PUBLIC_URL). The bot needs none: it has no tabs or"
        " dialogs, and its download links open in the browser."
    ) in " ".join(done.stdout.split())

    public = {"AADBOT_PUBLIC_URL": "https://aadbot.contoso.com:443/"}
    done = _build(aadbot, tmp_path, "--app-id", APP_ID, environment=public)
    assert done.returncode == 0, done.stderr
    assert _manifest(tmp_path)["validDomains"] == ["aadbot.contoso.com"]


def _semver(version: str) -> tuple[int, ...]:
    assert re.fullmatch(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", version), version
    return tuple(int(part) for part in version.split("."))


def test_each_build_has_a_higher_version_so_teams_takes_it_as_an_update() -> None:
    """The Teams admin center refuses an update whose version is not higher than the uploaded one."""
    moments = [
        datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 9, 59, tzinfo=UTC),
        datetime(2026, 1, 9, 23, 59, tzinfo=UTC),
        datetime(2026, 1, 10, 0, 0, tzinfo=UTC),
        datetime(2026, 9, 30, 23, 59, tzinfo=UTC),
        datetime(2026, 10, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
    ]
    versions = [_semver(built_version(moment)) for moment in moments]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert built_version(datetime(2026, 11, 28, 18, 5, tzinfo=UTC)) == "2026.1128.1805"
    assert all(part < 2**31 for version in versions for part in version)  # Teams reads 32-bit parts


def test_the_version_is_the_build_time_unless_given(tmp_path: Path, aadbot: Aadbot) -> None:
    before = _semver(built_version(datetime.now(UTC)))
    done = _build(aadbot, tmp_path, "--app-id", APP_ID)
    after = _semver(built_version(datetime.now(UTC)))
    assert done.returncode == 0, done.stderr
    version = _manifest(tmp_path)["version"]
    assert before <= _semver(version) <= after
    assert f"version {version}" in done.stdout

    assert _build(aadbot, tmp_path, "--app-id", APP_ID, "--version", "2.3.4").returncode == 0
    assert _manifest(tmp_path)["version"] == "2.3.4"
    refused = _build(aadbot, tmp_path, "--app-id", APP_ID, "--version", "2.3")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "--version '2.3' is not MAJOR.MINOR.PATCH" in refused.stderr


def test_the_publisher_and_its_links_are_the_admin_s_to_set(tmp_path: Path, aadbot: Aadbot) -> None:
    """Users read them in the app's About tab; by default they are the aadbot project's pages."""
    assert _build(aadbot, tmp_path, "--app-id", APP_ID).returncode == 0
    assert _manifest(tmp_path)["developer"] == {
        "name": "aadbot",
        "websiteUrl": "https://github.com/aadbot/aadbot",
        "privacyUrl": "https://github.com/aadbot/aadbot#privacy-and-terms-of-use",
        "termsOfUseUrl": "https://github.com/aadbot/aadbot#privacy-and-terms-of-use",
    }
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "\n### Privacy and terms of use\n" in readme  # where the default links lead

    done = _build(
        aadbot,
        tmp_path,
        *("--app-id", APP_ID, "--developer-name", "Contoso IT"),
        *("--website-url", "https://it.contoso.com/aadbot"),
        *("--privacy-url", "https://contoso.com/privacy"),
        *("--terms-url", "https://contoso.com/terms"),
    )
    assert done.returncode == 0, done.stderr
    manifest = _manifest(tmp_path)
    _validator().validate(manifest)
    assert manifest["developer"] == {
        "name": "Contoso IT",
        "websiteUrl": "https://it.contoso.com/aadbot",
        "privacyUrl": "https://contoso.com/privacy",
        "termsOfUseUrl": "https://contoso.com/terms",
    }
    refused = _build(aadbot, tmp_path, "--app-id", APP_ID, "--privacy-url", "contoso.com/privacy")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "--privacy-url 'contoso.com/privacy' is not an https:// address" in refused.stderr


def test_the_personal_commands_include_ticking_off_snoozing_and_asking_for_help(
    tmp_path: Path, aadbot: Aadbot
) -> None:
    assert _build(aadbot, tmp_path, "--app-id", APP_ID).returncode == 0
    (bot,) = _manifest(tmp_path)["bots"]
    personal = next(lists for lists in bot["commandLists"] if lists["scopes"] == ["personal"])
    titles = [command["title"] for command in personal["commands"]]
    assert {"todo", "done", "snooze", "need-help"} <= set(titles) and len(titles) <= 10
