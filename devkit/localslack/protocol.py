"""What every part of the fake Web API shares: JSON types and Slack's ``ok: false`` answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from devkit.localslack.workspace import Workspace

__all__ = [
    "JsonDict",
    "MethodGroup",
    "MethodHandler",
    "SlackApiRefusal",
    "as_list",
    "serves",
    "truthy",
]

JsonDict = dict[str, Any]
#: A Web API method: ``handler(params) -> response fields`` (the server adds ``"ok"``).
MethodHandler = Callable[[JsonDict], JsonDict]
#: A handler as defined in its group's class (``self`` first).
Handler = TypeVar("Handler", bound=Callable[..., JsonDict])

#: Where `serves` writes the Web API method's name on a handler.
_SERVED_METHOD: Final = "_slack_method"


def serves(method: str) -> Callable[[Handler], Handler]:
    """Mark a `MethodGroup` method as the handler of the Web API method ``method``."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, _SERVED_METHOD, method)
        return handler

    return mark


class MethodGroup:
    """Web API methods over the shared `Workspace`, each marked with `serves`."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def handlers(self) -> dict[str, MethodHandler]:
        """The methods this group serves, by their Web API names."""
        found: dict[str, MethodHandler] = {}
        for cls in reversed(type(self).__mro__):
            for name, member in vars(cls).items():
                method = getattr(member, _SERVED_METHOD, None)
                if isinstance(method, str):
                    found[method] = getattr(self, name)
        return found


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
