"""Text helpers every provider shares: reading what agents type, and provider answers.

Agents type references with accents, odd spacing, ``N°`` prefixes, angle brackets
or ``mailto:`` around addresses. These helpers fold all of that away and check
the common field shapes, answering with a `FieldProblem` code, never with words.
Providers answer with loosely typed JSON: the readers at the end take a value of
any type and give a typed one, or None.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from providers.base import FieldProblem

#: Problem codes shared by every provider (each provider may add its own).
REQUIRED: Final = "required"
EMPTY: Final = "empty"
EXTRA_TEXT: Final = "extra_text"
NOT_A_REFERENCE: Final = "not_a_reference"
EMAIL_INVALID: Final = "email_invalid"

#: How much of the agent's text a problem quotes back.
QUOTE_LIMIT: Final = 60

# What an e-mail address looks like inside a provider's free text (``… reenviado a x@y.com.``).
_EMAIL_IN_TEXT = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")

# "N°", "Nº", "Nro.", "Num." and "#" before the numbers carry no meaning.
_NUMBER_SIGN = re.compile(r"(?i)(?:\bN\s*[°º]|#|\bNRO\b\.?|\bNUM\b\.?|\bNUMERO\b\.?)")


def strip_accents(text: str) -> str:
    """The text without accents (and with compatibility forms such as full-width digits
    folded), as agents and providers write the same words both ways."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Upper-case, strip accents and number signs, collapse spaces."""
    return " ".join(strip_accents(_NUMBER_SIGN.sub(" ", text)).upper().split())


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one letter added, dropped or changed."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    for index, (mine, theirs) in enumerate(zip(a, b, strict=False)):
        if mine != theirs:
            tail = a[index + 1 :] if len(a) == len(b) else a[index:]
            return tail == b[index + 1 :]
    return True


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The agent's text, trimmed, as a problem quotes it."""
    return text.strip()[:limit]


def check_number(raw: str | int | None, *, maximum: int, invalid: str) -> int | FieldProblem:
    """The number in 1..``maximum``, or the problem with it (``invalid`` is its code)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return FieldProblem(REQUIRED)
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit():
        return FieldProblem(invalid, limit=maximum)
    # Bound the length before int(): Python refuses to convert over 4300 digits.
    if len(text.lstrip("0")) > len(str(maximum)):
        return FieldProblem(invalid, limit=maximum)
    value = int(text)
    return value if 1 <= value <= maximum else FieldProblem(invalid, limit=maximum)


def parse_uuid(text: str) -> UUID | None:
    """A UUID, tolerating the angle brackets Slack puts around pasted values."""
    try:
        return UUID(text.strip().strip("<>"))
    except ValueError:
        return None


def normalise_email(text: str) -> str | None:
    """The address in its normalised form, or None when it is not a valid e-mail."""
    candidate = text.strip().strip("<>").removeprefix("mailto:")
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def is_blank(value: str | None) -> bool:
    """Nothing typed (None, empty or only spaces)."""
    return value is None or not value.strip()


def email_list(value: object) -> tuple[str, ...]:
    """Addresses from a provider's field: one string with separators, or a list of them."""
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[,;\s]+", value) if "@" in part)
    if isinstance(value, list):
        return tuple(
            address for item in value for address in email_list(item) if isinstance(item, str)
        )
    return ()


def emails_in(text: str | None) -> tuple[str, ...]:
    """The e-mail addresses a provider's free text names, in order, without repeats."""
    return tuple(dict.fromkeys(_EMAIL_IN_TEXT.findall(text or "")))


def text_value(value: object) -> str | None:
    """A non-empty string (or integer) from a provider's answer, trimmed."""
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def amount(value: object) -> Decimal | None:
    """An amount written as a number or as text (``1210.00``; ``1210,00`` also read)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def iso_date(value: object) -> date | None:
    """The date of an ISO 8601 date or timestamp (``2025-01-20``, ``2025-01-20T10:30:00Z``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None


def web_link(value: object) -> str | None:
    """An http(s) link from a provider's answer, or None."""
    text = text_value(value)
    return text if text and text.startswith(("https://", "http://")) and " " not in text else None
