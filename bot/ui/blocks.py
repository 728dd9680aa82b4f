"""Block Kit primitives every view is made of: text objects, blocks, buttons, a message.

Pure functions, no I/O, no copy of their own: the views bring the words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

Block = dict[str, Any]

#: The most a text object holds here: Slack allows 3000 characters, this keeps a margin.
SECTION_LIMIT: Final = 2900


@dataclass(frozen=True)
class SlackMessage:
    """A message: the notification ``text`` plus its blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_text(text: str) -> dict[str, Any]:
    """A ``plain_text`` object (emoji codes shown as emoji)."""
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn_text(text: str) -> dict[str, Any]:
    """A ``mrkdwn`` object, clipped to Slack's limit."""
    return {"type": "mrkdwn", "text": clip(text)}


def section_block(text: str) -> Block:
    """A section block of mrkdwn."""
    return {"type": "section", "text": mrkdwn_text(text)}


def context_block(*texts: str) -> Block:
    """A context block: small print, one element per text (Slack allows ten)."""
    return {"type": "context", "elements": [mrkdwn_text(text) for text in texts[:10]]}


def option_object(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    """An option of a select, radio or checkbox group (Slack allows 75 characters)."""
    choice: dict[str, Any] = {"text": plain_text(text[:75]), "value": value}
    if description:
        choice["description"] = plain_text(description[:75])
    return choice


def button_element(action_id: str, text: str, value: str) -> dict[str, Any]:
    """A button element."""
    return {"type": "button", "action_id": action_id, "text": plain_text(text), "value": value}
