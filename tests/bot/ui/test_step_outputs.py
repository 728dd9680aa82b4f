"""The Workflow Builder step's outputs: plain sentences."""

from __future__ import annotations

from bot.ui import strings
from bot.ui.step_outputs import step_outcome, step_recipients
from bot.ui.wording import error_message
from providers.base import ResendResult
from providers.errors import (
    NotFoundError,
    OutcomeUnknownError,
)
from providers.lummy.model import LummyInvoice
from tests.bot.ui.conftest import INVOICE_ID, SENT_AT, VOUCHER
from tests.conftest import REGISTRY


def test_step_outcome_is_one_plain_sentence() -> None:
    request = LummyInvoice(invoice_id=INVOICE_ID)
    result = ResendResult(
        provider="lummy", reference=INVOICE_ID, recipients=("cliente@empresa.com",), sent_at=SENT_AT
    )
    sent = step_outcome(request, REGISTRY, result=result)
    assert sent.startswith("Reenviada ")
    assert sent.endswith("(Lummy) a cliente@empresa.com.")
    on_file = ResendResult(provider="tusfacturas", reference=VOUCHER.reference)
    assert step_recipients(VOUCHER, on_file) == strings.DEFAULT_RECIPIENTS["tusfacturas"]

    missing = NotFoundError("HTTP 404", provider="lummy")
    explanation = error_message(missing, "Lummy")
    not_sent = step_outcome(request, REGISTRY, error=missing)
    assert not_sent.startswith("No se reenvió ")
    assert not_sent.endswith(explanation)
    unknown = step_outcome(
        request, REGISTRY, error=OutcomeUnknownError("timeout", provider="lummy")
    )
    assert unknown.startswith("Resultado incierto de ")
    for text in (sent, not_sent, unknown):
        assert "*" not in text
        assert "`" not in text
        assert ":" not in text.split(" ", 1)[0]
