"""Block Kit builders: Spanish content, Slack's limits, escaping, valid Block Kit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.history.records import AttemptRecord
from bot.resend.insight import Insight, QuotaUsage
from bot.resend.jobs import ResendJob
from bot.ui import strings, views
from bot.ui.forms import FormState, ModalContext, form_from_text
from bot.ui.views import SlackMessage
from bot.ui.wording import error_message, invoice_phrase
from providers.base import InvoiceFacts, InvoiceStatus, ResendResult
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ProviderNotConfiguredError,
    ProviderUnavailableError,
    RateLimitedError,
    RejectedError,
)
from providers.lummy import LummyInvoice
from providers.tusfacturas import Operacion, TusFacturasVoucher
from tests.blockkit import assert_valid_blocks, assert_valid_home, assert_valid_modal
from tests.conftest import REGISTRY

INVOICE_ID = "550e8400-e29b-41d4-a716-446655440000"
AGENT = "U0AGENT01"
NOW = datetime(2025, 3, 10, 18, 30, 0, tzinfo=UTC)
SENT_AT = datetime(2025, 3, 10, 17, 5, 9, tzinfo=UTC)
LUMMY_JOB = ResendJob(request=LummyInvoice(invoice_id=INVOICE_ID), requested_by=AGENT)
VOUCHER = TusFacturasVoucher(tipo="FACTURA B", punto_venta=2, numero=6)
TF_JOB = ResendJob(request=VOUCHER, requested_by=AGENT)
COMPRA_JOB = ResendJob(
    request=TusFacturasVoucher(
        tipo="NOTA DE CREDITO A", operacion=Operacion.COMPRA, punto_venta=1, numero=1534
    ),
    requested_by=AGENT,
)
BOTH = {"tusfacturas": True, "lummy": True}
CONTEXT = ModalContext(
    channel_id="C0SUPPORT", response_url="https://hooks.slack.com/commands/T/1/x"
)
#: Things that must never reach a person: raw JSON, Python internals.
LEAKS = ('{"', "Traceback", "Error(", "None", "detail=")


# --- helpers ----------------------------------------------------------------------


def texts(value: Any) -> list[str]:
    """Every ``text`` string inside blocks (plain_text and mrkdwn alike)."""
    if isinstance(value, dict):
        own = [value["text"]] if isinstance(value.get("text"), str) else []
        return own + [t for key, item in value.items() if key != "value" for t in texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in texts(item)]
    return []


def shown(message: SlackMessage) -> str:
    return "\n".join([message.text, *texts(message.blocks)])


def check(message: SlackMessage) -> str:
    """Valid Block Kit, notification text present, nothing raw; returns what people read."""
    assert message.text.strip(), "empty notification text"
    assert message.blocks, "no blocks"
    assert_valid_blocks(message.blocks)
    everything = shown(message)
    for leak in LEAKS:
        assert leak not in everything, f"{leak!r} in {everything!r}"
    return everything


def retry_buttons(message: SlackMessage) -> list[dict[str, Any]]:
    return [
        element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == views.RETRY_ACTION
    ]


def lummy_result(**kwargs: Any) -> ResendResult:
    values: dict[str, Any] = {
        "provider": "lummy",
        "reference": INVOICE_ID,
        "recipients": ("cliente@empresa.com",),
        "sent_at": SENT_AT,
        "request_id": "req-123",
    }
    return ResendResult(**{**values, **kwargs})


# --- success ----------------------------------------------------------------------

TF_FACTS = InvoiceFacts(
    provider="tusfacturas",
    reference=VOUCHER.reference,
    customer_name="Panadería La Espiga S.R.L.",
    recipients=("compras@panaderialaespiga.com.ar",),
)
LUMMY_FACTS = InvoiceFacts(
    provider="lummy",
    reference=INVOICE_ID,
    customer_name="Empresa Demo S.A. de C.V.",
    display_number="A-1234",
    recipients=("cliente@empresa.com",),
)


def lines(message: SlackMessage) -> list[str]:
    """The message's mrkdwn, line by line, as the blocks hold it."""
    return "\n".join(texts(message.blocks)).split("\n")


def test_lummy_success_leads_with_the_recipient_then_the_invoice_and_mexicos_time() -> None:
    message = views.success_message(LUMMY_JOB, lummy_result(), now=NOW, registry=REGISTRY)
    text = check(message)
    first, second = lines(message)[:2]
    assert first == ":white_check_mark: *Se reenvió a cliente@empresa.com*"
    assert second == (
        "Factura 550e8400 en Lummy · 10/03 11:05, hora del centro de México · "
        f"pedido por <@{AGENT}>"
    )
    assert message.text == "Se reenvió la factura 550e8400 a cliente@empresa.com (Lummy)."
    # UTC and the ids are small print, not fields at the recipient's weight.
    assert message.blocks[-1]["type"] == "context"
    small = message.blocks[-1]["elements"][0]["text"]
    assert "10/03/2025 17:05 UTC" in small
    assert "ID de solicitud: `req-123`" in small
    assert f"Clave: `{LUMMY_JOB.idempotency_key.split('-')[0]}`" in small
    assert "America/" not in text  # a plain name for the time zone, not an IANA id
    assert "Intento" not in text
    assert retry_buttons(message) == []


def test_the_ready_reply_uses_usted_and_the_providers_local_time() -> None:
    lummy = views.success_message(
        LUMMY_JOB, lummy_result(), now=NOW, registry=REGISTRY, facts=LUMMY_FACTS
    )
    tf = views.success_message(
        TF_JOB,
        ResendResult(provider=TF, reference=VOUCHER.reference),
        now=NOW,
        registry=REGISTRY,
        facts=TF_FACTS,
    )
    assert (
        "> Le reenviamos la factura A-1234 a cliente@empresa.com hoy a las 11:05. Si no le "
        "llega, revise el correo no deseado." in check(lummy)
    )
    assert (
        "> Le reenviamos la factura B 0002-00000006 a compras@panaderialaespiga.com.ar hoy a "
        "las 15:30. Si no le llega, revise el correo no deseado." in check(tf)
    )
    assert "Factura A-1234 (550e8400) en Lummy · Empresa Demo S.A. de C.V." in check(lummy)
    assert "10/03 15:30, hora de Argentina" in check(tf)


def test_lummy_success_without_sent_at_is_stamped_now_and_without_recipients_says_whom() -> None:
    result = lummy_result(sent_at=None, recipients=(), request_id=None)
    message = views.success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    text = check(message)
    assert "10/03/2025 18:30 UTC" in text
    assert lines(message)[0] == (
        f":white_check_mark: *Se reenvió a {strings.DEFAULT_RECIPIENTS['lummy']}*"
    )
    assert "al correo que tenemos registrado" in text
    assert "ID de solicitud" not in text


def test_lummy_success_with_several_recipients() -> None:
    result = lummy_result(recipients=("a@x.mx", "b@x.mx", "c@x.mx"))
    message = views.success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    assert "Se reenvió a a@x.mx, b@x.mx y c@x.mx*" in check(message)


def test_tusfacturas_success_names_the_addresses_from_the_lookup_or_says_it_cannot() -> None:
    result = ResendResult(provider="tusfacturas", reference=VOUCHER.reference)
    known = views.success_message(TF_JOB, result, now=NOW, registry=REGISTRY, facts=TF_FACTS)
    unknown = views.success_message(TF_JOB, result, now=NOW, registry=REGISTRY)

    assert lines(known)[0] == ":white_check_mark: *Se reenvió a compras@panaderialaespiga.com.ar*"
    assert views.sent_to(VOUCHER, result, TF_FACTS) == ("compras@panaderialaespiga.com.ar",)
    assert lines(unknown)[0] == (
        ":white_check_mark: *Se reenvió a los correos cargados en el cliente (TusFacturas no "
        "informa cuáles)*"
    )
    assert views.sent_to(VOUCHER, result, None) == ()
    assert "Factura B 0002-00000006 en TusFacturas" in check(unknown)
    assert "FACTURA B" not in check(known)
    assert "(compra)" not in check(known)


def test_an_alternative_address_wins_over_the_addresses_on_file() -> None:
    job = ResendJob(
        request=LummyInvoice(invoice_id=INVOICE_ID, email="otro@cliente.com"), requested_by=AGENT
    )
    result = lummy_result(recipients=())
    assert views.sent_to(job.request, result, LUMMY_FACTS) == ()
    assert views.sent_to(job.request, lummy_result(), LUMMY_FACTS) == ("cliente@empresa.com",)


def test_tusfacturas_rta_is_read_for_its_addresses_not_shown() -> None:
    says_who = ResendResult(
        provider=TF,
        reference=VOUCHER.reference,
        recipients=("compras@panaderialaespiga.com.ar",),
        provider_message="El comprobante fue reenviado a compras@panaderialaespiga.com.ar",
    )
    text = check(views.success_message(TF_JOB, says_who, now=NOW, registry=REGISTRY))
    assert f"{strings.SUCCESS_HEADLINE.split('{')[0]}compras@panaderialaespiga.com.ar*" in text
    assert "El comprobante fue reenviado" not in text


def test_compra_is_marked_in_every_message_about_it() -> None:
    result = ResendResult(provider="tusfacturas", reference=COMPRA_JOB.request.reference)
    success = views.success_message(COMPRA_JOB, result, now=NOW, registry=REGISTRY)
    failure = views.failure_message(
        COMPRA_JOB, NotFoundError("HTTP 404", provider="tusfacturas"), REGISTRY
    )
    progress = views.progress_message(COMPRA_JOB, REGISTRY)
    for message in (success, failure, progress):
        assert "ota de crédito A 0001-00001534 (compra)" in check(message)


def test_success_on_a_later_attempt_says_which() -> None:
    job = LUMMY_JOB.next_attempt()
    text = check(views.success_message(job, lummy_result(), now=NOW, registry=REGISTRY))
    assert "Intento 2" in text


# --- failures ---------------------------------------------------------------------

LUMMY = "lummy"
TF = "tusfacturas"
FAILURES = [
    pytest.param(
        ProviderNotConfiguredError("no creds", provider=TF, field="punto_venta", field_value="7"),
        ["punto de venta 7", "administrador"],
        False,
        id="not-configured-punto-venta",
    ),
    pytest.param(
        ProviderNotConfiguredError("no creds", provider=LUMMY),
        ["Lummy no está configurado"],
        False,
        id="not-configured",
    ),
    pytest.param(
        AuthenticationError("HTTP 401", provider=LUMMY, status_code=401),
        ["rechazó las credenciales", "reintentar no va a servir"],
        False,
        id="authentication",
    ),
    pytest.param(
        InvalidRequestError("HTTP 400", provider=LUMMY, field="email"),
        ["rechazó el correo alternativo"],
        False,
        id="invalid-email",
    ),
    pytest.param(
        InvalidRequestError("HTTP 400", provider=LUMMY),
        ["consideró inválidos los datos"],
        False,
        id="invalid",
    ),
    pytest.param(
        NotFoundError("HTTP 404", provider=LUMMY, request_id="req-404"),
        ["Lummy no tiene una factura con ese ID", "ID de solicitud: `req-404`"],
        False,
        id="not-found",
    ),
    pytest.param(
        RateLimitedError(
            "HTTP 429",
            provider=LUMMY,
            limit_per_hour=10,
            retry_after=timedelta(seconds=90),
            provider_message="Has alcanzado el limite",
        ),
        [
            "exceso de solicitudes",
            "10 reenvíos por hora",
            "en 2 minutos",
            "Has alcanzado el limite",
        ],
        False,
        id="rate-limited",
    ),
    pytest.param(
        RejectedError(
            "error S",
            provider=TF,
            messages=("El comprobante solicitado no existe.",),
            codes=("TFC-8004", "TFC-1002"),
        ),
        [
            "TusFacturas rechazó el reenvío",
            "Detalle técnico: TusFacturas respondió «El comprobante solicitado no existe.» "
            "(TFC-8004, TFC-1002)",
        ],
        False,
        id="rejected-codes",
    ),
    pytest.param(
        RejectedError(
            "error S",
            provider=TF,
            messages=("perfil sin envio por e-mail",),
            codes=("TFC-8010",),
            reason=REJECTION_EMAIL_SENDING_OFF,
        ),
        [
            strings.REJECTION_REASONS["email_sending_off"].format(provider="TusFacturas"),
            strings.PDF_ELSEWHERE.format(provider="TusFacturas"),
            "Detalle técnico: TFC-8010",
        ],
        False,
        id="email-not-enabled",
    ),
    pytest.param(
        ProviderUnavailableError("HTTP 503", provider=LUMMY, status_code=503),
        ["no respondió o tuvo una falla interna", "sin riesgo", strings.RETRY_CONFIRM_SAFE],
        True,
        id="unavailable",
    ),
    pytest.param(
        OutcomeUnknownError('HTTP 200 without data: {"requestId": "x"}', provider=LUMMY),
        [
            "No se sabe si se reenvió la factura 550e8400",
            "pudo haber salido de todos modos",
            strings.RETRY_CONFIRM_UNKNOWN,
        ],
        True,
        id="unknown",
    ),
]


@pytest.mark.parametrize(("error", "expected", "retry"), FAILURES)
def test_failure_message_for_each_error(
    error: ProviderError, expected: list[str], retry: bool
) -> None:
    job = TF_JOB if error.provider == "tusfacturas" else LUMMY_JOB
    message = views.failure_message(job, error, REGISTRY)
    text = check(message)
    for snippet in expected:
        assert snippet in text, f"{snippet!r} missing from {text!r}"
    assert error_message(error, REGISTRY[error.provider].label) in message.text
    assert invoice_phrase(job.request) in message.text
    assert error.detail not in text, "the technical detail is for logs only"
    # The first line says what happened to which invoice; the explanation follows.
    headline = "No se sabe si se reenvió " if error.may_have_sent else "No se pudo reenviar "
    first, second = message.blocks[0]["text"]["text"].split("\n", 1)
    assert headline + invoice_phrase(job.request) in first
    assert second.startswith(views.escape(error_message(error, REGISTRY[error.provider].label)))
    # The provider's own words never lead: they are small print.
    if error.provider_message:
        assert error.provider_message not in message.blocks[0]["text"]["text"]

    buttons = retry_buttons(message)
    assert len(buttons) == int(retry)
    if retry:
        (button,) = buttons
        assert len(button["value"]) <= 2000
        again = ResendJob.from_button_value(button["value"], REGISTRY)
        assert again == job.next_attempt()
        assert again.idempotency_key == job.idempotency_key


def test_failure_on_a_later_attempt_offers_the_next_one() -> None:
    job = LUMMY_JOB.next_attempt()
    message = views.failure_message(job, ProviderUnavailableError("503", provider=LUMMY), REGISTRY)
    assert "Intento 2" in check(message)
    (button,) = retry_buttons(message)
    assert ResendJob.from_button_value(button["value"], REGISTRY).attempt == 3


def test_a_huge_provider_message_is_clipped_to_slacks_limits() -> None:
    huge = "Error interno del proveedor. " * 200  # ~5800 characters
    failure = views.failure_message(
        LUMMY_JOB,
        RejectedError("x", provider=LUMMY, messages=(huge,), codes=("C",) * 400),
        REGISTRY,
    )
    success = views.success_message(
        TF_JOB,
        ResendResult(provider=TF, reference=VOUCHER.reference, provider_message=huge),
        now=NOW,
        registry=REGISTRY,
    )
    for message in (failure, success):
        check(message)
        assert all(len(t) <= 3000 for t in texts(message.blocks))
        assert len(json.dumps(message.blocks)) < 12_000
    assert "…" in shown(failure)
    assert huge not in shown(success)  # a success never shows the provider's free text


def test_many_recipients_stay_within_slacks_limits() -> None:
    recipients = tuple(f"contabilidad{i}@empresa-de-prueba.com.mx" for i in range(80))
    result = lummy_result(recipients=recipients)
    message = views.success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    check(message)
    assert all(len(t) <= 3000 for t in texts(message.blocks))
    assert "contabilidad0@empresa-de-prueba.com.mx" in lines(message)[0]
    assert "y 70 más" in lines(message)[0]


MARKUP = "<!channel> <http://phish.example|aquí> & <@U123>"
ESCAPED = "&lt;!channel&gt; &lt;http://phish.example|aquí&gt; &amp; &lt;@U123&gt;"


def test_provider_text_is_escaped_in_failures() -> None:
    error = RejectedError("x", provider=TF, messages=(MARKUP,), codes=("<b>",), request_id="<id&>")
    text = check(views.failure_message(TF_JOB, error, REGISTRY))
    assert ESCAPED in text
    assert "(&lt;b&gt;)" in text
    assert "`&lt;id&amp;&gt;`" in text
    assert "<!channel>" not in text
    assert "<http://phish" not in text


def test_provider_text_is_escaped_in_successes() -> None:
    result = lummy_result(
        recipients=("a&b@x.mx", "<c@x.mx>"), request_id="<r>", provider_message=MARKUP
    )
    message = views.success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    text = check(message)
    assert "a&amp;b@x.mx y &lt;c@x.mx&gt;" in text
    assert "a&amp;b@x.mx" in message.text
    assert "<!channel>" not in text
    assert "<c@x.mx>" not in text


def test_escape_handles_the_ampersand_first() -> None:
    assert views.escape("<&>") == "&lt;&amp;&gt;"
    assert views.escape("&lt;") == "&amp;lt;"


# --- other messages ---------------------------------------------------------------


def test_internal_error_message_with_and_without_a_job() -> None:
    bare = views.internal_error_message("E-ABC123")
    text = check(bare)
    assert "Algo falló dentro del bot (error E-ABC123)" in text
    assert "administrador" in text
    # Nothing had started: the message says so instead of hinting at a lost re-send.
    assert "no se envió nada" in text
    assert "puede no haberse completado" not in text
    with_job = views.internal_error_message("E-ABC123", TF_JOB, REGISTRY)
    assert with_job.text.startswith("Factura B 0002-00000006 (TusFacturas). Algo falló")
    assert "puede no haberse completado" in with_job.text
    check(with_job)


def test_help_message() -> None:
    message = views.help_message()
    text = check(message)
    assert "/reenviar Factura B 0002-00000006" in text
    assert "otro@cliente.com" in text
    assert "`/reenviar`: abre el formulario" in text


def test_progress_message() -> None:
    first = views.progress_message(LUMMY_JOB, REGISTRY)
    text = check(first)
    assert first.text == f"Reenviando Factura 550e8400 (Lummy), a solicitud de <@{AGENT}>…"
    assert ":hourglass_flowing_sand:" in text
    assert "Intento" not in text
    again = views.progress_message(LUMMY_JOB.next_attempt().next_attempt(), REGISTRY)
    assert "Intento 3." in check(again)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("C0SUPPORT", "No se pudo publicar en <#C0SUPPORT>"),
        (None, "No se pudo publicar en el canal"),
    ],
)
def test_dm_notice_comes_first_and_keeps_the_message(channel: str | None, expected: str) -> None:
    original = views.progress_message(LUMMY_JOB, REGISTRY)
    dm = views.with_dm_notice(original, channel)
    check(dm)
    assert dm.text == original.text
    assert dm.blocks[0]["type"] == "context"
    assert expected in dm.blocks[0]["elements"][0]["text"]
    assert dm.blocks[1:] == original.blocks


def test_notice_message() -> None:
    message = views.notice_message(strings.RETRY_EXPIRED)
    assert check(message).startswith(strings.RETRY_EXPIRED)


# --- the modal --------------------------------------------------------------------


def block_ids(modal: dict[str, Any]) -> list[str]:
    return [block.get("block_id", "") for block in modal["blocks"]]


def by_id(modal: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(block for block in modal["blocks"] if block.get("block_id") == block_id)


def test_empty_modal_defaults_to_the_first_configured_provider() -> None:
    modal = views.resend_modal(FormState(), CONTEXT, configured=BOTH, registry=REGISTRY)
    assert_valid_modal(modal)
    assert modal["callback_id"] == views.MODAL_CALLBACK_ID
    assert modal["title"]["text"] == strings.MODAL_TITLE
    assert ModalContext.from_metadata(modal["private_metadata"]) == CONTEXT
    assert block_ids(modal) == ["provider", "tipo", "operacion", "punto_venta", "numero"]
    provider = by_id(modal, "provider")
    assert provider["dispatch_action"] is True
    assert provider["element"]["initial_option"]["value"] == "tusfacturas"
    assert by_id(modal, "operacion")["element"]["initial_option"]["value"] == "V"
    assert "initial_option" not in by_id(modal, "tipo")["element"]
    assert "initial_value" not in by_id(modal, "numero")["element"]
    groups = by_id(modal, "tipo")["element"]["option_groups"]
    assert sum(len(g["options"]) for g in groups) == 27


def test_only_lummy_configured_opens_on_lummy() -> None:
    modal = views.resend_modal(
        FormState(), CONTEXT, configured={"tusfacturas": False, "lummy": True}, registry=REGISTRY
    )
    assert_valid_modal(modal)
    assert block_ids(modal) == ["provider", "invoice_id", "email"]
    options = by_id(modal, "provider")["element"]["options"]
    described = {o["value"]: o.get("description", {}).get("text") for o in options}
    assert described == {
        "tusfacturas": strings.PROVIDER_NOT_CONFIGURED_SHORT,
        "lummy": None,
    }


def test_tusfacturas_prefilled_from_the_command() -> None:
    modal = views.resend_modal(
        form_from_text("FACTURA B 0002-00000006 compra", REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert by_id(modal, "tipo")["element"]["initial_option"]["value"] == "FACTURA B"
    assert by_id(modal, "operacion")["element"]["initial_option"]["value"] == "C"
    assert by_id(modal, "punto_venta")["element"]["initial_value"] == "0002"
    assert by_id(modal, "numero")["element"]["initial_value"] == "00000006"


def test_lummy_prefilled_with_an_alternative_email() -> None:
    modal = views.resend_modal(
        form_from_text(f"lummy {INVOICE_ID} otro@cliente.com", REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert by_id(modal, "provider")["element"]["initial_option"]["value"] == "lummy"
    assert by_id(modal, "invoice_id")["element"]["initial_value"] == INVOICE_ID
    email = by_id(modal, "email")
    assert email["optional"] is True
    assert email["element"]["type"] == "email_text_input"
    assert email["element"]["initial_value"] == "otro@cliente.com"


def test_lummy_prefilled_without_email() -> None:
    modal = views.resend_modal(
        FormState(provider="lummy", values={"invoice_id": INVOICE_ID}),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert "initial_value" not in by_id(modal, "email")["element"]


@pytest.mark.parametrize("provider", list(REGISTRY))
def test_a_provider_without_credentials_says_so_in_the_modal(provider: str) -> None:
    nothing = {"tusfacturas": False, "lummy": False}
    modal = views.resend_modal(
        FormState(provider=provider), CONTEXT, configured=nothing, registry=REGISTRY
    )
    assert_valid_modal(modal)
    text = json.dumps(modal, ensure_ascii=False)
    assert f"{REGISTRY[provider].label} no está configurado en el bot" in text
    assert modal["submit"]["text"] == strings.MODAL_SUBMIT


def test_a_prefill_problem_goes_under_its_field_and_the_rest_on_top() -> None:
    form = form_from_text("Factura Q 0002-00000006", REGISTRY)
    modal = views.resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)
    assert_valid_modal(modal)
    ids = block_ids(modal)
    under = modal["blocks"][ids.index("tipo") + 1]
    assert under["type"] == "context"
    assert "«Factura Q»" in under["elements"][0]["text"]
    assert by_id(modal, "punto_venta")["element"]["initial_value"] == "0002"

    unreadable = views.resend_modal(
        form_from_text("<hola> & chau", REGISTRY), CONTEXT, configured=BOTH, registry=REGISTRY
    )
    assert unreadable["blocks"][0]["type"] == "context"
    notice = unreadable["blocks"][0]["elements"][0]["text"]
    assert "No se entendió todo lo escrito" in notice
    assert "«&lt;hola&gt; &amp; chau»" in notice


def test_a_broken_address_stays_in_its_field_with_the_problem_under_it() -> None:
    modal = views.resend_modal(
        form_from_text(f"lummy {INVOICE_ID} nombre@", REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    assert_valid_modal(modal)
    assert by_id(modal, "email")["element"]["initial_value"] == "nombre@"
    ids = block_ids(modal)
    under = modal["blocks"][ids.index("email") + 1]
    assert "«nombre@» no es un correo válido" in under["elements"][0]["text"]


def test_voucher_types_read_as_people_write_them_and_arca_names_the_group() -> None:
    modal = views.resend_modal(FormState(), CONTEXT, configured=BOTH, registry=REGISTRY)
    groups = by_id(modal, "tipo")["element"]["option_groups"]
    labels = {o["value"]: o["text"]["text"] for g in groups for o in g["options"]}
    assert labels["FACTURA B"] == "Factura B"
    assert labels["NOTA DE CREDITO A"] == "Nota de crédito A"
    assert labels["FACTURA NO VALIDA EN AFIP"] == "Factura no válida en AFIP"
    assert "No válidas en ARCA (ex AFIP)" in [g["label"]["text"] for g in groups]


@pytest.mark.parametrize(
    ("provider", "field"), [("tusfacturas", "numero"), ("lummy", "invoice_id")]
)
def test_the_field_that_identifies_the_invoice_dispatches_on_enter(
    provider: str, field: str
) -> None:
    modal = views.resend_modal(
        FormState(provider=provider), CONTEXT, configured=BOTH, registry=REGISTRY
    )
    dispatching = [b["block_id"] for b in modal["blocks"] if b.get("dispatch_action")]
    assert dispatching == ["provider", field]


def test_the_preview_shows_customer_document_and_where_it_goes() -> None:
    facts = InvoiceFacts(
        provider="tusfacturas",
        reference=VOUCHER.reference,
        customer_name="Panadería <La Espiga> S.R.L.",
        customer_id_type="CUIT",
        customer_id="30715432108",
        recipients=("compras@panaderialaespiga.com.ar",),
        issued_on=date(2026, 11, 14),
        total=Decimal("45230.50"),
        currency="ARS",
        status=InvoiceStatus.ISSUED,
    )
    form = form_from_text(VOUCHER.reference, REGISTRY)
    modal = views.resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY, preview=facts)
    assert_valid_modal(modal)
    preview = modal["blocks"][block_ids(modal).index("numero") + 1]["text"]["text"]
    assert preview.split("\n") == [
        ":bust_in_silhouette: *Panadería &lt;La Espiga&gt; S.R.L.* · CUIT 30-71543210-8",
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
    modal = views.resend_modal(
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
    modal = views.resend_modal(
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
    other = views.resend_modal(
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
        modal = views.resend_modal(
            form, CONTEXT, configured=BOTH, registry=REGISTRY, insight=insight, agent_tz=agent_tz
        )
        assert_valid_modal(modal)
        return json.dumps(modal, ensure_ascii=False)

    assert "Ya se usaron los 10 reenvíos por hora de esta factura en Lummy" in modal_text(None)
    assert "desde las 11:40." in modal_text("America/Argentina/Buenos_Aires")
    assert "desde las 08:40 (hora del centro de México)." in modal_text(None)


def test_a_huge_pasted_text_still_makes_a_valid_modal() -> None:
    form = form_from_text("x" * 5000, REGISTRY)
    modal = views.resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)
    assert_valid_modal(modal)
    assert all(len(t) <= 3000 for t in texts(modal["blocks"]))


def test_modal_is_valid_for_every_voucher_type() -> None:
    for tipo in ("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A", "RECIBO C", "FACTURA E"):
        form = FormState(provider="tusfacturas", values={"tipo": tipo})
        modal = views.resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)
        assert_valid_modal(modal)
        assert by_id(modal, "tipo")["element"]["initial_option"]["value"] == tipo


# --- a message's shortcut, the App Home, a workflow step -----------------------------------


def home_record(minutes: int, **extra: Any) -> AttemptRecord:
    values: dict[str, Any] = {
        "attempt_id": f"a{minutes}",
        "created_at": NOW - timedelta(minutes=minutes),
        "user_id": AGENT,
        "provider": "lummy",
        "invoice_key": f"lummy:{INVOICE_ID}",
        "reference": INVOICE_ID,
        "outcome": "success",
        "recipients": ("cliente@empresa.com",),
        "message_channel": "C0SUPPORT",
        "message_ts": "1741631400.000100",
        **extra,
    }
    return AttemptRecord(**values)


def test_home_lists_attempts_with_outcome_recipients_and_link() -> None:
    records = [
        home_record(5),
        home_record(
            60,
            provider="tusfacturas",
            reference="FACTURA B 0002-00000006 <script>",
            outcome="refused",
            detail="channel_not_allowed",
            recipients=(),
        ),
    ]
    view = views.home_view(
        records,
        registry=REGISTRY,
        links={"a5": "https://acme.slack.com/archives/C0SUPPORT/p1741631400000100"},
        agent_tz="America/Argentina/Buenos_Aires",
    )
    assert_valid_home(view)
    lines = [
        b["text"]["text"]
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("• ")
    ]
    (sent,) = [line for line in lines if INVOICE_ID in line]
    assert sent.startswith("• 10/03 15:25 · ")  # in the agent's time zone
    assert "(Lummy) · enviada · cliente@empresa.com" in sent
    assert sent.endswith("|ver mensaje>")
    (refused,) = [line for line in lines if "0002-00000006" in line]
    assert "&lt;script&gt;" in refused
    assert "no permitido · canal no habilitado" in refused
    assert "ver mensaje" not in refused
    assert views.HOME_OPEN_ACTION in json.dumps(view)
    assert not [leak for leak in LEAKS if leak in "\n".join(texts(view["blocks"]))]


@pytest.mark.parametrize(
    ("records", "shown"),
    [(None, strings.HOME_UNAVAILABLE), ([], strings.HOME_EMPTY)],
)
def test_home_without_attempts_says_why_in_one_line(records: Any, shown: str) -> None:
    view = views.home_view(records, registry=REGISTRY)
    assert_valid_home(view)
    (notice,) = [b for b in view["blocks"] if shown in json.dumps(b, ensure_ascii=False)]
    assert notice["type"] == "context"


def test_home_refusal_replaces_the_button() -> None:
    view = views.home_view([], registry=REGISTRY, refusal="Sin <permiso>.")
    assert_valid_home(view)
    assert views.HOME_OPEN_ACTION not in json.dumps(view)
    assert "Sin &lt;permiso&gt;." in json.dumps(view)


def test_home_with_twenty_attempts_is_valid() -> None:
    view = views.home_view([home_record(n) for n in range(20)], registry=REGISTRY)
    assert_valid_home(view)
    assert len(view["blocks"]) <= 100


def test_modal_from_a_message_offers_its_references_and_shows_its_addresses() -> None:
    context = ModalContext(
        channel_id="C0SUPPORT",
        thread_ts="1741631400.000100",
        choices=(("tusfacturas", "Factura B N° 0002-00000006"), ("lummy", INVOICE_ID)),
        emails=("ana@cliente.com",),
    )
    modal = views.resend_modal(
        FormState(provider="lummy", values={"invoice_id": INVOICE_ID, "message_reference": "1"}),
        context,
        registry=REGISTRY,
        configured=BOTH,
    )
    assert_valid_modal(modal)
    (choice,) = [b for b in modal["blocks"] if b.get("block_id") == "message_reference"]
    assert choice["dispatch_action"] is True
    assert choice["optional"] is True
    assert choice["element"]["initial_option"]["value"] == "1"
    assert [o["text"]["text"] for o in choice["element"]["options"]] == [
        "Factura B N° 0002-00000006 (TusFacturas)",
        f"{INVOICE_ID} (Lummy)",
    ]
    assert "Correos en el mensaje: ana@cliente.com." in json.dumps(modal, ensure_ascii=False)
    assert ModalContext.from_metadata(modal["private_metadata"]) == context


def test_step_outcome_is_one_plain_sentence() -> None:
    request = LummyInvoice(invoice_id=INVOICE_ID)
    result = ResendResult(
        provider="lummy", reference=INVOICE_ID, recipients=("cliente@empresa.com",), sent_at=SENT_AT
    )
    sent = views.step_outcome(request, REGISTRY, result=result)
    assert sent.startswith("Reenviada ")
    assert sent.endswith("(Lummy) a cliente@empresa.com.")
    on_file = ResendResult(provider="tusfacturas", reference=VOUCHER.reference)
    assert views.step_recipients(VOUCHER, on_file) == strings.DEFAULT_RECIPIENTS["tusfacturas"]

    missing = NotFoundError("HTTP 404", provider="lummy")
    explanation = error_message(missing, "Lummy")
    not_sent = views.step_outcome(request, REGISTRY, error=missing)
    assert not_sent.startswith("No se reenvió ")
    assert not_sent.endswith(explanation)
    unknown = views.step_outcome(
        request, REGISTRY, error=OutcomeUnknownError("timeout", provider="lummy")
    )
    assert unknown.startswith("Resultado incierto de ")
    for text in (sent, not_sent, unknown):
        assert "*" not in text
        assert "`" not in text
        assert ":" not in text.split(" ", 1)[0]
