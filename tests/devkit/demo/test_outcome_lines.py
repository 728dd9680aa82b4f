"""Every kind of outcome fits a phone: within 8 lines as the demo renders it, at the width
of a standard terminal (80 columns), long lines wrapped as a narrow screen would.

The messages are built by the bot's own view builders with long but real content (the
longest voucher type, a customer with two addresses on file, a retry, Lummy's quota, the
provider's own words); the demo renderer shows them the way the README's transcripts do.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final
from uuid import UUID

import pytest

from bot.history.insight import QuotaUsage
from bot.jobs import ResendJob
from bot.ui.blocks import SlackMessage
from bot.ui.outcome import failure_message, success_message
from devkit.demo.render import BAR, Names, render_message
from providers import errors
from providers.base import InvoiceFacts, InvoiceStatus, ResendResult
from providers.errors import REJECTION_EMAIL_SENDING_OFF, Outcome, ProviderError
from providers.lummy.model import LummyInvoice
from providers.tusfacturas.model import TusFacturasVoucher
from tests.conftest import REGISTRY

#: The width the demo's output is laid out for: a standard terminal.
DEMO_WIDTH: Final = 80
#: What fits on a phone without scrolling.
MAX_LINES: Final = 8

AGENT = "U0ANA"
NAMES = Names(users={AGENT: "ana"}, channels={"C0SOP": "soporte"})
NOW = datetime(2026, 11, 21, 14, 37, 59, tzinfo=UTC)
LUMMY_ID = UUID("550e8400-e29b-41d4-a716-446655440000")

TF_JOB = ResendJob(
    request=TusFacturasVoucher(
        tipo="NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A",
        operacion="C",
        punto_venta=3,
        numero=87,
    ),
    requested_by=AGENT,
)
LUMMY_JOB = ResendJob(request=LummyInvoice(invoice_id=LUMMY_ID), requested_by=AGENT)
#: A customer with two addresses on file (the emulator's FACTURA A 0001-00001534).
TWO_ADDRESSES_JOB = ResendJob(
    request=TusFacturasVoucher(tipo="FACTURA A", punto_venta=1, numero=1534),
    requested_by=AGENT,
)
TF_FACTS = InvoiceFacts(
    provider="tusfacturas",
    reference=TWO_ADDRESSES_JOB.request.reference,
    customer_name="Distribuidora Sur S.A.",
    customer_id_type="CUIT",
    customer_id="30698765433",
    recipients=("administracion@distribuidorasur.com.ar", "pagos@distribuidorasur.com.ar"),
    issued_on=date(2026, 10, 20),
    total=Decimal("8450000"),
    currency="ARS",
    status=InvoiceStatus.ISSUED,
    pdf_url="https://www.tusfacturas.app/app/pdf/" + "a" * 64,
)
LUMMY_FACTS = InvoiceFacts(
    provider="lummy",
    reference=str(LUMMY_ID),
    customer_name="Constructora Monterrey S.A. de C.V.",
    display_number="A-1234",
    recipients=("cuentasporpagar@constructoramonterrey.mx",),
)


def wrapped_lines(message: SlackMessage) -> list[str]:
    """The message's body as the demo shows it, wrapped at the demo's width."""
    rendered = render_message(
        heading="#soporte · reenviar (app)", text=message.text, blocks=message.blocks, names=NAMES
    ).split("\n")
    body = [line.removeprefix(BAR) for line in rendered[1:-1]]  # without the frame
    width = DEMO_WIDTH - len(BAR)
    return [piece for line in body for piece in (textwrap.wrap(line, width) or [""])]


SUCCESSES = [
    pytest.param(
        success_message(
            TWO_ADDRESSES_JOB,
            ResendResult(provider="tusfacturas", reference=TWO_ADDRESSES_JOB.request.reference),
            registry=REGISTRY,
            now=NOW,
            facts=TF_FACTS,
        ),
        id="tusfacturas-two-addresses-from-the-lookup",
    ),
    pytest.param(
        success_message(
            TF_JOB,
            ResendResult(
                provider="tusfacturas",
                reference=TF_JOB.request.reference,
                provider_message="Comprobante reenviado correctamente.",
            ),
            registry=REGISTRY,
            now=NOW,
        ),
        id="tusfacturas-longest-type-without-lookup",
    ),
    pytest.param(
        success_message(
            LUMMY_JOB.next_attempt().model_copy(update={"retried_by": "U0BETO"}),
            ResendResult(
                provider="lummy",
                reference=str(LUMMY_ID),
                recipients=("cuentasporpagar@constructoramonterrey.mx",),
                sent_at=NOW,
                request_id="1cd3ed-0f0d0f",
            ),
            registry=REGISTRY,
            now=NOW,
            facts=LUMMY_FACTS,
            quota=QuotaUsage(used=9, limit=10, frees_at=NOW + timedelta(minutes=20)),
        ),
        id="lummy-retried-with-lookup-and-quota",
    ),
]

FAILURES: list[tuple[ProviderError, InvoiceFacts | None]] = [
    (errors.ProviderNotConfiguredError("no creds", provider="lummy"), None),
    (
        errors.ProviderNotConfiguredError(
            "no creds", provider="tusfacturas", field="punto_venta", field_value="3"
        ),
        None,
    ),
    (
        errors.AuthenticationError("401", provider="lummy", status_code=401, request_id="abc123"),
        None,
    ),
    (
        errors.InvalidRequestError(
            "400", provider="lummy", field="email", provider_message="Email invalido"
        ),
        None,
    ),
    (errors.InvalidRequestError("400", provider="tusfacturas", status_code=400), None),
    (
        errors.NotFoundError(
            "404",
            provider="lummy",
            request_id="abc123-def456",
            provider_message="Invoice not found",
        ),
        None,
    ),
    (
        errors.NotFoundError(
            "error S",
            provider="tusfacturas",
            provider_message="El comprobante solicitado no existe: NOTA DE CREDITO "
            "ELECTRONICA MiPyME (FCE) A 0003-00000087 (operacion C).",
        ),
        None,
    ),
    (
        errors.RateLimitedError(
            "429",
            provider="lummy",
            limit_per_hour=10,
            retry_after=timedelta(minutes=55),
            request_id="abc123-def456",
            provider_message="Has alcanzado el limite de reenvios para esta factura. "
            "Intenta mas tarde.",
        ),
        None,
    ),
    (errors.RateLimitedError("429", provider="tusfacturas", throttled=True, status_code=429), None),
    (
        errors.RejectedError(
            "error S",
            provider="tusfacturas",
            messages=(
                "El CUIT emisor se encuentra suspendido para operar. Comuníquese con "
                "soporte para regularizar la situación de la cuenta antes de reenviar.",
            ),
            codes=("TFC-9001", "TFC-9002"),
        ),
        None,
    ),
    (
        errors.RejectedError(
            "error S",
            provider="tusfacturas",
            messages=(
                "No se puede reenviar el comprobante NOTA DE CREDITO ELECTRONICA MiPyME "
                "(FCE) A 0003-00000087: al momento de emitirlo, el perfil del cliente no "
                "tenia configurado el envio del comprobante por e-mail.",
            ),
            codes=("TFC-8010",),
            reason=REJECTION_EMAIL_SENDING_OFF,
        ),
        TF_FACTS,
    ),
    (
        errors.RejectedError(
            "error S", provider="tusfacturas", codes=("TFC-8010",), reason="email_sending_off"
        ),
        None,
    ),
    (errors.ProviderUnavailableError("503", provider="lummy", status_code=503), None),
    (errors.OutcomeUnknownError("read timeout", provider="tusfacturas"), None),
    (
        errors.OutcomeUnknownError("read timeout", provider="lummy", request_id="abc123"),
        LUMMY_FACTS,
    ),
]


def failure(error: ProviderError, facts: InvoiceFacts | None) -> SlackMessage:
    job = TF_JOB if error.provider == "tusfacturas" else LUMMY_JOB
    return failure_message(job.next_attempt(), error, REGISTRY, facts=facts)


def test_every_outcome_kind_is_covered() -> None:
    kinds = {error.outcome for error, _ in FAILURES} | {Outcome.SUCCESS}
    assert kinds == set(Outcome)


@pytest.mark.parametrize("message", SUCCESSES)
def test_a_success_fits_in_eight_lines(message: SlackMessage) -> None:
    lines = wrapped_lines(message)
    assert len(lines) <= MAX_LINES, "\n".join(lines)
    assert lines[0].startswith("✅ Se reenvió a ")


@pytest.mark.parametrize(
    ("error", "facts"),
    FAILURES,
    ids=[f"{e.provider}-{e.outcome.value}-{i}" for i, (e, _) in enumerate(FAILURES)],
)
def test_a_failure_fits_in_eight_lines(error: ProviderError, facts: InvoiceFacts | None) -> None:
    lines = wrapped_lines(failure(error, facts))
    assert len(lines) <= MAX_LINES, "\n".join(lines)
    assert lines[0].startswith(("❌ No se pudo reenviar ", "❔ No se sabe si se reenvió "))
