"""The re-send pipeline: after Slack's ack, every surprise still reaches the agent.

End to end through the production bot where it matters (exceptions, time zones,
Slack faults around the re-send).
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import pytest
from structlog.testing import capture_logs

from bot.jobs import ResendJob
from bot.logs import new_error_id
from bot.resend.inflight import InFlight
from bot.resend.lookup import InvoiceLookups
from bot.resend.pipeline import ResendPipeline, _attempt_record, _Run
from bot.slack.delivery import ChannelMessageRef, Delivery, Destination
from bot.ui import strings
from devkit.emulators.common import LOOKUP_ROUTE, Fault, FaultKind
from devkit.localslack import FakeSlackWebAPI
from devkit.localslack.webapi import Message
from providers.base import InvoiceFacts
from providers.customers import CustomerQuery, read_customer_query
from providers.lummy.model import LummyInvoice
from providers.tusfacturas.model import Operacion, TusFacturasVoucher
from tests.conftest import (
    AGENT,
    CHANNEL,
    OTHER_AGENT,
    SEED_LUMMY_ID,
    Bot,
    is_progress,
)
from tests.e2e import (
    MAYBE_SENT,
    SENT,
    blocks_text,
    eventually,
    lummy_values,
    resends,
    texts_in,
    tf_values,
)

ERROR_ID = re.compile(r"\bE-[0-9A-F]{6}\b")
INTERNAL = re.compile(r"Algo falló dentro del bot \(error (E-[0-9A-F]{6})\)")
NO_LEAKS = ("Traceback", "RuntimeError", "KeyError", "kaboom", '{"')


def assert_readable(message: Message) -> None:
    shown = message.text + blocks_text(message.blocks)
    for leak in NO_LEAKS:
        assert leak not in message.text, f"{leak!r} leaked into {message.text!r}"
        # Every text Slack renders (sections, headers, fields, buttons), not button values.
        assert leak not in "".join(texts_in(message.blocks)), f"{leak!r} leaked into the blocks"
    assert shown.strip()


async def submit(bot: Bot, values: dict[str, Any] | None = None) -> Message:
    values = lummy_values() if values is None else values
    view = await bot.open_modal()
    response = await bot.sender.view_submission(user_id=AGENT, view=view["id"], values=values)
    assert response.status == 200, response.body
    (outcome,) = await bot.wait_for_outcome(timeout=5)
    return outcome


def _raise(exc: Exception) -> Any:
    def boom(*args: Any, **kwargs: Any) -> NoReturn:
        raise exc

    return boom


# --- surprises after the ack ------------------------------------------------------


async def test_unexpected_exception_from_a_provider_client_reads_as_outcome_unknown(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug inside a provider client: the request may have left, so it is "uncertain"."""
    lummy_client = bot.services.providers.client("lummy")
    assert lummy_client is not None

    async def exploding_resend(*args: Any, **kwargs: Any) -> NoReturn:
        raise KeyError("kaboom")

    monkeypatch.setattr(lummy_client, "resend", exploding_resend)
    with capture_logs() as logs:
        outcome = await submit(bot)

    assert MAYBE_SENT in blocks_text(outcome.blocks)
    assert strings.PROVIDER_ERRORS["unknown"].format(provider="Lummy") in outcome.text
    assert strings.RETRY_CONFIRM_REPLAYED.format(provider="Lummy") in blocks_text(outcome.blocks)
    assert_readable(outcome)
    attempts = [e for e in logs if e["event"] == "resend_attempt"]
    assert [e["outcome"] for e in attempts] == ["unknown"]
    assert attempts[0]["detail"].startswith("unexpected KeyError")
    assert resends(bot.lummy) == []


@pytest.mark.parametrize(
    ("broken", "values", "fault"),
    [
        pytest.param("success_message", lummy_values(), False, id="success-view"),
        pytest.param("failure_message", tf_values(), True, id="failure-view"),
        pytest.param("progress_message", lummy_values(), False, id="progress-view"),
    ],
)
async def test_internal_error_shows_an_error_id_that_matches_the_log(
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
    values: dict[str, Any],
    fault: bool,
) -> None:
    if fault:
        bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR))
    # Where the pipeline looks the view up.
    monkeypatch.setattr(
        f"bot.resend.pipeline.{broken}", _raise(RuntimeError('kaboom {"raw": "json"}'))
    )
    with capture_logs() as logs:
        outcome = await submit(bot, values)

    match = INTERNAL.search(outcome.text)
    assert match, outcome.text
    error_id = match.group(1)
    assert error_id in blocks_text(outcome.blocks)
    assert_readable(outcome)
    (logged,) = [e for e in logs if e["event"] == "internal_error"]
    assert logged["error_id"] == error_id
    assert logged["log_level"] == "error"
    assert logged["exc_info"] is True
    # Exactly one message in the channel: the progress (if any) was replaced.
    assert bot.slack.messages_in(CHANNEL) == [outcome]


async def test_progress_failure_sends_nothing_to_the_provider(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.resend.pipeline.progress_message", _raise(RuntimeError("kaboom")))
    outcome = await submit(bot)
    assert INTERNAL.search(outcome.text)
    assert resends(bot.lummy) == []


async def test_exception_escaping_the_pipeline_still_reaches_the_agent(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even the outcome's own delivery blowing up ends in a message with an error id."""
    delivery = bot.services.pipeline._delivery
    original = delivery.replace

    async def replace_then_explode(*args: Any, **kwargs: Any) -> NoReturn:
        await original(*args, **kwargs)
        # Bolt polls for the ack every 10 ms and an exception resets it (see the report):
        # give the ack time to be seen before blowing up, as real Slack latency would.
        await asyncio.sleep(0.1)
        raise RuntimeError("kaboom")

    monkeypatch.setattr(delivery, "replace", replace_then_explode)
    view = await bot.open_modal()
    with capture_logs() as logs:
        response = await bot.sender.view_submission(
            user_id=AGENT, view=view["id"], values=lummy_values()
        )
        assert response.status == 200
        await bot.slack.wait_until(
            lambda: (
                any(e["event"] == "unhandled_error" for e in logs)
                and bot.slack.dm_channel_id(AGENT) is not None
                and bool(bot.slack.messages_in(bot.slack.dm_channel_id(AGENT) or ""))
            ),
            timeout=5,
            description="the error report",
        )
    (logged,) = [e for e in logs if e["event"] == "unhandled_error"]
    (report,) = bot.slack.messages_in(bot.slack.dm_channel_id(AGENT) or "")
    match = INTERNAL.search(report.text)
    assert match
    assert match.group(1) == logged["error_id"]
    assert_readable(report)


def test_error_ids_are_short_and_distinct() -> None:
    ids = {new_error_id() for _ in range(50)}
    assert len(ids) > 45
    assert all(ERROR_ID.fullmatch(i) for i in ids)


# --- times and what a lookup adds ----------------------------------------------------


async def test_success_shows_the_providers_country_time_and_utc(bot: Bot) -> None:
    outcome = await submit(bot)
    text = blocks_text(outcome.blocks)
    assert " UTC" in text
    assert "hora del centro de México" in text  # Lummy's customers are in Mexico
    assert "America/" not in text


async def test_a_slow_lookup_does_not_hold_the_outcome_back_for_long(
    bot: Bot, fake_slack: FakeSlackWebAPI
) -> None:
    bot.lummy.inject(Fault(FaultKind.HANG), route=LOOKUP_ROUTE)
    lookups = InvoiceLookups(bot.services.providers, timeout=0.3)
    pipeline = ResendPipeline(
        providers=bot.services.providers,
        delivery=Delivery(bot.services.client),
        inflight=InFlight(),
        lookups=lookups,
        gatekeeper=bot.services.gatekeeper,
        auditor=bot.services.pipeline._auditor,
    )
    job = ResendJob(request=LummyInvoice(invoice_id=SEED_LUMMY_ID), requested_by=AGENT)
    started = time.monotonic()
    ref = await pipeline.run(job, Destination(user_id=AGENT, channel_id=CHANNEL))
    assert time.monotonic() - started < 1.5
    await lookups.aclose()
    assert isinstance(ref, ChannelMessageRef)
    message = fake_slack.find_message(CHANNEL, ref.ts)
    assert message is not None
    # Without the lookup: Lummy's own sentTo, and the invoice by its short id.
    assert f"{SENT}cliente@empresa.com*" in blocks_text(message.blocks)
    assert "Factura 550e8400 en Lummy" in blocks_text(message.blocks)
    assert len(bot.lummy.sends) == 1


async def test_tusfacturas_success_is_stamped_with_the_pipelines_clock(
    bot: Bot, fake_slack: FakeSlackWebAPI
) -> None:
    fixed = datetime(2025, 2, 1, 15, 4, 5, tzinfo=UTC)
    inflight = InFlight()
    pipeline = ResendPipeline(
        providers=bot.services.providers,
        delivery=Delivery(bot.services.client),
        inflight=inflight,
        clock=lambda: fixed,
        gatekeeper=bot.services.gatekeeper,
        auditor=bot.services.pipeline._auditor,
    )
    job = ResendJob(
        request=TusFacturasVoucher(
            tipo="FACTURA B", operacion=Operacion.VENTA, punto_venta=2, numero=6
        ),
        requested_by=OTHER_AGENT,
    )
    ref = await pipeline.run(job, Destination(user_id=OTHER_AGENT, channel_id=CHANNEL))
    assert isinstance(ref, ChannelMessageRef)
    assert inflight.count == 0
    message = fake_slack.find_message(CHANNEL, ref.ts)
    assert message is not None
    text = blocks_text(message.blocks)
    assert "01/02/2025 15:04 UTC" in text
    assert "01/02 12:04, hora de Argentina" in text
    assert "hoy a las 12:04" in text
    assert "compras@panaderialaespiga.com.ar" in text  # named in TusFacturas' "rta"


# --- Slack faults around the re-send ---------------------------------------------------


async def _submit_and_time_the_provider_call(bot: Bot) -> float:
    """Submit the Lummy modal; seconds until the provider received the re-send."""
    view = await bot.open_modal()
    started = time.monotonic()
    response = await bot.sender.view_submission(
        user_id=AGENT, view=view["id"], values=lummy_values()
    )
    assert response.status == 200, response.body
    await eventually(lambda: len(resends(bot.lummy)) == 1, what="the re-send", timeout=15)
    return time.monotonic() - started


def _placeholders(bot: Bot) -> list[Message]:
    return [m for m in bot.slack.messages_in(CHANNEL) if is_progress(m)]


async def test_a_hanging_placeholder_does_not_delay_the_provider_call(bot: Bot) -> None:
    bot.slack.set_latency("chat.postMessage", 5)
    assert await _submit_and_time_the_provider_call(bot) < 1.5

    (outcome,) = await bot.wait_for_outcome(timeout=20)
    assert SENT in blocks_text(outcome.blocks)
    # The placeholder landed after the outcome: it is removed, not left "re-sending".
    await eventually(lambda: _placeholders(bot) == [], what="no placeholder left", timeout=15)
    assert bot.slack.messages_in(CHANNEL) == [outcome]


async def test_a_rate_limited_placeholder_does_not_delay_the_provider_call(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", "ratelimited", times=3, retry_after=3)
    assert await _submit_and_time_the_provider_call(bot) < 1.5

    (outcome,) = await bot.wait_for_outcome(timeout=20)
    assert SENT in blocks_text(outcome.blocks)
    await eventually(lambda: _placeholders(bot) == [], what="no placeholder left", timeout=15)


async def test_an_outcome_that_could_not_replace_the_placeholder_removes_it(bot: Bot) -> None:
    bot.slack.fail("chat.update", "internal_error", times=1)
    outcome = await submit(bot)
    assert SENT in blocks_text(outcome.blocks)
    # The outcome went on another route; "re-sending…" does not stay behind.
    await eventually(lambda: _placeholders(bot) == [], what="no placeholder left", timeout=10)
    assert len(bot.slack.calls_to("chat.delete")) >= 1


async def test_a_hanging_views_open_says_nothing_was_sent(bot: Bot) -> None:
    bot.slack.set_latency("views.open", 8)
    response = await bot.command("")
    assert response.status == 200
    await eventually(lambda: bot.slack.response_url_messages != [], what="a notice", timeout=10)
    (notice,) = bot.slack.response_url_messages
    assert "No se pudo abrir el formulario" in notice.text
    assert "no se envió nada" in notice.text
    assert "puede no haberse completado" not in notice.text
    assert resends(bot.lummy) == []
    assert resends(bot.tusfacturas) == []


# --- what the history row keeps of the lookup --------------------------------------------


async def test_a_finished_lookup_lands_in_the_history_row_and_finds_the_invoice(bot: Bot) -> None:
    outcome = await submit(bot)
    assert SENT in blocks_text(outcome.blocks)
    store = bot.services.store
    key = f"lummy:{SEED_LUMMY_ID}"

    (row,) = await eventually(lambda: store.history(key), what="the history row", timeout=5)
    # What the emulator's lookup tells about its seeded invoice, as the search keeps it.
    assert row.customer_name == "Empresa Demo S.A. de C.V."
    assert row.customer_key == "EMPRESA DEMO S.A. DE C.V."
    assert (row.customer_tax_id, row.display_number) == ("EDE010101AB1", "A-1234")
    assert (row.issued_on, row.total, row.currency) == (date(2026, 11, 14), 11600, "MXN")
    said = read_customer_query("me llegó la A-1234 por $11.600,00", today=date(2026, 11, 20))
    assert isinstance(said, CustomerQuery)
    assert await store.invoices_matching(said) == [row]


FACTS = InvoiceFacts(
    provider="lummy",
    reference=SEED_LUMMY_ID,
    customer_name="Ésta Empresa S.A. de C.V.",
    customer_id="ede-010101-ab1",
    issued_on=date(2026, 2, 10),
    total=Decimal("11600.00"),
    currency="MXN",
    display_number="A-001234",
)


def _lookup(state: str) -> asyncio.Future[InvoiceFacts | None]:
    """The run's lookup, answered or not as ``state`` says."""
    lookup: asyncio.Future[InvoiceFacts | None] = asyncio.get_running_loop().create_future()
    if state == "answered":
        lookup.set_result(FACTS)
    elif state == "answered-nothing":
        lookup.set_result(None)
    elif state == "failed":
        lookup.set_exception(RuntimeError("lookup broke"))
    elif state == "cancelled":
        lookup.cancel()
    return lookup


@pytest.mark.parametrize(
    ("state", "filled"),
    [
        ("answered", True),
        ("still-asking", False),
        ("answered-nothing", False),
        ("failed", False),
        ("cancelled", False),
    ],
)
async def test_the_history_row_keeps_the_lookup_only_once_it_has_answered(
    state: str, filled: bool
) -> None:
    job = ResendJob(request=LummyInvoice(invoice_id=SEED_LUMMY_ID), requested_by=AGENT)
    run = _Run(job=job, destination=Destination(user_id=AGENT), team_id=None, ref=None)
    run.facts = lookup = _lookup(state)

    row = _attempt_record(
        run,
        at=datetime(2026, 3, 2, tzinfo=UTC),
        latency_ms=12,
        request_id=None,
        recipients=(),
        detail=None,
    )

    found = (
        row.customer_name,
        row.customer_key,
        row.customer_tax_id,
        row.issued_on,
        row.total,
        row.currency,
        row.display_number,
    )
    if filled:
        assert found == (
            "Ésta Empresa S.A. de C.V.",
            "ESTA EMPRESA S.A. DE C.V.",
            "EDE010101AB1",
            date(2026, 2, 10),
            Decimal("11600.00"),
            "MXN",
            "A-1234",
        )
    else:
        assert found == (None,) * 7
    # Never waited for, nor stopped: a lookup still asking goes on.
    assert lookup.done() is (state != "still-asking")
    assert (row.invoice_key, row.outcome) == (job.request.invoice_key, "unknown")
