"""Searching from what the customer says, through the signed endpoint and the local Slack:
the command and the shortcut route a customer identifier to the search modal, which
says "buscando…" at once, lists the matches, and opens the re-send form for the one
picked. A CUIT that cannot be right is an inline problem and calls no provider."""

from __future__ import annotations

import json
from typing import Any

from bot.ui import strings
from bot.ui.resend_modal import MODAL_CALLBACK_ID
from bot.ui.search_modal import (
    MANUAL_ACTION,
    PICK_ACTION,
    PICK_BLOCK,
    QUERY_ACTION,
    QUERY_BLOCK,
    SEARCH_CALLBACK_ID,
)
from devkit.emulators import CONSULTA_AVANZADA_ROUTE, CUENTA_CORRIENTE_ROUTE, CUSTOMERS_ROUTE
from devkit.localslack import button_action, plain_text_value, radio_action
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, Bot
from tests.e2e import lookups, lummy_values, resend, resends, says, shown, tf_values

LUMMY_LINK = f"lummy|{SEED_LUMMY_ID}"


def pick_options(view: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = [b for b in view["blocks"] if b.get("block_id") == PICK_BLOCK]
    return [option for block in blocks for option in block["element"]["options"]]


def query_values(text: str) -> dict[str, Any]:
    return {QUERY_BLOCK: {QUERY_ACTION: plain_text_value(text)}}


async def pick(bot: Bot, view: dict[str, Any], value: str) -> dict[str, Any]:
    """Pick the match ``value`` in the search modal; the re-send form that replaces it."""
    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[radio_action(PICK_ACTION, value, block_id=PICK_BLOCK)],
    )
    assert await bot.services.inflight.drain(5)
    await bot.slack.wait_until(
        lambda: bot.slack.views[view["id"]]["callback_id"] == MODAL_CALLBACK_ID,
        timeout=5,
        description="the re-send form in place of the search",
    )
    form: dict[str, Any] = bot.slack.views[view["id"]]
    return form


async def test_a_cuit_with_a_wrong_check_digit_is_an_inline_problem_and_calls_nothing(
    bot: Bot,
) -> None:
    view = await bot.open_modal("30-71234567-2", empty_ack=True)
    assert view["callback_id"] == SEARCH_CALLBACK_ID
    assert says("cuit_check_digit", text="30-71234567-2") in json.dumps(view, ensure_ascii=False)
    assert pick_options(view) == []
    assert bot.tusfacturas.requests == []
    assert bot.lummy.requests == []


async def test_a_serie_folio_finds_the_invoice_the_history_knows_and_picking_opens_the_form(
    bot: Bot,
) -> None:
    # A re-send whose lookup named the serie-folio A-1234: the history now knows it.
    await resend(bot, SEED_LUMMY_ID, lummy_values())
    assert len(resends(bot.lummy)) == 1

    view = await bot.open_modal("A-1234", empty_ack=True)
    assert view["callback_id"] == SEARCH_CALLBACK_ID
    (option,) = pick_options(view)
    assert option["value"] == LUMMY_LINK
    assert option["text"]["text"].startswith("Factura A-1234 (550e8400)")
    opened = bot.slack.calls_to("views.open")[-1].params["view"]
    assert ":hourglass_flowing_sand:" in json.dumps(opened, ensure_ascii=False)

    lookups_before = len(lookups(bot.lummy))
    form = await pick(bot, view, LUMMY_LINK)
    invoice = next(b for b in form["blocks"] if b.get("block_id") == "invoice_id")
    assert invoice["element"]["initial_value"] == SEED_LUMMY_ID
    # The form shows what is known about it (the lookup remembered from the re-send).
    await bot.slack.wait_until(
        lambda: "Empresa Demo" in shown(bot.slack.views[view["id"]]),
        timeout=5,
        description="the preview in the form",
    )
    assert len(lookups(bot.lummy)) == lookups_before


async def test_nothing_found_says_where_it_looked_and_the_form_is_one_click_away(
    bot: Bot,
) -> None:
    view = await bot.open_modal("buscar Nadie Conocido", empty_ack=True)
    text = shown(view)
    assert "No se encontraron comprobantes para «Nadie Conocido»" in text
    assert "el historial del bot" in text

    await bot.sender.block_actions(
        user_id=AGENT, view=view["id"], actions=[button_action(MANUAL_ACTION, "manual")]
    )
    await bot.slack.wait_until(
        lambda: bot.slack.views[view["id"]]["callback_id"] == MODAL_CALLBACK_ID,
        timeout=5,
        description="the empty re-send form",
    )


async def test_a_reference_typed_in_the_search_goes_to_the_form(bot: Bot) -> None:
    view = await bot.open_modal("buscar Nadie Conocido", empty_ack=True)
    response = await bot.sender.view_submission(
        user_id=AGENT, view=view["id"], values=query_values(SEED_LUMMY_ID)
    )
    assert response.status == 200
    form = bot.slack.views[view["id"]]
    assert form["callback_id"] == MODAL_CALLBACK_ID
    invoice = next(b for b in form["blocks"] if b.get("block_id") == "invoice_id")
    assert invoice["element"]["initial_value"] == SEED_LUMMY_ID
    assert resends(bot.lummy) == []


async def test_submitting_a_bad_cuit_keeps_the_modal_with_the_problem_under_the_query(
    bot: Bot,
) -> None:
    view = await bot.open_modal("buscar Nadie Conocido", empty_ack=True)
    response = await bot.sender.view_submission(
        user_id=AGENT, view=view["id"], values=query_values("20-12345678-0")
    )
    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors"
    assert answer["errors"][QUERY_BLOCK] == says("cuit_check_digit", text="20-12345678-0")


async def test_the_shortcut_on_a_ticket_quoting_a_serie_folio_opens_the_search(bot: Bot) -> None:
    await resend(bot, SEED_LUMMY_ID, lummy_values())
    await bot.sender.message_shortcut(
        callback_id="reenviar_factura",
        user_id=AGENT,
        channel_id=CHANNEL,
        message={"ts": "1700000000.000100", "text": "Hola, no me llegó la factura A-1234."},
    )
    await bot.slack.wait_for_call("views.open")
    assert await bot.services.inflight.drain(5)
    view = bot.slack.current_view(AGENT)
    assert view is not None
    assert view["callback_id"] == SEARCH_CALLBACK_ID
    assert [o["value"] for o in pick_options(view)] == [LUMMY_LINK]
    assert strings.SEARCH_MANUAL in shown(view)


async def test_a_lummy_rfc_shows_the_customer_its_known_invoices_and_what_lummy_cannot_search(
    bot: Bot,
) -> None:
    await resend(bot, SEED_LUMMY_ID, lummy_values())

    view = await bot.open_modal("EDE010101AB1", empty_ack=True)
    text = shown(view)
    assert "Cliente en Lummy: Empresa Demo" in text
    assert strings.SEARCH_NO_INVOICE_LIST["lummy"] in text
    assert [o["value"] for o in pick_options(view)] == [LUMMY_LINK]
    searches = [r for r in bot.lummy.requests if r.route == CUSTOMERS_ROUTE]
    assert len(searches) == 1


async def test_a_name_finds_the_lummy_customer_then_its_invoices_by_rfc(bot: Bot) -> None:
    await resend(bot, SEED_LUMMY_ID, lummy_values())

    view = await bot.open_modal("buscar empresa demo", empty_ack=True)
    assert [o["value"] for o in pick_options(view)] == [LUMMY_LINK]
    assert "Cliente en Lummy: Empresa Demo" in shown(view)


async def test_a_tax_id_after_another_providers_word_is_searched_where_it_belongs(
    bot: Bot,
) -> None:
    view = await bot.open_modal("tf EDE010101AB1", empty_ack=True)
    assert "TusFacturas no busca por RFC: se busca en Lummy." in shown(view)


# --- TusFacturas, by CUIT ----------------------------------------------------------

FERRETERIA = "30-71234567-1"


async def test_a_cuit_lists_the_customers_vouchers_newest_first(bot: Bot) -> None:
    view = await bot.open_modal(FERRETERIA, empty_ack=True)

    texts = [o["text"]["text"] for o in pick_options(view)]
    assert [t.split(" · ")[0] for t in texts] == [
        "Factura A 0002-00000131",
        "Factura A 0003-00000045",
        "Nota de crédito A 0002-00000009",
        "Factura A 0002-00000118",
        "Factura A 0002-00000101",
    ]
    assert texts[0] == "Factura A 0002-00000131 · 14/11/2026 · $ 76.300,00"
    descriptions = [o["description"]["text"] for o in pick_options(view)]
    assert descriptions[0] == "Ferretería Industrial Norte S.A. · impaga"
    assert descriptions[3] == "Ferretería Industrial Norte S.A. · pago parcial"
    assert "Cliente en TusFacturas: Ferretería Industrial Norte S.A. (CUIT 30-71234567-1)" in (
        shown(view)
    )
    statements = [r for r in bot.tusfacturas.requests if r.route == CUENTA_CORRIENTE_ROUTE]
    assert len(statements) == 1
    assert statements[0].json["cliente"] == {
        "documento_tipo": "CUIT",
        "documento_nro": "30712345671",
    }
    assert resends(bot.tusfacturas) == []


async def test_a_month_narrows_the_cuits_vouchers_without_asking_again(bot: Bot) -> None:
    await bot.open_modal(FERRETERIA, empty_ack=True)
    view = await bot.open_modal(f"{FERRETERIA} noviembre", empty_ack=True)

    assert [o["value"] for o in pick_options(view)] == [
        "tusfacturas|FACTURA A 0002-00000131",
        "tusfacturas|FACTURA A 0003-00000045",
    ]
    assert len([r for r in bot.tusfacturas.requests if r.route == CUENTA_CORRIENTE_ROUTE]) == 1


async def test_picking_a_voucher_then_submitting_resends_exactly_that_one(bot: Bot) -> None:
    view = await bot.open_modal(FERRETERIA, empty_ack=True)
    await pick(bot, view, "tusfacturas|FACTURA A 0002-00000131")
    response = await bot.sender.view_submission(
        user_id=AGENT, view=view["id"], values=tf_values("FACTURA A", "0002", "00000131")
    )
    assert response.status == 200
    (outcome,) = await bot.wait_for_outcome()
    assert "pagos@ferreterianorte.com.ar" in shown(outcome)
    (sent,) = resends(bot.tusfacturas)
    assert sent.json["comprobante"]["numero"] == "131"


async def test_a_date_lists_that_days_vouchers_from_the_advanced_search(bot: Bot) -> None:
    view = await bot.open_modal("14/11/2026", empty_ack=True)

    values = [o["value"] for o in pick_options(view)]
    assert "tusfacturas|FACTURA A 0002-00000131" in values
    searches = [r for r in bot.tusfacturas.requests if r.route == CONSULTA_AVANZADA_ROUTE]
    assert searches
    assert {r.json["busqueda_tipo"] for r in searches} == {"F"}
    assert {r.json["comprobante"]["fecha"] for r in searches} == {"14/11/2026"}
