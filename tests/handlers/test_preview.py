"""Know before you send: once the modal is open, what the provider says about the invoice
(customer, e-mails on file, total, status) and what the history says (the hourly quota,
the provider the agent works with), through the signed endpoint and the local Slack.

The lookup runs only after views.open, is bounded, and never blocks the send: when it
fails the modal shows nothing more and the outcome falls back to what it can say.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.history.export import export_history
from bot.history.records import AttemptRecord
from bot.ui import strings
from bot.ui.resend_modal import VALUE_ACTION
from devkit.emulators import LOOKUP_ROUTE, Fault, FaultKind
from devkit.localslack.webapi import JsonDict
from providers.lummy.model import LummyInvoice
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot
from tests.e2e import (
    SEED_VOUCHER,
    SENT,
    eventually,
    history_rows,
    lookups,
    lummy_values,
    resend,
    resends,
    shown,
    submit,
    tf_values,
)

pytestmark = pytest.mark.timeout(30)

CUSTOMER = "Panadería La Espiga S.R.L."
ADDRESS = "compras@panaderialaespiga.com.ar"


def selected_provider(view: JsonDict) -> str:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "provider"]
    value: str = block["element"]["initial_option"]["value"]
    return value


# --- Done when: a TusFacturas voucher, end to end -------------------------------------


async def test_tusfacturas_preview_before_submit_then_the_outcome_names_the_email(
    bot: Bot,
) -> None:
    view = await bot.open_modal(SEED_VOUCHER, empty_ack=True)

    # Before submitting: the customer's name, where it goes and the total.
    before_submit = shown(view)
    assert CUSTOMER in before_submit
    assert f"Se va a enviar a {ADDRESS}." in before_submit
    assert "Total $ 45.230,50" in before_submit
    assert "CUIT 30-71543210-9" in before_submit
    assert resends(bot.tusfacturas) == []  # a lookup sends nothing

    response = await submit(bot, view, tf_values())
    assert response.body == ""
    (outcome,) = await bot.wait_for_outcome()

    first_line = outcome.blocks[0]["text"]["text"].split("\n")[0]
    assert first_line == f"{SENT}{ADDRESS}*"
    assert f"> Le reenviamos la factura B 0002-00000006 a {ADDRESS} hoy a las" in shown(outcome)
    assert len(bot.tusfacturas.sends) == 1


def rta_naming_nobody(monkeypatch: pytest.MonkeyPatch, bot: Bot) -> None:
    """TusFacturas re-sends as usual but answers a bare ``error: "N"`` (no ``rta``)."""
    dispatch = bot.tusfacturas._dispatch

    async def bare_success(request: web.Request, handler: Any) -> web.StreamResponse:
        answer = await dispatch(request, handler)
        if request.path.endswith("/facturacion/reenviar") and answer.status == 200:
            return web.json_response({"error": "N"})
        return answer

    monkeypatch.setattr(bot.tusfacturas, "_dispatch", bare_success)


async def test_a_failing_lookup_shows_nothing_and_the_send_still_goes_out(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, status=502), route=LOOKUP_ROUTE)
    # And TusFacturas' answer names nobody: the fallback wording is all there is.
    rta_naming_nobody(monkeypatch, bot)

    view = await bot.open_modal(SEED_VOUCHER)
    assert CUSTOMER not in shown(view)
    assert not [b for b in view["blocks"] if b["type"] == "section"]

    response = await submit(bot, view, tf_values())
    assert response.body == ""
    (outcome,) = await bot.wait_for_outcome()

    text = shown(outcome)
    assert f"{SENT}{strings.DEFAULT_RECIPIENTS['tusfacturas']}*" in text
    assert "TusFacturas no informa cuáles" in text
    assert "al correo que tenemos registrado" in text
    assert len(bot.tusfacturas.sends) == 1
    assert len(lookups(bot.tusfacturas)) >= 1  # it was asked, and failed


async def test_the_lookup_runs_only_after_the_modal_is_open(bot: Bot) -> None:
    await bot.open_modal(SEED_VOUCHER)

    (opened,) = bot.slack.calls_to("views.open")
    (lookup,) = lookups(bot.tusfacturas)
    assert opened.at <= lookup.received_at.timestamp()
    (update,) = bot.slack.calls_to("views.update")
    assert update.at >= lookup.received_at.timestamp()


async def test_a_slow_lookup_is_given_up_and_never_holds_the_modal(bot: Bot) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.HANG), route=LOOKUP_ROUTE)

    started = asyncio.get_running_loop().time()
    view = await bot.open_modal(SEED_VOUCHER)

    assert asyncio.get_running_loop().time() - started < 4
    assert CUSTOMER not in shown(view)
    assert bot.slack.calls_to("views.update") == []  # nothing to add
    response = await submit(bot, view, tf_values())
    assert response.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert SENT in shown(outcome)


async def test_a_lookup_that_failed_for_the_modal_is_not_asked_again_for_the_outcome(
    bot: Bot,
) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=1), route=LOOKUP_ROUTE)
    view = await bot.open_modal(SEED_VOUCHER)
    assert CUSTOMER not in shown(view)

    await submit(bot, view, tf_values())
    (outcome,) = await bot.wait_for_outcome()

    assert SENT in shown(outcome)
    assert CUSTOMER not in shown(outcome)  # it failed minutes ago at most: not asked again
    assert len(lookups(bot.tusfacturas)) == 1


async def test_without_a_preview_the_outcome_lookup_goes_out_beside_the_resend(
    bot: Bot,
) -> None:
    """Nothing asked before (a modal opened blank): the lookup runs while
    the re-send does, and its answer is in the outcome when it came first."""
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=0.1), route=LOOKUP_ROUTE)
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=1.0))

    view = await bot.open_modal()  # blank: nothing to look up yet
    started = asyncio.get_running_loop().time()
    response = await submit(bot, view, lummy_values())
    assert response.body == ""
    (outcome,) = await bot.wait_for_outcome()
    elapsed = asyncio.get_running_loop().time() - started

    assert "Empresa Demo S.A. de C.V." in shown(outcome)  # the lookup's answer
    assert "A-1234" in shown(outcome)
    assert len(lookups(bot.lummy)) == 1
    assert elapsed < 1.9, elapsed  # one after the other takes 1.1 s or more, plus Slack


async def test_the_outcome_never_waits_for_a_lookup_slower_than_the_resend(
    start_bot: Callable[..., Any],
) -> None:
    bot: Bot = await start_bot(provider_read_timeout=10.0)
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=3.0), route=LOOKUP_ROUTE)

    view = await bot.open_modal()
    started = asyncio.get_running_loop().time()
    await submit(bot, view, lummy_values())
    await bot.slack.wait_until(
        lambda: any(SENT in shown(m) for m in bot.slack.messages_in(CHANNEL)), timeout=5
    )
    elapsed = asyncio.get_running_loop().time() - started

    (message,) = bot.slack.messages_in(CHANNEL)
    assert f"{SENT}cliente@empresa.com*" in shown(message)
    assert "Empresa Demo" not in shown(message)
    assert elapsed < 2.0, elapsed  # the lookup takes 3 s
    # The lookup still finishes, and is remembered for the next question.
    await eventually(
        lambda: bot.services.lookups.remembered(LummyInvoice(invoice_id=SEED_LUMMY_ID)),
        what="the lookup's answer, remembered",
        timeout=6,
    )


async def test_the_preview_warns_when_there_is_no_email_on_file(bot: Bot) -> None:
    view = await bot.open_modal("Factura B 0002-00000052")

    text = shown(view)
    assert "Kiosco El Trébol" in text
    assert "El cliente no tiene ningún correo cargado en TusFacturas" in text


async def test_the_preview_warns_when_the_voucher_is_not_issued(bot: Bot) -> None:
    view = await bot.open_modal("FC A 0001-00001540")

    text = shown(view)
    assert "Distribuidora Sur S.A." in text
    assert "Todavía no se emitió: espera aprobación" in text
    assert "«EN COLA, ESPERANDO APROBACION»" in text


async def test_a_lummy_answer_in_an_unknown_shape_shows_nothing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatch = bot.lummy._dispatch

    async def odd_lookup(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "GET":
            return web.json_response({"requestId": "x", "data": ["nothing", "known"]})
        return await dispatch(request, handler)

    monkeypatch.setattr(bot.lummy, "_dispatch", odd_lookup)

    view = await bot.open_modal(SEED_LUMMY_ID)
    outcome = await resend(bot, SEED_LUMMY_ID, lummy_values())

    assert "Empresa Demo" not in shown(view)
    assert "Factura 550e8400 en Lummy" in shown(outcome)
    assert f"{SENT}cliente@empresa.com*" in shown(outcome)


async def test_an_invoice_typed_into_the_modal_is_looked_up_when_entered(bot: Bot) -> None:
    view = await bot.open_modal()
    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[
            {
                "type": "radio_buttons",
                "action_id": "provider_choice",
                "block_id": "provider",
                "selected_option": {"value": "lummy"},
            }
        ],
        values={"provider": {"provider_choice": {"selected_option": {"value": "lummy"}}}},
    )
    await bot.slack.wait_for_call("views.update")
    updates = len(bot.slack.calls_to("views.update"))

    response = await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[
            {
                "type": "plain_text_input",
                "action_id": VALUE_ACTION,
                "block_id": "invoice_id",
                "value": SEED_LUMMY_ID,
            }
        ],
        values=lummy_values(),
    )

    assert response.status == 200
    await bot.slack.wait_for_call("views.update", count=updates + 1)
    updated = bot.slack.views[view["id"]]
    assert "Folio A-1234" in shown(updated)
    assert "Empresa Demo S.A. de C.V." in shown(updated)
    assert resends(bot.lummy) == []


# --- the history keeps the real recipients ----------------------------------------------


async def test_history_row_and_export_keep_the_addresses_the_lookup_found(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # TusFacturas' answer names nobody; only the lookup knows the addresses on file.
    rta_naming_nobody(monkeypatch, bot)

    outcome = await resend(
        bot, "Factura A 0001-00001534", tf_values("FACTURA A", "0001", "00001534")
    )

    both = "administracion@distribuidorasur.com.ar y pagos@distribuidorasur.com.ar"
    assert f"{SENT}{both}*" in shown(outcome)
    (row,) = [r for r in await history_rows(bot) if r.outcome == "success"]
    assert row.recipients == (
        "administracion@distribuidorasur.com.ar",
        "pagos@distribuidorasur.com.ar",
    )
    exported = io.StringIO()
    await export_history(bot.services.store, since=datetime.now(UTC).date(), output=exported)
    assert (
        "administracion@distribuidorasur.com.ar, pagos@distribuidorasur.com.ar"
        in exported.getvalue()
    )


# --- remember the provider ----------------------------------------------------------------


async def test_a_blank_modal_opens_on_the_provider_the_agent_used_last(bot: Bot) -> None:
    await bot.services.store.record(
        AttemptRecord(
            attempt_id=str(uuid4()),
            created_at=datetime.now(UTC) - timedelta(days=2),
            user_id=AGENT,
            provider="lummy",
            invoice_key=f"lummy:{SEED_LUMMY_ID}",
            reference=SEED_LUMMY_ID,
            outcome="success",
        )
    )

    view = await bot.open_modal()

    # @ana is in Argentina, but she re-sent a Lummy invoice last.
    assert selected_provider(view) == "lummy"


@pytest.mark.parametrize(("user", "provider"), [(AGENT, "tusfacturas"), (OTHER_AGENT, "lummy")])
async def test_without_history_the_modal_opens_on_the_agents_country(
    bot: Bot, user: str, provider: str
) -> None:
    # @ana is in America/Argentina/Buenos_Aires, @beto in America/Mexico_City.
    view = await bot.open_modal(user=user)
    assert selected_provider(view) == provider


# --- Lummy at 10/10: as soon as the invoice is known -------------------------------------


async def test_an_exhausted_lummy_quota_says_from_when_in_the_modal(bot: Bot) -> None:
    now = datetime.now(UTC)
    for minutes in range(50, 40, -1):
        await bot.services.store.record(
            AttemptRecord(
                attempt_id=str(uuid4()),
                created_at=now - timedelta(minutes=minutes),
                user_id=OTHER_AGENT,
                provider="lummy",
                invoice_key=f"lummy:{SEED_LUMMY_ID}",
                reference=SEED_LUMMY_ID,
                outcome="success",
            )
        )

    view = await bot.open_modal(SEED_LUMMY_ID)

    frees = (now + timedelta(minutes=10)).astimezone(ZoneInfo("America/Argentina/Buenos_Aires"))
    text = shown(view)
    assert "Ya se usaron los 10 reenvíos por hora de esta factura en Lummy" in text
    assert f"desde las {frees:%H:%M} (hora de Argentina)." in text
    response = await submit(bot, view, lummy_values())
    assert response.json is not None
    assert list(response.json["errors"]) == ["invoice_id"]
    assert bot.lummy.sends == []
    assert bot.slack.messages_in(CHANNEL) == []
