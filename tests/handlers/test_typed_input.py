"""Never lose what the agent typed, through the signed endpoint and the local Slack: a
broken address stays in its field with its problem under it (and nothing goes out until
it is fixed or cleared), numbers pasted into one field fill both, links to a Lummy
invoice and short forms of voucher types are understood, and problems quote the agent."""

from __future__ import annotations

import pytest

from devkit.localslack.webapi import JsonDict
from tests.conftest import SEED_LUMMY_ID, Bot
from tests.e2e import SENT, lummy_values, resends, says, shown, submit, tf_values

pytestmark = pytest.mark.timeout(30)


def block(view: JsonDict, block_id: str) -> JsonDict:
    (found,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return found


def under(view: JsonDict, block_id: str) -> str:
    """The context block right under a field (where its problem is shown)."""
    index = next(i for i, b in enumerate(view["blocks"]) if b.get("block_id") == block_id)
    following = view["blocks"][index + 1]
    assert following["type"] == "context", following
    text: str = following["elements"][0]["text"]
    return text


async def test_a_broken_address_stays_in_its_field_and_blocks_the_send_until_fixed(
    bot: Bot,
) -> None:
    view = await bot.open_modal(f"lummy {SEED_LUMMY_ID} nombre@")

    # Kept as typed, with its problem under it: Enter cannot send to the address on file.
    assert block(view, "email")["element"]["initial_value"] == "nombre@"
    assert says("email_invalid", text="nombre@") in under(view, "email")
    refused = await submit(bot, view, lummy_values(SEED_LUMMY_ID, "nombre@"))
    assert refused.json == {
        "response_action": "errors",
        "errors": {"email": says("email_invalid", text="nombre@")},
    }
    assert resends(bot.lummy) == []

    fixed = await submit(bot, view, lummy_values(SEED_LUMMY_ID, "nombre@cliente.com"))
    assert fixed.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert f"{SENT}nombre@cliente.com*" in shown(outcome)
    (request,) = resends(bot.lummy)
    assert request.json == {"email": "nombre@cliente.com"}


async def test_a_broken_address_cleared_sends_to_the_address_on_file(bot: Bot) -> None:
    view = await bot.open_modal(f"lummy {SEED_LUMMY_ID} nombre@")

    cleared = await submit(bot, view, lummy_values(SEED_LUMMY_ID, None))

    assert cleared.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert f"{SENT}cliente@empresa.com*" in shown(outcome)


async def test_a_number_typed_wrong_stays_in_its_field_with_the_problem_under_it(bot: Bot) -> None:
    view = await bot.open_modal("Factura B 0-6")

    assert block(view, "punto_venta")["element"]["initial_value"] == "0"
    assert says("punto_venta_invalid", text="0", limit=99_999) in under(view, "punto_venta")


async def test_numbers_pasted_into_punto_de_venta_are_split_into_both_fields(bot: Bot) -> None:
    view = await bot.open_modal()

    response = await submit(bot, view, tf_values("FACTURA B", "0002-00000006", None))

    assert response.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert "Factura B 0002-00000006 en TusFacturas" in shown(outcome)
    (request,) = resends(bot.tusfacturas)
    assert request.json is not None
    assert request.json["comprobante"] == {
        "tipo": "FACTURA B",
        "operacion": "V",
        "punto_venta": "2",
        "numero": "6",
    }


@pytest.mark.parametrize(
    "pasted",
    [
        f"https://app.lummy.io/invoices/{SEED_LUMMY_ID}",
        f"<https://app.lummy.io/facturas/{SEED_LUMMY_ID}|Factura A-1234>",
    ],
)
async def test_a_pasted_link_to_a_lummy_invoice_yields_its_id(bot: Bot, pasted: str) -> None:
    view = await bot.open_modal(pasted)

    assert block(view, "provider")["element"]["initial_option"]["value"] == "lummy"
    assert block(view, "invoice_id")["element"]["initial_value"] == SEED_LUMMY_ID

    # Pasted into the field itself, it works too.
    response = await submit(bot, view, lummy_values(pasted))
    assert response.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert SENT in shown(outcome)
    (request,) = resends(bot.lummy)
    assert request.path == f"/v1/invoices/{SEED_LUMMY_ID}/resend-pdf"


@pytest.mark.parametrize(
    ("typed", "tipo", "punto_venta", "numero"),
    [
        ("FC B 0002-00000006", "FACTURA B", "0002", "00000006"),
        ("Fact. B 2-6", "FACTURA B", "0002", "00000006"),
        ("NC B 0002-00000006", "NOTA DE CREDITO B", "0002", "00000006"),
        ("ND A 0001-00001534", "NOTA DE DEBITO A", "0001", "00001534"),
        ("tusfacturas B 0002-00000006", "FACTURA B", "0002", "00000006"),
        ("FCB 0002-00000006", "FACTURA B", "0002", "00000006"),
        ("FC-B-0002-00000006", "FACTURA B", "0002", "00000006"),
        ("Factura electrónica B 0002-00000006", "FACTURA B", "0002", "00000006"),
    ],
)
async def test_common_abbreviations_prefill_the_voucher(
    bot: Bot, typed: str, tipo: str, punto_venta: str, numero: str
) -> None:
    view = await bot.open_modal(typed)

    assert block(view, "tipo")["element"]["initial_option"]["value"] == tipo
    assert block(view, "punto_venta")["element"]["initial_value"] == punto_venta
    assert block(view, "numero")["element"]["initial_value"] == numero
    assert not [b for b in view["blocks"] if b["type"] == "context"]  # nothing misread


async def test_problems_quote_the_agent_as_typed_not_upper_cased(bot: Bot) -> None:
    view = await bot.open_modal("Factura Z 0002-00000006")

    problem = under(view, "tipo")
    assert "«Factura Z»" in problem
    assert "FACTURA Z" not in problem


async def test_a_mistyped_provider_word_is_read_as_that_provider_with_a_note(bot: Bot) -> None:
    view = await bot.open_modal(f"lumy {SEED_LUMMY_ID}")

    assert block(view, "invoice_id")["element"]["initial_value"] == SEED_LUMMY_ID
    assert "Se tomó «lumy» como Lummy." in shown(view)


async def test_the_references_shape_wins_over_the_other_providers_word_with_a_note(
    bot: Bot,
) -> None:
    view = await bot.open_modal("lummy FC B 2-6")

    assert block(view, "tipo")["element"]["initial_option"]["value"] == "FACTURA B"
    assert block(view, "numero")["element"]["initial_value"] == "00000006"
    assert "«lummy» no corresponde a este comprobante: es de TusFacturas." in shown(view)
    assert resends(bot.lummy) == []


async def test_with_an_alternative_address_the_preview_says_where_it_goes(bot: Bot) -> None:
    view = await bot.open_modal(f"{SEED_LUMMY_ID} otro@cliente.com")

    text = shown(view)
    assert (
        "Se va a enviar a otro@cliente.com, el correo alternativo (no a cliente@empresa.com)."
        in (text)
    )
    assert "si se completa" not in text
