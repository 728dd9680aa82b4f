"""What a Slack message says, wherever it says it.

A person's message has its words in ``text`` (and the same words again in rich
text ``blocks``); a bot's notification (Zendesk, Intercom, an e-mail forwarder)
often puts them in legacy ``attachments`` (pretext, title, text, fields, footer)
or in Block Kit ``blocks`` (sections, fields, context, rich text, links). All of
it is read, in that order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

__all__ = ["message_text", "thread_of"]

#: Attachment keys that hold words a person reads (or a link to follow).
_ATTACHMENT_KEYS: Final = (
    "pretext",
    "author_name",
    "title",
    "title_link",
    "text",
    "footer",
    "fallback",
)


def _strings_in(node: Any) -> Iterator[str]:
    """Every ``text`` and ``url`` string in a block tree, in document order."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in {"text", "url"} and isinstance(value, str):
                yield value
            else:
                yield from _strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings_in(item)


def _attachment_strings(attachment: Mapping[str, Any]) -> Iterator[str]:
    for key in _ATTACHMENT_KEYS:
        value = attachment.get(key)
        if isinstance(value, str):
            yield value
    for field in attachment.get("fields") or []:
        if isinstance(field, Mapping):
            yield from (str(field.get(k) or "") for k in ("title", "value"))
    yield from _strings_in(attachment.get("blocks") or [])


def message_text(message: Mapping[str, Any]) -> str:
    """Everything ``message`` says, one piece per line."""
    pieces: list[str] = []
    if isinstance(message.get("text"), str):
        pieces.append(message["text"])
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, Mapping):
            pieces.extend(_attachment_strings(attachment))
    pieces.extend(_strings_in(message.get("blocks") or []))
    return "\n".join(piece.strip() for piece in pieces if piece.strip())


def thread_of(message: Mapping[str, Any]) -> str | None:
    """The thread a reply to ``message`` belongs in: its own, or the one it starts."""
    thread = message.get("thread_ts") or message.get("ts")
    return str(thread) if thread else None
