"""Reading Lummy invoices as agents write them: an id or a pasted link, and an e-mail."""

from __future__ import annotations

import re
from typing import Final

from providers.base import WHOLE_INPUT, FieldProblem, InvalidReferenceError, Recognition
from providers.lummy.model import KEY, LummyInvoice
from providers.parsing import (
    EMAIL_INVALID,
    EMPTY,
    EXTRA_TEXT,
    REQUIRED,
    is_blank,
    normalise_email,
    parse_uuid,
    quote,
)

#: The problem code of an id that is not a UUID (the bot words it).
INVOICE_ID_INVALID: Final = "invoice_id_invalid"

# A link to a Lummy page, bare or as Slack formats it (``<https://…|label>``).
_LUMMY_LINK = re.compile(
    r"<?(https?://(?:[\w-]+\.)*lummy\.(?:io|mx|com)(?:[/?#][^\s|<>]*)?)(?:\|[^<>]*)?>?",
    re.IGNORECASE,
)
_UUID_IN_TEXT = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
# In a link with several ids (an organization's and an invoice's), the invoice's follows this.
_INVOICE_SEGMENT = re.compile(r"/(?:invoices?|facturas?)/", re.IGNORECASE)
# The start of what is meant as an id, mistyped or not: Lummy's to read (and report).
_UUID_LIKE = re.compile(r"^[<{]?[0-9a-zA-Z]{8}-[0-9a-zA-Z]{4}-")


def invoice_id_in_link(text: str) -> str | None:
    """The invoice id in a pasted link to a Lummy invoice, or None when ``text`` is not one."""
    link = _LUMMY_LINK.fullmatch(text.strip())
    if link is None:
        return None
    url = link[1]
    segment = _INVOICE_SEGMENT.search(url)
    after = _UUID_IN_TEXT.search(url, segment.end()) if segment else None
    ids = _UUID_IN_TEXT.findall(url)
    if after is not None:
        return after[0].lower()
    return ids[-1].lower() if ids else None


def _links_as_ids(text: str) -> str:
    """``text`` with every pasted link to a Lummy invoice replaced by the invoice's id."""
    return _LUMMY_LINK.sub(lambda m: invoice_id_in_link(m[0]) or m[0], text)


def build_lummy_invoice(*, invoice_id: str | None, email: str | None = None) -> LummyInvoice:
    """A Lummy invoice from separate fields (a form), checking each one. A pasted link to
    the invoice counts as its id; what cannot be read is kept as typed in ``understood``."""
    errors: dict[str, FieldProblem] = {}
    understood: dict[str, str] = {}
    if invoice_id is not None:
        invoice_id = invoice_id_in_link(invoice_id) or invoice_id
    parsed_id = None if is_blank(invoice_id) else parse_uuid(invoice_id or "")
    if is_blank(invoice_id):
        errors["invoice_id"] = FieldProblem(REQUIRED)
    elif parsed_id is None:
        errors["invoice_id"] = FieldProblem(INVOICE_ID_INVALID, text=quote(invoice_id or ""))
        understood["invoice_id"] = (invoice_id or "").strip()
    else:
        understood["invoice_id"] = str(parsed_id)

    normalised_email: str | None = None
    if email is not None and not is_blank(email):
        normalised_email = normalise_email(email)
        if normalised_email is None:
            errors["email"] = FieldProblem(EMAIL_INVALID, text=quote(email, 80))
            # Never drop it: an empty field would send to the address on file instead.
            understood["email"] = email.strip()
        else:
            understood["email"] = normalised_email

    if errors or parsed_id is None:
        raise InvalidReferenceError(errors, provider=KEY, understood=understood)
    return LummyInvoice(invoice_id=parsed_id, email=normalised_email)


def parse_lummy(text: str) -> LummyInvoice:
    """A Lummy invoice from ``<uuid or link to it> [alternative e-mail]``."""
    tokens = _links_as_ids(text).split()
    if not tokens:
        raise InvalidReferenceError({WHOLE_INPUT: FieldProblem(EMPTY)}, provider=KEY)
    invoice_id, *rest = tokens
    email = rest[0] if rest else None
    extra = FieldProblem(EXTRA_TEXT, text=quote(" ".join(rest[1:]))) if len(rest) > 1 else None
    try:
        invoice = build_lummy_invoice(invoice_id=invoice_id, email=email)
    except InvalidReferenceError as exc:
        if extra is not None:
            exc.problems[WHOLE_INPUT] = extra
        raise
    if extra is not None:
        raise InvalidReferenceError(
            {WHOLE_INPUT: extra},
            provider=KEY,
            understood={"invoice_id": invoice.reference, "email": invoice.email or ""},
        )
    return invoice


def recognize_invoice(text: str) -> Recognition:
    """Sure with a UUID first (or something shaped like the start of one), or a link
    to a Lummy invoice."""
    first = _links_as_ids(text).split(maxsplit=1)[0] if text.strip() else ""
    if parse_uuid(first) is not None or _UUID_LIKE.match(first) is not None:
        return Recognition.SURE
    return Recognition.NO
