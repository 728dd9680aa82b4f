"""The messages of a re-send: progress, its outcome (success, failure, the bot's own
error), the one-line notices and help around it, the DM fallback and the audit line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.history.insight import QuotaUsage
from bot.history.records import AttemptRecord
from bot.jobs import ResendJob
from bot.ui import strings
from bot.ui.blocks import (
    Block,
    SlackMessage,
    button_element,
    clip,
    context_block,
    escape,
    plain_text,
    section_block,
)
from bot.ui.history_message import recorded_reference
from bot.ui.wording import (
    address_list,
    clock_time,
    default_recipients,
    error_message,
    invoice_for_customer,
    invoice_phrase,
    invoice_title,
    label_of,
    zone_of,
)
from providers.base import InvoiceFacts, ResendRequest, ResendResult
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    RejectedError,
)
from providers.registry import ProviderRegistry

RETRY_ACTION: Final = "retry_resend"
#: "Corregir y reenviar": reopens the modal with the invoice of a failed re-send.
FIX_ACTION: Final = "fix_resend"
#: "Descargar PDF": a link; Slack still tells the app it was clicked.
PDF_ACTION: Final = "open_pdf"
#: Marks the "re-sending…" message, so tools can tell it from an outcome.
PROGRESS_BLOCK: Final = "resend_progress"
#: The most recipients an outcome names; the rest are counted.
RECIPIENTS_SHOWN: Final = 10


def help_message() -> SlackMessage:
    """Usage with examples, shown only to the caller."""
    return SlackMessage(text=strings.HELP_TEXT, blocks=[section_block(strings.HELP_TEXT)])


def notice_message(text: str) -> SlackMessage:
    """A one-line message (a refusal, a hint) for the caller."""
    return SlackMessage(text=text, blocks=[section_block(text)])


def _subject(request: ResendRequest, registry: ProviderRegistry) -> str:
    """The invoice in the agent's terms, with the provider."""
    return strings.SUBJECT.format(
        reference=escape(invoice_title(request)), provider=label_of(request.provider, registry)
    )


def _attempt_note(job: ResendJob) -> str | None:
    """For a retry: which attempt this is and who pressed the button."""
    if job.attempt == 1:
        return None
    note = strings.ATTEMPT.format(attempt=job.attempt)
    if job.retried_by and job.retried_by != job.requested_by:
        note += " " + strings.RETRIED_BY.format(user=f"<@{job.retried_by}>")
    return note


def progress_message(job: ResendJob, registry: ProviderRegistry) -> SlackMessage:
    """The message shown while the provider is working."""
    subject = _subject(job.request, registry)
    text = strings.PROGRESS.format(subject=subject, user=f"<@{job.requested_by}>")
    attempt = _attempt_note(job)
    if attempt:
        text += " " + attempt
    progress = {**section_block(":hourglass_flowing_sand: " + text), "block_id": PROGRESS_BLOCK}
    return SlackMessage(text=text, blocks=[progress])


def sent_to(
    request: ResendRequest, result: ResendResult, facts: InvoiceFacts | None
) -> tuple[str, ...]:
    """Who a re-send reached, as the outcome names it and the history keeps it: the
    provider's answer, else (without an alternative address) the addresses on file a
    lookup found; empty when nobody can tell."""
    if result.recipients:
        return result.recipients
    if facts is not None and facts.recipients and not request.alternative_email:
        return facts.recipients
    return ()


def success_message(
    job: ResendJob,
    result: ResendResult,
    *,
    registry: ProviderRegistry,
    now: datetime,
    facts: InvoiceFacts | None = None,
    quota: QuotaUsage | None = None,
) -> SlackMessage:
    """The outcome of a successful re-send, leading with what the agent repeats: who got
    it; then the invoice, the time in the provider's country and who asked; then a reply
    ready to paste to the customer. UTC, ids and the quota go to the small print."""
    request = job.request
    provider = registry.get(result.provider)
    label = label_of(result.provider, registry)
    recipients = sent_to(request, result, facts)
    addresses = escape(address_list(recipients, limit=RECIPIENTS_SHOWN))
    shown_recipients = addresses or default_recipients(request.provider)
    sent = result.sent_at or now
    zone = zone_of(provider.timezone if provider else None) or ZoneInfo("UTC")
    time, zone_label = clock_time(sent, zone.key)
    customer = facts.customer_name if facts is not None else None
    details = strings.OUTCOME_DETAILS.format(
        invoice=escape(invoice_title(request, facts)),
        provider=label,
        customer=f" · {escape(customer)}" if customer else "",
        when=strings.SENT_WHEN.format(
            date=sent.astimezone(zone).strftime("%d/%m"), time=time, zone=zone_label
        ),
        user=f"<@{job.requested_by}>",
    )
    reply_template = strings.REPLY_SENT if recipients else strings.REPLY_SENT_ON_FILE
    reply = reply_template.format(
        invoice=invoice_for_customer(request, facts),
        recipients=address_list(recipients, limit=RECIPIENTS_SHOWN),
        time=time,
    )
    aside, reply_more, pdf_url = _file_only(job, facts, label)
    reply += reply_more
    notes = [strings.SENT_UTC.format(time=sent.astimezone(UTC).strftime("%d/%m/%Y %H:%M"))]
    if quota is not None:
        notes.append(strings.QUOTA_USED_SHORT.format(used=quota.used, limit=quota.limit))
    attempt = _attempt_note(job)
    if attempt:
        notes.append(attempt)
    if result.request_id:
        notes.append(strings.REQUEST_ID.format(request_id=escape(result.request_id)))
    # Its first block finds it in the logs and the history, which keep it whole.
    notes.append(strings.IDEMPOTENCY_KEY.format(key=escape(job.idempotency_key.split("-")[0])))
    headline = strings.SUCCESS_HEADLINE.format(recipients=shown_recipients)
    blocks: list[Block] = [section_block(headline + "\n" + details)]
    if aside:
        blocks.append(section_block(":information_source: " + escape(aside)))
    blocks.extend([section_block(_quote(reply)), _small_print(notes)])
    if pdf_url:
        button = {**button_element(PDF_ACTION, strings.PDF_BUTTON, "pdf"), "url": pdf_url}
        blocks.append({"type": "actions", "block_id": "next_steps", "elements": [button]})
    text = strings.SUCCESS_TEXT.format(
        invoice=escape(invoice_phrase(request, facts)), provider=label, recipients=shown_recipients
    )
    return SlackMessage(text=text, blocks=blocks)


def _file_only(
    job: ResendJob, facts: InvoiceFacts | None, label: str
) -> tuple[str | None, str, str | None]:
    """When the agent asked for an address the provider cannot send to: the line that
    says it went to the file instead, what the ready reply adds, and the PDF link."""
    address = job.asked_address
    if not address:
        return None, "", None
    url = facts.pdf_url if facts is not None else None
    url = url if url and len(url) <= 3000 else None
    aside = strings.FILE_ONLY_SENT.format(address=address, provider=label) + " "
    aside += (
        strings.FILE_ONLY_SENT_PDF if url else strings.FILE_ONLY_SENT_NO_PDF.format(provider=label)
    )
    reply = " " + strings.REPLY_FILE_ONLY.format(address=address)
    if url:
        reply += " " + strings.REPLY_PDF_LINK.format(url=url)
    return aside, reply, url


def _small_print(notes: Sequence[str]) -> Block:
    """One context line of notes, dot-separated (their own final periods dropped)."""
    return context_block(" · ".join(note.rstrip(".") for note in notes))


def _quote(text: str) -> str:
    """``text`` as a mrkdwn block quote (escaped), for the agent to copy."""
    return "\n".join("> " + line for line in escape(text).split("\n"))


def _technical_detail(label: str, message: str | None, codes: Sequence[str] = ()) -> str:
    """The provider's own words (often English), small and last: never the main text."""
    detail = (
        strings.PROVIDER_SAYS.format(provider=label, message=clip(message, 160)) if message else ""
    )
    if codes:
        detail += (" (" + ", ".join(codes) + ")") if detail else ", ".join(codes)
    return strings.TECHNICAL_DETAIL.format(detail=escape(detail))


def _retry_button(job: ResendJob, error: ProviderError, registry: ProviderRegistry) -> Block:
    """Reintentar, with a dialog that says what the retry risks with this provider: nothing
    after a failure that sent nothing; after an unknown outcome, nothing new where the
    provider replays the reused key, else a second e-mail (and then no blind yes)."""
    confirm: dict[str, Any] = {
        "title": plain_text(strings.RETRY_CONFIRM_TITLE),
        "text": plain_text(strings.RETRY_CONFIRM_SAFE),
        "confirm": plain_text(strings.RETRY_CONFIRM_YES),
        "deny": plain_text(strings.RETRY_CONFIRM_NO),
    }
    if isinstance(error, OutcomeUnknownError):
        label = label_of(job.request.provider, registry)
        if job.request.provider in strings.RETRY_REPLAYS:
            confirm["text"] = plain_text(strings.RETRY_CONFIRM_REPLAYED.format(provider=label))
        else:
            confirm["text"] = plain_text(strings.RETRY_CONFIRM_UNKNOWN.format(provider=label))
            confirm["confirm"] = plain_text(strings.RETRY_CONFIRM_RISKY_YES)
            confirm["style"] = "danger"
    return {
        "type": "actions",
        "block_id": "retry",
        "elements": [
            {
                "type": "button",
                "action_id": RETRY_ACTION,
                "text": plain_text(strings.RETRY_BUTTON),
                "value": job.next_attempt().to_button_value(),
                "confirm": confirm,
            }
        ],
    }


def _next_steps(
    job: ResendJob, error: ProviderError, facts: InvoiceFacts | None, registry: ProviderRegistry
) -> list[dict[str, Any]]:
    """The buttons that take the agent to the next step, if any."""
    buttons = []
    if error.offers_retry:
        buttons.extend(_retry_button(job, error, registry)["elements"])
    if isinstance(error, NotFoundError | InvalidRequestError):
        buttons.append(button_element(FIX_ACTION, strings.FIX_BUTTON, job.to_button_value()))
    pdf_url = _pdf_link(error, facts)
    if pdf_url:
        buttons.append({**button_element(PDF_ACTION, strings.PDF_BUTTON, "pdf"), "url": pdf_url})
    return buttons


def _pdf_link(error: ProviderError, facts: InvoiceFacts | None) -> str | None:
    """The PDF to offer when the provider will not e-mail it and a lookup linked it."""
    if not isinstance(error, RejectedError) or error.reason != REJECTION_EMAIL_SENDING_OFF:
        return None
    url = facts.pdf_url if facts is not None else None
    # Slack allows 3000 characters in a button's url.
    return url if url and len(url) <= 3000 else None


def failure_message(
    job: ResendJob,
    error: ProviderError,
    registry: ProviderRegistry,
    *,
    facts: InvoiceFacts | None = None,
) -> SlackMessage:
    """The outcome of a failed (or uncertain) re-send: what happened, what to do next
    (with a button for it when there is one), and the provider's own words in small."""
    request = job.request
    label = label_of(error.provider, registry)
    explanation = error_message(error, label)
    if isinstance(error, RejectedError) and error.reason == REJECTION_EMAIL_SENDING_OFF:
        explanation += " " + (
            strings.PDF_NEXT_STEP
            if _pdf_link(error, facts)
            else strings.PDF_ELSEWHERE.format(provider=label)
        )
    template = strings.UNKNOWN_HEADLINE if error.may_have_sent else strings.FAILURE_HEADLINE
    headline = template.format(invoice=escape(invoice_phrase(request, facts)))
    blocks: list[Block] = [section_block(headline + "\n" + escape(explanation))]
    notes = [strings.REQUESTED_BY.format(user=f"<@{job.requested_by}>") + f" ({label})"]
    attempt = _attempt_note(job)
    if attempt:
        notes.append(attempt)
    codes = error.codes if isinstance(error, RejectedError) else ()
    # A refusal the bot explains in its own words needs only the provider's codes.
    explained = isinstance(error, RejectedError) and error.reason in strings.REJECTION_REASONS
    message = None if explained and codes else error.provider_message
    if message or codes:
        notes.append(_technical_detail(label, message, codes))
    if error.request_id:
        notes.append(strings.REQUEST_ID.format(request_id=escape(error.request_id)))
    blocks.append(_small_print(notes))
    buttons = _next_steps(job, error, facts, registry)
    if buttons:
        blocks.append({"type": "actions", "block_id": "next_steps", "elements": buttons})
    text = f"{_without_markup(headline)}. {explanation}"
    return SlackMessage(text=text, blocks=blocks)


def _without_markup(mrkdwn: str) -> str:
    """A headline without its emoji and bold markers, for the notification text."""
    return mrkdwn.split(" ", 1)[-1].replace("*", "")


def internal_error_message(
    error_id: str, job: ResendJob | None = None, registry: ProviderRegistry | None = None
) -> SlackMessage:
    """What the agent sees when the bot itself failed; the id matches the log line.

    With a ``job`` the re-send had started and may have gone out; without one it had not.
    """
    if job is None or registry is None:
        text = strings.INTERNAL_ERROR_NOTHING_SENT.format(error_id=error_id)
    else:
        text = (
            _subject(job.request, registry)
            + ". "
            + strings.INTERNAL_ERROR.format(error_id=error_id)
        )
    return SlackMessage(text=text, blocks=[section_block(":warning: " + text)])


def with_dm_notice(message: SlackMessage, channel_id: str | None) -> SlackMessage:
    """The message as sent by DM, saying why it did not go to the channel."""
    channel = f"<#{channel_id}>" if channel_id else strings.THE_CHANNEL
    notice = strings.DM_FALLBACK_NOTICE.format(channel=channel)
    return SlackMessage(text=message.text, blocks=[context_block(notice), *message.blocks])


def audit_line(
    record: AttemptRecord, *, link: str | None, registry: ProviderRegistry
) -> SlackMessage:
    """The compact audit-channel line for one attempt."""
    # Outcomes without their own icon are failures ("unknown" has its own).
    icon = strings.AUDIT_ICONS.get(record.outcome, ":x:")
    subject = recorded_reference(record, registry)
    provider = label_of(record.provider, registry) if record.provider else ""
    outcome = strings.OUTCOME_LABELS.get(record.outcome, record.outcome)
    text = strings.AUDIT_LINE.format(
        icon=icon,
        user=f"<@{record.user_id}>",
        subject=subject,
        provider=f" ({provider})" if provider else "",
        channel=f" {strings.IN_CHANNEL.format(channel=f'<#{record.channel_id}>')}"
        if record.channel_id
        else "",
        outcome=outcome,
    )
    if record.outcome == "refused" and record.detail:
        text += " · " + strings.REFUSAL_LABELS.get(record.detail, escape(record.detail))
    elif record.outcome == "duplicate_warning" and record.detail:
        text += " · " + strings.DUPLICATE_AUDIT.format(user=f"<@{escape(record.detail)}>")
    if link:
        text += f" · <{link}|{strings.SEE_MESSAGE}>"
    return SlackMessage(text=text, blocks=[context_block(text)])
