"""Offline validation of what the bot sends against Slack's published JSON schemas."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMAS = Path(__file__).parent / "schemas"


@cache
def _block_kit() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / "slack-block-kit.schema.json").read_text())
    return schema


@cache
def _validator(definition: str | None) -> Draft202012Validator:
    schema = _block_kit()
    if definition is None:
        return Draft202012Validator(schema)
    return Draft202012Validator(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    )


def block_kit_errors(payload: Any, definition: str | None = None) -> str | None:
    """The most relevant schema error, or None. ``definition`` None means a blocks array."""
    error = best_match(_validator(definition).iter_errors(payload))
    if error is None:
        return None
    return f"{'/'.join(map(str, error.absolute_path))}: {error.message}"


def assert_valid_modal(view: dict[str, Any]) -> None:
    """Fail with the schema's own words when a modal is not valid Block Kit."""
    error = block_kit_errors(view, "modal_view")
    assert error is None, f"invalid modal: {error}"
    block_ids = [b["block_id"] for b in view.get("blocks", []) if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id in {block_ids}"


def assert_valid_home(view: dict[str, Any]) -> None:
    """Fail with the schema's own words when a Home tab is not valid Block Kit."""
    error = block_kit_errors(view, "home_view")
    assert error is None, f"invalid Home tab: {error}"
    block_ids = [b["block_id"] for b in view.get("blocks", []) if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id in {block_ids}"


def assert_valid_blocks(blocks: list[Any]) -> None:
    """Fail when a message's blocks are not valid Block Kit."""
    error = block_kit_errors(blocks)
    assert error is None, f"invalid blocks: {error}"


def manifest_errors(manifest: dict[str, Any]) -> list[str]:
    """Every schema error of an app manifest."""
    version = manifest.get("_metadata", {}).get("major_version", 1)
    schema = json.loads((SCHEMAS / f"manifest.schema.{version}.0.0.json").read_text())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft7Validator(schema).iter_errors(manifest)
    ]
