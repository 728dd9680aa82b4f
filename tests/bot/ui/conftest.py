"""What the view tests share: the invoices, the agent, the clock, and the checks every
message passes (valid Block Kit, nothing raw)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.history.records import AttemptRecord
from bot.ui.blocks import SlackMessage
from bot.ui.resend_modal import ModalContext
from providers.tusfacturas.model import TusFacturasVoucher
from tests.blockkit import assert_valid_blocks

INVOICE_ID = "550e8400-e29b-41d4-a716-446655440000"
AGENT = "U0AGENT01"
NOW = datetime(2025, 3, 10, 18, 30, 0, tzinfo=UTC)
SENT_AT = datetime(2025, 3, 10, 17, 5, 9, tzinfo=UTC)
VOUCHER = TusFacturasVoucher(tipo="FACTURA B", punto_venta=2, numero=6)
BOTH = {"tusfacturas": True, "lummy": True}
CONTEXT = ModalContext(
    channel_id="C0SUPPORT", response_url="https://hooks.slack.com/commands/T/1/x"
)
#: Things that must never reach a person: raw JSON, Python internals.
LEAKS = ('{"', "Traceback", "Error(", "None", "detail=")


def texts(value: Any) -> list[str]:
    """Every ``text`` string inside blocks (plain_text and mrkdwn alike)."""
    if isinstance(value, dict):
        own = [value["text"]] if isinstance(value.get("text"), str) else []
        return own + [t for key, item in value.items() if key != "value" for t in texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in texts(item)]
    return []


def shown(message: SlackMessage) -> str:
    return "\n".join([message.text, *texts(message.blocks)])


def check(message: SlackMessage) -> str:
    """Valid Block Kit, notification text present, nothing raw; returns what people read."""
    assert message.text.strip(), "empty notification text"
    assert message.blocks, "no blocks"
    assert_valid_blocks(message.blocks)
    everything = shown(message)
    for leak in LEAKS:
        assert leak not in everything, f"{leak!r} in {everything!r}"
    return everything


def block_ids(modal: dict[str, Any]) -> list[str]:
    return [block.get("block_id", "") for block in modal["blocks"]]


def by_id(modal: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(block for block in modal["blocks"] if block.get("block_id") == block_id)


def attempt_record(minutes: int, **extra: Any) -> AttemptRecord:
    """A history row ``minutes`` before `NOW`: a sent Lummy invoice unless ``extra`` says."""
    values: dict[str, Any] = {
        "attempt_id": f"a{minutes}",
        "created_at": NOW - timedelta(minutes=minutes),
        "user_id": AGENT,
        "provider": "lummy",
        "invoice_key": f"lummy:{INVOICE_ID}",
        "reference": INVOICE_ID,
        "outcome": "success",
        "recipients": ("cliente@empresa.com",),
        "message_channel": "C0SUPPORT",
        "message_ts": "1741631400.000100",
        **extra,
    }
    return AttemptRecord(**values)
