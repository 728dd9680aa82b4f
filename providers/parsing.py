"""Text helpers every provider's reference parser shares.

Agents type references with accents, odd spacing, ``N°`` prefixes, angle brackets
or ``mailto:`` around addresses. These helpers fold all of that away and check
the common field shapes, answering with a `FieldProblem` code, never with words.
"""

from __future__ import annotations

import re
import unicodedata
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
