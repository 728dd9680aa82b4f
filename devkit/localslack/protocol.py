"""What every part of the fake Web API shares: JSON types and Slack's ``ok: false`` answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["JsonDict", "MethodHandler", "SlackApiRefusal", "as_list", "truthy"]

JsonDict = dict[str, Any]
#: A Web API method: ``handler(params) -> response fields`` (the server adds ``"ok"``).
MethodHandler = Callable[[JsonDict], JsonDict]


class SlackApiRefusal(Exception):
    """Raised inside a handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, *, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []


def truthy(value: Any) -> bool:
    """A boolean parameter as Slack reads it (``true``, ``1``, ``yes`` in form bodies)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"1", "true", "yes"}


def as_list(value: Any) -> list[Any]:
    """A ``blocks``/``attachments`` parameter as a list; refuses anything but a list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    raise SlackApiRefusal("invalid_blocks_format")
