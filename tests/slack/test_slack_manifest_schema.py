"""manifest.yml, and the HTTP-mode variant the README describes, checked against Slack's own schema.

The schema is slackapi/manifest-schema's, vendored in manifest_schema/ (source and commit in its README):
nobody here wrote it, so it catches what our own reading of Slack's docs gets wrong.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "manifest_schema"
RAW = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"
HTTP_URL = "https://aadbot.example.com/slack/events"


def load(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text())


def validator() -> Draft7Validator:
    """Slack's top schema, its `$ref`s to the versioned schemas answered from the vendored copies."""
    # here: collecting this file need not import them (tests/test_start_up.py)
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (RAW + name, Resource.from_contents(load(name)))
        for name in ("manifest.schema.1.0.0.json", "manifest.schema.2.0.0.json")
    )
    top = load("manifest.schema.json")
    Draft7Validator.check_schema(top)
    return Draft7Validator(top, registry=registry)


def problems(manifest: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator().iter_errors(manifest)
    )


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def http_variant(socket_mode: dict[str, Any]) -> dict[str, Any]:
    """What the README's HTTP instructions and manifest.yml's header comment say to change."""
    variant = copy.deepcopy(socket_mode)
    variant["settings"]["socket_mode_enabled"] = False
    variant["settings"]["event_subscriptions"]["request_url"] = HTTP_URL
    variant["settings"]["interactivity"]["request_url"] = HTTP_URL
    for command in variant["features"]["slash_commands"]:
        command["url"] = HTTP_URL
    return variant


def test_the_vendored_schema_tells_slacks_own_examples_apart() -> None:
    assert problems(load("example.v1.valid.json")) == []
    assert problems(load("example.v1.invalid.json")) != []


def test_manifest_yml_is_valid_for_slack() -> None:
    assert problems(manifest()) == []


def test_the_http_mode_variant_is_valid_for_slack() -> None:
    variant = http_variant(manifest())
    assert problems(variant) == []
    assert variant["settings"]["socket_mode_enabled"] is False


def test_the_schema_refuses_request_url_under_a_slash_command() -> None:
    """What manifest.yml's comment used to say: Slack would have refused the pasted manifest."""
    wrong = http_variant(manifest())
    for command in wrong["features"]["slash_commands"]:
        command["request_url"] = command.pop("url")
    assert any("request_url" in problem for problem in problems(wrong))


def test_the_comment_in_manifest_yml_names_the_keys_the_schema_takes() -> None:
    header = "".join(
        line for line in (ROOT / "manifest.yml").read_text().splitlines(keepends=True) if line.startswith("#")
    )
    flat = " ".join(line.lstrip("# ") for line in header.splitlines())
    assert re.search(r"(?<!_)url: https://YOUR-HOST/slack/events under the slash command", flat), flat
    assert (
        "request_url: https://YOUR-HOST/slack/events under event_subscriptions and under interactivity"
        in flat
    )
    assert "socket_mode_enabled: false" in flat
