"""Block Kit as terminal text, and modals as prompts, built from the bot's real view builders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.jobs import ResendJob
from bot.ui import strings
from bot.ui.blocks import SlackMessage
from bot.ui.forms import form_from_text, form_from_view_state, request_from_form
from bot.ui.outcome import (
    RETRY_ACTION,
    failure_message,
    help_message,
    progress_message,
    success_message,
)
from bot.ui.resend_modal import FormState, ModalContext, resend_modal
from devkit.demo.render import (
    Names,
    Prompt,
    action_entry,
    buttons_in,
    confirm_labels,
    looks_in_progress,
    modal_form,
    mrkdwn_to_text,
    parse_answer,
    prompt_line,
    render_block,
    render_confirm,
    render_errors,
    render_message,
    render_modal_intro,
    render_prompt,
    searchable,
    state_values,
)
from devkit.localslack import radio_action
from providers.base import ResendResult
from providers.errors import NotFoundError, OutcomeUnknownError, ProviderUnavailableError
from providers.lummy.model import LummyInvoice
from providers.tusfacturas.model import VOUCHER_TYPES
from tests.conftest import REGISTRY
from tests.e2e import says

AGENT = "U0ANA"
NAMES = Names(users={AGENT: "ana", "U0BOT": "reenviar"}, channels={"C0SOP": "soporte"})
LUMMY_ID = "550e8400-e29b-41d4-a716-446655440000"
BOTH = {"tusfacturas": True, "lummy": True}
CONTEXT = ModalContext(channel_id="C0SOP", response_url="https://example.invalid/r")
NOW = datetime(2025, 1, 20, 10, 31, tzinfo=UTC)


def lummy_job(attempt: int = 1) -> ResendJob:
    return ResendJob(
        request=LummyInvoice(invoice_id=LUMMY_ID),
        requested_by=AGENT,
        idempotency_key="6f1c3a52-0000-4000-8000-000000000001",
        attempt=attempt,
    )


def show(message: SlackMessage, footer: str | None = "(demo)") -> str:
    return render_message(
        heading="#soporte", text=message.text, blocks=message.blocks, names=NAMES, footer=footer
    )


# --- mrkdwn ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mrkdwn", "text"),
    [
        ("*Proveedor*", "Proveedor"),
        ("Respuesta de Lummy: _Invoice not found_", "Respuesta de Lummy: Invoice not found"),
        ("~tachado~ y `cod_igo_`", "tachado y `cod_igo_`"),
        ("solicitado por <@U0ANA>", "solicitado por @ana"),
        ("en <#C0SOP> y <#C9|otro>", "en #soporte y #otro"),
        ("<@U0NOBODY>", "@U0NOBODY"),
        ("<https://tusfacturas.app|TusFacturas>", "TusFacturas (https://tusfacturas.app)"),
        ("<mailto:a@b.com|a@b.com>", "a@b.com"),
        ("<!here> ya", "@here ya"),
        (":white_check_mark: listo :x: :unknown_emoji:", "✅ listo ❌ :unknown_emoji:"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("mlopez_estudio@gmail.com", "mlopez_estudio@gmail.com"),
    ],
)
def test_mrkdwn_reads_as_plain_text(mrkdwn: str, text: str) -> None:
    assert mrkdwn_to_text(mrkdwn, NAMES) == text


def test_searchable_ignores_frames_case_accents_and_spacing() -> None:
    framed = "┌─ #soporte\n│ ✅ Comprobante   REENVIADO\n│ Enviado a: x@y.com\n└─"
    assert searchable("comprobante reenviado enviado a: x@y.com") in searchable(framed)
    assert searchable("México") == searchable("mexico")


# --- messages --------------------------------------------------------------------


def test_success_message_leads_with_the_recipient_then_a_ready_reply() -> None:
    result = ResendResult(
        provider="lummy",
        reference=LUMMY_ID,
        recipients=("cliente@empresa.com",),
        sent_at=datetime(2025, 1, 20, 10, 30, tzinfo=UTC),
        request_id="abc123-def456",
    )
    message = success_message(lummy_job(), result, now=NOW, registry=REGISTRY)

    assert show(message) == "\n".join(
        [
            "┌─ #soporte",
            "│ ✅ Se reenvió a cliente@empresa.com",
            "│ Factura 550e8400 en Lummy · 20/01 04:30, hora del centro de México · "
            "pedido por @ana",
            "│ > Le reenviamos su factura a cliente@empresa.com hoy a las 04:30. Si no le llega, "
            "revise el correo no deseado.",
            "│ 20/01/2025 10:30 UTC · ID de solicitud: `abc123-def456` · Clave: `6f1c3a52`",
            "│ (demo)",
            "└─",
        ]
    )
    assert not looks_in_progress(message.blocks)
    assert buttons_in(message.blocks) == []


def test_failure_message_with_provider_text_and_request_id() -> None:
    error = NotFoundError(
        "404",
        provider="lummy",
        status_code=404,
        request_id="abc123-def456",
        provider_message="Invoice not found",
    )

    assert show(failure_message(lummy_job(), error, REGISTRY), footer=None) == "\n".join(
        [
            "┌─ #soporte",
            "│ ❌ No se pudo reenviar la factura 550e8400",
            "│ " + strings.PROVIDER_ERRORS["not_found.lummy"],
            "│ Pedido por @ana (Lummy) · Detalle técnico: Lummy respondió «Invoice not found» · "
            "ID de solicitud: `abc123-def456`",
            "│ [Corregir y reenviar]",
            "└─",
        ]
    )


def test_retry_button_reads_as_a_label_and_carries_its_confirm_dialog() -> None:
    error = ProviderUnavailableError("503", provider="lummy", status_code=503)
    message = failure_message(lummy_job(), error, REGISTRY)

    rendered = show(message)
    assert "│ [Reintentar]" in rendered.splitlines()
    assert rendered.splitlines()[-2:] == ["│ (demo)", "└─"]
    (button,) = buttons_in(message.blocks)
    assert button.label == "Reintentar"
    assert button.action_id == RETRY_ACTION
    assert ResendJob.from_button_value(str(button.value), REGISTRY).attempt == 2
    assert button.confirm is not None
    assert confirm_labels(button.confirm) == ("Reintentar", "Cancelar")
    assert render_confirm(button.confirm) == "\n".join(
        [
            "┌─ ¿Reintentar el reenvío?",
            "│ " + strings.RETRY_CONFIRM_SAFE,
            "│ [Reintentar]  [Cancelar]",
            "└─",
        ]
    )


def test_unknown_outcome_warns_in_the_confirm_dialog() -> None:
    error = OutcomeUnknownError("timeout", provider="lummy")
    (button,) = buttons_in(failure_message(lummy_job(), error, REGISTRY).blocks)
    assert button.confirm is not None
    assert strings.RETRY_CONFIRM_REPLAYED.format(provider="Lummy") in render_confirm(button.confirm)


def test_section_text_help_and_progress() -> None:
    help_text = show(help_message(), footer=None)
    assert help_text.splitlines()[1] == "│ Reenviar una factura al cliente"
    assert "│ • `/reenviar Factura B 0002-00000006`: TusFacturas" in help_text
    progress = progress_message(lummy_job(), REGISTRY)
    assert show(progress, footer=None).splitlines()[1] == (
        "│ ⏳ Reenviando Factura 550e8400 (Lummy), a solicitud de @ana…"
    )
    assert looks_in_progress(progress.blocks)


def test_plain_text_message_without_blocks_and_other_blocks() -> None:
    assert render_message(heading="DM", text="*hola* <@U0ANA>", names=NAMES).splitlines() == [
        "┌─ DM",
        "│ hola @ana",
        "└─",
    ]
    assert render_block({"type": "divider"}) == ["─" * 24]
    assert render_block(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "a"}, {"type": "plain_text", "text": "b"}],
        }
    ) == ["a   ·   b"]
    assert render_block({"type": "image", "image_url": "x", "alt_text": "logo"}) == [
        "[imagen: logo]"
    ]
    assert render_block({"type": "video"}) == ["[bloque video]"]


# --- modals: Lummy ---------------------------------------------------------------


def lummy_modal(**values: str) -> dict[str, Any]:
    form = FormState(provider="lummy", values=values)
    return resend_modal(form, CONTEXT, configured=BOTH, registry=REGISTRY)


def test_lummy_modal_prompts() -> None:
    form = modal_form({**lummy_modal(invoice_id=LUMMY_ID), "id": "V1"}, NAMES)

    assert (form.view_id, form.title, form.submit, form.close) == (
        "V1",
        "Reenviar comprobante",
        "Reenviar",
        "Cancelar",
    )
    assert form.notes == ()
    provider, invoice, email = form.prompts
    assert (provider.block_id, provider.action_id, provider.element_type) == (
        "provider",
        "provider_choice",
        "radio_buttons",
    )
    assert provider.dispatch_action
    assert [(c.value, c.text) for c in provider.choices] == [
        ("tusfacturas", "TusFacturas (Argentina)"),
        ("lummy", "Lummy (México)"),
    ]
    assert provider.default == "lummy"
    assert (invoice.label, invoice.default, invoice.optional) == (
        "ID de la factura en Lummy",
        LUMMY_ID,
        False,
    )
    assert (email.element_type, email.optional, email.default) == (
        "email_text_input",
        True,
        None,
    )
    assert email.hint == strings.FIELD_HINTS["email"]

    assert render_prompt(provider) == "\n".join(
        ["▸ Proveedor", "    1) TusFacturas (Argentina)", "    2) Lummy (México)"]
    )
    assert prompt_line(provider, provider.default) == "Proveedor [2: Lummy (México)]: "
    assert prompt_line(invoice, invoice.default) == f"ID de la factura en Lummy [{LUMMY_ID}]: "
    assert prompt_line(email, None) == "Correo alternativo (Enter para dejarlo vacío): "
    assert render_prompt(email, error="mal") == "\n".join(
        ["▸ Correo alternativo (opcional)", f"    {strings.FIELD_HINTS['email']}", "    ⚠ mal"]
    )
    assert render_modal_intro(form).splitlines()[0] == (
        "┌─ Formulario «Reenviar comprobante»   [Reenviar]  [Cancelar]"
    )


def test_empty_lummy_id_shows_the_placeholder_as_an_example() -> None:
    (_, invoice, _) = modal_form(lummy_modal()).prompts
    assert invoice.default is None
    assert prompt_line(invoice, None) == (
        "ID de la factura en Lummy (p. ej. 550e8400-e29b-41d4-a716-446655440000): "
    )


def test_answers_become_the_state_values_the_bot_reads() -> None:
    form = modal_form(lummy_modal(invoice_id=LUMMY_ID))
    provider, invoice, email = form.prompts
    answers = {
        provider.block_id: parse_answer(provider, "", provider.default).value,
        invoice.block_id: parse_answer(invoice, "", invoice.default).value,
        email.block_id: parse_answer(email, " otro@cliente.com ", None).value,
    }

    values = state_values(form.prompts, answers)

    assert values["provider"]["provider_choice"]["selected_option"]["value"] == "lummy"
    assert values["email"]["value"] == {"type": "email_text_input", "value": "otro@cliente.com"}
    request = request_from_form(form_from_view_state(values, REGISTRY), REGISTRY)
    assert isinstance(request, LummyInvoice)
    assert (str(request.invoice_id), request.email) == (LUMMY_ID, "otro@cliente.com")


def test_unanswered_fields_submit_their_prefilled_values() -> None:
    form = modal_form(lummy_modal(invoice_id=LUMMY_ID))
    values = state_values(form.prompts, {})
    assert values["invoice_id"]["value"]["value"] == LUMMY_ID
    assert values["email"]["value"] == {"type": "email_text_input", "value": None}


def test_provider_switch_sends_the_radio_action_slack_sends() -> None:
    provider = modal_form(lummy_modal()).prompts[0]
    assert action_entry(provider, "tusfacturas") == radio_action(
        "provider_choice", "tusfacturas", "TusFacturas (Argentina)", block_id="provider"
    )


# --- modals: TusFacturas ---------------------------------------------------------


def test_tusfacturas_modal_prefilled_from_pasted_text() -> None:
    view = resend_modal(
        form_from_text("FACTURA B 0002-00000006", REGISTRY),
        CONTEXT,
        configured=BOTH,
        registry=REGISTRY,
    )
    form = modal_form(view)
    provider, tipo, operacion, punto_venta, numero = form.prompts

    assert provider.default == "tusfacturas"
    assert tipo.element_type == "static_select"
    assert {c.value for c in tipo.choices} == set(VOUCHER_TYPES)
    assert len(tipo.choices) == 27
    assert tipo.default == "FACTURA B"
    number = [c.value for c in tipo.choices].index("FACTURA B") + 1
    assert prompt_line(tipo, tipo.default) == f"Tipo de comprobante [{number}: Factura B]: "
    assert operacion.default == "V"
    assert prompt_line(operacion, "V") == "Operación [1: Venta]: "
    assert (punto_venta.default, numero.default) == ("0002", "00000006")
    assert numero.hint == strings.FIELD_HINTS["tusfacturas.numero"]


def test_option_groups_are_flattened_with_their_headings() -> None:
    view = resend_modal(
        FormState(provider="tusfacturas"), CONTEXT, configured=BOTH, registry=REGISTRY
    )
    tipo = modal_form(view).prompt("tipo")
    groups = list(dict.fromkeys(c.group for c in tipo.choices))
    assert None not in groups
    assert set(groups) == set(strings.CHOICE_GROUPS.values())

    lines = render_prompt(tipo).splitlines()
    assert lines[0] == "▸ Tipo de comprobante"
    numbered = [line for line in lines[1:] if re.match(r"\s+\d+\) ", line)]
    headings = [line.strip() for line in lines[1:] if line not in numbered]
    assert headings == groups
    assert len(numbered) == 27
    # Numbering runs across the groups, each option under its group heading.
    facturas = lines.index("    Facturas")
    assert lines[facturas + 1].endswith(") Factura A")
    assert lines[facturas + 1].startswith("      ")
    # The everyday types come first; the rare ones (FCE, not valid in AFIP) last.
    assert numbered[0].strip() == "1) Factura A"
    assert numbered[-1].strip() == "27) Nota de crédito no válida en AFIP"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("factura b", "FACTURA B"),
        ("  FACTURA   B ", "FACTURA B"),
        ("recibo", "RECIBO C"),
        (
            "NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A",
            "NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A",
        ),
    ],
)
def test_choosing_an_option_by_number_or_text(typed: str, value: str) -> None:
    tipo = modal_form(
        resend_modal(FormState(provider="tusfacturas"), CONTEXT, configured=BOTH, registry=REGISTRY)
    ).prompt("tipo")
    assert parse_answer(tipo, typed, None).value == value
    number = [c.value for c in tipo.choices].index(value) + 1
    assert parse_answer(tipo, str(number), None).value == value


def test_answers_slack_would_refuse_before_submitting() -> None:
    form = modal_form(resend_modal(FormState(), CONTEXT, configured=BOTH, registry=REGISTRY))
    provider, tipo, *_ = form.prompts
    email = modal_form(lummy_modal()).prompt("email")
    punto_venta = form.prompt("punto_venta")

    assert parse_answer(provider, "3", provider.default).error is not None
    assert parse_answer(provider, "mexico", provider.default).value == "lummy"
    assert parse_answer(tipo, "factura", None).error is not None  # ambiguous
    assert parse_answer(punto_venta, "", None).error == "Este campo es obligatorio."
    assert parse_answer(punto_venta, "-", "0002").error == "Este campo es obligatorio."
    assert parse_answer(punto_venta, "", "0002").value == "0002"
    assert parse_answer(email, "no-es-mail", None).error is not None
    assert parse_answer(email, "", None).value is None
    assert parse_answer(email, "-", "a@b.com").value is None
    # What Slack lets through, the bot judges (inline errors): not a number, out of range.
    assert parse_answer(punto_venta, "abc", None).value == "abc"


def test_notice_and_not_configured_provider_are_notes() -> None:
    view = resend_modal(
        form_from_text("FACTURA Z 0002-00000006", REGISTRY),
        CONTEXT,
        configured={"tusfacturas": False, "lummy": True},
        registry=REGISTRY,
    )
    form = modal_form(view)
    not_configured, problem = form.notes
    # The tipo's problem is shown under the tipo, quoting what was typed.
    assert problem == "⚠ " + says("tipo_unknown", text="FACTURA Z")
    assert not_configured == "⛔ " + strings.PROVIDER_ERRORS["not_configured"].format(
        provider="TusFacturas"
    )
    provider = form.prompt("provider")
    assert provider.choices[0].description == strings.PROVIDER_NOT_CONFIGURED_SHORT
    assert "1) TusFacturas (Argentina) (No configurado en el bot)" in render_prompt(provider)
    intro = render_modal_intro(form)
    assert "│ ⛔ TusFacturas no está configurado en el bot." in intro


def test_inline_errors_are_shown_under_their_field_labels() -> None:
    form = modal_form(resend_modal(FormState(), CONTEXT, configured=BOTH, registry=REGISTRY))
    rendered = render_errors(form, {"punto_venta": says("punto_venta_invalid", limit=99_999)})
    assert rendered.splitlines() == [
        "┌─ El formulario no se envió: corregir lo marcado",
        "│ Punto de venta",
        f"│   ⚠ {says('punto_venta_invalid', limit=99_999)}",
        "└─",
    ]


# --- checkboxes (the duplicate guard's confirmation) ---------------------------------


def test_checkboxes_are_marked_by_number_or_yes() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [
            {
                "type": "input",
                "block_id": "confirm_duplicate",
                "label": {"type": "plain_text", "text": "Confirmación"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "Reenviar igual"},
                            "value": "confirmed",
                        }
                    ],
                },
            }
        ],
    }
    (box,) = modal_form(view).prompts
    assert isinstance(box, Prompt)
    assert box.is_multi
    assert prompt_line(box, None) == "Confirmación («s» o 1 para marcarla): "
    assert parse_answer(box, "s", None).value == ("confirmed",)
    assert parse_answer(box, "1", None).value == ("confirmed",)
    assert parse_answer(box, "", None).error == "Este campo es obligatorio."
    entry = state_values([box], {"confirm_duplicate": ("confirmed",)})
    assert entry["confirm_duplicate"]["value"]["selected_options"][0]["value"] == "confirmed"
    assert form_from_view_state(entry, REGISTRY).values["confirm_duplicate"] == "confirmed"


def test_the_progress_message_is_recognised_by_its_block_id_not_its_wording() -> None:
    worded = [{"type": "section", "text": {"type": "mrkdwn", "text": "Reenviando `x`…"}}]
    marked = [
        {"type": "section", "block_id": "resend_progress", "text": {"type": "mrkdwn", "text": "x"}}
    ]

    assert not looks_in_progress(worded)
    assert looks_in_progress(marked)
