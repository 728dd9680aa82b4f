"""``/reenviar historial``: one invoice's attempts in the agent's time, valid Block Kit."""

from __future__ import annotations

from bot.ui import strings
from bot.ui.history_message import history_message
from providers.lummy.model import LummyInvoice
from tests.bot.ui.conftest import AGENT, INVOICE_ID, attempt_record, check

REQUEST = LummyInvoice(invoice_id=INVOICE_ID)


def test_history_lists_each_attempt_with_its_outcome_and_recipients_in_the_agents_time() -> None:
    records = [
        attempt_record(5),
        attempt_record(60, outcome="refused", detail="channel_not_allowed", recipients=()),
        attempt_record(90, recipients=()),
    ]
    message = history_message(REQUEST, records, agent_tz="America/Argentina/Buenos_Aires")
    check(message)
    header, *lines = message.blocks[0]["text"]["text"].split("\n")
    assert header == "*Últimos intentos de Factura 550e8400* (3):"
    assert lines == [
        f"• 10/03/2025 15:25 · <@{AGENT}> · enviada · cliente@empresa.com",
        f"• 10/03/2025 14:30 · <@{AGENT}> · no permitido",
        f"• 10/03/2025 14:00 · <@{AGENT}> · enviada · {strings.DEFAULT_RECIPIENTS['lummy']}",
    ]
    assert message.blocks[1]["elements"][0]["text"] == "Horario de Argentina."


def test_history_without_attempts_says_so_in_one_line() -> None:
    message = history_message(REQUEST, [], agent_tz=None)
    check(message)
    assert message.text == "No hay intentos registrados de Factura 550e8400."
    assert len(message.blocks) == 1


def test_a_quota_refusal_reads_as_the_providers_limit() -> None:
    records = [attempt_record(5, outcome="refused", detail="quota_exhausted", recipients=())]
    message = history_message(REQUEST, records, agent_tz=None, provider_label="Lummy")
    check(message)
    (line,) = message.blocks[0]["text"]["text"].split("\n")[1:]
    assert line.endswith(f"<@{AGENT}> · límite de Lummy")
