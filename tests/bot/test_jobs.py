"""A re-send job: its button value round trip, its idempotency key, its next attempt."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from bot.jobs import ResendJob
from providers.lummy.model import LummyInvoice
from providers.tusfacturas.model import NUMERO_MAX, PUNTO_VENTA_MAX, Operacion, TusFacturasVoucher
from tests.conftest import REGISTRY

UUID_TEXT = "550e8400-e29b-41d4-a716-446655440000"
VOUCHER = TusFacturasVoucher(tipo="FACTURA B", punto_venta=2, numero=6)
INVOICE = LummyInvoice(invoice_id=UUID(UUID_TEXT), email="otro@cliente.com")


@pytest.mark.parametrize(
    "request_",
    [
        VOUCHER,
        TusFacturasVoucher(
            tipo="NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A",
            operacion=Operacion.COMPRA,
            punto_venta=PUNTO_VENTA_MAX,
            numero=NUMERO_MAX,
        ),
        INVOICE,
        LummyInvoice(invoice_id=UUID(UUID_TEXT)),
        LummyInvoice(invoice_id=UUID(UUID_TEXT), email=("a" * 64) + "@" + ("b" * 60) + ".com"),
    ],
)
def test_job_button_value_round_trip(request_: TusFacturasVoucher | LummyInvoice) -> None:
    job = ResendJob(request=request_, requested_by="U0AGENT01", attempt=3)
    value = job.to_button_value()
    assert len(value) <= 2000  # Slack's limit for a button value
    back = ResendJob.from_button_value(value, REGISTRY)
    assert back == job
    assert type(back.request) is type(request_)
    assert back.request == request_
    assert back.idempotency_key == job.idempotency_key
    assert back.attempt == 3


def test_buttons_posted_before_provider_keys_still_work() -> None:
    """Older buttons carry the provider inside the request; they keep working."""
    value = json.dumps(
        {
            "request": {"provider": "lummy", "invoice_id": UUID_TEXT},
            "requested_by": "U1",
            "idempotency_key": "k-1",
        }
    )
    job = ResendJob.from_button_value(value, REGISTRY)
    assert job.request == LummyInvoice(invoice_id=UUID(UUID_TEXT))
    assert job.idempotency_key == "k-1"


def test_new_jobs_get_distinct_idempotency_keys() -> None:
    first = ResendJob(request=VOUCHER, requested_by="U1")
    second = ResendJob(request=VOUCHER, requested_by="U1")
    assert first.attempt == 1
    assert first.idempotency_key != second.idempotency_key
    assert UUID(first.idempotency_key).version == 4


def test_next_attempt_keeps_the_request_and_the_idempotency_key() -> None:
    job = ResendJob(request=INVOICE, requested_by="U0AGENT01")
    retry = job.next_attempt()
    assert retry.attempt == 2
    assert retry.idempotency_key == job.idempotency_key
    assert retry.request == job.request
    assert retry.requested_by == job.requested_by
    assert job.attempt == 1  # the original is unchanged
    third = ResendJob.from_button_value(retry.to_button_value(), REGISTRY).next_attempt()
    assert third.attempt == 3
    assert third.idempotency_key == job.idempotency_key


@pytest.mark.parametrize(
    "value",
    [
        "",
        "retry",
        "{}",
        '{"request": {"provider": "sap"}, "requested_by": "U1"}',
        '{"provider": "lummy", "request": [], "requested_by": "U1"}',
        json.dumps(
            {
                "provider": "tusfacturas",
                "request": VOUCHER.model_dump(mode="json"),
                "requested_by": "U1",
                "attempt": 0,
            }
        ),
        json.dumps(
            {
                "provider": "tusfacturas",
                "request": {**VOUCHER.model_dump(mode="json"), "numero": 0},
                "requested_by": "U1",
            }
        ),
        json.dumps({"request": VOUCHER.model_dump(mode="json"), "requested_by": "U1"}),
    ],
)
def test_foreign_button_values_are_rejected(value: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the documented contract is ValueError
        ResendJob.from_button_value(value, REGISTRY)
