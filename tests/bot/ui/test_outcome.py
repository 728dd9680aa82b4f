"""The messages of a re-send: Spanish content, Slack's limits, escaping, valid Block Kit."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.jobs import ResendJob
from bot.ui import strings
from bot.ui.blocks import SlackMessage, escape
from bot.ui.outcome import (
    RETRY_ACTION,
    audit_line,
    failure_message,
    help_message,
    internal_error_message,
    notice_message,
    progress_message,
    sent_to,
    success_message,
    with_dm_notice,
)
from bot.ui.wording import error_message, invoice_phrase
from providers.base import InvoiceFacts, ResendResult
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
from providers.lummy.model import LummyInvoice
from providers.tusfacturas.model import Operacion, TusFacturasVoucher
from tests.bot.ui.conftest import (
    AGENT,
    INVOICE_ID,
    NOW,
    SENT_AT,
    VOUCHER,
    attempt_record,
    check,
    shown,
    texts,
)
from tests.conftest import REGISTRY

LUMMY_JOB = ResendJob(request=LummyInvoice(invoice_id=INVOICE_ID), requested_by=AGENT)
TF_JOB = ResendJob(request=VOUCHER, requested_by=AGENT)
COMPRA_JOB = ResendJob(
    request=TusFacturasVoucher(
        tipo="NOTA DE CREDITO A", operacion=Operacion.COMPRA, punto_venta=1, numero=1534
    ),
    requested_by=AGENT,
)


def retry_buttons(message: SlackMessage) -> list[dict[str, Any]]:
    return [
        element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == RETRY_ACTION
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
    message = success_message(LUMMY_JOB, lummy_result(), now=NOW, registry=REGISTRY)
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
    lummy = success_message(
        LUMMY_JOB, lummy_result(), now=NOW, registry=REGISTRY, facts=LUMMY_FACTS
    )
    tf = success_message(
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
    message = success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    text = check(message)
    assert "10/03/2025 18:30 UTC" in text
    assert lines(message)[0] == (
        f":white_check_mark: *Se reenvió a {strings.DEFAULT_RECIPIENTS['lummy']}*"
    )
    assert "al correo que tenemos registrado" in text
    assert "ID de solicitud" not in text


def test_lummy_success_with_several_recipients() -> None:
    result = lummy_result(recipients=("a@x.mx", "b@x.mx", "c@x.mx"))
    message = success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    assert "Se reenvió a a@x.mx, b@x.mx y c@x.mx*" in check(message)


def test_tusfacturas_success_names_the_addresses_from_the_lookup_or_says_it_cannot() -> None:
    result = ResendResult(provider="tusfacturas", reference=VOUCHER.reference)
    known = success_message(TF_JOB, result, now=NOW, registry=REGISTRY, facts=TF_FACTS)
    unknown = success_message(TF_JOB, result, now=NOW, registry=REGISTRY)

    assert lines(known)[0] == ":white_check_mark: *Se reenvió a compras@panaderialaespiga.com.ar*"
    assert sent_to(VOUCHER, result, TF_FACTS) == ("compras@panaderialaespiga.com.ar",)
    assert lines(unknown)[0] == (
        ":white_check_mark: *Se reenvió a los correos cargados en el cliente (TusFacturas no "
        "informa cuáles)*"
    )
    assert sent_to(VOUCHER, result, None) == ()
    assert "Factura B 0002-00000006 en TusFacturas" in check(unknown)
    assert "FACTURA B" not in check(known)
    assert "(compra)" not in check(known)


def test_an_alternative_address_wins_over_the_addresses_on_file() -> None:
    job = ResendJob(
        request=LummyInvoice(invoice_id=INVOICE_ID, email="otro@cliente.com"), requested_by=AGENT
    )
    result = lummy_result(recipients=())
    assert sent_to(job.request, result, LUMMY_FACTS) == ()
    assert sent_to(job.request, lummy_result(), LUMMY_FACTS) == ("cliente@empresa.com",)


def test_tusfacturas_rta_is_read_for_its_addresses_not_shown() -> None:
    says_who = ResendResult(
        provider=TF,
        reference=VOUCHER.reference,
        recipients=("compras@panaderialaespiga.com.ar",),
        provider_message="El comprobante fue reenviado a compras@panaderialaespiga.com.ar",
    )
    text = check(success_message(TF_JOB, says_who, now=NOW, registry=REGISTRY))
    assert f"{strings.SUCCESS_HEADLINE.split('{')[0]}compras@panaderialaespiga.com.ar*" in text
    assert "El comprobante fue reenviado" not in text


def test_compra_is_marked_in_every_message_about_it() -> None:
    result = ResendResult(provider="tusfacturas", reference=COMPRA_JOB.request.reference)
    success = success_message(COMPRA_JOB, result, now=NOW, registry=REGISTRY)
    failure = failure_message(
        COMPRA_JOB, NotFoundError("HTTP 404", provider="tusfacturas"), REGISTRY
    )
    progress = progress_message(COMPRA_JOB, REGISTRY)
    for message in (success, failure, progress):
        assert "ota de crédito A 0001-00001534 (compra)" in check(message)


def test_success_on_a_later_attempt_says_which() -> None:
    job = LUMMY_JOB.next_attempt()
    text = check(success_message(job, lummy_result(), now=NOW, registry=REGISTRY))
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
            strings.RETRY_CONFIRM_REPLAYED.format(provider="Lummy"),
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
    message = failure_message(job, error, REGISTRY)
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
    assert second.startswith(escape(error_message(error, REGISTRY[error.provider].label)))
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
    message = failure_message(job, ProviderUnavailableError("503", provider=LUMMY), REGISTRY)
    assert "Intento 2" in check(message)
    (button,) = retry_buttons(message)
    assert ResendJob.from_button_value(button["value"], REGISTRY).attempt == 3


def test_a_huge_provider_message_is_clipped_to_slacks_limits() -> None:
    huge = "Error interno del proveedor. " * 200  # ~5800 characters
    failure = failure_message(
        LUMMY_JOB,
        RejectedError("x", provider=LUMMY, messages=(huge,), codes=("C",) * 400),
        REGISTRY,
    )
    success = success_message(
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
    message = success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    check(message)
    assert all(len(t) <= 3000 for t in texts(message.blocks))
    assert "contabilidad0@empresa-de-prueba.com.mx" in lines(message)[0]
    assert "y 70 más" in lines(message)[0]


MARKUP = "<!channel> <http://phish.example|aquí> & <@U123>"
ESCAPED = "&lt;!channel&gt; &lt;http://phish.example|aquí&gt; &amp; &lt;@U123&gt;"


def test_provider_text_is_escaped_in_failures() -> None:
    error = RejectedError("x", provider=TF, messages=(MARKUP,), codes=("<b>",), request_id="<id&>")
    text = check(failure_message(TF_JOB, error, REGISTRY))
    assert ESCAPED in text
    assert "(&lt;b&gt;)" in text
    assert "`&lt;id&amp;&gt;`" in text
    assert "<!channel>" not in text
    assert "<http://phish" not in text


def test_provider_text_is_escaped_in_successes() -> None:
    result = lummy_result(
        recipients=("a&b@x.mx", "<c@x.mx>"), request_id="<r>", provider_message=MARKUP
    )
    message = success_message(LUMMY_JOB, result, now=NOW, registry=REGISTRY)
    text = check(message)
    assert "a&amp;b@x.mx y &lt;c@x.mx&gt;" in text
    assert "a&amp;b@x.mx" in message.text
    assert "<!channel>" not in text
    assert "<c@x.mx>" not in text


# --- other messages ---------------------------------------------------------------


def test_internal_error_message_with_and_without_a_job() -> None:
    bare = internal_error_message("E-ABC123")
    text = check(bare)
    assert "Algo falló dentro del bot (error E-ABC123)" in text
    assert "administrador" in text
    # Nothing had started: the message says so instead of hinting at a lost re-send.
    assert "no se envió nada" in text
    assert "puede no haberse completado" not in text
    with_job = internal_error_message("E-ABC123", TF_JOB, REGISTRY)
    assert with_job.text.startswith("Factura B 0002-00000006 (TusFacturas). Algo falló")
    assert "puede no haberse completado" in with_job.text
    check(with_job)


def test_help_message() -> None:
    message = help_message()
    text = check(message)
    assert "/reenviar Factura B 0002-00000006" in text
    assert "otro@cliente.com" in text
    assert "`/reenviar`: abre el formulario" in text


def test_progress_message() -> None:
    first = progress_message(LUMMY_JOB, REGISTRY)
    text = check(first)
    assert first.text == f"Reenviando Factura 550e8400 (Lummy), a solicitud de <@{AGENT}>…"
    assert ":hourglass_flowing_sand:" in text
    assert "Intento" not in text
    again = progress_message(LUMMY_JOB.next_attempt().next_attempt(), REGISTRY)
    assert "Intento 3." in check(again)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("C0SUPPORT", "No se pudo publicar en <#C0SUPPORT>"),
        (None, "No se pudo publicar en el canal"),
    ],
)
def test_dm_notice_comes_first_and_keeps_the_message(channel: str | None, expected: str) -> None:
    original = progress_message(LUMMY_JOB, REGISTRY)
    dm = with_dm_notice(original, channel)
    check(dm)
    assert dm.text == original.text
    assert dm.blocks[0]["type"] == "context"
    assert expected in dm.blocks[0]["elements"][0]["text"]
    assert dm.blocks[1:] == original.blocks


def test_notice_message() -> None:
    message = notice_message(strings.RETRY_EXPIRED)
    assert check(message).startswith(strings.RETRY_EXPIRED)


# --- the audit channel ------------------------------------------------------------


def test_audit_line_names_who_what_where_and_links_the_message() -> None:
    link = "https://acme.slack.com/archives/C0SUPPORT/p1741631400000100"
    sent = audit_line(attempt_record(5), link=link, registry=REGISTRY)
    check(sent)
    assert sent.text == (
        f":white_check_mark: <@{AGENT}> · Factura 550e8400 (Lummy) · enviada · <{link}|ver mensaje>"
    )
    assert [block["type"] for block in sent.blocks] == ["context"]


def test_audit_line_explains_a_refusal_and_a_duplicate_warning_escaped() -> None:
    refused = attempt_record(
        60,
        provider="tusfacturas",
        reference="FACTURA B 0002-00000006 <script>",
        outcome="refused",
        detail="channel_not_allowed",
    )
    text = check(audit_line(refused, link=None, registry=REGISTRY))
    assert "«FACTURA B 0002-00000006 &lt;script&gt;» (TusFacturas)" in text
    assert text.endswith("no permitido · canal no habilitado")
    warned = attempt_record(
        3, outcome="duplicate_warning", detail="U0OTHER", channel_id="C0SUPPORT"
    )
    text = check(audit_line(warned, link=None, registry=REGISTRY))
    assert "(Lummy) en <#C0SUPPORT> · aviso de duplicado · ya reenviada por <@U0OTHER>" in text
