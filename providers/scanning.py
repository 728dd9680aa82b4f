"""Every invoice reference a free text holds, for whichever provider names it.

A message an agent forwards (a customer's words, a ticket notification) mentions
invoices among other words: ``…no me llegó la Factura B N° 0002-00000006, mi mail
es x@y.com``. The text is cut into words, and at each word every provider is asked
about the runs of words starting there, longest first: the first run it surely
recognizes (`InvoiceProvider.recognizes`) and parses is that reference.
Nothing here knows a provider's formats: a provider added later is found the same way.
E-mail addresses are collected apart (they are not references, and a provider that
reads ``<id> <e-mail>`` must not take them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from providers.base import InvalidReferenceError, InvoiceProvider, Recognition, ResendRequest
from providers.parsing import emails_in

__all__ = ["MAX_CHARACTERS", "MAX_REFERENCES", "MAX_WORDS", "FoundReference", "references_in"]

#: The most words one reference may take (the longest voucher type, its numbers and
#: their separators, and a word for the operation).
MAX_WORDS: Final = 12
#: The most references kept from one text.
MAX_REFERENCES: Final = 10
#: How much of a text is read: a few pages, far more than a message or a ticket
#: notification says (reading costs about a quarter of a second per 10,000 characters).
MAX_CHARACTERS: Final = 20_000

# Slack's own markup: <https://x|label>, <mailto:a@b.c|a@b.c>; then its escapes.
_SLACK_LINK = re.compile(r"<(?:mailto:)?([^<>|\s]+)(?:\|([^<>]*))?>")
# Punctuation around a word that belongs to the sentence, not to the reference.
_EDGES: Final = "\"'«»“”‘’()[]{}.,;:!?¡¿*_~`"


@dataclass(frozen=True)
class FoundReference:
    """A reference found in a text: the request it makes, and the words that named it."""

    request: ResendRequest
    text: str


def _plain(text: str) -> str:
    """The text without Slack's link markup and escapes."""
    text = _SLACK_LINK.sub(lambda m: f" {m[1]} {m[2] or ''} ", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _words(text: str, addresses: Iterable[str]) -> list[str]:
    """The words of ``text`` but the addresses, without the sentence's punctuation around
    them ("0002-00000006." and "(550e8400-…)" are references)."""
    skipped = set(addresses)
    words = (word.strip(_EDGES) for word in text.split())
    return [word for word in words if word and word not in skipped]


def _reference_at(
    provider: InvoiceProvider[Any, Any], words: Sequence[str], start: int
) -> tuple[ResendRequest, int] | None:
    """The longest reference of ``provider`` starting at ``words[start]``, and its end."""
    for end in range(min(len(words), start + MAX_WORDS), start, -1):
        candidate = " ".join(words[start:end])
        if provider.recognizes(candidate) is not Recognition.SURE:
            continue
        try:
            request: ResendRequest = provider.parse(candidate)
        except InvalidReferenceError:
            continue
        return request, end
    return None


def references_in(
    text: str, providers: Iterable[InvoiceProvider[Any, Any]]
) -> tuple[tuple[FoundReference, ...], tuple[str, ...]]:
    """The references ``text`` holds, in order and without repeats (at most
    `MAX_REFERENCES`), and the e-mail addresses it names."""
    offered = list(providers)
    text = _plain(text[:MAX_CHARACTERS])
    addresses = emails_in(text)
    words = _words(text, addresses)
    found: dict[str, FoundReference] = {}
    start = 0
    while start < len(words) and len(found) < MAX_REFERENCES:
        for provider in offered:
            match = _reference_at(provider, words, start)
            if match is not None:
                request, end = match
                named = " ".join(words[start:end])
                found.setdefault(request.invoice_key, FoundReference(request, named))
                start = end
                break
        else:
            start += 1
    return tuple(found.values()), addresses
