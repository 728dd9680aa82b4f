"""``/reenviar`` end to end: signed HTTP to the running bot, a fake Slack, both emulators.

What the agent sees after typing the command: the modal (prefilled from the text,
with a notice when part of it was not understood), the help (only to the caller),
or a Spanish explanation when Slack refused to open the modal. Nothing here may
reach a provider: the modal opens before any provider I/O.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.ui import strings
from devkit.localslack.webapi import JsonDict
from tests.blockkit import assert_valid_blocks
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, Bot
from tests.e2e import resends

OTHER_UUID = "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"

# --- helpers -------------------------------------------------------------------------


def blocks_by_id(view: JsonDict) -> dict[str, JsonDict]:
    """The modal's blocks that carry a block_id, by id."""
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def selected(view: JsonDict, block_id: str) -> str | None:
    """The value of a select/radio block's initial option, or None."""
    option = blocks_by_id(view)[block_id]["element"].get("initial_option")
    return option["value"] if option else None


def initial_text(view: JsonDict, block_id: str) -> str | None:
    """A text input's initial value, or None when left empty."""
    value: str | None = blocks_by_id(view)[block_id]["element"].get("initial_value")
    return value


def notices(view: JsonDict) -> list[str]:
    """The texts of context blocks (where the modal says what it did not understand)."""
    return [
        element["text"]
        for block in view["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    ]


def section_texts(view: JsonDict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b]


def tusfacturas_fields(view: JsonDict) -> dict[str, str | None]:
    return {
        "tipo": selected(view, "tipo"),
        "operacion": selected(view, "operacion"),
        "punto_venta": initial_text(view, "punto_venta"),
        "numero": initial_text(view, "numero"),
    }


def assert_no_provider_io(bot: Bot) -> None:
    assert resends(bot.lummy) == []
    assert resends(bot.tusfacturas) == []


# --- the modal opens at once, before any provider I/O --------------------------------


async def test_command_acks_fast_and_opens_the_modal_with_its_trigger(bot: Bot) -> None:
    fields = bot.sender.slash_command_fields("/reenviar", "", user_id=AGENT, channel_id=CHANNEL)
    response = await bot.sender.post_form(fields)

    assert response.status == 200
    assert response.elapsed_seconds < 1.5
    assert response.body == ""  # an empty ack: nothing shown in the channel
    (call,) = await bot.slack.wait_for_call("views.open")
    assert call.params["trigger_id"] == fields["trigger_id"]
    view = bot.slack.current_view(AGENT)
    assert view is not None
    assert view["callback_id"] == "reenviar_modal"
    # With no text: TusFacturas (the first configured provider), nothing prefilled.
    assert selected(view, "provider") == "tusfacturas"
    assert tusfacturas_fields(view) == {
        "tipo": None,
        "operacion": "V",
        "punto_venta": None,
        "numero": None,
    }
    assert notices(view) == []
    assert_no_provider_io(bot)
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_modal_remembers_where_the_command_was_typed(bot: Bot) -> None:
    fields = bot.sender.slash_command_fields("/reenviar", "", user_id=AGENT, channel_id=CHANNEL)
    await bot.sender.post_form(fields)
    await bot.slack.wait_for_call("views.open")
    view = bot.slack.current_view(AGENT)
    assert view is not None

    metadata = view["private_metadata"]
    assert CHANNEL in metadata
    assert fields["response_url"] in metadata


# --- prefill from the text -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "FACTURA B 0002-00000006",
            {"tipo": "FACTURA B", "operacion": "V", "punto_venta": "0002", "numero": "00000006"},
        ),
        (
            "factura b 2-6",
            {"tipo": "FACTURA B", "operacion": "V", "punto_venta": "0002", "numero": "00000006"},
        ),
        (
            "NOTA DE CRÉDITO B 3-9",
            {
                "tipo": "NOTA DE CREDITO B",
                "operacion": "V",
                "punto_venta": "0003",
                "numero": "00000009",
            },
        ),
        (
            "FACTURA A 0001-00001534 compra",
            {"tipo": "FACTURA A", "operacion": "C", "punto_venta": "0001", "numero": "00001534"},
        ),
        (
            "tusfacturas FACTURA A 1-1",
            {"tipo": "FACTURA A", "operacion": "V", "punto_venta": "0001", "numero": "00000001"},
        ),
        (
            "FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A 3-87",
            {
                "tipo": "FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A",
                "operacion": "V",
                "punto_venta": "0003",
                "numero": "00000087",
            },
        ),
    ],
)
async def test_voucher_text_prefills_tusfacturas(
    bot: Bot, text: str, expected: dict[str, str]
) -> None:
    view = await bot.open_modal(text)

    assert selected(view, "provider") == "tusfacturas"
    assert tusfacturas_fields(view) == expected
    assert "invoice_id" not in blocks_by_id(view)
    assert notices(view) == []
    assert_no_provider_io(bot)


@pytest.mark.parametrize(
    ("text", "invoice_id", "email"),
    [
        (SEED_LUMMY_ID, SEED_LUMMY_ID, None),
        (SEED_LUMMY_ID.upper(), SEED_LUMMY_ID, None),
        (f"{SEED_LUMMY_ID} otro@cliente.com", SEED_LUMMY_ID, "otro@cliente.com"),
        (f"lummy {OTHER_UUID}", OTHER_UUID, None),
        (f"Lummy: {OTHER_UUID} pagos@cliente.mx", OTHER_UUID, "pagos@cliente.mx"),
    ],
)
async def test_invoice_id_prefills_lummy(
    bot: Bot, text: str, invoice_id: str, email: str | None
) -> None:
    view = await bot.open_modal(text)

    assert selected(view, "provider") == "lummy"
    assert initial_text(view, "invoice_id") == invoice_id
    assert initial_text(view, "email") == email
    assert blocks_by_id(view)["email"]["element"]["type"] == "email_text_input"
    assert blocks_by_id(view)["email"]["optional"] is True
    assert "tipo" not in blocks_by_id(view)
    assert notices(view) == []
    assert_no_provider_io(bot)


# --- text that is not fully understood: the modal opens anyway, with a notice -------


async def test_unknown_tipo_keeps_numbers_and_says_what_was_not_understood(bot: Bot) -> None:
    view = await bot.open_modal("FACTURA Z 0002-6")

    assert selected(view, "provider") == "tusfacturas"
    fields = tusfacturas_fields(view)
    assert fields["tipo"] is None
    assert fields["punto_venta"] is not None
    assert int(fields["punto_venta"]) == 2
    assert fields["numero"] is not None
    assert int(fields["numero"]) == 6
    # The problem is the tipo's: it is shown under that field, quoting what was typed.
    (notice,) = notices(view)
    assert "No se reconoce el tipo de comprobante «FACTURA Z»" in notice
    assert_no_provider_io(bot)


async def test_gibberish_opens_an_empty_modal_with_a_notice(bot: Bot) -> None:
    view = await bot.open_modal("hola")

    assert selected(view, "provider") == "tusfacturas"
    assert tusfacturas_fields(view)["tipo"] is None
    (notice,) = notices(view)
    assert "No se entendió" in notice
    assert "«hola»" in notice
    assert_no_provider_io(bot)


async def test_bad_email_after_uuid_keeps_the_invoice_id_and_the_address(bot: Bot) -> None:
    view = await bot.open_modal(f"{SEED_LUMMY_ID} no-es-un-mail")

    assert selected(view, "provider") == "lummy"
    assert initial_text(view, "invoice_id") == SEED_LUMMY_ID
    assert initial_text(view, "email") == "no-es-un-mail"
    (notice,) = notices(view)
    assert "«no-es-un-mail» no es un correo válido" in notice
    assert_no_provider_io(bot)


async def test_missing_numbers_keeps_the_tipo(bot: Bot) -> None:
    view = await bot.open_modal("FACTURA B")

    assert selected(view, "provider") == "tusfacturas"
    assert selected(view, "tipo") == "FACTURA B"
    assert initial_text(view, "numero") is None
    (notice,) = notices(view)
    assert "Falta el punto de venta y el número" in notice


async def test_mrkdwn_in_the_text_is_not_rendered_in_the_notice(bot: Bot) -> None:
    view = await bot.open_modal("<!channel> *hola*")

    (notice,) = notices(view)
    assert "<!channel>" not in notice
    assert "&lt;!channel&gt;" in notice


# --- help, only to the caller --------------------------------------------------------


@pytest.mark.parametrize("word", ["ayuda", "help", "AYUDA", "  help  "])
async def test_help_comes_back_in_the_ack_only_to_the_caller(bot: Bot, word: str) -> None:
    response = await bot.command(word)

    assert response.status == 200
    body = response.json
    assert isinstance(body, dict)
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert "/reenviar Factura B 0002-00000006" in body["text"]
    assert "otro@cliente.com" in body["text"]
    assert body["blocks"]
    assert_valid_blocks(body["blocks"])
    await asyncio.sleep(0.1)  # a late views.open or post would show up by now
    assert bot.slack.calls_to("views.open") == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.response_url_messages == []
    assert bot.slack.current_view(AGENT) is None
    assert_no_provider_io(bot)


# --- a provider without credentials --------------------------------------------------


async def test_unconfigured_provider_is_marked_and_explained(start_bot: Any) -> None:
    bot: Bot = await start_bot(lummy_api_key=None)

    view = await bot.open_modal(SEED_LUMMY_ID)

    assert selected(view, "provider") == "lummy"
    options = {o["value"]: o for o in blocks_by_id(view)["provider"]["element"]["options"]}
    assert options["lummy"]["description"]["text"] == strings.PROVIDER_NOT_CONFIGURED_SHORT
    assert "description" not in options["tusfacturas"]
    warnings = [t for t in section_texts(view) if "no está configurado" in t]
    assert len(warnings) == 1
    assert "Lummy" in warnings[0]
    assert initial_text(view, "invoice_id") == SEED_LUMMY_ID
    assert_no_provider_io(bot)


async def test_empty_command_defaults_to_the_configured_provider(start_bot: Any) -> None:
    bot: Bot = await start_bot(
        tusfacturas_apikey=None, tusfacturas_apitoken=None, tusfacturas_usertoken=None
    )

    view = await bot.open_modal()

    assert selected(view, "provider") == "lummy"
    assert not any("no está configurado" in t for t in section_texts(view))


# --- Slack refuses to open the modal ------------------------------------------------


async def test_expired_trigger_is_explained_privately(bot: Bot) -> None:
    bot.slack.fail("views.open", "expired_trigger_id")

    response = await bot.command("FACTURA B 0002-00000006")

    assert response.status == 200
    (message,) = await bot.slack.wait_for_response_url()
    assert message.response_type == "ephemeral"
    assert message.user_id == AGENT
    assert message.channel_id == CHANNEL
    assert "No se pudo abrir el formulario" in message.text
    assert "expired_trigger_id" in message.text
    assert "Volver a escribir el comando" in message.text
    assert "Traceback" not in message.text
    assert bot.slack.messages_in(CHANNEL) == []
    assert bot.slack.current_view(AGENT) is None
    assert_no_provider_io(bot)


# --- requests not signed by Slack ---------------------------------------------------


def _command_body(bot: Bot) -> bytes:
    fields = bot.sender.slash_command_fields(
        "/reenviar", "FACTURA B 0002-00000006", user_id=AGENT, channel_id=CHANNEL
    )
    return urlencode(fields).encode()


async def test_tampered_signature_is_rejected(bot: Bot) -> None:
    body = _command_body(bot)
    headers = bot.sender.signed_headers(body)
    signature = headers["X-Slack-Signature"]
    headers["X-Slack-Signature"] = signature[:-1] + ("0" if signature[-1] != "0" else "1")

    response = await bot.sender.post_raw(body, headers=headers)

    assert response.status == 401
    await asyncio.sleep(0.05)
    assert bot.slack.calls_to("views.open") == []
    assert bot.slack.response_url_messages == []


async def test_signature_over_another_body_is_rejected(bot: Bot) -> None:
    body = _command_body(bot)
    headers = bot.sender.signed_headers(b"token=x&text=hola")

    response = await bot.sender.post_raw(body, headers=headers)

    assert response.status == 401
    assert bot.slack.calls_to("views.open") == []


async def test_stale_timestamp_is_rejected(bot: Bot) -> None:
    body = _command_body(bot)
    headers = bot.sender.signed_headers(body, timestamp=int(time.time()) - 6 * 60)

    response = await bot.sender.post_raw(body, headers=headers)

    assert response.status == 401
    await asyncio.sleep(0.05)
    assert bot.slack.calls_to("views.open") == []


async def test_missing_signature_headers_are_rejected(bot: Bot) -> None:
    body = _command_body(bot)

    response = await bot.sender.post_raw(body, headers={})

    assert response.status == 401
    assert bot.slack.calls_to("views.open") == []
