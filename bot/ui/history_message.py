"""The history of one invoice as ``/reenviar historial`` shows it, and how a row of the
history reads (the Home tab and the audit line write rows the same way)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Final
from zoneinfo import ZoneInfo

from bot.history.records import AttemptRecord
from bot.ui import strings
from bot.ui.blocks import SlackMessage, context_block, escape, section_block
from bot.ui.wording import default_recipients, invoice_title, zone_name, zone_of
from providers.base import InvalidReferenceError, InvoiceFacts, ResendRequest
from providers.registry import ProviderRegistry


def history_message(
    request: ResendRequest,
    records: Sequence[AttemptRecord],
    *,
    agent_tz: str | None,
    provider_label: str | None = None,
    total: int | None = None,
) -> SlackMessage:
    """The last attempts for one invoice, shown only to the caller (``provider_label``:
    the brand its refusals name, by default the provider's key; ``total``: how many
    attempts there are in all, when more than those shown)."""
    reference = invoice_title(request)
    if not records:
        text = strings.HISTORY_EMPTY.format(reference=escape(reference))
        return SlackMessage(text=text, blocks=[section_block(text)])
    zone = zone_of(agent_tz) or ZoneInfo("UTC")
    lines = []
    for record in records:
        when = record.created_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        outcome = recorded_outcome(record, provider_label or request.provider)
        line = f"• {when} · <@{record.user_id}> · {outcome}"
        recipients = recorded_recipients(record)
        if recipients:
            line += " · " + recipients
        lines.append(line)
    count = (
        strings.HISTORY_SHOWN_OF.format(shown=len(records), total=total)
        if total is not None and total > len(records)
        else str(len(records))
    )
    header = strings.HISTORY_HEADER.format(reference=escape(reference), count=count)
    zone_note = strings.HISTORY_ZONE.format(zone=zone_name(agent_tz or "UTC"))
    text = header + "\n" + "\n".join(lines)
    return SlackMessage(text=text, blocks=[section_block(text), context_block(zone_note)])


def recorded_outcome(record: AttemptRecord, provider_label: str) -> str:
    """How a history row's outcome reads; a quota refusal is the provider's limit, not a
    permission."""
    if record.outcome == "refused" and record.detail == QUOTA_REFUSAL:
        return strings.QUOTA_REFUSAL_LABEL.format(provider=provider_label)
    return strings.OUTCOME_LABELS.get(record.outcome, record.outcome)


#: The `AttemptRecord.detail` of a refusal by the provider's hourly quota.
QUOTA_REFUSAL: Final = "quota_exhausted"


def recorded_reference(record: AttemptRecord, registry: ProviderRegistry) -> str:
    """The invoice of a history row by its one name (`invoice_title`: ``Factura A-1234
    (550e8400)``), with its customer when the lookup knew it; text that names no invoice
    (a refusal at command time) quoted as typed."""
    provider = registry.get(record.provider) if record.provider else None
    request = None
    if record.reference:
        with contextlib.suppress(InvalidReferenceError):
            # A refusal at command time knows only the text: read it like the command.
            request = (
                provider.parse(record.reference)
                if provider is not None
                else registry.parse_reference(record.reference)
            )
    if request is None:
        return (
            strings.TYPED_REFERENCE.format(text=escape(record.reference))
            if record.reference
            else strings.NO_REFERENCE
        )
    facts = InvoiceFacts(
        provider=request.provider, reference=record.reference, display_number=record.display_number
    )
    name = escape(invoice_title(request, facts))
    return f"{name} · {escape(record.customer_name)}" if record.customer_name else name


def recorded_recipients(record: AttemptRecord) -> str | None:
    """Who a history row's attempt went (or was to go) to, if anyone can tell."""
    if record.recipients:
        return ", ".join(escape(r) for r in record.recipients[:3])
    if record.alternative_email:
        return escape(record.alternative_email)
    if record.outcome == "success":
        # The provider did not say who: it went to the addresses on file.
        return default_recipients(record.provider)
    return None
