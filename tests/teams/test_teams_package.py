"""`aadbot teams-package`: a package Teams accepts, checked against Microsoft's published manifest schema."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.teams.package import CATALOG_UPLOAD
from tests.fakes.cli import Aadbot, Finished
from tests.teams.conftest import APP_ID

SCHEMA = Path(__file__).parent / "data" / "MicrosoftTeams.schema.v1.29.json"


def _validator() -> jsonschema.protocols.Validator:
    """Draft 4, as the schema declares, plus `const`, which it uses (draft 6) for `manifestVersion`."""
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


def _build(aadbot: Aadbot, tmp_path: Path, *extra: str) -> Finished:
    return aadbot("teams-package", "--out", str(tmp_path / "aadbot.zip"), *extra)


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
