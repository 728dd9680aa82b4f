"""Helpers shared by the end-to-end tests: modal values, what an agent reads, polling.

``state.values`` builders give what Slack sends on a modal submit (the seeded Lummy
invoice and TusFacturas voucher by default); ``texts_in``/``shown`` read Block Kit
the way a person does; ``eventually`` polls state that another task or process
changes. The fixtures and the ``Bot`` they start live in tests/conftest.py (which
must not import this module).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar, overload
from uuid import uuid4

from bot.history.records import AttemptRecord
from bot.ui import strings
from bot.ui.outcome import RETRY_ACTION
from bot.ui.resend_modal import (
    CONFIRM_BLOCK,
    CONFIRMED,
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    VALUE_ACTION,
    FormState,
    ModalContext,
    resend_modal,
)
from bot.ui.wording import problem_message
from devkit.emulators import LOOKUP_ROUTE, RESEND_ROUTE, EmulatorServer, RecordedRequest
from devkit.localslack import (
    checkboxes_value,
    email_value,
    plain_text_value,
    radio_value,
    static_select_value,
)
from devkit.localslack.sender import SenderResponse
from devkit.localslack.webapi import JsonDict, Message
from providers.base import FieldProblem
from providers.lummy.provider import LUMMY
from providers.registry import builtin_registry
from providers.tusfacturas.provider import TUSFACTURAS
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, Bot

T = TypeVar("T")

#: The TusFacturas voucher the emulator seeds (what ``tf_values()`` fills in).
SEED_VOUCHER = "FACTURA B 0002-00000006"
#: How each kind of outcome starts, as an agent reads it (the first line's fixed part).
SENT = strings.SUCCESS_HEADLINE.split("{")[0]
NOT_SENT = strings.FAILURE_HEADLINE.split("{")[0]
MAYBE_SENT = strings.UNKNOWN_HEADLINE.split("{")[0]


# --- modal state.values --------------------------------------------------------------


def lummy_values(invoice_id: str | None = SEED_LUMMY_ID, email: str | None = None) -> JsonDict:
    """``state.values`` of the modal showing Lummy fields."""
    invoice_block, email_block = (field.name for field in LUMMY.form)
    return {
        PROVIDER_BLOCK: {PROVIDER_ACTION: radio_value("lummy")},
        invoice_block: {VALUE_ACTION: plain_text_value(invoice_id)},
        email_block: {VALUE_ACTION: email_value(email)},
    }


def tf_values(
    tipo: str | None = "FACTURA B",
    punto_venta: str | None = "0002",
    numero: str | None = "00000006",
    operacion: str | None = "V",
    *,
    provider: str | None = "tusfacturas",
) -> JsonDict:
    """``state.values`` of the modal showing TusFacturas fields (``None``: left empty)."""
    tipo_block, operacion_block, punto_venta_block, numero_block = (
        field.name for field in TUSFACTURAS.form
    )
    return {
        PROVIDER_BLOCK: {PROVIDER_ACTION: radio_value(provider)},
        tipo_block: {VALUE_ACTION: static_select_value(tipo)},
        operacion_block: {VALUE_ACTION: radio_value(operacion)},
        punto_venta_block: {VALUE_ACTION: plain_text_value(punto_venta)},
        numero_block: {VALUE_ACTION: plain_text_value(numero)},
    }


def confirmed(values: JsonDict) -> JsonDict:
    """The same values with the duplicate guard's checkbox ticked."""
    return {**values, CONFIRM_BLOCK: {VALUE_ACTION: checkboxes_value([CONFIRMED])}}


def submission_view(
    invoice_id: str, *, user: str = AGENT, configured: Mapping[str, bool] | None = None
) -> JsonDict:
    """The Lummy modal as ``/reenviar`` would have opened it in CHANNEL (no views.open)."""
    registry = builtin_registry()
    modal = resend_modal(
        FormState(provider=LUMMY.key, values={"invoice_id": invoice_id}),
        ModalContext(channel_id=CHANNEL),
        registry=registry,
        configured=dict.fromkeys(registry, True) if configured is None else configured,
    )
    return {**modal, "id": f"V{uuid4().hex[:10].upper()}"}


# --- acting like an agent ------------------------------------------------------------


async def submit(
    bot: Bot, view: JsonDict, values: JsonDict, *, user: str = AGENT
) -> SenderResponse:
    """Submit ``view`` with ``values`` as ``user``; Slack's HTTP answer, unchecked."""
    return await bot.sender.view_submission(user_id=user, view=view["id"], values=values)


async def resend(bot: Bot, text: str, values: JsonDict, *, user: str = AGENT) -> Message:
    """``/reenviar text``, submit ``values``; the modal closes; returns the new outcome."""
    before = len(bot.slack.messages_in(CHANNEL))
    view = await bot.open_modal(text, user=user, empty_ack=True)
    response = await submit(bot, view, values, user=user)
    assert response.status == 200
    assert response.body == "", response.body
    messages = await bot.wait_for_outcome(count=before + 1)
    return messages[-1]


def seeded_send(
    *, ago: timedelta, user: str = AGENT, latency_ms: int | None = None
) -> AttemptRecord:
    """A history row: the seed Lummy invoice sent to its customer ``ago`` before now."""
    return AttemptRecord(
        attempt_id=str(uuid4()),
        created_at=datetime.now(UTC) - ago,
        team_id="T0001",
        user_id=user,
        channel_id=CHANNEL,
        provider="lummy",
        invoice_key=f"lummy:{SEED_LUMMY_ID}",
        reference=SEED_LUMMY_ID,
        outcome="success",
        recipients=("cliente@empresa.com",),
        idempotency_key=str(uuid4()),
        latency_ms=latency_ms,
    )


# --- what a person reads -------------------------------------------------------------


#: What the modal's fields show for the seed voucher, FACTURA B 0002-00000006.
SEED_VOUCHER_FIELDS: Final = {
    "provider": "tusfacturas",
    "tipo": "FACTURA B",
    "operacion": "V",
    "punto_venta": "0002",
    "numero": "00000006",
}


def field_values(view: JsonDict) -> dict[str, str]:
    """What the modal's fields show, by block id (typed text or the chosen option)."""
    values = {}
    for block in view["blocks"]:
        element = block.get("element") or {}
        value = element.get("initial_value") or (element.get("initial_option") or {}).get("value")
        if block.get("type") == "input" and value:
            values[block["block_id"]] = value
    return values


def ack_text(response: SenderResponse) -> str:
    """What the agent reads from a command's ack: plain text (Slack shows it only to them)."""
    assert response.status == 200
    if response.json is not None:
        # A JSON ack must not make the refusal public.
        assert response.json.get("response_type", "ephemeral") == "ephemeral"
        return str(response.json["text"])
    assert response.headers["content-type"].startswith("text/plain")
    return response.body


def texts_in(node: Any) -> Iterator[str]:
    """Every ``text`` string in a block tree (what Slack renders; not button values)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from texts_in(item)


def shown(thing: Message | JsonDict) -> str:
    """Everything a person can read in a message (its text and blocks) or a view."""
    if isinstance(thing, Message):
        return "\n".join([thing.text, *texts_in(thing.blocks)])
    return "\n".join(texts_in(thing["blocks"]))


def blocks_text(blocks: list[Any]) -> str:
    """The blocks as JSON (every string in them, button values and ids included)."""
    return json.dumps(blocks, ensure_ascii=False)


def resends(emulator: EmulatorServer) -> list[RecordedRequest]:
    """The re-send requests an emulator received (lookups left out)."""
    return _on_route(emulator, RESEND_ROUTE)


def lookups(emulator: EmulatorServer) -> list[RecordedRequest]:
    """The lookups an emulator received (they never send anything)."""
    return _on_route(emulator, LOOKUP_ROUTE)


def _on_route(emulator: EmulatorServer, route: str) -> list[RecordedRequest]:
    return [request for request in emulator.requests if request.route == route]


def retry_buttons(message: Message) -> list[JsonDict]:
    """The "Reintentar" buttons in ``message``."""
    return [
        element
        for block in message.blocks
        for element in block.get("elements", [])
        if element.get("action_id") == RETRY_ACTION
    ]


# --- waiting ---------------------------------------------------------------------------


class Clock:
    """A monotonic clock that can be moved forward (the user group cache's)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@overload
async def eventually(
    fetch: Callable[[], Awaitable[T]], *, what: str, timeout: float = ..., interval: float = ...
) -> T: ...
@overload
async def eventually(
    fetch: Callable[[], T], *, what: str, timeout: float = ..., interval: float = ...
) -> T: ...
async def eventually(
    fetch: Callable[[], Any], *, what: str, timeout: float = 5.0, interval: float = 0.02
) -> Any:
    """Poll ``fetch`` (sync or async) until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def history_rows(bot: Bot, *, within: timedelta = timedelta(days=1)) -> list[AttemptRecord]:
    """The history rows recorded in the last ``within``, oldest first."""
    since = datetime.now(UTC) - within
    return [record async for record in bot.services.store.export(since)]


def says(code: str, *, text: str | None = None, limit: int | None = None) -> str:
    """What the agent reads for an input problem with this code."""
    return problem_message(FieldProblem(code, text=text, limit=limit))
