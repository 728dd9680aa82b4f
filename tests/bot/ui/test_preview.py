"""What the modal shows about the entered invoice: the provider's facts and the quota."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.history.insight import Insight, QuotaUsage
from bot.ui.forms import form_from_text
from bot.ui.resend_modal import FormState, resend_modal
from providers.base import InvoiceFacts, InvoiceStatus
from tests.blockkit import assert_valid_modal
from tests.bot.ui.conftest import BOTH, CONTEXT, INVOICE_ID, VOUCHER, block_ids
from tests.conftest import REGISTRY


def test_the_preview_shows_customer_document_and_where_it_goes() -> None:
    facts = InvoiceFacts(
        provider="tusfacturas",
        reference=VOUCHER.reference,
        customer_name="Panadería <La Espiga> S.R.L.",
        customer_id_type="CUIT",
        customer_id="30715432109",
        recipients=("compras@panaderialaespiga.com.ar",),
        issued_on=date(2026, 11, 14),
        total=Decimal("45230.50"),
        currency="ARS",
        status=InvoiceStatus.ISSUED,
    )
    form = form_from_text(VOUCHER.reference, REGISTRY)
    modal = resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY, preview=facts)
    assert_valid_modal(modal)
    preview = modal["blocks"][block_ids(modal).index("numero") + 1]["text"]["text"]
    assert preview.split("\n") == [
        ":bust_in_silhouette: *Panadería &lt;La Espiga&gt; S.R.L.* · CUIT 30-71543210-9",
        "Fecha 14/11/2026 · Total $ 45.230,50",
        "Se va a enviar a compras@panaderialaespiga.com.ar.",
    ]
    assert ":warning:" not in json.dumps(modal)


@pytest.mark.parametrize(
    ("facts", "warning"),
    [
        (
            InvoiceFacts(provider="tusfacturas", reference="x", recipients=()),
            "El cliente no tiene ningún correo cargado en TusFacturas",
        ),
        (
            InvoiceFacts(
                provider="tusfacturas",
                reference="x",
                status=InvoiceStatus.AWAITING_APPROVAL,
                status_text="EN COLA, ESPERANDO APROBACION",
            ),
            "Todavía no se emitió: espera aprobación (estado en TusFacturas: «EN COLA, "
            "ESPERANDO APROBACION»).",
        ),
        (
            InvoiceFacts(provider="tusfacturas", reference="x", exists=False),
            "TusFacturas no encuentra nada con estos datos",
        ),
    ],
)
def test_the_preview_warns_when_the_send_cannot_reach_anyone_or_is_not_issued(
    facts: InvoiceFacts, warning: str
) -> None:
    modal = resend_modal(
        form_from_text(VOUCHER.reference, REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
        preview=facts,
    )
    assert_valid_modal(modal)
    assert warning in json.dumps(modal, ensure_ascii=False)


def test_a_lummy_preview_names_the_folio_and_the_alternative_address() -> None:
    facts = InvoiceFacts(
        provider="lummy",
        reference=INVOICE_ID,
        display_number="A-1234",
        total=Decimal("11600"),
        currency="MXN",
        recipients=("cliente@empresa.com",),
    )
    modal = resend_modal(
        FormState(provider="lummy", values={"invoice_id": INVOICE_ID}),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
        preview=facts,
    )
    text = json.dumps(modal, ensure_ascii=False)
    assert "Folio A-1234 · Total $11,600.00" in text
    assert "cliente@empresa.com (o al correo alternativo, si se completa)" in text
    # Facts about another provider's invoice (a stale lookup after a switch) are not shown.
    other = resend_modal(
        FormState(provider="tusfacturas"),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
        preview=facts,
    )
    assert "A-1234" not in json.dumps(other)


def test_an_exhausted_quota_says_from_when_in_the_agents_time() -> None:
    insight = Insight(
        quota=QuotaUsage(used=10, limit=10, frees_at=datetime(2026, 11, 21, 14, 40, tzinfo=UTC))
    )
    form = FormState(provider="lummy", values={"invoice_id": INVOICE_ID})

    def modal_text(agent_tz: str | None) -> str:
        modal = resend_modal(
            form, CONTEXT, configured=BOTH, registry=REGISTRY, insight=insight, agent_tz=agent_tz
        )
        assert_valid_modal(modal)
        return json.dumps(modal, ensure_ascii=False)

    assert "Ya se usaron los 10 reenvíos por hora de esta factura en Lummy" in modal_text(None)
    assert "desde las 11:40 (hora de Argentina)." in modal_text("America/Argentina/Buenos_Aires")
    assert "desde las 08:40 (hora del centro de México)." in modal_text(None)
