"""The re-send history end to end: `/reenviar historial`, the duplicate guard, Lummy's
hourly quota, the audit channel, a history store that is down, and the audit record
every attempt leaves (one canonical log line + one history row).

Backend-sensitive behaviour (reading history, claims) runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from structlog.testing import capture_logs

from bot.history.records import AttemptRecord
from bot.jobs import ResendJob
from bot.resend.admission import Proceed, Requester
from bot.server import EVENTS_PATH
from bot.ui import strings
from devkit.emulators import Fault, FaultKind
from devkit.localslack.sender import SenderResponse
from devkit.localslack.webapi import JsonDict, Message
from providers.lummy.model import LummyInvoice
from tests import e2e
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot
from tests.e2e import (
    NOT_SENT,
    SEED_VOUCHER,
    SENT,
    confirmed,
    eventually,
    history_rows,
    lummy_values,
    resend,
    resends,
    seeded_send,
    shown,
    texts_in,
    tf_values,
)

VOUCHER_KEY = "tusfacturas:FACTURA B|V|2|6"
LUMMY_KEY = f"lummy:{SEED_LUMMY_ID}"
LUMMY_CUSTOMER = "cliente@empresa.com"
TF_CUSTOMER = "compras@panaderialaespiga.com.ar"
AUDIT = "C0AUDIT"
ELSEWHERE = "C0RANDOM"
AGENT_TZ = ZoneInfo("America/Argentina/Buenos_Aires")
CLOSED_PORT_DB = "postgresql://postgres@127.0.0.1:1/none"
WARNING_RE = re.compile(
    r"Ya fue reenviada (hace un momento|hace \d+ min) por <@(U\w+)> a (.+)\.$", re.M
)

# --- helpers -------------------------------------------------------------------------


def confirm_block(view: JsonDict) -> JsonDict | None:
    for block in view["blocks"]:
        if block.get("block_id") == "confirm_duplicate":
            found: JsonDict = block
            return found
    return None


def assert_requires_confirmation(view: JsonDict) -> None:
    block = confirm_block(view)
    assert block is not None, "no confirm_duplicate checkbox"
    assert block["type"] == "input"
    assert not block.get("optional", False)  # required: Slack will not submit without it
    assert block["element"]["type"] == "checkboxes"
    assert [o["value"] for o in block["element"]["options"]] == ["confirmed"]


async def open_modal_with_insight(bot: Bot, text: str, *, user: str = AGENT) -> JsonDict:
    """Type the command and return the modal after the bot added what the history knows."""
    updates = len(bot.slack.calls_to("views.update"))
    view = await bot.open_modal(text, user=user, empty_ack=True)
    (*_, update) = await bot.slack.wait_for_call("views.update", count=updates + 1)
    assert update.params["view_id"] == view["id"]
    assert update.params["hash"]  # guarded: never clobbers what the agent changed meanwhile
    return bot.slack.views[view["id"]]


async def submit(bot: Bot, view: JsonDict, values: JsonDict, *, user: str) -> SenderResponse:
    """``e2e.submit``, and Slack got a 200 (whatever the bot answered)."""
    response = await e2e.submit(bot, view, values, user=user)
    assert response.status == 200
    return response


async def history_answer(bot: Bot, text: str, *, user: str = AGENT) -> Any:
    """Type ``/reenviar <text>`` and return what came back through the response_url."""
    before = len(bot.slack.response_url_messages)
    response = await bot.command(text, user=user)
    assert response.status == 200
    assert response.body == ""  # acked at once; the answer follows
    messages = await bot.slack.wait_for_response_url(count=before + 1)
    return messages[-1]


async def rows_with(bot: Bot, count: int) -> list[AttemptRecord]:
    async def fetch() -> list[AttemptRecord]:
        rows = await history_rows(bot)
        return rows if len(rows) >= count else []

    return await eventually(fetch, what=f"{count} history row(s)")


def attempt_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "resend_attempt"]


# --- /reenviar historial -------------------------------------------------------------


async def test_history_lists_attempts_newest_first_only_to_the_caller(
    start_bot: Any, history_backend: dict[str, Any]
) -> None:
    bot: Bot = await start_bot(**history_backend)
    # A failure that surely sent nothing (a 5xx would be uncertain and hold the invoice).
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, status=429, times=1))
    failure = await resend(bot, SEED_VOUCHER, tf_values(), user=OTHER_AGENT)
    assert NOT_SENT in shown(failure)
    success = await resend(bot, SEED_VOUCHER, tf_values(), user=AGENT)
    assert SENT in shown(success)
    in_channel = len(bot.slack.messages_in(CHANNEL))

    answer = await history_answer(bot, f"historial {SEED_VOUCHER}")

    assert answer.response_type == "ephemeral"
    assert (answer.user_id, answer.channel_id) == (AGENT, CHANNEL)
    assert [e.text for e in bot.slack.ephemeral_for(CHANNEL, AGENT)] == [answer.text]
    assert bot.slack.ephemeral_for(CHANNEL, OTHER_AGENT) == []
    assert len(bot.slack.messages_in(CHANNEL)) == in_channel  # nothing public
    newest, oldest = await bot.services.store.history(VOUCHER_KEY)
    assert (newest.outcome, oldest.outcome) == ("success", "rate_limited")

    def local(record: AttemptRecord) -> str:
        return record.created_at.astimezone(AGENT_TZ).strftime("%d/%m/%Y %H:%M")

    assert answer.text.splitlines() == [
        "*Últimos intentos de Factura B 0002-00000006* (2):",
        f"• {local(newest)} · <@{AGENT}> · enviada · compras@panaderialaespiga.com.ar",
        f"• {local(oldest)} · <@{OTHER_AGENT}> · frenada por exceso de solicitudes",
    ]
    assert "Horario de Argentina." in "\n".join(texts_in(answer.blocks))


async def test_history_unknown_invoice_usage_and_unreadable_reference(bot: Bot) -> None:
    unknown = await history_answer(bot, "historial FACTURA B 0002-00000099")
    assert unknown.text == "No hay intentos registrados de Factura B 0002-00000099."
    assert unknown.response_type == "ephemeral"

    usage = await history_answer(bot, "historial")
    assert usage.text == strings.HISTORY_USAGE
    assert usage.response_type == "ephemeral"

    bad = await history_answer(bot, "historial FACTURA Z 0002-00000006")
    assert bad.text.startswith("No se reconoce el tipo de comprobante «FACTURA Z».")
    assert bad.response_type == "ephemeral"

    lummy = await history_answer(bot, f"history {SEED_LUMMY_ID}")
    assert lummy.text == "No hay intentos registrados de Factura 550e8400."

    assert bot.slack.calls_to("views.open") == []
    assert bot.slack.messages_in(CHANNEL) == []
    assert resends(bot.lummy) == resends(bot.tusfacturas) == []


async def test_history_counts_every_attempt_not_only_those_shown(bot: Bot) -> None:
    for minutes in range(13):
        await bot.services.store.record(seeded_send(ago=timedelta(minutes=30 + minutes)))

    answer = await history_answer(bot, f"historial {SEED_LUMMY_ID}")

    assert "(los 10 más recientes de 13)" in answer.text
    assert answer.text.count("\n•") == 10


# --- the duplicate guard -------------------------------------------------------------


async def test_recent_resend_warns_in_the_modal_and_a_confirmed_one_goes_out(
    start_bot: Any, history_backend: dict[str, Any]
) -> None:
    bot: Bot = await start_bot(**history_backend)
    first = await resend(bot, SEED_LUMMY_ID, lummy_values())
    assert "Reenvíos en la última hora: 1 de 10" in shown(first)

    view = await open_modal_with_insight(bot, SEED_LUMMY_ID, user=OTHER_AGENT)

    text = shown(view)
    match = WARNING_RE.search(text)
    assert match is not None, text
    assert match.group(2) == AGENT
    assert match.group(3) == LUMMY_CUSTOMER
    assert "Reenvíos de esta factura en la última hora: 1 de 10." in text
    assert_requires_confirmation(view)

    response = await submit(bot, view, confirmed(lummy_values()), user=OTHER_AGENT)

    assert response.body == ""
    (_, second) = await bot.wait_for_outcome(count=2)
    assert len(bot.lummy.sends) == 2
    assert "Reenvíos en la última hora: 2 de 10" in shown(second)
    again = await open_modal_with_insight(bot, SEED_LUMMY_ID)
    assert "2 de 10" in shown(again)
    match = WARNING_RE.search(shown(again))
    assert match is not None
    assert match.group(2) == OTHER_AGENT  # the latest one


async def test_a_confirmation_counts_only_for_the_invoice_it_was_asked_for(
    start_bot: Any,
) -> None:
    bot: Bot = await start_bot()
    other = "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"
    await resend(bot, SEED_LUMMY_ID, lummy_values())
    await resend(bot, other, lummy_values(other))
    view = await open_modal_with_insight(bot, SEED_LUMMY_ID, user=OTHER_AGENT)

    # Ticked for the seed invoice, then the agent typed another recently sent one.
    response = await submit(bot, view, confirmed(lummy_values(other)), user=OTHER_AGENT)

    assert response.json is not None
    assert response.json["response_action"] == "update"
    assert len(bot.lummy.sends) == 2  # nothing new went out
    updated = bot.slack.views[view["id"]]
    assert other in updated["private_metadata"]
    # Confirmed again, now for the invoice actually on screen: it goes out.
    accepted = await submit(bot, updated, confirmed(lummy_values(other)), user=OTHER_AGENT)
    assert accepted.body == ""
    await bot.wait_for_outcome(count=3)
    assert [send.invoice_id for send in bot.lummy.sends][-1] == other


async def test_modal_opened_before_the_first_send_warns_at_submit(
    start_bot: Any, history_backend: dict[str, Any]
) -> None:
    bot: Bot = await start_bot(**history_backend)
    early = await bot.open_modal(user=AGENT, empty_ack=True)  # empty: nothing to warn about yet
    assert confirm_block(early) is None
    await resend(bot, SEED_LUMMY_ID, lummy_values(), user=OTHER_AGENT)

    with capture_logs() as logs:
        warned = await submit(bot, early, lummy_values(), user=AGENT)

    assert warned.json is not None
    assert warned.json["response_action"] == "update"
    updated = bot.slack.views[early["id"]]
    match = WARNING_RE.search(shown(updated))
    assert match is not None, shown(updated)
    assert match.group(2) == OTHER_AGENT
    assert_requires_confirmation(updated)
    assert len(bot.lummy.sends) == 1
    (line,) = attempt_lines(logs)
    assert line["outcome"] == "duplicate_warning"
    assert line["user_id"] == AGENT

    accepted = await submit(bot, updated, confirmed(lummy_values()), user=AGENT)

    assert accepted.body == ""
    await bot.wait_for_outcome(count=2)
    assert len(bot.lummy.sends) == 2
    assert bot.lummy.sends[0].idempotency_key != bot.lummy.sends[1].idempotency_key


async def test_a_resend_still_running_warns_the_second_agent(start_bot: Any) -> None:
    bot: Bot = await start_bot()
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=1.0, times=1))
    first = await bot.open_modal(user=AGENT, empty_ack=True)
    second = await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    assert (await submit(bot, first, lummy_values(), user=AGENT)).body == ""

    async def first_reached_lummy() -> bool:
        return len(resends(bot.lummy)) == 1

    await eventually(first_reached_lummy, what="the first re-send to reach Lummy")
    assert bot.slack.messages_in(CHANNEL)[0].text.startswith("Reenviando")  # still running

    warned = await submit(bot, second, lummy_values(), user=OTHER_AGENT)

    assert warned.json is not None
    assert warned.json["response_action"] == "update"
    updated = bot.slack.views[second["id"]]
    assert strings.DUPLICATE_IN_PROGRESS.format(user=f"<@{AGENT}>") in shown(updated)
    assert_requires_confirmation(updated)
    await bot.wait_for_outcome()
    assert len(bot.lummy.sends) == 1


async def test_an_agent_typing_the_invoice_by_hand_is_warned_at_submit(
    start_bot: Any, history_backend: dict[str, Any]
) -> None:
    """History says someone re-sent it 7 minutes ago (seeded, as from another replica)."""
    bot: Bot = await start_bot(**history_backend)
    await bot.services.store.record(seeded_send(ago=timedelta(minutes=7), latency_ms=120))

    prefilled = await open_modal_with_insight(bot, SEED_LUMMY_ID, user=OTHER_AGENT)
    assert f"Ya fue reenviada hace 7 min por <@{AGENT}> a {LUMMY_CUSTOMER}." in shown(prefilled)
    assert_requires_confirmation(prefilled)

    typed_by_hand = await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    assert confirm_block(typed_by_hand) is None
    warned = await submit(bot, typed_by_hand, lummy_values(), user=OTHER_AGENT)

    assert warned.json is not None
    assert warned.json["response_action"] == "update", warned.body
    updated = bot.slack.views[typed_by_hand["id"]]
    assert f"Ya fue reenviada hace 7 min por <@{AGENT}>" in shown(updated)
    assert_requires_confirmation(updated)
    assert resends(bot.lummy) == []

    accepted = await submit(bot, updated, confirmed(lummy_values()), user=OTHER_AGENT)
    assert accepted.body == ""
    await bot.wait_for_outcome()
    assert len(bot.lummy.sends) == 1


async def test_duplicate_window_zero_disables_the_guard(start_bot: Any) -> None:
    bot: Bot = await start_bot(duplicate_window_minutes=0)
    await resend(bot, SEED_LUMMY_ID, lummy_values())

    view = await open_modal_with_insight(bot, SEED_LUMMY_ID, user=OTHER_AGENT)
    assert "Ya fue reenviada" not in shown(view)
    assert confirm_block(view) is None
    assert "1 de 10" in shown(view)  # the quota is still shown

    response = await submit(bot, view, lummy_values(), user=OTHER_AGENT)

    assert response.body == ""
    await bot.wait_for_outcome(count=2)
    assert len(bot.lummy.sends) == 2


# --- Lummy's hourly quota ------------------------------------------------------------


async def test_quota_exhausted_in_history_refuses_and_sends_nothing(
    start_bot: Any, history_backend: dict[str, Any]
) -> None:
    bot: Bot = await start_bot(**history_backend)
    for minutes in range(55, 45, -1):  # 10 successes, the oldest 55 min ago
        await bot.services.store.record(seeded_send(ago=timedelta(minutes=minutes), latency_ms=120))

    view = await open_modal_with_insight(bot, SEED_LUMMY_ID)
    # Said as soon as the invoice is known, with the time a re-send frees up (agent's time).
    frees_at = (datetime.now(UTC) + timedelta(minutes=5)).astimezone(AGENT_TZ)
    refusal = (
        "Ya se usaron los 10 reenvíos por hora de esta factura en Lummy. Se puede volver a "
        f"reenviar desde las {frees_at:%H:%M} (hora de Argentina)."
    )
    assert refusal in shown(view)
    assert confirm_block(view) is None  # none inside the duplicate window

    with capture_logs() as logs:
        refused = await submit(bot, view, lummy_values(), user=AGENT)

    assert refused.json == {
        "response_action": "errors",
        "errors": {"invoice_id": refusal},
    }
    assert resends(bot.lummy) == []
    assert bot.slack.messages_in(CHANNEL) == []
    (line,) = attempt_lines(logs)
    assert (line["outcome"], line["detail"]) == ("refused", "quota_exhausted")
    rows = await bot.services.store.history(LUMMY_KEY, limit=20)
    assert [r.outcome for r in rows].count("refused") == 1


# --- the audit channel ---------------------------------------------------------------


def permalink(channel: str, ts: str) -> str:
    return f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"


async def test_audit_channel_gets_a_line_per_attempt(start_bot: Any) -> None:
    bot: Bot = await start_bot(audit_channel_id=AUDIT, allowed_channel_ids=[CHANNEL])
    bot.slack.add_channel(AUDIT, "auditoria-reenvios")
    bot.slack.add_channel(ELSEWHERE, "random")

    def audit_lines() -> list[Message]:
        return bot.slack.messages_in(AUDIT)

    success = await resend(bot, SEED_LUMMY_ID, lummy_values())
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=1))
    failure = await resend(bot, SEED_VOUCHER, tf_values())
    refused = await bot.command(SEED_VOUCHER, channel=ELSEWHERE)
    assert refused.body == strings.REFUSED_PREFIX + strings.REFUSED_CHANNEL
    await bot.slack.wait_until(lambda: len(audit_lines()) == 3, timeout=5)
    late = await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    warned = await submit(bot, late, lummy_values(), user=OTHER_AGENT)
    assert warned.json is not None
    assert warned.json["response_action"] == "update"
    await bot.slack.wait_until(lambda: len(audit_lines()) == 4, timeout=5)

    texts = [m.text for m in audit_lines()]
    # Each invoice by its one name, with its customer once a lookup knew it.
    lummy_name = "Factura A-1234 (550e8400) · Empresa Demo S.A. de C.V."
    tf_name = "Factura B 0002-00000006"
    assert texts[0] == (
        f":white_check_mark: <@{AGENT}> · {lummy_name} (Lummy) en <#{CHANNEL}> · enviada"
        f" · <{permalink(CHANNEL, success.ts)}|ver mensaje>"
    )
    assert texts[1] == (
        f":grey_question: <@{AGENT}> · {tf_name} · Panadería La Espiga S.R.L. (TusFacturas)"
        f" en <#{CHANNEL}>"
        " · resultado incierto"
        f" · <{permalink(CHANNEL, failure.ts)}|ver mensaje>"
    )
    assert texts[2] == (
        f":no_entry: <@{AGENT}> · {tf_name} en <#{ELSEWHERE}> · no permitido · canal no habilitado"
    )
    assert texts[3].startswith(
        f":warning: <@{OTHER_AGENT}> · Factura 550e8400 (Lummy) en <#{CHANNEL}>"
        f" · aviso de duplicado · ya reenviada por <@{AGENT}>"
    )
    assert "ver mensaje" not in texts[3]
    assert all(len(m.blocks) == 1 and m.blocks[0]["type"] == "context" for m in audit_lines())
    links = bot.slack.calls_to("chat.getPermalink")
    assert [(c.params["channel"], c.params["message_ts"]) for c in links] == [
        (CHANNEL, success.ts),
        (CHANNEL, failure.ts),
    ]


async def test_audit_channel_without_the_bot_is_logged_not_fatal(start_bot: Any) -> None:
    bot: Bot = await start_bot(audit_channel_id=AUDIT)
    bot.slack.add_channel(AUDIT, "auditoria-privada", bot_is_member=False, is_private=True)

    with capture_logs() as logs:
        outcome = await resend(bot, SEED_LUMMY_ID, lummy_values())

    assert SENT in shown(outcome)
    assert bot.slack.messages_in(AUDIT) == []
    failed = [e for e in logs if e["event"] == "slack_channel_post_failed"]
    assert [(e["channel"], e["error"]) for e in failed] == [(AUDIT, "channel_not_found")]
    (lost,) = [e for e in logs if e["event"] == "slack_delivery_lost"]
    assert (lost["channel"], lost["log_level"]) == (AUDIT, "error")
    # Nobody gets the audit line by DM, and the history row is there regardless.
    posts = [c.params["channel"] for c in bot.slack.calls_to("chat.postMessage")]
    assert posts == [CHANNEL, AUDIT]
    assert bot.slack.dm_channel_id(AGENT) is None
    (row,) = await history_rows(bot)
    assert (row.outcome, row.message_ts) == ("success", outcome.ts)


# --- the store is down ---------------------------------------------------------------


async def test_store_down_asks_to_confirm_then_the_resend_still_happens(start_bot: Any) -> None:
    with capture_logs() as logs:
        bot: Bot = await start_bot(database_url=CLOSED_PORT_DB)
        view = await bot.open_modal(SEED_LUMMY_ID, empty_ack=True)
        # Without history nobody can tell whether it was just sent: the agent decides.
        warned = await submit(bot, view, lummy_values(), user=AGENT)
        assert warned.json["response_action"] == "update", warned.body
        assert strings.HISTORY_UNVERIFIED in shown(warned.json["view"])
        assert bot.lummy.sends == []
        updated = bot.slack.views[view["id"]]
        accepted = await submit(bot, updated, confirmed(lummy_values()), user=AGENT)
        assert accepted.status == 200
        assert accepted.body == ""
        (outcome,) = await bot.wait_for_outcome()

    assert SENT in shown(outcome)
    assert LUMMY_CUSTOMER in outcome.text
    assert len(bot.lummy.sends) == 1
    errors = {e["event"] for e in logs if e["log_level"] == "error"}
    assert {"history_store_unavailable", "history_write_failed"} <= errors
    assert "duplicate_guard_unavailable" in errors
    lines = attempt_lines(logs)  # the canonical line still records the attempt
    assert [line["outcome"] for line in lines] == ["duplicate_warning", "success"]

    ready_url = bot.url.removesuffix(EVENTS_PATH) + "/readyz"
    async with httpx.AsyncClient(timeout=10) as http:
        ready = await http.get(ready_url)
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["history"].startswith("history store unavailable")
    assert "postgres@" not in ready.text

    answer = await history_answer(bot, f"historial {SEED_LUMMY_ID}")
    assert answer.text == strings.HISTORY_UNAVAILABLE
    assert answer.response_type == "ephemeral"


async def test_a_history_too_busy_to_answer_asks_to_confirm_instead_of_stepping_aside(
    bot: Bot, tmp_path: Path
) -> None:
    """Another writer holds the SQLite file: the guard cannot claim the invoice in time."""
    await resend(bot, SEED_LUMMY_ID, lummy_values())  # the history works, and knows one send
    blocker = sqlite3.connect(tmp_path / "history.sqlite3", timeout=1, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        view = await bot.open_modal(empty_ack=True)
        warned = await submit(bot, view, tf_values(), user=AGENT)
        assert warned.status == 200
        assert warned.elapsed_seconds < 3, "Slack must get its ack in time"
        assert warned.json["response_action"] == "update", warned.body
        assert strings.HISTORY_UNVERIFIED in shown(warned.json["view"])
        assert bot.tusfacturas.sends == [], "an unguarded re-send went out"
    finally:
        blocker.rollback()
        blocker.close()


# --- one log line and one row per attempt --------------------------------------------


async def test_every_attempt_leaves_one_log_line_and_one_history_row(
    start_bot: Any, history_backend: dict[str, Any]
) -> None:
    bot: Bot = await start_bot(**history_backend, allowed_channel_ids=[CHANNEL])
    bot.slack.add_channel(ELSEWHERE, "random")

    with capture_logs() as logs:
        success = await resend(bot, SEED_LUMMY_ID, lummy_values(email="otro@cliente.com"))
        bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=1))
        failure = await resend(bot, SEED_VOUCHER, tf_values(), user=OTHER_AGENT)
        await bot.command("algo", channel=ELSEWHERE)
        late = await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
        await submit(bot, late, lummy_values(), user=OTHER_AGENT)
        rows = await rows_with(bot, 4)

    lines = attempt_lines(logs)
    assert len(lines) == len(rows) == 4
    assert [line["attempt_id"] for line in lines] == [row.attempt_id for row in rows]
    by_outcome = {row.outcome: row for row in rows}
    # A TusFacturas 5xx may come after the e-mail left: recorded as unknown.
    assert set(by_outcome) == {"success", "unknown", "refused", "duplicate_warning"}
    line_of = {line["outcome"]: line for line in lines}

    row = by_outcome["success"]
    (send,) = bot.lummy.sends
    (request,) = resends(bot.lummy)
    expected = {
        "team_id": "T0001",
        "user_id": AGENT,
        "channel_id": CHANNEL,
        "provider": "lummy",
        "invoice_key": LUMMY_KEY,
        "reference": SEED_LUMMY_ID,
        "alternative_email": "otro@cliente.com",
        "outcome": "success",
        "recipients": ("otro@cliente.com",),
        "request_id": send.request_id,
        "idempotency_key": request.header("x-idempotency"),
        "message_channel": CHANNEL,
        "message_ts": success.ts,
    }
    assert {k: getattr(row, k) for k in expected} == expected
    assert row.latency_ms is not None
    assert 0 <= row.latency_ms < 5000
    line = line_of["success"]
    assert {k: line[k] for k in expected if k != "recipients"} == {
        k: v for k, v in expected.items() if k != "recipients"
    }
    assert line["recipients"] == "otro@cliente.com"
    assert line["latency_ms"] == row.latency_ms
    assert line["log_level"] == "info"

    row = by_outcome["unknown"]
    assert (row.user_id, row.provider, row.invoice_key) == (OTHER_AGENT, "tusfacturas", VOUCHER_KEY)
    assert (row.reference, row.alternative_email, row.request_id) == (SEED_VOUCHER, None, None)
    assert (row.message_channel, row.message_ts) == (CHANNEL, failure.ts)
    assert row.idempotency_key is not None
    assert row.latency_ms is not None
    assert (row.team_id, row.channel_id) == ("T0001", CHANNEL)
    assert line_of["unknown"]["message_ts"] == failure.ts
    assert line_of["unknown"]["log_level"] == "warning"

    row = by_outcome["refused"]
    assert (row.user_id, row.channel_id, row.reference) == (AGENT, ELSEWHERE, "algo")
    assert (row.message_channel, row.message_ts, row.detail) == (None, None, "channel_not_allowed")

    row = by_outcome["duplicate_warning"]
    assert (row.user_id, row.invoice_key, row.team_id) == (OTHER_AGENT, LUMMY_KEY, "T0001")
    assert row.idempotency_key is not None
    assert row.idempotency_key != expected["idempotency_key"]


async def test_a_claim_the_store_could_not_release_is_released_when_it_answers(
    bot: Bot, tmp_path: Path
) -> None:
    """A release lost to an outage would leave "la está reenviando" for minutes."""
    gatekeeper = bot.services.gatekeeper
    job = ResendJob(request=LummyInvoice(invoice_id=SEED_LUMMY_ID), requested_by=AGENT)
    decision = await gatekeeper.review(job, Requester(AGENT, CHANNEL), confirmed=False)
    assert decision == Proceed(claimed=True, quota=decision.quota)

    database = tmp_path / "history.sqlite3"

    def claim_state() -> str:
        with sqlite3.connect(database, timeout=5) as connection:
            (state,) = connection.execute(
                "SELECT state FROM resend_claims WHERE invoice_key = ?", (LUMMY_KEY,)
            ).fetchone()
        return str(state)

    blocker = sqlite3.connect(database, timeout=1, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        await gatekeeper.release(job, sent=True)  # the store cannot take it now
    finally:
        blocker.rollback()
        blocker.close()
    assert claim_state() == "pending"

    await bot.services.refresh_history_status()
    assert claim_state() == "sent"
    assert await bot.services.duplicates.retry_releases() == 0
