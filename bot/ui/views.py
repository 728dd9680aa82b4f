"""Block Kit builders: pure functions from typed data to Slack payloads.

Nothing here does I/O. Every string a person reads comes from `bot.ui.strings`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.history.records import AttemptRecord
from bot.resend.insight import Insight, QuotaUsage
from bot.resend.jobs import ResendJob
from bot.ui import strings
from bot.ui.forms import (
    CONFIRM_BLOCK,
    CONFIRMED,
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    REFERENCE_ACTION,
    REFERENCE_BLOCK,
    VALUE_ACTION,
    FormState,
    ModalContext,
)
from bot.ui.wording import (
    address_list,
    amount,
    clock_time,
    document_type_name,
    error_message,
    invoice_for_customer,
    invoice_phrase,
    invoice_title,
    tax_id,
    zone_name,
    zone_of,
)
from providers.base import (
    FieldKind,
    FormField,
    InvoiceFacts,
    InvoiceStatus,
    ResendRequest,
    ResendResult,
)
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    RejectedError,
)
from providers.registry import AnyProvider, ProviderRegistry

Block = dict[str, Any]

MODAL_CALLBACK_ID: Final = "reenviar_modal"
RETRY_ACTION: Final = "retry_resend"
#: "Corregir y reenviar": reopens the modal with the invoice of a failed re-send.
FIX_ACTION: Final = "fix_resend"
#: "Descargar PDF": a link; Slack still tells the app it was clicked.
PDF_ACTION: Final = "open_pdf"
#: Marks the "re-sending…" message, so tools can tell it from an outcome.
PROGRESS_BLOCK: Final = "resend_progress"
_SECTION_LIMIT: Final = 2900
_FIELD_LIMIT: Final = 1900
_RECIPIENTS_SHOWN: Final = 10


@dataclass(frozen=True)
class SlackMessage:
    """A message: the notification ``text`` plus its blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int = _SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str, limit: int = _SECTION_LIMIT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _clip(text, limit)}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text) for text in texts[:10]]}


def _option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    option: dict[str, Any] = {"text": _plain(text[:75]), "value": value}
    if description:
        option["description"] = _plain(description[:75])
    return option


# --- The modal -----------------------------------------------------------------


def _field_copy(table: Mapping[str, str], provider: AnyProvider, name: str) -> str | None:
    return table.get(f"{provider.key}.{name}", table.get(name))


def _choice_option(field: FormField, value: str) -> dict[str, Any]:
    label = strings.CHOICE_LABELS.get(field.name, {}).get(value)
    if label is None:
        label = document_type_name(value) if field.document_type else value
    return _option(label, value)


def _choice_element(field: FormField, value: str | None) -> dict[str, Any]:
    options = [_choice_option(field, choice.value) for choice in field.choices]
    chosen = value if any(c.value == value for c in field.choices) else field.default
    element: dict[str, Any] = {"action_id": VALUE_ACTION}
    if field.kind is FieldKind.RADIO:
        element["type"] = "radio_buttons"
        element["options"] = options
    else:
        element["type"] = "static_select"
        element["placeholder"] = _plain(strings.SELECT_PLACEHOLDER)
        groups: dict[str, list[dict[str, Any]]] = {}
        for choice, option in zip(field.choices, options, strict=True):
            groups.setdefault(choice.group or "", []).append(option)
        if len(groups) > 1:
            ordered = sorted(groups, key=_group_order)
            element["option_groups"] = [
                {"label": _plain(strings.CHOICE_GROUPS.get(g, g)[:75]), "options": groups[g]}
                for g in ordered
            ]
        else:
            element["options"] = options
    if chosen is not None:
        element["initial_option"] = _choice_option(field, chosen)
    return element


def _group_order(group: str) -> int:
    order = list(strings.CHOICE_GROUPS)
    return order.index(group) if group in order else len(order)


def _field_block(
    provider: AnyProvider, field: FormField, value: str | None, *, dispatch: bool = False
) -> Block:
    """One input block; its block id is the field name, so problems map onto it.

    ``dispatch``: the field that identifies the invoice tells the bot when it is entered
    (Enter), so the modal can show what the provider and the history know about it."""
    if field.choices:
        element = _choice_element(field, value)
    else:
        element = {
            "type": "email_text_input" if field.kind is FieldKind.EMAIL else "plain_text_input",
            "action_id": VALUE_ACTION,
        }
        if field.example:
            element["placeholder"] = _plain(field.example)
        if value:
            element["initial_value"] = value
    label = _field_copy(strings.FIELD_LABELS, provider, field.name) or field.label or field.name
    block: Block = {
        "type": "input",
        "block_id": field.name,
        "label": _plain(label),
        "element": element,
        "optional": not field.required,
    }
    if dispatch and element["type"] == "plain_text_input":
        block["dispatch_action"] = True
    hint = _field_copy(strings.FIELD_HINTS, provider, field.name)
    if hint:
        block["hint"] = _plain(hint)
    return block


def chosen_provider(form: FormState, configured: Mapping[str, bool]) -> str:
    """The provider the modal shows: the form's, else the first configured one, else the
    first offered (``configured`` lists every offered provider in display order)."""
    if form.provider is not None and form.provider in configured:
        return form.provider
    return next((key for key, ok in configured.items() if ok), next(iter(configured)))


def provider_option_label(provider: AnyProvider) -> str:
    """The provider as the choice shows it: brand and country."""
    country = strings.COUNTRY_NAMES.get(provider.country, provider.country)
    return strings.PROVIDER_OPTION.format(label=provider.label, country=country)


def _ago(at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    return strings.JUST_NOW if minutes == 0 else strings.MINUTES_AGO.format(minutes=minutes)


def _recent_warning(insight: Insight, now: datetime) -> str | None:
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
            ago=_ago(recent.at, now), user=f"<@{recent.user_id}>"
        )
    to = ", ".join(escape(r) for r in recent.recipients[:3])
    template = strings.DUPLICATE_RECENT if to else strings.DUPLICATE_RECENT_TO_CUSTOMER
    return template.format(ago=_ago(recent.at, now), user=f"<@{recent.user_id}>", recipients=to)


def _quota_blocks(quota: QuotaUsage, provider: AnyProvider, agent_tz: str | None) -> list[Block]:
    """The hourly quota: how much is used, and, once exhausted, from when it can go again
    (in the agent's time, else in the provider's, named)."""
    if quota.exhausted and quota.frees_at:
        at, zone = clock_time(quota.frees_at, agent_tz or provider.timezone)
        time = at if zone_of(agent_tz) else strings.TIME_IN_ZONE.format(time=at, zone=zone)
        text = strings.QUOTA_EXHAUSTED_UNTIL.format(
            limit=quota.limit, provider=provider.label, time=time
        )
        return [_section(text)]
    return [_context(strings.QUOTA_USED.format(used=quota.used, limit=quota.limit))]


def _insight_blocks(
    insight: Insight,
    now: datetime,
    *,
    require_confirmation: bool,
    provider: AnyProvider,
    agent_tz: str | None,
) -> list[Block]:
    blocks: list[Block] = []
    warning = _recent_warning(insight, now)
    if warning is not None:
        blocks.append(_section(":warning: " + warning))
        if require_confirmation:
            blocks.append(
                {
                    "type": "input",
                    "block_id": CONFIRM_BLOCK,
                    "label": _plain(strings.DUPLICATE_CONFIRM_LABEL),
                    "element": {
                        "type": "checkboxes",
                        "action_id": VALUE_ACTION,
                        "options": [_option(strings.DUPLICATE_CONFIRM_OPTION, CONFIRMED)],
                    },
                }
            )
    quota = insight.quota
    if quota is not None and quota.used:
        blocks.extend(_quota_blocks(quota, provider, agent_tz))
    return blocks


def _preview_blocks(facts: InvoiceFacts, provider: AnyProvider) -> list[Block]:
    """What the provider says about the invoice: who the customer is, the document, where
    the re-send goes, and a warning when it cannot reach anyone or is not issued."""
    if not facts.exists:
        return [_section(strings.PREVIEW_NOT_FOUND.format(provider=provider.label))]
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
        template = (
            strings.PREVIEW_RECIPIENTS_OR_ALTERNATIVE
            if provider.alternative_email_field
            else strings.PREVIEW_RECIPIENTS
        )
        lines.append(template.format(recipients=escape(address_list(facts.recipients))))
    blocks = [_section("\n".join(lines))] if lines else []
    if facts.recipients == ():
        blocks.append(_section(strings.PREVIEW_NO_EMAIL.format(provider=provider.label)))
    if facts.status is not None and facts.status is not InvoiceStatus.ISSUED:
        warning = strings.STATUS_WARNINGS.get(facts.status, strings.STATUS_WARNINGS["other"])
        blocks.append(
            _section(
                strings.PREVIEW_STATUS.format(
                    status=warning, provider=provider.label, text=escape(facts.status_text or "")
                )
            )
        )
    return blocks


def _message_blocks(
    form: FormState, context: ModalContext, registry: ProviderRegistry
) -> list[Block]:
    """For a message's shortcut: which of the references it holds to re-send (when it
    holds several), and the e-mail addresses it names."""
    blocks: list[Block] = []
    if len(context.choices) > 1:
        options = [
            _option(
                strings.REFERENCE_OPTION.format(text=text, provider=label_of(key, registry)),
                str(index),
            )
            for index, (key, text) in enumerate(context.choices)
        ]
        chosen = form.values.get(REFERENCE_BLOCK)
        blocks.append(
            {
                "type": "input",
                "block_id": REFERENCE_BLOCK,
                "dispatch_action": True,
                "optional": True,
                "label": _plain(strings.REFERENCE_LABEL),
                "hint": _plain(strings.REFERENCE_HINT),
                "element": {
                    "type": "static_select",
                    "action_id": REFERENCE_ACTION,
                    "options": options,
                    "initial_option": next(
                        (o for o in options if o["value"] == chosen), options[0]
                    ),
                },
            }
        )
    if context.emails:
        emails = escape(", ".join(context.emails))
        blocks.append(_context(strings.MESSAGE_EMAILS.format(emails=emails)))
    return blocks


def resend_modal(
    form: FormState,
    context: ModalContext,
    *,
    registry: ProviderRegistry,
    configured: Mapping[str, bool],
    insight: Insight | None = None,
    preview: InvoiceFacts | None = None,
    now: datetime | None = None,
    agent_tz: str | None = None,
) -> dict[str, Any]:
    """The ``/reenviar`` modal for ``form``'s provider, prefilled with its values, each
    prefilled problem under its field.

    ``preview`` adds what the provider says about the invoice (customer, document, where
    it goes); ``insight`` what the history knows: a recent re-send of the same invoice
    (with a required confirmation checkbox) and the provider's hourly quota, if any.
    """
    provider = registry[chosen_provider(form, configured)]
    options = [
        _option(
            provider_option_label(registry[key]),
            key,
            None if configured.get(key) else strings.PROVIDER_NOT_CONFIGURED_SHORT,
        )
        for key in configured
    ]
    blocks: list[Block] = []
    if form.notice:
        # The notice quotes what the agent typed: escape it so it is shown, not rendered.
        blocks.append(_context(escape(form.notice)))
    blocks.extend(_message_blocks(form, context, registry))
    blocks.append(
        {
            "type": "input",
            "block_id": PROVIDER_BLOCK,
            "dispatch_action": True,
            "label": _plain(strings.PROVIDER_LABEL),
            "element": {
                "type": "radio_buttons",
                "action_id": PROVIDER_ACTION,
                "options": options,
                "initial_option": next(o for o in options if o["value"] == provider.key),
            },
        }
    )
    if not configured.get(provider.key):
        blocks.append(
            _section(
                ":no_entry: "
                + strings.PROVIDER_ERRORS["not_configured"].format(provider=provider.label)
            )
        )
    for form_field in provider.form:
        blocks.append(
            _field_block(
                provider,
                form_field,
                form.values.get(form_field.name),
                dispatch=form_field.name == provider.reference_field,
            )
        )
        problem = form.problems.get(form_field.name)
        if problem:
            # It quotes what the agent typed: escape it so it is shown, not rendered.
            blocks.append(_context(strings.FIELD_PROBLEM.format(problem=escape(problem))))
    if preview is not None and preview.provider == provider.key:
        blocks.extend(_preview_blocks(preview, provider))
    if insight is not None:
        blocks.extend(
            _insight_blocks(
                insight,
                now or datetime.now(UTC),
                require_confirmation=insight.needs_confirmation,
                provider=provider,
                agent_tz=agent_tz,
            )
        )
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": _plain(strings.MODAL_TITLE),
        "submit": _plain(strings.MODAL_SUBMIT),
        "close": _plain(strings.MODAL_CLOSE),
        "private_metadata": context.to_metadata(),
        "blocks": blocks,
    }


# --- Messages ------------------------------------------------------------------


def help_message() -> SlackMessage:
    """Usage with examples, shown only to the caller."""
    return SlackMessage(text=strings.HELP_TEXT, blocks=[_section(strings.HELP_TEXT)])


def label_of(provider_key: str, registry: ProviderRegistry) -> str:
    """A provider's brand, or its key when it is no longer offered (old history rows)."""
    provider = registry.get(provider_key)
    return provider.label if provider is not None else provider_key


def _subject(request: ResendRequest, registry: ProviderRegistry) -> str:
    """The invoice in the agent's terms, with the provider."""
    return strings.SUBJECT.format(
        reference=escape(invoice_title(request)), provider=label_of(request.provider, registry)
    )


def default_recipients(provider_key: str) -> str:
    """Who a re-send reached when the provider does not say."""
    return strings.DEFAULT_RECIPIENTS.get(provider_key, strings.DEFAULT_RECIPIENTS_ANY)


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
    progress = {**_section(":hourglass_flowing_sand: " + text), "block_id": PROGRESS_BLOCK}
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
    addresses = escape(address_list(recipients, limit=_RECIPIENTS_SHOWN))
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
        recipients=address_list(recipients, limit=_RECIPIENTS_SHOWN),
        time=time,
    )
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
    blocks: list[Block] = [
        _section(headline + "\n" + details),
        _section(_quote(reply)),
        _small_print(notes),
    ]
    text = strings.SUCCESS_TEXT.format(
        invoice=escape(invoice_phrase(request, facts)), provider=label, recipients=shown_recipients
    )
    return SlackMessage(text=text, blocks=blocks)


def _small_print(notes: Sequence[str]) -> Block:
    """One context line of notes, dot-separated (their own final periods dropped)."""
    return _context(" · ".join(note.rstrip(".") for note in notes))


def _quote(text: str) -> str:
    """``text`` as a mrkdwn block quote (escaped), for the agent to copy."""
    return "\n".join("> " + line for line in escape(text).split("\n"))


def _technical_detail(label: str, message: str | None, codes: Sequence[str] = ()) -> str:
    """The provider's own words (often English), small and last: never the main text."""
    detail = (
        strings.PROVIDER_SAYS.format(provider=label, message=_clip(message, 160)) if message else ""
    )
    if codes:
        detail += (" (" + ", ".join(codes) + ")") if detail else ", ".join(codes)
    return strings.TECHNICAL_DETAIL.format(detail=escape(detail))


def _retry_button(job: ResendJob, error: ProviderError) -> Block:
    confirm_text = (
        strings.RETRY_CONFIRM_UNKNOWN
        if isinstance(error, OutcomeUnknownError)
        else strings.RETRY_CONFIRM_SAFE
    )
    return {
        "type": "actions",
        "block_id": "retry",
        "elements": [
            {
                "type": "button",
                "action_id": RETRY_ACTION,
                "text": _plain(strings.RETRY_BUTTON),
                "value": job.next_attempt().to_button_value(),
                "confirm": {
                    "title": _plain(strings.RETRY_CONFIRM_TITLE),
                    "text": _plain(confirm_text),
                    "confirm": _plain(strings.RETRY_CONFIRM_YES),
                    "deny": _plain(strings.RETRY_CONFIRM_NO),
                },
            }
        ],
    }


def _button(action_id: str, text: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": _plain(text), "value": value}


def _next_steps(
    job: ResendJob, error: ProviderError, facts: InvoiceFacts | None
) -> list[dict[str, Any]]:
    """The buttons that take the agent to the next step, if any."""
    buttons = []
    if error.offers_retry:
        buttons.extend(_retry_button(job, error)["elements"])
    if isinstance(error, NotFoundError | InvalidRequestError):
        buttons.append(_button(FIX_ACTION, strings.FIX_BUTTON, job.to_button_value()))
    pdf_url = _pdf_link(error, facts)
    if pdf_url:
        buttons.append({**_button(PDF_ACTION, strings.PDF_BUTTON, "pdf"), "url": pdf_url})
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
    blocks: list[Block] = [_section(headline + "\n" + escape(explanation))]
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
    buttons = _next_steps(job, error, facts)
    if buttons:
        blocks.append({"type": "actions", "block_id": "next_steps", "elements": buttons})
    text = f"{_plain_text(headline)}. {explanation}"
    return SlackMessage(text=text, blocks=blocks)


def _plain_text(mrkdwn: str) -> str:
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
    return SlackMessage(text=text, blocks=[_section(":warning: " + text)])


def with_dm_notice(message: SlackMessage, channel_id: str | None) -> SlackMessage:
    """The message as sent by DM, saying why it did not go to the channel."""
    channel = f"<#{channel_id}>" if channel_id else strings.THE_CHANNEL
    notice = strings.DM_FALLBACK_NOTICE.format(channel=channel)
    return SlackMessage(text=message.text, blocks=[_context(notice), *message.blocks])


def audit_line(
    record: AttemptRecord, *, link: str | None, registry: ProviderRegistry
) -> SlackMessage:
    """The compact audit-channel line for one attempt."""
    # Outcomes without their own icon are failures ("unknown" has its own).
    icon = strings.AUDIT_ICONS.get(record.outcome, ":x:")
    subject = _recorded_reference(record)
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
    return SlackMessage(text=text, blocks=[_context(text)])


def history_message(
    request: ResendRequest, records: Sequence[AttemptRecord], *, agent_tz: str | None
) -> SlackMessage:
    """The last attempts for one invoice, shown only to the caller."""
    reference = invoice_title(request)
    if not records:
        text = strings.HISTORY_EMPTY.format(reference=escape(reference))
        return SlackMessage(text=text, blocks=[_section(text)])
    zone = _zone(agent_tz)
    lines = []
    for record in records:
        when = record.created_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        outcome = strings.OUTCOME_LABELS.get(record.outcome, record.outcome)
        line = f"• {when} · <@{record.user_id}> · {outcome}"
        recipients = _recorded_recipients(record)
        if recipients:
            line += " · " + recipients
        lines.append(line)
    header = strings.HISTORY_HEADER.format(reference=escape(reference), count=len(records))
    zone_note = strings.HISTORY_ZONE.format(zone=zone_name(agent_tz or "UTC"))
    text = header + "\n" + "\n".join(lines)
    return SlackMessage(text=text, blocks=[_section(text), _context(zone_note)])


def _recorded_reference(record: AttemptRecord) -> str:
    """The invoice of a history row, as typed (a refusal at command time may have none)."""
    return f"`{escape(record.reference)}`" if record.reference else strings.NO_REFERENCE


def _recorded_recipients(record: AttemptRecord) -> str | None:
    """Who a history row's attempt went (or was to go) to, if anyone can tell."""
    if record.recipients:
        return ", ".join(escape(r) for r in record.recipients[:3])
    if record.alternative_email:
        return escape(record.alternative_email)
    if record.outcome == "success":
        # The provider did not say who: it went to the addresses on file.
        return default_recipients(record.provider)
    return None


def _zone(tz_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name) if tz_name else ZoneInfo("UTC")
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def notice_message(text: str) -> SlackMessage:
    """A one-line message (a refusal, a hint) for the caller."""
    return SlackMessage(text=text, blocks=[_section(text)])


# --- The App Home ----------------------------------------------------------------

#: The Home tab's "Reenviar una factura" button: opens the modal.
HOME_OPEN_ACTION: Final = "home_open_modal"


def _home_line(
    record: AttemptRecord, zone: ZoneInfo, link: str | None, registry: ProviderRegistry
) -> str:
    when = record.created_at.astimezone(zone).strftime("%d/%m %H:%M")
    subject = _recorded_reference(record)
    if record.provider:
        subject += f" ({label_of(record.provider, registry)})"
    outcome = strings.OUTCOME_LABELS.get(record.outcome, record.outcome)
    if record.outcome == "refused" and record.detail:
        outcome += " · " + strings.REFUSAL_LABELS.get(record.detail, escape(record.detail))
    line = strings.HOME_LINE.format(when=when, subject=subject, outcome=outcome)
    recipients = _recorded_recipients(record)
    if recipients:
        line += " · " + recipients
    if link:
        line += f" · <{link}|{strings.SEE_MESSAGE}>"
    return line


def home_view(
    records: Sequence[AttemptRecord] | None,
    *,
    registry: ProviderRegistry,
    links: Mapping[str, str] | None = None,
    agent_tz: str | None = None,
    refusal: str | None = None,
) -> dict[str, Any]:
    """The App Home: the button that opens the modal (or why it is not offered), the
    agent's own latest attempts newest first, each with its outcome and a link to its
    message (``links`` by attempt id), or a one-line notice when ``records`` is None
    (the history is unavailable); then the help."""
    blocks: list[Block] = [
        {"type": "header", "text": _plain(strings.HOME_HEADER)},
        _section(strings.HOME_INTRO),
    ]
    if refusal is not None:
        blocks.append(_section(strings.REFUSED_PREFIX + escape(refusal)))
    else:
        button = _button(HOME_OPEN_ACTION, strings.HOME_BUTTON, "open")
        blocks.append({"type": "actions", "block_id": "home_actions", "elements": [button]})
    blocks.append({"type": "divider"})
    if records is None:
        blocks.append(_context(strings.HOME_UNAVAILABLE))
    elif not records:
        blocks.append(_context(strings.HOME_EMPTY))
    else:
        zone = _zone(agent_tz)
        blocks.append(_section(strings.HOME_RECENT.format(count=len(records))))
        found = links or {}
        blocks.extend(
            _section(_home_line(record, zone, found.get(record.attempt_id), registry))
            for record in records
        )
        blocks.append(_context(strings.HISTORY_ZONE.format(zone=zone_name(agent_tz or "UTC"))))
    blocks += [{"type": "divider"}, _section(strings.HELP_TEXT), _section(strings.HOME_HELP)]
    return {"type": "home", "blocks": blocks}


# --- A workflow step's outcome ---------------------------------------------------


def step_recipients(request: ResendRequest, result: ResendResult) -> str:
    """Who a re-send reached, as a workflow step outputs it (plain text)."""
    return address_list(result.recipients, limit=_RECIPIENTS_SHOWN) or default_recipients(
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
    warning = _recent_warning(insight, now) or strings.HISTORY_UNVERIFIED
    return strings.STEP_DUPLICATE.format(warning=warning)
