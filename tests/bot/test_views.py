"""Block Kit builders: Spanish content, Slack's limits, escaping, valid Block Kit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.resend.jobs import ResendJob
from bot.ui import strings, views
from bot.ui.forms import FormState, ModalContext, form_from_text
from bot.ui.views import SlackMessage
from bot.ui.wording import error_message
from providers.base import ResendResult
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
from tests.blockkit import assert_valid_blocks, assert_valid_modal
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


def test_lummy_success_with_sent_at_shows_utc_and_local_time() -> None:
    message = views.success_message(
        LUMMY_JOB, lummy_result(), now=NOW, agent_tz="America/Mexico_City", registry=REGISTRY
    )
    text = check(message)
    assert strings.SUCCESS_HEADER in text
    assert message.text == f"Comprobante reenviado: `{INVOICE_ID}` (Lummy) a cliente@empresa.com."
    assert f"*{strings.FIELD_SENT_AT}*\n10/03/2025 17:05:09 UTC" in text
    assert "10/03/2025 11:05 hora local (America/Mexico_City)" in text
    assert "ID de solicitud: `req-123`" in text
    assert f"<@{AGENT}>" in text
    assert "Intento" not in text
    assert retry_buttons(message) == []


def test_lummy_success_without_sent_at_is_confirmed_at_now() -> None:
    result = lummy_result(sent_at=None, recipients=(), request_id=None)
    text = check(
        views.success_message(LUMMY_JOB, result, now=NOW, agent_tz=None, registry=REGISTRY)
    )
    assert f"*{strings.FIELD_CONFIRMED_AT}*\n10/03/2025 18:30:00 UTC" in text
    assert strings.FIELD_SENT_AT + "*" not in text
    assert strings.DEFAULT_RECIPIENTS["lummy"] in text
    assert "hora local" not in text
    assert "ID de solicitud" not in text


def test_unknown_time_zone_falls_back_to_utc_only() -> None:
    text = check(
        views.success_message(
            LUMMY_JOB, lummy_result(), now=NOW, agent_tz="Mars/Base", registry=REGISTRY
        )
    )
    assert "UTC" in text
    assert "hora local" not in text


def test_lummy_success_with_several_recipients() -> None:
    result = lummy_result(recipients=("a@x.mx", "b@x.mx"))
    message = views.success_message(LUMMY_JOB, result, now=NOW, agent_tz=None, registry=REGISTRY)
    assert "a@x.mx, b@x.mx" in check(message)


def test_tusfacturas_success_shows_the_rta_and_the_customer_file() -> None:
    result = ResendResult(
        provider="tusfacturas",
        reference=VOUCHER.reference,
        provider_message="El comprobante fue reenviado a compras@panaderialaespiga.com.ar",
    )
    message = views.success_message(
        TF_JOB, result, now=NOW, agent_tz="America/Argentina/Cordoba", registry=REGISTRY
    )
    text = check(message)
    assert "`FACTURA B 0002-00000006`" in text
    assert strings.DEFAULT_RECIPIENTS["tusfacturas"] in text
    assert (
        "Respuesta de TusFacturas: _El comprobante fue reenviado a "
        "compras@panaderialaespiga.com.ar_" in text
    )
    assert "10/03/2025 15:30 hora local (America/Argentina/Cordoba)" in text
    assert "(compra)" not in text


def test_compra_is_marked_in_every_message_about_it() -> None:
    result = ResendResult(provider="tusfacturas", reference=COMPRA_JOB.request.reference)
    success = views.success_message(COMPRA_JOB, result, now=NOW, agent_tz=None, registry=REGISTRY)
    failure = views.failure_message(
        COMPRA_JOB, NotFoundError("HTTP 404", provider="tusfacturas"), REGISTRY
    )
    progress = views.progress_message(COMPRA_JOB, REGISTRY)
    for message in (success, failure, progress):
        assert "`NOTA DE CREDITO A 0001-00001534` (compra) (TusFacturas)" in check(message)


def test_success_on_a_later_attempt_says_which() -> None:
    job = LUMMY_JOB.next_attempt()
    text = check(
        views.success_message(job, lummy_result(), now=NOW, agent_tz=None, registry=REGISTRY)
    )
    assert "Intento 2." in text


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
        ["rechazó el e-mail alternativo"],
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
        ["no encontró ese comprobante", "ID de solicitud: `req-404`"],
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
            "TusFacturas rechazó el reenvío.",
            "Respuesta de TusFacturas: _El comprobante solicitado no existe._ (TFC-8004, TFC-1002)",
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
            "(TFC-8010)",
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
        [strings.UNKNOWN_HEADER, "pudo haber salido de todos modos", strings.RETRY_CONFIRM_UNKNOWN],
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
    assert job.request.reference in message.text
    assert error.detail not in text, "the technical detail is for logs only"
    header = strings.UNKNOWN_HEADER if error.may_have_sent else strings.FAILURE_HEADER
    assert message.blocks[0] == {"type": "header", "text": views._plain(header)}

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
    assert "Intento 2." in check(message)
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
        agent_tz=None,
        registry=REGISTRY,
    )
    for message in (failure, success):
        check(message)
        assert all(len(t) <= 3000 for t in texts(message.blocks))
        assert "…" in shown(message)
        assert len(json.dumps(message.blocks)) < 12_000


def test_many_recipients_stay_within_the_section_field_limit() -> None:
    recipients = tuple(f"contabilidad{i}@empresa-de-prueba.com.mx" for i in range(80))
    result = lummy_result(recipients=recipients)
    message = views.success_message(LUMMY_JOB, result, now=NOW, agent_tz=None, registry=REGISTRY)
    check(message)
    fields = next(b["fields"] for b in message.blocks if "fields" in b)
    assert all(len(field["text"]) <= 2000 for field in fields)
    assert "contabilidad0@empresa-de-prueba.com.mx" in str(fields)
    assert "y 70 más" in str(fields)


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
    message = views.success_message(LUMMY_JOB, result, now=NOW, agent_tz=None, registry=REGISTRY)
    text = check(message)
    assert ESCAPED in text
    assert "a&amp;b@x.mx, &lt;c@x.mx&gt;" in text
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
    assert with_job.text.startswith("`FACTURA B 0002-00000006` (TusFacturas). Algo falló")
    assert "puede no haberse completado" in with_job.text
    check(with_job)


def test_help_message() -> None:
    message = views.help_message()
    text = check(message)
    assert "/reenviar FACTURA B 0002-00000006" in text
    assert "otro@cliente.com" in text
    assert "`/reenviar`: abre el formulario" in text


def test_progress_message() -> None:
    first = views.progress_message(LUMMY_JOB, REGISTRY)
    text = check(first)
    assert first.text == f"Reenviando `{INVOICE_ID}` (Lummy), a solicitud de <@{AGENT}>…"
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


def test_a_prefill_problem_is_noted_and_what_was_understood_kept() -> None:
    form = form_from_text("FACTURA Q 0002-00000006", REGISTRY)
    modal = views.resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)
    assert_valid_modal(modal)
    assert modal["blocks"][0]["type"] == "context"
    assert "No se entendió todo lo escrito" in modal["blocks"][0]["elements"][0]["text"]


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
