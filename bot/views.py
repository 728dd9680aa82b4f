"""Block Kit builders: pure functions from typed data to Slack payloads.

Nothing here does I/O. Every string a person reads comes from `bot.strings`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot import strings
from bot.forms import (
    CONFIRM_BLOCK,
    CONFIRMED,
    LUMMY_FIELDS,
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    VALUE_ACTION,
    FormState,
    ModalContext,
)
from bot.insight import Insight
from bot.jobs import ResendJob
from bot.store import AttemptRecord
from providers.base import VOUCHER_TYPES, LummyInvoice, Operacion, Provider, ResendResult
from providers.errors import OutcomeUnknownError, ProviderError, RejectedError
from providers.lummy import RESENDS_PER_HOUR

Block = dict[str, Any]

MODAL_CALLBACK_ID: Final = "reenviar_modal"
RETRY_ACTION: Final = "retry_resend"
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


def _tipo_groups() -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {label: [] for label in strings.TIPO_GROUPS.values()}
    longest_first = sorted(strings.TIPO_GROUPS, key=len, reverse=True)
    for tipo in VOUCHER_TYPES:
        prefix = next(p for p in longest_first if tipo.startswith(p))
        groups[strings.TIPO_GROUPS[prefix]].append(_option(tipo, tipo))
    return [{"label": _plain(label), "options": options} for label, options in groups.items()]


def _text_input(
    block_id: str,
    label: str,
    *,
    value: str | None,
    placeholder: str,
    hint: str | None = None,
    optional: bool = False,
    element_type: str = "plain_text_input",
) -> Block:
    element: dict[str, Any] = {
        "type": element_type,
        "action_id": VALUE_ACTION,
        "placeholder": _plain(placeholder),
    }
    if value:
        element["initial_value"] = value
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _tusfacturas_fields(values: Mapping[str, str]) -> list[Block]:
    tipo_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": VALUE_ACTION,
        "placeholder": _plain(strings.TIPO_PLACEHOLDER),
        "option_groups": _tipo_groups(),
    }
    if values.get("tipo") in VOUCHER_TYPES:
        tipo_select["initial_option"] = _option(values["tipo"], values["tipo"])
    operaciones = [
        _option(strings.OPERACION_LABELS[op], op.value)
        for op in (Operacion.VENTA, Operacion.COMPRA)
    ]
    chosen = Operacion.COMPRA.value if values.get("operacion") == "C" else Operacion.VENTA.value
    return [
        {
            "type": "input",
            "block_id": "tipo",
            "label": _plain(strings.TIPO_LABEL),
            "element": tipo_select,
        },
        {
            "type": "input",
            "block_id": "operacion",
            "label": _plain(strings.OPERACION_LABEL),
            "element": {
                "type": "radio_buttons",
                "action_id": VALUE_ACTION,
                "options": operaciones,
                "initial_option": next(o for o in operaciones if o["value"] == chosen),
            },
        },
        _text_input(
            "punto_venta",
            strings.PUNTO_VENTA_LABEL,
            value=values.get("punto_venta"),
            placeholder="0002",
        ),
        _text_input(
            "numero",
            strings.NUMERO_LABEL,
            value=values.get("numero"),
            placeholder="00000006",
            hint=strings.TUSFACTURAS_HINT,
        ),
    ]


def _lummy_fields(values: Mapping[str, str]) -> list[Block]:
    invoice_id, email = LUMMY_FIELDS
    return [
        _text_input(
            invoice_id,
            strings.INVOICE_ID_LABEL,
            value=values.get(invoice_id),
            placeholder="550e8400-e29b-41d4-a716-446655440000",
        ),
        _text_input(
            email,
            strings.EMAIL_LABEL,
            value=values.get(email),
            placeholder="otro@cliente.com",
            hint=strings.EMAIL_HINT,
            optional=True,
            element_type="email_text_input",
        ),
    ]


def chosen_provider(form: FormState, configured: Mapping[Provider, bool]) -> Provider:
    """The provider the modal shows: the form's, else the first configured one."""
    if form.provider is not None:
        return form.provider
    return next((p for p in Provider if configured.get(p)), Provider.TUSFACTURAS)


def _ago(at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    return strings.JUST_NOW if minutes == 0 else strings.MINUTES_AGO.format(minutes=minutes)


def _insight_blocks(insight: Insight, now: datetime, *, require_confirmation: bool) -> list[Block]:
    blocks: list[Block] = []
    recent = insight.recent
    if recent is not None:
        if recent.in_progress:
            warning = strings.DUPLICATE_IN_PROGRESS.format(user=f"<@{recent.user_id}>")
        elif recent.uncertain:
            warning = strings.DUPLICATE_UNCERTAIN.format(
                ago=_ago(recent.at, now), user=f"<@{recent.user_id}>"
            )
        else:
            to = ", ".join(escape(r) for r in recent.recipients[:3])
            template = strings.DUPLICATE_RECENT if to else strings.DUPLICATE_RECENT_TO_CUSTOMER
            warning = template.format(
                ago=_ago(recent.at, now), user=f"<@{recent.user_id}>", recipients=to
            )
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
        text = strings.QUOTA_USED.format(used=quota.used, limit=quota.limit)
        if quota.exhausted and quota.frees_at:
            text += " " + strings.QUOTA_FREES_IN.format(
                wait=strings.format_wait(quota.frees_at - now)
            )
        blocks.append(_context(text))
    return blocks


def resend_modal(
    form: FormState,
    context: ModalContext,
    *,
    configured: Mapping[Provider, bool],
    insight: Insight | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``/reenviar`` modal for ``form``'s provider, prefilled with its values.

    ``insight`` adds what the history knows: a recent re-send of the same invoice
    (with a required confirmation checkbox) and Lummy's hourly quota.
    """
    provider = chosen_provider(form, configured)
    options = [
        _option(
            strings.PROVIDER_OPTION_LABELS[p],
            p.value,
            None if configured.get(p) else strings.PROVIDER_NOT_CONFIGURED_SHORT,
        )
        for p in Provider
    ]
    blocks: list[Block] = []
    if form.notice:
        # The notice quotes what the agent typed: escape it so it is shown, not rendered.
        blocks.append(_context(escape(form.notice)))
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
                "initial_option": next(o for o in options if o["value"] == provider.value),
            },
        }
    )
    if not configured.get(provider):
        blocks.append(
            _section(
                ":no_entry: "
                + strings.PROVIDER_ERRORS["not_configured"].format(provider=provider.display_name)
            )
        )
    fields = _lummy_fields if provider is Provider.LUMMY else _tusfacturas_fields
    blocks.extend(fields(form.values))
    if insight is not None:
        blocks.extend(
            _insight_blocks(
                insight, now or datetime.now(UTC), require_confirmation=insight.recent is not None
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


def _subject(request: LummyInvoice | Any) -> str:
    """The invoice in the agent's terms, with the provider."""
    reference = f"`{escape(request.reference)}`"
    if getattr(request, "operacion", Operacion.VENTA) is Operacion.COMPRA:
        reference += " " + strings.COMPRA_SUFFIX
    return strings.SUBJECT.format(reference=reference, provider=request.provider.display_name)


def _attempt_note(job: ResendJob) -> str | None:
    """For a retry: which attempt this is and who pressed the button."""
    if job.attempt == 1:
        return None
    note = strings.ATTEMPT.format(attempt=job.attempt)
    if job.retried_by and job.retried_by != job.requested_by:
        note += " " + strings.RETRIED_BY.format(user=f"<@{job.retried_by}>")
    return note


def progress_message(job: ResendJob) -> SlackMessage:
    """The message shown while the provider is working."""
    subject = _subject(job.request)
    text = strings.PROGRESS.format(subject=subject, user=f"<@{job.requested_by}>")
    attempt = _attempt_note(job)
    if attempt:
        text += " " + attempt
    return SlackMessage(text=text, blocks=[_section(":hourglass_flowing_sand: " + text)])


def _local_time(sent_at: datetime, tz_name: str | None) -> str | None:
    if not tz_name:
        return None
    try:
        zone = ZoneInfo(tz_name)
    except (ValueError, KeyError, OSError):
        return None
    local = sent_at.astimezone(zone)
    return strings.LOCAL_TIME.format(time=local.strftime("%d/%m/%Y %H:%M"), zone=tz_name)


def _when(sent_at: datetime, tz_name: str | None) -> str:
    lines = [sent_at.astimezone(ZoneInfo("UTC")).strftime("%d/%m/%Y %H:%M:%S UTC")]
    local = _local_time(sent_at, tz_name)
    if local:
        lines.append(local)
    return "\n".join(lines)


def success_message(
    job: ResendJob,
    result: ResendResult,
    *,
    now: datetime,
    agent_tz: str | None,
    quota_used: int | None = None,
) -> SlackMessage:
    """The outcome message for a successful re-send."""
    if result.recipients:
        shown = result.recipients[:_RECIPIENTS_SHOWN]
        recipients = ", ".join(escape(r) for r in shown)
        if len(result.recipients) > len(shown):
            recipients += " " + strings.AND_MORE.format(count=len(result.recipients) - len(shown))
    elif isinstance(job.request, LummyInvoice):
        recipients = strings.RECIPIENTS_LUMMY_DEFAULT
    else:
        recipients = strings.RECIPIENTS_ON_FILE
    when_label = strings.FIELD_SENT_AT if result.sent_at else strings.FIELD_CONFIRMED_AT
    fields = [
        f"*{strings.FIELD_PROVIDER}*\n{result.provider.display_name}",
        f"*{strings.FIELD_REFERENCE}*\n`{escape(job.request.reference)}`",
        f"*{strings.FIELD_RECIPIENTS}*\n{recipients}",
        f"*{when_label}*\n{_when(result.sent_at or now, agent_tz)}",
        f"*{strings.FIELD_REQUESTED_BY}*\n<@{job.requested_by}>",
    ]
    notes = []
    if result.provider_message:
        notes.append(
            strings.PROVIDER_SAYS.format(
                provider=result.provider.display_name,
                message=escape(_clip(result.provider_message, 500)),
            )
        )
    if result.request_id:
        notes.append(strings.REQUEST_ID.format(request_id=escape(result.request_id)))
    attempt = _attempt_note(job)
    if attempt:
        notes.append(attempt)
    if quota_used is not None:
        notes.append(strings.QUOTA_USED.format(used=quota_used, limit=RESENDS_PER_HOUR))
    blocks: list[Block] = [
        {"type": "header", "text": _plain(strings.SUCCESS_HEADER)},
        {"type": "section", "fields": [_mrkdwn(f, _FIELD_LIMIT) for f in fields]},
    ]
    if notes:
        blocks.append(_context(*notes))
    text = strings.SUCCESS_TEXT.format(subject=_subject(job.request), recipients=recipients)
    return SlackMessage(text=text, blocks=blocks)


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


def failure_message(job: ResendJob, error: ProviderError) -> SlackMessage:
    """The outcome message for a failed (or uncertain) re-send."""
    subject = _subject(job.request)
    header = strings.UNKNOWN_HEADER if error.may_have_sent else strings.FAILURE_HEADER
    blocks: list[Block] = [
        {"type": "header", "text": _plain(header)},
        _section(
            strings.FAILURE_SUBJECT.format(subject=subject, user=f"<@{job.requested_by}>")
            + "\n"
            + escape(error.agent_message)
        ),
    ]
    if error.provider_message:
        says = strings.PROVIDER_SAYS.format(
            provider=error.provider.display_name,
            message=escape(_clip(error.provider_message, 1000)),
        )
        if isinstance(error, RejectedError) and error.codes:
            says += " (" + ", ".join(escape(c) for c in error.codes) + ")"
        blocks.append(_section(says))
    notes = []
    if error.request_id:
        notes.append(strings.REQUEST_ID.format(request_id=escape(error.request_id)))
    attempt = _attempt_note(job)
    if attempt:
        notes.append(attempt)
    if notes:
        blocks.append(_context(*notes))
    if error.offers_retry:
        blocks.append(_retry_button(job, error))
    text = f"{header}: {subject}. {error.agent_message}"
    return SlackMessage(text=text, blocks=blocks)


def internal_error_message(error_id: str, job: ResendJob | None = None) -> SlackMessage:
    """What the agent sees when the bot itself failed; the id matches the log line."""
    text = strings.INTERNAL_ERROR.format(error_id=error_id)
    if job is not None:
        text = _subject(job.request) + ". " + text
    return SlackMessage(text=text, blocks=[_section(":warning: " + text)])


def with_dm_notice(message: SlackMessage, channel_id: str | None) -> SlackMessage:
    """The message as sent by DM, saying why it did not go to the channel."""
    channel = f"<#{channel_id}>" if channel_id else strings.THE_CHANNEL
    notice = strings.DM_FALLBACK_NOTICE.format(channel=channel)
    return SlackMessage(text=message.text, blocks=[_context(notice), *message.blocks])


def audit_line(record: AttemptRecord, *, link: str | None) -> SlackMessage:
    """The compact audit-channel line for one attempt."""
    # Outcomes without their own icon are failures ("unknown" has its own).
    icon = strings.AUDIT_ICONS.get(record.outcome, ":x:")
    subject = f"`{escape(record.reference)}`" if record.reference else strings.NO_REFERENCE
    provider = Provider(record.provider).display_name if record.provider else ""
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
    reference: str, records: Sequence[AttemptRecord], *, agent_tz: str | None
) -> SlackMessage:
    """The last attempts for one invoice, shown only to the caller."""
    if not records:
        text = strings.HISTORY_EMPTY.format(reference=escape(reference))
        return SlackMessage(text=text, blocks=[_section(text)])
    zone = _zone(agent_tz)
    lines = []
    for record in records:
        when = record.created_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        outcome = strings.OUTCOME_LABELS.get(record.outcome, record.outcome)
        line = f"• {when} · <@{record.user_id}> · {outcome}"
        if record.recipients:
            line += " · " + ", ".join(escape(r) for r in record.recipients[:3])
        elif record.alternative_email:
            line += " · " + escape(record.alternative_email)
        elif record.outcome == "success":
            # The provider did not say who: it went to the addresses on file.
            line += " · " + (
                strings.RECIPIENTS_LUMMY_DEFAULT
                if record.provider == Provider.LUMMY.value
                else strings.RECIPIENTS_ON_FILE
            )
        lines.append(line)
    header = strings.HISTORY_HEADER.format(reference=escape(reference), count=len(records))
    zone_note = strings.HISTORY_ZONE.format(zone=agent_tz or "UTC")
    text = header + "\n" + "\n".join(lines)
    return SlackMessage(text=text, blocks=[_section(text), _context(zone_note)])


def _zone(tz_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name) if tz_name else ZoneInfo("UTC")
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def notice_message(text: str) -> SlackMessage:
    """A one-line message (a refusal, a hint) for the caller."""
    return SlackMessage(text=text, blocks=[_section(text)])
