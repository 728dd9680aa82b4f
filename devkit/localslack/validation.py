"""The parts of Block Kit that Slack's Web API is strict about, refused as Slack refuses them.

Messages, modals and Home tabs are checked for the limits and required fields that make Slack
answer ``invalid_blocks`` or ``invalid_arguments``; full schema validation of what
the bot sends is the tests' job (``tests/blockkit.py``).
"""

from __future__ import annotations

from typing import Any, Final

from devkit.localslack.protocol import JsonDict, SlackApiRefusal, as_list

__all__ = [
    "MESSAGE_BLOCK_LIMIT",
    "MESSAGE_TEXT_LIMIT",
    "MODAL_BLOCK_LIMIT",
    "message_content",
    "validate_blocks",
    "validate_home_view",
    "validate_view",
]

MESSAGE_BLOCK_LIMIT: Final = 50
MODAL_BLOCK_LIMIT: Final = 100
MESSAGE_TEXT_LIMIT: Final = 40_000
#: Modal titles and button labels must be shorter than this.
_LABEL_LIMIT: Final = 25


def _plain_text_length(obj: Any) -> int:
    if isinstance(obj, dict):
        return len(str(obj.get("text", "")))
    return 0


def validate_blocks(blocks: list[Any], *, limit: int, pointer: str) -> list[str]:
    """Slack's messages about ``blocks`` (too many, no type, duplicate block ids)."""
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            problems.append(
                f"[ERROR] missing required field: type [json-pointer:{pointer}/{index}]"
            )
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                problems.append(
                    f"[ERROR] duplicate block_id {block_id!r} [json-pointer:{pointer}/{index}]"
                )
            seen.add(block_id)
    return problems


def _surface_problems(raw: Any, kind: str) -> tuple[JsonDict, list[str]]:
    """What every view surface shares: its type, metadata, callback id and blocks."""
    if not isinstance(raw, dict):
        raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] view must be an object"])
    view: JsonDict = raw
    problems: list[str] = []
    if view.get("type") != kind:
        problems.append(f"[ERROR] must be '{kind}' [json-pointer:/view/type]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append(
            "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
        )
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
    else:
        problems.extend(validate_blocks(blocks, limit=MODAL_BLOCK_LIMIT, pointer="/view/blocks"))
    return view, problems


def validate_view(view: Any) -> JsonDict:
    """Check the parts of a modal Slack is strict about; raise ``invalid_arguments``."""
    checked, problems = _surface_problems(view, "modal")
    if "title" not in checked:
        problems.append("[ERROR] missing required field: title [json-pointer:/view]")
    for key in ("title", "submit", "close"):
        if key in checked and _plain_text_length(checked[key]) >= _LABEL_LIMIT:
            problems.append(f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}]")
    blocks = checked.get("blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if has_input and "submit" not in checked:
        problems.append(
            "[ERROR] submit is required when an input block is present [json-pointer:/view]"
        )
    if problems:
        raise SlackApiRefusal("invalid_arguments", messages=problems)
    return checked


def validate_home_view(view: Any) -> JsonDict:
    """Check the parts of a Home tab Slack is strict about; raise ``invalid_arguments``."""
    checked, problems = _surface_problems(view, "home")
    if problems:
        raise SlackApiRefusal("invalid_arguments", messages=problems)
    return checked


def message_content(
    params: JsonDict, *, limit: int = MESSAGE_BLOCK_LIMIT
) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    """A message's ``text``, ``blocks`` and ``attachments`` (None when omitted), checked."""
    text = params.get("text")
    blocks = as_list(params["blocks"]) if "blocks" in params else None
    attachments = as_list(params["attachments"]) if "attachments" in params else None
    if text is not None and not isinstance(text, str):
        text = str(text)
    if blocks:
        problems = validate_blocks(blocks, limit=limit, pointer="/blocks")
        if problems:
            raise SlackApiRefusal("invalid_blocks", messages=problems)
    if text is not None and len(text) > MESSAGE_TEXT_LIMIT:
        raise SlackApiRefusal("msg_too_long")
    return text, blocks, attachments
