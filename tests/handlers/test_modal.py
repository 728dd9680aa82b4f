"""The re-send modal end to end: switching provider, inline errors, and every outcome.

The bot runs as in production behind signed HTTP; the fake Slack applies what the
bot answers to its views, and the provider emulators record what reached them.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.ui import strings
from bot.ui.outcome import FIX_ACTION
from devkit.emulators import Fault, FaultKind, LummySend, TusFacturasEmulator
from devkit.localslack import plain_text_value, radio_action, radio_value
from devkit.localslack.webapi import JsonDict, Message
from tests.conftest import (
    AGENT,
    CHANNEL,
    LUMMY_API_KEY,
    LUMMY_ORG,
    OTHER_AGENT,
    SEED_LUMMY_ID,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
    Bot,
)
from tests.e2e import (
    MAYBE_SENT,
    NOT_SENT,
    SEED_VOUCHER,
    SENT,
    lummy_values,
    resends,
    retry_buttons,
    says,
    shown,
    submit,
    tf_values,
)

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"
REQUEST_ID_RE = re.compile(r"ID de solicitud: `([0-9a-f]{6}-[0-9a-f]{6})`")

#: The retry dialog after an unknown outcome at TusFacturas (it gets no key).
TF_RETRY_RISK = strings.RETRY_CONFIRM_UNKNOWN.format(provider="TusFacturas")

# --- helpers -------------------------------------------------------------------------


def block_ids(view: JsonDict) -> set[str]:
    return {b["block_id"] for b in view["blocks"] if "block_id" in b}


def selected_provider(view: JsonDict) -> str:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "provider"]
    value: str = block["element"]["initial_option"]["value"]
    return value


def retry_button(message: Message) -> JsonDict | None:
    buttons = retry_buttons(message)
    return buttons[0] if buttons else None


def fix_button(message: Message) -> JsonDict | None:
    """The "Corregir y reenviar" button, if the message has one."""
    return next(
        (
            element
            for block in message.blocks
            for element in block.get("elements", [])
            if element.get("action_id") == FIX_ACTION
        ),
        None,
    )


def assert_readable(message: Message) -> None:
    """Never a stack trace or raw JSON in front of an agent."""
    text = shown(message)
    assert "Traceback" not in text
    assert '{"' not in text
    assert "Exception" not in text


async def resend_via_modal(
    bot: Bot,
    text: str,
    values: JsonDict,
    *,
    user: str = AGENT,
    channel: str = CHANNEL,
) -> Message:
    """Open, submit (the modal must close at once) and return the outcome message."""
    view = await bot.open_modal(text, user=user, channel=channel)
    response = await submit(bot, view, values, user=user)
    assert response.status == 200
    assert response.body == ""  # no response_action: Slack closes the modal
    assert view["id"] in bot.slack.closed_views
    (outcome,) = await bot.wait_for_outcome(channel)
    assert_readable(outcome)
    return outcome


def assert_progress_then_update(bot: Bot, channel: str, user: str, reference: str) -> None:
    """A "re-sending" message naming agent and invoice, then chat.update on the same ts."""
    (post,) = bot.slack.calls_to("chat.postMessage")
    assert post.params["channel"] == channel
    assert f"<@{user}>" in post.params["text"]
    assert reference.casefold() in post.params["text"].casefold()
    assert "Reenviando" in post.params["text"]
    (message,) = bot.slack.messages_in(channel)
    (update,) = bot.slack.calls_to("chat.update")
    assert update.params["channel"] == channel
    assert update.params["ts"] == message.ts
    assert message.edited


def nothing_sent(bot: Bot) -> None:
    assert resends(bot.lummy) == []
    assert resends(bot.tusfacturas) == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.response_url_messages == []


def answer_tusfacturas_with(
    monkeypatch: pytest.MonkeyPatch, emulator: TusFacturasEmulator, payload: JsonDict
) -> None:
    """Make the emulator answer every request with ``payload`` (still recorded)."""

    async def canned(request: web.Request, handler: Any) -> web.StreamResponse:
        return web.json_response(payload)

    monkeypatch.setattr(emulator, "_dispatch", canned)


# --- switching provider --------------------------------------------------------------


async def test_switching_provider_updates_the_same_view_with_its_hash(bot: Bot) -> None:
    view = await bot.open_modal(SEED_VOUCHER)
    assert selected_provider(view) == "tusfacturas"
    metadata, first_hash = view["private_metadata"], view["hash"]
    before = len(bot.slack.calls_to("views.update"))  # the preview, once the modal opened

    response = await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action("provider_choice", "lummy", block_id="provider")],
        values=tf_values("FACTURA B", "0002", "00000006", provider="lummy"),
    )

    assert response.status == 200
    update = (await bot.slack.wait_for_call("views.update", count=before + 1))[-1]
    assert update.params["view_id"] == view["id"]
    assert update.params["hash"] == first_hash
    lummy_view = bot.slack.views[view["id"]]
    assert selected_provider(lummy_view) == "lummy"
    assert {"invoice_id", "email"} <= block_ids(lummy_view)
    assert not {"tipo", "operacion", "punto_venta", "numero"} & block_ids(lummy_view)
    assert lummy_view["private_metadata"] == metadata
    assert lummy_view["hash"] != first_hash

    # And back: the TusFacturas fields return, the context still travels along.
    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action("provider_choice", "tusfacturas", block_id="provider")],
        values={
            **lummy_values(SEED_LUMMY_ID),
            "provider": {"provider_choice": radio_value("tusfacturas")},
        },
    )
    updates = await bot.slack.wait_for_call("views.update", count=before + 2)
    assert updates[before + 1].params["hash"] == lummy_view["hash"]
    back = bot.slack.views[view["id"]]
    assert selected_provider(back) == "tusfacturas"
    assert {"tipo", "operacion", "punto_venta", "numero"} <= block_ids(back)
    assert not {"invoice_id", "email"} & block_ids(back)
    assert back["private_metadata"] == metadata
    assert resends(bot.lummy) == []
    assert resends(bot.tusfacturas) == []


async def test_switch_follows_the_clicked_option_even_without_state(bot: Bot) -> None:
    view = await bot.open_modal()

    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action("provider_choice", "lummy", block_id="provider")],
    )

    await bot.slack.wait_for_call("views.update")
    assert selected_provider(bot.slack.views[view["id"]]) == "lummy"


async def test_switching_keeps_what_was_typed_for_that_provider(bot: Bot) -> None:
    view = await bot.open_modal()

    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action("provider_choice", "lummy", block_id="provider")],
        values={
            "provider": {"provider_choice": radio_value("lummy")},
            "invoice_id": {"value": plain_text_value(SEED_LUMMY_ID)},
        },
    )

    await bot.slack.wait_for_call("views.update")
    updated = bot.slack.views[view["id"]]
    (invoice_block,) = [b for b in updated["blocks"] if b.get("block_id") == "invoice_id"]
    assert invoice_block["element"]["initial_value"] == SEED_LUMMY_ID


async def test_hash_conflict_on_switch_is_ignored_quietly(bot: Bot) -> None:
    view = await bot.open_modal(SEED_VOUCHER)
    before = [c.method for c in bot.slack.calls if c.method != "auth.test"]
    bot.slack.fail("views.update", "hash_conflict")

    response = await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action("provider_choice", "lummy", block_id="provider")],
        values=tf_values("FACTURA B", "0002", "00000006", provider="lummy"),
    )

    assert response.status == 200
    await bot.slack.wait_for_call("views.update", count=before.count("views.update") + 1)
    await asyncio.sleep(0.1)  # anything sent in reaction would have arrived by now
    methods = [c.method for c in bot.slack.calls if c.method != "auth.test"]
    assert methods == [*before, "views.update"]
    assert bot.slack.response_url_messages == []
    assert selected_provider(bot.slack.views[view["id"]]) == "tusfacturas"


async def test_stale_hash_from_an_older_snapshot_loses_quietly(bot: Bot) -> None:
    view = await bot.open_modal(SEED_VOUCHER)
    stale_snapshot = dict(view)  # what a second, slower click would carry

    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action("provider_choice", "lummy", block_id="provider")],
        values=tf_values(None, None, None, provider="lummy"),
    )
    await bot.slack.wait_for_call("views.update")
    await bot.sender.block_actions(
        user_id=AGENT,
        view={
            **stale_snapshot,
            "state": {"values": tf_values(None, None, None, provider="tusfacturas")},
        },
        actions=[radio_action("provider_choice", "tusfacturas", block_id="provider")],
        values=tf_values(None, None, None, provider="tusfacturas"),
    )
    await bot.slack.wait_for_call("views.update", count=2)
    await asyncio.sleep(0.05)

    # The first switch stays; the stale one was refused by Slack and nothing else happened.
    assert selected_provider(bot.slack.views[view["id"]]) == "lummy"
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.response_url_messages == []


async def test_a_switch_made_before_the_preview_arrived_is_not_taken_for_stale(bot: Bot) -> None:
    """The preview changed the view (and its hash) after the agent clicked: the click still
    wins, since the only change since the agent's snapshot was the bot's own preview."""
    view = await bot.open_modal(SEED_VOUCHER)
    (preview,) = bot.slack.calls_to("views.update")  # the voucher's preview landed
    # What the agent's client still showed when they clicked: the view as opened.
    before_preview = {**view, "hash": preview.params["hash"]}
    assert view["hash"] != before_preview["hash"]

    await bot.sender.block_actions(
        user_id=AGENT,
        view=before_preview,
        actions=[radio_action("provider_choice", "lummy", block_id="provider")],
        values=tf_values(None, None, None, provider="lummy"),
    )
    await bot.slack.wait_until(
        lambda: selected_provider(bot.slack.views[before_preview["id"]]) == "lummy",
        description="the switch to Lummy shown",
    )


# --- inline errors: nothing is sent while a field is wrong ---------------------------


async def test_empty_tusfacturas_fields_are_reported_inline(bot: Bot) -> None:
    view = await bot.open_modal()

    response = await submit(bot, view, tf_values(None, None, None))

    assert response.status == 200
    assert response.json == {
        "response_action": "errors",
        "errors": {
            "tipo": says("required"),
            "punto_venta": says("required"),
            "numero": says("required"),
        },
    }
    assert view["id"] in bot.slack.views  # still open
    await asyncio.sleep(0.05)
    nothing_sent(bot)


@pytest.mark.parametrize(
    ("punto_venta", "numero", "errors"),
    [
        ("abc", "6", {"punto_venta": says("punto_venta_invalid", text="abc", limit=99_999)}),
        ("100000", "6", {"punto_venta": says("punto_venta_invalid", text="100000", limit=99_999)}),
        ("0", "6", {"punto_venta": says("punto_venta_invalid", text="0", limit=99_999)}),
        ("2", "123456789", {"numero": says("numero_invalid", text="123456789", limit=99_999_999)}),
        ("2", "-6", {"numero": says("numero_invalid", text="-6", limit=99_999_999)}),
        (
            "x",
            "y",
            {
                "punto_venta": says("punto_venta_invalid", text="x", limit=99_999),
                "numero": says("numero_invalid", text="y", limit=99_999_999),
            },
        ),
    ],
)
async def test_invalid_numbers_are_reported_under_their_field(
    bot: Bot, punto_venta: str, numero: str, errors: dict[str, str]
) -> None:
    view = await bot.open_modal()

    response = await submit(bot, view, tf_values("FACTURA B", punto_venta, numero))

    assert response.json == {"response_action": "errors", "errors": errors}
    assert set(errors) <= block_ids(view)
    nothing_sent(bot)


async def test_invalid_lummy_fields_are_reported_inline(bot: Bot) -> None:
    view = await bot.open_modal(SEED_LUMMY_ID)

    empty = await submit(bot, view, lummy_values(None))
    wrong = await submit(bot, view, lummy_values("no-es-un-uuid", "a..b@cliente.mx"))

    assert empty.json == {
        "response_action": "errors",
        "errors": {"invoice_id": says("required")},
    }
    assert wrong.json is not None
    assert wrong.json["response_action"] == "errors"
    assert wrong.json["errors"] == {
        "invoice_id": says("invoice_id_invalid", text="no-es-un-uuid"),
        "email": says("email_invalid", text="a..b@cliente.mx"),
    }
    assert set(wrong.json["errors"]) <= block_ids(view)
    assert view["id"] in bot.slack.views
    nothing_sent(bot)


async def test_no_provider_chosen_is_reported_on_the_provider_block(bot: Bot) -> None:
    view = await bot.open_modal()

    response = await submit(bot, view, tf_values("FACTURA B", "2", "6", provider=None))

    assert response.json == {
        "response_action": "errors",
        "errors": {"provider": says("provider_required")},
    }
    nothing_sent(bot)


async def test_inline_error_fixed_on_the_second_try_sends_once(bot: Bot) -> None:
    view = await bot.open_modal("FACTURA B 0002")

    first = await submit(bot, view, tf_values("FACTURA B", "0002", None))
    assert first.json == {
        "response_action": "errors",
        "errors": {"numero": says("required")},
    }
    assert resends(bot.tusfacturas) == []

    second = await submit(bot, view, tf_values("FACTURA B", "0002", "6"))

    assert second.status == 200
    assert second.body == ""
    assert view["id"] in bot.slack.closed_views
    (outcome,) = await bot.wait_for_outcome()
    assert SENT in shown(outcome)
    assert len(resends(bot.tusfacturas)) == 1
    assert len(bot.tusfacturas.sends) == 1


# --- success ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "tz"),
    [(AGENT, "America/Argentina/Buenos_Aires"), (OTHER_AGENT, "America/Mexico_City")],
)
async def test_lummy_success_shows_recipient_time_and_request_id(
    bot: Bot, user: str, tz: str
) -> None:
    outcome = await resend_via_modal(bot, SEED_LUMMY_ID, lummy_values(SEED_LUMMY_ID), user=user)

    assert_progress_then_update(bot, CHANNEL, user, "Factura 550e8400")
    (send,) = bot.lummy.sends
    assert send.to == "cliente@empresa.com"
    text = shown(outcome)
    assert f"{SENT}cliente@empresa.com*" in text
    # Mexico's time, whoever asked: it is the customer's; UTC goes to the small print.
    local = send.at.astimezone(ZoneInfo("America/Mexico_City")).strftime("%d/%m %H:%M")
    assert f"{local}, hora del centro de México" in text
    assert send.at.strftime("%d/%m/%Y %H:%M UTC") in text
    assert tz not in text
    assert f"ID de solicitud: `{send.request_id}`" in text
    assert f"<@{user}>" in text
    # What the lookup knew when the modal opened names the invoice as the customer does.
    assert "Factura A-1234 (550e8400) en Lummy · Empresa Demo S.A. de C.V." in text
    assert "> Le reenviamos la factura A-1234 a cliente@empresa.com hoy a las" in text
    assert retry_button(outcome) is None

    (request,) = resends(bot.lummy)
    assert request.method == "POST"
    assert request.path == f"/v1/invoices/{SEED_LUMMY_ID}/resend-pdf"
    assert request.header("x-api-key") == LUMMY_API_KEY
    assert request.header("authorization") == f"Bearer {LUMMY_API_KEY}"
    assert request.header("x-organization-id") == LUMMY_ORG
    idempotency = request.header("x-idempotency")
    assert idempotency is not None
    assert str(UUID(idempotency)) == idempotency.lower()
    assert request.json == {}


async def test_lummy_alternative_email_goes_to_that_address(bot: Bot) -> None:
    outcome = await resend_via_modal(
        bot,
        f"{SEED_LUMMY_ID} otro@cliente.com",
        lummy_values(SEED_LUMMY_ID, "otro@cliente.com"),
    )

    (request,) = resends(bot.lummy)
    assert request.json == {"email": "otro@cliente.com"}
    (send,) = bot.lummy.sends
    assert send.to == "otro@cliente.com"
    text = shown(outcome)
    assert "otro@cliente.com" in text
    assert "cliente@empresa.com" not in text


async def test_tusfacturas_success_names_the_voucher_and_the_emails_on_file(bot: Bot) -> None:
    outcome = await resend_via_modal(bot, SEED_VOUCHER, tf_values("FACTURA B", "0002", "00000006"))

    assert_progress_then_update(bot, CHANNEL, AGENT, "Factura B 0002-00000006")
    text = shown(outcome)
    assert f"{SENT}compras@panaderialaespiga.com.ar*" in text
    assert "Factura B 0002-00000006 en TusFacturas · Panadería La Espiga S.R.L." in text
    assert "hora de Argentina" in text
    assert "America/" not in text
    (request,) = resends(bot.tusfacturas)
    assert request.path == "/app/api/v2/facturacion/reenviar"
    assert request.json == {
        "apikey": TF_APIKEY,
        "apitoken": TF_APITOKEN,
        "usertoken": TF_USERTOKEN,
        "comprobante": {
            "tipo": "FACTURA B",
            "operacion": "V",
            "punto_venta": "2",
            "numero": "6",
        },
    }
    assert len(bot.tusfacturas.sends) == 1


async def test_tusfacturas_compra_is_sent_as_operacion_c(bot: Bot) -> None:
    bot.tusfacturas.vouchers[("FACTURA A", "C", 1, 1534)] = bot.tusfacturas.vouchers[
        ("FACTURA A", "V", 1, 1534)
    ]

    outcome = await resend_via_modal(
        bot, "FACTURA A 0001-00001534 compra", tf_values("FACTURA A", "0001", "00001534", "C")
    )

    (request,) = resends(bot.tusfacturas)
    assert request.json is not None
    assert request.json["comprobante"]["operacion"] == "C"
    assert strings.QUALIFIERS["compra"] in shown(outcome)


# --- every provider outcome, through the modal ---------------------------------------


async def test_lummy_not_found_quotes_lummy_and_its_request_id(bot: Bot) -> None:
    outcome = await resend_via_modal(bot, UNKNOWN_UUID, lummy_values(UNKNOWN_UUID))

    text = shown(outcome)
    assert f"{NOT_SENT}la factura 00000000*" in text
    assert "Lummy no tiene una factura con ese ID" in text
    assert "Detalle técnico: Lummy respondió «Invoice not found»" in text
    assert REQUEST_ID_RE.search(text)
    assert retry_button(outcome) is None
    assert fix_button(outcome) is not None
    assert bot.lummy.sends == []


async def test_lummy_rejecting_an_email_our_validator_accepts(bot: Bot) -> None:
    # An internationalised domain passes our validator but not the provider's.
    address = "pagos@café.mx"

    outcome = await resend_via_modal(bot, SEED_LUMMY_ID, lummy_values(SEED_LUMMY_ID, address))

    (request,) = resends(bot.lummy)
    assert request.json == {"email": address}
    text = shown(outcome)
    assert NOT_SENT in text
    assert strings.INVALID_FIELD["email"] in text
    assert "Detalle técnico: Lummy respondió «Email invalido»" in text
    assert REQUEST_ID_RE.search(text)
    assert retry_button(outcome) is None
    assert fix_button(outcome) is not None
    assert bot.lummy.sends == []


async def test_lummy_rate_limit_after_ten_resends(bot: Bot) -> None:
    earlier = bot.lummy.now() - timedelta(minutes=5)
    bot.lummy.sends.extend(
        LummySend(SEED_LUMMY_ID, "cliente@empresa.com", earlier, None, f"seed-{n}")
        for n in range(10)
    )

    outcome = await resend_via_modal(bot, SEED_LUMMY_ID, lummy_values(SEED_LUMMY_ID))

    text = shown(outcome)
    assert NOT_SENT in text
    assert "no se envió nada" in text
    assert "10 reenvíos por hora" in text
    assert "Se puede volver a intentar en 55 minutos" in text
    assert "limite de reenvios" in text  # Lummy's own words, in the small print
    assert REQUEST_ID_RE.search(text)
    assert retry_button(outcome) is None  # an hourly cap: retrying now would not help
    assert len(bot.lummy.sends) == 10  # nothing new went out


async def test_tusfacturas_error_s_shows_its_message_and_code(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = "El CUIT emisor se encuentra suspendido para operar."
    answer_tusfacturas_with(
        monkeypatch,
        bot.tusfacturas,
        {
            "error": "S",
            "errores": [problem],
            "error_details": [{"code": "TFC-9001", "text": problem}],
        },
    )

    outcome = await resend_via_modal(bot, SEED_VOUCHER, tf_values("FACTURA B", "0002", "00000006"))

    text = shown(outcome)
    assert NOT_SENT in text
    assert "TusFacturas rechazó el reenvío" in text
    assert problem in text
    assert "TFC-9001" in text
    assert retry_button(outcome) is None
    assert len(resends(bot.tusfacturas)) == 1


async def test_tusfacturas_voucher_without_email_sending(bot: Bot) -> None:
    outcome = await resend_via_modal(
        bot, "FACTURA C 0002-00000041", tf_values("FACTURA C", "0002", "00000041")
    )

    text = shown(outcome)
    assert NOT_SENT in text
    assert "envío por correo" in text
    assert strings.REJECTION_REASONS["email_sending_off"].format(provider="TusFacturas") in text
    assert "TFC-8010" in text
    assert retry_button(outcome) is None
    assert bot.tusfacturas.sends == []


async def test_tusfacturas_unknown_voucher(bot: Bot) -> None:
    outcome = await resend_via_modal(
        bot, "FACTURA B 0002-00000099", tf_values("FACTURA B", "0002", "00000099")
    )

    text = shown(outcome)
    assert f"{NOT_SENT}la factura B 0002-00000099*" in text
    assert "TusFacturas no tiene un comprobante con esos datos" in text
    assert "no existe" in text  # TusFacturas' own words, in the small print
    assert retry_button(outcome) is None
    assert fix_button(outcome) is not None


async def test_lummy_5xx_is_unavailable_and_offers_a_safe_retry(bot: Bot) -> None:
    bot.lummy.inject(Fault(FaultKind.SERVER_ERROR, status=502))

    outcome = await resend_via_modal(bot, SEED_LUMMY_ID, lummy_values(SEED_LUMMY_ID))

    text = shown(outcome)
    assert NOT_SENT in text
    assert "no se envió nada" in text
    assert "<html>" not in text
    button = retry_button(outcome)
    assert button is not None
    assert button["text"]["text"] == "Reintentar"
    assert button["confirm"]["text"]["text"] == strings.RETRY_CONFIRM_SAFE
    # Retried automatically, always with the same idempotency key.
    keys = {r.header("x-idempotency") for r in resends(bot.lummy)}
    assert len(resends(bot.lummy)) >= 2
    assert len(keys) == 1
    assert bot.lummy.sends == []


async def test_tusfacturas_5xx_is_uncertain_and_its_retry_warns_about_a_second_email(
    bot: Bot,
) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, status=503))

    outcome = await resend_via_modal(bot, SEED_VOUCHER, tf_values("FACTURA B", "0002", "00000006"))

    text = shown(outcome)
    assert MAYBE_SENT in text
    assert "pudo haber salido" in text
    assert "<html>" not in text
    button = retry_button(outcome)
    assert button is not None
    assert button["confirm"]["text"]["text"] == TF_RETRY_RISK
    assert button["confirm"]["style"] == "danger"
    assert len(resends(bot.tusfacturas)) == 1  # no idempotency: never retried blindly


@pytest.mark.parametrize("provider", ["tusfacturas", "lummy"])
async def test_provider_hang_is_outcome_unknown_with_a_warning_retry(
    start_bot: Any, provider: str
) -> None:
    bot: Bot = await start_bot(provider_read_timeout=0.5)
    if provider == "lummy":
        bot.lummy.inject(Fault(FaultKind.HANG))
        text_in, values = SEED_LUMMY_ID, lummy_values(SEED_LUMMY_ID)
    else:
        bot.tusfacturas.inject(Fault(FaultKind.HANG))
        text_in, values = SEED_VOUCHER, tf_values("FACTURA B", "0002", "00000006")

    outcome = await resend_via_modal(bot, text_in, values)

    text = shown(outcome)
    assert MAYBE_SENT in text
    assert "pudo haber salido" in text
    button = retry_button(outcome)
    assert button is not None
    confirm = button["confirm"]
    if provider == "lummy":
        # The same key: Lummy replays the first answer if it went out, nothing new is sent.
        assert confirm["text"]["text"] == strings.RETRY_CONFIRM_REPLAYED.format(provider="Lummy")
        assert "style" not in confirm
    else:
        assert confirm["text"]["text"] == TF_RETRY_RISK
        assert "segundo correo" in confirm["text"]["text"]
        assert confirm["style"] == "danger"
    emulator = bot.lummy if provider == "lummy" else bot.tusfacturas
    assert len(resends(emulator)) == 1  # a read timeout is never retried blindly


# --- not configured at submit time ---------------------------------------------------


async def test_punto_de_venta_without_credentials_is_an_inline_error(start_bot: Any) -> None:
    bot: Bot = await start_bot(
        tusfacturas_apikey=None,
        tusfacturas_apitoken=None,
        tusfacturas_usertoken=None,
        tusfacturas_credentials={
            2: {"apikey": TF_APIKEY, "apitoken": TF_APITOKEN, "usertoken": TF_USERTOKEN}
        },
    )
    view = await bot.open_modal("FACTURA B 0007-00000006")

    refused = await submit(bot, view, tf_values("FACTURA B", "0007", "00000006"))

    assert refused.json is not None
    assert refused.json["response_action"] == "errors"
    assert list(refused.json["errors"]) == ["punto_venta"]
    assert "punto de venta 7" in refused.json["errors"]["punto_venta"]
    assert view["id"] in bot.slack.views
    nothing_sent(bot)

    # The configured punto de venta goes through with its own credentials.
    accepted = await submit(bot, view, tf_values("FACTURA B", "0002", "00000006"))
    assert accepted.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert SENT in shown(outcome)
    (request,) = resends(bot.tusfacturas)
    assert request.json is not None
    assert request.json["apikey"] == TF_APIKEY


async def test_unconfigured_lummy_submit_is_an_inline_error_on_the_provider(
    start_bot: Any,
) -> None:
    bot: Bot = await start_bot(lummy_api_key=None)
    view = await bot.open_modal(SEED_LUMMY_ID)

    response = await submit(bot, view, lummy_values(SEED_LUMMY_ID))

    assert response.json is not None
    assert response.json["response_action"] == "errors"
    assert list(response.json["errors"]) == ["provider"]
    assert "Lummy no está configurado" in response.json["errors"]["provider"]
    assert view["id"] in bot.slack.views
    nothing_sent(bot)


# --- the outcome goes where the command was typed ------------------------------------


async def test_outcome_goes_to_the_channel_where_the_command_was_typed(bot: Bot) -> None:
    bot.slack.add_channel("C0FACTURAS", "facturacion")

    outcome = await resend_via_modal(
        bot,
        SEED_VOUCHER,
        tf_values("FACTURA B", "0002", "00000006"),
        channel="C0FACTURAS",
    )

    assert outcome.channel == "C0FACTURAS"
    assert bot.slack.messages_in(CHANNEL) == []
    assert_progress_then_update(bot, "C0FACTURAS", AGENT, SEED_VOUCHER)


async def test_channel_the_bot_cannot_post_in_gets_the_outcome_via_response_url(
    bot: Bot,
) -> None:
    bot.slack.add_channel("G0PRIVADO", "escalaciones", bot_is_member=False, is_private=True)

    outcome = await resend_via_modal(
        bot, SEED_LUMMY_ID, lummy_values(SEED_LUMMY_ID), channel="G0PRIVADO"
    )

    assert outcome.source == "response_url"
    assert SENT in shown(outcome)
    messages = bot.slack.response_url_messages
    assert messages
    assert all(m.channel_id == "G0PRIVADO" for m in messages)
    assert all(m.response_type == "in_channel" for m in messages)
    assert bot.slack.messages_in(CHANNEL) == []
    assert len(bot.lummy.sends) == 1
