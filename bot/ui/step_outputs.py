"""The Workflow Builder step's outputs in words: who a re-send reached, its outcome, and
why it was not sent, each in one Spanish sentence."""

from __future__ import annotations

from datetime import datetime

from bot.history.insight import Insight
from bot.ui import strings
from bot.ui.outcome import RECIPIENTS_SHOWN
from bot.ui.preview import duplicate_warning
from bot.ui.wording import address_list, default_recipients, error_message, invoice_title, label_of
from providers.base import ResendRequest, ResendResult
from providers.errors import ProviderError
from providers.registry import ProviderRegistry


def step_recipients(request: ResendRequest, result: ResendResult) -> str:
    """Who a re-send reached, as a workflow step outputs it (plain text)."""
    return address_list(result.recipients, limit=RECIPIENTS_SHOWN) or default_recipients(
        request.provider
    )


def step_outcome(
    request: ResendRequest,
    registry: ProviderRegistry,
    *,
    result: ResendResult | None = None,
    error: ProviderError | None = None,
) -> str:
    """A re-send's outcome in one plain Spanish sentence (a workflow step's output)."""
    label = label_of(request.provider, registry)
    invoice = invoice_title(request)
    if result is not None:
        recipients = step_recipients(request, result)
        return strings.STEP_SENT.format(invoice=invoice, provider=label, recipients=recipients)
    assert error is not None
    template = strings.STEP_UNKNOWN if error.may_have_sent else strings.STEP_NOT_SENT
    explanation = error_message(error, label)
    return template.format(invoice=invoice, provider=label, explanation=explanation)


def step_duplicate(insight: Insight, now: datetime) -> str:
    """Why a workflow step did not send: a recent re-send nobody there can confirm."""
    warning = duplicate_warning(insight, now) or strings.HISTORY_UNVERIFIED
    return strings.STEP_DUPLICATE.format(warning=warning)
