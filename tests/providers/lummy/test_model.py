"""The Lummy invoice model."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from providers.lummy.model import LummyInvoice
from providers.lummy.provider import LUMMY

UUID_TEXT = "550e8400-e29b-41d4-a716-446655440000"


def test_the_invoice_model_reads_its_id_and_checks_the_address() -> None:
    invoice = LummyInvoice(invoice_id=UUID(UUID_TEXT.upper()), email="a@b.com")
    assert invoice.reference == UUID_TEXT
    assert invoice.alternative_email == "a@b.com"
    assert LUMMY.label == "Lummy"
    with pytest.raises(ValidationError):
        LummyInvoice(invoice_id=UUID_TEXT, email="not an email")
