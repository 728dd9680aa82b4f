"""What the modal says about the entered invoice before it goes: the provider's facts
about it, a recent re-send of it, and the provider's hourly quota."""

from __future__ import annotations

from datetime import datetime

from bot.history.insight import Insight, QuotaUsage
from bot.ui import strings
from bot.ui.blocks import Block, context_block, escape, section_block
from bot.ui.wording import address_list, amount, quota_left, quota_refusal, tax_id
from providers.base import InvoiceFacts, InvoiceStatus
from providers.registry import AnyProvider


def time_ago(at: datetime, now: datetime) -> str:
    """How long ago ``at`` was, as the agent reads it ("hace 3 min")."""
    minutes = max(0, int((now - at).total_seconds() // 60))
    return strings.JUST_NOW if minutes == 0 else strings.MINUTES_AGO.format(minutes=minutes)


def duplicate_warning(insight: Insight, now: datetime) -> str | None:
    """Why sending again needs a second thought, if it does."""
    recent = insight.recent
    if insight.unverified:
        return strings.HISTORY_UNVERIFIED
    if recent is None:
        return None
    if recent.in_progress:
        return strings.DUPLICATE_IN_PROGRESS.format(user=f"<@{recent.user_id}>")
    if recent.uncertain:
        return strings.DUPLICATE_UNCERTAIN.format(
            ago=time_ago(recent.at, now), user=f"<@{recent.user_id}>"
        )
    to = ", ".join(escape(r) for r in recent.recipients[:3])
    template = strings.DUPLICATE_RECENT if to else strings.DUPLICATE_RECENT_TO_CUSTOMER
    return template.format(ago=time_ago(recent.at, now), user=f"<@{recent.user_id}>", recipients=to)


def quota_blocks(quota: QuotaUsage, provider: AnyProvider, agent_tz: str | None) -> list[Block]:
    """The hourly quota: once exhausted, that nothing can go and from when it can (in the
    agent's time, the zone named: the modal shows it under the invoice); near the limit,
    the count and what is left, in the main text; else the count in small print."""
    if quota.exhausted:
        return [section_block(strings.QUOTA_FULL_PREFIX + quota_refusal(quota, provider, agent_tz))]
    if quota.nearly_exhausted:
        text = strings.QUOTA_NEARLY_USED.format(
            used=quota.used, limit=quota.limit, provider=provider.label, left=quota_left(quota)
        )
        return [section_block(text)]
    return [context_block(strings.QUOTA_USED.format(used=quota.used, limit=quota.limit))]


def preview_blocks(
    facts: InvoiceFacts, provider: AnyProvider, *, alternative: str | None = None
) -> list[Block]:
    """What the provider says about the invoice: who the customer is, the document, where
    the re-send goes (``alternative``: the address the agent filled in, instead of the
    customer's), and a warning when it cannot reach anyone or is not issued."""
    if not facts.exists:
        return [section_block(strings.PREVIEW_NOT_FOUND.format(provider=provider.label))]
    lines = []
    if facts.customer_name:
        customer = strings.PREVIEW_CUSTOMER.format(name=escape(facts.customer_name))
        identity = tax_id(facts.customer_id_type, facts.customer_id)
        lines.append(customer + (f" · {escape(identity)}" if identity else ""))
    document = []
    if facts.display_number:
        document.append(strings.PREVIEW_NUMBER.format(number=escape(facts.display_number)))
    if facts.issued_on:
        document.append(strings.PREVIEW_ISSUED.format(date=facts.issued_on.strftime("%d/%m/%Y")))
    if facts.total is not None:
        total = amount(facts.total, facts.currency, provider.country)
        document.append(strings.PREVIEW_TOTAL.format(amount=escape(total)))
    if document:
        lines.append(" · ".join(document))
    if facts.recipients:
        recipients = escape(address_list(facts.recipients))
        if alternative and provider.alternative_email_field:
            line = strings.PREVIEW_TO_ALTERNATIVE.format(
                alternative=escape(alternative), recipients=recipients
            )
        elif provider.alternative_email_field:
            line = strings.PREVIEW_RECIPIENTS_OR_ALTERNATIVE.format(recipients=recipients)
        else:
            line = strings.PREVIEW_RECIPIENTS.format(recipients=recipients)
        lines.append(line)
    blocks = [section_block("\n".join(lines))] if lines else []
    if facts.recipients == ():
        blocks.append(section_block(strings.PREVIEW_NO_EMAIL.format(provider=provider.label)))
    if facts.status is not None and facts.status is not InvoiceStatus.ISSUED:
        warning = strings.STATUS_WARNINGS.get(facts.status, strings.STATUS_WARNINGS["other"])
        blocks.append(
            section_block(
                strings.PREVIEW_STATUS.format(
                    status=warning, provider=provider.label, text=escape(facts.status_text or "")
                )
            )
        )
    return blocks
