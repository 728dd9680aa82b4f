"""The Lummy `InvoiceProvider`: its form, and how it reads and prefills invoices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from providers.base import FieldKind, FormField, InvoiceProvider, Recognition
from providers.customers import SearchKind
from providers.lummy.client import LummyClient
from providers.lummy.model import KEY, RESENDS_PER_HOUR, LummyInvoice, LummySettings
from providers.lummy.parser import build_lummy_invoice, parse_lummy, recognize_invoice
from providers.lummy.search import LUMMY_SEARCHES


class Lummy(InvoiceProvider[LummyInvoice, LummySettings]):
    """Lummy, Mexico: invoices by Lummy's internal id, optionally to another address."""

    key = KEY
    label = "Lummy"
    country = "MX"
    aliases = ("lummy",)
    request_model = LummyInvoice
    settings_model = LummySettings
    form = (
        FormField("invoice_id", example="550e8400-e29b-41d4-a716-446655440000"),
        FormField("email", FieldKind.EMAIL, required=False, example="otro@cliente.com"),
    )
    reference_field = "invoice_id"
    alternative_email_field = "email"
    hourly_quota = RESENDS_PER_HOUR
    timezone = "America/Mexico_City"
    can_look_up = True
    #: Customers only: Lummy documents no list of invoices (see `providers.lummy.search`).
    searches = LUMMY_SEARCHES
    tax_id = SearchKind.RFC
    client_class = LummyClient

    def recognizes(self, text: str) -> Recognition:
        """Sure with a UUID first (or something shaped like the start of one), or a link
        to a Lummy invoice."""
        return recognize_invoice(text)

    def parse(self, text: str) -> LummyInvoice:
        """An invoice from ``<uuid> [alternative e-mail]``."""
        return parse_lummy(text)

    def build_request(self, values: Mapping[str, str]) -> LummyInvoice:
        """An invoice from the form's fields, checking each one."""
        return build_lummy_invoice(invoice_id=values.get("invoice_id"), email=values.get("email"))

    def form_values(self, request: LummyInvoice) -> dict[str, str]:
        """The id, and the alternative e-mail when there is one."""
        values = {"invoice_id": request.reference}
        if request.email:
            values["email"] = request.email
        return values


LUMMY: Final = Lummy()
